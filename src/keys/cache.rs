//! Verified keys kept in memory, so that a request with a known key costs no database read.
//!
//! Embedded SQLite has one server process: every revocation and roll happens in it and drops
//! the entry at once. With PostgreSQL several processes share the keys: each change announces
//! itself (`db::key_changes`), and the cache serves only while this process's listener is
//! connected and hearing those announcements. When the listener loses its connection the cache
//! empties and stays off, every key read from the database, until it listens again: never stale.
//!
//! A request that read a key just before its revocation committed must not put it back after the
//! revocation cleared it. Every forget bumps a generation under the write lock; a fill carries the
//! generation it saw before reading the database, and is dropped if a forget came in between.

use super::authenticate::Principal;
use crate::db::key_changes::KeyChange;
use crate::domain::{ApiKeyId, WorkspaceId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Past this, an entry is read again (picks up changes no revocation announces, e.g. a plan).
const FRESH_FOR: Duration = Duration::from_secs(60);
/// Past this many entries the cache starts over, so memory stays bounded.
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone)]
struct Entry {
    principal: Arc<Principal>,
    key_expires_at: Option<i64>,
    loaded: Instant,
}

pub struct KeyCache {
    policy: Policy,
    /// With [`Policy::WhileListening`]: whether the listener hears other processes' changes.
    listening: AtomicBool,
    entries: RwLock<Entries>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Off,
    /// This process makes every change to keys (embedded SQLite).
    OnlyProcess,
    /// Other processes change keys too, and say so (PostgreSQL).
    WhileListening,
}

#[derive(Default)]
struct Entries {
    by_digest: HashMap<String, Entry>,
    /// Bumped by every forget; a fill from before it is stale.
    generation: u64,
}

/// What the cache had seen when a lookup went to the database: the fill is only taken if no
/// key was forgotten since.
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl KeyCache {
    /// For the only process that changes keys.
    pub fn enabled() -> Self {
        Self::with(Policy::OnlyProcess)
    }

    pub fn disabled() -> Self {
        Self::with(Policy::Off)
    }

    /// For one of several processes: off until [`KeyCache::set_listening`] says it hears them.
    pub fn shared() -> Self {
        Self::with(Policy::WhileListening)
    }

    fn with(policy: Policy) -> Self {
        Self {
            policy,
            listening: AtomicBool::new(false),
            entries: RwLock::default(),
        }
    }

    fn serving(&self) -> bool {
        match self.policy {
            Policy::Off => false,
            Policy::OnlyProcess => true,
            Policy::WhileListening => self.listening.load(Ordering::Acquire),
        }
    }

    /// Whether the cache answers at all (for `/healthz`).
    pub fn is_serving(&self) -> bool {
        self.serving()
    }

    /// The listener connected (`true`) or lost its connection (`false`). Either way the cache
    /// starts over: what it held may predate changes nobody heard, and a fill read before this
    /// moment is not taken.
    pub fn set_listening(&self, on: bool) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.generation = entries.generation.wrapping_add(1);
        entries.by_digest.clear();
        self.listening.store(on, Ordering::Release);
    }

    /// A change another process (or this one) announced.
    pub fn apply(&self, change: &KeyChange) {
        match change {
            KeyChange::Key(key) => self.forget(key),
            KeyChange::Workspace(workspace) => self.forget_workspace(workspace),
            KeyChange::Everything => {
                let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
                entries.generation = entries.generation.wrapping_add(1);
                entries.by_digest.clear();
            }
        }
    }

    /// The principal for `digest`, if cached, fresh and not past the key's expiry.
    pub(super) fn get(
        &self,
        digest: &str,
        now: i64,
    ) -> Option<Result<Arc<Principal>, super::AuthError>> {
        if !self.serving() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let entry = entries.by_digest.get(digest)?;
        if entry.loaded.elapsed() > FRESH_FOR {
            return None;
        }
        if entry.key_expires_at.is_some_and(|at| at <= now) {
            return Some(Err(super::AuthError::Expired));
        }
        Some(Ok(entry.principal.clone()))
    }

    /// Taken before a lookup goes to the database.
    pub(super) fn generation(&self) -> Generation {
        Generation(
            self.entries
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .generation,
        )
    }

    /// Keeps what the database said, unless a key was forgotten since `seen` was taken (the
    /// read may predate a revocation that has committed since).
    pub(super) fn put(
        &self,
        seen: Generation,
        digest: String,
        principal: Arc<Principal>,
        key_expires_at: Option<i64>,
    ) {
        if self.policy == Policy::Off {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that `set_listening` takes: no fill lands after the listener
        // was lost.
        if entries.generation != seen.0 || !self.serving() {
            return;
        }
        if entries.by_digest.len() >= MAX_ENTRIES {
            entries.by_digest.clear();
        }
        entries.by_digest.insert(
            digest,
            Entry {
                principal,
                key_expires_at,
                loaded: Instant::now(),
            },
        );
    }

    /// Forgets a key after it was revoked or its expiry changed.
    pub(super) fn forget(&self, key: &ApiKeyId) {
        self.forget_where(|principal| principal.key_id == *key);
    }

    /// Forgets every key of a workspace, after a change that may alter what they act as: a
    /// member's role (keys act with their creator's), a removal, the workspace's deletion.
    pub fn forget_workspace(&self, workspace: &WorkspaceId) {
        self.forget_where(|principal| principal.workspace == *workspace);
    }

    /// Drops the entries whose key `matches`, and bumps the generation so that a read begun
    /// before cannot put them back.
    fn forget_where(&self, matches: impl Fn(&Principal) -> bool) {
        if self.policy == Policy::Off {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.generation = entries.generation.wrapping_add(1);
        entries
            .by_digest
            .retain(|_, entry| !matches(&entry.principal));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::KeyMode;
    use crate::domain::{Role, Scopes};

    fn principal() -> Arc<Principal> {
        Arc::new(Principal {
            key_id: ApiKeyId::generate(),
            workspace: WorkspaceId::generate(),
            mode: KeyMode::Live,
            scopes: Scopes::default(),
            label: "k".into(),
            last4: "abcd".into(),
            created_by: None,
            creator_role: Role::Admin,
            workspace_name: "W".into(),
            plan: crate::domain::Plan::Free,
            expires_at: None,
        })
    }

    #[test]
    fn hits_until_forgotten_and_honours_expiry() {
        let cache = KeyCache::enabled();
        let p = principal();
        cache.put(cache.generation(), "d1".into(), p.clone(), None);
        cache.put(cache.generation(), "d2".into(), principal(), Some(100));
        assert!(matches!(cache.get("d1", 50), Some(Ok(_))));
        assert!(matches!(cache.get("d2", 50), Some(Ok(_))));
        assert!(matches!(
            cache.get("d2", 100),
            Some(Err(super::super::AuthError::Expired))
        ));
        cache.forget(&p.key_id);
        assert!(
            cache.get("d1", 50).is_none(),
            "a revoked key is read again from the database"
        );
        assert!(cache.get("unknown", 50).is_none());
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = KeyCache::disabled();
        cache.put(cache.generation(), "d".into(), principal(), None);
        assert!(cache.get("d", 0).is_none());
    }

    #[test]
    fn a_fill_read_before_a_forget_is_not_kept() {
        let cache = KeyCache::enabled();
        let p = principal();
        // A request reads the key from the database ...
        let seen = cache.generation();
        // ... the key is revoked and forgotten meanwhile ...
        cache.forget(&p.key_id);
        // ... and the request's late fill must not bring it back.
        cache.put(seen, "d".into(), p.clone(), None);
        assert!(cache.get("d", 0).is_none());
        cache.put(cache.generation(), "d".into(), p, None);
        assert!(cache.get("d", 0).is_some());
    }

    #[test]
    fn a_shared_cache_serves_only_while_listening_and_starts_over_each_time() {
        let cache = KeyCache::shared();
        let p = principal();
        cache.put(cache.generation(), "d".into(), p.clone(), None);
        assert!(cache.get("d", 0).is_none(), "off until the listener hears");

        cache.set_listening(true);
        let seen = cache.generation();
        cache.put(seen, "d".into(), p.clone(), None);
        assert!(cache.get("d", 0).is_some());

        // Lost: nothing is served, and a fill read while listening does not land afterwards.
        let read_before = cache.generation();
        cache.set_listening(false);
        assert!(cache.get("d", 0).is_none());
        cache.put(read_before, "d".into(), p.clone(), None);
        cache.put(cache.generation(), "d".into(), p.clone(), None);
        cache.set_listening(true);
        assert!(cache.get("d", 0).is_none(), "back, and empty");

        cache.put(cache.generation(), "d".into(), p.clone(), None);
        cache.apply(&KeyChange::Key(p.key_id.clone()));
        assert!(cache.get("d", 0).is_none(), "an announced change is heard");
        cache.put(cache.generation(), "d".into(), p.clone(), None);
        cache.apply(&KeyChange::Workspace(p.workspace.clone()));
        assert!(cache.get("d", 0).is_none());
        cache.put(cache.generation(), "d".into(), p, None);
        cache.apply(&KeyChange::Everything);
        assert!(cache.get("d", 0).is_none());
    }

    #[test]
    fn forgetting_a_workspace_drops_only_its_keys() {
        let cache = KeyCache::enabled();
        let (ours, theirs) = (principal(), principal());
        cache.put(cache.generation(), "ours".into(), ours.clone(), None);
        cache.put(cache.generation(), "theirs".into(), theirs, None);
        cache.forget_workspace(&ours.workspace);
        assert!(cache.get("ours", 0).is_none());
        assert!(cache.get("theirs", 0).is_some());
    }
}
