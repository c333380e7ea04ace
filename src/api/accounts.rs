//! Connected accounts and the connect flow. A key sees only accounts of its own
//! mode: test keys the sandbox's, live keys the real platforms'.

use super::caller::Caller;
use super::error::{ApiError, ErrorEnvelope};
use super::json::StrictQuery;
use super::keys::rfc3339;
use crate::connect::{AccountView, ConnectError, Platform};
use crate::domain::{AccountId, RedirectUri, Scope};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A connected account. No token ever appears here.
#[derive(Serialize, ToSchema)]
pub struct AccountJson {
    id: String,
    /// `x`, `linkedin` or `sandbox`.
    platform: &'static str,
    handle: String,
    display_name: String,
    /// `live`, or `test` for sandbox connections.
    mode: &'static str,
    /// `active`, `expired` (the user must reconnect) or `revoked`.
    status: &'static str,
    connected_at: String,
    token_expires_at: Option<String>,
}

impl From<AccountView> for AccountJson {
    fn from(a: AccountView) -> Self {
        AccountJson {
            id: a.id.to_string(),
            platform: a.platform.as_str(),
            handle: a.handle,
            display_name: a.display_name,
            mode: a.mode.as_str(),
            status: a.status.as_str(),
            connected_at: rfc3339(a.connected_at),
            token_expires_at: a.token_expires_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountList {
    data: Vec<AccountJson>,
}

/// An id that could not be ours is simply not found.
fn account_id(raw: &str) -> Result<AccountId, ApiError> {
    AccountId::parse(raw).ok_or(ApiError::NotFound)
}

fn platform(raw: &str) -> Result<Platform, ApiError> {
    Platform::parse(raw).ok_or(ApiError::NotFound)
}

/// The workspace's accounts of the key's mode.
#[utoipa::path(
    get,
    path = "/v1/accounts",
    tag = "accounts",
    security(("api_key" = ["accounts:read"])),
    responses(
        (status = 200, description = "The accounts, without tokens", body = AccountList),
        (status = 403, description = "The key lacks accounts:read", body = ErrorEnvelope),
    )
)]
#[get("/accounts")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsRead)?;
    let accounts = state.connector.list(&caller.actor()).await?;
    Ok(HttpResponse::Ok().json(AccountList {
        data: accounts.into_iter().map(AccountJson::from).collect(),
    }))
}

/// Disconnects: the stored tokens are erased at once and revoked at the platform where it
/// can.
#[utoipa::path(
    delete,
    path = "/v1/accounts/{id}",
    tag = "accounts",
    security(("api_key" = ["accounts:write"])),
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "No such account for this key", body = ErrorEnvelope),
    )
)]
#[delete("/accounts/{id}")]
pub async fn disconnect(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let id = account_id(&id)?;
    state
        .connector
        .disconnect(&caller.actor(), &id, &caller.who())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reads the profile from the platform with the account's token (refreshed first when near
/// expiry) and answers the account as it now is.
#[utoipa::path(
    post,
    path = "/v1/accounts/{id}/check",
    tag = "accounts",
    security(("api_key" = ["accounts:write"])),
    params(("id" = String, Path, description = "The account's id")),
    responses(
        (status = 200, description = "The account, updated", body = AccountJson),
        (status = 404, description = "No such account for this key", body = ErrorEnvelope),
        (status = 502, description = "The platform failed; the account stays active", body = ErrorEnvelope),
    )
)]
#[post("/accounts/{id}/check")]
pub async fn check(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let id = account_id(&id)?;
    let account = state
        .connector
        .check(&caller.actor(), &id, &caller.who())
        .await?;
    Ok(HttpResponse::Ok().json(AccountJson::from(account)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BeginQuery {
    /// Where the platform sends the user back; default: the service's own callback.
    redirect_uri: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Begun {
    /// Send the user here.
    auth_url: String,
    /// Comes back with the code; single use, 10 minutes.
    state: String,
}

/// Starts connecting a platform.
#[utoipa::path(
    get,
    path = "/v1/connect/{platform}",
    tag = "accounts",
    security(("api_key" = ["accounts:write"])),
    params(("platform" = String, Path, description = "`x`, `linkedin`, or `sandbox` (test keys only)"), BeginQuery),
    responses(
        (status = 200, description = "Where to send the user", body = Begun),
        (status = 400, description = "A bad redirect_uri", body = ErrorEnvelope),
        (status = 403, description = "The key lacks accounts:write (insufficient_scope), or the signed-in person's email is not confirmed and the platform is live (email_unconfirmed)", body = ErrorEnvelope),
        (status = 404, description = "Platform not offered, or not in this key's mode", body = ErrorEnvelope),
    )
)]
#[get("/connect/{platform}")]
pub async fn begin(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    query: StrictQuery<BeginQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let platform = platform(&path)?;
    let redirect = match query.redirect_uri.as_deref() {
        Some(raw) => Some(RedirectUri::parse(raw).map_err(ConnectError::from)?),
        None => None,
    };
    let started = state
        .connector
        .begin(&caller.actor(), platform, redirect)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Begun {
            auth_url: started.auth_url.to_string(),
            state: started.state,
        }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishBody {
    code: String,
    state: String,
}

/// Finishes connecting with the code and state the platform sent back.
#[utoipa::path(
    post,
    path = "/v1/connect/{platform}",
    tag = "accounts",
    security(("api_key" = ["accounts:write"])),
    params(("platform" = String, Path, description = "The platform the flow began with")),
    request_body = FinishBody,
    responses(
        (status = 201, description = "The connected account", body = AccountJson),
        (status = 400, description = "invalid_state, or a bad field", body = ErrorEnvelope),
        (status = 404, description = "Platform not offered, or not in this key's mode", body = ErrorEnvelope),
        (status = 502, description = "The platform refused or failed the exchange", body = ErrorEnvelope),
    )
)]
#[post("/connect/{platform}")]
pub async fn finish(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<FinishBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AccountsWrite)?;
    let platform = platform(&path)?;
    let account = state
        .connector
        .finish(
            caller.finisher(),
            platform,
            &body.code,
            &body.state,
            &caller.who(),
        )
        .await?;
    Ok(HttpResponse::Created().json(AccountJson::from(account)))
}
