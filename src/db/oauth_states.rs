//! Connect flows in progress: the OAuth `state`, by digest only.

use super::schema::oauth_states as os;
use super::{ByStateDigest, DbError, InWorkspace, StateLookupConn, WorkspaceConn};
use crate::domain::Platform;
use crate::domain::{UserId, WorkspaceId};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = os)]
pub struct StoredState {
    pub workspace_id: WorkspaceId,
    pub user_id: Option<UserId>,
    pub platform: Platform,
    pub redirect_uri: String,
    pub pkce_verifier: Option<Vec<u8>>,
    pub expires_at: i64,
}

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = os)]
pub struct NewState<'a> {
    #[diesel(column_name = state_digest)]
    pub digest: &'a str,
    #[diesel(column_name = user_id)]
    pub user: Option<&'a UserId>,
    pub platform: Platform,
    pub redirect_uri: &'a str,
    pub pkce_verifier: Option<&'a [u8]>,
    #[diesel(column_name = created_at)]
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a new flow, and clears the workspace's flows that have expired.
pub fn insert(conn: &mut WorkspaceConn<'_>, state: NewState<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::delete(
        os::table
            .filter(os::workspace_id.eq(workspace))
            .filter(os::expires_at.le(state.now)),
    )
    .execute(conn)?;
    diesel::insert_into(os::table)
        .values((&state, os::workspace_id.eq(workspace)))
        .execute(conn)?;
    Ok(())
}

/// The flow whose state the lookup names, in whichever workspace it is.
pub fn find(conn: &mut StateLookupConn<'_>) -> Result<Option<StoredState>, DbError> {
    let (conn, ByStateDigest(digest)) = conn.split();
    Ok(os::table
        .filter(os::state_digest.eq(digest))
        .select(StoredState::as_select())
        .first(conn)
        .optional()?)
}

/// Spends the state: true for exactly one caller, however many race for it.
pub fn consume(conn: &mut WorkspaceConn<'_>, digest: &str) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let deleted = diesel::delete(
        os::table
            .filter(os::workspace_id.eq(workspace))
            .filter(os::state_digest.eq(digest)),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}
