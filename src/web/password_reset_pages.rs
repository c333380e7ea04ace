//! Forgotten passwords: asking for a link, and choosing a new password with it.

use super::PageError;
use super::anonymous::{self, AnonymousForm};
use super::errors::{MessagePage, render, render_message, see_other};
use super::extract::{PageForm, PageQuery};
use super::layout::Layout;
use super::sign_in_pages::{TokenQuery, start_session};
use crate::auth::session_state::SessionState;
use crate::auth::throttle::EMAIL_REQUEST_WINDOW_SECS;
use crate::http::client_address;
use crate::people::{self, AccountError};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    layout: Layout,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    layout: Layout,
    action: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
}

fn forgot_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let form = AnonymousForm::new(req, state);
    let page = ForgotPage {
        layout: Layout::anonymous(form.token.clone()),
        email,
        error,
    };
    form.attach(render(status, &page)?)
}

fn link_not_valid() -> Result<HttpResponse, PageError> {
    let mut page = MessagePage::new(
        "Link not valid",
        "This link is invalid, was already used, or has expired. You can ask for a new one.",
    );
    page.link_href = "/forgot-password";
    page.link_text = "Ask for a new link";
    render_message(StatusCode::BAD_REQUEST, &page)
}

fn reset_page(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let form = AnonymousForm::new(req, state);
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let page = ResetPage {
        layout: Layout::anonymous(form.token.clone()),
        action: format!("/reset-password?token={encoded}"),
        error,
    };
    form.attach(render(status, &page)?)
}

#[get("/forgot-password")]
pub async fn forgot_password_page(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    forgot_page(&req, &state, StatusCode::OK, String::new(), None)
}

#[get("/forgot-password/sent")]
pub async fn reset_link_sent() -> Result<HttpResponse, PageError> {
    let mut page = MessagePage::new(
        "Check your email",
        "If an account uses that address, we have sent it a link to choose a new password. The \
         link works once, within an hour.",
    );
    page.link_href = "/login";
    page.link_text = "Back to sign in";
    render_message(StatusCode::OK, &page)
}

#[post("/forgot-password")]
pub async fn forgot_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: PageForm<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    anonymous::admit(&req, &state, &form.csrf_token)?;
    let address = client_address(&req, state.trust_forwarded_for);
    let asked = people::request_password_reset(
        &state.db,
        &state.mailer,
        &state.public_url,
        &form.email,
        &address,
    )
    .await;
    match asked {
        // A page of its own, so that reloading it sends nothing again.
        Ok(()) => Ok(see_other("/forgot-password/sent")),
        Err(AccountError::Invalid(invalid)) => forgot_page(
            &req,
            &state,
            StatusCode::BAD_REQUEST,
            form.into_inner().email,
            Some(invalid.message),
        ),
        Err(AccountError::Throttled) => Err(PageError::TooManyRequests {
            retry_after: EMAIL_REQUEST_WINDOW_SECS,
        }),
        Err(other) => Err(other.into()),
    }
}

#[get("/reset-password")]
pub async fn reset_password_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: PageQuery<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    if !people::reset_link_is_live(&state.db, &query.token).await? {
        return link_not_valid();
    }
    reset_page(&req, &state, &query.token, StatusCode::OK, None)
}

#[post("/reset-password")]
pub async fn reset_password(
    req: HttpRequest,
    session: SessionState,
    state: web::Data<AppState>,
    query: PageQuery<TokenQuery>,
    form: PageForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    anonymous::admit(&req, &state, &form.csrf_token)?;
    let password = form.into_inner().password;
    let reset = people::reset_password(
        &state.db,
        state.post(),
        &state.key_cache,
        &state.hashing,
        &query.token,
        password,
    )
    .await;
    match reset {
        Ok((done, taken_back)) => {
            start_session(
                &req,
                &state,
                &session,
                &done.user,
                &done.workspace,
                done.email.as_str(),
            )?;
            if let Some(summary) = taken_back.summary() {
                session.flash(format!("Your new password is set. {summary}"))?;
            }
            Ok(see_other("/dashboard"))
        }
        Err(AccountError::Invalid(invalid)) => reset_page(
            &req,
            &state,
            &query.token,
            StatusCode::BAD_REQUEST,
            Some(invalid.message),
        ),
        Err(AccountError::InvalidToken) => link_not_valid(),
        Err(other) => Err(other.into()),
    }
}
