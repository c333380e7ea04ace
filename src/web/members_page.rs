//! `/settings/members`: who is in the workspace; owners and admins change roles and remove
//! people as their role allows, and anyone may leave.

use super::PageError;
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, Done, NoFields, PageQuery};
use super::layout::{Layout, Say, human_time};
use crate::domain::{Action, Role};
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
    notice: Option<String>,
    error: Option<String>,
}

struct MemberRow {
    id: String,
    email: String,
    role: Role,
    joined: String,
    you: bool,
    /// The roles the viewer may give this member (their current one included, first).
    roles: Vec<Role>,
    removable: bool,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (notice, error) = say.split();
    let viewer = member.ctx.role;
    let members = people::members(&state.db, &member.ctx.workspace.id)
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
                removable: !you && viewer.may(Action::ManageMember { holds, to: None }),
                roles,
                you,
            }
        })
        .collect();
    let page = MembersPage {
        layout: Layout::signed_in(member.csrf()?, member.email.clone(), &member.ctx),
        members,
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
        Some("removed") => Say::Notice("The member was removed from the workspace.".into()),
        _ => Say::Nothing,
    };
    page(&state, &member, StatusCode::OK, say).await
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
    answer(&state, &member, &user_id, change, "role-changed").await
}

#[post("/settings/members/{user_id}/remove")]
pub async fn remove(
    state: web::Data<AppState>,
    member: SignedInMember,
    user_id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    answer(&state, &member, &user_id, MemberChange::Remove, "removed").await
}

async fn answer(
    state: &AppState,
    member: &SignedInMember,
    target: &str,
    change: MemberChange,
    done: &str,
) -> Result<HttpResponse, PageError> {
    let workspace = &member.ctx.workspace.id;
    match people::change_member(&state.db, workspace, &member.ctx.user, target, change).await {
        Ok(()) => Ok(see_other(&format!("/settings/members?done={done}"))),
        Err(AccountError::LastOwner) => {
            let why = "A workspace always keeps an owner: make someone else an owner first.";
            page(state, member, StatusCode::CONFLICT, Say::Error(why.into())).await
        }
        Err(other) => Err(other.into()),
    }
}

#[post("/settings/members/leave")]
pub async fn leave(
    state: web::Data<AppState>,
    member: SignedInMember,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let workspace = &member.ctx.workspace.id;
    match people::leave_workspace(&state.db, workspace, &member.ctx.user).await {
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
