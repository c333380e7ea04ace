//! People's identities at an OpenID Connect provider, by (issuer, subject). Not workspace data.

use super::schema::identities as id;
use super::{DbError, GlobalConn};
use crate::domain::UserId;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = id)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub user_id: UserId,
    pub email: Option<String>,
    pub created_at: i64,
}

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = id)]
pub struct NewIdentity<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    #[diesel(column_name = user_id)]
    pub user: &'a UserId,
    pub email: Option<&'a str>,
    #[diesel(column_name = created_at)]
    pub now: i64,
}

pub fn find(
    conn: &mut GlobalConn<'_>,
    issuer: &str,
    subject: &str,
) -> Result<Option<Identity>, DbError> {
    Ok(id::table
        .filter(id::issuer.eq(issuer))
        .filter(id::subject.eq(subject))
        .select(Identity::as_select())
        .first(conn.raw())
        .optional()?)
}

/// Fails with [`DbError::UniqueViolation`] when the identity is linked already, or the user has
/// one at that issuer.
pub fn insert(conn: &mut GlobalConn<'_>, identity: NewIdentity<'_>) -> Result<(), DbError> {
    diesel::insert_into(id::table)
        .values(&identity)
        .execute(conn.raw())?;
    Ok(())
}

/// The user's identities, oldest first.
pub fn of_user(conn: &mut GlobalConn<'_>, user: &UserId) -> Result<Vec<Identity>, DbError> {
    Ok(id::table
        .filter(id::user_id.eq(user))
        .order((id::created_at.asc(), id::issuer.asc()))
        .select(Identity::as_select())
        .load(conn.raw())?)
}

/// Unlinks the user's identity at `issuer`; false when there was none.
pub fn delete_of_user(
    conn: &mut GlobalConn<'_>,
    user: &UserId,
    issuer: &str,
) -> Result<bool, DbError> {
    let deleted = diesel::delete(
        id::table
            .filter(id::user_id.eq(user))
            .filter(id::issuer.eq(issuer)),
    )
    .execute(conn.raw())?;
    Ok(deleted > 0)
}

/// Unlinks every identity of the user.
pub fn delete_all_of_user(conn: &mut GlobalConn<'_>, user: &UserId) -> Result<usize, DbError> {
    Ok(diesel::delete(id::table.filter(id::user_id.eq(user))).execute(conn.raw())?)
}
