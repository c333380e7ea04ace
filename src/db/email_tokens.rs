//! Single-use tokens sent by email. Only their digests are stored.

use super::schema::email_tokens;
use super::{DbError, GlobalConn};
use crate::domain::UserId;
use diesel::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

pub fn insert(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    user: &UserId,
    purpose: Purpose,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(token_hash),
            email_tokens::user_id.eq(user),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::created_at.eq(now),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn.raw())?;
    Ok(())
}

/// Spends a live token once: the first caller gets its user, every later one gets `None`.
/// The user of a link of `purpose` that was used already, if this is one.
pub fn used_by(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    purpose: Purpose,
) -> Result<Option<UserId>, DbError> {
    Ok(email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_not_null())
        .select(email_tokens::user_id)
        .first(conn.raw())
        .optional()?)
}

pub fn consume(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<UserId>, DbError> {
    let live = email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now));
    let spent = diesel::update(live)
        .set(email_tokens::used_at.eq(now))
        .execute(conn.raw())?;
    if spent == 0 {
        return Ok(None);
    }
    let user = email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .select(email_tokens::user_id)
        .first(conn.raw())?;
    Ok(Some(user))
}

/// The user of a token that can still be spent (for showing a form before it is).
pub fn live_user(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<UserId>, DbError> {
    Ok(email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(email_tokens::user_id)
        .first(conn.raw())
        .optional()?)
}

/// Removes every token of the user for `purpose` (the others, once one has been spent).
pub fn delete_for_user(
    conn: &mut GlobalConn<'_>,
    user: &UserId,
    purpose: Purpose,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user))
            .filter(email_tokens::purpose.eq(purpose.as_str())),
    )
    .execute(conn.raw())?)
}
