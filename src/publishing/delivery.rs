//! The publisher: every server process runs one. It claims due targets from the database
//! (several processes take different ones), marks each `publishing` in a committed write before
//! calling the platform, and records what the platform said. A send whose outcome is unknown is
//! recorded as `unknown` and never repeated by itself; a target whose process died mid-send is
//! found by its lapsed lease and ends `unknown` too.

use super::Publisher;
use super::platform_api::{self, Sent};
use crate::connect::ConnectError;
use crate::db::posts::{self as stored, Claimed, Outcome};
use crate::db::{InWorkspace, PublishScan};
use crate::domain::{AccountStatus, TargetState, WorkspaceId, now};
use crate::logging::Chain;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Sends under way at once in one process.
const IN_FLIGHT: usize = 32;
/// Workspaces looked at per round, most overdue first.
const WORKSPACES_PER_ROUND: i64 = 50;

impl Publisher {
    /// How long a claim holds a target before its first platform call: long enough for a
    /// token refresh (15 s) and a wait for another process's refresh (20 s).
    const CLAIM_SECS: i64 = 60;

    /// How long the lease runs from the moment of a platform call: the call's timeout and a
    /// margin to record its outcome.
    fn call_lease_secs(&self) -> i64 {
        i64::try_from(self.settings.timeout.as_secs())
            .unwrap_or(60)
            .max(1)
            + 5
    }

    /// Extends the claim to cover one platform call. False when the claim was lost.
    async fn hold_for_call(&self, workspace: &WorkspaceId, claimed: &Claimed, lease: &str) -> bool {
        let (target, lease) = (claimed.target.id.clone(), lease.to_owned());
        let until = now() + self.call_lease_secs();
        let held = self
            .db
            .write(InWorkspace(workspace.clone()), move |conn| {
                stored::extend_lease(conn, &target, &lease, until)
            })
            .await;
        match held {
            Ok(held) => held,
            Err(e) => {
                log::warn!(
                    "target {}: cannot extend its lease, so it is not sent now: {}",
                    claimed.target.id,
                    Chain(&e)
                );
                false
            }
        }
    }
}

/// Runs the publisher until the process stops.
pub async fn run_publisher(publisher: Arc<Publisher>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let claimed = round(&publisher, &slots).await;
        if claimed == 0 {
            let wait = until_next(&publisher).await;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = publisher.wake.notified() => {}
            }
        }
    }
}

/// How long to sleep: until the next target falls due, at most the polling interval.
async fn until_next(publisher: &Publisher) -> Duration {
    let every = publisher.settings.poll_every;
    match publisher.db.read(PublishScan, stored::next_due).await {
        Ok(Some(at)) => {
            let secs = (at - now()).max(0);
            every.min(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
        }
        Ok(None) => every,
        Err(e) => {
            log::warn!("publisher: cannot read the next due time: {}", Chain(&e));
            every
        }
    }
}

/// One round: lapsed leases become `unknown`, then due targets are claimed and sent, as many
/// as there are free slots. Answers how many were claimed.
async fn round(publisher: &Arc<Publisher>, slots: &Arc<Semaphore>) -> usize {
    sweep_lapsed(publisher).await;
    let now = now();
    let workspaces = match publisher
        .db
        .read(PublishScan, move |conn| {
            stored::workspaces_due(conn, now, WORKSPACES_PER_ROUND)
        })
        .await
    {
        Ok(w) => w,
        Err(e) => {
            log::warn!("publisher: cannot list due targets: {}", Chain(&e));
            return 0;
        }
    };
    let mut claimed_total = 0;
    for workspace in workspaces {
        let free = slots.available_permits();
        if free == 0 {
            // Wait for one send to end before claiming more: a claim's lease starts ticking.
            drop(slots.clone().acquire_owned().await);
            continue;
        }
        let lease = crate::crypto::random_token();
        let lease_secs = Publisher::CLAIM_SECS;
        let (ws, lease_owned) = (workspace.clone(), lease.clone());
        let claimed = publisher
            .db
            .write(InWorkspace(ws), move |conn| {
                let now = crate::domain::now();
                stored::claim_due(
                    conn,
                    now,
                    &lease_owned,
                    now + lease_secs,
                    i64::try_from(free).unwrap_or(1),
                )
            })
            .await;
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                log::warn!("publisher: claiming in {workspace} failed: {}", Chain(&e));
                continue;
            }
        };
        claimed_total += claimed.len();
        for target in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return claimed_total;
            };
            let (publisher, workspace, lease) =
                (publisher.clone(), workspace.clone(), lease.clone());
            tokio::spawn(async move {
                deliver(&publisher, &workspace, &target, &lease).await;
                drop(permit);
            });
        }
    }
    claimed_total
}

/// Targets whose process stopped mid-send → `unknown`.
async fn sweep_lapsed(publisher: &Publisher) {
    let now = now();
    let lapsed = match publisher
        .db
        .read(PublishScan, move |conn| stored::lapsed(conn, now, 500))
        .await
    {
        Ok(l) => l,
        Err(e) => {
            log::warn!("publisher: cannot list lapsed leases: {}", Chain(&e));
            return;
        }
    };
    for (workspace, target) in lapsed {
        let id = target.clone();
        let marked = publisher
            .db
            .write(InWorkspace(workspace), move |conn| {
                let marked = stored::mark_lapsed(conn, &id, now)?;
                if marked {
                    stored::report(conn, &id, now)?;
                }
                Ok::<_, crate::db::DbError>(marked)
            })
            .await;
        match marked {
            Ok(true) => log::warn!("target {target}: its sender stopped mid-send; now unknown"),
            Ok(false) => {}
            Err(e) => log::warn!("target {target}: cannot mark it unknown: {}", Chain(&e)),
        }
    }
}

/// Sends one claimed target and records the outcome.
async fn deliver(publisher: &Publisher, workspace: &WorkspaceId, claimed: &Claimed, lease: &str) {
    let Some(outcome) = attempt(publisher, workspace, claimed, lease).await else {
        // The claim was lost before anything was sent: its lapse records it.
        return;
    };
    let target = claimed.target.id.clone();
    // The outcome must reach the database: a few tries, then the lease's lapse records the
    // target as unknown, which is true.
    for wait in [0_u64, 1, 2, 4] {
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let (claimed, lease, outcome) = (claimed.clone(), lease.to_owned(), outcome.clone());
        let recorded = publisher
            .db
            .write(InWorkspace(workspace.clone()), move |conn| {
                let now = now();
                let changed = stored::finish(conn, &claimed, &lease, &outcome, now)?;
                if changed {
                    stored::report(conn, &claimed.target.id, now)?;
                }
                Ok::<_, crate::db::DbError>(changed)
            })
            .await;
        match recorded {
            Ok(_) => return,
            Err(e) => log::warn!("target {target}: cannot record its outcome: {}", Chain(&e)),
        }
    }
}

/// The platform call, with the token refreshed first when due, and once more after a 401.
/// `None` when the claim was lost before the call (nothing was sent).
async fn attempt(
    publisher: &Publisher,
    workspace: &WorkspaceId,
    claimed: &Claimed,
    lease: &str,
) -> Option<Outcome> {
    let account = &claimed.target.account_id;
    let mut sender = match publisher.connector.sender(workspace, account, None).await {
        Ok(sender) => sender,
        Err(ConnectError::NotFound) => {
            return Some(ended(
                TargetState::Failed,
                None,
                "account_gone",
                "The account was disconnected before this was sent.",
            ));
        }
        Err(e) => {
            // The token could not even be read: nothing was sent.
            return Some(ended(
                TargetState::Failed,
                None,
                "account_unreadable",
                &format!("The account's token could not be read: {e}"),
            ));
        }
    };
    if sender.status != AccountStatus::Active {
        return Some(ended(
            TargetState::Failed,
            None,
            "account_inactive",
            &format!(
                "The account is {}; reconnect it, then retry.",
                sender.status
            ),
        ));
    }
    let first_attempt = claimed.attempt_number <= 1;
    let post_key = claimed.attempt_id.trim_start_matches("att_");
    let route = publisher.route(sender.platform);
    if !publisher.hold_for_call(workspace, claimed, lease).await {
        return None;
    }
    let mut sent =
        platform_api::send(&route, &sender, post_key, &claimed.text, first_attempt).await;
    if let Sent::Unauthorized { .. } = sent {
        // Nothing was published: a fresh token, and one more try.
        let refused_at = now();
        if let Ok(renewed) = publisher
            .connector
            .sender(workspace, account, Some(refused_at))
            .await
            && publisher.hold_for_call(workspace, claimed, lease).await
        {
            sender = renewed;
            sent =
                platform_api::send(&route, &sender, post_key, &claimed.text, first_attempt).await;
        }
    }
    Some(match sent {
        Sent::Published { id, url, status } => Outcome::Published {
            platform_post_id: id,
            url,
            status,
        },
        Sent::Refused {
            status,
            code,
            message,
        } => ended(TargetState::Failed, status, &code, &message),
        Sent::Unauthorized { message } => ended(
            TargetState::Failed,
            Some(401),
            "unauthorized",
            &format!("{message}. Reconnect the account, then retry."),
        ),
        Sent::RateLimited { reset, message } => Outcome::Rescheduled {
            at: reset,
            status: 429,
            message,
        },
        Sent::Unknown { status, message } => {
            ended(TargetState::Unknown, status, "unknown", &message)
        }
    })
}

fn ended(state: TargetState, status: Option<u16>, code: &str, message: &str) -> Outcome {
    Outcome::Ended {
        state,
        status,
        code: code.to_owned(),
        message: message.to_owned(),
    }
}
