//! JSON request bodies: at most 64 KiB (413), malformed or with unknown fields a 400
//! `invalid_request` whose message names the problem.

use super::error::ApiError;
use actix_web::error::JsonPayloadError;
use actix_web::web;

pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|err, _req| {
            match err {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::PayloadTooLarge,
                JsonPayloadError::ContentType => ApiError::InvalidRequest(
                    "Send the body as JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(e) => {
                    ApiError::InvalidRequest(format!("Invalid JSON body: {e}"))
                }
                other => ApiError::InvalidRequest(format!("Invalid JSON body: {other}")),
            }
            .into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into())
}

/// A query string decoded strictly: bytes that are not UTF-8 once percent-decoded are a 400,
/// never quietly replaced (actix-web's own `Query` would store U+FFFD).
pub struct StrictQuery<T>(pub T);

impl<T> std::ops::Deref for StrictQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> actix_web::FromRequest for StrictQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let raw = req.query_string().as_bytes();
        std::future::ready(if !crate::web::is_strict_utf8(raw) {
            Err(ApiError::InvalidRequest(
                "Invalid query: it is not valid UTF-8 once percent-decoded".into(),
            ))
        } else {
            serde_urlencoded::from_bytes(raw)
                .map(StrictQuery)
                .map_err(|e| ApiError::InvalidRequest(format!("Invalid query: {e}")))
        })
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::InvalidRequest(format!("Invalid query: {err}")).into())
}
