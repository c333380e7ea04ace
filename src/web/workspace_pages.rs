//! `/settings/workspace` (its name, plan; renaming and deleting it, for owners) and
//! `/settings/audit` (the audit log, for owners and admins).

use super::PageError;
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::CheckedForm;
use super::layout::{FormState, Layout, Say, Section};
use crate::domain::{Action, Plan, WorkspaceName};
use crate::people::{self, AccountError};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "workspace.html")]
struct WorkspacePage {
    layout: Layout,
    name: String,
    plan: Plan,
    rate_limit: u32,
    may_rename: bool,
    may_delete: bool,
    error: Option<String>,
    form: FormState,
}

async fn workspace_page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (error, form) = say.split();
    let workspace = &member.ctx.workspace;
    let page = WorkspacePage {
        layout: Layout::for_member(state, member, Section::Workspace).await?,
        name: workspace.name.to_string(),
        plan: workspace.plan,
        rate_limit: match workspace.plan {
            Plan::Free => state.rate_limits.free,
            Plan::Paid => state.rate_limits.paid,
        },
        may_rename: member.ctx.role.may(Action::RenameWorkspace),
        may_delete: member.ctx.role.may(Action::DeleteWorkspace),
        error,
        form,
    };
    render(status, &page)
}

#[get("/settings/workspace")]
pub async fn show(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    workspace_page(&state, &member, StatusCode::OK, Say::Nothing).await
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

#[post("/settings/workspace/rename")]
pub async fn rename(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<NameForm>,
) -> Result<HttpResponse, PageError> {
    let workspace = &member.ctx.workspace.id;
    let renamed = match WorkspaceName::parse(&form.0.name) {
        Ok(name) => people::rename_workspace(&state.db, workspace, &member.who, name).await,
        Err(invalid) => Err(invalid.into()),
    };
    match renamed {
        Ok(()) => {
            member.session.flash("The workspace was renamed.")?;
            Ok(see_other("/settings/workspace"))
        }
        Err(AccountError::Invalid(invalid)) => {
            let refused =
                FormState::refused("rename", invalid.message).keep("rename", &form.0.name);
            let say = Say::Refused(refused);
            workspace_page(&state, &member, StatusCode::BAD_REQUEST, say).await
        }
        Err(other) => Err(other.into()),
    }
}

#[post("/settings/workspace/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<NameForm>,
) -> Result<HttpResponse, PageError> {
    let workspace = &member.ctx.workspace.id;
    let deleted = people::delete_workspace(
        &state.db,
        &state.connector,
        &state.key_cache,
        workspace,
        &member.who,
        &form.0.name,
    )
    .await;
    match deleted {
        Ok(()) => {
            let next = people::workspace_after_leaving(&state.db, &member.ctx.user).await?;
            member.session.set_workspace(&next)?;
            member.session.flash(format!(
                "The workspace \u{201c}{}\u{201d} was deleted, with its keys, connected accounts and invitations.",
                member.ctx.workspace.name
            ))?;
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::Invalid(invalid)) => {
            let refused =
                FormState::refused("delete", invalid.message).keep("delete", &form.0.name);
            let say = Say::Refused(refused);
            workspace_page(&state, &member, StatusCode::BAD_REQUEST, say).await
        }
        Err(other) => Err(other.into()),
    }
}
