//! The audit log's rows: added and read, never changed (see the migrations).

use super::schema::audit_events;
use super::{DbError, InWorkspace, WorkspaceConn};
use diesel::prelude::*;

/// An entry about to be written; the database gives it its place in the order (`seq`).
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub occurred_at: i64,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: Option<&'a str>,
    pub address: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct StoredEvent {
    pub seq: i64,
    pub id: String,
    pub occurred_at: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub subject: String,
    pub detail: Option<String>,
    pub address: Option<String>,
}

pub fn insert(conn: &mut WorkspaceConn<'_>, event: NewEvent<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(event.id),
            audit_events::workspace_id.eq(workspace),
            audit_events::occurred_at.eq(event.occurred_at),
            audit_events::actor_kind.eq(event.actor_kind),
            audit_events::actor_id.eq(event.actor_id),
            audit_events::actor_name.eq(event.actor_name),
            audit_events::action.eq(event.action),
            audit_events::subject.eq(event.subject),
            audit_events::detail.eq(event.detail),
            audit_events::address.eq(event.address),
        ))
        .execute(conn)?;
    Ok(())
}

/// Which entries a read keeps: by who made them (their name as recorded), by action, and by
/// when (`since` inclusive, `until` exclusive, Unix seconds). Empty keeps every entry.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Up to `limit` entries of the connection's workspace that `filter` keeps, newest first,
/// older than the entry `after` (its id) when given; `None` when that entry is not one of this
/// workspace's.
pub fn page(
    conn: &mut WorkspaceConn<'_>,
    filter: &EventFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Option<Vec<StoredEvent>>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let before = match after {
        None => None,
        Some(id) => {
            let seq = audit_events::table
                .filter(audit_events::workspace_id.eq(workspace))
                .filter(audit_events::id.eq(id))
                .select(audit_events::seq)
                .first::<i64>(conn)
                .optional()?;
            match seq {
                Some(seq) => Some(seq),
                None => return Ok(None),
            }
        }
    };
    let mut query = audit_events::table
        .filter(audit_events::workspace_id.eq(workspace))
        .select(StoredEvent::as_select())
        .order(audit_events::seq.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_events::seq.lt(before));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_events::actor_name.eq(actor.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::occurred_at.lt(until));
    }
    Ok(Some(query.load(conn)?))
}

/// How many of the workspace's entries record `action` (entries are never removed, so this
/// counts what ever happened).
pub fn count_of(conn: &mut WorkspaceConn<'_>, action: &str) -> Result<i64, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(audit_events::table
        .filter(audit_events::workspace_id.eq(workspace))
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(conn)?)
}

/// The names that made the workspace's entries, each once, in order, for choosing among them.
pub fn actors(conn: &mut WorkspaceConn<'_>, limit: i64) -> Result<Vec<String>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(audit_events::table
        .filter(audit_events::workspace_id.eq(workspace))
        .select(audit_events::actor_name)
        .distinct()
        .order(audit_events::actor_name.asc())
        .limit(limit)
        .load(conn)?)
}
