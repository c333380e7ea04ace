//! Sign-in throttling (§3.1): after repeated failures for one email or from one client address,
//! sign-in answers 429 until the window closes.

use crate::crypto::sha256_hex;
use crate::db::{DbError, GlobalConn, login_throttle};
use crate::domain::Email;

pub const WINDOW_SECS: i64 = 15 * 60;
pub const MAX_FAILURES_PER_EMAIL: i32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i32 = 30;

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

    /// True when either counter has reached its limit in the open window.
    pub fn is_locked(&self, conn: &mut GlobalConn<'_>, now: i64) -> Result<bool, DbError> {
        Ok(
            login_throttle::failures(conn, &self.email, now, WINDOW_SECS)?
                >= MAX_FAILURES_PER_EMAIL
                || login_throttle::failures(conn, &self.address, now, WINDOW_SECS)?
                    >= MAX_FAILURES_PER_ADDRESS,
        )
    }

    pub fn record_failure(&self, conn: &mut GlobalConn<'_>, now: i64) -> Result<(), DbError> {
        login_throttle::record_failure(conn, &self.email, now, WINDOW_SECS)?;
        login_throttle::record_failure(conn, &self.address, now, WINDOW_SECS)
    }

    /// A successful sign-in forgives the email's failures (not the address's).
    pub fn record_success(&self, conn: &mut GlobalConn<'_>) -> Result<(), DbError> {
        login_throttle::clear(conn, &self.email)
    }
}
