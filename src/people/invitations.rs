//! Invitations: an owner or admin invites an email address with a role; the link sent there
//! (single use, seven days) lets a new person sign up with that address, already verified by
//! the click, or an existing user who signs in as that address join.
//!
//! Every step re-reads what it depends on in its own transaction, with the workspace held: the
//! inviter's role when inviting and again when the link is used (an invitation outlives neither
//! the inviter's membership nor their power to invite with that role).

use super::AccountError;
use super::email_links::{link, send_later};
use super::signin::SignedIn;
use crate::audit::{self, Event, Who};
use crate::auth::password::PasswordHashing;
use crate::auth::throttle;
use crate::crypto::{random_token, sha256_hex};
use crate::db::invitations::{self, Invitation, NewInvitation};
use crate::db::{
    ByInvitationDigest, Database, DbError, InWorkspace, WorkspaceConn, memberships, users,
    workspaces,
};
use crate::domain::{Action, Email, InvitationId, Password, Role, UserId, WorkspaceId, now};
use crate::mail::OutgoingEmail;

pub const INVITATION_TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// Longer than any token this service makes; a longer one is refused without a query.
const MAX_TOKEN_CHARS: usize = 128;

pub use crate::mail::Post;

/// `who` invites `email` to join `workspace` as `role`, and the link goes out by email.
pub async fn invite(
    db: &Database,
    post: Post<'_>,
    workspace: &WorkspaceId,
    who: &Who,
    email: Email,
    role: Role,
) -> Result<Email, AccountError> {
    let inviter = who.user_id().cloned().ok_or(AccountError::NotAllowed)?;
    let token = random_token();
    let (invitee, digest, who_then, ws) = (
        email.clone(),
        sha256_hex(&token),
        who.clone(),
        workspace.clone(),
    );
    let workspace_name = db
        .write(InWorkspace(workspace.clone()), move |conn| {
            let name = held_workspace(conn)?;
            let role_now = memberships::role_of(conn, &inviter)?.ok_or(AccountError::NotMember)?;
            if !role_now.may(Action::Invite { role }) {
                return Err(AccountError::NotAllowed);
            }
            let sender = confirmed_sender(conn, &inviter)?;
            if is_member(conn, &invitee)? {
                return Err(AccountError::AlreadyMember);
            }
            if invitations::open(conn)?.iter().any(|i| i.email == invitee) {
                return Err(AccountError::AlreadyInvited);
            }
            admit(conn, &ws, &invitee, &sender)?;
            let now = now();
            invitations::insert(
                conn,
                NewInvitation {
                    id: &InvitationId::generate(),
                    email: &invitee,
                    role,
                    token_digest: &digest,
                    invited_by: &inviter,
                    now,
                    expires_at: now + INVITATION_TTL_SECS,
                },
            )?;
            let detail = format!("as {role}");
            audit::record(
                conn,
                &who_then,
                Event::MemberInvited,
                invitee.as_str(),
                Some(&detail),
            )?;
            Ok(name)
        })
        .await?;
    send(post, &email, who, &workspace_name, role, &token);
    Ok(email)
}

/// Sends an open invitation again with a new link (the old one stops working) and seven more
/// days.
pub async fn resend_invitation(
    db: &Database,
    post: Post<'_>,
    workspace: &WorkspaceId,
    who: &Who,
    id: &InvitationId,
) -> Result<Email, AccountError> {
    let id = id.clone();
    let actor = who.user_id().cloned().ok_or(AccountError::NotAllowed)?;
    let token = random_token();
    let (digest, who_then, ws) = (sha256_hex(&token), who.clone(), workspace.clone());
    let (invitation, workspace_name) = db
        .write(InWorkspace(workspace.clone()), move |conn| {
            let name = held_workspace(conn)?;
            let invitation = open_invitation(conn, &actor, &id)?;
            let sender = confirmed_sender(conn, &actor)?;
            admit(conn, &ws, &invitation.email, &sender)?;
            if !invitations::reissue(conn, &id, &digest, now() + INVITATION_TTL_SECS)? {
                return Err(AccountError::NotFound);
            }
            audit::record(
                conn,
                &who_then,
                Event::InvitationResent,
                invitation.email.as_str(),
                None,
            )?;
            Ok((invitation, name))
        })
        .await?;
    send(
        post,
        &invitation.email,
        who,
        &workspace_name,
        invitation.role,
        &token,
    );
    Ok(invitation.email)
}

/// Revokes an open invitation: its link stops working at once.
pub async fn revoke_invitation(
    db: &Database,
    workspace: &WorkspaceId,
    who: &Who,
    id: &InvitationId,
) -> Result<Email, AccountError> {
    let id = id.clone();
    let actor = who.user_id().cloned().ok_or(AccountError::NotAllowed)?;
    let who_then = who.clone();
    db.write(InWorkspace(workspace.clone()), move |conn| {
        held_workspace(conn)?;
        let invitation = open_invitation(conn, &actor, &id)?;
        if !invitations::revoke(conn, &id, now())? {
            return Err(AccountError::NotFound);
        }
        audit::record(
            conn,
            &who_then,
            Event::InvitationRevoked,
            invitation.email.as_str(),
            None,
        )?;
        Ok(invitation.email)
    })
    .await
}

/// The workspace's open invitations, newest first.
pub async fn open_invitations(
    db: &Database,
    workspace: &WorkspaceId,
) -> Result<Vec<Invitation>, AccountError> {
    Ok(db
        .read(InWorkspace(workspace.clone()), invitations::open)
        .await?)
}

/// What an invitation link leads to, for the page that opens it.
#[derive(Debug)]
pub enum LinkState {
    Live {
        invitation: Box<Invitation>,
        workspace_name: String,
        /// Whether the invited address has an account already (then they sign in to join).
        has_account: bool,
    },
    /// Accepted already, into this workspace.
    Used {
        workspace: WorkspaceId,
    },
    Revoked,
    Expired,
}

/// Looks the link up without spending it. An unknown token (never made, or replaced by a newer
/// link) is [`AccountError::InvalidToken`].
pub async fn invitation_link(db: &Database, token: &str) -> Result<LinkState, AccountError> {
    let digest = digest_of(token)?;
    db.read(ByInvitationDigest(digest), |conn| {
        let invitation = invitations::find_by_digest(conn)?.ok_or(AccountError::InvalidToken)?;
        let has_account = users::find_by_email(&mut conn.global(), &invitation.email)?.is_some();
        let mut ws = conn.enter_workspace(invitation.workspace_id.clone())?;
        let Some(workspace) = workspaces::current(&mut ws)? else {
            return Err(AccountError::InvalidToken);
        };
        Ok(match state_of(&mut ws, &invitation, now())? {
            Some(closed) => closed,
            None => LinkState::Live {
                invitation: Box::new(invitation),
                workspace_name: workspace.name.to_string(),
                has_account,
            },
        })
    })
    .await
}

/// A signed-in user joins through the link, which must be for their own address. Answers the
/// workspace they joined (or were in already).
pub async fn accept_invitation(
    db: &Database,
    token: &str,
    who: &Who,
) -> Result<WorkspaceId, AccountError> {
    let digest = digest_of(token)?;
    let audit::Actor::User { id: user, email } = who.actor.clone() else {
        return Err(AccountError::NotAllowed);
    };
    let who = who.clone();
    db.write(ByInvitationDigest(digest), move |conn| {
        let invitation = invitations::find_by_digest(conn)?.ok_or(AccountError::InvalidToken)?;
        if invitation.email != email {
            return Err(AccountError::OtherAccount(invitation.email));
        }
        // The click proves the address as well as a verification link would.
        users::mark_email_verified(&mut conn.global(), &user, now())?;
        let mut ws = conn.enter_workspace(invitation.workspace_id.clone())?;
        join(&mut ws, &invitation, &user, &who)?;
        Ok(invitation.workspace_id)
    })
    .await
}

/// A new person signs up through the link: their email is the invited one, verified by the
/// click, and their first workspace is the one they were invited to.
pub async fn sign_up_by_invitation(
    db: &Database,
    hashing: &PasswordHashing,
    token: &str,
    password: String,
    client_address: &str,
) -> Result<SignedIn, AccountError> {
    let digest = digest_of(token)?;
    let password = Password::new_password(password)?;
    // Checked before any hashing, so a dead link costs no hash; checked again below.
    let invitee = match invitation_link(db, token).await? {
        LinkState::Live { invitation, .. } => invitation.email,
        closed => return Err(closed.refusal()),
    };
    let place = hashing.reserve_for_new_password()?;
    let address = client_address.to_owned();
    if !db
        .write(crate::db::Global, move |conn| {
            throttle::admit_signup(conn, &address, now())
        })
        .await?
    {
        return Err(AccountError::Throttled);
    }
    let password_hash = place.hash(password).await?;
    let user = UserId::generate();
    let who = Who::user(user.clone(), invitee.clone(), client_address);
    let joined = db
        .write(ByInvitationDigest(digest), move |conn| {
            let invitation =
                invitations::find_by_digest(conn)?.ok_or(AccountError::InvalidToken)?;
            let now = now();
            let mut global = conn.global();
            users::insert(
                &mut global,
                &user,
                &invitation.email,
                Some(&password_hash),
                now,
            )?;
            users::mark_email_verified(&mut global, &user, now)?;
            let mut ws = conn.enter_workspace(invitation.workspace_id.clone())?;
            join(&mut ws, &invitation, &user, &who)?;
            Ok::<_, AccountError>(SignedIn {
                user,
                workspace: invitation.workspace_id,
                email: invitation.email,
            })
        })
        .await;
    match joined {
        Err(AccountError::Storage(DbError::UniqueViolation)) => Err(AccountError::EmailTaken),
        other => other,
    }
}

/// Spends the invitation and makes `user` a member with its role, unless they are one already
/// (then their role stays as it is). Refused when the link is no longer live.
fn join(
    conn: &mut WorkspaceConn<'_>,
    invitation: &Invitation,
    user: &UserId,
    who: &Who,
) -> Result<(), AccountError> {
    if !workspaces::lock(conn)? {
        return Err(AccountError::InvalidToken);
    }
    let now = now();
    if let Some(closed) = state_of(conn, invitation, now)? {
        return Err(closed.refusal());
    }
    if !invitations::accept(conn, &invitation.id, user, now)? {
        return Err(AccountError::InvalidToken);
    }
    if memberships::role_of(conn, user)?.is_none() {
        memberships::add(conn, user, invitation.role, now)?;
        let detail = format!("as {}", invitation.role);
        audit::record(
            conn,
            who,
            Event::MemberJoined,
            invitation.email.as_str(),
            Some(&detail),
        )?;
        crate::db::webhooks::emit(
            conn,
            &crate::domain::WebhookEvent::member(
                crate::domain::EventType::MemberJoined,
                user,
                invitation.email.as_str(),
                invitation.role,
                None,
            ),
            None,
            now,
        )?;
    }
    Ok(())
}

/// Why a link can no longer be used, or `None` while it can: accepted, revoked, past its seven
/// days, or its inviter no longer a member who may invite with its role (as good as revoked).
fn state_of(
    conn: &mut WorkspaceConn<'_>,
    invitation: &Invitation,
    now: i64,
) -> Result<Option<LinkState>, DbError> {
    if invitation.accepted_at.is_some() {
        return Ok(Some(LinkState::Used {
            workspace: invitation.workspace_id.clone(),
        }));
    }
    if invitation.revoked_at.is_some() {
        return Ok(Some(LinkState::Revoked));
    }
    if invitation.expires_at <= now {
        return Ok(Some(LinkState::Expired));
    }
    let inviter_may = match &invitation.invited_by {
        Some(inviter) => memberships::role_of(conn, inviter)?.is_some_and(|role| {
            role.may(Action::Invite {
                role: invitation.role,
            })
        }),
        None => false,
    };
    Ok((!inviter_may).then_some(LinkState::Revoked))
}

impl LinkState {
    /// Why a link that is not live cannot be used, as the error the pages explain.
    pub fn refusal(self) -> AccountError {
        match self {
            LinkState::Used { .. } => AccountError::InvitationUsed,
            LinkState::Revoked => AccountError::InvitationRevoked,
            LinkState::Expired => AccountError::InvitationExpired,
            LinkState::Live { .. } => AccountError::InvalidToken,
        }
    }
}

fn digest_of(token: &str) -> Result<String, AccountError> {
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(AccountError::InvalidToken);
    }
    Ok(sha256_hex(token))
}

/// Holds the workspace for the rest of the transaction (see `workspaces::lock`) and answers its
/// name.
fn held_workspace(conn: &mut WorkspaceConn<'_>) -> Result<String, AccountError> {
    if !workspaces::lock(conn)? {
        return Err(AccountError::NotFound);
    }
    let workspace = workspaces::current(conn)?.ok_or(AccountError::NotFound)?;
    Ok(workspace.name.to_string())
}

/// An open invitation that `actor`'s role may manage (send again or revoke): one with a role
/// they could give themselves.
fn open_invitation(
    conn: &mut WorkspaceConn<'_>,
    actor: &UserId,
    id: &InvitationId,
) -> Result<Invitation, AccountError> {
    let role = memberships::role_of(conn, actor)?.ok_or(AccountError::NotMember)?;
    let invitation = invitations::get(conn, id)?
        .filter(Invitation::is_open)
        .ok_or(AccountError::NotFound)?;
    if !role.may(Action::Invite {
        role: invitation.role,
    }) {
        return Err(AccountError::NotAllowed);
    }
    Ok(invitation)
}

fn is_member(conn: &mut WorkspaceConn<'_>, email: &Email) -> Result<bool, DbError> {
    Ok(memberships::members(conn)?
        .iter()
        .any(|m| m.email == *email))
}

/// The user sending an invitation, once it is clear they proved their own address: until then
/// an account reaches nobody else's inbox.
fn confirmed_sender(
    conn: &mut WorkspaceConn<'_>,
    user: &UserId,
) -> Result<users::User, AccountError> {
    let user = users::find(&mut conn.global(), user)?.ok_or(AccountError::NotMember)?;
    if !user.email_verified {
        return Err(AccountError::EmailUnconfirmed);
    }
    Ok(user)
}

fn admit(
    conn: &mut WorkspaceConn<'_>,
    workspace: &WorkspaceId,
    email: &Email,
    sender: &users::User,
) -> Result<(), AccountError> {
    if throttle::admit_invitation(&mut conn.global(), workspace.as_str(), email, sender, now())? {
        Ok(())
    } else {
        Err(AccountError::Throttled)
    }
}

fn send(post: Post<'_>, to: &Email, inviter: &Who, workspace_name: &str, role: Role, token: &str) {
    let link = link(post.public_url, "/invitation", token);
    // The inviter by their address: a person's own choice of name could pose as anyone.
    let by = match &inviter.actor {
        audit::Actor::User { email, .. } => email.to_string(),
        _ => "A member".to_owned(),
    };
    let message = OutgoingEmail {
        to: to.clone(),
        subject: format!(
            "{by} invited you to \u{201c}{}\u{201d} on Socializer",
            crate::mail::subject_cut(workspace_name)
        ),
        body: format!(
            "{by} invited you to join the workspace \"{workspace_name}\" on Socializer as \
             {article} {role}.\n\n\
             Open this link within 7 days to accept:\n\n{link}\n\n\
             If you did not expect this invitation, ignore this message.",
            article = if role == Role::Member { "a" } else { "an" },
        ),
        link: Some(link),
    };
    send_later(post.mailer, message, "invitation");
}
