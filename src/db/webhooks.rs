//! Webhook endpoints, the events a workspace reports, and their deliveries: workspace data. The
//! deliveries are also the deliverer's queue (`claim_due`), written by [`emit`] in the
//! transaction of the change an event reports, so an event exists exactly when its change does.

use super::schema::{
    webhook_attempts as wa, webhook_deliveries as wd, webhook_endpoints as we, webhook_events as wv,
};
use super::{DbConnection, DbError, InWorkspace, WebhookScanConn, WorkspaceConn};
use crate::domain::{
    DeliveryState, DisabledReason, EndpointState, EventType, WebhookDeliveryId, WebhookEndpointId,
    WebhookEvent, WebhookEventId, WorkspaceId,
};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = we)]
pub struct StoredEndpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub state: EndpointState,
    pub disabled_reason: Option<DisabledReason>,
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_until: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewEndpoint<'a> {
    pub id: &'a WebhookEndpointId,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a str,
    pub state: EndpointState,
    pub secret: &'a [u8],
    pub now: i64,
}

pub fn count_endpoints(conn: &mut WorkspaceConn<'_>) -> Result<i64, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(we::table
        .filter(we::workspace_id.eq(workspace))
        .count()
        .get_result(conn)?)
}

pub fn insert_endpoint(conn: &mut WorkspaceConn<'_>, new: NewEndpoint<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(we::table)
        .values((
            we::id.eq(new.id),
            we::workspace_id.eq(workspace),
            we::url.eq(new.url),
            we::description.eq(new.description),
            we::event_types.eq(new.event_types),
            we::state.eq(new.state),
            we::disabled_reason
                .eq((new.state == EndpointState::Disabled).then_some(DisabledReason::ByPerson)),
            we::secret.eq(new.secret),
            we::created_at.eq(new.now),
            we::updated_at.eq(new.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The workspace's endpoints, oldest first (there are at most ten).
pub fn endpoints(conn: &mut WorkspaceConn<'_>) -> Result<Vec<StoredEndpoint>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(we::table
        .filter(we::workspace_id.eq(workspace))
        .order((we::created_at, we::id))
        .select(StoredEndpoint::as_select())
        .load(conn)?)
}

pub fn endpoint(
    conn: &mut WorkspaceConn<'_>,
    id: &WebhookEndpointId,
) -> Result<Option<StoredEndpoint>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(we::table
        .filter(we::workspace_id.eq(workspace))
        .filter(we::id.eq(id))
        .select(StoredEndpoint::as_select())
        .first(conn)
        .optional()?)
}

/// What a change sets; `None` leaves a field as it is.
#[derive(Default)]
pub struct EndpointChange<'a> {
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub event_types: Option<&'a str>,
    pub state: Option<(EndpointState, Option<DisabledReason>)>,
}

pub fn update_endpoint(
    conn: &mut WorkspaceConn<'_>,
    id: &WebhookEndpointId,
    change: EndpointChange<'_>,
    now: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let row = we::table
        .filter(we::workspace_id.eq(workspace))
        .filter(we::id.eq(id));
    let mut changed = diesel::update(row)
        .set(we::updated_at.eq(now))
        .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    if let Some(url) = change.url {
        changed = diesel::update(row).set(we::url.eq(url)).execute(conn)?;
    }
    if let Some(description) = change.description {
        changed = diesel::update(row)
            .set(we::description.eq(description))
            .execute(conn)?;
    }
    if let Some(types) = change.event_types {
        changed = diesel::update(row)
            .set(we::event_types.eq(types))
            .execute(conn)?;
    }
    if let Some((state, reason)) = change.state {
        // Enabling again starts the five-day count afresh.
        changed = diesel::update(row)
            .set((
                we::state.eq(state),
                we::disabled_reason.eq(reason),
                we::failing_since.eq(None::<i64>),
            ))
            .execute(conn)?;
    }
    Ok(changed > 0)
}

/// Replaces the secret; the one before it keeps signing until `previous_until`.
pub fn roll_secret(
    conn: &mut WorkspaceConn<'_>,
    id: &WebhookEndpointId,
    secret: &[u8],
    previous: &[u8],
    previous_until: i64,
    now: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(
        we::table
            .filter(we::workspace_id.eq(workspace))
            .filter(we::id.eq(id)),
    )
    .set((
        we::secret.eq(secret),
        we::previous_secret.eq(previous),
        we::previous_secret_until.eq(previous_until),
        we::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

pub fn delete_endpoint(
    conn: &mut WorkspaceConn<'_>,
    id: &WebhookEndpointId,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    // Its deliveries and their attempts go with it (ON DELETE CASCADE); events stay for the
    // other endpoints that received them.
    let changed = diesel::delete(
        we::table
            .filter(we::workspace_id.eq(workspace))
            .filter(we::id.eq(id)),
    )
    .execute(conn)?;
    Ok(changed > 0)
}

/// Writes an event and a delivery of it to every enabled endpoint that wants its type (or only
/// to `only`, for a test event), inside the caller's transaction: if the change it reports
/// rolls back, so does the event. Answers the event's id, or `None` when no endpoint wants it
/// (then nothing is written).
pub fn emit(
    conn: &mut WorkspaceConn<'_>,
    event: &WebhookEvent,
    only: Option<&WebhookEndpointId>,
    now: i64,
) -> Result<Option<WebhookEventId>, DbError> {
    let event_type = event.event_type;
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut wanted = we::table
        .filter(we::workspace_id.eq(workspace))
        .filter(we::state.eq(EndpointState::Enabled))
        .select((we::id, we::event_types))
        .into_boxed();
    if let Some(only) = only {
        wanted = wanted.filter(we::id.eq(only));
    }
    let endpoints: Vec<(WebhookEndpointId, String)> = wanted.load(conn)?;
    let receivers: Vec<WebhookEndpointId> = endpoints
        .into_iter()
        .filter(|(_, types)| {
            only.is_some()
                || crate::domain::EventTypes::from_stored(types)
                    .map(|t| t.wants(event_type))
                    .unwrap_or(false)
        })
        .map(|(id, _)| id)
        .collect();
    if receivers.is_empty() {
        return Ok(None);
    }
    let id = WebhookEventId::generate();
    diesel::insert_into(wv::table)
        .values((
            wv::id.eq(&id),
            wv::workspace_id.eq(workspace),
            wv::event_type.eq(event_type),
            wv::mode.eq(event.mode),
            wv::body.eq(event.body(now)),
            wv::created_at.eq(now),
        ))
        .execute(conn)?;
    for endpoint in receivers {
        diesel::insert_into(wd::table)
            .values((
                wd::id.eq(WebhookDeliveryId::generate()),
                wd::workspace_id.eq(workspace),
                wd::endpoint_id.eq(endpoint),
                wd::event_id.eq(&id),
                wd::state.eq(DeliveryState::Pending),
                wd::attempts.eq(0),
                wd::due_at.eq(now),
                wd::created_at.eq(now),
                wd::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(Some(id))
}

/// Reports a key's revocation (see [`WebhookEvent::key_revoked`] for the reasons).
pub fn emit_key_revoked(
    conn: &mut WorkspaceConn<'_>,
    key: &super::api_keys::StoredKey,
    reason: &str,
    now: i64,
) -> Result<(), DbError> {
    let event = WebhookEvent::key_revoked(key.mode, &key.id, &key.label, &key.last4, reason);
    emit(conn, &event, None, now)?;
    Ok(())
}

/// The workspaces with deliveries due (or whose sender stopped mid-send), most overdue first.
pub fn workspaces_due(
    conn: &mut WebhookScanConn<'_>,
    now: i64,
    limit: i64,
) -> Result<Vec<WorkspaceId>, DbError> {
    let rows: Vec<(WorkspaceId, Option<i64>)> = wd::table
        .filter(due(now))
        .group_by(wd::workspace_id)
        .select((wd::workspace_id, diesel::dsl::min(wd::due_at)))
        .order(diesel::dsl::min(wd::due_at))
        .limit(limit)
        .load(conn.conn())?;
    Ok(rows.into_iter().map(|(w, _)| w).collect())
}

/// The earliest time a pending delivery falls due, across workspaces.
pub fn next_due(conn: &mut WebhookScanConn<'_>) -> Result<Option<i64>, DbError> {
    Ok(wd::table
        .filter(wd::state.eq(DeliveryState::Pending))
        .select(diesel::dsl::min(wd::due_at))
        .first::<Option<i64>>(conn.conn())?)
}

/// Due: pending and its time has come, or being delivered by a process whose lease ran out
/// (it stopped mid-send: receivers deduplicate by `webhook-id`, so sending again is right).
#[diesel::dsl::auto_type]
fn due(now: i64) -> _ {
    let pending: DeliveryState = DeliveryState::Pending;
    let delivering: DeliveryState = DeliveryState::Delivering;
    wd::state
        .eq(pending)
        .and(wd::due_at.le(now))
        .or(wd::state.eq(delivering).and(wd::lease_until.lt(now)))
}

/// A delivery claimed for sending, with what sending needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: WebhookDeliveryId,
    pub event: WebhookEventId,
    pub body: String,
    /// The attempt this send is: 1 for the first.
    pub number: i32,
    pub endpoint: StoredEndpoint,
}

/// Claims up to `limit` of the workspace's due deliveries to enabled endpoints, for the holder
/// of `lease` until `lease_until`. On PostgreSQL the rows are locked with `FOR UPDATE SKIP
/// LOCKED`, so two processes claiming at once take different ones; SQLite has one writer.
pub fn claim_due(
    conn: &mut WorkspaceConn<'_>,
    now: i64,
    lease: &str,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let query = wd::table
        .filter(wd::workspace_id.eq(workspace))
        .filter(due(now))
        .filter(
            wd::endpoint_id.eq_any(
                we::table
                    .filter(we::workspace_id.eq(workspace))
                    .filter(we::state.eq(EndpointState::Enabled))
                    .select(we::id),
            ),
        )
        .order((wd::due_at, wd::id))
        .limit(limit)
        .select(wd::id);
    let raw: Vec<String> = match conn {
        DbConnection::Pg(pg) => query.for_update().skip_locked().load(pg)?,
        DbConnection::Sqlite(sqlite) => query.load(sqlite)?,
    };
    let ids: Vec<WebhookDeliveryId> = raw
        .iter()
        .filter_map(|id| WebhookDeliveryId::parse(id))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        wd::table
            .filter(wd::workspace_id.eq(workspace))
            .filter(wd::id.eq_any(&ids)),
    )
    .set((
        wd::state.eq(DeliveryState::Delivering),
        wd::lease.eq(lease),
        wd::lease_until.eq(lease_until),
        wd::attempts.eq(wd::attempts + 1),
        wd::updated_at.eq(now),
    ))
    .execute(conn)?;
    let rows: Vec<(
        WebhookDeliveryId,
        WebhookEventId,
        String,
        i32,
        StoredEndpoint,
    )> = wd::table
        .inner_join(wv::table)
        .inner_join(we::table)
        .filter(wd::workspace_id.eq(workspace))
        .filter(wd::id.eq_any(&ids))
        .filter(wd::lease.eq(lease))
        .select((
            wd::id,
            wd::event_id,
            wv::body,
            wd::attempts,
            StoredEndpoint::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(delivery, event, body, number, endpoint)| Claimed {
            delivery,
            event,
            body,
            number,
            endpoint,
        })
        .collect())
}

/// One attempt, as it ended.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub answer: String,
    pub error: Option<String>,
}

/// What becomes of the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(i64),
    Failed,
}

/// Records an attempt and where its delivery goes next, if the lease is still this holder's
/// (a holder whose lease ran out and was taken over records nothing). `disable` turns the
/// endpoint off in the same transaction; a success ends its run of failures, a failure starts
/// one. Answers the time the endpoint's current run of failures began, when the attempt failed.
pub fn finish(
    conn: &mut WorkspaceConn<'_>,
    claimed: &Claimed,
    lease: &str,
    attempt: &AttemptRecord,
    next: Next,
    disable: Option<DisabledReason>,
    now: i64,
) -> Result<Option<i64>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let row = wd::table
        .filter(wd::workspace_id.eq(workspace))
        .filter(wd::id.eq(&claimed.delivery))
        .filter(wd::lease.eq(lease))
        .filter(wd::state.eq(DeliveryState::Delivering));
    let released = (
        wd::lease.eq(None::<String>),
        wd::lease_until.eq(None::<i64>),
        wd::updated_at.eq(now),
    );
    let changed = match next {
        Next::Delivered => diesel::update(row)
            .set((wd::state.eq(DeliveryState::Delivered), released))
            .execute(conn)?,
        Next::RetryAt(at) => diesel::update(row)
            .set((
                wd::state.eq(DeliveryState::Pending),
                wd::due_at.eq(at),
                released,
            ))
            .execute(conn)?,
        Next::Failed => diesel::update(row)
            .set((wd::state.eq(DeliveryState::Failed), released))
            .execute(conn)?,
    };
    if changed == 0 {
        return Ok(None);
    }
    diesel::insert_into(wa::table)
        .values((
            wa::id.eq(format!(
                "wha_{}",
                hex::encode(crate::crypto::random_bytes::<16>())
            )),
            wa::workspace_id.eq(workspace),
            wa::delivery_id.eq(&claimed.delivery),
            wa::number.eq(claimed.number),
            wa::started_at.eq(attempt.started_at),
            wa::duration_ms.eq(attempt.duration_ms),
            wa::status_code.eq(attempt.status_code.map(i32::from)),
            wa::answer.eq(&attempt.answer),
            wa::error.eq(&attempt.error),
        ))
        .execute(conn)?;
    let endpoint = we::table
        .filter(we::workspace_id.eq(workspace))
        .filter(we::id.eq(&claimed.endpoint.id));
    if let Some(reason) = disable {
        diesel::update(endpoint.filter(we::state.eq(EndpointState::Enabled)))
            .set((
                we::state.eq(EndpointState::Disabled),
                we::disabled_reason.eq(reason),
                we::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    if next == Next::Delivered {
        diesel::update(endpoint)
            .set(we::failing_since.eq(None::<i64>))
            .execute(conn)?;
        return Ok(None);
    }
    diesel::update(endpoint.filter(we::failing_since.is_null()))
        .set(we::failing_since.eq(attempt.started_at))
        .execute(conn)?;
    Ok(endpoint
        .select(we::failing_since)
        .first::<Option<i64>>(conn)?)
}

/// One delivery as the endpoint's page and the API show it.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRow {
    pub id: WebhookDeliveryId,
    pub event_id: WebhookEventId,
    pub event_type: EventType,
    pub state: DeliveryState,
    pub attempts: i32,
    pub due_at: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable)]
pub struct AttemptRow {
    pub delivery_id: WebhookDeliveryId,
    pub number: i32,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub answer: String,
    pub error: Option<String>,
}

/// The endpoint's deliveries created since `since`, newest first, `limit` of them after
/// `before` (the cursor: the last id of the previous page, with its creation time).
pub fn deliveries(
    conn: &mut WorkspaceConn<'_>,
    endpoint: &WebhookEndpointId,
    since: i64,
    before: Option<(i64, &WebhookDeliveryId)>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut query = wd::table
        .inner_join(wv::table)
        .filter(wd::workspace_id.eq(workspace))
        .filter(wd::endpoint_id.eq(endpoint))
        .filter(wd::created_at.ge(since))
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            wd::created_at
                .lt(at)
                .or(wd::created_at.eq(at).and(wd::id.lt(id.as_str().to_owned()))),
        );
    }
    Ok(query
        .order((wd::created_at.desc(), wd::id.desc()))
        .limit(limit)
        .select((
            wd::id,
            wd::event_id,
            wv::event_type,
            wd::state,
            wd::attempts,
            wd::due_at,
            wd::created_at,
        ))
        .load(conn)?)
}

pub fn delivery(
    conn: &mut WorkspaceConn<'_>,
    endpoint: &WebhookEndpointId,
    id: &WebhookDeliveryId,
) -> Result<Option<DeliveryRow>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(wd::table
        .inner_join(wv::table)
        .filter(wd::workspace_id.eq(workspace))
        .filter(wd::endpoint_id.eq(endpoint))
        .filter(wd::id.eq(id))
        .select((
            wd::id,
            wd::event_id,
            wv::event_type,
            wd::state,
            wd::attempts,
            wd::due_at,
            wd::created_at,
        ))
        .first(conn)
        .optional()?)
}

/// The attempts of these deliveries, in order.
pub fn attempts_of(
    conn: &mut WorkspaceConn<'_>,
    deliveries: &[WebhookDeliveryId],
) -> Result<Vec<AttemptRow>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(wa::table
        .filter(wa::workspace_id.eq(workspace))
        .filter(wa::delivery_id.eq_any(deliveries))
        .order((wa::delivery_id, wa::number, wa::started_at))
        .select((
            wa::delivery_id,
            wa::number,
            wa::started_at,
            wa::duration_ms,
            wa::status_code,
            wa::answer,
            wa::error,
        ))
        .load(conn)?)
}

/// Sends a delivery again now, whatever became of it, unless it is being sent at this moment.
/// False when it is being sent (or does not exist).
pub fn resend(
    conn: &mut WorkspaceConn<'_>,
    endpoint: &WebhookEndpointId,
    id: &WebhookDeliveryId,
    now: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(
        wd::table
            .filter(wd::workspace_id.eq(workspace))
            .filter(wd::endpoint_id.eq(endpoint))
            .filter(wd::id.eq(id))
            .filter(wd::state.ne(DeliveryState::Delivering)),
    )
    .set((
        wd::state.eq(DeliveryState::Pending),
        wd::due_at.eq(now),
        wd::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Removes the workspace's events (with their deliveries and attempts) older than `before`.
pub fn prune(conn: &mut WorkspaceConn<'_>, before: i64) -> Result<usize, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(diesel::delete(
        wv::table
            .filter(wv::workspace_id.eq(workspace))
            .filter(wv::created_at.lt(before)),
    )
    .execute(conn)?)
}
