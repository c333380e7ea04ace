//! The dashboard: the current workspace, the first steps a new one has left, its members,
//! switching and creating workspaces.

use super::PageError;
use super::breakable::Breakable;
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields};
use super::layout::{FormState, Layout, Say, Section, human_time};
use crate::auth::throttle::EMAIL_REQUEST_WINDOW_SECS;
use crate::domain::{Action, Role, WorkspaceId, WorkspaceName};
use crate::http::client_address;
use crate::people::{self, AccountError, Progress};
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
    email: String,
    /// The first steps, while any is left; empty once all are done.
    steps: Vec<Step>,
    steps_done: usize,
    error: Option<String>,
    form: FormState,
}

/// One first step of a new workspace, ticked off by what the workspace holds.
struct Step {
    id: &'static str,
    title: &'static str,
    done: bool,
}

/// The first steps this member's role can take, in order. Each ticks itself off from the
/// workspace's own data, so nothing is stored for the checklist itself.
fn first_steps(role: Role, email_verified: bool, members: usize, progress: Progress) -> Vec<Step> {
    let mut steps = vec![Step {
        id: "verify-email",
        title: "Confirm your email address",
        done: email_verified,
    }];
    if role.may(Action::ManageKeys) {
        steps.push(Step {
            id: "create-key",
            title: "Create an API key",
            done: progress.keys > 0,
        });
    }
    steps.push(Step {
        id: "connect-account",
        title: "Connect an account",
        done: progress.accounts > 0,
    });
    if role.may(Action::Invite { role: Role::Member }) {
        steps.push(Step {
            id: "invite",
            title: "Invite a teammate",
            done: members > 1 || progress.invitations > 0,
        });
    }
    steps
}

struct MemberRow {
    email: Breakable,
    role: &'static str,
    joined: String,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (error, form) = say.split();
    let data = people::dashboard(&state.db, &member.ctx).await?;
    let ctx = &member.ctx;
    let mut steps = first_steps(
        ctx.role,
        data.email_verified,
        data.members.len(),
        data.progress,
    );
    let steps_done = steps.iter().filter(|s| s.done).count();
    if steps_done == steps.len() {
        steps.clear();
    }
    let page = DashboardPage {
        layout: Layout::for_member(state, member, Section::Dashboard).await?,
        workspace: ctx.workspace.name.to_string(),
        role: ctx.role.as_str(),
        plan: ctx.workspace.plan.as_str(),
        members: data
            .members
            .into_iter()
            .map(|m| MemberRow {
                email: Breakable::new(m.email.as_str()),
                role: m.role.as_str(),
                joined: human_time(m.joined_at),
            })
            .collect(),
        email: member.email.clone(),
        steps,
        steps_done,
        error,
        form,
    };
    render(status, &page)
}

#[get("/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    page(&state, &member, StatusCode::OK, Say::Nothing).await
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
    let created = match WorkspaceName::parse(&form.name) {
        Ok(name) => people::create_workspace(&state.db, &member.ctx.user, name).await,
        Err(invalid) => Err(invalid.into()),
    };
    match created {
        Ok((workspace, name)) => {
            member.session.set_workspace(&workspace)?;
            member.session.flash(format!(
                "Workspace \u{201c}{name}\u{201d} created: you are in it now, as its owner."
            ))?;
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::Invalid(invalid)) => {
            let refused = FormState::refused("name", invalid.message).keep("name", &form.name);
            page(
                &state,
                &member,
                StatusCode::BAD_REQUEST,
                Say::Refused(refused),
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
    let id = WorkspaceId::parse(form.workspace_id.trim()).ok_or(AccountError::NotMember)?;
    let workspace = people::switch_workspace(&state.db, &member.ctx.user, &id).await?;
    member.session.set_workspace(&workspace.id)?;
    member
        .session
        .flash(format!("Switched to \u{201c}{}\u{201d}.", workspace.name))?;
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
        Ok(()) => {
            member.session.flash(format!(
                "We sent a new confirmation link to {}, unless it is confirmed already. It works \
                 once, within 24 hours.",
                member.email
            ))?;
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::Throttled) => Err(PageError::TooManyRequests {
            retry_after: EMAIL_REQUEST_WINDOW_SECS,
        }),
        Err(other) => Err(other.into()),
    }
}
