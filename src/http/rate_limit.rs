//! Requests per minute, in fixed one-minute windows, counted in this process's memory: the
//! API's limits without Redis (or while it is unreachable, see `shared_limits`), and the
//! limits on forms posted before sign-in.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;

pub const WINDOW_SECS: i64 = 60;
/// Past this many tracked windows, closed ones are swept out.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window closes.
    pub reset: i64,
}

/// Windows per workspace (authenticated requests) and per client address (the rest).
#[derive(Default)]
pub struct RateLimiter {
    workspaces: Mutex<HashMap<String, (i64, u32)>>,
    addresses: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts one request of a workspace against `limit`.
    pub fn check(&self, workspace: &str, limit: u32, now: i64) -> Decision {
        count(&self.workspaces, workspace, limit, now)
    }

    /// Counts one request without a valid key, by client address, against `limit`.
    pub fn check_address(&self, address: Option<IpAddr>, limit: u32, now: i64) -> Decision {
        let address = address.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        count(&self.addresses, &address, limit, now)
    }
}

fn count<K, Q>(
    windows: &Mutex<HashMap<K, (i64, u32)>>,
    bucket: &Q,
    limit: u32,
    now: i64,
) -> Decision
where
    K: std::borrow::Borrow<Q> + Eq + Hash,
    Q: ToOwned<Owned = K> + Eq + Hash + ?Sized,
{
    let window = now - now.rem_euclid(WINDOW_SECS);
    let reset = window + WINDOW_SECS - now;
    let mut windows = windows.lock().unwrap_or_else(|p| p.into_inner());
    if windows.len() > SWEEP_ABOVE {
        windows.retain(|_, (start, _)| *start == window);
    }
    // Only a new bucket costs an allocation.
    if !windows.contains_key(bucket) {
        windows.insert(bucket.to_owned(), (window, 0));
    }
    let Some(entry) = windows.get_mut(bucket) else {
        return Decision {
            allowed: true,
            limit,
            remaining: limit,
            reset,
        };
    };
    if entry.0 != window {
        *entry = (window, 0);
    }
    let allowed = entry.1 < limit;
    if allowed {
        entry.1 += 1;
    }
    Decision {
        allowed,
        limit,
        remaining: limit.saturating_sub(entry.1),
        reset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_bucket_and_resets_with_the_minute() {
        let limiter = RateLimiter::default();
        // 1_800_000_000 is a whole minute.
        let start = 1_800_000_000;
        for i in 0..3 {
            let d = limiter.check("a", 3, start + i);
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - i as u32);
        }
        let refused = limiter.check("a", 3, start + 10);
        assert!(!refused.allowed);
        assert_eq!(refused.reset, 50);
        assert!(
            limiter.check("b", 3, start + 10).allowed,
            "buckets are separate"
        );
        assert!(
            limiter.check("a", 3, start + 60).allowed,
            "a new minute, a new window"
        );
    }
}
