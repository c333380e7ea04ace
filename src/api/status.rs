use super::caller::Caller;
use super::caller::Via;
use super::error::{ApiError, ErrorEnvelope};
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Status<'a> {
    workspace: WorkspaceInfo<'a>,
    /// The calling key; `null` when the dashboard's session calls.
    key: Option<KeyInfo<'a>>,
    /// The signed-in person when the dashboard's session calls; `null` for a key.
    user: Option<UserInfo<'a>>,
    rate_limit: RateLimit,
}

#[derive(Serialize, ToSchema)]
pub struct UserInfo<'a> {
    id: &'a str,
    email: &'a str,
    /// `owner`, `admin` or `member`.
    role: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceInfo<'a> {
    id: &'a str,
    name: &'a str,
    /// `free` or `paid`.
    plan: &'a str,
}

#[derive(Serialize, ToSchema)]
pub struct KeyInfo<'a> {
    id: &'a str,
    label: &'a str,
    /// `live` or `test`.
    mode: &'static str,
    /// Empty: full access.
    scopes: Vec<&'static str>,
    last4: &'a str,
}

#[derive(Serialize, ToSchema)]
pub struct RateLimit {
    limit: u32,
    remaining: u32,
    /// Seconds until the window resets.
    reset: i64,
}

/// Who calls and where it stands: any valid key, or the dashboard's session.
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "status",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The key, its workspace and its rate limit", body = Status),
        (status = 401, description = "Missing or invalid key", body = ErrorEnvelope),
        (status = 429, description = "Rate limited", body = ErrorEnvelope),
    )
)]
#[get("/status")]
pub async fn status(caller: Caller) -> Result<HttpResponse, ApiError> {
    let rate_limit = RateLimit {
        limit: caller.rate.limit,
        remaining: caller.rate.remaining,
        reset: caller.rate.reset,
    };
    let status = match &caller.via {
        Via::Key(p) => Status {
            workspace: WorkspaceInfo {
                id: p.workspace.as_str(),
                name: &p.workspace_name,
                plan: p.plan.as_str(),
            },
            key: Some(KeyInfo {
                id: p.key_id.as_str(),
                label: &p.label,
                mode: p.mode.as_str(),
                scopes: p.scopes.names(),
                last4: &p.last4,
            }),
            user: None,
            rate_limit,
        },
        Via::Session(person) => Status {
            workspace: WorkspaceInfo {
                id: person.workspace.id.as_str(),
                name: person.workspace.name.as_str(),
                plan: person.workspace.plan.as_str(),
            },
            key: None,
            user: Some(UserInfo {
                id: person.user.as_str(),
                email: person.email.as_str(),
                role: person.role.as_str(),
            }),
            rate_limit,
        },
    };
    Ok(HttpResponse::Ok().json(status))
}
