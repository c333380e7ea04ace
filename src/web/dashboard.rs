//! The dashboard: the current workspace, its members, switching and creating workspaces.

use super::PageError;
use super::current::SignedInMember;
use super::current::client_address;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, Done, NoFields, PageQuery};
use super::layout::{Layout, Say, human_time};
use crate::auth::throttle::EMAIL_REQUEST_WINDOW_SECS;
use crate::people::{self, AccountError};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
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
    email: String,
    email_verified: bool,
    notice: Option<String>,
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
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (notice, error) = say.split();
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
        email: member.email.clone(),
        email_verified: data.email_verified,
        notice,
        error,
    };
    render(status, &page)
}

#[get("/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    member: SignedInMember,
    done: PageQuery<Done>,
) -> Result<HttpResponse, PageError> {
    let say = match done.done() {
        Some("verification-sent") => Say::Notice(format!(
            "We sent a new confirmation link to {}, unless it is confirmed already. It works \
             once, within 24 hours.",
            member.email
        )),
        Some("left") => Say::Notice("You left the workspace.".into()),
        Some("joined") => Say::Notice("You joined the workspace.".into()),
        Some("workspace-deleted") => Say::Notice(
            "The workspace was deleted, with its keys, connected accounts and invitations.".into(),
        ),
        Some("google-linked") => Say::Notice(
            "Your Google account is now linked, and your email address counts as confirmed. \
             Nobody had confirmed it before, so the password on this account was removed and \
             every other session ended: sign in with Google from now on, or set a new password \
             with \"Forgot your password?\" on the sign-in page."
                .into(),
        ),
        _ => Say::Nothing,
    };
    page(&state, &member, StatusCode::OK, say).await
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
                Say::Error(invalid.message),
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

#[post("/settings/verify-email")]
pub async fn resend_verification(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: SignedInMember,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let address = client_address(&req, state.trust_forwarded_for);
    let sent = people::resend_verification(
        &state.db,
        &state.mailer,
        &state.public_url,
        &member.ctx.user,
        &address,
    )
    .await;
    match sent {
        Ok(()) => Ok(see_other("/dashboard?done=verification-sent")),
        Err(AccountError::Throttled) => Err(PageError::TooManyRequests {
            retry_after: EMAIL_REQUEST_WINDOW_SECS,
        }),
        Err(other) => Err(other.into()),
    }
}
