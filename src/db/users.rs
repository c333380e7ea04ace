//! People's accounts. Not workspace data: a user may belong to several workspaces.

use super::schema::users;
use super::{DbError, GlobalConn};
use crate::domain::{Email, UserId};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    /// The argon2id PHC string; `None` for accounts that only sign in with Google.
    pub password_hash: Option<String>,
    #[diesel(select_expression = users::email_verified_at.is_not_null())]
    pub email_verified: bool,
    pub created_at: i64,
}

/// Whether the user has proved they own their address (a confirmation, reset or invitation
/// link reached it, or a provider vouched for it). Until then they may look around and use
/// test mode, nothing that reaches other people or live platforms.
pub fn is_confirmed(conn: &mut GlobalConn<'_>, id: &UserId) -> Result<bool, DbError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .filter(users::email_verified_at.is_not_null())
        .count()
        .get_result::<i64>(conn.raw())?
        > 0)
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
            users::id.eq(id),
            users::email.eq(email),
            users::password_hash.eq(password_hash),
            users::created_at.eq(now),
        ))
        .execute(conn.raw())?;
    Ok(())
}

pub fn find_by_email(conn: &mut GlobalConn<'_>, email: &Email) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn.raw())
        .optional()?)
}

pub fn find(conn: &mut GlobalConn<'_>, id: &UserId) -> Result<Option<User>, DbError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn.raw())
        .optional()?)
}

pub fn mark_email_verified(
    conn: &mut GlobalConn<'_>,
    id: &UserId,
    now: i64,
) -> Result<(), DbError> {
    diesel::update(
        users::table
            .filter(users::id.eq(id))
            .filter(users::email_verified_at.is_null()),
    )
    .set(users::email_verified_at.eq(now))
    .execute(conn.raw())?;
    Ok(())
}

/// Replaces the user's password hash.
pub fn set_password(
    conn: &mut GlobalConn<'_>,
    id: &UserId,
    password_hash: &str,
) -> Result<(), DbError> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::password_hash.eq(password_hash))
        .execute(conn.raw())?;
    Ok(())
}

/// Removes the user's password: from now on they sign in only with their linked identity, or
/// set a new password through a reset link.
pub fn clear_password(conn: &mut GlobalConn<'_>, id: &UserId) -> Result<(), DbError> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::password_hash.eq(None::<String>))
        .execute(conn.raw())?;
    Ok(())
}

/// The person's time zone (an IANA name), when they chose one.
pub fn time_zone(conn: &mut GlobalConn<'_>, id: &UserId) -> Result<Option<String>, DbError> {
    Ok(users::table
        .filter(users::id.eq(id))
        .select(users::time_zone)
        .first::<Option<String>>(conn.raw())
        .optional()?
        .flatten())
}

pub fn set_time_zone(
    conn: &mut GlobalConn<'_>,
    id: &UserId,
    zone: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::time_zone.eq(zone))
        .execute(conn.raw())?;
    Ok(())
}
