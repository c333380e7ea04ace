//! Who belongs to a workspace, and with which role.

use super::schema::{memberships, sessions, users};
use super::{AsUser, DbConnection, DbError, InWorkspace, UserConn, WorkspaceConn};
use crate::domain::{Email, Role, UserId, WorkspaceId};
use diesel::prelude::*;

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub joined_at: i64,
    /// When the person was last seen signed in (in any workspace); `None` if never since the
    /// sessions that recorded it ended.
    pub last_active_at: Option<i64>,
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
    let rows = memberships::table
        .inner_join(users::table)
        .filter(memberships::workspace_id.eq(workspace))
        .order(users::email.asc())
        .select((
            users::id,
            users::email,
            memberships::role,
            memberships::created_at,
        ))
        .load::<(UserId, Email, Role, i64)>(conn)?;
    // Plain strings: `eq_any` binds an array on PostgreSQL, which the id types do not speak.
    let ids: Vec<String> = rows.iter().map(|r| r.0.to_string()).collect();
    let seen: Vec<(Option<String>, Option<i64>)> = sessions::table
        .filter(sessions::user_id.eq_any(ids))
        .group_by(sessions::user_id)
        .select((sessions::user_id, diesel::dsl::max(sessions::last_seen_at)))
        .load(conn)?;
    let mut members: Vec<Member> = rows
        .into_iter()
        .map(|(user_id, email, role, joined_at)| Member {
            last_active_at: seen
                .iter()
                .find(|(user, _)| user.as_deref() == Some(user_id.as_str()))
                .and_then(|(_, at)| *at),
            user_id,
            email,
            role,
            joined_at,
        })
        .collect();
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
