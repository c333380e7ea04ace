//! API keys: workspace data, except the lookup by digest that authenticates a request.

use super::schema::{api_keys, users};
use super::{DbError, KeyLookupConn, WorkspaceConn};
use crate::auth::api_key::KeyMode;
use crate::domain::{ApiKeyId, Scopes, UserId, WorkspaceId};
use diesel::prelude::*;

/// A stored key: never its secret, which is not stored.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub created_by: Option<UserId>,
    pub created_by_email: Option<String>,
    pub label: String,
    pub mode: KeyMode,
    pub scopes: Scopes,
    pub last4: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    /// The key that made this one, when a key made it.
    pub created_by_key: Option<ApiKeyId>,
}

#[derive(Queryable)]
struct Row {
    id: String,
    workspace_id: String,
    created_by: Option<String>,
    created_by_email: Option<String>,
    label: String,
    #[diesel(deserialize_as = String)]
    mode: KeyMode,
    #[diesel(deserialize_as = String)]
    scopes: Scopes,
    last4: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    last_used_ip: Option<String>,
    created_by_key: Option<String>,
}

impl From<Row> for StoredKey {
    fn from(r: Row) -> Self {
        StoredKey {
            id: ApiKeyId::from_trusted(r.id),
            workspace_id: WorkspaceId::from_trusted(r.workspace_id),
            created_by: r.created_by.map(UserId::from_trusted),
            created_by_email: r.created_by_email,
            label: r.label,
            mode: r.mode,
            scopes: r.scopes,
            last4: r.last4,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip,
            created_by_key: r.created_by_key.map(ApiKeyId::from_trusted),
        }
    }
}

macro_rules! key_columns {
    () => {
        (
            api_keys::id,
            api_keys::workspace_id,
            api_keys::created_by,
            users::email.nullable(),
            api_keys::label,
            api_keys::mode,
            api_keys::scopes,
            api_keys::last4,
            api_keys::created_at,
            api_keys::expires_at,
            api_keys::revoked_at,
            api_keys::last_used_at,
            api_keys::last_used_ip,
            api_keys::created_by_key,
        )
    };
}

pub struct NewKey<'a> {
    pub id: &'a ApiKeyId,
    pub created_by: Option<&'a UserId>,
    pub created_by_key: Option<&'a ApiKeyId>,
    pub label: &'a str,
    pub mode: &'a str,
    pub scopes: &'a str,
    pub digest: &'a str,
    pub last4: &'a str,
    pub now: i64,
    pub expires_at: Option<i64>,
}

pub fn insert(conn: &mut WorkspaceConn<'_>, key: NewKey<'_>) -> Result<(), DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(key.id.as_str()),
            api_keys::workspace_id.eq(workspace),
            api_keys::created_by.eq(key.created_by.map(UserId::as_str)),
            api_keys::created_by_key.eq(key.created_by_key.map(ApiKeyId::as_str)),
            api_keys::label.eq(key.label),
            api_keys::mode.eq(key.mode),
            api_keys::scopes.eq(key.scopes),
            api_keys::digest.eq(key.digest),
            api_keys::last4.eq(key.last4),
            api_keys::created_at.eq(key.now),
            api_keys::expires_at.eq(key.expires_at),
        ))
        .execute(conn.conn())?;
    Ok(())
}

/// Every key of the workspace, newest first, revoked and expired ones included.
pub fn list(conn: &mut WorkspaceConn<'_>) -> Result<Vec<StoredKey>, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let rows = api_keys::table
        .left_join(users::table)
        .filter(api_keys::workspace_id.eq(workspace))
        .order((api_keys::created_at.desc(), api_keys::id.asc()))
        .select(key_columns!())
        .load::<Row>(conn.conn())?;
    Ok(rows.into_iter().map(StoredKey::from).collect())
}

pub fn get(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId) -> Result<Option<StoredKey>, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let row = api_keys::table
        .left_join(users::table)
        .filter(api_keys::workspace_id.eq(workspace))
        .filter(api_keys::id.eq(id.as_str()))
        .select(key_columns!())
        .first::<Row>(conn.conn())
        .optional()?;
    Ok(row.map(StoredKey::from))
}

/// Revokes a key of this workspace. False when there is no such key or it was revoked already.
pub fn revoke(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId, now: i64) -> Result<bool, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let changed = diesel::update(
        api_keys::table
            .filter(api_keys::workspace_id.eq(workspace))
            .filter(api_keys::id.eq(id.as_str()))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn.conn())?;
    Ok(changed > 0)
}

/// Records that an active key was rolled into `replacement`: true for exactly one caller, however
/// many roll it at once; false when it was revoked or rolled already.
pub fn mark_rolled(
    conn: &mut WorkspaceConn<'_>,
    id: &ApiKeyId,
    replacement: &ApiKeyId,
) -> Result<bool, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let changed = diesel::update(
        api_keys::table
            .filter(api_keys::workspace_id.eq(workspace))
            .filter(api_keys::id.eq(id.as_str()))
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::replaced_by.is_null()),
    )
    .set(api_keys::replaced_by.eq(replacement.as_str()))
    .execute(conn.conn())?;
    Ok(changed == 1)
}

/// Brings a key's expiry forward to `at` (never later than it already was).
pub fn expire_by(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId, at: i64) -> Result<(), DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let key = api_keys::table
        .filter(api_keys::workspace_id.eq(workspace))
        .filter(api_keys::id.eq(id.as_str()));
    diesel::update(
        key.clone().filter(
            api_keys::expires_at
                .is_null()
                .or(api_keys::expires_at.gt(at)),
        ),
    )
    .set(api_keys::expires_at.eq(at))
    .execute(conn.conn())?;
    Ok(())
}

/// Records the latest use; an older report never overwrites a newer one.
pub fn record_use(
    conn: &mut WorkspaceConn<'_>,
    id: &ApiKeyId,
    at: i64,
    ip: &str,
) -> Result<(), DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    diesel::update(
        api_keys::table
            .filter(api_keys::workspace_id.eq(workspace))
            .filter(api_keys::id.eq(id.as_str()))
            .filter(
                api_keys::last_used_at
                    .is_null()
                    .or(api_keys::last_used_at.lt(at)),
            ),
    )
    .set((api_keys::last_used_at.eq(at), api_keys::last_used_ip.eq(ip)))
    .execute(conn.conn())?;
    Ok(())
}

/// The key whose digest the lookup names, in whichever workspace it is.
pub fn find_by_digest(conn: &mut KeyLookupConn<'_>) -> Result<Option<StoredKey>, DbError> {
    let digest = conn.digest().to_owned();
    let row = api_keys::table
        .left_join(users::table)
        .filter(api_keys::digest.eq(digest))
        .select(key_columns!())
        .first::<Row>(conn.conn())
        .optional()?;
    Ok(row.map(StoredKey::from))
}
