//! Every `/v1` request but the OpenAPI document: the key from the `Authorization` header, or
//! else the dashboard's own session (with its CSRF token on unsafe methods); the workspace it
//! fixes, the rate limit and its headers on every answer.

use super::caller::{Caller, SignedInUser, Via};
use super::error::ApiError;
use crate::auth::session_state::{SessionState, TokenCheck};
use crate::domain::{Email, Plan, now};
use crate::http::Unexpected;
use crate::http::client_ip;
use crate::http::rate_limit::Decision;
use crate::keys::{self, AuthError};
use crate::people;
use crate::state::AppState;
use actix_session::SessionExt as _;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _, ResponseError as _, web};
use std::sync::Arc;

/// Routes under `/v1` that need no key.
const PUBLIC: &[&str] = &["/v1/openapi.json"];

fn bearer(req: &ServiceRequest) -> Option<String> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
}

pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("application state missing"))?;
    let ip = client_ip(req.request(), state.trust_forwarded_for);
    let now = now();

    // A query string that is not UTF-8 once decoded is refused on every route, also those that
    // read no query, so that nothing downstream ever sees a repaired one.
    if !crate::http::is_strict_utf8(req.query_string().as_bytes()) {
        let rate = state
            .rate_limiter
            .check_address(ip, state.rate_limits.free, now)
            .await;
        let err = ApiError::InvalidRequest(
            "Invalid query: it is not valid UTF-8 once percent-decoded".into(),
        );
        return Ok(refuse(req, err, rate));
    }

    if PUBLIC.contains(&req.path()) {
        // Counted by client address, like any request without a valid key.
        let rate = state
            .rate_limiter
            .check_address(ip, state.rate_limits.free, now)
            .await;
        if !rate.allowed {
            return Ok(refuse(req, over_limit(&rate), rate));
        }
        return Ok(with_rate_headers(
            next.call(req).await?.map_into_boxed_body(),
            rate,
        ));
    }

    let outcome = identify(&req, &state).await;
    let via = match outcome {
        Ok(via) => via,
        Err(err) => {
            // Without a valid key the client address is the bucket, so guessing keys is
            // limited like anything else.
            let rate = state
                .rate_limiter
                .check_address(ip, state.rate_limits.free, now)
                .await;
            let err = if rate.allowed { err } else { over_limit(&rate) };
            return Ok(refuse(req, err, rate));
        }
    };

    let workspace = match &via {
        Via::Key(key) => &key.workspace,
        Via::Session(person) => &person.workspace.id,
    };
    let rate = workspace_limit(&state, &via, now).await;
    if !rate.allowed {
        return Ok(refuse(req, over_limit(&rate), rate));
    }
    if let Via::Key(key) = &via {
        state.key_usage.record(&key.key_id, &key.workspace, now, ip);
    }

    let named = req
        .headers()
        .get("x-workspace-id")
        .map(|v| v.to_str().unwrap_or("").trim().to_owned());
    if let Some(named) = named
        && named != workspace.as_str()
    {
        let err = ApiError::Forbidden(match via {
            Via::Key(_) => "This API key belongs to another workspace".into(),
            Via::Session(_) => "You are signed in to another workspace".into(),
        });
        return Ok(refuse(req, err, rate));
    }

    req.extensions_mut().insert(Caller {
        via,
        rate,
        address: ip.map(|ip| ip.to_string()),
    });
    let response = next.call(req).await?.map_into_boxed_body();
    Ok(with_rate_headers(response, rate))
}

/// Who is calling: the key in `Authorization`, or else the dashboard's session.
async fn identify(req: &ServiceRequest, state: &AppState) -> Result<Via, ApiError> {
    match bearer(req) {
        Some(raw) => keys::authenticate(&state.db, &state.key_cache, &raw)
            .await
            .map(Via::Key)
            .map_err(|e| match e {
                AuthError::Invalid => ApiError::InvalidApiKey("Invalid API key"),
                AuthError::Revoked => {
                    ApiError::InvalidApiKey("Invalid API key: it has been revoked")
                }
                AuthError::Expired => ApiError::InvalidApiKey("Invalid API key: it has expired"),
                AuthError::Storage(e) => ApiError::Internal(Unexpected::new(e)),
            }),
        None => signed_in(req, state).await.and_then(|person| {
            person
                .map(|person| Via::Session(Arc::new(person)))
                .ok_or(ApiError::MissingApiKey)
        }),
    }
}

/// Counts the request against its workspace's limit, by the workspace's plan.
async fn workspace_limit(state: &AppState, via: &Via, now: i64) -> Decision {
    let (workspace, plan) = match via {
        Via::Key(key) => (&key.workspace, key.plan),
        Via::Session(person) => (&person.workspace.id, person.workspace.plan),
    };
    let limit = if plan == Plan::Paid {
        state.rate_limits.paid
    } else {
        state.rate_limits.free
    };
    state
        .rate_limiter
        .check(workspace.as_str(), limit, now)
        .await
}

/// The person whose session cookie came with a request that has no key: `None` without a
/// signed-in session (or when its member has left the workspace). An unsafe method must also
/// carry the session's CSRF token in `X-CSRF-Token`, which another site cannot read or set.
async fn signed_in(
    req: &ServiceRequest,
    state: &AppState,
) -> Result<Option<SignedInUser>, ApiError> {
    let session = SessionState::new(req.get_session());
    let (Some(user), Some(workspace), Some(email)) =
        (session.user_id(), session.workspace_id(), session.email())
    else {
        return Ok(None);
    };
    let Ok(email) = Email::parse(&email) else {
        return Ok(None);
    };
    if !req.method().is_safe() {
        let token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match session.check_token(token) {
            TokenCheck::Valid => {}
            TokenCheck::Refused => {
                return Err(ApiError::Forbidden(
                    "A request with the session cookie and this method needs the session's \
                     X-CSRF-Token header"
                        .into(),
                ));
            }
            TokenCheck::OtherWorkspace => {
                return Err(ApiError::Forbidden(
                    "The page that sent this request belongs to another workspace than the \
                     session's current one; reload it"
                        .into(),
                ));
            }
        }
    }
    let member = people::member_context(&state.db, user, workspace)
        .await
        .map_err(|e| ApiError::Internal(Unexpected::context("session", e)))?;
    Ok(member.map(|ctx| SignedInUser {
        user: ctx.user,
        email,
        role: ctx.role,
        workspace: ctx.workspace,
    }))
}

/// The error answer for a request refused here, with the rate limit it was counted against.
fn over_limit(rate: &Decision) -> ApiError {
    ApiError::RateLimited {
        retry_after: rate.reset,
    }
}

fn refuse(req: ServiceRequest, err: ApiError, rate: Decision) -> ServiceResponse<BoxBody> {
    with_rate_headers(req.into_response(err.error_response()), rate)
}

fn with_rate_headers(
    mut response: ServiceResponse<BoxBody>,
    rate: Decision,
) -> ServiceResponse<BoxBody> {
    let headers = response.headers_mut();
    // Numbers become header values without a formatted string in between.
    headers.insert(
        HeaderName::from_static("ratelimit-limit"),
        HeaderValue::from(rate.limit),
    );
    headers.insert(
        HeaderName::from_static("ratelimit-remaining"),
        HeaderValue::from(rate.remaining),
    );
    headers.insert(
        HeaderName::from_static("ratelimit-reset"),
        HeaderValue::from(rate.reset),
    );
    let structured = [
        (
            "ratelimit-policy",
            format!("\"per-minute\";q={};w=60", rate.limit),
        ),
        (
            "ratelimit",
            format!("\"per-minute\";r={};t={}", rate.remaining, rate.reset),
        ),
    ];
    for (name, value) in structured {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}
