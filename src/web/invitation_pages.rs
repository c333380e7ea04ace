//! `/invitation?token=…`: where an invitation link leads. A new person signs up there with the
//! invited address (verified by the click); an existing user signs in as that address and joins;
//! a link that was used, revoked or has expired says so plainly.

use super::PageError;
use super::anonymous::{self, AnonymousForm};
use super::current::SignedInMember;
use super::errors::{MessagePage, render, render_message, see_other};
use super::extract::{CheckedForm, PageForm, PageQuery};
use super::layout::{Layout, Section};
use super::sign_in_pages::{TokenQuery, start_session};
use crate::auth::session_state::SessionState;
use crate::auth::throttle;
use crate::domain::{Role, UserId, WorkspaceId};
use crate::http::client_address;
use crate::people::{self, AccountError, LinkState};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{FromRequest as _, HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    workspace: String,
    role: Role,
    email: String,
    inviter: Option<String>,
    /// Who is signed in in this browser, if anyone.
    signed_in_as: Option<String>,
    has_account: bool,
    login_href: String,
    error: Option<String>,
}

#[get("/invitation")]
pub async fn open(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: SessionState,
    query: PageQuery<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    show(&req, &state, &session, &query.token, StatusCode::OK, None).await
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    session: &SessionState,
    token: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let (invitation, workspace_name, has_account) =
        match people::invitation_link(&state.db, token).await {
            Ok(LinkState::Live {
                invitation,
                workspace_name,
                has_account,
            }) => (invitation, workspace_name, has_account),
            // An old link opened by someone who is in its workspace already: take them there.
            Ok(LinkState::Used { workspace }) if is_member(state, session, &workspace).await? => {
                session.set_workspace(&workspace)?;
                if let Some(user) = session.user_id() {
                    let already = "This invitation was used already: you are in";
                    session.flash(in_workspace(state, &user, &workspace, already).await?)?;
                }
                return Ok(see_other("/dashboard"));
            }
            Ok(closed) => return closed_page(closed.refusal()),
            Err(err) => return closed_page(err),
        };
    let signed_in_as = session.user_id().and(session.email());
    let next = format!("/invitation?token={}", urlencode(token.trim()));
    let anonymous = AnonymousForm::new(req, state);
    let csrf = match signed_in_as {
        Some(_) => session.csrf_token()?,
        None => anonymous.token.clone(),
    };
    // Someone signed in keeps their navigation here, as on every page of theirs.
    let layout = match SignedInMember::extract(req).await {
        Ok(member) => Layout::for_member(state, &member, Section::Elsewhere).await?,
        Err(_) => Layout::anonymous(csrf),
    };
    let page = InvitationPage {
        layout,
        token: token.trim().to_owned(),
        workspace: workspace_name,
        role: invitation.role,
        email: invitation.email.to_string(),
        inviter: invitation.invited_by_email.map(|e| e.to_string()),
        signed_in_as,
        has_account,
        login_href: format!("/login?next={}", urlencode(&next)),
        error,
    };
    let response = render(status, &page)?;
    match session.user_id() {
        Some(_) => Ok(response),
        None => anonymous.attach(response),
    }
}

/// Whether the session is signed in as a member of `workspace`.
async fn is_member(
    state: &AppState,
    session: &SessionState,
    workspace: &WorkspaceId,
) -> Result<bool, PageError> {
    let Some(user) = session.user_id() else {
        return Ok(false);
    };
    Ok(people::workspaces_of(&state.db, &user)
        .await?
        .iter()
        .any(|(w, _)| &w.id == workspace))
}

fn urlencode(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// The plain page for a link that leads nowhere any more; other errors as usual.
fn closed_page(err: AccountError) -> Result<HttpResponse, PageError> {
    let (status, heading, message) = match err {
        AccountError::InvitationUsed => (
            StatusCode::GONE,
            "Invitation already used",
            "This invitation has already been accepted. Sign in to reach the workspace.",
        ),
        AccountError::InvitationRevoked => (
            StatusCode::GONE,
            "Invitation revoked",
            "This invitation was revoked. Ask the workspace's owners or admins for a new one.",
        ),
        AccountError::InvitationExpired => (
            StatusCode::GONE,
            "Invitation expired",
            "This invitation has expired: links are valid for 7 days. Ask for a new one.",
        ),
        AccountError::InvalidToken => (
            StatusCode::NOT_FOUND,
            "Invitation not found",
            "This invitation link is not valid. It may have been replaced by a newer one: use the latest email you received.",
        ),
        other => return Err(other.into()),
    };
    let mut page = MessagePage::new(heading, message);
    page.link_href = "/login";
    page.link_text = "Sign in";
    render_message(status, &page)
}

/// "You joined “Acme” as an admin.": the workspace by name, and the role held in it, after
/// `said` ("You joined").
async fn in_workspace(
    state: &AppState,
    user: &UserId,
    workspace: &WorkspaceId,
    said: &str,
) -> Result<String, PageError> {
    let found = people::workspaces_of(&state.db, user)
        .await?
        .into_iter()
        .find(|(w, _)| &w.id == workspace);
    Ok(match found {
        Some((w, role)) => {
            let article = if role == Role::Member { "a" } else { "an" };
            format!("{said} \u{201c}{}\u{201d} as {article} {role}.", w.name)
        }
        None => format!("{said} the workspace."),
    })
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
}

#[post("/invitation/accept")]
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<AcceptForm>,
) -> Result<HttpResponse, PageError> {
    let token = form.0.token;
    match people::accept_invitation(&state.db, &token, &member.who).await {
        Ok(workspace) => {
            member.session.set_workspace(&workspace)?;
            let said = in_workspace(&state, &member.ctx.user, &workspace, "You joined").await?;
            member.session.flash(said)?;
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::OtherAccount(invited)) => {
            let why = format!(
                "This invitation is for {invited}. Sign out, then open the link again and sign in as {invited}."
            );
            show(
                &req,
                &state,
                &member.session,
                &token,
                StatusCode::FORBIDDEN,
                Some(why),
            )
            .await
        }
        Err(err) => closed_page(err),
    }
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

#[post("/invitation/sign-up")]
pub async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: SessionState,
    form: PageForm<SignUpForm>,
) -> Result<HttpResponse, PageError> {
    anonymous::admit(&req, &state, &form.csrf_token)?;
    let SignUpForm {
        token, password, ..
    } = form.into_inner();
    let address = client_address(&req, state.trust_forwarded_for);
    let error =
        match people::sign_up_by_invitation(&state.db, &state.hashing, &token, password, &address)
            .await
        {
            Ok(done) => {
                start_session(
                    &req,
                    &state,
                    &session,
                    &done.user,
                    &done.workspace,
                    done.email.as_str(),
                )?;
                let said = in_workspace(&state, &done.user, &done.workspace, "You joined").await?;
                session.flash(said)?;
                return Ok(see_other("/dashboard"));
            }
            Err(AccountError::Invalid(invalid)) => invalid.message,
            Err(AccountError::EmailTaken) => {
                "This address has an account already: sign in to join instead.".to_owned()
            }
            Err(AccountError::Throttled) => {
                return Err(PageError::TooManyRequests {
                    retry_after: throttle::SIGNUP_WINDOW_SECS,
                });
            }
            Err(err) => return closed_page(err),
        };
    show(
        &req,
        &state,
        &session,
        &token,
        StatusCode::BAD_REQUEST,
        Some(error),
    )
    .await
}
