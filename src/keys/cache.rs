//! Verified keys kept in memory, so that a request with a known key costs no database read
//!. Only where this process is the only one serving the data (embedded SQLite): there every
//! revocation and roll happens here and drops the entry at once, so "revoked at once" stays true.
//! With PostgreSQL several processes share the keys, and the cache is off.
//!
//! A request that read a key just before its revocation committed must not put it back after the
//! revocation cleared it. Every forget bumps a generation under the write lock; a fill carries the
//! generation it saw before reading the database, and is dropped if a forget came in between.

use super::authenticate::Principal;
use crate::domain::{ApiKeyId, WorkspaceId};
use std::collections::HashMap;
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
    enabled: bool,
    entries: RwLock<Entries>,
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
    pub fn enabled() -> Self {
        Self {
            enabled: true,
            entries: RwLock::default(),
        }
    }

    pub fn disabled() -> Self {
        Self {
            enabled: false,
            entries: RwLock::default(),
        }
    }

    /// The principal for `digest`, if cached, fresh and not past the key's expiry.
    pub(super) fn get(
        &self,
        digest: &str,
        now: i64,
    ) -> Option<Result<Arc<Principal>, super::AuthError>> {
        if !self.enabled {
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
        if !self.enabled {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.generation != seen.0 {
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
        if !self.enabled {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.generation = entries.generation.wrapping_add(1);
        entries
            .by_digest
            .retain(|_, entry| entry.principal.key_id != *key);
    }

    /// Forgets every key of a workspace, after a change that may alter what they act as: a
    /// member's role (keys act with their creator's), a removal, the workspace's deletion.
    pub fn forget_workspace(&self, workspace: &WorkspaceId) {
        if !self.enabled {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.generation = entries.generation.wrapping_add(1);
        entries
            .by_digest
            .retain(|_, entry| entry.principal.workspace != *workspace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::api_key::KeyMode;
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
