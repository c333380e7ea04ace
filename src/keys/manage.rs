use super::KeyCache;
use crate::auth::api_key::{KeyMode, NewApiKey};
use crate::db::api_keys::{self, NewKey, StoredKey};
use crate::db::{Database, DbError};
use crate::domain::{ApiKeyId, Invalid, Role, Scope, Scopes, UserId, WorkspaceId, now};

pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_EXPIRY_DAYS: u32 = 3650;
pub const MAX_GRACE_HOURS: u32 = 168;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no such key")]
    NotFound,
    /// The issuer asked for more than it has.
    #[error("missing scope {0}")]
    InsufficientScope(Scope),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Storage(#[from] DbError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Active,
    Expired,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }
}

/// A key as shown in lists and answers: everything but the secret.
#[derive(Debug, Clone)]
pub struct KeyView {
    pub id: ApiKeyId,
    pub label: String,
    pub mode: KeyMode,
    pub scopes: Scopes,
    pub last4: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub state: KeyState,
}

impl KeyView {
    pub(super) fn from_stored(key: StoredKey, now: i64) -> Self {
        let state = if key.revoked_at.is_some() {
            KeyState::Revoked
        } else if key.expires_at.is_some_and(|at| at <= now) {
            KeyState::Expired
        } else {
            KeyState::Active
        };
        KeyView {
            id: key.id,
            label: key.label,
            mode: KeyMode::parse(&key.mode).unwrap_or(KeyMode::Live),
            scopes: Scopes::from_stored(&key.scopes),
            last4: key.last4,
            created_by: key.created_by_email,
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            last_used_at: key.last_used_at,
            last_used_ip: key.last_used_ip,
            state,
        }
    }

    /// `sk_live_…a1b2`: how a key is named wherever it is shown after its creation.
    pub fn masked(&self) -> String {
        format!("sk_{}_…{}", self.mode.as_str(), self.last4)
    }
}

/// Who is making a key, and so the most it may be given (§4.1: never more than its creator's
/// role allowed; a key making a key: never more than that key has).
#[derive(Debug, Clone)]
pub struct Issuer {
    pub workspace: WorkspaceId,
    pub user: Option<UserId>,
    pub role: Role,
    /// `None`: a person on the settings page. `Some`: the scopes and mode of the calling key.
    pub key: Option<(Scopes, KeyMode)>,
}

/// What a form or JSON body asked for, unchecked.
#[derive(Debug, Default)]
pub struct CreateKey {
    pub label: String,
    pub mode: String,
    pub scopes: Vec<String>,
    pub expires_in_days: Option<String>,
}

struct CheckedKey {
    label: String,
    mode: KeyMode,
    scopes: Scopes,
    expires_at: Option<i64>,
}

fn check(request: CreateKey) -> Result<CheckedKey, Invalid> {
    let label = crate::domain::text::nfc(request.label.trim());
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(Invalid::new(
            "label",
            format!("Give the key a label of 1 to {MAX_LABEL_CHARS} characters."),
        ));
    }
    if crate::domain::text::has_invisible(&label) {
        return Err(Invalid::new(
            "label",
            "The label cannot contain control, invisible or text-direction characters.",
        ));
    }
    let mode = match request.mode.trim() {
        "" => KeyMode::Live,
        other => KeyMode::parse(other)
            .ok_or_else(|| Invalid::new("mode", "The mode is live or test."))?,
    };
    let scopes = Scopes::parse_list(&request.scopes)?;
    let expires_in_days = match request.expires_in_days.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(days) => match days.parse::<u32>() {
            Ok(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Some(d),
            _ => {
                return Err(Invalid::new(
                    "expires_in_days",
                    format!(
                        "Expiry is a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or empty for never."
                    ),
                ));
            }
        },
    };
    let expires_at = expires_in_days.map(|days| now() + i64::from(days) * 86_400);
    Ok(CheckedKey {
        label,
        mode,
        scopes,
        expires_at,
    })
}

fn authorize(issuer: &Issuer, key: &CheckedKey) -> Result<(), KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    if let Some((scopes, mode)) = &issuer.key {
        if !scopes.covers(&key.scopes) {
            let missing = Scope::ALL
                .into_iter()
                .find(|s| key.scopes.allows(*s) && !scopes.allows(*s))
                .unwrap_or(Scope::KeysWrite);
            return Err(KeyError::InsufficientScope(missing));
        }
        if *mode == KeyMode::Test && key.mode == KeyMode::Live {
            return Err(KeyError::Forbidden("A test key can only create test keys."));
        }
    }
    Ok(())
}

/// Creates a key and returns it with its plaintext, which is not kept anywhere.
pub async fn create_key(
    db: &Database,
    issuer: &Issuer,
    request: CreateKey,
) -> Result<(KeyView, NewApiKey), KeyError> {
    let key = check(request)?;
    authorize(issuer, &key)?;
    insert(db, issuer, key).await
}

async fn insert(
    db: &Database,
    issuer: &Issuer,
    key: CheckedKey,
) -> Result<(KeyView, NewApiKey), KeyError> {
    let secret = NewApiKey::generate(key.mode);
    let (digest, last4) = (secret.digest(), secret.last4());
    let id = ApiKeyId::generate();
    let creator = issuer.user.clone();
    let stored = db
        .in_workspace(issuer.workspace.clone(), move |conn| {
            let now = now();
            api_keys::insert(
                conn,
                NewKey {
                    id: &id,
                    created_by: creator.as_ref(),
                    label: &key.label,
                    mode: key.mode.as_str(),
                    scopes: &key.scopes.to_stored(),
                    digest: &digest,
                    last4: &last4,
                    now,
                    expires_at: key.expires_at,
                },
            )?;
            api_keys::get(conn, &id)
        })
        .await?
        .ok_or(KeyError::NotFound)?;
    Ok((KeyView::from_stored(stored, now()), secret))
}

pub async fn list_keys(db: &Database, workspace: &WorkspaceId) -> Result<Vec<KeyView>, KeyError> {
    let keys = db
        .read_in_workspace(workspace.clone(), api_keys::list)
        .await?;
    let now = now();
    Ok(keys
        .into_iter()
        .map(|k| KeyView::from_stored(k, now))
        .collect())
}

/// Revokes at once: the next request with the key is refused. Another workspace's key ids are
/// not found.
pub async fn revoke_key(
    db: &Database,
    cache: &KeyCache,
    issuer: &Issuer,
    id: &str,
) -> Result<(), KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    let id = ApiKeyId::parse(id.trim()).ok_or(KeyError::NotFound)?;
    let revoked = id.clone();
    let existed = db
        .in_workspace(issuer.workspace.clone(), move |conn| {
            if api_keys::get(conn, &id)?.is_none() {
                return Ok(false);
            }
            api_keys::revoke(conn, &id, now())?;
            Ok(true)
        })
        .await?;
    cache.forget(&revoked);
    if existed {
        Ok(())
    } else {
        Err(KeyError::NotFound)
    }
}

/// Makes a replacement with the same label, mode and scopes, and lets the old key live for
/// `grace_hours` (0 to 168) more.
pub async fn roll_key(
    db: &Database,
    cache: &KeyCache,
    issuer: &Issuer,
    id: &str,
    grace_hours: &str,
) -> Result<(KeyView, NewApiKey), KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    let grace = match grace_hours.trim().parse::<u32>() {
        Ok(h) if h <= MAX_GRACE_HOURS => i64::from(h),
        _ => {
            return Err(KeyError::Invalid(Invalid::new(
                "grace_hours",
                format!("The grace period is a whole number of hours from 0 to {MAX_GRACE_HOURS}."),
            )));
        }
    };
    let id = ApiKeyId::parse(id.trim()).ok_or(KeyError::NotFound)?;
    let lookup = id.clone();
    let old = db
        .read_in_workspace(issuer.workspace.clone(), move |conn| {
            api_keys::get(conn, &lookup)
        })
        .await?
        .ok_or(KeyError::NotFound)?;
    let old = KeyView::from_stored(old, now());
    if old.state != KeyState::Active {
        return Err(KeyError::Invalid(Invalid::new(
            "key",
            "Only an active key can be rolled.",
        )));
    }
    // Rolling replaces the secret; it does not extend the key's life.
    let replacement = CheckedKey {
        label: old.label.clone(),
        mode: old.mode,
        scopes: old.scopes.clone(),
        expires_at: old.expires_at,
    };
    authorize(issuer, &replacement)?;
    let created = insert(db, issuer, replacement).await?;
    let rolled = id.clone();
    db.in_workspace(issuer.workspace.clone(), move |conn| {
        api_keys::expire_by(conn, &id, now() + grace * 3600)
    })
    .await?;
    cache.forget(&rolled);
    Ok(created)
}
