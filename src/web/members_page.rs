//! `/settings/members`: who is in the workspace and who is invited; owners and admins invite
//! people, send invitations again or revoke them, change roles and remove people as their role
//! allows, and anyone may leave.

use super::PageError;
use super::breakable::Breakable;
use super::confirm::{self, Confirmation};
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields, PageQuery};
use super::layout::{FormState, Layout, Say, Section, human_time};
use crate::db::memberships::Member;
use crate::domain::{Action, Email, Invalid, InvitationId, Role, UserId, now};
use crate::people::{self, AccountError, MemberChange};
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
    /// The confirmation of leaving; none for the last owner, who may not.
    leave: Option<Confirmation>,
    error: Option<String>,
    form: FormState,
    /// What each role may do: a line per power, with owner, admin and member answers.
    powers: Vec<(&'static str, [bool; 3])>,
}

struct MemberRow {
    id: String,
    email: Breakable,
    role: Role,
    joined: String,
    last_active: String,
    you: bool,
    /// The roles the viewer may give this member, their current one included, in one order
    /// (owner, admin, member); just their own when there is nothing they could be given.
    roles: Vec<Role>,
    /// The confirmation of removing them, when the viewer may.
    remove: Option<Confirmation>,
}

struct InvitationRow {
    id: String,
    email: Breakable,
    role: Role,
    invited_by: String,
    expires: String,
    expired: bool,
    /// The confirmation of revoking it, when the viewer may send it again or revoke it.
    revoke: Option<Confirmation>,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (error, form) = say.split();
    let viewer = member.ctx.role;
    let workspace = &member.ctx.workspace.id;
    let listed = people::members(&state.db, workspace).await?;
    let last_owner = is_last_owner(member, &listed);
    let owners = listed.iter().filter(|m| m.role == Role::Owner).count();
    let members = listed
        .into_iter()
        .map(|m| {
            let you = m.user_id == member.ctx.user;
            let holds = m.role;
            // The only owner can take no other role: offered none.
            let only_owner = holds == Role::Owner && owners == 1;
            let roles = Role::ALL
                .into_iter()
                .filter(|to| {
                    *to == holds
                        || (!only_owner
                            && viewer.may(Action::ManageMember {
                                holds,
                                to: Some(*to),
                            }))
                })
                .collect::<Vec<_>>();
            MemberRow {
                id: m.user_id.to_string(),
                email: Breakable::new(m.email.as_str()),
                role: holds,
                joined: human_time(m.joined_at),
                last_active: m
                    .last_active_at
                    .map_or_else(|| "not recently".into(), human_time),
                remove: (!you && viewer.may(Action::ManageMember { holds, to: None }))
                    .then(|| remove_confirmation(&m)),
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
            email: Breakable::new(i.email.as_str()),
            role: i.role,
            invited_by: i
                .invited_by_email
                .map_or_else(|| "a former member".into(), |e| e.to_string()),
            expires: human_time(i.expires_at),
            expired: i.expires_at <= now,
            revoke: invite_roles
                .contains(&i.role)
                .then(|| revoke_invitation_confirmation(i.id.as_str(), i.email.as_str())),
        })
        .collect();
    let page = MembersPage {
        layout: Layout::for_member(state, member, Section::Members).await?,
        members,
        invitations,
        invite_roles,
        leave: (!last_owner).then(|| leave_confirmation(member.ctx.workspace.name.as_str())),
        error,
        form,
        powers: Action::EXPLAINED
            .iter()
            .map(|(line, action)| (*line, Role::ALL.map(|role| role.may(*action))))
            .collect(),
    };
    render(status, &page)
}

#[get("/settings/members")]
pub async fn list(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    page(&state, &member, StatusCode::OK, Say::Nothing).await
}

/// After a change: its one-line message on the list; the refusals this page explains in place,
/// on the page itself; anything else is a plain error page.
async fn answer(
    state: &AppState,
    member: &SignedInMember,
    outcome: Result<String, AccountError>,
) -> Result<HttpResponse, PageError> {
    let (status, why) = match outcome {
        Ok(message) => {
            member.session.flash(message)?;
            return Ok(see_other("/settings/members"));
        }
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

const LAST_OWNER_LEAVING: &str =
    "You are this workspace's only owner: make someone else an owner before you leave it.";

/// Whether the viewer is the one owner the workspace has (who may not leave it).
fn is_last_owner(member: &SignedInMember, members: &[Member]) -> bool {
    member.ctx.role == Role::Owner && members.iter().filter(|m| m.role == Role::Owner).count() == 1
}

/// A member of this workspace by the id in the address, or 404.
async fn one_member(
    state: &AppState,
    member: &SignedInMember,
    user_id: &UserId,
) -> Result<Member, PageError> {
    people::members(&state.db, &member.ctx.workspace.id)
        .await?
        .into_iter()
        .find(|m| &m.user_id == user_id)
        .ok_or(PageError::NotFound)
}

fn remove_confirmation(target: &Member) -> Confirmation {
    Confirmation::new(
        format!("Remove {} from the workspace?", target.email),
        "They lose access at once, and the API keys they made are revoked. They can \
                 come back only with a new invitation.",
        format!("/settings/members/{}/remove", target.user_id),
        "Remove member",
        "/settings/members",
    )
}

fn revoke_invitation_confirmation(id: &str, email: &str) -> Confirmation {
    Confirmation::new(
        format!("Revoke the invitation to {email}?"),
        "Its link stops working at once. You can invite them again later.",
        format!("/settings/members/invitations/{id}/revoke"),
        "Revoke invitation",
        "/settings/members",
    )
}

fn leave_confirmation(workspace: &str) -> Confirmation {
    Confirmation::new(
        format!("Leave {workspace}?"),
        "You lose access to it at once, and the API keys you made in it are revoked. \
                 You keep your account and your other workspaces.",
        "/settings/members/leave",
        "Leave workspace",
        "/settings/members",
    )
}

/// What changes for someone moved from one role to another, in the words of the powers list.
fn role_change_detail(from: Role, to: Role) -> String {
    let lines = |gained: bool| {
        Action::EXPLAINED
            .iter()
            .filter(|(_, action)| to.may(*action) == gained && from.may(*action) != gained)
            .map(|(line, _)| line.to_lowercase())
            .collect::<Vec<_>>()
    };
    let (gains, losses) = (lines(true), lines(false));
    let mut detail = String::new();
    if !gains.is_empty() {
        detail.push_str(&format!("They will be able to {}. ", gains.join("; ")));
    }
    if !losses.is_empty() {
        detail.push_str(&format!(
            "They will no longer be able to {}; the API keys they made act with the new role, \
             and their open invitations the new role could not send are revoked.",
            losses.join("; ")
        ));
    }
    detail.trim_end().to_owned()
}

/// A role as chosen: the confirmation's query and the change's form send the same field.
#[derive(Deserialize)]
pub struct RoleChoice {
    #[serde(default)]
    role: String,
}

impl RoleChoice {
    fn role(&self) -> Result<Role, PageError> {
        Role::parse(&self.role).ok_or_else(|| {
            PageError::BadRequest("Choose one of the roles: owner, admin or member.".into())
        })
    }
}

#[get("/settings/members/{user_id}/role")]
pub async fn confirm_role(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
    query: PageQuery<RoleChoice>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::parse(&user_id).ok_or(PageError::NotFound)?;
    let role = query.role()?;
    let target = one_member(&state, &member, &user_id).await?;
    if target.role == role {
        return Ok(see_other("/settings/members"));
    }
    if !member.ctx.role.may(Action::ManageMember {
        holds: target.role,
        to: Some(role),
    }) {
        return Err(PageError::Forbidden(
            "Your role in this workspace does not allow this.",
        ));
    }
    let confirmation = Confirmation::new(
        format!("Make {} {} {role}?", target.email, article(role)),
        role_change_detail(target.role, role),
        format!("/settings/members/{}/role", target.user_id),
        "Change role",
        "/settings/members",
    )
    .with_field("role", role.as_str());
    confirm::page(&state, &member, Section::Members, confirmation).await
}

#[get("/settings/members/{user_id}/remove")]
pub async fn confirm_remove(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::parse(&user_id).ok_or(PageError::NotFound)?;
    let target = one_member(&state, &member, &user_id).await?;
    if target.user_id == member.ctx.user
        || !member.ctx.role.may(Action::ManageMember {
            holds: target.role,
            to: None,
        })
    {
        return Err(PageError::Forbidden(
            "Your role in this workspace does not allow this.",
        ));
    }
    confirm::page(
        &state,
        &member,
        Section::Members,
        remove_confirmation(&target),
    )
    .await
}

#[get("/settings/members/invitations/{id}/revoke")]
pub async fn confirm_revoke(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let invitation = people::open_invitations(&state.db, &member.ctx.workspace.id)
        .await?
        .into_iter()
        .find(|i| i.id.as_str() == id.as_str())
        .ok_or(PageError::NotFound)?;
    if !member.ctx.role.may(Action::Invite {
        role: invitation.role,
    }) {
        return Err(PageError::Forbidden(
            "Your role in this workspace does not allow this.",
        ));
    }
    let confirmation =
        revoke_invitation_confirmation(invitation.id.as_str(), invitation.email.as_str());
    confirm::page(&state, &member, Section::Members, confirmation).await
}

#[get("/settings/members/leave")]
pub async fn confirm_leave(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    let listed = people::members(&state.db, &member.ctx.workspace.id).await?;
    if is_last_owner(&member, &listed) {
        return page(
            &state,
            &member,
            StatusCode::CONFLICT,
            Say::Error(LAST_OWNER_LEAVING.into()),
        )
        .await;
    }
    let confirmation = leave_confirmation(member.ctx.workspace.name.as_str());
    confirm::page(&state, &member, Section::Members, confirmation).await
}

#[post("/settings/members/{user_id}/role")]
pub async fn change_role(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
    form: CheckedForm<RoleChoice>,
) -> Result<HttpResponse, PageError> {
    let role = form.0.role()?;
    let user_id = UserId::parse(&user_id).ok_or(PageError::NotFound)?;
    let target = one_member(&state, &member, &user_id).await?;
    let change = MemberChange::Role(role);
    let outcome = change_member(&state, &member, &user_id, change)
        .await
        .map(|()| format!("{} is now {} {role}.", target.email, article(role)));
    answer(&state, &member, outcome).await
}

#[post("/settings/members/{user_id}/remove")]
pub async fn remove(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let user_id = UserId::parse(&user_id).ok_or(PageError::NotFound)?;
    let target = one_member(&state, &member, &user_id).await?;
    let outcome = change_member(&state, &member, &user_id, MemberChange::Remove)
        .await
        .map(|()| {
            format!(
                "{} was removed from the workspace; the API keys they made were revoked.",
                target.email
            )
        });
    answer(&state, &member, outcome).await
}

async fn change_member(
    state: &AppState,
    member: &SignedInMember,
    target: &UserId,
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
            member
                .session
                .flash(format!("You left {}.", member.ctx.workspace.name.as_str()))?;
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::LastOwner) => {
            let why = LAST_OWNER_LEAVING;
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
    let parsed = Email::parse(&form.email)
        .map_err(AccountError::from)
        .and_then(|email| {
            let role = Role::parse(form.role.trim())
                .ok_or_else(|| Invalid::new("role", "The role is owner, admin or member."))?;
            Ok((email, role))
        });
    let outcome: Result<String, AccountError> = match parsed {
        Ok((email, role)) => people::invite(
            &state.db,
            state.post(),
            &member.ctx.workspace.id,
            &member.who,
            email,
            role,
        )
        .await
        .map(|email| format!("An invitation was sent to {email}.")),
        Err(refused) => Err(refused),
    };
    // What concerns the form's own fields is said at the field, with what was typed kept.
    let (status, field, message) = match outcome {
        Err(AccountError::Invalid(invalid)) => {
            let field = if invalid.field == "role" {
                "role"
            } else {
                "email"
            };
            (StatusCode::BAD_REQUEST, field, invalid.message)
        }
        Err(AccountError::AlreadyMember) => (
            StatusCode::CONFLICT,
            "email",
            "That person is a member already.".into(),
        ),
        Err(AccountError::AlreadyInvited) => (
            StatusCode::CONFLICT,
            "email",
            "That address has an open invitation: send it again from the list below.".into(),
        ),
        other => return answer(&state, &member, other).await,
    };
    let refused = FormState::refused(field, message)
        .keep("email", form.email)
        .keep("role", form.role.trim());
    page(&state, &member, status, Say::Refused(refused)).await
}

#[post("/settings/members/invitations/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let Some(id) = InvitationId::parse(&id) else {
        return answer(&state, &member, Err(AccountError::NotFound)).await;
    };
    let outcome = people::resend_invitation(
        &state.db,
        state.post(),
        &member.ctx.workspace.id,
        &member.who,
        &id,
    )
    .await
    .map(|email| format!("The invitation to {email} was sent again, with a new link."));
    answer(&state, &member, outcome).await
}

#[post("/settings/members/invitations/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let Some(id) = InvitationId::parse(&id) else {
        return answer(&state, &member, Err(AccountError::NotFound)).await;
    };
    let outcome = people::revoke_invitation(&state.db, &member.ctx.workspace.id, &member.who, &id)
        .await
        .map(|email| format!("The invitation to {email} was revoked: its link no longer works."));
    answer(&state, &member, outcome).await
}

/// "an admin", "a member", "an owner".
fn article(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::Owner => "an",
        Role::Member => "a",
    }
}
