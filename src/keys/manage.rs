use super::KeyCache;
use crate::audit::{self, Event, Who};
use crate::auth::api_key::NewApiKey;
use crate::db::api_keys::{self, NewKey, StoredKey};
use crate::db::{Database, DbError, InWorkspace};
use crate::domain::KeyMode;
use crate::domain::{
    ApiKeyId, Email, ExpiryDays, GraceHours, Invalid, KeyLabel, Role, Scope, Scopes, UserId,
    WorkspaceId, now,
};
use crate::mail::Post;

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
    /// The key is no longer in a state that allows this (rolled or revoked already).
    #[error("{0}")]
    Conflict(&'static str),
    /// A live key asked for by an account whose email is not confirmed yet.
    #[error("confirm your email address before making live keys")]
    EmailUnconfirmed,
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
    pub created_by: Option<Email>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
    pub state: KeyState,
    /// The key that made this one, if a key did.
    pub created_by_key: Option<ApiKeyId>,
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
            mode: key.mode,
            scopes: key.scopes,
            last4: key.last4,
            created_by: key.created_by_email,
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            last_used_at: key.last_used_at,
            last_used_ip: key.last_used_ip,
            state,
            created_by_key: key.created_by_key,
        }
    }

    /// `sk_live_…a1b2`: how a key is named wherever it is shown after its creation.
    pub fn masked(&self) -> String {
        format!("sk_{}_…{}", self.mode.as_str(), self.last4)
    }
}

/// Who is making a key, and so the most it may be given (never more than its creator's
/// role allowed; a key making a key: never more than that key has).
#[derive(Debug, Clone)]
pub struct Issuer {
    pub workspace: WorkspaceId,
    pub user: Option<UserId>,
    pub role: Role,
    /// `None`: a person on the settings page. `Some`: the key calling the API.
    pub key: Option<IssuingKey>,
    /// For the audit log.
    pub who: Who,
}

/// A key acting on keys: what it may hand on and which keys it may touch.
#[derive(Debug, Clone)]
pub struct IssuingKey {
    pub id: ApiKeyId,
    pub scopes: Scopes,
    pub mode: KeyMode,
    pub expires_at: Option<i64>,
}

impl Issuer {
    /// Test keys see and touch only test keys (keys are data too).
    fn sees(&self, mode: KeyMode) -> bool {
        match &self.key {
            Some(key) => key.mode == KeyMode::Live || mode == KeyMode::Test,
            None => true,
        }
    }
}

/// What a form or JSON body asked for, each part parsed where it arrived.
#[derive(Debug, Clone)]
pub struct CreateKey {
    pub label: KeyLabel,
    /// `None`: the issuing key's own mode, or live for a person.
    pub mode: Option<KeyMode>,
    /// Empty: full access (never more than the issuer has).
    pub scopes: Scopes,
    /// `None`: never expires (unless the issuing key does).
    pub expires_in_days: Option<ExpiryDays>,
}

impl CreateKey {
    /// A key with full access, of the default mode, that never expires.
    pub fn full_access(label: KeyLabel) -> Self {
        Self {
            label,
            mode: None,
            scopes: Scopes::full(),
            expires_in_days: None,
        }
    }
}

struct CheckedKey {
    label: String,
    mode: KeyMode,
    scopes: Scopes,
    expires_at: Option<i64>,
}

fn check(request: CreateKey, default_mode: KeyMode) -> CheckedKey {
    CheckedKey {
        label: request.label.as_str().to_owned(),
        mode: request.mode.unwrap_or(default_mode),
        scopes: request.scopes,
        expires_at: request.expires_in_days.map(|days| now() + days.seconds()),
    }
}

/// Checks a key about to be made against its issuer, and caps its expiry at the issuing key's:
/// a key never makes a key that outlives it, has more scopes, or another mode.
fn authorize(issuer: &Issuer, key: &mut CheckedKey) -> Result<(), KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    if let Some(parent) = &issuer.key {
        if !parent.scopes.covers(&key.scopes) {
            return Err(KeyError::InsufficientScope(missing_scope(
                &parent.scopes,
                &key.scopes,
            )));
        }
        if key.mode != parent.mode {
            return Err(KeyError::Forbidden(
                "A key makes keys of its own mode only.",
            ));
        }
        if let Some(limit) = parent.expires_at {
            key.expires_at = Some(key.expires_at.map_or(limit, |at| at.min(limit)));
        }
    }
    Ok(())
}

/// A scope that `wanted` has and `held` lacks (full access counts as every scope).
fn missing_scope(held: &Scopes, wanted: &Scopes) -> Scope {
    Scope::ALL
        .into_iter()
        .find(|s| wanted.allows(*s) && !held.allows(*s))
        .unwrap_or(Scope::KeysWrite)
}

/// Creates a key and returns it with its plaintext, which is not kept anywhere. The
/// workspace's owners and admins are told by email once it has committed.
pub async fn create_key(
    db: &Database,
    post: Post<'_>,
    issuer: &Issuer,
    request: CreateKey,
) -> Result<(KeyView, NewApiKey), KeyError> {
    let default_mode = issuer.key.as_ref().map_or(KeyMode::Live, |k| k.mode);
    let mut key = check(request, default_mode);
    authorize(issuer, &mut key)?;
    insert(db, post, issuer, key).await
}

async fn insert(
    db: &Database,
    post: Post<'_>,
    issuer: &Issuer,
    key: CheckedKey,
) -> Result<(KeyView, NewApiKey), KeyError> {
    let secret = NewApiKey::generate(key.mode);
    let row = NewRow::new(issuer, key, &secret);
    let who = issuer.who.clone();
    let made_by = who.actor.name();
    let issuer = issuer.clone();
    let (stored, managers, workspace) = db
        .write(InWorkspace(issuer.workspace.clone()), move |conn| {
            still_entitled(conn, &issuer, Some(row.key.mode))?;
            let Some(stored) = row.insert(conn)? else {
                return Err(KeyError::NotFound);
            };
            audit::record(conn, &who, Event::KeyCreated, &subject(&stored), None)?;
            // Read with the key, so that the notice reaches who manages the workspace now.
            let managers: Vec<Email> = crate::db::memberships::members(conn)?
                .into_iter()
                .filter(|m| m.role.can_manage())
                .map(|m| m.email)
                .collect();
            let name = crate::db::workspaces::current(conn)?
                .map(|w| w.name.to_string())
                .unwrap_or_default();
            Ok::<_, KeyError>((stored, managers, name))
        })
        .await?;
    let view = KeyView::from_stored(stored, now());
    super::notices::key_made(post, &managers, &workspace, &view, &made_by);
    Ok((view, secret))
}

/// The issuer's power, read again inside the transaction that makes a key, after taking the
/// workspace's row (which membership changes also take). The request was authenticated
/// earlier; a creator removed or demoted since, or an issuing key revoked since, makes nothing.
/// Without this, a key made while its creator's removal commits would escape the revocation
/// of everything they made.
fn still_entitled(
    conn: &mut crate::db::WorkspaceConn<'_>,
    issuer: &Issuer,
    making: Option<KeyMode>,
) -> Result<(), KeyError> {
    if !crate::db::workspaces::lock(conn)? {
        return Err(KeyError::NotFound);
    }
    let role = match &issuer.user {
        Some(user) => crate::db::memberships::role_of(conn, user)?,
        None => None,
    };
    if !role.is_some_and(Role::can_manage) {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    // A live key reaches live platforms: only an account whose owner proved the address makes
    // one (a test key stays in the sandbox).
    if making == Some(KeyMode::Live)
        && let Some(user) = &issuer.user
        && !crate::db::users::is_confirmed(&mut conn.global(), user)?
    {
        return Err(KeyError::EmailUnconfirmed);
    }
    if let Some(parent) = &issuer.key {
        let active = api_keys::get(conn, &parent.id)?
            .is_some_and(|k| KeyView::from_stored(k, now()).state == KeyState::Active);
        if !active {
            return Err(KeyError::Forbidden(
                "The key making this request was revoked or expired while it ran.",
            ));
        }
    }
    Ok(())
}

/// A key as the audit log names it: `sk_live_…a1b2 (label)`.
fn subject(key: &StoredKey) -> String {
    format!(
        "{} ({})",
        audit::masked_key(key.mode, &key.last4),
        key.label
    )
}

/// A key about to be stored: everything but its secret, which is not kept.
struct NewRow {
    id: ApiKeyId,
    creator: Option<UserId>,
    parent: Option<ApiKeyId>,
    key: CheckedKey,
    digest: String,
    last4: String,
}

impl NewRow {
    fn new(issuer: &Issuer, key: CheckedKey, secret: &NewApiKey) -> Self {
        Self {
            id: ApiKeyId::generate(),
            creator: issuer.user.clone(),
            parent: issuer.key.as_ref().map(|k| k.id.clone()),
            key,
            digest: secret.digest(),
            last4: secret.last4(),
        }
    }

    fn insert(
        &self,
        conn: &mut crate::db::WorkspaceConn<'_>,
    ) -> Result<Option<StoredKey>, DbError> {
        api_keys::insert(
            conn,
            NewKey {
                id: &self.id,
                created_by: self.creator.as_ref(),
                created_by_key: self.parent.as_ref(),
                label: &self.key.label,
                mode: self.key.mode,
                scopes: &self.key.scopes,
                digest: &self.digest,
                last4: &self.last4,
                now: now(),
                expires_at: self.key.expires_at,
            },
        )?;
        api_keys::get(conn, &self.id)
    }
}

/// The workspace's keys that `issuer` may see: all of them for a person or a live key, the
/// test keys only for a test key.
pub async fn list_keys(db: &Database, issuer: &Issuer) -> Result<Vec<KeyView>, KeyError> {
    let keys = db
        .read(InWorkspace(issuer.workspace.clone()), api_keys::list)
        .await?;
    let now = now();
    Ok(keys
        .into_iter()
        .map(|k| KeyView::from_stored(k, now))
        .filter(|k| issuer.sees(k.mode))
        .collect())
}

/// One key of the workspace that `issuer` may see; another workspace's key ids are not found.
pub async fn key(db: &Database, issuer: &Issuer, id: &ApiKeyId) -> Result<KeyView, KeyError> {
    let id = id.clone();
    let key = db
        .read(InWorkspace(issuer.workspace.clone()), move |conn| {
            api_keys::get(conn, &id)
        })
        .await?
        .ok_or(KeyError::NotFound)?;
    let view = KeyView::from_stored(key, now());
    if !issuer.sees(view.mode) {
        return Err(KeyError::NotFound);
    }
    Ok(view)
}

/// A revocation: the key as it was before, and the keys that stopped with it (those it made,
/// and those they made in turn).
#[derive(Debug)]
pub struct Revocation {
    pub key: KeyView,
    pub with_it: Vec<KeyView>,
}

/// Revokes at once: the next request with the key is refused, and with any key it made,
/// however deep the chain. Another workspace's key ids are not found.
pub async fn revoke_key(
    db: &Database,
    cache: &KeyCache,
    issuer: &Issuer,
    id: &ApiKeyId,
) -> Result<Revocation, KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    let id = id.clone();
    let caller = issuer.clone();
    // Checked and revoked in one transaction, so the key checked is the key revoked, and the
    // caller's power is the one it has when the revocation commits.
    let revocation = db
        .write(InWorkspace(issuer.workspace.clone()), move |conn| {
            still_entitled(conn, &caller, None)?;
            let target = api_keys::get(conn, &id)?.ok_or(KeyError::NotFound)?;
            let name = subject(&target);
            let view = KeyView::from_stored(target, now());
            may_touch(&caller, &view)?;
            // Revoking a revoked key again changes nothing, and says nothing in the log.
            let mut with_it = Vec::new();
            if view.revoked_at.is_none() {
                let now = now();
                api_keys::revoke(conn, &id, now)?;
                audit::record(conn, &caller.who, Event::KeyRevoked, &name, None)?;
                if let Some(revoked) = api_keys::get(conn, &id)? {
                    crate::db::webhooks::emit_key_revoked(conn, &revoked, "by_person", now)?;
                }
                let children = api_keys::unrevoked_descendants(conn, std::slice::from_ref(&id))?;
                api_keys::revoke_all(conn, &children, now)?;
                for child in children {
                    crate::db::webhooks::emit_key_revoked(conn, &child, "parent_revoked", now)?;
                    let why = format!("the key that made it, {name}, was revoked");
                    audit::record(
                        conn,
                        &caller.who,
                        Event::KeyRevoked,
                        &subject(&child),
                        Some(&why),
                    )?;
                    with_it.push(KeyView::from_stored(child, now));
                }
            }
            Ok::<_, KeyError>(Revocation { key: view, with_it })
        })
        .await?;
    cache.forget(&revocation.key.id);
    for child in &revocation.with_it {
        cache.forget(&child.id);
    }
    Ok(revocation)
}

/// Whether `issuer` may revoke or roll `target`: a test key never touches a live key (to it,
/// one does not exist), and a key touches only keys whose scopes are within its own.
fn may_touch(issuer: &Issuer, target: &KeyView) -> Result<(), KeyError> {
    if !issuer.sees(target.mode) {
        return Err(KeyError::NotFound);
    }
    match &issuer.key {
        Some(key) if !key.scopes.covers(&target.scopes) => Err(KeyError::Forbidden(
            "A key may revoke only keys whose scopes are within its own.",
        )),
        _ => Ok(()),
    }
}

/// Where a key stands in its line of rolls: the key it replaced and the one that replaced it,
/// each when `issuer` may see it.
#[derive(Debug, Default)]
pub struct Lineage {
    pub replaces: Option<KeyView>,
    pub replaced_by: Option<KeyView>,
}

/// The lineage of `id` among `keys` (the workspace's keys as `list_keys` gave them).
pub async fn lineage(
    db: &Database,
    issuer: &Issuer,
    id: &ApiKeyId,
    keys: &[KeyView],
) -> Result<Lineage, KeyError> {
    let rolls = db
        .read(InWorkspace(issuer.workspace.clone()), api_keys::rolls)
        .await?;
    let find = |wanted: Option<&ApiKeyId>| {
        wanted.and_then(|wanted| keys.iter().find(|k| &k.id == wanted).cloned())
    };
    Ok(Lineage {
        replaces: find(rolls.iter().find(|(_, new)| new == id).map(|(old, _)| old)),
        replaced_by: find(rolls.iter().find(|(old, _)| old == id).map(|(_, new)| new)),
    })
}

/// Gives a key a new label (a revoked or expired one too: the label is how the record reads).
/// Answers the key as it was before.
pub async fn rename_key(
    db: &Database,
    issuer: &Issuer,
    id: &ApiKeyId,
    label: KeyLabel,
) -> Result<KeyView, KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    let before = key(db, issuer, id).await?;
    may_touch(issuer, &before)?;
    if before.label == label.as_str() {
        return Ok(before);
    }
    let (id, who, old) = (id.clone(), issuer.who.clone(), before.clone());
    let caller = issuer.clone();
    db.write(InWorkspace(issuer.workspace.clone()), move |conn| {
        still_entitled(conn, &caller, None)?;
        if !api_keys::rename(conn, &id, label.as_str())? {
            return Err(KeyError::NotFound);
        }
        let subject = format!("{} ({})", old.masked(), label.as_str());
        let detail = format!("from \"{}\"", old.label);
        audit::record(conn, &who, Event::KeyRenamed, &subject, Some(&detail))?;
        Ok(())
    })
    .await?;
    Ok(before)
}

/// Makes a replacement with the same label, mode and scopes, and lets the old key live for
/// `grace` more.
pub async fn roll_key(
    db: &Database,
    cache: &KeyCache,
    issuer: &Issuer,
    id: &ApiKeyId,
    grace: GraceHours,
) -> Result<(KeyView, NewApiKey), KeyError> {
    if !issuer.role.can_manage() {
        return Err(KeyError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    let grace = i64::from(grace.hours());
    let id = id.clone();
    let lookup = id.clone();
    let old = db
        .read(InWorkspace(issuer.workspace.clone()), move |conn| {
            api_keys::get(conn, &lookup)
        })
        .await?
        .ok_or(KeyError::NotFound)?;
    let old = KeyView::from_stored(old, now());
    may_touch(issuer, &old)?;
    if old.state != KeyState::Active {
        return Err(KeyError::Conflict("Only an active key can be rolled."));
    }
    // Rolling replaces the secret; it does not extend the key's life.
    let mut replacement = CheckedKey {
        label: old.label.clone(),
        mode: old.mode,
        scopes: old.scopes.clone(),
        expires_at: old.expires_at,
    };
    authorize(issuer, &mut replacement)?;
    let secret = NewApiKey::generate(replacement.mode);
    let row = NewRow::new(issuer, replacement, &secret);
    let rolled = id.clone();
    let who = issuer.who.clone();
    let old_name = format!("{} ({})", old.masked(), old.label);
    // Marked, replaced and expired in one transaction: of two rolls at once, one makes a key.
    let caller = issuer.clone();
    let (stored, forgotten) = db
        .write(InWorkspace(issuer.workspace.clone()), move |conn| {
            let mut forgotten = Vec::new();
            still_entitled(conn, &caller, Some(row.key.mode))?;
            if !api_keys::mark_rolled(conn, &id, &row.id)? {
                return Err(KeyError::Conflict(
                    "This key was rolled already (or revoked): roll its replacement instead.",
                ));
            }
            let stored = row.insert(conn)?.ok_or(KeyError::NotFound)?;
            let ends = now() + grace * 3600;
            api_keys::expire_by(conn, &id, ends)?;
            // What the old key made stops when it stops, however deep the chain; not its
            // replacement, which a key rolling itself has just made.
            let children: Vec<StoredKey> =
                api_keys::unrevoked_descendants(conn, std::slice::from_ref(&id))?
                    .into_iter()
                    .filter(|child| child.id != stored.id)
                    .collect();
            for child in &children {
                if child.expires_at.is_none_or(|at| at > ends) {
                    api_keys::expire_by(conn, &child.id, ends)?;
                    let why = format!("it stops with the key that made it, {old_name}, rolled");
                    audit::record(
                        conn,
                        &who,
                        Event::KeyExpiryShortened,
                        &subject(child),
                        Some(&why),
                    )?;
                }
            }
            forgotten.extend(children.into_iter().map(|c| c.id));
            let detail = format!(
                "replaced by {}; the old key works {grace} more hours",
                audit::masked_key(stored.mode, &stored.last4)
            );
            audit::record(conn, &who, Event::KeyRolled, &old_name, Some(&detail))?;
            Ok((stored, forgotten))
        })
        .await?;
    let created = (KeyView::from_stored(stored, now()), secret);
    cache.forget(&rolled);
    for child in &forgotten {
        cache.forget(child);
    }
    Ok(created)
}
