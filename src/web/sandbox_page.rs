//! The sandbox platform's authorization page (§5.4): one form whose Approve (a POST) sends the
//! user on to `redirect_uri` with a code and the state, and whose Deny sends
//! `error=access_denied`. It stands where a real platform's consent page would.

use super::PageError;
use super::errors::{render, see_other};
use super::extract::{PageForm, PageQuery};
use super::layout::Layout;
use super::security_headers::CONTENT_SECURITY_POLICY;
use crate::auth::csrf;
use crate::connect::sandbox;
use crate::domain::now;
use crate::state::AppState;
use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use url::Url;

#[derive(Template)]
#[template(path = "sandbox_authorize.html")]
struct AuthorizePage {
    layout: Layout,
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

/// What a real platform would refuse before showing any consent page.
fn checked_redirect(raw: &str, state: &str) -> Result<Url, PageError> {
    let url = Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .filter(|u| u.fragment().is_none())
        .ok_or_else(|| PageError::BadRequest("redirect_uri is not an http(s) URL.".into()))?;
    if state.is_empty() || state.len() > 512 {
        return Err(PageError::BadRequest("state is missing.".into()));
    }
    Ok(url)
}

fn page(
    session: &Session,
    redirect: &Url,
    raw_redirect: &str,
    state: &str,
    account: &str,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = render(
        status,
        &AuthorizePage {
            layout: Layout::anonymous(csrf::token(session)?),
            redirect_uri: raw_redirect.to_owned(),
            state: state.to_owned(),
            account: account.to_owned(),
            error,
        },
    )?;
    // The form posts here, and the answer redirects to the caller's redirect URI: browsers
    // hold that redirect to the page's form-action too, so that origin is allowed, on this
    // page only. The origin is serialised by `url`, never copied from the request.
    let policy = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'",
        &format!(
            "form-action 'self' {}",
            redirect.origin().ascii_serialization()
        ),
    );
    if let Ok(value) = header::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[get("/sandbox/authorize")]
pub async fn authorize_page(
    session: Session,
    query: PageQuery<AuthorizeQuery>,
) -> Result<HttpResponse, PageError> {
    if query.response_type != "code" || query.client_id != "socializer" {
        return Err(PageError::BadRequest(
            "The sandbox expects response_type=code and client_id=socializer.".into(),
        ));
    }
    let redirect = checked_redirect(&query.redirect_uri, &query.state)?;
    page(
        &session,
        &redirect,
        &query.redirect_uri,
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
    session: Session,
    state: web::Data<AppState>,
    form: PageForm<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    if !csrf::is_valid(&session, &form.csrf_token) {
        return Err(PageError::Csrf);
    }
    let mut back = checked_redirect(&form.redirect_uri, &form.state)?;
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
                    return page(
                        &session,
                        &back,
                        &form.redirect_uri,
                        &form.state,
                        &form.account,
                        Some(invalid.message),
                    );
                }
            };
            let code = sandbox::approve(&state.db, &account, &form.redirect_uri, now()).await?;
            back.query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &form.state);
        }
        _ => return Err(PageError::BadRequest("Choose Approve or Deny.".into())),
    }
    Ok(see_other(back.as_str()))
}
