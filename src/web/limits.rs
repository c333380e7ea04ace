//! Request limits that apply before any handler runs.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// All request headers together, names and values. Browsers send a few KiB; more is refused
/// with 431 (§6.3) rather than parsed.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn reject_oversized_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        // The API answers in its JSON envelope; pages in plain words.
        let response = if req.path().starts_with("/v1/") {
            actix_web::ResponseError::error_response(&crate::api::ApiError::HeadersTooLarge)
        } else {
            HttpResponse::RequestHeaderFieldsTooLarge()
                .content_type("text/plain; charset=utf-8")
                .body("Request headers too large")
        };
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
