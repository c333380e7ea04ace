//! Hearing that keys changed, so that each server process drops what it has cached.
//!
//! On PostgreSQL every change that matters announces itself: triggers on `api_keys`,
//! `memberships` and `workspaces` call `pg_notify` inside the change's transaction (see the
//! migration `key_change_triggers`), and PostgreSQL delivers the notification when it commits,
//! never for one rolled back, whoever made the change. Each server process keeps one dedicated
//! connection that `LISTEN`s ([`Listener`]). On SQLite there is one process, which forgets in
//! place.

use super::DbError;
use crate::domain::{ApiKeyId, WorkspaceId};
use diesel::Connection as _;
use diesel::connection::SimpleConnection as _;
use std::time::{Duration, Instant};

pub const CHANNEL: &str = "socializer_key_changes";

/// What a cached key may no longer be right about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// One key: revoked, rolled, its expiry moved.
    Key(ApiKeyId),
    /// Every key of a workspace: a member's role changed or they left, the plan changed, the
    /// workspace was renamed or deleted.
    Workspace(WorkspaceId),
    /// A notification this version does not understand: forget everything, to be safe.
    Everything,
}

impl KeyChange {
    #[cfg(test)]
    fn payload(&self) -> String {
        match self {
            KeyChange::Key(id) => format!("key:{id}"),
            KeyChange::Workspace(id) => format!("workspace:{id}"),
            KeyChange::Everything => "everything".to_owned(),
        }
    }

    pub fn parse(payload: &str) -> Self {
        let parsed = match payload.split_once(':') {
            Some(("key", id)) => ApiKeyId::parse(id).map(KeyChange::Key),
            Some(("workspace", id)) => WorkspaceId::parse(id).map(KeyChange::Workspace),
            _ => None,
        };
        parsed.unwrap_or(KeyChange::Everything)
    }
}

/// How often a quiet listener checks that its connection still answers: a connection closed
/// by the server shows at once, one that silently stopped (a dropped network path) by this.
const PING_EVERY: Duration = Duration::from_secs(1);

/// A connection that `LISTEN`s for key changes.
///
/// libpq buffers notifications as they arrive and Diesel hands out what is buffered without
/// waiting, so the owner polls ([`Listener::changes`]): each poll is one non-blocking read of
/// the socket, sent nothing, and a closed connection fails the poll.
pub struct Listener {
    conn: diesel::PgConnection,
    pinged: Instant,
}

impl Listener {
    /// Connects and listens. `name` shows in `pg_stat_activity.application_name`, so that an
    /// operator can tell which server a listener belongs to.
    pub fn connect(url: &str, name: &str) -> Result<Self, DbError> {
        let mut conn =
            diesel::PgConnection::establish(url).map_err(|e| DbError::Unavailable(e.into()))?;
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '\'' && *c != '\\' || *c == ' ')
            .take(60)
            .collect();
        // The service's own role, as on every other connection; it needs nothing more.
        conn.batch_execute(&format!(
            "SET application_name = '{name}'; SET ROLE socializer_app; LISTEN {CHANNEL}"
        ))?;
        Ok(Self {
            conn,
            pinged: Instant::now(),
        })
    }

    /// The changes announced since the last call; an error when the connection is gone.
    pub fn changes(&mut self) -> Result<Vec<KeyChange>, DbError> {
        let mut changes = Vec::new();
        for notification in self.conn.notifications_iter() {
            let notification = notification.map_err(|e| DbError::Unavailable(e.into()))?;
            if notification.channel == CHANNEL {
                changes.push(KeyChange::parse(&notification.payload));
            }
        }
        if changes.is_empty() && self.pinged.elapsed() >= PING_EVERY {
            self.conn
                .batch_execute("SELECT 1")
                .map_err(|e| DbError::Unavailable(e.into()))?;
            self.pinged = Instant::now();
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_and_anything_else_forgets_everything() {
        let key = ApiKeyId::generate();
        let workspace = WorkspaceId::generate();
        for change in [
            KeyChange::Key(key),
            KeyChange::Workspace(workspace),
            KeyChange::Everything,
        ] {
            assert_eq!(KeyChange::parse(&change.payload()), change);
        }
        for odd in ["", "key:", "key:nope", "workspace:", "plan:ws_1", "garbage"] {
            assert_eq!(KeyChange::parse(odd), KeyChange::Everything, "{odd}");
        }
    }
}
