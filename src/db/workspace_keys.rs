//! Workspace data keys, stored only wrapped by a root key.

use super::schema::workspace_keys;
use super::{DbError, InWorkspace, KeyRotationConn, WorkspaceConn};
use crate::crypto::envelope::WrappedKey;
use crate::domain::WorkspaceId;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Text};

/// The workspace's wrapped data key, if it has one yet.
pub fn get(conn: &mut WorkspaceConn<'_>) -> Result<Option<WrappedKey>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let row = workspace_keys::table
        .filter(workspace_keys::workspace_id.eq(workspace))
        .select((workspace_keys::root_key_id, workspace_keys::wrapped_key))
        .first::<(String, Vec<u8>)>(conn)
        .optional()?;
    Ok(row.map(|(root_key_id, wrapped)| WrappedKey {
        root_key_id,
        wrapped,
    }))
}

/// Stores the workspace's first data key, unless another request stored one first (then
/// that one stays and the caller reads it back).
pub fn insert_if_absent(
    conn: &mut WorkspaceConn<'_>,
    key: &WrappedKey,
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::sql_query(
        "INSERT INTO workspace_keys (workspace_id, root_key_id, wrapped_key, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id) DO NOTHING",
    )
    .bind::<Text, _>(workspace)
    .bind::<Text, _>(&key.root_key_id)
    .bind::<Binary, _>(&key.wrapped)
    .bind::<BigInt, _>(now)
    .execute(conn)?;
    Ok(())
}

/// Every workspace's wrapped data key whose root key is not `current_root_key_id`.
pub fn not_under(
    conn: &mut KeyRotationConn<'_>,
    current_root_key_id: &str,
) -> Result<Vec<(WorkspaceId, WrappedKey)>, DbError> {
    let rows = workspace_keys::table
        .filter(workspace_keys::root_key_id.ne(current_root_key_id))
        .order(workspace_keys::workspace_id.asc())
        .select((
            workspace_keys::workspace_id,
            workspace_keys::root_key_id,
            workspace_keys::wrapped_key,
        ))
        .load::<(WorkspaceId, String, Vec<u8>)>(conn.conn())?;
    Ok(rows
        .into_iter()
        .map(|(workspace, root_key_id, wrapped)| {
            (
                workspace,
                WrappedKey {
                    root_key_id,
                    wrapped,
                },
            )
        })
        .collect())
}

/// Replaces a wrapping, only if it is still the one that was read (a concurrent rotation or
/// a restarted one never overwrites newer work).
pub fn replace(
    conn: &mut KeyRotationConn<'_>,
    workspace: &WorkspaceId,
    old_root_key_id: &str,
    new: &WrappedKey,
    now: i64,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        workspace_keys::table
            .filter(workspace_keys::workspace_id.eq(workspace))
            .filter(workspace_keys::root_key_id.eq(old_root_key_id)),
    )
    .set((
        workspace_keys::root_key_id.eq(&new.root_key_id),
        workspace_keys::wrapped_key.eq(&new.wrapped),
        workspace_keys::rotated_at.eq(now),
    ))
    .execute(conn.conn())?;
    Ok(changed > 0)
}

/// How many data keys each root key wraps.
pub fn count_by_root_key(conn: &mut KeyRotationConn<'_>) -> Result<Vec<(String, i64)>, DbError> {
    Ok(workspace_keys::table
        .group_by(workspace_keys::root_key_id)
        .select((workspace_keys::root_key_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(conn.conn())?)
}

/// Destroys the workspace's data key: every token sealed with it is unreadable from now on.
pub fn delete(conn: &mut WorkspaceConn<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::delete(workspace_keys::table.filter(workspace_keys::workspace_id.eq(workspace)))
        .execute(conn)?;
    Ok(())
}
