//! Request limits that apply before any handler runs: the size of the headers, and the methods
//! the service serves at all.

use crate::web::request_heads::{self, Refusal};
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
    if let Some(refusal) = req
        .headers()
        .get(request_heads::REFUSED_HEADER)
        .and_then(|v| Refusal::parse(v.as_bytes()))
    {
        let response = refused(refusal, req.path().starts_with("/v1/"));
        return Ok(req.into_response(response).map_into_right_body());
    }
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

/// The answer to a head that `request_heads` replaced before actix-http could refuse it alone.
fn refused(refusal: Refusal, api: bool) -> HttpResponse {
    use crate::api::ApiError;
    if api {
        let error = match refusal {
            Refusal::TooManyHeaders => ApiError::TooManyHeaders,
            Refusal::HeadTooLarge => ApiError::HeadersTooLarge,
            Refusal::NonAsciiTarget => ApiError::InvalidRequest(
                "The request target must be ASCII: percent-encode other bytes".into(),
            ),
        };
        return actix_web::ResponseError::error_response(&error);
    }
    let (mut response, words) = match refusal {
        Refusal::TooManyHeaders => (
            HttpResponse::RequestHeaderFieldsTooLarge(),
            "Too many request headers",
        ),
        Refusal::HeadTooLarge => (
            HttpResponse::RequestHeaderFieldsTooLarge(),
            "Request headers too large",
        ),
        Refusal::NonAsciiTarget => (HttpResponse::BadRequest(), "Malformed request address"),
    };
    response
        .content_type("text/plain; charset=utf-8")
        .body(words)
}
