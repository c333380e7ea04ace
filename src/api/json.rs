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

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::InvalidRequest(format!("Invalid query: {err}")).into())
}
