//! Reading the log back, a page at a time, newest first.

use super::{Event, Filter};
use crate::db::audit_events::{self, StoredEvent};
use crate::db::{Database, DbError, InWorkspace};
use crate::domain::{Invalid, WorkspaceId};

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

/// How many entries a page holds: 1 to 100, 50 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(i64);

impl PageSize {
    const MAX: i64 = 100;

    /// How many entries a page holds.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses a page size as sent (`limit`); absent or empty is the default.
    pub fn parse(raw: Option<&str>) -> Result<Self, Invalid> {
        match raw.filter(|l| !l.is_empty()) {
            None => Ok(Self::default()),
            // Digits only: no sign, space or leading zeros to make one limit look like another.
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) if (1..=Self::MAX).contains(&n) && raw == n.to_string() => Ok(Self(n)),
                _ => Err(Invalid::new(
                    "limit",
                    format!("The limit is a whole number from 1 to {}.", Self::MAX),
                )),
            },
        }
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self(50)
    }
}

/// Where a page starts: the id of the last entry of the previous page. Opaque, and says nothing
/// about the rest of the service (a position in the shared sequence would tell one tenant how
/// busy the others are). Anything not shaped like an entry id is refused before a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Parses a cursor as sent; absent or empty means the newest entries.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, Invalid> {
        let Some(raw) = raw.filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        raw.strip_prefix("evt_")
            .filter(|hex| {
                hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .map(|_| Some(Self(raw.to_owned())))
            .ok_or_else(bad_cursor)
    }
}

/// Reads a page after `cursor` (from a previous page; `None` for the newest entries).
pub async fn page(
    db: &Database,
    workspace: &WorkspaceId,
    filter: &Filter,
    cursor: Option<Cursor>,
    size: PageSize,
) -> Result<Page, AuditError> {
    let limit = size.0;
    let after = cursor.map(|c| c.0);
    let filter = filter.stored();
    // One more than asked, to know whether another page follows.
    let mut rows = db
        .read(InWorkspace(workspace.clone()), move |conn| {
            audit_events::page(conn, &filter, after.as_deref(), limit + 1)
        })
        .await?
        .ok_or_else(|| AuditError::Invalid(bad_cursor()))?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(|e| e.id.clone())).flatten();
    Ok(Page {
        events: rows.into_iter().map(EventView::from).collect(),
        next_cursor,
    })
}

/// The most entries one export holds: the newest this many that the filter keeps (a narrower
/// filter reaches older ones).
pub const MAX_EXPORT: i64 = 10_000;

/// Every entry `filter` keeps, newest first, up to [`MAX_EXPORT`], for a download.
pub async fn export(
    db: &Database,
    workspace: &WorkspaceId,
    filter: &Filter,
) -> Result<Vec<EventView>, AuditError> {
    let filter = filter.stored();
    let rows = db
        .read(InWorkspace(workspace.clone()), move |conn| {
            audit_events::page(conn, &filter, None, MAX_EXPORT)
        })
        .await?
        .unwrap_or_default();
    Ok(rows.into_iter().map(EventView::from).collect())
}

/// The names that made the workspace's entries (at most 500), for the filter's choices.
pub async fn actors(db: &Database, workspace: &WorkspaceId) -> Result<Vec<String>, AuditError> {
    Ok(db
        .read(InWorkspace(workspace.clone()), |conn| {
            audit_events::actors(conn, 500)
        })
        .await?)
}

fn bad_cursor() -> Invalid {
    Invalid::new("cursor", "The cursor is not one this service gave out.")
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
        assert_eq!(Cursor::parse(Some(id)).unwrap(), Some(Cursor(id.into())));
        assert_eq!(Cursor::parse(Some("")).unwrap(), None);
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
            assert!(Cursor::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_sizes_run_from_one_to_a_hundred() {
        assert_eq!(PageSize::parse(None).unwrap(), PageSize(50));
        assert_eq!(PageSize::parse(Some("100")).unwrap(), PageSize(100));
        for bad in ["0", "101", "-1", "ten", "1.5", "+5", " 5", "05", "5 "] {
            assert!(PageSize::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
