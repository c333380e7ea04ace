//! Adding, changing, removing and testing a workspace's endpoints, and reading their deliveries:
//! plain async functions over the database, each check made inside the transaction that stores
//! its result.

use super::{MAX_ENDPOINTS, WebhookError, Webhooks, signing};
use crate::audit::{self, Event, Who};
use crate::crypto::envelope::{Context, DataKey, Keyring};
use crate::db::webhooks::{self as stored, StoredEndpoint};
use crate::db::{InWorkspace, WorkspaceConn};
use crate::domain::{
    Action, DeliveryState, DisabledReason, EndpointState, EventType, EventTypes, Invalid, KeyMode,
    Role, WebhookDeliveryId, WebhookDescription, WebhookEndpointId, WebhookEvent, WebhookEventId,
    WebhookUrl, WorkspaceId, now,
};

/// How long the secret before a roll keeps signing.
pub const ROLL_OVERLAP_SECS: i64 = 24 * 3600;
/// How far back an endpoint's deliveries are shown (and kept).
pub const KEPT_SECS: i64 = 30 * 24 * 3600;

const SECRET_FIELD: &str = "webhook_secret";
const PREVIOUS_SECRET_FIELD: &str = "webhook_previous_secret";

/// Who manages webhooks: a person, or a live key acting with its creator's role.
#[derive(Debug, Clone)]
pub struct Manager {
    pub workspace: WorkspaceId,
    pub role: Role,
    /// A key's mode; `None` for a person.
    pub key_mode: Option<KeyMode>,
    pub who: Who,
}

impl Manager {
    fn may_read(&self) -> Result<(), WebhookError> {
        if self.role.may(Action::ManageWebhooks) {
            Ok(())
        } else {
            Err(WebhookError::Forbidden(
                "Only owners and admins manage webhooks",
            ))
        }
    }

    fn may_write(&self) -> Result<(), WebhookError> {
        self.may_read()?;
        if self.key_mode == Some(KeyMode::Test) {
            // A test key is for trying things safely; an endpoint receives live events too.
            return Err(WebhookError::Forbidden(
                "Test keys cannot change webhooks: an endpoint receives live events too",
            ));
        }
        Ok(())
    }
}

/// An endpoint as shown: never its secret.
#[derive(Debug, Clone)]
pub struct EndpointView {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: String,
    pub event_types: EventTypes,
    pub state: EndpointState,
    pub disabled_reason: Option<DisabledReason>,
    /// While a rolled secret still signs: until when.
    pub previous_secret_until: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl EndpointView {
    fn of(stored: StoredEndpoint, now: i64) -> Result<Self, WebhookError> {
        Ok(Self {
            event_types: EventTypes::from_stored(&stored.event_types)
                .map_err(crate::db::DbError::from)?,
            id: stored.id,
            url: stored.url,
            description: stored.description,
            state: stored.state,
            disabled_reason: stored.disabled_reason,
            previous_secret_until: stored.previous_secret_until.filter(|until| *until > now),
            failing_since: stored.failing_since,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }
}

/// A new endpoint and its secret, shown this once.
pub struct Created {
    pub endpoint: EndpointView,
    pub secret: String,
}

/// An endpoint as asked for, each part already checked.
pub struct NewEndpoint {
    pub url: WebhookUrl,
    pub description: WebhookDescription,
    pub event_types: EventTypes,
    pub enabled: bool,
}

/// What a change sets; `None` leaves a part as it is.
#[derive(Default)]
pub struct EndpointChange {
    pub url: Option<WebhookUrl>,
    pub description: Option<WebhookDescription>,
    pub event_types: Option<EventTypes>,
    pub enabled: Option<bool>,
}

/// One event's delivery to an endpoint, with every attempt.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub id: WebhookDeliveryId,
    pub event_id: WebhookEventId,
    pub event_type: EventType,
    pub state: DeliveryState,
    pub attempts: Vec<AttemptView>,
    /// When it is next tried, while `pending`.
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct AttemptView {
    pub number: i32,
    pub at: i64,
    pub status: Option<i32>,
    pub duration_ms: i64,
    /// The first 1 KiB of the receiver's answer.
    pub answer: String,
    pub error: Option<String>,
}

pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<String>,
}

fn seal(
    key: &DataKey,
    workspace: &WorkspaceId,
    endpoint: &WebhookEndpointId,
    field: &str,
    secret: &str,
) -> Vec<u8> {
    key.seal(
        Context {
            workspace,
            record: endpoint.as_str(),
            field,
        },
        secret,
    )
}

/// The secrets that sign a delivery now: the current one, and the one before it while it still
/// signs.
pub(super) fn open_secrets(
    conn: &mut WorkspaceConn<'_>,
    keyring: &Keyring,
    endpoint: &StoredEndpoint,
    now: i64,
) -> Result<Vec<crate::crypto::envelope::Secret>, WebhookError> {
    let key = data_key(conn, keyring)?;
    let workspace = conn.workspace_id().clone();
    let context = |field| Context {
        workspace: &workspace,
        record: endpoint.id.as_str(),
        field,
    };
    let mut secrets = vec![key.open(context(SECRET_FIELD), &endpoint.secret)?];
    if let (Some(previous), Some(until)) =
        (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > now
    {
        secrets.push(key.open(context(PREVIOUS_SECRET_FIELD), previous)?);
    }
    Ok(secrets)
}

fn data_key(conn: &mut WorkspaceConn<'_>, keyring: &Keyring) -> Result<DataKey, WebhookError> {
    crate::connect::data_key(conn, keyring).map_err(|e| match e {
        crate::connect::ConnectError::Storage(db) => WebhookError::Storage(db),
        crate::connect::ConnectError::Crypto(c) => WebhookError::Crypto(c),
        other => WebhookError::Conflict(other.to_string()),
    })
}

impl Webhooks {
    pub async fn list(&self, manager: &Manager) -> Result<Vec<EndpointView>, WebhookError> {
        manager.may_read()?;
        let now = now();
        self.db
            .read(InWorkspace(manager.workspace.clone()), move |conn| {
                stored::endpoints(conn)?
                    .into_iter()
                    .map(|e| EndpointView::of(e, now))
                    .collect()
            })
            .await
    }

    pub async fn get(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
    ) -> Result<EndpointView, WebhookError> {
        manager.may_read()?;
        let (id, now) = (id.clone(), now());
        self.db
            .read(InWorkspace(manager.workspace.clone()), move |conn| {
                let found = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                EndpointView::of(found, now)
            })
            .await
    }

    /// Checks where a URL points, with the production rule, for a new or changed endpoint.
    async fn check_url(&self, url: &WebhookUrl) -> Result<(), WebhookError> {
        if self.settings.require_https && url.url().scheme() != "https" {
            return Err(Invalid::new("url", "The URL must start with https://.").into());
        }
        self.policy().check_url(url).await?;
        Ok(())
    }

    pub async fn create(
        &self,
        manager: &Manager,
        new: NewEndpoint,
    ) -> Result<Created, WebhookError> {
        manager.may_write()?;
        self.check_url(&new.url).await?;
        let secret = signing::generate_secret();
        let (keyring, who, sealed_secret) =
            (self.keyring.clone(), manager.who.clone(), secret.clone());
        let now = now();
        let endpoint = self
            .db
            .write(InWorkspace(manager.workspace.clone()), move |conn| {
                // The workspace's row lock makes the count and the insert one step, however
                // many ask at once.
                if !crate::db::workspaces::lock(conn)? {
                    return Err(WebhookError::NotFound);
                }
                if stored::count_endpoints(conn)? >= MAX_ENDPOINTS {
                    return Err(WebhookError::Conflict(format!(
                        "A workspace has at most {MAX_ENDPOINTS} webhook endpoints; remove one first."
                    )));
                }
                let id = WebhookEndpointId::generate();
                let key = data_key(conn, &keyring)?;
                let sealed = seal(&key, conn.workspace_id(), &id, SECRET_FIELD, &sealed_secret);
                stored::insert_endpoint(
                    conn,
                    stored::NewEndpoint {
                        id: &id,
                        url: new.url.as_str(),
                        description: new.description.as_str(),
                        event_types: &new.event_types.to_stored(),
                        state: if new.enabled {
                            EndpointState::Enabled
                        } else {
                            EndpointState::Disabled
                        },
                        secret: &sealed,
                        now,
                    },
                )?;
                audit::record(conn, &who, Event::WebhookCreated, new.url.as_str(), None)?;
                let found = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                EndpointView::of(found, now)
            })
            .await?;
        Ok(Created { endpoint, secret })
    }

    pub async fn change(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
        change: EndpointChange,
    ) -> Result<EndpointView, WebhookError> {
        manager.may_write()?;
        if let Some(url) = &change.url {
            self.check_url(url).await?;
        }
        let (id, who, now) = (id.clone(), manager.who.clone(), now());
        let view = self
            .db
            .write(InWorkspace(manager.workspace.clone()), move |conn| {
                let before = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                let types = change.event_types.as_ref().map(EventTypes::to_stored);
                let state = match change.enabled {
                    Some(true) => Some((EndpointState::Enabled, None)),
                    Some(false) if before.state == EndpointState::Enabled => {
                        Some((EndpointState::Disabled, Some(DisabledReason::ByPerson)))
                    }
                    _ => None,
                };
                stored::update_endpoint(
                    conn,
                    &id,
                    stored::EndpointChange {
                        url: change.url.as_ref().map(WebhookUrl::as_str),
                        description: change.description.as_ref().map(WebhookDescription::as_str),
                        event_types: types.as_deref(),
                        state,
                    },
                    now,
                )?;
                let after = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                audit::record(conn, &who, Event::WebhookChanged, &after.url, None)?;
                EndpointView::of(after, now)
            })
            .await?;
        // Deliveries held while it was disabled may go now.
        self.nudge();
        Ok(view)
    }

    pub async fn delete(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
    ) -> Result<(), WebhookError> {
        manager.may_write()?;
        let (id, who) = (id.clone(), manager.who.clone());
        self.db
            .write(InWorkspace(manager.workspace.clone()), move |conn| {
                let found = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                stored::delete_endpoint(conn, &id)?;
                audit::record(conn, &who, Event::WebhookDeleted, &found.url, None)?;
                Ok(())
            })
            .await
    }

    /// A new secret, shown this once; the old one keeps signing for 24 hours.
    pub async fn roll_secret(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
    ) -> Result<Created, WebhookError> {
        manager.may_write()?;
        let secret = signing::generate_secret();
        let (id, who, keyring, fresh) = (
            id.clone(),
            manager.who.clone(),
            self.keyring.clone(),
            secret.clone(),
        );
        let now = now();
        let endpoint = self
            .db
            .write(InWorkspace(manager.workspace.clone()), move |conn| {
                let found = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                let current = open_secrets(conn, &keyring, &found, now)?
                    .into_iter()
                    .next()
                    .ok_or(WebhookError::NotFound)?;
                let key = data_key(conn, &keyring)?;
                let workspace = conn.workspace_id().clone();
                let sealed = seal(&key, &workspace, &id, SECRET_FIELD, &fresh);
                let previous = seal(
                    &key,
                    &workspace,
                    &id,
                    PREVIOUS_SECRET_FIELD,
                    current.expose(),
                );
                stored::roll_secret(conn, &id, &sealed, &previous, now + ROLL_OVERLAP_SECS, now)?;
                audit::record(conn, &who, Event::WebhookSecretRolled, &found.url, None)?;
                let after = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                EndpointView::of(after, now)
            })
            .await?;
        Ok(Created { endpoint, secret })
    }

    /// Sends a `webhook.test` event to this endpoint alone.
    pub async fn send_test(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
    ) -> Result<WebhookEventId, WebhookError> {
        manager.may_write()?;
        let id = id.clone();
        let event_id = self
            .db
            .write(InWorkspace(manager.workspace.clone()), move |conn| {
                let found = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                if found.state != EndpointState::Enabled {
                    return Err(WebhookError::Conflict(
                        "The endpoint is disabled; enable it to send it a test event.".into(),
                    ));
                }
                let event = WebhookEvent::new(
                    EventType::WebhookTest,
                    KeyMode::Live,
                    serde_json::json!({
                        "endpoint_id": id.as_str(),
                        "message": "A test event from Socializer.",
                    }),
                );
                stored::emit(conn, &event, Some(&id), now())?.ok_or(WebhookError::NotFound)
            })
            .await?;
        self.nudge();
        Ok(event_id)
    }

    /// The endpoint's deliveries of the last 30 days, newest first, `limit` per page.
    pub async fn deliveries(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<DeliveryPage, WebhookError> {
        manager.may_read()?;
        let before = match cursor {
            None => None,
            Some(raw) => Some(parse_cursor(raw)?),
        };
        let (id, now) = (id.clone(), now());
        self.db
            .read(InWorkspace(manager.workspace.clone()), move |conn| {
                stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                let rows = stored::deliveries(
                    conn,
                    &id,
                    now - KEPT_SECS,
                    before.as_ref().map(|(at, d)| (*at, d)),
                    limit + 1,
                )?;
                let more = rows.len() > usize::try_from(limit).unwrap_or(0);
                let rows: Vec<_> = rows
                    .into_iter()
                    .take(usize::try_from(limit).unwrap_or(0))
                    .collect();
                let next_cursor = more
                    .then(|| rows.last().map(|r| format!("{}.{}", r.created_at, r.id)))
                    .flatten();
                let deliveries = with_attempts(conn, rows)?;
                Ok(DeliveryPage {
                    deliveries,
                    next_cursor,
                })
            })
            .await
    }

    /// Sends a delivery again now (with the same `webhook-id`, so a receiver that had it
    /// already can tell).
    pub async fn resend(
        &self,
        manager: &Manager,
        id: &WebhookEndpointId,
        delivery: &WebhookDeliveryId,
    ) -> Result<DeliveryView, WebhookError> {
        manager.may_write()?;
        let (id, delivery, now) = (id.clone(), delivery.clone(), now());
        let view = self
            .db
            .write(InWorkspace(manager.workspace.clone()), move |conn| {
                let endpoint = stored::endpoint(conn, &id)?.ok_or(WebhookError::NotFound)?;
                stored::delivery(conn, &id, &delivery)?
                    .filter(|d| d.created_at >= now - KEPT_SECS)
                    .ok_or(WebhookError::NotFound)?;
                if endpoint.state != EndpointState::Enabled {
                    return Err(WebhookError::Conflict(
                        "The endpoint is disabled; enable it to resend.".into(),
                    ));
                }
                if !stored::resend(conn, &id, &delivery, now)? {
                    return Err(WebhookError::Conflict(
                        "This delivery is being sent right now.".into(),
                    ));
                }
                let row = stored::delivery(conn, &id, &delivery)?.ok_or(WebhookError::NotFound)?;
                Ok(with_attempts(conn, vec![row])?.remove(0))
            })
            .await?;
        self.nudge();
        Ok(view)
    }
}

fn parse_cursor(raw: &str) -> Result<(i64, WebhookDeliveryId), WebhookError> {
    let bad = || {
        Invalid::new(
            "cursor",
            "This cursor is not one a page of deliveries gave.",
        )
    };
    let (at, id) = raw.split_once('.').ok_or_else(bad)?;
    let at = at.parse::<i64>().map_err(|_| bad())?;
    let id = WebhookDeliveryId::parse(id).ok_or_else(bad)?;
    Ok((at, id))
}

fn with_attempts(
    conn: &mut WorkspaceConn<'_>,
    rows: Vec<stored::DeliveryRow>,
) -> Result<Vec<DeliveryView>, WebhookError> {
    let ids: Vec<WebhookDeliveryId> = rows.iter().map(|r| r.id.clone()).collect();
    let mut attempts = stored::attempts_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mine: Vec<AttemptView> = attempts
                .extract_if(.., |a| a.delivery_id == row.id)
                .map(|a| AttemptView {
                    number: a.number,
                    at: a.started_at,
                    status: a.status_code,
                    duration_ms: a.duration_ms,
                    answer: a.answer,
                    error: a.error,
                })
                .collect();
            DeliveryView {
                next_attempt_at: (row.state == DeliveryState::Pending).then_some(row.due_at),
                id: row.id,
                event_id: row.event_id,
                event_type: row.event_type,
                state: row.state,
                attempts: mine,
                created_at: row.created_at,
            }
        })
        .collect())
}
