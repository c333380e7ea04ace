//! The built-in `sandbox` platform (§5.4): an authorization server inside Socializer, so that a
//! new user, a demo and test keys go through the whole connect flow with no outside network.
//! Like a real platform it issues single-use codes bound to the redirect URI; its tokens are
//! random and stored like any other.

use super::ConnectError;
use super::oauth::{ProviderError, TokenSet};
use super::providers::Profile;
use crate::crypto::envelope::Secret;
use crate::crypto::{random_token, sha256_hex};
use crate::db::{Database, sandbox_grants};
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

/// The "Approve" button: a single-use code for `redirect_uri`.
pub async fn approve(
    db: &Database,
    account: &str,
    redirect_uri: &str,
    now: i64,
) -> Result<String, ConnectError> {
    let code = format!("sbx_code_{}", random_token());
    let (digest, account, redirect_uri) = (
        sha256_hex(&code),
        account.to_owned(),
        redirect_uri.to_owned(),
    );
    db.global(move |conn| {
        sandbox_grants::delete_expired(conn, now)?;
        sandbox_grants::insert(
            conn,
            &digest,
            &account,
            &redirect_uri,
            now + CODE_LIFETIME_SECS,
        )
    })
    .await?;
    Ok(code)
}

/// The token endpoint: a code spent once, for the redirect URI it was issued to.
pub async fn exchange(
    db: &Database,
    code: &str,
    redirect_uri: &str,
    now: i64,
) -> Result<(TokenSet, Profile), ConnectError> {
    let digest = sha256_hex(code);
    let grant = db
        .global(move |conn| sandbox_grants::consume(conn, &digest, now))
        .await?;
    match grant {
        Some((account, issued_for)) if issued_for == redirect_uri => {
            Ok((tokens(now), profile(&account)))
        }
        _ => Err(ConnectError::Provider(ProviderError::Refused(
            "the sandbox refused the code: unknown, used, expired or for another redirect_uri"
                .into(),
        ))),
    }
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
