//! The owner of an address takes back an account that was opened with it before anybody proved
//! the address (a reset link reached the inbox, or the provider vouched for it). Whatever the
//! account did meanwhile was done by whoever typed the address: its keys, its invitations and
//! the people who joined through them are removed, and the owner is told what went.

use super::AccountError;
use crate::audit::{self, Event, Who};
use crate::db::{
    AsUser, Database, GlobalConn, WorkspaceConn, api_keys, invitations, memberships, workspaces,
};
use crate::domain::{Email, Role, UserId, WorkspaceId};
use crate::keys::KeyCache;

/// What was removed when an unconfirmed account was taken back, as its owner is shown it.
#[derive(Debug, Default, Clone)]
pub struct TakenBack {
    /// `“label” (sk_live_…a1b2)`.
    pub keys: Vec<String>,
    /// The addresses of invitations revoked.
    pub invitations: Vec<String>,
    /// The addresses of people removed who had joined through the account's invitations.
    pub members: Vec<String>,
    /// The workspaces touched, whose cached keys must be forgotten.
    workspaces: Vec<WorkspaceId>,
}

impl TakenBack {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.invitations.is_empty() && self.members.is_empty()
    }

    /// One sentence for the page the owner lands on, or `None` when nothing was there.
    pub fn summary(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if !self.keys.is_empty() {
            parts.push(format!("API keys revoked: {}", self.keys.join(", ")));
        }
        if !self.invitations.is_empty() {
            parts.push(format!(
                "invitations revoked: {}",
                self.invitations.join(", ")
            ));
        }
        if !self.members.is_empty() {
            parts.push(format!(
                "people removed who joined through them: {}",
                self.members.join(", ")
            ));
        }
        Some(format!(
            "Before you confirmed this address, someone used it here. What they set up is gone: \
             {}.",
            parts.join("; ")
        ))
    }

    /// Forgets the cached keys of every workspace touched (after the transaction committed).
    pub fn forget_cached(&self, cache: &KeyCache) {
        for workspace in &self.workspaces {
            cache.forget_workspace(workspace);
        }
    }
}

/// The workspaces `user` belongs to, read before the transaction that takes the account back.
pub(super) async fn workspaces_of(
    db: &Database,
    user: &UserId,
) -> Result<Vec<WorkspaceId>, AccountError> {
    Ok(db
        .read(AsUser(user.clone()), workspaces::list_for_user)
        .await?
        .into_iter()
        .map(|(workspace, _)| workspace.id)
        .collect())
}

/// Undoes, in each of `workspaces`, what `user` did before their address was proved: every key
/// they made (and the keys those made), every open invitation they sent, and the membership of
/// everyone who joined through one. A workspace left with no owner gets `user` as its owner.
pub(super) fn take_back(
    conn: &mut GlobalConn<'_>,
    user: &UserId,
    email: &Email,
    workspaces: &[WorkspaceId],
    now: i64,
) -> Result<TakenBack, AccountError> {
    let mut taken = TakenBack::default();
    let who = Who::service();
    for workspace in workspaces {
        let mut conn = conn.enter_workspace(workspace.clone())?;
        if !workspaces::lock(&mut conn)? || memberships::role_of(&mut conn, user)?.is_none() {
            continue;
        }
        taken.workspaces.push(workspace.clone());
        let why = "made before its creator's address was confirmed; the address's owner took \
                   the account back";
        taken
            .keys
            .extend(revoke_keys_of(&mut conn, &who, user, why, now)?);
        for invitation in invitations::sent_by(&mut conn, user)? {
            if invitation.is_open() {
                if invitations::revoke(&mut conn, &invitation.id, now)? {
                    audit::record(
                        &mut conn,
                        &who,
                        Event::InvitationRevoked,
                        invitation.email.as_str(),
                        Some("sent before its sender's address was confirmed"),
                    )?;
                    taken.invitations.push(invitation.email.to_string());
                }
                continue;
            }
            let Some(joined) = invitation.accepted_by.filter(|j| j != user) else {
                continue;
            };
            let joined_role = memberships::role_of(&mut conn, &joined)?;
            if memberships::remove(&mut conn, &joined)? {
                crate::db::webhooks::emit(
                    &mut conn,
                    &crate::domain::WebhookEvent::member(
                        crate::domain::EventType::MemberRemoved,
                        &joined,
                        invitation.email.as_str(),
                        joined_role.unwrap_or(invitation.role),
                        Some("removed"),
                    ),
                    None,
                    now,
                )?;
                audit::record(
                    &mut conn,
                    &who,
                    Event::MemberRemoved,
                    invitation.email.as_str(),
                    Some(
                        "joined through an invitation sent before its sender's address was confirmed",
                    ),
                )?;
                let why = "its creator was removed from the workspace";
                taken
                    .keys
                    .extend(revoke_keys_of(&mut conn, &who, &joined, why, now)?);
                for sent in invitations::sent_by(&mut conn, &joined)? {
                    if sent.is_open() && invitations::revoke(&mut conn, &sent.id, now)? {
                        audit::record(
                            &mut conn,
                            &who,
                            Event::InvitationRevoked,
                            sent.email.as_str(),
                            Some("its inviter was removed from the workspace"),
                        )?;
                        taken.invitations.push(sent.email.to_string());
                    }
                }
                taken.members.push(invitation.email.to_string());
            }
        }
        if memberships::owners(&mut conn)? == 0 {
            memberships::set_role(&mut conn, user, Role::Owner)?;
            audit::record(
                &mut conn,
                &who,
                Event::MemberRoleChanged,
                email.as_str(),
                Some("made owner again: every other owner was removed"),
            )?;
        }
    }
    Ok(taken)
}

/// Revokes every key `user` made here and the keys those made, each with an audit entry.
fn revoke_keys_of(
    conn: &mut WorkspaceConn<'_>,
    who: &Who,
    user: &UserId,
    why: &str,
    now: i64,
) -> Result<Vec<String>, AccountError> {
    let mut names = Vec::new();
    for key in api_keys::revoke_made_by(conn, user, now)? {
        crate::db::webhooks::emit_key_revoked(conn, &key, "creator_departed", now)?;
        let masked = audit::masked_key(key.mode, &key.last4);
        audit::record(
            conn,
            who,
            Event::KeyRevoked,
            &format!("{masked} ({})", key.label),
            Some(why),
        )?;
        names.push(format!("\u{201c}{}\u{201d} ({masked})", key.label));
    }
    Ok(names)
}
