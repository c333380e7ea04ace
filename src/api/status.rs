use super::auth::Caller;
use super::error::ApiError;
use actix_web::{HttpResponse, get};
use serde::Serialize;

#[derive(Serialize)]
struct Status<'a> {
    workspace: WorkspaceInfo<'a>,
    key: KeyInfo<'a>,
    rate_limit: RateLimit,
}

#[derive(Serialize)]
struct WorkspaceInfo<'a> {
    id: &'a str,
    name: &'a str,
    plan: &'a str,
}

#[derive(Serialize)]
struct KeyInfo<'a> {
    id: &'a str,
    label: &'a str,
    mode: &'a str,
    scopes: Vec<&'static str>,
    last4: &'a str,
}

#[derive(Serialize)]
struct RateLimit {
    limit: u32,
    remaining: u32,
    reset: i64,
}

/// `GET /v1/status`: any valid key; who the key is and where it stands.
#[get("/status")]
pub async fn status(caller: Caller) -> Result<HttpResponse, ApiError> {
    let p = &caller.principal;
    Ok(HttpResponse::Ok().json(Status {
        workspace: WorkspaceInfo {
            id: p.workspace.as_str(),
            name: &p.workspace_name,
            plan: &p.plan,
        },
        key: KeyInfo {
            id: p.key_id.as_str(),
            label: &p.label,
            mode: p.mode.as_str(),
            scopes: p.scopes.names(),
            last4: &p.last4,
        },
        rate_limit: RateLimit {
            limit: caller.rate.limit,
            remaining: caller.rate.remaining,
            reset: caller.rate.reset,
        },
    }))
}
