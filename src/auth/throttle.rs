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

    /// A successful sign-in forgives the email's failures, and was no failure of the address.
    pub fn record_success(&self, conn: &mut GlobalConn<'_>) -> Result<(), DbError> {
        login_throttle::clear(conn, &self.email)?;
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
