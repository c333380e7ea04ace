//! Keeps this process's key cache true to what every process changes (PostgreSQL): one thread,
//! one dedicated connection that `LISTEN`s, the cache switched on only while it hears.

use super::KeyCache;
use crate::db::key_changes::Listener;
use crate::logging::Chain;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a change may sit in the connection's buffer before the cache drops it: the delay
/// with which a revocation through another process is refused here.
const POLL_EVERY: Duration = Duration::from_millis(5);
/// Between attempts to connect again.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// The running listener; [`ListenerHandle::stop`] ends it and closes its connection.
pub struct ListenerHandle {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl ListenerHandle {
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.thread.join();
    }
}

/// Starts the listener for `cache`, which stays off until the listener first connects.
/// `name` labels its connection in `pg_stat_activity`.
pub fn spawn(url: String, name: String, cache: Arc<KeyCache>) -> std::io::Result<ListenerHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::Builder::new()
        .name("key-listener".into())
        .spawn(move || listen(&url, &name, &cache, &stopping))?;
    Ok(ListenerHandle { stop, thread })
}

fn listen(url: &str, name: &str, cache: &KeyCache, stop: &AtomicBool) {
    let stopped = || stop.load(Ordering::Acquire);
    // Said once when it goes and once when it is back, not once per retry.
    let mut lost = false;
    while !stopped() {
        let mut listener = match Listener::connect(url, name) {
            Ok(listener) => listener,
            Err(e) => {
                if !lost {
                    log::warn!(
                        "key-change listener cannot connect ({}); every API key is read from \
                         the database until it can",
                        Chain(&e)
                    );
                    lost = true;
                }
                pause(RETRY_EVERY, &stopped);
                continue;
            }
        };
        cache.set_listening(true);
        if lost {
            log::info!("key-change listener connected again; the key cache is back on");
        }
        let error = loop {
            if stopped() {
                cache.set_listening(false);
                return;
            }
            match listener.changes() {
                Ok(changes) => changes.iter().for_each(|change| cache.apply(change)),
                Err(e) => break e,
            }
            std::thread::sleep(POLL_EVERY);
        };
        cache.set_listening(false);
        log::warn!(
            "key-change listener lost its connection ({}); the key cache is off, every \
             API key read from the database, until it is back",
            Chain(&error)
        );
        lost = true;
    }
}

/// Sleeps for `length`, or less if asked to stop.
fn pause(length: Duration, stopped: &impl Fn() -> bool) {
    let until = Instant::now() + length;
    while Instant::now() < until && !stopped() {
        std::thread::sleep(POLL_EVERY);
    }
}
