//! The background refresher: tokens that expire within ten minutes are refreshed without
//! anyone asking. Every server process runs one; the refresh lease keeps them from spending a
//! refresh token twice.

use super::Connector;
use super::manage::REFRESH_AHEAD_SECS;
use crate::db::{RefreshScan, connected_accounts};
use crate::domain::now;
use crate::logging::Chain;
use std::sync::Arc;
use std::time::Duration;

/// At most this many accounts per round; the rest wait for the next.
const BATCH: i64 = 200;

pub async fn run_refresher(connector: Arc<Connector>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = now();
        let due = connector
            .db
            .read(RefreshScan, move |conn| {
                connected_accounts::due_for_refresh(conn, now + REFRESH_AHEAD_SECS, now, BATCH)
            })
            .await;
        let due = match due {
            Ok(due) => due,
            Err(e) => {
                log::warn!("refresher: cannot list accounts due: {}", Chain(&e));
                continue;
            }
        };
        for (workspace, account) in due {
            // Failures are recorded on the account and logged by `refresh` itself.
            let _ = connector
                .refresh(&workspace, &account, &crate::audit::Who::service())
                .await;
        }
    }
}
