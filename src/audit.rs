//! The audit log: who changed what in a workspace, when, and from which address.
//!
//! Every change is recorded by [`record`] in the same transaction as the change itself, so a
//! change never commits without its entry (nor an entry without its change).

use crate::db::audit_events::{self, NewEvent, StoredEvent};
use crate::db::{Database, DbError, InWorkspace, WorkspaceConn};
use crate::domain::KeyMode;
use crate::domain::{ApiKeyId, Email, Invalid, UserId, WorkspaceId, now};

/// Who made a change.
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: UserId,
        email: Email,
    },
    Key {
        id: ApiKeyId,
        mode: KeyMode,
        last4: String,
    },
    /// Someone running an operator's command (`socializer workspace plan`).
    Operator,
    /// The service itself (the background token refresher).
    Service,
}

/// An actor and the client address the change came from (none for operators and the service).
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: Actor,
    pub address: Option<String>,
}

impl Who {
    pub fn user(id: UserId, email: Email, address: impl Into<String>) -> Self {
        Who {
            actor: Actor::User { id, email },
            address: Some(address.into()),
        }
    }

    pub fn operator() -> Self {
        Who {
            actor: Actor::Operator,
            address: None,
        }
    }

    pub fn service() -> Self {
        Who {
            actor: Actor::Service,
            address: None,
        }
    }

    /// The user behind the change, if a person made it themselves.
    pub fn user_id(&self) -> Option<&UserId> {
        match &self.actor {
            Actor::User { id, .. } => Some(id),
            _ => None,
        }
    }
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::Key { .. } => "key",
            Actor::Operator => "operator",
            Actor::Service => "service",
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id.as_str()),
            Actor::Key { id, .. } => Some(id.as_str()),
            Actor::Operator | Actor::Service => None,
        }
    }

    fn name(&self) -> String {
        match self {
            Actor::User { email, .. } => email.to_string(),
            Actor::Key { mode, last4, .. } => masked_key(*mode, last4),
            Actor::Operator => "operator".into(),
            Actor::Service => "Socializer".into(),
        }
    }
}

/// `sk_live_…a1b2`: how a key is named in the log.
pub fn masked_key(mode: KeyMode, last4: &str) -> String {
    format!("sk_{}_…{last4}", mode.as_str())
}

crate::named_enum! {
    /// What happened.
    pub enum Event {
        KeyCreated = "key.created",
        KeyRolled = "key.rolled",
        KeyRevoked = "key.revoked",
        KeyExpiryShortened = "key.expiry_shortened",
        MemberInvited = "member.invited",
        InvitationResent = "invitation.resent",
        InvitationRevoked = "invitation.revoked",
        MemberJoined = "member.joined",
        MemberRoleChanged = "member.role_changed",
        MemberRemoved = "member.removed",
        MemberLeft = "member.left",
        AccountConnected = "account.connected",
        AccountDisconnected = "account.disconnected",
        AccountExpired = "account.expired",
        AccountRevoked = "account.revoked",
        WorkspaceRenamed = "workspace.renamed",
        WorkspaceDeleted = "workspace.deleted",
        PlanChanged = "workspace.plan_changed",
    }
}

impl Event {
    /// The event in words, for the settings page.
    pub fn describe(self) -> &'static str {
        match self {
            Event::KeyCreated => "created API key",
            Event::KeyRolled => "rolled API key",
            Event::KeyRevoked => "revoked API key",
            Event::KeyExpiryShortened => "brought forward the expiry of API key",
            Event::MemberInvited => "invited",
            Event::InvitationResent => "resent the invitation of",
            Event::InvitationRevoked => "revoked the invitation of",
            Event::MemberJoined => "joined",
            Event::MemberRoleChanged => "changed the role of",
            Event::MemberRemoved => "removed",
            Event::MemberLeft => "left",
            Event::AccountConnected => "connected",
            Event::AccountDisconnected => "disconnected",
            Event::AccountExpired => "found expired:",
            Event::AccountRevoked => "found revoked at the platform:",
            Event::WorkspaceRenamed => "renamed the workspace",
            Event::WorkspaceDeleted => "deleted the workspace",
            Event::PlanChanged => "changed the plan",
        }
    }
}

/// Writes one entry in the connection's workspace, inside the caller's transaction.
pub fn record(
    conn: &mut WorkspaceConn<'_>,
    who: &Who,
    event: Event,
    subject: &str,
    detail: Option<&str>,
) -> Result<(), DbError> {
    let id = format!("evt_{}", hex::encode(crate::crypto::random_bytes::<16>()));
    let name = who.actor.name();
    audit_events::insert(
        conn,
        NewEvent {
            id: &id,
            occurred_at: now(),
            actor_kind: who.actor.kind(),
            actor_id: who.actor.id(),
            actor_name: &name,
            action: event.as_str(),
            subject,
            detail,
            address: who.address.as_deref(),
        },
    )
}

/// An entry as pages and the API show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventView {
    pub id: String,
    pub occurred_at: i64,
    pub actor: ActorView,
    pub action: String,
    pub subject: String,
    pub detail: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ActorView {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub name: String,
}

impl EventView {
    /// The action in words, or as stored when this version does not know it.
    pub fn description(&self) -> &str {
        match Event::parse(&self.action) {
            Some(event) => event.describe(),
            None => &self.action,
        }
    }
}

impl From<StoredEvent> for EventView {
    fn from(e: StoredEvent) -> Self {
        EventView {
            id: e.id,
            occurred_at: e.occurred_at,
            actor: ActorView {
                kind: e.actor_kind,
                id: e.actor_id,
                name: e.actor_name,
            },
            action: e.action,
            subject: e.subject,
            detail: e.detail,
            address: e.address,
        }
    }
}

/// One page of the log, newest first, and where the next (older) page starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<EventView>,
    pub next_cursor: Option<String>,
}

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 100;

/// Reads a page after `cursor` (from a previous page; absent for the newest entries).
pub async fn page(
    db: &Database,
    workspace: &WorkspaceId,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page, AuditError> {
    let after = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(parse_cursor(raw)?),
    };
    let limit = limit.clamp(1, MAX_PAGE);
    // One more than asked, to know whether another page follows.
    let mut rows = db
        .read(InWorkspace(workspace.clone()), move |conn| {
            audit_events::page(conn, after.as_deref(), limit + 1)
        })
        .await?
        .ok_or_else(bad_cursor)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(|e| e.id.clone())).flatten();
    Ok(Page {
        events: rows.into_iter().map(EventView::from).collect(),
        next_cursor,
    })
}

/// A cursor is the id of the last entry of the previous page: opaque, and says nothing about
/// the rest of the service (a position in the shared sequence would tell one tenant how busy
/// the others are). Anything not shaped like an entry id is refused before a query.
fn parse_cursor(raw: &str) -> Result<String, AuditError> {
    raw.strip_prefix("evt_")
        .filter(|hex| {
            hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
        .map(|_| raw.to_owned())
        .ok_or_else(bad_cursor)
}

fn bad_cursor() -> AuditError {
    AuditError::Invalid(Invalid::new(
        "cursor",
        "The cursor is not one this service gave out.",
    ))
}

/// Parses a page size as sent (`limit`): 1 to 100, 50 when absent.
pub fn parse_limit(raw: Option<&str>) -> Result<i64, AuditError> {
    match raw.filter(|l| !l.is_empty()) {
        None => Ok(DEFAULT_PAGE),
        // Digits only: no sign, space or leading zeros to make one limit look like another.
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) && raw == n.to_string() => Ok(n),
            _ => Err(AuditError::Invalid(Invalid::new(
                "limit",
                format!("The limit is a whole number from 1 to {MAX_PAGE}."),
            ))),
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Storage(#[from] DbError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_only_the_ones_handed_out() {
        let id = "evt_0123456789abcdef0123456789abcdef";
        assert_eq!(parse_cursor(id).unwrap(), id);
        for bad in [
            "c42",
            "evt_",
            "evt_0123456789ABCDEF0123456789ABCDEF",
            "evt_0123456789abcdef0123456789abcde",
            "evt_0123456789abcdef0123456789abcdef0",
            " evt_0123456789abcdef0123456789abcdef",
            "evt_0123456789abcdef0123456789abcde٣",
            "key_0123456789abcdef0123456789abcdef",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_sizes_run_from_one_to_a_hundred() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_PAGE);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "ten", "1.5", "+5", " 5", "05", "5 "] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }
}
