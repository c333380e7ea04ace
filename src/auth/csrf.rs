//! CSRF tokens bound to the session (§3.3): every state-changing form carries one.

use crate::crypto::{constant_time_eq, random_token};
use actix_session::Session;

const KEY: &str = "csrf";

/// The session's token, made on first use.
pub fn token(session: &Session) -> Result<String, actix_web::Error> {
    if let Some(token) = session.get::<String>(KEY)? {
        return Ok(token);
    }
    let token = random_token();
    session.insert(KEY, &token)?;
    Ok(token)
}

/// A fresh token, e.g. at sign-in, so that a token seen before it is worth nothing after.
pub fn rotate(session: &Session) -> Result<String, actix_web::Error> {
    let token = random_token();
    session.insert(KEY, &token)?;
    Ok(token)
}

/// True only when the session has a token and `submitted` is exactly it.
pub fn is_valid(session: &Session, submitted: &str) -> bool {
    match session.get::<String>(KEY) {
        Ok(Some(expected)) => {
            !submitted.is_empty() && constant_time_eq(expected.as_bytes(), submitted.as_bytes())
        }
        _ => false,
    }
}
