//! Webhook endpoints: where a workspace's events are sent, signed as Standard Webhooks says,
//! and what became of each delivery. Owners and admins (or keys their role allows) manage them;
//! test keys may read them but not change them.

use super::caller::{Caller, Via};
use super::error::{ApiError, ErrorEnvelope};
use super::json::StrictQuery;
use super::keys::rfc3339;
use crate::audit::PageSize;
use crate::domain::{
    EventTypes, Invalid, Scope, WebhookDeliveryId, WebhookDescription, WebhookEndpointId,
    WebhookUrl,
};
use crate::state::AppState;
use crate::webhooks::{
    Created, DeliveryView, EndpointChange, EndpointView, Manager, NewEndpoint, WebhookError,
};
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An endpoint; `secret` only in the answers that make or roll it.
#[derive(Serialize, ToSchema)]
pub struct EndpointJson {
    id: String,
    url: String,
    description: String,
    /// The event types sent; empty: every type.
    event_types: Vec<&'static str>,
    /// `enabled` or `disabled`.
    state: &'static str,
    /// Why it is disabled: `by_person`, `gone` (the receiver answered 410) or `failing` (five
    /// days of failures).
    disabled_reason: Option<&'static str>,
    /// While the secret before a roll still signs too: until when.
    previous_secret_until: Option<String>,
    /// Since when every delivery has failed, while they do.
    failing_since: Option<String>,
    created_at: String,
    updated_at: String,
    /// `whsec_…`: only in the answer that makes or rolls it, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl From<&EndpointView> for EndpointJson {
    fn from(e: &EndpointView) -> Self {
        EndpointJson {
            id: e.id.to_string(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.names(),
            state: e.state.as_str(),
            disabled_reason: e.disabled_reason.map(|r| r.as_str()),
            previous_secret_until: e.previous_secret_until.map(rfc3339),
            failing_since: e.failing_since.map(rfc3339),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            secret: None,
        }
    }
}

impl From<Created> for EndpointJson {
    fn from(created: Created) -> Self {
        EndpointJson {
            secret: Some(created.secret),
            ..EndpointJson::from(&created.endpoint)
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    data: Vec<EndpointJson>,
}

/// One event's delivery to the endpoint.
#[derive(Serialize, ToSchema)]
pub struct DeliveryJson {
    id: String,
    /// The event's id: the `webhook-id` every attempt carries.
    event_id: String,
    event_type: &'static str,
    /// `pending`, `delivering`, `delivered` or `failed`.
    state: &'static str,
    /// While `pending`: when it is tried next.
    next_attempt_at: Option<String>,
    created_at: String,
    attempts: Vec<AttemptJson>,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptJson {
    number: i32,
    at: String,
    /// The receiver's status; none when no answer came.
    status: Option<i32>,
    duration_ms: i64,
    /// The first 1 KiB of the answer.
    answer: String,
    /// Why no answer came (refused address, timeout, connection failed).
    error: Option<String>,
}

impl From<&DeliveryView> for DeliveryJson {
    fn from(d: &DeliveryView) -> Self {
        DeliveryJson {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.as_str(),
            state: d.state.as_str(),
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            created_at: rfc3339(d.created_at),
            attempts: d
                .attempts
                .iter()
                .map(|a| AttemptJson {
                    number: a.number,
                    at: rfc3339(a.at),
                    status: a.status,
                    duration_ms: a.duration_ms,
                    answer: a.answer.clone(),
                    error: a.error.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    data: Vec<DeliveryJson>,
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TestSent {
    /// The test event's id (its `webhook-id`).
    event_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpointBody {
    /// `https://` (in development also `http://`); no user name, password or fragment; a host
    /// that resolves to public addresses only (unless the operator allows private ones).
    #[schema(max_length = 2000, pattern = "^https?://")]
    url: String,
    /// Up to 200 characters.
    description: Option<String>,
    /// Event types to send; none or empty: every type.
    event_types: Option<Vec<String>>,
    /// Default true.
    enabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChangeBody {
    #[schema(max_length = 2000, pattern = "^https?://")]
    url: Option<String>,
    description: Option<String>,
    /// Empty: every type.
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Deliveries per page, 1 to 100 (default 50).
    limit: Option<String>,
}

impl Caller {
    fn manager(&self) -> Manager {
        Manager {
            workspace: self.workspace().clone(),
            role: self.role(),
            key_mode: match &self.via {
                Via::Key(key) => Some(key.mode),
                Via::Session(_) => None,
            },
            who: self.who(),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError::InvalidRequest(format!("{}: {}", invalid.field, invalid.message))
    }
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::Invalid(invalid) => invalid.into(),
            WebhookError::NotFound => ApiError::NotFound,
            WebhookError::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
            WebhookError::Conflict(why) => ApiError::Conflict(why),
            WebhookError::Storage(e) => ApiError::Internal(crate::http::Unexpected::new(e)),
            WebhookError::Crypto(e) => ApiError::Internal(crate::http::Unexpected::new(e)),
        }
    }
}

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, ApiError> {
    WebhookEndpointId::parse(raw).ok_or(ApiError::NotFound)
}

fn types(names: Option<Vec<String>>) -> Result<Option<EventTypes>, ApiError> {
    Ok(names.map(|n| EventTypes::parse_list(&n)).transpose()?)
}

/// The workspace's webhook endpoints, oldest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    operation_id = "listWebhooks",
    tag = "webhooks",
    security(("api_key" = ["webhooks:read"])),
    responses(
        (status = 200, description = "The endpoints, without secrets", body = EndpointList),
        (status = 403, description = "The key lacks webhooks:read, or its creator is not an owner or admin", body = ErrorEnvelope),
    )
)]
#[get("/webhooks")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let endpoints = state.webhooks.list(&caller.manager()).await?;
    Ok(HttpResponse::Ok().json(EndpointList {
        data: endpoints.iter().map(EndpointJson::from).collect(),
    }))
}

/// Adds an endpoint; the answer shows its secret, this once.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    operation_id = "createWebhook",
    tag = "webhooks",
    security(("api_key" = ["webhooks:write"])),
    request_body = NewEndpointBody,
    responses(
        (status = 201, description = "The endpoint, with its secret (this once)", body = EndpointJson),
        (status = 400, description = "A refused URL, description or event type", body = ErrorEnvelope),
        (status = 403, description = "The key lacks webhooks:write, is a test key, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 409, description = "The workspace has 10 endpoints already", body = ErrorEnvelope),
    )
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<NewEndpointBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let body = body.into_inner();
    let new = NewEndpoint {
        url: WebhookUrl::parse(&body.url, false)?,
        description: WebhookDescription::parse(body.description.as_deref().unwrap_or(""))?,
        event_types: types(body.event_types)?.unwrap_or(EventTypes::All),
        enabled: body.enabled.unwrap_or(true),
    };
    let created = state.webhooks.create(&caller.manager(), new).await?;
    Ok(HttpResponse::Created().json(EndpointJson::from(created)))
}

/// One endpoint.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    operation_id = "getWebhook",
    tag = "webhooks",
    security(("api_key" = ["webhooks:read"])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint, without its secret", body = EndpointJson),
        (status = 403, description = "The key lacks webhooks:read, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint here", body = ErrorEnvelope),
    )
)]
#[get("/webhooks/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let endpoint = state
        .webhooks
        .get(&caller.manager(), &endpoint_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(EndpointJson::from(&endpoint)))
}

/// Changes an endpoint's URL, description, event types, or turns it on or off.
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{id}",
    operation_id = "changeWebhook",
    tag = "webhooks",
    security(("api_key" = ["webhooks:write"])),
    params(("id" = String, Path, description = "The endpoint's id")),
    request_body = EndpointChangeBody,
    responses(
        (status = 200, description = "The endpoint, changed", body = EndpointJson),
        (status = 400, description = "A refused URL, description or event type", body = ErrorEnvelope),
        (status = 403, description = "The key lacks webhooks:write, is a test key, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint here", body = ErrorEnvelope),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn change(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<EndpointChangeBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let id = endpoint_id(&id)?;
    let body = body.into_inner();
    let change = EndpointChange {
        url: body
            .url
            .as_deref()
            .map(|u| WebhookUrl::parse(u, false))
            .transpose()?,
        description: body
            .description
            .as_deref()
            .map(WebhookDescription::parse)
            .transpose()?,
        event_types: types(body.event_types)?,
        enabled: body.enabled,
    };
    let endpoint = state
        .webhooks
        .change(&caller.manager(), &id, change)
        .await?;
    Ok(HttpResponse::Ok().json(EndpointJson::from(&endpoint)))
}

/// Removes an endpoint and its deliveries.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    operation_id = "deleteWebhook",
    tag = "webhooks",
    security(("api_key" = ["webhooks:write"])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The key lacks webhooks:write, is a test key, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint here", body = ErrorEnvelope),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    state
        .webhooks
        .delete(&caller.manager(), &endpoint_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new secret, shown this once; the one before it keeps signing for 24 hours.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/roll-secret",
    operation_id = "rollWebhookSecret",
    tag = "webhooks",
    security(("api_key" = ["webhooks:write"])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 201, description = "The endpoint, with its new secret (this once)", body = EndpointJson),
        (status = 403, description = "The key lacks webhooks:write, is a test key, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint here", body = ErrorEnvelope),
    )
)]
#[post("/webhooks/{id}/roll-secret")]
pub async fn roll_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let rolled = state
        .webhooks
        .roll_secret(&caller.manager(), &endpoint_id(&id)?)
        .await?;
    Ok(HttpResponse::Created().json(EndpointJson::from(rolled)))
}

/// Sends the endpoint a `webhook.test` event.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/test",
    operation_id = "sendWebhookTest",
    tag = "webhooks",
    security(("api_key" = ["webhooks:write"])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 202, description = "The test event, queued for delivery", body = TestSent),
        (status = 403, description = "The key lacks webhooks:write, is a test key, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint here", body = ErrorEnvelope),
        (status = 409, description = "The endpoint is disabled", body = ErrorEnvelope),
    )
)]
#[post("/webhooks/{id}/test")]
pub async fn send_test(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let event = state
        .webhooks
        .send_test(&caller.manager(), &endpoint_id(&id)?)
        .await?;
    Ok(HttpResponse::Accepted().json(TestSent {
        event_id: event.to_string(),
    }))
}

/// The endpoint's deliveries of the last 30 days, newest first, with every attempt.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/deliveries",
    operation_id = "listWebhookDeliveries",
    tag = "webhooks",
    security(("api_key" = ["webhooks:read"])),
    params(("id" = String, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses(
        (status = 200, description = "One page of deliveries", body = DeliveryPage),
        (status = 400, description = "A bad cursor or limit", body = ErrorEnvelope),
        (status = 403, description = "The key lacks webhooks:read, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint here", body = ErrorEnvelope),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: StrictQuery<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let size = PageSize::parse(query.limit.as_deref())?;
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let page = state
        .webhooks
        .deliveries(&caller.manager(), &endpoint_id(&id)?, cursor, size.get())
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        data: page.deliveries.iter().map(DeliveryJson::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Sends a delivery again now, with the same `webhook-id`.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/deliveries/{delivery_id}/resend",
    operation_id = "resendWebhookDelivery",
    tag = "webhooks",
    security(("api_key" = ["webhooks:write"])),
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        ("delivery_id" = String, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The delivery, queued again", body = DeliveryJson),
        (status = 403, description = "The key lacks webhooks:write, is a test key, or its creator is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such endpoint or delivery here", body = ErrorEnvelope),
        (status = 409, description = "The endpoint is disabled, or the delivery is being sent right now", body = ErrorEnvelope),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let (id, delivery) = path.into_inner();
    let delivery = WebhookDeliveryId::parse(&delivery).ok_or(ApiError::NotFound)?;
    let view = state
        .webhooks
        .resend(&caller.manager(), &endpoint_id(&id)?, &delivery)
        .await?;
    Ok(HttpResponse::Accepted().json(DeliveryJson::from(&view)))
}
