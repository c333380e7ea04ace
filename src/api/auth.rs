//! Every `/v1` request but the OpenAPI document: the key from the `Authorization` header only
//!, the workspace it fixes, the rate limit and its headers on every answer.

use super::error::ApiError;
use super::rate_limit::Decision;
use crate::domain::{Plan, Scope, now};
use crate::keys::{self, AuthError, Principal};
use crate::state::AppState;
use crate::web::client_ip;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage as _, HttpRequest, ResponseError as _, web};
use std::sync::Arc;

/// Routes under `/v1` that need no key.
const PUBLIC: &[&str] = &["/v1/openapi.json"];

/// The authenticated caller of a `/v1` handler.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Shared with the key cache: cloning a caller copies no strings.
    pub principal: Arc<Principal>,
    pub rate: Decision,
}

impl Caller {
    /// 403 `insufficient_scope` unless the key has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.principal.scopes.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or(ApiError::Internal("no caller on an API route".into())),
        )
    }
}

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
    if !crate::web::is_strict_utf8(req.query_string().as_bytes()) {
        let rate = state
            .rate_limiter
            .check_address(ip, state.rate_limits.free, now);
        let err = ApiError::InvalidRequest(
            "Invalid query: it is not valid UTF-8 once percent-decoded".into(),
        );
        return Ok(refuse(req, err, rate));
    }

    if PUBLIC.contains(&req.path()) {
        // Counted by client address, like any request without a valid key.
        let rate = state
            .rate_limiter
            .check_address(ip, state.rate_limits.free, now);
        if !rate.allowed {
            return Ok(refuse(req, over_limit(&rate), rate));
        }
        return Ok(with_rate_headers(
            next.call(req).await?.map_into_boxed_body(),
            rate,
        ));
    }

    let outcome = match bearer(&req) {
        None => Err(ApiError::MissingApiKey),
        Some(raw) => keys::authenticate(&state.db, &state.key_cache, &raw)
            .await
            .map_err(|e| match e {
                AuthError::Invalid => ApiError::InvalidApiKey("Invalid API key"),
                AuthError::Revoked => {
                    ApiError::InvalidApiKey("Invalid API key: it has been revoked")
                }
                AuthError::Expired => ApiError::InvalidApiKey("Invalid API key: it has expired"),
                AuthError::Storage(e) => ApiError::Internal(e.to_string()),
            }),
    };
    let principal = match outcome {
        Ok(principal) => principal,
        Err(err) => {
            // Without a valid key the client address is the bucket, so guessing keys is
            // limited like anything else.
            let rate = state
                .rate_limiter
                .check_address(ip, state.rate_limits.free, now);
            let err = if rate.allowed { err } else { over_limit(&rate) };
            return Ok(refuse(req, err, rate));
        }
    };

    let limit = if principal.plan == Plan::Paid {
        state.rate_limits.paid
    } else {
        state.rate_limits.free
    };
    let rate = state
        .rate_limiter
        .check(principal.workspace.as_str(), limit, now);
    if !rate.allowed {
        return Ok(refuse(req, over_limit(&rate), rate));
    }
    state
        .key_usage
        .record(&principal.key_id, &principal.workspace, now, ip);

    let named = req
        .headers()
        .get("x-workspace-id")
        .map(|v| v.to_str().unwrap_or("").trim().to_owned());
    if let Some(named) = named
        && named != principal.workspace.as_str()
    {
        let err = ApiError::Forbidden("This API key belongs to another workspace".into());
        return Ok(refuse(req, err, rate));
    }

    req.extensions_mut().insert(Caller { principal, rate });
    let response = next.call(req).await?.map_into_boxed_body();
    Ok(with_rate_headers(response, rate))
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
