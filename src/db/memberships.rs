//! Who belongs to a workspace, and with which role.

use super::schema::{memberships, users};
use super::{DbError, UserConn, WorkspaceConn};
use crate::domain::{Email, Role, UserId, WorkspaceId};
use diesel::prelude::*;

#[derive(Debug, Clone)]
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
    let workspace = conn.workspace_id().as_str().to_owned();
    diesel::insert_into(memberships::table)
        .values((
            memberships::workspace_id.eq(workspace),
            memberships::user_id.eq(user.as_str()),
            memberships::role.eq(role.as_str()),
            memberships::created_at.eq(now),
        ))
        .execute(conn.conn())?;
    Ok(())
}

/// The user's role in the connection's workspace; `None` when they are not a member.
pub fn role_of(conn: &mut WorkspaceConn<'_>, user: &UserId) -> Result<Option<Role>, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
    let role = memberships::table
        .filter(memberships::workspace_id.eq(workspace))
        .filter(memberships::user_id.eq(user.as_str()))
        .select(memberships::role)
        .first::<String>(conn.conn())
        .optional()?;
    Ok(role.map(Role::try_from).transpose()?)
}

/// The user's role in `workspace`, seen from the user's side (for switching workspaces).
pub fn role_in(conn: &mut UserConn<'_>, workspace: &WorkspaceId) -> Result<Option<Role>, DbError> {
    let user = conn.user_id().as_str().to_owned();
    let role = memberships::table
        .filter(memberships::workspace_id.eq(workspace.as_str()))
        .filter(memberships::user_id.eq(user))
        .select(memberships::role)
        .first::<String>(conn.conn())
        .optional()?;
    Ok(role.map(Role::try_from).transpose()?)
}

/// Everyone in the connection's workspace, owners first, then by email.
pub fn members(conn: &mut WorkspaceConn<'_>) -> Result<Vec<Member>, DbError> {
    let workspace = conn.workspace_id().as_str().to_owned();
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
        .load::<(String, String, String, i64)>(conn.conn())?;
    let mut members = rows
        .into_iter()
        .map(|(id, email, role, joined_at)| {
            Ok(Member {
                user_id: UserId::from_trusted(id),
                email: Email::from_trusted(email),
                role: Role::try_from(role)?,
                joined_at,
            })
        })
        .collect::<Result<Vec<Member>, DbError>>()?;
    members.sort_by_key(|m| match m.role {
        Role::Owner => 0,
        Role::Admin => 1,
        Role::Member => 2,
    });
    Ok(members)
}
