//! A workspace's members: changing a role, removing someone, leaving. Every change re-reads
//! both people's roles inside its own transaction, with the workspace held (see
//! `workspaces::lock`), so a decision is never made on a role that changed meanwhile.

use super::AccountError;
use super::signin::signed_in_as;
use crate::audit::{self, Event, Who};
use crate::db::memberships::{self, Member};
use crate::db::{
    Database, Global, InWorkspace, WorkspaceConn, api_keys, invitations, users, workspaces,
};
use crate::domain::{Action, Role, UserId, WorkspaceId, now};
use crate::keys::KeyCache;

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

/// `who` changes `target`'s membership, as their role allows (removing oneself is leaving,
/// which anyone may). A change that would leave the workspace with no owner is refused.
///
/// Keys act with their creator's role, so the workspace's cached keys are forgotten after any
/// change; removing someone revokes every key they made (and the keys those made), and a
/// demotion revokes the open invitations the new role could not have sent.
pub async fn change_member(
    db: &Database,
    cache: &KeyCache,
    workspace: &WorkspaceId,
    who: &Who,
    target: &UserId,
    change: MemberChange,
) -> Result<(), AccountError> {
    let target = target.clone();
    let actor = who.user_id().cloned().ok_or(AccountError::NotAllowed)?;
    let who = who.clone();
    let changed = db
        .write(InWorkspace(workspace.clone()), move |conn| {
            decide(conn, &who, &actor, &target, change)
        })
        .await;
    // Also after a failure: a key must never act on a role older than the database's.
    cache.forget_workspace(workspace);
    changed
}

fn decide(
    conn: &mut WorkspaceConn<'_>,
    who: &Who,
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
    let action = Action::ManageMember {
        holds: target_role,
        to,
    };
    // Asked before anything else, so that a change that would change nothing is still refused
    // to whoever may not make it.
    if !leaving && !actor_role.may(action) {
        return Err(AccountError::NotAllowed);
    }
    if to == Some(target_role) {
        return Ok(());
    }
    if target_role == Role::Owner && memberships::owners(conn)? <= 1 {
        return Err(AccountError::LastOwner);
    }
    let email = users::find(&mut conn.global(), target)?
        .map(|u| u.email.to_string())
        .unwrap_or_else(|| target.to_string());
    let done = match to {
        Some(role) => memberships::set_role(conn, target, role)?,
        None => memberships::remove(conn, target)?,
    };
    if !done {
        return Err(AccountError::NotFound);
    }
    match to {
        Some(role) => {
            let detail = format!("{target_role} to {role}");
            audit::record(conn, who, Event::MemberRoleChanged, &email, Some(&detail))?;
            withdraw_invitations(conn, who, target, role)?;
        }
        None => {
            let (event, why) = if leaving {
                (Event::MemberLeft, "its creator left the workspace")
            } else {
                (
                    Event::MemberRemoved,
                    "its creator was removed from the workspace",
                )
            };
            audit::record(conn, who, event, &email, None)?;
            let reason = if leaving { "left" } else { "removed" };
            crate::db::webhooks::emit(
                conn,
                &crate::domain::WebhookEvent::member(
                    crate::domain::EventType::MemberRemoved,
                    target,
                    &email,
                    target_role,
                    Some(reason),
                ),
                None,
                now(),
            )?;
            for key in api_keys::revoke_made_by(conn, target, now())? {
                crate::db::webhooks::emit_key_revoked(conn, &key, "creator_departed", now())?;
                let name = format!(
                    "{} ({})",
                    audit::masked_key(key.mode, &key.last4),
                    key.label
                );
                audit::record(conn, who, Event::KeyRevoked, &name, Some(why))?;
            }
            withdraw_invitations(conn, who, target, None)?;
        }
    }
    Ok(())
}

/// Revokes the open invitations `inviter` sent that `role` (none: they left) could not send.
fn withdraw_invitations(
    conn: &mut WorkspaceConn<'_>,
    who: &Who,
    inviter: &UserId,
    role: impl Into<Option<Role>>,
) -> Result<(), AccountError> {
    let role = role.into();
    for invitation in invitations::open(conn)? {
        let allowed = role.is_some_and(|r| {
            r.may(Action::Invite {
                role: invitation.role,
            })
        });
        if invitation.invited_by.as_ref() != Some(inviter) || allowed {
            continue;
        }
        if invitations::revoke(conn, &invitation.id, now())? {
            audit::record(
                conn,
                who,
                Event::InvitationRevoked,
                invitation.email.as_str(),
                Some("its inviter may no longer invite with this role"),
            )?;
        }
    }
    Ok(())
}

/// Takes the user out of the workspace (not its last owner) and answers the workspace they are
/// in now: their oldest remaining one, or a new one of their own.
pub async fn leave_workspace(
    db: &Database,
    cache: &KeyCache,
    workspace: &WorkspaceId,
    who: &Who,
) -> Result<WorkspaceId, AccountError> {
    let user = who.user_id().cloned().ok_or(AccountError::NotAllowed)?;
    change_member(db, cache, workspace, who, &user, MemberChange::Remove).await?;
    workspace_after_leaving(db, &user).await
}

/// Where a user goes after leaving a workspace (or deleting it): their oldest remaining one, or
/// a new one of their own.
pub async fn workspace_after_leaving(
    db: &Database,
    user: &UserId,
) -> Result<WorkspaceId, AccountError> {
    let user = user.clone();
    let found = db
        .read(Global, move |conn| users::find(conn, &user))
        .await?
        .ok_or(AccountError::NotFound)?;
    Ok(signed_in_as(db, found.id, found.email).await?.workspace)
}
