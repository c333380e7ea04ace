use super::caller::Caller;
use super::error::{ApiError, ErrorEnvelope};
use crate::domain::{ApiKeyId, ExpiryDays, GraceHours, Invalid, KeyLabel, KeyMode, Scope, Scopes};
use crate::keys::{self, CreateKey, KeyView};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A key in an answer: everything but its secret; `plaintext` only in the answer that creates it.
#[derive(Serialize, ToSchema)]
pub struct KeyJson {
    id: String,
    label: String,
    /// `live` or `test`.
    mode: &'static str,
    /// Empty: full access.
    scopes: Vec<&'static str>,
    last4: String,
    /// `active`, `expired` or `revoked`.
    state: &'static str,
    /// Email of the person who made the key (or who made the key that made it).
    created_by: Option<String>,
    /// The id of the key that made this one, when a key made it.
    created_by_key: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
    last_used_ip: Option<String>,
    /// The key itself: only in the answer that creates it, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<String>,
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl From<KeyView> for KeyJson {
    fn from(k: KeyView) -> Self {
        KeyJson {
            id: k.id.to_string(),
            label: k.label,
            mode: k.mode.as_str(),
            scopes: k.scopes.names(),
            last4: k.last4,
            state: k.state.as_str(),
            created_by: k.created_by.map(|email| email.to_string()),
            created_by_key: k.created_by_key.map(|id| id.to_string()),
            created_at: rfc3339(k.created_at),
            expires_at: k.expires_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
            last_used_at: k.last_used_at.map(rfc3339),
            last_used_ip: k.last_used_ip,
            plaintext: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    data: Vec<KeyJson>,
}

/// Every key of the workspace, revoked and expired ones included.
#[utoipa::path(
    get,
    path = "/v1/api-keys",
    tag = "api-keys",
    security(("api_key" = ["keys:read"])),
    responses(
        (status = 200, description = "The keys, without secrets", body = KeyList),
        (status = 401, description = "Missing or invalid key", body = ErrorEnvelope),
        (status = 403, description = "The key lacks keys:read", body = ErrorEnvelope),
    )
)]
#[get("/api-keys")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysRead)?;
    let keys = keys::list_keys(&state.db, &caller.issuer()).await?;
    Ok(HttpResponse::Ok().json(KeyList {
        data: keys.into_iter().map(KeyJson::from).collect(),
    }))
}

fn expires_in_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    super::json::optional_whole_number(d, "expires_in_days")
}

fn grace_hours<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    super::json::whole_number(d, "grace_hours")
}

/// The spellings of a key's mode, for the API's description (the body reads it as text and
/// refuses any other spelling with a message naming the field).
#[derive(ToSchema)]
#[schema(as = KeyModeName)]
#[allow(dead_code, reason = "only described, never built")]
enum ModeName {
    #[schema(rename = "live")]
    Live,
    #[schema(rename = "test")]
    Test,
}

/// The spellings of a scope, for the API's description.
#[derive(ToSchema)]
#[schema(as = ScopeName)]
#[allow(dead_code, reason = "only described, never built")]
enum ScopeName {
    #[schema(rename = "accounts:read")]
    AccountsRead,
    #[schema(rename = "accounts:write")]
    AccountsWrite,
    #[schema(rename = "keys:read")]
    KeysRead,
    #[schema(rename = "keys:write")]
    KeysWrite,
    #[schema(rename = "workspace:read")]
    WorkspaceRead,
    #[schema(rename = "posts:read")]
    PostsRead,
    #[schema(rename = "posts:write")]
    PostsWrite,
    #[schema(rename = "webhooks:read")]
    WebhooksRead,
    #[schema(rename = "webhooks:write")]
    WebhooksWrite,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// 1 to 100 characters, at least one of them visible, none of them a control, invisible or
    /// text-direction character (the pattern says so for ASCII and Latin-1, C1 controls
    /// included; the rule is Unicode's).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    label: String,
    /// The calling key's own mode (the default); another mode is refused.
    #[serde(default)]
    #[schema(value_type = Option<ModeName>)]
    mode: Option<String>,
    /// None: full access (never more than the calling key has).
    #[serde(default)]
    #[schema(value_type = Vec<ScopeName>)]
    scopes: Vec<String>,
    /// 1 to 3650; absent or null: never expires. Never later than the calling key's own expiry,
    /// which caps it.
    #[serde(default, deserialize_with = "expires_in_days")]
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

impl TryFrom<CreateBody> for CreateKey {
    type Error = Invalid;

    /// Each field parsed in the order the document lists them, so the first bad one is named.
    fn try_from(body: CreateBody) -> Result<Self, Invalid> {
        let label = KeyLabel::parse(&body.label)?;
        let mode = body.mode.as_deref().map(KeyMode::parse_field).transpose()?;
        Ok(CreateKey {
            label,
            mode,
            scopes: Scopes::parse_list(&body.scopes)?,
            expires_in_days: body.expires_in_days.map(ExpiryDays::new).transpose()?,
        })
    }
}

/// A bad field as the API says it: the field's name, then what is wrong.
fn invalid(invalid: Invalid) -> ApiError {
    ApiError::InvalidRequest(format!("{}: {}", invalid.field, invalid.message))
}

/// Creates a key; the answer carries its `plaintext`, this once.
#[utoipa::path(
    post,
    path = "/v1/api-keys",
    tag = "api-keys",
    security(("api_key" = ["keys:write"])),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new key, with its plaintext", body = KeyJson),
        (status = 400, description = "A bad field, named in the message", body = ErrorEnvelope),
        (status = 403, description = "The key lacks a scope it asks for (insufficient_scope), or a live key is asked for by an account whose email is not confirmed (email_unconfirmed)", body = ErrorEnvelope),
        (status = 413, description = "Body over 64 KiB", body = ErrorEnvelope),
    )
)]
#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysWrite)?;
    let body = body.into_inner();
    // Left out (or null), the mode is the calling key's own; written, it is one of the two.
    if body.mode.as_deref().is_some_and(|m| m.trim().is_empty()) {
        return Err(ApiError::InvalidRequest(
            "mode: The mode is live or test; leave it out for the calling key's own.".into(),
        ));
    }
    let request = CreateKey::try_from(body).map_err(invalid)?;
    let made = keys::create_key(&state.db, state.post(), &caller.issuer(), request).await?;
    Ok(made_key(made))
}

/// 201 with a key just made and its plaintext, this once; never stored by a cache.
fn made_key((view, secret): (KeyView, crate::auth::api_key::NewApiKey)) -> HttpResponse {
    let mut json = KeyJson::from(view);
    json.plaintext = Some(secret.expose().to_owned());
    HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json)
}

/// Revokes a key at once.
#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    tag = "api-keys",
    security(("api_key" = ["keys:write"])),
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked, with every key it made"),
        (status = 403, description = "The key lacks keys:write, or the target has scopes beyond the calling key's", body = ErrorEnvelope),
        (status = 404, description = "No such key in this workspace (a test key sees only test keys)", body = ErrorEnvelope),
    )
)]
#[delete("/api-keys/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysWrite)?;
    let id = ApiKeyId::parse(&id).ok_or(ApiError::NotFound)?;
    keys::revoke_key(&state.db, &state.key_cache, &caller.issuer(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollBody {
    /// Hours the old key keeps working, 0 to 168.
    #[serde(deserialize_with = "grace_hours")]
    #[schema(minimum = 0, maximum = 168)]
    grace_hours: u32,
}

/// Replaces a key with a new one of the same label, mode and scopes; the old key keeps working
/// for the grace period. The answer carries the replacement's `plaintext`, this once.
#[utoipa::path(
    post,
    path = "/v1/api-keys/{id}/roll",
    tag = "api-keys",
    security(("api_key" = ["keys:write"])),
    params(("id" = String, Path, description = "The key's id")),
    request_body = RollBody,
    responses(
        (status = 201, description = "The replacement, with its plaintext", body = KeyJson),
        (status = 400, description = "A bad grace period", body = ErrorEnvelope),
        (status = 409, description = "conflict: the key is revoked, expired or rolled already (roll its replacement)", body = ErrorEnvelope),
        (status = 403, description = "The key lacks keys:write, the target has scopes beyond the calling key's, or a live replacement is asked for by an account whose email is not confirmed (email_unconfirmed)", body = ErrorEnvelope),
        (status = 404, description = "No such key in this workspace (a test key sees only test keys)", body = ErrorEnvelope),
        (status = 413, description = "Body over 64 KiB", body = ErrorEnvelope),
    )
)]
#[post("/api-keys/{id}/roll")]
pub async fn roll(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<RollBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysWrite)?;
    let grace = GraceHours::new(body.grace_hours).map_err(invalid)?;
    let id = ApiKeyId::parse(&id).ok_or(ApiError::NotFound)?;
    let made = keys::roll_key(&state.db, &state.key_cache, &caller.issuer(), &id, grace).await?;
    Ok(made_key(made))
}
