//! The answers kept for `Idempotency-Key`: workspace data, one row per key per workspace.

use super::schema::idempotency_keys as ik;
use super::{DbError, InWorkspace, WorkspaceConn};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ik)]
pub struct StoredAnswer {
    pub fingerprint: String,
    pub status: i32,
    pub body: String,
    pub created_at: i64,
}

/// The answer kept under `key`, if it was made at or after `since`.
pub fn find(
    conn: &mut WorkspaceConn<'_>,
    key: &str,
    since: i64,
) -> Result<Option<StoredAnswer>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(ik::table
        .filter(ik::workspace_id.eq(workspace))
        .filter(ik::key.eq(key))
        .filter(ik::created_at.ge(since))
        .select(StoredAnswer::as_select())
        .first(conn)
        .optional()?)
}

/// Takes `key` for a request being handled, before any of its work, first clearing the
/// workspace's keys taken before `expired` (the same key among them, so that an old key may be
/// used afresh). On PostgreSQL a second request with the same key waits here until the first
/// commits, then fails with [`DbError::UniqueViolation`] and can answer as the first did.
pub fn reserve(
    conn: &mut WorkspaceConn<'_>,
    key: &str,
    fingerprint: &str,
    now: i64,
    expired: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::delete(
        ik::table
            .filter(ik::workspace_id.eq(workspace))
            .filter(ik::created_at.lt(expired)),
    )
    .execute(conn)?;
    diesel::insert_into(ik::table)
        .values((
            ik::workspace_id.eq(workspace),
            ik::key.eq(key),
            ik::fingerprint.eq(fingerprint),
            ik::status.eq(0),
            ik::body.eq(""),
            ik::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Keeps the answer to the request that reserved `key`, in the same transaction.
pub fn keep_answer(
    conn: &mut WorkspaceConn<'_>,
    key: &str,
    status: i32,
    body: &str,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(
        ik::table
            .filter(ik::workspace_id.eq(workspace))
            .filter(ik::key.eq(key)),
    )
    .set((ik::status.eq(status), ik::body.eq(body)))
    .execute(conn)?;
    Ok(())
}
