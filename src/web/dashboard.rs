//! The dashboard: the current workspace, its members, switching and creating workspaces.

use super::PageError;
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields};
use super::layout::{Layout, human_time};
use crate::people::{self, AccountError};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    workspace: String,
    role: &'static str,
    plan: &'static str,
    members: Vec<MemberRow>,
    workspaces: Vec<WorkspaceRow>,
    error: Option<String>,
}

struct MemberRow {
    email: String,
    role: &'static str,
    joined: String,
}

struct WorkspaceRow {
    id: String,
    name: String,
    role: &'static str,
    current: bool,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let data = people::dashboard(&state.db, &member.ctx).await?;
    let ctx = &member.ctx;
    let page = DashboardPage {
        layout: Layout::signed_in(member.csrf()?, member.email.clone(), ctx),
        workspace: ctx.workspace.name.to_string(),
        role: ctx.role.as_str(),
        plan: ctx.workspace.plan.as_str(),
        members: data
            .members
            .into_iter()
            .map(|m| MemberRow {
                email: m.email.to_string(),
                role: m.role.as_str(),
                joined: human_time(m.joined_at),
            })
            .collect(),
        workspaces: data
            .workspaces
            .into_iter()
            .map(|(w, role)| WorkspaceRow {
                current: w.id == ctx.workspace.id,
                id: w.id.to_string(),
                name: w.name.to_string(),
                role: role.as_str(),
            })
            .collect(),
        error,
    };
    render(status, &page)
}

#[get("/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    page(&state, &member, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct CreateWorkspaceForm {
    #[serde(default)]
    name: String,
}

#[post("/workspaces")]
pub async fn create_workspace(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<CreateWorkspaceForm>,
) -> Result<HttpResponse, PageError> {
    match people::create_workspace(&state.db, &member.ctx.user, &form.name).await {
        Ok(workspace) => {
            member.session.set_workspace(&workspace)?;
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::Invalid(invalid)) => {
            page(
                &state,
                &member,
                StatusCode::BAD_REQUEST,
                Some(invalid.message),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    workspace_id: String,
}

#[post("/workspaces/switch")]
pub async fn switch_workspace(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<SwitchForm>,
) -> Result<HttpResponse, PageError> {
    let workspace =
        people::switch_workspace(&state.db, &member.ctx.user, &form.workspace_id).await?;
    member.session.set_workspace(&workspace)?;
    Ok(see_other("/dashboard"))
}

#[post("/settings/security/sign-out-everywhere")]
pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    member: SignedInMember,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    people::sign_out_everywhere(&state.db, &member.ctx.user).await?;
    // This browser's session row is gone with the others; forget its cookie too.
    member.session.end();
    Ok(see_other("/login"))
}
