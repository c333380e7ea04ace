//! `/settings/members`: who is in the workspace and who is invited; owners and admins invite
//! people, send invitations again or revoke them, change roles and remove people as their role
//! allows, and anyone may leave.

use super::PageError;
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, Done, NoFields, PageQuery};
use super::layout::{Layout, Say, human_time};
use crate::domain::{Action, Role, now};
use crate::people::{self, AccountError, MemberChange, Post};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    layout: Layout,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    /// The roles the viewer may invite with; empty: no invite form.
    invite_roles: Vec<Role>,
    notice: Option<String>,
    error: Option<String>,
}

struct MemberRow {
    id: String,
    email: String,
    role: Role,
    joined: String,
    last_active: String,
    you: bool,
    /// The roles the viewer may give this member (their current one included, first).
    roles: Vec<Role>,
    removable: bool,
}

struct InvitationRow {
    id: String,
    email: String,
    role: Role,
    invited_by: String,
    expires: String,
    expired: bool,
    /// Whether the viewer may send it again or revoke it.
    manageable: bool,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (notice, error) = say.split();
    let viewer = member.ctx.role;
    let workspace = &member.ctx.workspace.id;
    let members = people::members(&state.db, workspace)
        .await?
        .into_iter()
        .map(|m| {
            let you = m.user_id == member.ctx.user;
            let holds = m.role;
            let roles = std::iter::once(holds)
                .chain(Role::ALL.into_iter().filter(|to| {
                    *to != holds
                        && viewer.may(Action::ManageMember {
                            holds,
                            to: Some(*to),
                        })
                }))
                .collect::<Vec<_>>();
            MemberRow {
                id: m.user_id.to_string(),
                email: m.email.to_string(),
                role: holds,
                joined: human_time(m.joined_at),
                last_active: m
                    .last_active_at
                    .map_or_else(|| "not recently".into(), human_time),
                removable: !you && viewer.may(Action::ManageMember { holds, to: None }),
                roles,
                you,
            }
        })
        .collect();
    let invite_roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|role| viewer.may(Action::Invite { role: *role }))
        .collect();
    let now = now();
    let invitations = people::open_invitations(&state.db, workspace)
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id.to_string(),
            email: i.email.to_string(),
            role: i.role,
            invited_by: i
                .invited_by_email
                .map_or_else(|| "a former member".into(), |e| e.to_string()),
            expires: human_time(i.expires_at),
            expired: i.expires_at <= now,
            manageable: invite_roles.contains(&i.role),
        })
        .collect();
    let page = MembersPage {
        layout: Layout::signed_in(member.csrf()?, member.email.clone(), &member.ctx),
        members,
        invitations,
        invite_roles,
        notice,
        error,
    };
    render(status, &page)
}

#[get("/settings/members")]
pub async fn list(
    state: web::Data<AppState>,
    member: SignedInMember,
    done: PageQuery<Done>,
) -> Result<HttpResponse, PageError> {
    let say = match done.done() {
        Some("role-changed") => Say::Notice("The role was changed.".into()),
        Some("removed") => Say::Notice(
            "The member was removed from the workspace, and the API keys they made were revoked."
                .into(),
        ),
        Some("invited") => Say::Notice("The invitation was sent.".into()),
        Some("resent") => Say::Notice("The invitation was sent again, with a new link.".into()),
        Some("invitation-revoked") => {
            Say::Notice("The invitation was revoked: its link no longer works.".into())
        }
        _ => Say::Nothing,
    };
    page(&state, &member, StatusCode::OK, say).await
}

/// The refusals this page explains in place, on the page itself; anything else is a plain
/// error page.
async fn answer(
    state: &AppState,
    member: &SignedInMember,
    outcome: Result<(), AccountError>,
    done: &str,
) -> Result<HttpResponse, PageError> {
    let (status, why) = match outcome {
        Ok(()) => return Ok(see_other(&format!("/settings/members?done={done}"))),
        Err(AccountError::LastOwner) => (
            StatusCode::CONFLICT,
            "A workspace always keeps an owner: make someone else an owner first.".to_owned(),
        ),
        Err(AccountError::AlreadyMember) => (
            StatusCode::CONFLICT,
            "That person is a member already.".to_owned(),
        ),
        Err(AccountError::AlreadyInvited) => (
            StatusCode::CONFLICT,
            "That address has an open invitation: send it again from the list below.".to_owned(),
        ),
        Err(AccountError::Invalid(invalid)) => (StatusCode::BAD_REQUEST, invalid.message),
        Err(AccountError::Throttled) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many invitations were sent in the last hour. Try again later.".to_owned(),
        ),
        Err(other) => return Err(other.into()),
    };
    let mut response = page(state, member, status, Say::Error(why)).await?;
    if status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            crate::auth::throttle::INVITATION_WINDOW_SECS.into(),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

#[post("/settings/members/{user_id}/role")]
pub async fn change_role(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
    form: CheckedForm<RoleForm>,
) -> Result<HttpResponse, PageError> {
    let Some(role) = Role::parse(&form.0.role) else {
        return Err(PageError::BadRequest(
            "Choose one of the roles: owner, admin or member.".into(),
        ));
    };
    let change = MemberChange::Role(role);
    let outcome = change_member(&state, &member, &user_id, change).await;
    answer(&state, &member, outcome, "role-changed").await
}

#[post("/settings/members/{user_id}/remove")]
pub async fn remove(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let outcome = change_member(&state, &member, &user_id, MemberChange::Remove).await;
    answer(&state, &member, outcome, "removed").await
}

async fn change_member(
    state: &AppState,
    member: &SignedInMember,
    target: &str,
    change: MemberChange,
) -> Result<(), AccountError> {
    let workspace = &member.ctx.workspace.id;
    people::change_member(
        &state.db,
        &state.key_cache,
        workspace,
        &member.who,
        target,
        change,
    )
    .await
}

#[post("/settings/members/leave")]
pub async fn leave(
    state: web::Data<AppState>,
    member: SignedInMember,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let workspace = &member.ctx.workspace.id;
    match people::leave_workspace(&state.db, &state.key_cache, workspace, &member.who).await {
        Ok(next) => {
            member.session.set_workspace(&next)?;
            Ok(see_other("/dashboard?done=left"))
        }
        Err(AccountError::LastOwner) => {
            let why =
                "You are this workspace's only owner: make someone else an owner before you leave.";
            page(
                &state,
                &member,
                StatusCode::CONFLICT,
                Say::Error(why.into()),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[post("/settings/members/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<InviteForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.0;
    let outcome = people::invite(
        &state.db,
        post_office(&state),
        &member.ctx.workspace.id,
        &member.who,
        &form.email,
        &form.role,
    )
    .await
    .map(drop);
    answer(&state, &member, outcome, "invited").await
}

#[post("/settings/members/invitations/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let outcome = people::resend_invitation(
        &state.db,
        post_office(&state),
        &member.ctx.workspace.id,
        &member.who,
        &id,
    )
    .await
    .map(drop);
    answer(&state, &member, outcome, "resent").await
}

#[post("/settings/members/invitations/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let outcome = people::revoke_invitation(&state.db, &member.ctx.workspace.id, &member.who, &id)
        .await
        .map(drop);
    answer(&state, &member, outcome, "invitation-revoked").await
}

fn post_office(state: &AppState) -> Post<'_> {
    Post {
        mailer: &state.mailer,
        public_url: &state.public_url,
    }
}
