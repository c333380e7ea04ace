//! Who belongs to a workspace, and with which role.

use super::schema::{memberships, users};
use super::{AsUser, DbConnection, DbError, InWorkspace, UserConn, WorkspaceConn};
use crate::domain::{Email, Role, UserId, WorkspaceId};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub joined_at: i64,
}

pub fn add(
    conn: &mut WorkspaceConn<'_>,
    user: &UserId,
    role: Role,
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(memberships::table)
        .values((
            memberships::workspace_id.eq(workspace),
            memberships::user_id.eq(user),
            memberships::role.eq(role),
            memberships::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user's role in the connection's workspace; `None` when they are not a member.
pub fn role_of(conn: &mut WorkspaceConn<'_>, user: &UserId) -> Result<Option<Role>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    role(conn, workspace, user)
}

/// The user's role in `workspace`, seen from the user's side (for switching workspaces).
pub fn role_in(conn: &mut UserConn<'_>, workspace: &WorkspaceId) -> Result<Option<Role>, DbError> {
    let (conn, AsUser(user)) = conn.split();
    role(conn, workspace, user)
}

fn role(
    conn: &mut DbConnection,
    workspace: &WorkspaceId,
    user: &UserId,
) -> Result<Option<Role>, DbError> {
    Ok(memberships::table
        .filter(memberships::workspace_id.eq(workspace))
        .filter(memberships::user_id.eq(user))
        .select(memberships::role)
        .first(conn)
        .optional()?)
}

/// Everyone in the connection's workspace, owners first, then by email.
pub fn members(conn: &mut WorkspaceConn<'_>) -> Result<Vec<Member>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut members = memberships::table
        .inner_join(users::table)
        .filter(memberships::workspace_id.eq(workspace))
        .order(users::email.asc())
        .select((
            users::id,
            users::email,
            memberships::role,
            memberships::created_at,
        ))
        .load::<Member>(conn)?;
    members.sort_by_key(|m| match m.role {
        Role::Owner => 0,
        Role::Admin => 1,
        Role::Member => 2,
    });
    Ok(members)
}

/// Gives a member of the connection's workspace another role; false when they are not one.
pub fn set_role(conn: &mut WorkspaceConn<'_>, user: &UserId, role: Role) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(
        memberships::table
            .filter(memberships::workspace_id.eq(workspace))
            .filter(memberships::user_id.eq(user)),
    )
    .set(memberships::role.eq(role))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Takes a member out of the connection's workspace; false when they were not in it.
pub fn remove(conn: &mut WorkspaceConn<'_>, user: &UserId) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let removed = diesel::delete(
        memberships::table
            .filter(memberships::workspace_id.eq(workspace))
            .filter(memberships::user_id.eq(user)),
    )
    .execute(conn)?;
    Ok(removed == 1)
}

/// How many owners the connection's workspace has.
pub fn owners(conn: &mut WorkspaceConn<'_>) -> Result<i64, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(memberships::table
        .filter(memberships::workspace_id.eq(workspace))
        .filter(memberships::role.eq(Role::Owner))
        .count()
        .get_result(conn)?)
}
