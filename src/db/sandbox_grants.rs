//! The sandbox platform's own authorization codes (§5.4): not workspace data.

use super::schema::sandbox_grants as sg;
use super::{DbError, GlobalConn};
use diesel::prelude::*;

pub fn insert(
    conn: &mut GlobalConn<'_>,
    code_digest: &str,
    account_name: &str,
    redirect_uri: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    diesel::insert_into(sg::table)
        .values((
            sg::code_digest.eq(code_digest),
            sg::account_name.eq(account_name),
            sg::redirect_uri.eq(redirect_uri),
            sg::expires_at.eq(expires_at),
        ))
        .execute(conn.raw())?;
    Ok(())
}

/// Spends a code: its account name and redirect URI, once, if it has not expired.
pub fn consume(
    conn: &mut GlobalConn<'_>,
    code_digest: &str,
    now: i64,
) -> Result<Option<(String, String)>, DbError> {
    let row = sg::table
        .filter(sg::code_digest.eq(code_digest))
        .select((sg::account_name, sg::redirect_uri, sg::expires_at))
        .first::<(String, String, i64)>(conn.raw())
        .optional()?;
    let deleted =
        diesel::delete(sg::table.filter(sg::code_digest.eq(code_digest))).execute(conn.raw())?;
    Ok(row
        .filter(|(_, _, expires_at)| deleted == 1 && *expires_at > now)
        .map(|(name, uri, _)| (name, uri)))
}

pub fn delete_expired(conn: &mut GlobalConn<'_>, now: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(sg::table.filter(sg::expires_at.le(now))).execute(conn.raw())?)
}
