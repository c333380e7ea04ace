//! Sign-ins with Google in progress: the `state` by digest, bound to one browser.

use super::schema::google_sign_ins as gs;
use super::{DbError, GlobalConn};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = gs)]
pub struct PendingSignIn {
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: Option<String>,
    pub expires_at: i64,
}

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = gs)]
pub struct NewSignIn<'a> {
    pub state_digest: &'a str,
    pub browser_digest: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub next_path: Option<&'a str>,
    #[diesel(column_name = created_at)]
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a new sign-in, and clears those that have expired (of anyone).
pub fn insert(conn: &mut GlobalConn<'_>, sign_in: NewSignIn<'_>) -> Result<(), DbError> {
    diesel::delete(gs::table.filter(gs::expires_at.le(sign_in.now))).execute(conn.raw())?;
    diesel::insert_into(gs::table)
        .values(&sign_in)
        .execute(conn.raw())?;
    Ok(())
}

/// Spends the sign-in that `state` names, when the same browser began it: the first caller gets
/// it, every later one (and any other browser) gets `None`. An expired one is spent too, and
/// comes back for the caller to refuse.
pub fn consume(
    conn: &mut GlobalConn<'_>,
    state_digest: &str,
    browser_digest: &str,
) -> Result<Option<PendingSignIn>, DbError> {
    let this = gs::table
        .filter(gs::state_digest.eq(state_digest))
        .filter(gs::browser_digest.eq(browser_digest));
    let Some(found) = this
        .select(PendingSignIn::as_select())
        .first(conn.raw())
        .optional()?
    else {
        return Ok(None);
    };
    // Of callers racing with the same state, only the one whose delete removed the row wins.
    let deleted = diesel::delete(this).execute(conn.raw())?;
    Ok((deleted == 1).then_some(found))
}
