//! The built-in `sandbox` platform: an authorization server inside Socializer, so that a
//! new user, a demo and test keys go through the whole connect flow with no outside network.
//! Like a real platform it issues single-use codes bound to the flow's state and redirect URI,
//! and its page acts only for a flow that is pending; its tokens are
//! random and stored like any other.

use super::ConnectError;
use super::oauth::TokenSet;
use super::providers::{Platform, Profile};
use crate::crypto::envelope::Secret;
use crate::crypto::{random_token, sha256_hex};
use crate::db::{
    ByStateDigest, Database, Global, InWorkspace, oauth_states, sandbox_grants, users, workspaces,
};
use crate::domain::Invalid;

/// A code must be exchanged within this long, as on the real platforms.
const CODE_LIFETIME_SECS: i64 = 5 * 60;
/// Sandbox access tokens last an hour, so refreshing can be seen at work.
pub const TOKEN_LIFETIME_SECS: i64 = 60 * 60;

/// The name a sandbox account goes by: 1 to 40 of `a-z 0-9 _ -`.
pub fn account_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() || name.len() > 40 {
        return Err(Invalid::new(
            "account",
            "Give the account a name of 1 to 40 characters.",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(Invalid::new(
            "account",
            "Use only letters, digits, '_' and '-' in the account name.",
        ));
    }
    Ok(name)
}

/// A flow waiting at the sandbox's authorize page: the redirect URI it was begun with, and for
/// whom the account would be connected (the consent page says so, as a platform's would).
pub struct PendingFlow {
    pub redirect_uri: String,
    /// The workspace's name.
    pub workspace: String,
    /// Who began the flow in the browser; `None` for a flow a key began.
    pub person: Option<String>,
}

/// The sandbox flow that `state` names, if it exists, is pending and has not expired. The
/// authorize page shows and acts only for such a flow, and only with its own redirect URI.
pub async fn pending_flow(
    db: &Database,
    state: &str,
    now: i64,
) -> Result<Option<PendingFlow>, ConnectError> {
    if state.is_empty() || state.len() > 512 {
        return Ok(None);
    }
    let flow = db
        .read(ByStateDigest(sha256_hex(state)), oauth_states::find)
        .await?;
    let Some(flow) = flow.filter(|f| f.platform == Platform::Sandbox && f.expires_at > now) else {
        return Ok(None);
    };
    let workspace = db
        .read(InWorkspace(flow.workspace_id.clone()), workspaces::current)
        .await?
        .map(|w| w.name.to_string())
        .unwrap_or_default();
    let person = match flow.user_id {
        Some(user) => db
            .read(Global, move |conn| users::find(conn, &user))
            .await?
            .map(|u| u.email.to_string()),
        None => None,
    };
    Ok(Some(PendingFlow {
        redirect_uri: flow.redirect_uri,
        workspace,
        person,
    }))
}

/// The "Approve" button: a single-use code for this flow and its redirect URI, replacing any
/// code approved for it before.
pub async fn approve(
    db: &Database,
    account: &str,
    state: &str,
    redirect_uri: &str,
    now: i64,
) -> Result<String, ConnectError> {
    let code = format!("sbx_code_{}", random_token());
    let (code_digest, state_digest, account, redirect_uri) = (
        sha256_hex(&code),
        sha256_hex(state),
        account.to_owned(),
        redirect_uri.to_owned(),
    );
    db.write(Global, move |conn| {
        sandbox_grants::delete_expired(conn, now)?;
        sandbox_grants::replace(
            conn,
            sandbox_grants::NewGrant {
                code_digest: &code_digest,
                state_digest: &state_digest,
                account_name: &account,
                redirect_uri: &redirect_uri,
                expires_at: now + CODE_LIFETIME_SECS,
            },
        )
    })
    .await?;
    Ok(code)
}

/// A code the sandbox does not know for this flow is the caller's mistake, not the platform's
/// failure: 400, and the flow's state is left unspent.
pub fn refused_code() -> ConnectError {
    ConnectError::Invalid(Invalid::new(
        "code",
        "the sandbox does not know this code for this flow: unknown, used, expired, or approved for another state",
    ))
}

/// What the sandbox's token endpoint hands out for an approved code.
pub fn grant(account: &str, now: i64) -> (TokenSet, Profile) {
    (tokens(now), profile(account))
}

/// A refresh: new tokens, the refresh token rotated like X's.
pub fn refresh(now: i64) -> TokenSet {
    tokens(now)
}

fn tokens(now: i64) -> TokenSet {
    TokenSet {
        access: Secret::new(format!("sbx_at_{}", random_token())),
        refresh: Some(Secret::new(format!("sbx_rt_{}", random_token()))),
        expires_at: Some(now + TOKEN_LIFETIME_SECS),
    }
}

fn profile(account: &str) -> Profile {
    Profile {
        id: format!("sandbox-{account}"),
        handle: format!("@{account}"),
        display_name: format!("Sandbox user {account}"),
    }
}
