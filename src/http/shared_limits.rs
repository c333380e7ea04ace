//! The API's rate limits: counted in Redis when `SOCIALIZER_REDIS_URL` is set, so that every
//! server process draws on one count per workspace (and per client address); otherwise, or
//! while Redis cannot be reached, in this process's memory.
//!
//! One request is one round trip: a script that increments the window's counter and sets its
//! expiry when it is new, atomically, over a multiplexed connection that every request of a
//! server worker thread shares (requests never wait for a pool, and a round trip never hops to
//! another thread). A failed call falls back to the local count at once and marks Redis
//! unreachable; a background task asks it again every second.

use super::rate_limit::{Decision, RateLimiter, WINDOW_SECS};
use crate::config::RedisUrl;
use redis::aio::MultiplexedConnection;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A call slower than this counts as Redis being unreachable: a request never waits longer.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(250);
/// Between attempts to connect again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// Counts one window's requests: the counter's new value. The expiry outlives the window a
/// little, so a counter never vanishes while a process with a slightly late clock still counts.
const COUNT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
";

pub struct ApiLimits {
    local: RateLimiter,
    shared: Option<Arc<Shared>>,
}

struct Shared {
    /// Tells this limiter's connections apart from another's on the same thread (tests run
    /// several servers in one process).
    id: u64,
    client: redis::Client,
    script: redis::Script,
    /// Whether Redis answered last time: while not, requests count locally at once instead of
    /// waiting on a dead connection, and the background task asks again every second.
    reachable: AtomicBool,
    /// Bumped at every loss; connections from an earlier epoch are not used again.
    epoch: AtomicU64,
    /// Whether the loss was logged (so it is said once, and its end once).
    reported_lost: AtomicBool,
}

impl ApiLimits {
    /// Counted in this process only.
    pub fn local() -> Self {
        Self {
            local: RateLimiter::default(),
            shared: None,
        }
    }

    /// Counted in Redis, once [`ApiLimits::connect`] has reached it.
    pub fn in_redis(url: &RedisUrl) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url.as_str())?;
        Ok(Self {
            local: RateLimiter::default(),
            shared: Some(Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                client,
                script: redis::Script::new(COUNT),
                reachable: AtomicBool::new(false),
                epoch: AtomicU64::new(0),
                reported_lost: AtomicBool::new(false),
            })),
        })
    }

    /// One attempt to reach Redis (at start, so that the first requests already share).
    pub async fn connect(&self) {
        if let Some(shared) = &self.shared {
            shared.connect().await;
        }
    }

    /// Keeps trying to reach Redis whenever it is lost; runs until the server stops.
    pub async fn keep_connected(&self) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        loop {
            if !shared.is_connected() {
                shared.connect().await;
            }
            tokio::time::sleep(RECONNECT_EVERY).await;
        }
    }

    /// `None` without Redis; otherwise whether it is reachable now (for `/healthz`).
    pub fn redis_reachable(&self) -> Option<bool> {
        self.shared.as_ref().map(|s| s.is_connected())
    }

    /// Counts one request of a workspace against `limit`.
    pub async fn check(&self, workspace: &str, limit: u32, now: i64) -> Decision {
        if let Some(shared) = &self.shared
            && let Some(decision) = shared.count(&format!("ws:{workspace}"), limit, now).await
        {
            return decision;
        }
        self.local.check(workspace, limit, now)
    }

    /// Counts one request without a valid key, by client address, against `limit`.
    pub async fn check_address(&self, address: Option<IpAddr>, limit: u32, now: i64) -> Decision {
        if let Some(shared) = &self.shared {
            let bucket = match address {
                Some(ip) => format!("ip:{ip}"),
                None => "ip:unknown".to_owned(),
            };
            if let Some(decision) = shared.count(&bucket, limit, now).await {
                return decision;
            }
        }
        self.local.check_address(address, limit, now)
    }
}

thread_local! {
    /// Each server worker thread's own connections, by limiter: a request's round trip is
    /// driven on the thread that awaits it, with no hop to another thread and back.
    /// Each with the epoch it was opened in: a loss seen by any thread retires them all.
    static CONNECTIONS: RefCell<HashMap<u64, (u64, MultiplexedConnection)>> =
        RefCell::new(HashMap::new());
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Shared {
    fn is_connected(&self) -> bool {
        self.reachable.load(Ordering::Acquire)
    }

    fn config() -> redis::AsyncConnectionConfig {
        redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
    }

    /// Whether Redis answers a `PING` now; marks it reachable or lost accordingly.
    async fn connect(&self) {
        let answered = async {
            let mut connection = self
                .client
                .get_multiplexed_async_connection_with_config(&Self::config())
                .await?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
        }
        .await;
        match answered {
            Ok(_) => {
                self.reachable.store(true, Ordering::Release);
                if self.reported_lost.swap(false, Ordering::AcqRel) {
                    log::info!("Redis is reachable again; rate limits are shared again");
                }
            }
            Err(e) => self.lost(&e),
        }
    }

    fn lost(&self, error: &redis::RedisError) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.reachable.store(false, Ordering::Release);
        if !self.reported_lost.swap(true, Ordering::AcqRel) {
            log::warn!(
                "Redis is unreachable ({error}); rate limits are counted in each process until \
                 it is back"
            );
        }
    }

    /// This thread's connection, opened on first use (while Redis is known to be reachable).
    async fn connection(&self) -> Option<MultiplexedConnection> {
        if !self.is_connected() {
            return None;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let current = CONNECTIONS.with(|c| {
            c.borrow()
                .get(&self.id)
                .filter(|(opened, _)| *opened == epoch)
                .map(|(_, connection)| connection.clone())
        });
        if current.is_some() {
            return current;
        }
        match self
            .client
            .get_multiplexed_async_connection_with_config(&Self::config())
            .await
        {
            Ok(connection) => {
                CONNECTIONS.with(|c| c.borrow_mut().insert(self.id, (epoch, connection.clone())));
                Some(connection)
            }
            Err(e) => {
                self.lost(&e);
                None
            }
        }
    }

    /// The decision from Redis, or `None` when Redis did not answer (the caller counts locally).
    async fn count(&self, bucket: &str, limit: u32, now: i64) -> Option<Decision> {
        let mut connection = self.connection().await?;
        let window = now - now.rem_euclid(WINDOW_SECS);
        let reset = window + WINDOW_SECS - now;
        let key = format!("socializer:rate:{bucket}:{window}");
        let expire_ms = (reset + 5) * 1000;
        let answer: Result<i64, _> = self
            .script
            .key(key)
            .arg(expire_ms)
            .invoke_async(&mut connection)
            .await;
        match answer {
            Ok(n) => {
                let used = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
                Some(Decision {
                    allowed: used <= limit,
                    limit,
                    remaining: limit.saturating_sub(used),
                    reset,
                })
            }
            Err(e) => {
                self.lost(&e);
                None
            }
        }
    }
}
