//! `GET /v1/openapi.json`: the OpenAPI 3 description, generated from the handlers' annotations
//! and the answer types themselves.

use super::error::{ErrorDetail, ErrorEnvelope};
use super::{accounts, keys, posts, status, team, webhooks};
use actix_web::{HttpResponse, get};
use std::sync::LazyLock;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
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
        accounts::FinishBody,
        posts::PostJson,
        posts::AuthorJson,
        posts::TargetJson,
        posts::TargetError,
        posts::AttemptJson,
        posts::PostPage,
        posts::NewPostBody,
        posts::PostChangeBody,
        webhooks::EndpointJson,
        webhooks::EndpointList,
        webhooks::DeliveryJson,
        webhooks::AttemptJson,
        webhooks::DeliveryPage,
        webhooks::TestSent,
        webhooks::NewEndpointBody,
        webhooks::EndpointChangeBody
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
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            add_common_answers(operation);
        }
    }
    let mut json = serde_json::to_value(&doc).unwrap_or_default();
    add_links(&mut json);
    serde_json::to_string_pretty(&json).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
});

/// How answers lead to further operations (OpenAPI links), so that a client, or a fuzzer's
/// stateful phase, can follow a post from its creation to reading, editing, canceling,
/// retrying and deleting it, and an account from the list to a post to it. Written as JSON:
/// utoipa's `Link` spells its fields in snake case, which no reader of OpenAPI understands.
fn add_links(doc: &mut serde_json::Value) {
    use serde_json::json;
    let by_id = |operation: &str| json!({"operationId": operation, "parameters": {"id": "$response.body#/id"}});
    let links = [
        ("/v1/posts", "post", "202", "GetPost", by_id("getPost")),
        ("/v1/posts", "post", "202", "EditPost", by_id("editPost")),
        (
            "/v1/posts",
            "post",
            "202",
            "CancelPost",
            by_id("cancelPost"),
        ),
        (
            "/v1/posts",
            "post",
            "202",
            "DeletePost",
            by_id("deletePost"),
        ),
        (
            "/v1/posts",
            "post",
            "202",
            "RetryTarget",
            json!({"operationId": "retryPostTarget", "parameters": {
                "id": "$response.body#/id",
                "account_id": "$response.body#/targets/0/account_id",
            }}),
        ),
        (
            "/v1/posts",
            "get",
            "200",
            "GetFirstPost",
            json!({"operationId": "getPost", "parameters": {"id": "$response.body#/data/0/id"}}),
        ),
        (
            "/v1/accounts",
            "get",
            "200",
            "PublishToFirstAccount",
            json!({"operationId": "createPost", "requestBody": {
                // The answer's Date makes each post's text its own: X (and the sandbox, as X)
                // refuses the same text to one account within a day.
                "text": "A post to the first account, {$response.header.Date}",
                "account_ids": ["$response.body#/data/0/id"],
            }}),
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            "GetWebhook",
            by_id("getWebhook"),
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            "ChangeWebhook",
            by_id("changeWebhook"),
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            "SendTest",
            by_id("sendWebhookTest"),
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            "Deliveries",
            by_id("listWebhookDeliveries"),
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            "RollSecret",
            by_id("rollWebhookSecret"),
        ),
        (
            "/v1/webhooks",
            "post",
            "201",
            "DeleteWebhook",
            by_id("deleteWebhook"),
        ),
    ];
    for (path, method, status, name, link) in links {
        if let Some(response) = doc
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses/{status}",
                path.replace('/', "~1")
            ))
            .and_then(serde_json::Value::as_object_mut)
        {
            response
                .entry("links")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|links| links.insert(name.to_owned(), link));
        }
    }
}

/// Answers that come from the request pipeline rather than the handler, so that each route's
/// list of statuses is whole without every annotation repeating them: a query string that is
/// not UTF-8 and the rate limit on any route; and on routes behind a key, a missing or bad key
/// and a workspace header naming another workspace.
fn add_common_answers(operation: &mut utoipa::openapi::path::Operation) {
    let keyed = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut common = vec![
        ("400", "Malformed request"),
        ("429", "Rate limited; see Retry-After"),
    ];
    if keyed {
        common.extend([
            ("401", "Missing, invalid, expired or revoked key"),
            (
                "403",
                "Outside the key's scopes or workspace, or beyond its creator's role",
            ),
        ]);
    }
    for (status, description) in common {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_answer(description));
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            add_rate_limit_headers(response, status == "429");
        }
    }
}

/// The headers every `/v1` answer carries: the limit it was counted against, in the older
/// three-header form and in the IETF draft's structured pair; and on a 429, when to come back.
fn add_rate_limit_headers(response: &mut Response, limited: bool) {
    let seconds = |description: &str| {
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .build(),
            )
            .description(Some(description))
            .build()
    };
    let text = |description: &str| {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String).build())
            .description(Some(description))
            .build()
    };
    let mut headers = vec![
        (
            "RateLimit-Limit",
            seconds(
                "Requests a minute the workspace (or, without a valid key, the address) may make",
            ),
        ),
        (
            "RateLimit-Remaining",
            seconds("Requests left in this minute"),
        ),
        (
            "RateLimit-Reset",
            seconds("Seconds until the minute starts again"),
        ),
        (
            "RateLimit-Policy",
            text("The IETF draft's policy, e.g. \"per-minute\";q=60;w=60"),
        ),
        (
            "RateLimit",
            text("The IETF draft's state, e.g. \"per-minute\";r=59;t=42"),
        ),
    ];
    if limited {
        headers.push((
            "Retry-After",
            seconds("Seconds to wait before trying again"),
        ));
    }
    for (name, header) in headers {
        response.headers.entry(name.to_owned()).or_insert(header);
    }
}

fn error_answer(description: &str) -> RefOr<Response> {
    let envelope = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", envelope)
            .build(),
    )
}

#[get("/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}
