//! Where a connected account stands.

crate::named_enum! {
    /// `active` until the platform refuses its credentials for good.
    pub enum AccountStatus {
        Active = "active",
        /// The platform refused the refresh token: only reconnecting helps.
        Expired = "expired",
        /// The platform no longer accepts the token (the user revoked the app there).
        Revoked = "revoked",
    }
}
