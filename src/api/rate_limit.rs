//! Requests per minute (§6.5), in fixed one-minute windows, counted in this process's memory.
//! With several server processes each counts on its own (see the README).

use std::collections::HashMap;
use std::sync::Mutex;

const WINDOW_SECS: i64 = 60;
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

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts one request for `bucket` against `limit`.
    pub fn check(&self, bucket: &str, limit: u32, now: i64) -> Decision {
        let window = now - now.rem_euclid(WINDOW_SECS);
        let reset = window + WINDOW_SECS - now;
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
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
