//! Writing an entry, inside the transaction of the change it records.

use super::{Event, Who};
use crate::db::audit_events::{self, NewEvent};
use crate::db::{DbError, WorkspaceConn};
use crate::domain::now;

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
