use crate::auth::password::HashingError;
use crate::db::DbError;
use crate::domain::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Sign-up with an email that has an account. Shown generically.
    #[error("email already registered")]
    EmailTaken,
    /// Wrong email or password; which one is never said.
    #[error("bad credentials")]
    BadCredentials,
    #[error("too many failed sign-ins")]
    Throttled,
    #[error("not a member of that workspace")]
    NotMember,
    /// The member's role does not allow this.
    #[error("not allowed for this role")]
    NotAllowed,
    /// The change would leave the workspace without an owner.
    #[error("a workspace keeps at least one owner")]
    LastOwner,
    /// Nothing of that name belongs to the user.
    #[error("not found")]
    NotFound,
    /// The provider gave no usable email, and the identity is new.
    #[error("the provider gave no email")]
    NoEmail,
    /// Unlinking the only way the user signs in.
    #[error("the account has no password")]
    PasswordNeeded,
    #[error("the link is invalid, used or expired")]
    InvalidToken,
    /// Inviting someone who is a member already.
    #[error("already a member")]
    AlreadyMember,
    /// Inviting an address that has an open invitation (send that one again instead).
    #[error("already invited")]
    AlreadyInvited,
    /// An invitation opened by someone signed in as another address than the invited one.
    #[error("the invitation is for another address")]
    OtherAccount(crate::domain::Email),
    #[error("the invitation was used already")]
    InvitationUsed,
    #[error("the invitation was revoked")]
    InvitationRevoked,
    #[error("the invitation has expired")]
    InvitationExpired,
    /// Until the account's email is confirmed it may not reach other people or live platforms
    /// (invitations, further workspaces).
    #[error("confirm your email address first")]
    EmailUnconfirmed,
    /// The provider does not vouch for the email it gave: such an identity never creates or
    /// joins an account.
    #[error("the provider has not verified the email")]
    UnverifiedEmail,
    /// A verified identity for an account that is linked to another identity of the same
    /// provider (and whose email its owner confirmed): never linked in its place.
    #[error("the account is linked to another identity of this provider")]
    OtherIdentityLinked,
    #[error(transparent)]
    Storage(#[from] DbError),
    #[error(transparent)]
    Hashing(#[from] HashingError),
}
