//! Request limits that apply before any handler runs: the size of the headers, and the methods
//! the service serves at all.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// All request headers together, names and values. Browsers send a few KiB; more is refused
/// with 431 rather than parsed.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The methods some route answers; anything else (TRACE, CONNECT, inventions) is 405 wherever
/// it is sent.
const SERVED_METHODS: &str = "GET, HEAD, POST, DELETE";

fn is_served(method: &actix_web::http::Method) -> bool {
    use actix_web::http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::DELETE,
        Method::PUT,
        Method::PATCH,
        Method::OPTIONS,
    ]
    .contains(method)
}

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
    if !is_served(req.method()) {
        let mut response = if req.path().starts_with("/v1/") {
            actix_web::ResponseError::error_response(&crate::api::ApiError::MethodNotAllowed)
        } else {
            HttpResponse::MethodNotAllowed()
                .content_type("text/plain; charset=utf-8")
                .body("Method not allowed")
        };
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            actix_web::http::header::HeaderValue::from_static(SERVED_METHODS),
        );
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
