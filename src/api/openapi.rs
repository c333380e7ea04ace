//! `GET /v1/openapi.json`: the OpenAPI 3 description, generated from the handlers' annotations
//! and the answer types themselves.

use super::error::{ErrorDetail, ErrorEnvelope};
use super::{accounts, keys, status, team};
use actix_web::{HttpResponse, get};
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Socializer API", description = "Authenticate with `Authorization: Bearer sk_live_…`."),
    components(schemas(
        ErrorEnvelope,
        ErrorDetail,
        status::Status,
        status::WorkspaceInfo,
        status::KeyInfo,
        status::RateLimit,
        keys::KeyJson,
        keys::KeyList,
        keys::CreateBody,
        keys::RollBody,
        team::MemberJson,
        team::MemberList,
        team::ActorJson,
        team::EventJson,
        team::EventPage,
        accounts::AccountJson,
        accounts::AccountList,
        accounts::Begun,
        accounts::FinishBody
    )),
    modifiers(&BearerKeys)
)]
pub struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "api_key",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("sk_live_…")
                        .build(),
                ),
            );
        }
    }
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = ApiDoc::openapi();
    // The paths come from the same list the router is built from.
    doc.paths = super::routes::documented();
    doc.to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}
