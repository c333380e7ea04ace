//! `GET /v1/members` and `GET /v1/audit-events`: who is in the workspace, and what they changed.

use super::caller::{Caller, Via};
use super::error::{ApiError, ErrorEnvelope};
use super::json::StrictQuery;
use super::keys::rfc3339;
use crate::audit::{self, AuditError, Cursor, EventView, Filter, PageSize};
use crate::domain::KeyMode;
use crate::domain::{Action, Scope};
use crate::people;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct MemberJson {
    user_id: String,
    email: String,
    /// `owner`, `admin` or `member`.
    role: &'static str,
    joined_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    data: Vec<MemberJson>,
}

/// Everyone in the workspace, owners first.
#[utoipa::path(
    get,
    path = "/v1/members",
    tag = "workspace",
    security(("api_key" = ["workspace:read"])),
    responses(
        (status = 200, description = "The members", body = MemberList),
        (status = 401, description = "Missing or invalid key", body = ErrorEnvelope),
        (status = 403, description = "The key lacks workspace:read", body = ErrorEnvelope),
    )
)]
#[get("/members")]
pub async fn members(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WorkspaceRead)?;
    let members = people::members(&state.db, caller.workspace()).await?;
    Ok(HttpResponse::Ok().json(MemberList {
        data: members
            .into_iter()
            .map(|m| MemberJson {
                user_id: m.user_id.to_string(),
                email: m.email.to_string(),
                role: m.role.as_str(),
                joined_at: rfc3339(m.joined_at),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ActorJson {
    /// `user`, `key`, `operator` or `service`.
    #[serde(rename = "type")]
    kind: String,
    /// The user's or key's id; null for operators and the service.
    id: Option<String>,
    /// The user's email, or the key as `sk_live_…a1b2`.
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventJson {
    id: String,
    occurred_at: String,
    actor: ActorJson,
    /// What happened, such as `key.created` or `member.role_changed`.
    action: String,
    /// What it happened to: a key as `sk_live_…a1b2 (label)`, an email, an account.
    subject: String,
    detail: Option<String>,
    /// The client address the change came from.
    address: Option<String>,
}

impl From<EventView> for EventJson {
    fn from(e: EventView) -> Self {
        EventJson {
            id: e.id,
            occurred_at: rfc3339(e.occurred_at),
            actor: ActorJson {
                kind: e.actor.kind,
                id: e.actor.id,
                name: e.actor.name,
            },
            action: e.action,
            subject: e.subject,
            detail: e.detail,
            address: e.address,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventPage {
    data: Vec<EventJson>,
    /// Pass as `cursor` for the next, older page; null on the last page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Entries per page, 1 to 100 (default 50).
    limit: Option<String>,
}

/// The workspace's audit log, newest first.
#[utoipa::path(
    get,
    path = "/v1/audit-events",
    tag = "workspace",
    security(("api_key" = ["workspace:read"])),
    params(EventQuery),
    responses(
        (status = 200, description = "One page of entries", body = EventPage),
        (status = 400, description = "A bad cursor or limit", body = ErrorEnvelope),
        (status = 401, description = "Missing or invalid key", body = ErrorEnvelope),
        (status = 403, description = "The key lacks workspace:read, is a test key, or its creator (or the signed-in person) is not an owner or admin", body = ErrorEnvelope),
    )
)]
#[get("/audit-events")]
pub async fn audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: StrictQuery<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::WorkspaceRead)?;
    // Like the settings page: the log is for owners and admins (a key: its creator's role).
    if !caller.role().may(Action::SeeAudit) {
        return Err(ApiError::Forbidden(
            "Only owners and admins read the audit log".into(),
        ));
    }
    // The log names live keys and live accounts; a test key sees no live data.
    if let Via::Key(key) = &caller.via
        && key.mode == KeyMode::Test
    {
        return Err(ApiError::Forbidden(
            "The audit log covers live data: read it with a live key".into(),
        ));
    }
    let size = PageSize::parse(query.limit.as_deref()).map_err(AuditError::from)?;
    let cursor = Cursor::parse(query.cursor.as_deref()).map_err(AuditError::from)?;
    let page = audit::page(
        &state.db,
        caller.workspace(),
        &Filter::default(),
        cursor,
        size,
    )
    .await?;
    Ok(HttpResponse::Ok().json(EventPage {
        data: page.events.into_iter().map(EventJson::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
