//! Last use of each key, recorded in memory and written in batches, so that a request
//! costs no database write. What is shown may lag by the flush interval, well under a minute.

use crate::db::{Database, DbError, InWorkspace, api_keys};
use crate::domain::{ApiKeyId, WorkspaceId};
use crate::logging::Chain;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The latest use of a key: its workspace, when, and from which address.
type LastUse = (WorkspaceId, i64, Option<IpAddr>);

#[derive(Clone, Default)]
pub struct UsageRecorder {
    pending: Arc<Mutex<HashMap<ApiKeyId, LastUse>>>,
}

impl UsageRecorder {
    pub fn record(&self, key: &ApiKeyId, workspace: &WorkspaceId, at: i64, ip: Option<IpAddr>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        // A key in use is usually already pending: update it in place, without allocating.
        if let Some((_, last_at, last_ip)) = pending.get_mut(key) {
            (*last_at, *last_ip) = (at, ip);
            return;
        }
        pending.insert(key.clone(), (workspace.clone(), at, ip));
    }

    /// Writes what was recorded since the last flush, one transaction per workspace.
    pub async fn flush(&self, db: &Database) {
        let batch: Vec<_> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        let mut by_workspace: HashMap<WorkspaceId, Vec<(ApiKeyId, i64, Option<IpAddr>)>> =
            HashMap::new();
        for (key, (workspace, at, ip)) in batch {
            by_workspace
                .entry(workspace)
                .or_default()
                .push((key, at, ip));
        }
        for (workspace, uses) in by_workspace {
            let count = uses.len();
            let written: Result<(), DbError> = db
                .write(InWorkspace(workspace), move |conn| {
                    for (key, at, ip) in &uses {
                        let ip = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
                        api_keys::record_use(conn, key, *at, &ip)?;
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = written {
                log::warn!(
                    "could not record the last use of {count} API keys: {}",
                    Chain(&e)
                );
            }
        }
    }
}
