//! People's accounts. Not workspace data: a user may belong to several workspaces.

use super::schema::users;
use super::{DbError, GlobalConn};
use crate::domain::{Email, UserId};
use diesel::prelude::*;

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    /// The argon2id PHC string; `None` for accounts that only sign in with Google.
    pub password_hash: Option<String>,
    pub email_verified: bool,
}

type Row = (String, String, Option<String>, Option<i64>);

const COLUMNS: (
    users::id,
    users::email,
    users::password_hash,
    users::email_verified_at,
) = (
    users::id,
    users::email,
    users::password_hash,
    users::email_verified_at,
);

fn from_row((id, email, password_hash, verified_at): Row) -> User {
    User {
        id: UserId::from_trusted(id),
        email: Email::from_trusted(email),
        password_hash,
        email_verified: verified_at.is_some(),
    }
}

/// Fails with [`DbError::UniqueViolation`] when the email is taken.
pub fn insert(
    conn: &mut GlobalConn<'_>,
    id: &UserId,
    email: &Email,
    password_hash: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id.as_str()),
            users::email.eq(email.as_str()),
            users::password_hash.eq(password_hash),
            users::created_at.eq(now),
        ))
        .execute(conn.raw())?;
    Ok(())
}

pub fn find_by_email(conn: &mut GlobalConn<'_>, email: &Email) -> Result<Option<User>, DbError> {
    let row = users::table
        .filter(users::email.eq(email.as_str()))
        .select(COLUMNS)
        .first::<Row>(conn.raw())
        .optional()?;
    Ok(row.map(from_row))
}

pub fn find(conn: &mut GlobalConn<'_>, id: &UserId) -> Result<Option<User>, DbError> {
    let row = users::table
        .filter(users::id.eq(id.as_str()))
        .select(COLUMNS)
        .first::<Row>(conn.raw())
        .optional()?;
    Ok(row.map(from_row))
}

pub fn mark_email_verified(
    conn: &mut GlobalConn<'_>,
    id: &UserId,
    now: i64,
) -> Result<(), DbError> {
    diesel::update(
        users::table
            .filter(users::id.eq(id.as_str()))
            .filter(users::email_verified_at.is_null()),
    )
    .set(users::email_verified_at.eq(now))
    .execute(conn.raw())?;
    Ok(())
}
