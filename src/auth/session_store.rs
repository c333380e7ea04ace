//! actix-session's storage over our database: sessions are server-side and revocable.
//! The cookie holds only a random key; the table holds only its SHA-256.

use super::session_state::{CLIENT_ADDRESS, SESSION_ID, USER_AGENT, USER_ID};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{Database, Global, sessions};
use crate::domain::{SessionId, UserId, now};
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// No session lives longer than this, however active.
pub const ABSOLUTE_LIFETIME_SECS: i64 = 14 * 24 * 60 * 60;

#[derive(Clone)]
pub struct DbSessionStore {
    db: Database,
    /// When each session loaded by a request in flight was last seen, as the database said, so
    /// that the touch at the end of the request is skipped when it is not due: most requests
    /// of a busy session then only read, and on SQLite never wait for the writer's turn.
    last_seen: Arc<Mutex<HashMap<String, i64>>>,
}

/// Past this many sessions in flight at once, the notes of requests that ended without a touch
/// are dropped (such a request only costs one touch that was not needed).
const MAX_NOTES: usize = 10_000;

impl DbSessionStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            last_seen: Default::default(),
        }
    }

    fn notes(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.last_seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

type State = HashMap<String, String>;

/// actix-session keeps each value JSON-encoded.
fn string_value(state: &State, key: &str) -> Option<String> {
    state
        .get(key)
        .and_then(|v| serde_json::from_str::<String>(v).ok())
}

fn user_of(state: &State) -> Option<UserId> {
    string_value(state, USER_ID).and_then(|id| UserId::parse(&id))
}

/// A signed-in session's row is named by its state, so pages can recognise it; any other gets a
/// fresh name.
fn session_id_of(state: &State) -> SessionId {
    string_value(state, SESSION_ID)
        .and_then(|id| SessionId::parse(&id))
        .unwrap_or_else(SessionId::generate)
}

fn other(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("session storage: {err}")
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<State>, LoadError> {
        let hash = sha256_hex(session_key.as_ref());
        let lookup = hash.clone();
        let stored = self
            .db
            .read(Global, move |conn| {
                sessions::load_active(conn, &lookup, now())
            })
            .await
            .map_err(|e| LoadError::Other(other(e)))?;
        let Some((json, last_seen)) = stored else {
            return Ok(None);
        };
        {
            let mut notes = self.notes();
            if notes.len() >= MAX_NOTES {
                notes.clear();
            }
            notes.insert(hash, last_seen);
        }
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| LoadError::Deserialization(other(e)))
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let key = random_token();
        let hash = sha256_hex(&key);
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(other(e)))?;
        let ttl = ttl.whole_seconds();
        self.db
            .write(Global, move |conn| {
                let now = now();
                sessions::insert(
                    conn,
                    sessions::NewSession {
                        id: &session_id_of(&state),
                        token_hash: &hash,
                        user_id: user_of(&state).as_ref(),
                        state: &json,
                        user_agent: string_value(&state, USER_AGENT).as_deref(),
                        ip: string_value(&state, CLIENT_ADDRESS).as_deref(),
                        now,
                        expires_at: now + ttl,
                        absolute_expires_at: now + ABSOLUTE_LIFETIME_SECS,
                    },
                )
            })
            .await
            .map_err(|e| SaveError::Other(other(e)))?;
        SessionKey::try_from(key).map_err(|e| SaveError::Other(other(e)))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let hash = sha256_hex(session_key.as_ref());
        self.notes().remove(&hash);
        let json =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(other(e)))?;
        let user = user_of(&state);
        let signed_in = user.is_some();
        let ttl_secs = ttl.whole_seconds();
        let updated = self
            .db
            .write(Global, move |conn| {
                let now = now();
                sessions::update_state(conn, &hash, user.as_ref(), &json, now, now + ttl_secs)
            })
            .await
            .map_err(|e| UpdateError::Other(other(e)))?;
        if updated {
            return Ok(session_key);
        }
        // The session ended while this request ran (sign-out elsewhere, expiry). A signed-in
        // state must not come back to life under a new key; an anonymous one may.
        if signed_in {
            return Err(UpdateError::Other(anyhow::anyhow!(
                "the session ended during the request"
            )));
        }
        self.save(state, ttl)
            .await
            .map_err(|e| UpdateError::Other(other(e)))
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), anyhow::Error> {
        let hash = sha256_hex(session_key.as_ref());
        let last_seen = self.notes().remove(&hash);
        if last_seen.is_some_and(|at| at >= now() - sessions::TOUCH_EVERY_SECS) {
            return Ok(());
        }
        let ttl = ttl.whole_seconds();
        self.db
            .write(Global, move |conn| {
                let now = now();
                sessions::touch(conn, &hash, now, now + ttl)
            })
            .await
            .map_err(other)
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = sha256_hex(session_key.as_ref());
        self.notes().remove(&hash);
        self.db
            .write(Global, move |conn| sessions::delete(conn, &hash))
            .await
            .map_err(other)
    }
}
