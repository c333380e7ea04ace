//! Sign-in and sign-up throttling: after repeated failures for one email or from one
//! client address, sign-in answers 429 until the window closes; sign-ups are limited per client
//! address. Every attempt is counted before its password is hashed, in one atomic statement, so
//! a burst of parallel guesses gets no more tries than a sequence of them.

use crate::crypto::sha256_hex;
use crate::db::{DbError, GlobalConn, login_throttle};
use crate::domain::Email;

pub const WINDOW_SECS: i64 = 15 * 60;
pub const MAX_FAILURES_PER_EMAIL: i32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i32 = 30;
pub const SIGNUP_WINDOW_SECS: i64 = 60 * 60;
pub const MAX_SIGNUPS_PER_ADDRESS: i32 = 20;
pub const EMAIL_REQUEST_WINDOW_SECS: i64 = 60 * 60;
pub const MAX_EMAIL_REQUESTS_PER_ADDRESS: i32 = 20;
pub const MAX_EMAIL_REQUESTS_PER_EMAIL: i32 = 5;
pub const INVITATION_WINDOW_SECS: i64 = 60 * 60;
pub const MAX_INVITATIONS_PER_WORKSPACE: i32 = 100;
/// Invitations from one workspace to one address an hour.
pub const MAX_INVITATIONS_PER_EMAIL: i32 = 5;
pub const DAY_SECS: i64 = 24 * 60 * 60;
/// An account younger than this sends at most [`MAX_INVITATIONS_PER_NEW_ACCOUNT`] a day.
pub const NEW_ACCOUNT_SECS: i64 = 7 * DAY_SECS;
pub const MAX_INVITATIONS_PER_NEW_ACCOUNT: i32 = 50;
pub const MAX_WORKSPACES_PER_DAY: i32 = 10;
/// The longest window any counter here uses: housekeeping keeps windows this long.
pub const LONGEST_WINDOW_SECS: i64 = DAY_SECS;

/// The counters one sign-in attempt touches. The email is kept only as a digest.
pub struct ThrottleKeys {
    email: String,
    address: String,
}

impl ThrottleKeys {
    pub fn new(email: &Email, client_address: &str) -> Self {
        Self {
            email: format!("email:{}", sha256_hex(email.as_str())),
            address: format!("ip:{client_address}"),
        }
    }

    /// Counts this attempt against both counters, before its password is checked. False when
    /// either counter is past its limit: the attempt is refused unchecked.
    pub fn admit(&self, conn: &mut GlobalConn<'_>, now: i64) -> Result<bool, DbError> {
        let by_email = login_throttle::count_attempt(conn, &self.email, now, WINDOW_SECS)?;
        let by_address = login_throttle::count_attempt(conn, &self.address, now, WINDOW_SECS)?;
        Ok(by_email <= MAX_FAILURES_PER_EMAIL && by_address <= MAX_FAILURES_PER_ADDRESS)
    }

    /// Forgets the email's failures (its owner has proved who they are).
    pub fn forgive_email(&self, conn: &mut GlobalConn<'_>) -> Result<(), DbError> {
        login_throttle::clear(conn, &self.email)
    }

    /// A successful sign-in forgives the email's failures, and was no failure of the address.
    pub fn record_success(&self, conn: &mut GlobalConn<'_>) -> Result<(), DbError> {
        self.forgive_email(conn)?;
        login_throttle::refund(conn, &self.address)
    }
}

/// Counts a sign-up from `client_address`; false past the limit of the open window.
pub fn admit_signup(
    conn: &mut GlobalConn<'_>,
    client_address: &str,
    now: i64,
) -> Result<bool, DbError> {
    let key = format!("signup:{client_address}");
    Ok(
        login_throttle::count_attempt(conn, &key, now, SIGNUP_WINDOW_SECS)?
            <= MAX_SIGNUPS_PER_ADDRESS,
    )
}

/// Counts a request for a link by email (`kind`: a password reset, a verification sent again)
/// per client address, and per address asked for from that client address, whether or not the
/// address has an account. False past either limit: nothing is sent. The count per address
/// asked for is kept per client address too, so that a stranger's requests never use up the
/// owner's own.
pub fn admit_email_request(
    conn: &mut GlobalConn<'_>,
    kind: &str,
    email: &Email,
    client_address: &str,
    now: i64,
) -> Result<bool, DbError> {
    let window = EMAIL_REQUEST_WINDOW_SECS;
    let by_pair = format!(
        "{kind}:email:{}:ip:{client_address}",
        sha256_hex(email.as_str())
    );
    let by_address = format!("{kind}:ip:{client_address}");
    let asked = login_throttle::count_attempt(conn, &by_pair, now, window)?;
    let addresses = login_throttle::count_attempt(conn, &by_address, now, window)?;
    Ok(asked <= MAX_EMAIL_REQUESTS_PER_EMAIL && addresses <= MAX_EMAIL_REQUESTS_PER_ADDRESS)
}

/// Counts an invitation sent (or sent again) by `inviter` from `workspace` to `email`. False
/// past any limit: a workspace cannot flood inboxes, nor one workspace one inbox, nor a new
/// account anyone. The count per address is kept per inviting workspace, so that a stranger's
/// invitations never use up an employer's.
pub fn admit_invitation(
    conn: &mut GlobalConn<'_>,
    workspace: &str,
    email: &Email,
    inviter: &crate::db::users::User,
    now: i64,
) -> Result<bool, DbError> {
    let window = INVITATION_WINDOW_SECS;
    let by_workspace = format!("invite:ws:{workspace}");
    let by_pair = format!("invite:email:{}:ws:{workspace}", sha256_hex(email.as_str()));
    let sent = login_throttle::count_attempt(conn, &by_workspace, now, window)?;
    let received = login_throttle::count_attempt(conn, &by_pair, now, window)?;
    let mut admitted =
        sent <= MAX_INVITATIONS_PER_WORKSPACE && received <= MAX_INVITATIONS_PER_EMAIL;
    if now - inviter.created_at < NEW_ACCOUNT_SECS {
        let by_account = format!("invite:user:{}", inviter.id);
        let today = login_throttle::count_attempt(conn, &by_account, now, DAY_SECS)?;
        admitted &= today <= MAX_INVITATIONS_PER_NEW_ACCOUNT;
    }
    Ok(admitted)
}

/// Counts a further workspace created by `user`; false past the day's limit.
pub fn admit_workspace(
    conn: &mut GlobalConn<'_>,
    user: &crate::domain::UserId,
    now: i64,
) -> Result<bool, DbError> {
    let key = format!("workspaces:user:{user}");
    Ok(login_throttle::count_attempt(conn, &key, now, DAY_SECS)? <= MAX_WORKSPACES_PER_DAY)
}
