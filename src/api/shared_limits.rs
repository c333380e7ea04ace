//! The API's rate limits: counted in Redis when `SOCIALIZER_REDIS_URL` is set, so that every
//! server process draws on one count per workspace (and per client address); otherwise, or
//! while Redis cannot be reached, in this process's memory.
//!
//! One request is one round trip: a script that increments the window's counter and sets its
//! expiry when it is new, atomically, over one multiplexed connection that every request
//! shares (requests never wait for a pool). A failed call falls back to the local count at
//! once and marks Redis unreachable; a background task connects again.

use super::rate_limit::{Decision, RateLimiter, WINDOW_SECS};
use crate::config::RedisUrl;
use redis::aio::MultiplexedConnection;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
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
    client: redis::Client,
    script: redis::Script,
    connection: RwLock<Option<MultiplexedConnection>>,
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
    pub fn in_redis(url: &RedisUrl) -> Result<Self, String> {
        let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
        Ok(Self {
            local: RateLimiter::default(),
            shared: Some(Arc::new(Shared {
                client,
                script: redis::Script::new(COUNT),
                connection: RwLock::new(None),
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

impl Shared {
    fn is_connected(&self) -> bool {
        self.connection
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    async fn connect(&self) {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        match self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(connection) => {
                *self.connection.write().unwrap_or_else(|p| p.into_inner()) = Some(connection);
                if self.reported_lost.swap(false, Ordering::AcqRel) {
                    log::info!("Redis is reachable again; rate limits are shared again");
                }
            }
            Err(e) => self.lost(&e),
        }
    }

    fn lost(&self, error: &redis::RedisError) {
        *self.connection.write().unwrap_or_else(|p| p.into_inner()) = None;
        if !self.reported_lost.swap(true, Ordering::AcqRel) {
            log::warn!(
                "Redis is unreachable ({error}); rate limits are counted in each process until \
                 it is back"
            );
        }
    }

    /// The decision from Redis, or `None` when Redis did not answer (the caller counts locally).
    async fn count(&self, bucket: &str, limit: u32, now: i64) -> Option<Decision> {
        let mut connection = self
            .connection
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
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
