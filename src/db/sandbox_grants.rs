//! The sandbox platform's own authorization codes: not workspace data. Each code is bound
//! to the flow (state digest) it was approved for, and a flow holds at most one code.

use super::schema::sandbox_grants as sg;
use super::{DbError, GlobalConn};
use diesel::prelude::*;

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = sg)]
pub struct NewGrant<'a> {
    pub code_digest: &'a str,
    pub state_digest: &'a str,
    pub account_name: &'a str,
    pub redirect_uri: &'a str,
    pub expires_at: i64,
}

/// Stores a code for a flow, replacing any code approved for that flow before: approving twice
/// leaves one code, so repeated posts cannot fill the table.
pub fn replace(conn: &mut GlobalConn<'_>, grant: NewGrant<'_>) -> Result<(), DbError> {
    diesel::delete(sg::table.filter(sg::state_digest.eq(grant.state_digest)))
        .execute(conn.raw())?;
    diesel::insert_into(sg::table)
        .values(&grant)
        .execute(conn.raw())?;
    Ok(())
}

/// Spends a code issued for this flow and redirect URI, once, if it has not expired: the
/// account name it was approved for. A code of another flow is left alone.
pub fn consume(
    conn: &mut GlobalConn<'_>,
    code_digest: &str,
    state_digest: &str,
    redirect_uri: &str,
    now: i64,
) -> Result<Option<String>, DbError> {
    let matching = sg::table
        .filter(sg::code_digest.eq(code_digest))
        .filter(sg::state_digest.eq(state_digest))
        .filter(sg::redirect_uri.eq(redirect_uri))
        .filter(sg::expires_at.gt(now));
    let name = matching
        .select(sg::account_name)
        .first::<String>(conn.raw())
        .optional()?;
    let deleted = diesel::delete(matching).execute(conn.raw())?;
    Ok(name.filter(|_| deleted == 1))
}

pub fn delete_expired(conn: &mut GlobalConn<'_>, now: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(sg::table.filter(sg::expires_at.le(now))).execute(conn.raw())?)
}
