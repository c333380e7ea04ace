//! API keys: workspace data, except the lookup by digest that authenticates a request.

use super::schema::{api_keys, users};
use super::{
    Backend, ByKeyDigest, Database, DbError, InWorkspace, KeyLookupConn, MultiBackend,
    WorkspaceConn,
};
use crate::domain::KeyMode;
use crate::domain::{ApiKeyId, Email, Plan, Role, Scopes, UserId, WorkspaceId};
use diesel::prelude::*;

/// A stored key: never its secret, which is not stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct StoredKey {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub created_by: Option<UserId>,
    #[diesel(select_expression = users::email.nullable())]
    pub created_by_email: Option<Email>,
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

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = api_keys)]
pub struct NewKey<'a> {
    pub id: &'a ApiKeyId,
    pub created_by: Option<&'a UserId>,
    pub created_by_key: Option<&'a ApiKeyId>,
    pub label: &'a str,
    pub mode: KeyMode,
    pub scopes: &'a Scopes,
    pub digest: &'a str,
    pub last4: &'a str,
    #[diesel(column_name = created_at)]
    pub now: i64,
    pub expires_at: Option<i64>,
}

pub fn insert(conn: &mut WorkspaceConn<'_>, key: NewKey<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(api_keys::table)
        .values((&key, api_keys::workspace_id.eq(workspace)))
        .execute(conn)?;
    Ok(())
}

/// Keys with their creator's email: the one shape every read of a key takes.
#[diesel::dsl::auto_type(no_type_alias)]
fn keys_with_creator() -> _ {
    let stored_key: diesel::dsl::AsSelect<StoredKey, MultiBackend> = StoredKey::as_select();
    api_keys::table.left_join(users::table).select(stored_key)
}

/// The one key `id` of the workspace: every query of a single key names both.
#[diesel::dsl::auto_type(no_type_alias)]
fn one_key<'a>(workspace: &'a WorkspaceId, id: &'a ApiKeyId) -> _ {
    api_keys::table
        .filter(api_keys::workspace_id.eq(workspace))
        .filter(api_keys::id.eq(id))
}

/// Every key of the workspace, newest first, revoked and expired ones included.
pub fn list(conn: &mut WorkspaceConn<'_>) -> Result<Vec<StoredKey>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(keys_with_creator()
        .filter(api_keys::workspace_id.eq(workspace))
        .order((api_keys::created_at.desc(), api_keys::id.asc()))
        .load(conn)?)
}

/// How many keys the workspace has made, revoked and expired ones included.
pub fn count(conn: &mut WorkspaceConn<'_>) -> Result<i64, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(api_keys::table
        .filter(api_keys::workspace_id.eq(workspace))
        .count()
        .get_result(conn)?)
}

pub fn get(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId) -> Result<Option<StoredKey>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(keys_with_creator()
        .filter(api_keys::workspace_id.eq(workspace))
        .filter(api_keys::id.eq(id))
        .first(conn)
        .optional()?)
}

/// Revokes a key of this workspace. False when there is no such key or it was revoked already.
pub fn revoke(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId, now: i64) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(one_key(workspace, id).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
    Ok(changed > 0)
}

/// Records that an active key was rolled into `replacement`: true for exactly one caller, however
/// many roll it at once; false when it was revoked or rolled already.
pub fn mark_rolled(
    conn: &mut WorkspaceConn<'_>,
    id: &ApiKeyId,
    replacement: &ApiKeyId,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(
        one_key(workspace, id)
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::replaced_by.is_null()),
    )
    .set(api_keys::replaced_by.eq(replacement))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The workspace's rolls: each rolled key's id with the id of the key that replaced it.
pub fn rolls(conn: &mut WorkspaceConn<'_>) -> Result<Vec<(ApiKeyId, ApiKeyId)>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let pairs: Vec<(ApiKeyId, Option<ApiKeyId>)> = api_keys::table
        .filter(api_keys::workspace_id.eq(workspace))
        .filter(api_keys::replaced_by.is_not_null())
        .select((api_keys::id, api_keys::replaced_by))
        .load(conn)?;
    Ok(pairs
        .into_iter()
        .filter_map(|(old, new)| Some((old, new?)))
        .collect())
}

/// Renames a key of this workspace. False when there is no such key.
pub fn rename(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId, label: &str) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(one_key(workspace, id))
        .set(api_keys::label.eq(label))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Brings a key's expiry forward to `at` (never later than it already was).
pub fn expire_by(conn: &mut WorkspaceConn<'_>, id: &ApiKeyId, at: i64) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(
        one_key(workspace, id).filter(
            api_keys::expires_at
                .is_null()
                .or(api_keys::expires_at.gt(at)),
        ),
    )
    .set(api_keys::expires_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Records the latest use; an older report never overwrites a newer one.
pub fn record_use(
    conn: &mut WorkspaceConn<'_>,
    id: &ApiKeyId,
    at: i64,
    ip: &str,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(
        one_key(workspace, id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(at)),
        ),
    )
    .set((api_keys::last_used_at.eq(at), api_keys::last_used_ip.eq(ip)))
    .execute(conn)?;
    Ok(())
}

/// The key whose digest the lookup names, in whichever workspace it is.
pub fn find_by_digest(conn: &mut KeyLookupConn<'_>) -> Result<Option<StoredKey>, DbError> {
    let (conn, ByKeyDigest(digest)) = conn.split();
    Ok(keys_with_creator()
        .filter(api_keys::digest.eq(digest))
        .first(conn)
        .optional()?)
}

/// A key as authenticating a request needs it: the key, its workspace's name and plan, and its
/// creator's role there (`None`: the creator is no longer a member).
#[derive(Debug)]
pub struct KeyForRequest {
    pub key: StoredKey,
    pub workspace_name: String,
    pub plan: Plan,
    pub creator_role: Option<Role>,
}

/// The key with `digest`, for a request: on PostgreSQL one prepared statement and one round
/// trip (no BEGIN, settings and COMMIT around it), a PL/pgSQL function that binds itself to the
/// digest and then to the key's workspace under row-level security (see its migration); PL/pgSQL
/// also keeps the plans of the queries inside it for the connection's life. On SQLite the same
/// reads in one read transaction.
pub async fn for_request(db: &Database, digest: String) -> Result<Option<KeyForRequest>, DbError> {
    if db.backend() == Backend::Postgres {
        return db
            .single_statement(move |pg| {
                let row: Option<(StoredKey, String, Plan, Option<Role>)> =
                    KeyForRequestQuery { digest }.get_result(pg).optional()?;
                Ok(
                    row.map(|(key, workspace_name, plan, creator_role)| KeyForRequest {
                        key,
                        workspace_name,
                        plan,
                        creator_role,
                    }),
                )
            })
            .await;
    }
    db.read(ByKeyDigest(digest), |conn| {
        let Some(key) = find_by_digest(conn)? else {
            return Ok(None);
        };
        let mut in_workspace = conn.enter_workspace(key.workspace_id.clone())?;
        let Some(workspace) = super::workspaces::current(&mut in_workspace)? else {
            return Ok(None);
        };
        let creator_role = match &key.created_by {
            Some(creator) => super::memberships::role_of(&mut in_workspace, creator)?,
            None => None,
        };
        Ok(Some(KeyForRequest {
            key,
            workspace_name: workspace.name.to_string(),
            plan: workspace.plan,
            creator_role,
        }))
    })
    .await
}

/// `SELECT * FROM socializer_key_for_request($1)`, as a query type of its own: its id is
/// static, so Diesel prepares it once per connection and reuses the prepared statement (a
/// literal SQL string would be parsed anew every time).
#[derive(diesel::query_builder::QueryId)]
struct KeyForRequestQuery {
    digest: String,
}

mod key_for_request_columns {
    use diesel::sql_types::{BigInt, Nullable, Text};
    /// The stored key's columns, in `StoredKey`'s order.
    pub type Key = (
        Text,
        Text,
        Nullable<Text>,
        Nullable<Text>,
        Text,
        Text,
        Text,
        Text,
        BigInt,
        Nullable<BigInt>,
        Nullable<BigInt>,
        Nullable<BigInt>,
        Nullable<Text>,
        Nullable<Text>,
    );
    /// Then the workspace's name and plan, and the creator's role.
    pub type Row = (Key, Text, Text, Nullable<Text>);
}

impl diesel::query_builder::Query for KeyForRequestQuery {
    type SqlType = key_for_request_columns::Row;
}

impl<DB> diesel::query_builder::QueryFragment<DB> for KeyForRequestQuery
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<diesel::sql_types::Text>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT * FROM socializer_key_for_request(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.digest)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<C> RunQueryDsl<C> for KeyForRequestQuery {}

/// The keys of this workspace that `user` made and that are not revoked.
pub fn unrevoked_made_by(
    conn: &mut WorkspaceConn<'_>,
    user: &UserId,
) -> Result<Vec<StoredKey>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(keys_with_creator()
        .filter(api_keys::workspace_id.eq(workspace))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::created_by.eq(user))
        .load(conn)?)
}

/// The unrevoked keys that `roots` made, and the keys those made in turn, however deep the
/// chain (`roots` themselves not included).
pub fn unrevoked_descendants(
    conn: &mut WorkspaceConn<'_>,
    roots: &[ApiKeyId],
) -> Result<Vec<StoredKey>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut found: Vec<StoredKey> = Vec::new();
    let mut seen: Vec<String> = roots.iter().map(ToString::to_string).collect();
    // Plain strings: `eq_any` binds an array on PostgreSQL, which the id types do not speak.
    let mut parents = seen.clone();
    while !parents.is_empty() {
        let children: Vec<StoredKey> = keys_with_creator()
            .filter(api_keys::workspace_id.eq(workspace))
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::created_by_key.eq_any(&parents))
            .load(conn)?;
        let fresh: Vec<StoredKey> = children
            .into_iter()
            .filter(|c| !seen.contains(&c.id.to_string()))
            .collect();
        parents = fresh.iter().map(|c| c.id.to_string()).collect();
        seen.extend(parents.iter().cloned());
        found.extend(fresh);
    }
    Ok(found)
}

/// Revokes these keys of this workspace (those not revoked already).
pub fn revoke_all(
    conn: &mut WorkspaceConn<'_>,
    keys: &[StoredKey],
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let ids: Vec<String> = keys.iter().map(|k| k.id.to_string()).collect();
    diesel::update(
        api_keys::table
            .filter(api_keys::workspace_id.eq(workspace))
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::id.eq_any(ids)),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Revokes every key of this workspace that `user` made, and every key those keys made in
/// turn, however deep the chain; answers the keys it revoked (the ones not revoked already).
pub fn revoke_made_by(
    conn: &mut WorkspaceConn<'_>,
    user: &UserId,
    now: i64,
) -> Result<Vec<StoredKey>, DbError> {
    let mut revoked = unrevoked_made_by(conn, user)?;
    let roots: Vec<ApiKeyId> = revoked.iter().map(|k| k.id.clone()).collect();
    let descendants = unrevoked_descendants(conn, &roots)?;
    revoked.extend(descendants.into_iter().filter(|d| !roots.contains(&d.id)));
    revoke_all(conn, &revoked, now)?;
    Ok(revoked)
}
