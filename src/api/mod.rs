//! The JSON API under `/v1` (§6), authenticated by API keys. Handlers are thin: take the
//! `Caller`, check its scope, call one domain function, serialise.

mod accounts;
mod auth;
mod error;
mod json;
mod keys;
pub mod openapi;
pub mod rate_limit;
mod status;

pub use error::ApiError;

use actix_web::web;

pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/v1")
        .wrap(actix_web::middleware::from_fn(auth::authenticate))
        .app_data(json::config())
        .app_data(json::path_config())
        .app_data(json::query_config())
        .service(openapi::document)
        .service(status::status)
        .service(keys::list)
        .service(keys::create)
        .service(keys::revoke)
        .service(accounts::list)
        .service(accounts::disconnect)
        .service(accounts::check)
        .service(accounts::begin)
        .service(accounts::finish)
        .default_service(web::to(not_found))
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
