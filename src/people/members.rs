//! A workspace's members: changing a role, removing someone, leaving. Every change re-reads
//! both people's roles inside its own transaction, with the workspace held (see
//! `workspaces::lock`), so a decision is never made on a role that changed meanwhile.

use super::AccountError;
use super::signin::signed_in_as;
use crate::db::memberships::{self, Member};
use crate::db::{Database, Global, InWorkspace, WorkspaceConn, users, workspaces};
use crate::domain::{Action, Role, UserId, WorkspaceId};

/// What becomes of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    Role(Role),
    Remove,
}

/// Everyone in the workspace, owners first.
pub async fn members(db: &Database, workspace: &WorkspaceId) -> Result<Vec<Member>, AccountError> {
    Ok(db
        .read(InWorkspace(workspace.clone()), memberships::members)
        .await?)
}

/// `actor` changes `target`'s membership, as their role allows (removing oneself is leaving,
/// which anyone may). A change that would leave the workspace with no owner is refused.
pub async fn change_member(
    db: &Database,
    workspace: &WorkspaceId,
    actor: &UserId,
    target: &str,
    change: MemberChange,
) -> Result<(), AccountError> {
    let target = UserId::parse(target).ok_or(AccountError::NotFound)?;
    let actor = actor.clone();
    db.write(InWorkspace(workspace.clone()), move |conn| {
        decide(conn, &actor, &target, change)
    })
    .await
}

fn decide(
    conn: &mut WorkspaceConn<'_>,
    actor: &UserId,
    target: &UserId,
    change: MemberChange,
) -> Result<(), AccountError> {
    if !workspaces::lock(conn)? {
        return Err(AccountError::NotFound);
    }
    let actor_role = memberships::role_of(conn, actor)?.ok_or(AccountError::NotMember)?;
    let target_role = memberships::role_of(conn, target)?.ok_or(AccountError::NotFound)?;
    let leaving = actor == target && change == MemberChange::Remove;
    let to = match change {
        MemberChange::Role(role) => Some(role),
        MemberChange::Remove => None,
    };
    if to == Some(target_role) {
        return Ok(());
    }
    let action = Action::ManageMember {
        holds: target_role,
        to,
    };
    if !leaving && !actor_role.may(action) {
        return Err(AccountError::NotAllowed);
    }
    if target_role == Role::Owner && memberships::owners(conn)? <= 1 {
        return Err(AccountError::LastOwner);
    }
    let done = match to {
        Some(role) => memberships::set_role(conn, target, role)?,
        None => memberships::remove(conn, target)?,
    };
    if done {
        Ok(())
    } else {
        Err(AccountError::NotFound)
    }
}

/// Takes the user out of the workspace (not its last owner) and answers the workspace they are
/// in now: their oldest remaining one, or a new one of their own.
pub async fn leave_workspace(
    db: &Database,
    workspace: &WorkspaceId,
    user: &UserId,
) -> Result<WorkspaceId, AccountError> {
    change_member(db, workspace, user, user.as_str(), MemberChange::Remove).await?;
    let who = user.clone();
    let found = db
        .read(Global, move |conn| users::find(conn, &who))
        .await?
        .ok_or(AccountError::NotFound)?;
    Ok(signed_in_as(db, found.id, found.email).await?.workspace)
}
