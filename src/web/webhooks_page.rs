//! The webhooks settings pages: the list with the add form, and each endpoint's own page with
//! its deliveries of the last 30 days, Send test event, Resend, turning it on and off, editing,
//! and the confirmations of rolling its secret and removing it. Owners and admins only.

use super::PageError;
use super::confirm::{self, Confirmation};
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields};
use super::layout::{FormState, Layout, Section, human_time};
use super::shown_once::{self, Kind};
use crate::domain::{
    Action, EventType, EventTypes, Invalid, WebhookDeliveryId, WebhookDescription,
    WebhookEndpointId, WebhookUrl,
};
use crate::http::Unexpected;
use crate::state::AppState;
use crate::webhooks::{
    DeliveryView, EndpointChange, EndpointView, Manager, NewEndpoint, WebhookError,
};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

const LIST: &str = "/settings/webhooks";

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    endpoints: Vec<EndpointRow>,
    form: FormState,
    error: Option<String>,
    event_types: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    layout: Layout,
    endpoint: EndpointRow,
    /// The secret, the one time it is shown (just after the endpoint was made or rolled).
    secret: Option<String>,
    deliveries: Vec<DeliveryRow>,
    older: Option<String>,
    form: FormState,
    event_types: Vec<&'static str>,
    roll: Confirmation,
    delete: Confirmation,
}

struct EndpointRow {
    id: String,
    url: String,
    description: String,
    /// "all events", or the types named.
    events: String,
    all_events: bool,
    chosen: Vec<&'static str>,
    enabled: bool,
    /// "enabled", or why it is disabled.
    state: String,
    rolling_until: Option<String>,
    failing_since: Option<String>,
    /// Where its buttons post.
    test_action: String,
    switch_action: String,
}

impl EndpointRow {
    fn new(e: &EndpointView) -> Self {
        let chosen = e.event_types.names();
        EndpointRow {
            id: e.id.to_string(),
            url: e.url.clone(),
            description: e.description.clone(),
            events: if chosen.is_empty() {
                "all events".into()
            } else {
                chosen.join(", ")
            },
            all_events: chosen.is_empty(),
            chosen,
            enabled: e.state == crate::domain::EndpointState::Enabled,
            state: match e.disabled_reason {
                Some(reason) if e.state != crate::domain::EndpointState::Enabled => {
                    reason.describe().to_owned()
                }
                _ => e.state.as_str().to_owned(),
            },
            rolling_until: e.previous_secret_until.map(human_time),
            failing_since: e.failing_since.map(human_time),
            test_action: format!("{LIST}/{}/test", e.id),
            switch_action: if e.state == crate::domain::EndpointState::Enabled {
                format!("{LIST}/{}/disable", e.id)
            } else {
                format!("{LIST}/{}/enable", e.id)
            },
        }
    }
}

struct DeliveryRow {
    id: String,
    event_type: &'static str,
    event_id: String,
    created_at: String,
    state: &'static str,
    next_attempt: Option<String>,
    attempts: Vec<AttemptRow>,
    resendable: bool,
    resend_action: String,
}

struct AttemptRow {
    number: i32,
    at: String,
    /// The status, or why no answer came.
    outcome: String,
    duration: String,
    answer: String,
}

impl DeliveryRow {
    fn new(endpoint: &WebhookEndpointId, d: &DeliveryView) -> Self {
        DeliveryRow {
            resend_action: format!("{LIST}/{endpoint}/deliveries/{}/resend", d.id),
            id: d.id.to_string(),
            event_type: d.event_type.as_str(),
            event_id: d.event_id.to_string(),
            created_at: human_time(d.created_at),
            state: d.state.as_str(),
            next_attempt: d.next_attempt_at.map(human_time),
            resendable: d.state != crate::domain::DeliveryState::Delivering,
            attempts: d
                .attempts
                .iter()
                .map(|a| AttemptRow {
                    number: a.number,
                    at: human_time(a.at),
                    outcome: match (a.status, &a.error) {
                        (Some(status), _) => status.to_string(),
                        (None, Some(why)) => why.clone(),
                        (None, None) => "no answer".into(),
                    },
                    duration: format!("{} ms", a.duration_ms),
                    answer: a.answer.clone(),
                })
                .collect(),
        }
    }
}

fn manager(member: &SignedInMember) -> Result<Manager, PageError> {
    if !member.ctx.role.may(Action::ManageWebhooks) {
        return Err(PageError::Forbidden(
            "Only owners and admins manage webhooks.",
        ));
    }
    Ok(Manager {
        workspace: member.ctx.workspace.id.clone(),
        role: member.ctx.role,
        key_mode: None,
        who: member.who.clone(),
    })
}

fn webhook_error(err: WebhookError) -> PageError {
    match err {
        WebhookError::Invalid(invalid) => PageError::BadRequest(invalid.message),
        WebhookError::NotFound => PageError::NotFound,
        WebhookError::Forbidden(why) => PageError::Forbidden(why),
        WebhookError::Conflict(why) => PageError::Conflict(why),
        WebhookError::Storage(e) => PageError::Internal(Unexpected::new(e)),
        WebhookError::Crypto(e) => PageError::Internal(Unexpected::new(e)),
    }
}

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, PageError> {
    WebhookEndpointId::parse(raw).ok_or(PageError::NotFound)
}

fn all_types() -> Vec<&'static str> {
    EventType::ALL.iter().map(|t| t.as_str()).collect()
}

/// Keeps a page that may hold a secret's one showing out of every cache.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The form's fields: url, description, events (`all` or `chosen`), event_types, enabled.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn event_types_of(form: &[(String, String)]) -> Result<EventTypes, Invalid> {
    let chosen: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "event_types")
        .map(|(_, v)| v.as_str())
        .collect();
    match field(form, "events") {
        None | Some("all") => Ok(EventTypes::All),
        Some("chosen") if chosen.is_empty() => Err(Invalid::new(
            "event_types",
            "Tick at least one event type, or choose All events.",
        )),
        Some("chosen") => EventTypes::parse_list(&chosen),
        Some(_) => Err(Invalid::new(
            "event_types",
            "Choose All events or the ones ticked.",
        )),
    }
}

/// The form as sent, to show it again when refused.
fn kept(sent: &[(String, String)], mut form: FormState) -> FormState {
    for (name, value) in sent {
        let name = match name.as_str() {
            "url" => "url",
            "description" => "description",
            "events" => "events",
            "event_types" => "event_types",
            "enabled" => "enabled",
            _ => continue,
        };
        form = form.keep(name, value);
    }
    form
}

fn refused(invalid: Invalid, sent: &[(String, String)]) -> FormState {
    let field = match invalid.field {
        "url" => "url",
        "description" => "description",
        _ => "event_types",
    };
    kept(sent, FormState::refused(field, invalid.message))
}

async fn list_page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    form: FormState,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let endpoints = state
        .webhooks
        .list(&manager(member)?)
        .await
        .map_err(webhook_error)?;
    let page = WebhooksPage {
        layout: Layout::for_member(state, member, Section::Webhooks).await?,
        endpoints: endpoints.iter().map(EndpointRow::new).collect(),
        form,
        error,
        event_types: all_types(),
    };
    render(status, &page)
}

#[get("/settings/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    list_page(&state, &member, StatusCode::OK, FormState::default(), None).await
}

#[post("/settings/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let manager = manager(&member)?;
    let new = (|| {
        Ok::<_, Invalid>(NewEndpoint {
            url: WebhookUrl::parse(field(&form, "url").unwrap_or_default().trim(), false)?,
            description: WebhookDescription::parse(field(&form, "description").unwrap_or(""))?,
            event_types: event_types_of(&form)?,
            enabled: field(&form, "enabled").is_some(),
        })
    })();
    let created = match new {
        Ok(new) => state.webhooks.create(&manager, new).await,
        Err(invalid) => Err(WebhookError::Invalid(invalid)),
    };
    match created {
        Ok(created) => {
            let id = created.endpoint.id.clone();
            show_secret_next(&state, &member, &id, &created.secret)
        }
        Err(WebhookError::Invalid(invalid)) => {
            let form = refused(invalid, &form);
            list_page(&state, &member, StatusCode::BAD_REQUEST, form, None).await
        }
        Err(WebhookError::Conflict(why)) => {
            let form = kept(&form, FormState::default());
            list_page(&state, &member, StatusCode::CONFLICT, form, Some(why)).await
        }
        Err(other) => Err(webhook_error(other)),
    }
}

/// Redirects to the endpoint's page, which shows `secret` once (a reload never makes another).
fn show_secret_next(
    state: &AppState,
    member: &SignedInMember,
    id: &WebhookEndpointId,
    secret: &str,
) -> Result<HttpResponse, PageError> {
    let cookie = shown_once::hold(
        Kind::WebhookSecret,
        &member.session,
        &member.ctx.workspace.id,
        id.as_str(),
        secret,
        state.is_https(),
    )?;
    let mut response = see_other(&format!("{LIST}/{id}"));
    response
        .add_cookie(&cookie)
        .map_err(|e| PageError::Internal(Unexpected::context("cookie", e)))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<String>,
}

#[get("/settings/webhooks/{id}")]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let id = endpoint_id(&id)?;
    let secret = shown_once::take(
        Kind::WebhookSecret,
        &req,
        &member.session,
        &member.ctx.workspace.id,
    )
    .filter(|(held, _)| held == id.as_str())
    .map(|(_, secret)| secret);
    let before = query.before.as_deref().filter(|b| !b.is_empty());
    let mut response = endpoint_page(
        &state,
        &member,
        &id,
        secret,
        before,
        StatusCode::OK,
        FormState::default(),
    )
    .await?;
    shown_once::forget(Kind::WebhookSecret, &req, &mut response, state.is_https());
    Ok(no_store(response))
}

async fn endpoint_page(
    state: &AppState,
    member: &SignedInMember,
    id: &WebhookEndpointId,
    secret: Option<String>,
    before: Option<&str>,
    status: StatusCode,
    form: FormState,
) -> Result<HttpResponse, PageError> {
    let manager = manager(member)?;
    let endpoint = state
        .webhooks
        .get(&manager, id)
        .await
        .map_err(webhook_error)?;
    let page = state
        .webhooks
        .deliveries(&manager, id, before, 50)
        .await
        .map_err(webhook_error)?;
    let row = EndpointRow::new(&endpoint);
    // The edit form starts from what is stored, unless it comes back refused.
    let form = if form.is_refused() {
        form
    } else {
        let mut stored = FormState::default()
            .keep("url", &endpoint.url)
            .keep("description", &endpoint.description)
            .keep("events", if row.all_events { "all" } else { "chosen" });
        for chosen in &row.chosen {
            stored = stored.keep("event_types", *chosen);
        }
        stored
    };
    let page = WebhookPage {
        layout: Layout::for_member(state, member, Section::Webhooks).await?,
        roll: roll_confirmation(WebhookPageParts {
            id: id.to_string(),
            url: endpoint.url.clone(),
        }),
        delete: delete_confirmation(WebhookPageParts {
            id: id.to_string(),
            url: endpoint.url.clone(),
        }),
        endpoint: row,
        secret,
        deliveries: page
            .deliveries
            .iter()
            .map(|d| DeliveryRow::new(id, d))
            .collect(),
        older: page.next_cursor,
        form,
        event_types: all_types(),
    };
    render(status, &page)
}

#[post("/settings/webhooks/{id}")]
pub async fn save(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    form: CheckedForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let manager = manager(&member)?;
    let id = endpoint_id(&id)?;
    let change = (|| {
        Ok::<_, Invalid>(EndpointChange {
            url: Some(WebhookUrl::parse(
                field(&form, "url").unwrap_or_default().trim(),
                false,
            )?),
            description: Some(WebhookDescription::parse(
                field(&form, "description").unwrap_or(""),
            )?),
            event_types: Some(event_types_of(&form)?),
            enabled: None,
        })
    })();
    let changed = match change {
        Ok(change) => state.webhooks.change(&manager, &id, change).await,
        Err(invalid) => Err(WebhookError::Invalid(invalid)),
    };
    match changed {
        Ok(_) => {
            member.session.flash("Endpoint saved.")?;
            Ok(see_other(&format!("{LIST}/{id}")))
        }
        Err(WebhookError::Invalid(invalid)) => {
            let form = refused(invalid, &form);
            endpoint_page(
                &state,
                &member,
                &id,
                None,
                None,
                StatusCode::BAD_REQUEST,
                form,
            )
            .await
        }
        Err(other) => Err(webhook_error(other)),
    }
}

async fn set_enabled(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
    enabled: bool,
) -> Result<HttpResponse, PageError> {
    let id = endpoint_id(id)?;
    let change = EndpointChange {
        enabled: Some(enabled),
        ..Default::default()
    };
    state
        .webhooks
        .change(&manager(member)?, &id, change)
        .await
        .map_err(webhook_error)?;
    member.session.flash(if enabled {
        "Endpoint turned on: it receives events again, and what waited for it goes out now."
    } else {
        "Endpoint turned off: it receives nothing until it is turned on again."
    })?;
    Ok(see_other(&format!("{LIST}/{id}")))
}

#[post("/settings/webhooks/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&state, &member, &id, true).await
}

#[post("/settings/webhooks/{id}/disable")]
pub async fn disable(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    set_enabled(&state, &member, &id, false).await
}

#[post("/settings/webhooks/{id}/test")]
pub async fn send_test(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = endpoint_id(&id)?;
    state
        .webhooks
        .send_test(&manager(&member)?, &id)
        .await
        .map_err(webhook_error)?;
    member
        .session
        .flash("Test event sent: it appears below within a few seconds (reload to see it).")?;
    Ok(see_other(&format!("{LIST}/{id}")))
}

#[post("/settings/webhooks/{id}/deliveries/{delivery}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    member: SignedInMember,
    path: web::Path<(String, String)>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (id, delivery) = path.into_inner();
    let id = endpoint_id(&id)?;
    let delivery = WebhookDeliveryId::parse(&delivery).ok_or(PageError::NotFound)?;
    state
        .webhooks
        .resend(&manager(&member)?, &id, &delivery)
        .await
        .map_err(webhook_error)?;
    member
        .session
        .flash("Delivery sent again, with the same webhook-id.")?;
    Ok(see_other(&format!("{LIST}/{id}")))
}

async fn confirm_endpoint(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
    pick: fn(WebhookPageParts) -> Confirmation,
) -> Result<HttpResponse, PageError> {
    let id = endpoint_id(id)?;
    let endpoint = state
        .webhooks
        .get(&manager(member)?, &id)
        .await
        .map_err(webhook_error)?;
    let parts = WebhookPageParts {
        id: id.to_string(),
        url: endpoint.url,
    };
    confirm::page(state, member, Section::Webhooks, pick(parts)).await
}

/// What a confirmation names.
struct WebhookPageParts {
    id: String,
    url: String,
}

fn roll_confirmation(parts: WebhookPageParts) -> Confirmation {
    Confirmation::new(
        "Roll this endpoint's secret?",
        format!(
            "A new secret is made and shown once. For 24 hours deliveries to {} are signed with both, so the receiver can move to the new one; then only the new one signs.",
            parts.url
        ),
        format!("{LIST}/{}/roll-secret", parts.id),
        "Roll secret",
        format!("{LIST}/{}", parts.id),
    )
}

fn delete_confirmation(parts: WebhookPageParts) -> Confirmation {
    Confirmation::new(
        "Remove this endpoint?",
        format!(
            "{} receives nothing more, and its deliveries are deleted. This cannot be undone.",
            parts.url
        ),
        format!("{LIST}/{}/delete", parts.id),
        "Remove endpoint",
        format!("{LIST}/{}", parts.id),
    )
}

#[get("/settings/webhooks/{id}/roll-secret")]
pub async fn confirm_roll(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    confirm_endpoint(&state, &member, &id, roll_confirmation).await
}

#[post("/settings/webhooks/{id}/roll-secret")]
pub async fn roll(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = endpoint_id(&id)?;
    let rolled = state
        .webhooks
        .roll_secret(&manager(&member)?, &id)
        .await
        .map_err(webhook_error)?;
    show_secret_next(&state, &member, &id, &rolled.secret)
}

#[get("/settings/webhooks/{id}/delete")]
pub async fn confirm_delete(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    confirm_endpoint(&state, &member, &id, delete_confirmation).await
}

#[post("/settings/webhooks/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let id = endpoint_id(&id)?;
    let manager = manager(&member)?;
    let endpoint = state
        .webhooks
        .get(&manager, &id)
        .await
        .map_err(webhook_error)?;
    state
        .webhooks
        .delete(&manager, &id)
        .await
        .map_err(webhook_error)?;
    member
        .session
        .flash(format!("Endpoint {} removed.", endpoint.url))?;
    Ok(see_other(LIST))
}
