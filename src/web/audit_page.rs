//! The audit log page: newest first, a page at a time, filtered by who, what and when, and
//! exported as CSV or JSON. The filters are query parameters, so a filtered view can be
//! bookmarked; an export holds what the filter keeps, not only the page on screen.

use super::PageError;
use super::breakable::Breakable;
use super::current::SignedInMember;
use super::errors::render;
use super::extract::PageQuery;
use super::layout::{Layout, Section, human_time};
use crate::audit::{self, AuditError, Cursor, Event, EventView, Filter, PageSize};
use crate::domain::Action;
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    events: Vec<EventRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    filtered: bool,
    filter: FilterView,
    actors: Vec<String>,
    actions: Vec<(&'static str, &'static str)>,
    /// The filter's query string (empty when none), for the export links.
    query: String,
}

/// The filter's values as the form shows them again.
struct FilterView {
    actor: String,
    action: String,
    from: String,
    to: String,
}

struct EventRow {
    when: String,
    actor: Breakable,
    actor_kind: String,
    description: String,
    subject: Breakable,
    detail: Option<String>,
    address: String,
}

impl From<EventView> for EventRow {
    fn from(e: EventView) -> Self {
        EventRow {
            when: human_time(e.occurred_at),
            description: e.description().to_owned(),
            actor: Breakable::new(e.actor.name),
            actor_kind: e.actor.kind,
            subject: Breakable::new(e.subject),
            detail: e.detail,
            address: e.address.unwrap_or_else(|| "—".into()),
        }
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    cursor: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> Result<Filter, AuditError> {
        Ok(Filter::parse(
            self.actor.as_deref(),
            self.action.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        )?)
    }
}

fn may_see(member: &SignedInMember) -> Result<(), PageError> {
    if member.ctx.role.may(Action::SeeAudit) {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "Only owners and admins see the audit log.",
        ))
    }
}

/// `/settings/audit`, with `query` (a filter, a cursor) when there is one.
fn audit_href(query: &str) -> String {
    if query.is_empty() {
        "/settings/audit".to_owned()
    } else {
        format!("/settings/audit?{query}")
    }
}

#[get("/settings/audit")]
pub async fn audit_log(
    state: web::Data<AppState>,
    member: SignedInMember,
    query: PageQuery<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    may_see(&member)?;
    let filter = query.filter()?;
    let cursor = Cursor::parse(query.cursor.as_deref()).map_err(AuditError::from)?;
    let first_page = cursor.is_none();
    let workspace = &member.ctx.workspace.id;
    let page = audit::page(&state.db, workspace, &filter, cursor, PageSize::default()).await?;
    let kept = filter.query();
    let next_href = page.next_cursor.map(|c| {
        let mut query = url::form_urlencoded::Serializer::new(kept.clone());
        audit_href(&query.append_pair("cursor", &c).finish())
    });
    let view = AuditPage {
        layout: Layout::for_member(&state, &member, Section::Audit).await?,
        events: page.events.into_iter().map(EventRow::from).collect(),
        next_href,
        first_href: (!first_page).then(|| audit_href(&kept)),
        filtered: !filter.is_empty(),
        filter: FilterView {
            actor: filter.actor.clone().unwrap_or_default(),
            action: filter
                .action
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            from: filter.from.map(|d| d.to_string()).unwrap_or_default(),
            to: filter.to.map(|d| d.to_string()).unwrap_or_default(),
        },
        actors: audit::actors(&state.db, workspace).await?,
        actions: Event::ALL
            .iter()
            .map(|e| (e.as_str(), e.describe()))
            .collect(),
        query: kept,
    };
    render(StatusCode::OK, &view)
}

/// A download's answer: the body, its type, and a file name with the workspace's day.
fn download(body: Vec<u8>, content_type: &'static str, extension: &str) -> HttpResponse {
    let day = time::OffsetDateTime::now_utc().date();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"audit-log-{day}.{extension}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

async fn exported(
    state: &AppState,
    member: &SignedInMember,
    query: &AuditQuery,
) -> Result<Vec<EventView>, PageError> {
    may_see(member)?;
    let filter = query.filter()?;
    Ok(audit::export(&state.db, &member.ctx.workspace.id, &filter).await?)
}

#[get("/settings/audit/export.json")]
pub async fn export_json(
    state: web::Data<AppState>,
    member: SignedInMember,
    query: PageQuery<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let events = exported(&state, &member, &query).await?;
    let body = serde_json::to_vec_pretty(&serde_json::json!({ "data": events }))
        .map_err(|e| PageError::Internal(crate::http::Unexpected::new(e)))?;
    Ok(download(body, "application/json", "json"))
}

#[get("/settings/audit/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    member: SignedInMember,
    query: PageQuery<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let events = exported(&state, &member, &query).await?;
    let body = csv_of(&events).map_err(|e| PageError::Internal(crate::http::Unexpected::new(e)))?;
    Ok(download(body, "text/csv; charset=utf-8", "csv"))
}

/// The entries as CSV, one row each under a header row. A cell a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'`: labels and
/// names in the log are chosen by people, and opening the export must not run them.
fn csv_of(events: &[EventView]) -> Result<Vec<u8>, csv::Error> {
    let inert = |cell: &str| -> String {
        match cell.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
            _ => cell.to_owned(),
        }
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "id",
        "occurred_at",
        "actor_type",
        "actor_id",
        "actor",
        "action",
        "subject",
        "detail",
        "address",
    ])?;
    for e in events {
        let at = time::OffsetDateTime::from_unix_timestamp(e.occurred_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        out.write_record([
            e.id.clone(),
            at,
            e.actor.kind.clone(),
            e.actor.id.clone().unwrap_or_default(),
            inert(&e.actor.name),
            e.action.clone(),
            inert(&e.subject),
            inert(e.detail.as_deref().unwrap_or_default()),
            e.address.clone().unwrap_or_default(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
