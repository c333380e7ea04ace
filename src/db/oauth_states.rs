//! Connect flows in progress: the OAuth `state`, by digest only.

use super::schema::oauth_states as os;
use super::{DbError, StateLookupConn, WorkspaceConn};
use crate::domain::{UserId, WorkspaceId};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable)]
pub struct StoredState {
    pub workspace_id: String,
    pub user_id: Option<String>,
    pub platform: String,
    pub redirect_uri: String,
    pub pkce_verifier: Option<Vec<u8>>,
    pub expires_at: i64,
}

pub struct NewState<'a> {
    pub digest: &'a str,
    pub user: Option<&'a UserId>,
    pub platform: &'a str,
    pub redirect_uri: &'a str,
    pub pkce_verifier: Option<&'a [u8]>,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a new flow, and clears the workspace's flows that have expired.
pub fn insert(conn: &mut WorkspaceConn<'_>, state: NewState<'_>) -> Result<(), DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    diesel::delete(
        os::table
            .filter(os::workspace_id.eq(&workspace))
            .filter(os::expires_at.le(state.now)),
    )
    .execute(conn.conn())?;
    diesel::insert_into(os::table)
        .values((
            os::state_digest.eq(state.digest),
            os::workspace_id.eq(workspace),
            os::user_id.eq(state.user.map(UserId::as_str)),
            os::platform.eq(state.platform),
            os::redirect_uri.eq(state.redirect_uri),
            os::pkce_verifier.eq(state.pkce_verifier),
            os::created_at.eq(state.now),
            os::expires_at.eq(state.expires_at),
        ))
        .execute(conn.conn())?;
    Ok(())
}

/// The flow whose state the lookup names, in whichever workspace it is.
pub fn find(conn: &mut StateLookupConn<'_>) -> Result<Option<StoredState>, DbError> {
    let digest = conn.digest().to_owned();
    Ok(os::table
        .filter(os::state_digest.eq(digest))
        .select((
            os::workspace_id,
            os::user_id,
            os::platform,
            os::redirect_uri,
            os::pkce_verifier,
            os::expires_at,
        ))
        .first(conn.conn())
        .optional()?)
}

/// Spends the state: true for exactly one caller, however many race for it.
pub fn consume(conn: &mut WorkspaceConn<'_>, digest: &str) -> Result<bool, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let deleted = diesel::delete(
        os::table
            .filter(os::workspace_id.eq(workspace))
            .filter(os::state_digest.eq(digest)),
    )
    .execute(conn.conn())?;
    Ok(deleted == 1)
}

impl StoredState {
    pub fn workspace(&self) -> WorkspaceId {
        WorkspaceId::from_trusted(self.workspace_id.clone())
    }
}
