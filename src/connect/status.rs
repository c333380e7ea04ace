//! Where a connected account stands.

/// `active` until the platform refuses its credentials for good.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum AccountStatus {
    Active,
    /// The platform refused the refresh token: only reconnecting helps.
    Expired,
    /// The platform no longer accepts the token (the user revoked the app there).
    Revoked,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Expired => "expired",
            AccountStatus::Revoked => "revoked",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            AccountStatus::Active,
            AccountStatus::Expired,
            AccountStatus::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}
