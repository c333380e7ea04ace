//! The JSON API under `/v1`, authenticated by API keys. Handlers are thin: take the
//! `Caller`, check its scope, call one domain function, serialise.

mod accounts;
mod auth;
mod caller;
mod error;
mod json;
mod keys;
pub mod openapi;
mod posts;
mod status;
mod team;
mod webhooks;

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
        // The one route the document does not list: the document itself.
        .service(openapi::document)
        .configure(routes::register)
        .default_service(web::to(not_found))
}

/// Lists each `/v1` route once, with the description `#[utoipa::path]` made for it: the router
/// and the OpenAPI document are both built from this list, so neither can have a route the
/// other lacks.
macro_rules! routes {
    ($($handler:path => $description:path),* $(,)?) => {
        pub(crate) mod routes {
            use super::*;

            pub fn register(config: &mut web::ServiceConfig) {
                config$(.service($handler))*;
            }

            pub fn documented() -> utoipa::openapi::path::Paths {
                utoipa::openapi::path::PathsBuilder::new()
                    $(.path_from::<$description>())*
                    .build()
            }
        }
    };
}

routes! {
    status::status => status::__path_status,
    keys::list => keys::__path_list,
    keys::create => keys::__path_create,
    keys::revoke => keys::__path_revoke,
    keys::roll => keys::__path_roll,
    team::members => team::__path_members,
    team::audit_events => team::__path_audit_events,
    accounts::list => accounts::__path_list,
    accounts::disconnect => accounts::__path_disconnect,
    accounts::check => accounts::__path_check,
    accounts::begin => accounts::__path_begin,
    accounts::finish => accounts::__path_finish,
    posts::create => posts::__path_create,
    posts::list => posts::__path_list,
    posts::show => posts::__path_show,
    posts::edit => posts::__path_edit,
    posts::cancel => posts::__path_cancel,
    posts::remove => posts::__path_remove,
    posts::retry => posts::__path_retry,
    webhooks::list => webhooks::__path_list,
    webhooks::create => webhooks::__path_create,
    webhooks::show => webhooks::__path_show,
    webhooks::change => webhooks::__path_change,
    webhooks::remove => webhooks::__path_remove,
    webhooks::roll_secret => webhooks::__path_roll_secret,
    webhooks::send_test => webhooks::__path_send_test,
    webhooks::deliveries => webhooks::__path_deliveries,
    webhooks::resend => webhooks::__path_resend,
}

/// No route took the request: a path the API has, asked with a method it does not answer
/// there, is 405 with the methods it does answer; any other path is 404.
async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    match allowed_methods(req.path()) {
        Some(allow) => Err(ApiError::WrongMethod { allow }),
        None => Err(ApiError::NoRoute),
    }
}

/// The methods the API answers at `path` ("GET, DELETE"), from the routes' own descriptions;
/// `None` for a path it does not have.
fn allowed_methods(path: &str) -> Option<String> {
    use std::sync::LazyLock;
    static TEMPLATES: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
        let mut paths = routes::documented().paths;
        paths.insert(
            "/v1/openapi.json".into(),
            utoipa::openapi::path::PathItem::new(
                utoipa::openapi::HttpMethod::Get,
                utoipa::openapi::path::Operation::new(),
            ),
        );
        paths
            .into_iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let allow: Vec<&str> = methods
                    .into_iter()
                    .filter(|(_, answered)| *answered)
                    .map(|(method, _)| method)
                    .collect();
                let segments = template.split('/').map(str::to_owned).collect();
                (segments, allow.join(", "))
            })
            .collect()
    });
    let asked: Vec<&str> = path.split('/').collect();
    TEMPLATES.iter().find_map(|(segments, allow)| {
        let fits = segments.len() == asked.len()
            && segments.iter().zip(&asked).all(|(template, given)| {
                template == given || (template.starts_with('{') && !given.is_empty())
            });
        fits.then(|| allow.clone())
    })
}
