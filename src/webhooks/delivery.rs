//! The deliverer: every server process runs one. It claims due deliveries from the database
//! (several processes take different ones), sends each signed, and records the attempt and what
//! comes next: delivered on a 2xx, retried on the schedule otherwise, the endpoint disabled at
//! once on 410 or after five days of nothing but failures.
//!
//! Webhooks are delivered at least once: a process that stops mid-send leaves its claim to run
//! out, and the delivery is sent again with the same `webhook-id`, by which receivers know it.

use super::endpoints::{KEPT_SECS, open_secrets};
use super::{Webhooks, notices, signing};
use crate::db::webhooks::{self as stored, AttemptRecord, Claimed, Next};
use crate::db::{InWorkspace, WebhookScan};
use crate::domain::{DisabledReason, Email, WorkspaceId, now};
use crate::logging::Chain;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// Stops a task when the owner is dropped (the deliverer aborted at shutdown).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Seconds from each failed attempt to the next: after the first, 5 s; after the seventh
/// retry fails, the delivery has failed.
pub const RETRY_AFTER: [i64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// An endpoint that has failed every delivery for this long is disabled.
pub const DISABLE_AFTER_FAILING_SECS: i64 = 5 * 24 * 3600;
/// The part of an answer that is kept and shown.
const ANSWER_BYTES: usize = 1024;
/// Deliveries under way at once in one process.
const IN_FLIGHT: usize = 64;
const WORKSPACES_PER_ROUND: i64 = 50;
/// How often a workspace's old events are cleared, at most.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// A claimed delivery with the secrets that sign it.
struct Ready {
    claimed: Claimed,
    secrets: Vec<crate::crypto::envelope::Secret>,
}

/// Runs the deliverer until the process stops.
pub async fn run_deliverer(webhooks: Arc<Webhooks>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut pruned: HashMap<WorkspaceId, Instant> = HashMap::new();
    let (recorder, ended) = mpsc::unbounded_channel();
    // Dropped with the deliverer when the process stops.
    let _recording = AbortOnDrop(tokio::spawn(run_recorder(webhooks.clone(), ended)));
    loop {
        let claimed = round(&webhooks, &slots, &mut pruned, &recorder).await;
        if claimed == 0 {
            let wait = until_next(&webhooks).await;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = webhooks.wake.notified() => {}
            }
        }
    }
}

async fn until_next(webhooks: &Webhooks) -> Duration {
    let every = webhooks.settings.poll_every;
    match webhooks.db.read(WebhookScan, stored::next_due).await {
        Ok(Some(at)) => {
            let secs = (at - now()).max(0);
            every.min(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
        }
        Ok(None) => every,
        Err(e) => {
            log::warn!("webhooks: cannot read the next due time: {}", Chain(&e));
            every
        }
    }
}

/// One round: due deliveries claimed and sent, as many as there are free slots. Answers how
/// many were claimed.
async fn round(
    webhooks: &Arc<Webhooks>,
    slots: &Arc<Semaphore>,
    pruned: &mut HashMap<WorkspaceId, Instant>,
    recorder: &mpsc::UnboundedSender<Ended>,
) -> usize {
    let now = now();
    let workspaces = match webhooks
        .db
        .read(WebhookScan, move |conn| {
            stored::workspaces_due(conn, now, WORKSPACES_PER_ROUND)
        })
        .await
    {
        Ok(w) => w,
        Err(e) => {
            log::warn!("webhooks: cannot list due deliveries: {}", Chain(&e));
            return 0;
        }
    };
    let mut total = 0;
    for workspace in workspaces {
        let free = slots.available_permits();
        if free == 0 {
            drop(slots.clone().acquire_owned().await);
            continue;
        }
        let prune = pruned
            .get(&workspace)
            .is_none_or(|at| at.elapsed() > PRUNE_EVERY);
        if prune {
            pruned.insert(workspace.clone(), Instant::now());
        }
        let lease = crate::crypto::random_token();
        let lease_secs = lease_secs(webhooks);
        let (keyring, lease_owned) = (webhooks.keyring.clone(), lease.clone());
        let claimed = webhooks
            .db
            .write(InWorkspace(workspace.clone()), move |conn| {
                let now = crate::domain::now();
                if prune {
                    stored::prune(conn, now - KEPT_SECS)?;
                }
                let claimed = stored::claim_due(
                    conn,
                    now,
                    &lease_owned,
                    now + lease_secs,
                    i64::try_from(free).unwrap_or(1),
                )?;
                claimed
                    .into_iter()
                    .map(|claimed| {
                        let secrets = open_secrets(conn, &keyring, &claimed.endpoint, now)?;
                        Ok(Ready { claimed, secrets })
                    })
                    .collect::<Result<Vec<_>, super::WebhookError>>()
            })
            .await;
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                log::warn!("webhooks: claiming in {workspace} failed: {}", Chain(&e));
                continue;
            }
        };
        total += claimed.len();
        for ready in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return total;
            };
            let (webhooks, workspace, lease, recorder) = (
                webhooks.clone(),
                workspace.clone(),
                lease.clone(),
                recorder.clone(),
            );
            tokio::spawn(async move {
                deliver(&webhooks, &workspace, ready, &lease, &recorder).await;
                drop(permit);
            });
        }
    }
    total
}

/// A claim covers the receiver's time and a margin to record the outcome.
fn lease_secs(webhooks: &Webhooks) -> i64 {
    i64::try_from(webhooks.settings.timeout.as_secs())
        .unwrap_or(60)
        .max(1)
        + 30
}

/// Sends one delivery and records the attempt.
/// An attempt that ended, to be recorded.
struct Ended {
    workspace: WorkspaceId,
    claimed: Claimed,
    lease: String,
    attempt: AttemptRecord,
    next: Next,
    disable: Option<DisabledReason>,
}

/// Sends one delivery and hands its attempt to the recorder.
async fn deliver(
    webhooks: &Webhooks,
    workspace: &WorkspaceId,
    ready: Ready,
    lease: &str,
    recorder: &mpsc::UnboundedSender<Ended>,
) {
    let started_at = now();
    let clock = Instant::now();
    let sent = send(webhooks, &ready).await;
    let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status_code, answer, error) = match sent {
        Ok((status, answer)) => (Some(status), answer, None),
        Err(why) => (None, String::new(), Some(why)),
    };
    let claimed = ready.claimed;
    let (next, disable) = match status_code {
        Some(200..=299) => (Next::Delivered, None),
        Some(410) => (Next::Failed, Some(DisabledReason::Gone)),
        _ => {
            let retry = usize::try_from(claimed.number - 1)
                .ok()
                .and_then(|i| RETRY_AFTER.get(i));
            (
                retry.map_or(Next::Failed, |after| Next::RetryAt(started_at + after)),
                None,
            )
        }
    };
    let ended = Ended {
        workspace: workspace.clone(),
        claimed,
        lease: lease.to_owned(),
        attempt: AttemptRecord {
            started_at,
            duration_ms,
            status_code,
            answer,
            error,
        },
        next,
        disable,
    };
    // The recorder lives as long as the deliverer; if it is gone the process is stopping, and
    // the lease's lapse sends the delivery again.
    let _ = recorder.send(ended);
}

/// Most attempts recorded in one transaction.
const RECORD_BATCH: usize = 256;

/// Records ended attempts, as many as have come in together in one transaction per workspace:
/// at a thousand deliveries a second, one write each would keep SQLite's one writer busy.
async fn run_recorder(webhooks: Arc<Webhooks>, mut ended: mpsc::UnboundedReceiver<Ended>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while ended.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let mut by_workspace: HashMap<WorkspaceId, Vec<Ended>> = HashMap::new();
        for one in batch.drain(..) {
            by_workspace
                .entry(one.workspace.clone())
                .or_default()
                .push(one);
        }
        for (workspace, attempts) in by_workspace {
            record(&webhooks, workspace, attempts).await;
        }
    }
}

/// A workspace's ended attempts, written together; a few tries, after which the leases' lapse
/// sends those deliveries again.
async fn record(webhooks: &Webhooks, workspace: WorkspaceId, attempts: Vec<Ended>) {
    let attempts = Arc::new(attempts);
    for wait in [0_u64, 1, 2, 4] {
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let held = attempts.clone();
        let recorded = webhooks
            .db
            .write(InWorkspace(workspace.clone()), move |conn| {
                let now = now();
                let mut given_up = Vec::new();
                for one in held.iter() {
                    let failing_since = stored::finish(
                        conn,
                        &one.claimed,
                        &one.lease,
                        &one.attempt,
                        one.next,
                        one.disable,
                        now,
                    )?;
                    // Five days of nothing but failures: the endpoint is turned off, and those
                    // who manage it are told.
                    let give_up = failing_since
                        .is_some_and(|since| now - since >= DISABLE_AFTER_FAILING_SECS);
                    if give_up && !given_up.contains(&one.claimed.endpoint.id) {
                        stored::update_endpoint(
                            conn,
                            &one.claimed.endpoint.id,
                            stored::EndpointChange {
                                state: Some((
                                    crate::domain::EndpointState::Disabled,
                                    Some(DisabledReason::Failing),
                                )),
                                ..Default::default()
                            },
                            now,
                        )?;
                        given_up.push(one.claimed.endpoint.id.clone());
                    }
                }
                if given_up.is_empty() {
                    return Ok::<_, crate::db::DbError>(None);
                }
                let managers: Vec<Email> = crate::db::memberships::members(conn)?
                    .into_iter()
                    .filter(|m| m.role.can_manage())
                    .map(|m| m.email)
                    .collect();
                let name = crate::db::workspaces::current(conn)?
                    .map(|w| w.name.to_string())
                    .unwrap_or_default();
                Ok(Some((given_up, managers, name)))
            })
            .await;
        match recorded {
            Ok(Some((given_up, managers, name))) => {
                for endpoint in given_up {
                    let Some(one) = attempts.iter().find(|a| a.claimed.endpoint.id == endpoint)
                    else {
                        continue;
                    };
                    log::warn!("webhook endpoint {endpoint} disabled after five days of failures");
                    notices::endpoint_disabled(
                        crate::mail::Post {
                            mailer: &webhooks.mailer,
                            public_url: &webhooks.public_url,
                        },
                        &managers,
                        &name,
                        &one.claimed.endpoint,
                    );
                }
                return;
            }
            Ok(None) => return,
            Err(e) => log::warn!(
                "webhooks in {workspace}: cannot record {} attempts: {}",
                attempts.len(),
                Chain(&e)
            ),
        }
    }
}

/// Sends the signed request. `Ok` with the status and the start of the answer when the
/// receiver answered; `Err` with the reason when it did not (refused address, timeout).
async fn send(webhooks: &Webhooks, ready: &Ready) -> Result<(u16, String), String> {
    let claimed = &ready.claimed;
    let url =
        crate::domain::WebhookUrl::from_stored(&claimed.endpoint.url).map_err(|e| e.message)?;
    webhooks.policy().check_literal(&url)?;
    let timestamp = now();
    let signatures: Vec<String> = ready
        .secrets
        .iter()
        .filter_map(|secret| {
            signing::sign(
                secret.expose(),
                claimed.event.as_str(),
                timestamp,
                &claimed.body,
            )
        })
        .collect();
    let request = webhooks
        .http
        .post(url.url().clone())
        .timeout(webhooks.settings.timeout)
        .header("content-type", "application/json")
        .header("webhook-id", claimed.event.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(claimed.body.clone());
    let mut response = request.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    // Only the start of the answer is read: a receiver that answers with a flood costs one
    // kilobyte, and the connection is dropped with the rest unread.
    let mut answer = Vec::new();
    while answer.len() < ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
            Ok(None) => break,
            // The status came; a body cut short does not change what it said.
            Err(_) => break,
        }
    }
    answer.truncate(ANSWER_BYTES);
    Ok((status, String::from_utf8_lossy(&answer).into_owned()))
}

/// Why no answer came, in words (never the request's headers: they carry the signature).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "The receiver did not answer in time.".into();
    }
    let mut text = if e.is_connect() {
        "Could not connect".to_owned()
    } else {
        "The request failed".to_owned()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.push('.');
    text
}
