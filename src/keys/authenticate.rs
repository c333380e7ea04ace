use super::KeyCache;
use super::manage::{KeyState, KeyView};
use crate::auth::api_key::PresentedKey;
use crate::db::{Database, DbError, api_keys};
use crate::domain::KeyMode;
use crate::domain::{ApiKeyId, Plan, Role, Scopes, UserId, WorkspaceId, now};
use std::sync::Arc;

/// The key a request was made with, once checked: what every `/v1` handler acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: ApiKeyId,
    pub workspace: WorkspaceId,
    pub mode: KeyMode,
    pub scopes: Scopes,
    pub label: String,
    pub last4: String,
    pub created_by: Option<UserId>,
    /// The creator's role in the key's workspace when the key was checked: a key acts with it.
    pub creator_role: Role,
    pub workspace_name: String,
    pub plan: Plan,
    /// The key's own expiry: a key it makes never outlives it.
    pub expires_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Malformed (bad shape or checksum, refused without a database read) or unknown.
    #[error("Invalid API key")]
    Invalid,
    #[error("This API key has been revoked")]
    Revoked,
    #[error("This API key has expired")]
    Expired,
    #[error(transparent)]
    Storage(#[from] DbError),
}

/// Checks a key as sent in `Authorization: Bearer …`: its shape and checksum first (no I/O),
/// then the cache, then the database.
pub async fn authenticate(
    db: &Database,
    cache: &KeyCache,
    raw: &str,
) -> Result<Arc<Principal>, AuthError> {
    let presented = PresentedKey::parse(raw).map_err(|_| AuthError::Invalid)?;
    if let Some(cached) = cache.get(&presented.digest, now()) {
        return cached;
    }
    // Before the read: a revocation that commits after it also bumps the generation.
    let seen = cache.generation();
    let found = api_keys::for_request(db, presented.digest.clone())
        .await?
        .ok_or(AuthError::Invalid)?;
    let (stored, creator_role) = (found.key, found.creator_role);
    let workspace = stored.workspace_id.clone();
    let created_by = stored.created_by.clone();
    let expires_at = stored.expires_at;
    let view = KeyView::from_stored(stored, now());
    // A creator who left had their keys revoked with them; a key whose creator is gone anyway
    // (made before that rule) is as good as revoked.
    let Some(creator_role) = creator_role else {
        return Err(AuthError::Revoked);
    };
    match view.state {
        KeyState::Revoked => return Err(AuthError::Revoked),
        KeyState::Expired => return Err(AuthError::Expired),
        KeyState::Active => {}
    }
    // The digest matched, so the mode agrees with the prefix; checked anyway, cheaply.
    if view.mode != presented.mode {
        return Err(AuthError::Invalid);
    }
    let principal = Arc::new(Principal {
        key_id: view.id,
        workspace,
        mode: view.mode,
        scopes: view.scopes,
        label: view.label,
        last4: view.last4,
        created_by,
        creator_role,
        workspace_name: found.workspace_name,
        plan: found.plan,
        expires_at,
    });
    cache.put(seen, presented.digest, principal.clone(), expires_at);
    Ok(principal)
}
