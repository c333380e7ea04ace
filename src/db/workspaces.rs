//! Workspaces (tenants).

use super::schema::{memberships, workspaces};
use super::{AsUser, DbError, InWorkspace, UserConn, WorkspaceConn};
use crate::domain::{Plan, Role, WorkspaceId, WorkspaceName};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workspaces)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: WorkspaceName,
    pub plan: Plan,
}

/// Creates the workspace the connection is bound to.
pub fn create(conn: &mut WorkspaceConn<'_>, name: &WorkspaceName, now: i64) -> Result<(), DbError> {
    let (conn, InWorkspace(id)) = conn.split();
    diesel::insert_into(workspaces::table)
        .values((
            workspaces::id.eq(id),
            workspaces::name.eq(name),
            workspaces::plan.eq(Plan::Free),
            workspaces::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The workspace the connection is bound to, if it still exists.
pub fn current(conn: &mut WorkspaceConn<'_>) -> Result<Option<Workspace>, DbError> {
    let (conn, InWorkspace(id)) = conn.split();
    Ok(workspaces::table
        .filter(workspaces::id.eq(id))
        .select(Workspace::as_select())
        .first(conn)
        .optional()?)
}

/// Holds the workspace's row until the transaction ends, so that changes to its membership take
/// turns: two owners demoting each other at once are decided one after the other, and the
/// second sees the first's outcome. (SQLite's single writer gives the same order on its own.)
pub fn lock(conn: &mut WorkspaceConn<'_>) -> Result<bool, DbError> {
    let (conn, InWorkspace(id)) = conn.split();
    let held = diesel::update(workspaces::table.filter(workspaces::id.eq(id)))
        .set(workspaces::name.eq(workspaces::name))
        .execute(conn)?;
    Ok(held == 1)
}

/// Every workspace the user belongs to, with their role there, oldest membership first.
pub fn list_for_user(conn: &mut UserConn<'_>) -> Result<Vec<(Workspace, Role)>, DbError> {
    let (conn, AsUser(user)) = conn.split();
    Ok(memberships::table
        .inner_join(workspaces::table)
        .filter(memberships::user_id.eq(user))
        .order((memberships::created_at.asc(), workspaces::name.asc()))
        .select((Workspace::as_select(), memberships::role))
        .load(conn)?)
}

pub fn rename(conn: &mut WorkspaceConn<'_>, name: &WorkspaceName) -> Result<bool, DbError> {
    let (conn, InWorkspace(id)) = conn.split();
    let changed = diesel::update(workspaces::table.filter(workspaces::id.eq(id)))
        .set(workspaces::name.eq(name))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn set_plan(conn: &mut WorkspaceConn<'_>, plan: Plan) -> Result<bool, DbError> {
    let (conn, InWorkspace(id)) = conn.split();
    let changed = diesel::update(workspaces::table.filter(workspaces::id.eq(id)))
        .set(workspaces::plan.eq(plan))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes the workspace and, through the foreign keys, everything it holds (the audit log,
/// which has none, stays).
pub fn delete(conn: &mut WorkspaceConn<'_>) -> Result<bool, DbError> {
    let (conn, InWorkspace(id)) = conn.split();
    let deleted = diesel::delete(workspaces::table.filter(workspaces::id.eq(id))).execute(conn)?;
    Ok(deleted == 1)
}
