//! The sandbox platform's authorization page: one form whose Approve (a POST) sends the
//! user on to `redirect_uri` with a code and the state, and whose Deny sends
//! `error=access_denied`. It stands where a real platform's consent page would, and like one it
//! acts only for a flow that was begun and is still pending, with that flow's redirect URI.

use super::PageError;
use super::anonymous::{self, AnonymousForm};
use super::errors::{render, see_other};
use super::extract::{PageForm, PageQuery};
use super::layout::Layout;
use super::security_headers::CONTENT_SECURITY_POLICY;
use crate::connect::sandbox;
use crate::domain::{RedirectUri, now};
use crate::http::Unexpected;
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "sandbox_authorize.html")]
struct AuthorizePage {
    layout: Layout,
    /// "the workspace “Acme”, for ada@example.com".
    for_whom: String,
    redirect_uri: String,
    state: String,
    account: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct AuthorizeQuery {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    state: String,
}

/// What a real platform would refuse before showing any consent page: a malformed redirect URI,
/// or a state that names no pending sandbox flow begun with exactly that redirect URI.
async fn checked_flow(
    state: &AppState,
    raw_redirect: &str,
    flow_state: &str,
) -> Result<(RedirectUri, String), PageError> {
    let redirect =
        RedirectUri::parse(raw_redirect).map_err(|e| PageError::BadRequest(e.message))?;
    let pending = sandbox::pending_flow(&state.db, flow_state, now()).await?;
    match pending {
        Some(flow) if flow.redirect_uri == redirect.as_str() => {
            let for_whom = match flow.person {
                Some(person) => format!(
                    "the workspace \u{201c}{}\u{201d}, at the request of {person}",
                    flow.workspace
                ),
                None => format!(
                    "the workspace \u{201c}{}\u{201d}, at the request of one of its API keys",
                    flow.workspace
                ),
            };
            Ok((redirect, for_whom))
        }
        _ => Err(PageError::BadRequest(
            "This authorization request is unknown, expired or already used. Start connecting again from the application.".into(),
        )),
    }
}

fn page(
    form: &AnonymousForm,
    (redirect, for_whom): (&RedirectUri, &str),
    state: &str,
    account: &str,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = form.attach(render(
        status,
        &AuthorizePage {
            layout: Layout::anonymous(form.token.clone()),
            for_whom: for_whom.to_owned(),
            redirect_uri: redirect.as_str().to_owned(),
            state: state.to_owned(),
            account: account.to_owned(),
            error,
        },
    )?)?;
    // The form posts here, and the answer redirects to the caller's redirect URI: browsers
    // hold that redirect to the page's form-action too, so that origin is allowed, on this
    // page only. The origin is serialised from the parsed URL, whose host was checked to be a
    // plain name or address, so nothing of the request can add to the policy.
    let policy = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", redirect.origin()),
    );
    let value = header::HeaderValue::from_str(&policy)
        .map_err(|e| PageError::Internal(Unexpected::context("sandbox policy header", e)))?;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, value);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[get("/sandbox/authorize")]
pub async fn authorize_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: PageQuery<AuthorizeQuery>,
) -> Result<HttpResponse, PageError> {
    if query.response_type != "code" || query.client_id != "socializer" {
        return Err(PageError::BadRequest(
            "The sandbox expects response_type=code and client_id=socializer.".into(),
        ));
    }
    let (redirect, for_whom) = checked_flow(&state, &query.redirect_uri, &query.state).await?;
    let form = AnonymousForm::new(&req, &state);
    page(
        &form,
        (&redirect, &for_whom),
        &query.state,
        "sandbox-user",
        None,
    )
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    decision: String,
}

#[post("/sandbox/authorize")]
pub async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: PageForm<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    anonymous::admit(&req, &state, &form.csrf_token)?;
    let (redirect, for_whom) = checked_flow(&state, &form.redirect_uri, &form.state).await?;
    let mut back = redirect.url().clone();
    match form.decision.as_str() {
        "deny" => {
            back.query_pairs_mut()
                .append_pair("error", "access_denied")
                .append_pair("error_description", "The user denied the request")
                .append_pair("state", &form.state);
        }
        "approve" => {
            let account = match sandbox::account_name(&form.account) {
                Ok(account) => account,
                Err(invalid) => {
                    let shown = AnonymousForm::new(&req, &state);
                    return page(
                        &shown,
                        (&redirect, &for_whom),
                        &form.state,
                        &form.account,
                        Some(invalid.message),
                    );
                }
            };
            let code = sandbox::approve(&state.db, &account, &form.state, redirect.as_str(), now())
                .await?;
            back.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &form.state);
        }
        _ => return Err(PageError::BadRequest("Choose Approve or Deny.".into())),
    }
    Ok(see_other(back.as_str()))
}
