//! Workspaces (tenants).

use super::schema::{memberships, workspaces};
use super::{DbError, UserConn, WorkspaceConn};
use crate::domain::{Plan, Role, WorkspaceId, WorkspaceName};
use diesel::prelude::*;

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: WorkspaceName,
    pub plan: Plan,
}

/// Creates the workspace the connection is bound to.
pub fn create(conn: &mut WorkspaceConn<'_>, name: &WorkspaceName, now: i64) -> Result<(), DbError> {
    let id = conn.workspace_id().as_str().to_owned();
    diesel::insert_into(workspaces::table)
        .values((
            workspaces::id.eq(id),
            workspaces::name.eq(name.as_str()),
            workspaces::plan.eq(Plan::Free.as_str()),
            workspaces::created_at.eq(now),
        ))
        .execute(conn.conn())?;
    Ok(())
}

/// The workspace the connection is bound to, if it still exists.
pub fn current(conn: &mut WorkspaceConn<'_>) -> Result<Option<Workspace>, DbError> {
    let id = conn.workspace_id().as_str().to_owned();
    let row = workspaces::table
        .filter(workspaces::id.eq(id))
        .select((workspaces::id, workspaces::name, workspaces::plan))
        .first::<(String, String, String)>(conn.conn())
        .optional()?;
    row.map(|(id, name, plan)| {
        Ok(Workspace {
            id: WorkspaceId::from_trusted(id),
            name: WorkspaceName::from_trusted(name),
            plan: Plan::try_from(plan)?,
        })
    })
    .transpose()
}

/// Every workspace the user belongs to, with their role there, oldest membership first.
pub fn list_for_user(conn: &mut UserConn<'_>) -> Result<Vec<(Workspace, Role)>, DbError> {
    let user = conn.user_id().as_str().to_owned();
    let rows = memberships::table
        .inner_join(workspaces::table)
        .filter(memberships::user_id.eq(user))
        .order((memberships::created_at.asc(), workspaces::name.asc()))
        .select((
            workspaces::id,
            workspaces::name,
            workspaces::plan,
            memberships::role,
        ))
        .load::<(String, String, String, String)>(conn.conn())?;
    rows.into_iter()
        .map(|(id, name, plan, role)| {
            let workspace = Workspace {
                id: WorkspaceId::from_trusted(id),
                name: WorkspaceName::from_trusted(name),
                plan: Plan::try_from(plan)?,
            };
            Ok((workspace, Role::try_from(role)?))
        })
        .collect()
}
