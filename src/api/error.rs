//! The one place where API errors become HTTP answers: the JSON envelope `{"error": {"code", "message"}}`.

use crate::domain::Scope;
use crate::http::Unexpected;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use std::fmt;

#[derive(Debug)]
pub enum ApiError {
    InvalidRequest(String),
    /// The request's body did not arrive within the deadline (408).
    RequestTimeout,
    InvalidState,
    PayloadTooLarge,
    HeadersTooLarge,
    /// A method the service serves nowhere (TRACE, CONNECT, inventions).
    MethodNotAllowed,
    /// A path the API has, asked with a method it does not answer there.
    WrongMethod {
        /// The methods it answers there, for the `Allow` header.
        allow: String,
    },
    MissingApiKey,
    InvalidApiKey(&'static str),
    Forbidden(String),
    /// Something only an account whose owner confirmed its email may do.
    EmailUnconfirmed(&'static str),
    InsufficientScope(Scope),
    NotFound,
    /// Something the request named is not there, said with what it was.
    NotFoundNamed(String),
    /// The same `Idempotency-Key` with another request.
    IdempotencyKeyReused,
    /// The resource is not in a state that allows this (a key rolled already).
    Conflict(String),
    /// No route under `/v1` has this path and method; said apart from a missing resource.
    NoRoute,
    RateLimited {
        retry_after: i64,
    },
    /// The platform failed or refused (502).
    Provider(String),
    /// Logged in full with a request id; the answer carries only the id.
    Internal(Unexpected),
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_)
            | ApiError::RequestTimeout
            | ApiError::PayloadTooLarge
            | ApiError::HeadersTooLarge
            | ApiError::MethodNotAllowed
            | ApiError::WrongMethod { .. } => "invalid_request",
            ApiError::InvalidState => "invalid_state",
            ApiError::Provider(_) => "provider_error",
            ApiError::MissingApiKey => "missing_api_key",
            ApiError::InvalidApiKey(_) => "invalid_api_key",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::EmailUnconfirmed(_) => "email_unconfirmed",
            ApiError::InsufficientScope(_) => "insufficient_scope",
            ApiError::NotFound | ApiError::NotFoundNamed(_) | ApiError::NoRoute => "not_found",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::Conflict(_) => "conflict",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::InvalidRequest(why) => f.write_str(why),
            ApiError::RequestTimeout => {
                f.write_str("The request body did not arrive in time; the connection is closed")
            }
            ApiError::InvalidState => f.write_str(
                "Invalid state: unknown, already used, expired, or from another workspace",
            ),
            ApiError::Provider(why) => write!(f, "The platform failed: {why}"),
            ApiError::PayloadTooLarge => f.write_str("Request body exceeds 64 KiB"),
            ApiError::HeadersTooLarge => f.write_str("Request headers exceed 32 KiB"),
            ApiError::MethodNotAllowed => f.write_str("Method not allowed"),
            ApiError::WrongMethod { allow } => {
                write!(f, "Method not allowed here: this path answers {allow}")
            }
            ApiError::MissingApiKey => {
                f.write_str("Missing API key: send Authorization: Bearer <key>")
            }
            ApiError::InvalidApiKey(why) | ApiError::EmailUnconfirmed(why) => f.write_str(why),
            ApiError::Forbidden(why) | ApiError::Conflict(why) => f.write_str(why),
            ApiError::InsufficientScope(scope) => write!(f, "This API key lacks the scope {scope}"),
            ApiError::NotFound => f.write_str("Not found"),
            ApiError::NotFoundNamed(what) => f.write_str(what),
            ApiError::IdempotencyKeyReused => f.write_str(
                "This Idempotency-Key was used with a different request in the last 24 hours; use a new key",
            ),
            ApiError::NoRoute => f.write_str("No such route: see /v1/openapi.json"),
            ApiError::RateLimited { .. } => f.write_str("Rate limit exceeded"),
            ApiError::Internal(_) => f.write_str("Internal error"),
        }
    }
}

/// The body of every error answer under `/v1`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `invalid_request`, `invalid_state`, `missing_api_key`, `invalid_api_key`, `forbidden`,
    /// `email_unconfirmed`, `insufficient_scope`, `not_found`, `conflict`,
    /// `idempotency_key_reused`, `rate_limited`, `provider_error` or `internal_error`.
    pub code: &'static str,
    pub message: String,
    /// Only on `internal_error`: quote it when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest(_) | ApiError::InvalidState => StatusCode::BAD_REQUEST,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Provider(_) => StatusCode::BAD_GATEWAY,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::MethodNotAllowed | ApiError::WrongMethod { .. } => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            ApiError::MissingApiKey | ApiError::InvalidApiKey(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_)
            | ApiError::EmailUnconfirmed(_)
            | ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NotFoundNamed(_) | ApiError::NoRoute => {
                StatusCode::NOT_FOUND
            }
            ApiError::Conflict(_) | ApiError::IdempotencyKeyReused => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body =
            serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } });
        if let ApiError::Internal(detail) = self {
            let id = hex::encode(crate::crypto::random_bytes::<6>());
            log::error!("API request {id} failed: {detail}");
            body["error"]["request_id"] = serde_json::Value::String(id);
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::MissingApiKey => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="socializer""#));
            }
            ApiError::InvalidApiKey(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="socializer", error="invalid_token""#,
                ));
            }
            ApiError::RateLimited { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::WrongMethod { allow } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        response.json(body)
    }
}

impl From<crate::audit::AuditError> for ApiError {
    fn from(err: crate::audit::AuditError) -> Self {
        use crate::audit::AuditError;
        match err {
            AuditError::Invalid(invalid) => {
                ApiError::InvalidRequest(format!("{}: {}", invalid.field, invalid.message))
            }
            AuditError::Storage(e) => ApiError::Internal(Unexpected::new(e)),
        }
    }
}

impl From<crate::keys::KeyError> for ApiError {
    fn from(err: crate::keys::KeyError) -> Self {
        use crate::keys::KeyError;
        match err {
            KeyError::Invalid(invalid) => {
                ApiError::InvalidRequest(format!("{}: {}", invalid.field, invalid.message))
            }
            KeyError::NotFound => ApiError::NotFound,
            KeyError::InsufficientScope(scope) => ApiError::InsufficientScope(scope),
            KeyError::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
            KeyError::Conflict(why) => ApiError::Conflict(why.to_owned()),
            KeyError::EmailUnconfirmed => ApiError::EmailUnconfirmed(
                "Confirm the email address of this account (or of this key's creator) before making live keys; test keys work meanwhile",
            ),
            KeyError::Storage(e) => ApiError::Internal(Unexpected::new(e)),
        }
    }
}

impl From<crate::connect::ConnectError> for ApiError {
    fn from(err: crate::connect::ConnectError) -> Self {
        use crate::connect::ConnectError;
        match err {
            // The last two arise only at the service's own callback, never through a key.
            ConnectError::InvalidState
            | ConnectError::SignInRequired
            | ConnectError::OtherWorkspace => ApiError::InvalidState,
            ConnectError::NotFound => ApiError::NotFound,
            ConnectError::EmailUnconfirmed => ApiError::EmailUnconfirmed(
                "Confirm the email address of this account before connecting live accounts; the sandbox works meanwhile",
            ),
            ConnectError::Invalid(invalid) => {
                ApiError::InvalidRequest(format!("{}: {}", invalid.field, invalid.message))
            }
            ConnectError::Provider(e) => ApiError::Provider(e.to_string()),
            ConnectError::Storage(e) => ApiError::Internal(Unexpected::new(e)),
            ConnectError::Crypto(e) => ApiError::Internal(Unexpected::new(e)),
        }
    }
}

impl From<crate::publishing::PublishError> for ApiError {
    fn from(err: crate::publishing::PublishError) -> Self {
        use crate::publishing::PublishError;
        match err {
            PublishError::Invalid(invalid) => {
                ApiError::InvalidRequest(format!("{}: {}", invalid.field, invalid.message))
            }
            PublishError::NotFound => ApiError::NotFound,
            PublishError::AccountNotFound(id) => ApiError::NotFoundNamed(format!(
                "No account {id} to publish to: not in this workspace, or not in this key's mode"
            )),
            PublishError::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
            PublishError::EmailUnconfirmed => ApiError::EmailUnconfirmed(
                "Confirm the email address of this account (or of this key's creator) before publishing to live accounts; the sandbox works meanwhile",
            ),
            PublishError::Conflict(why) => ApiError::Conflict(why),
            PublishError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            PublishError::Provider(why) => ApiError::Provider(why),
            PublishError::Storage(e) => ApiError::Internal(Unexpected::new(e)),
            PublishError::Account(e) => e.into(),
        }
    }
}

impl From<crate::people::AccountError> for ApiError {
    fn from(err: crate::people::AccountError) -> Self {
        ApiError::Internal(Unexpected::new(err))
    }
}
