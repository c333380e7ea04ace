//! Forgotten passwords: a link by email, single use and valid for an hour. Asking never tells
//! whether the address has an account; using the link sets the new password, ends every session
//! of the user and signs them in afresh.

use super::email_links::{link, send_later};
use super::signin::signed_in_as;
use super::takeover::{self, TakenBack};
use super::{AccountError, SignedIn};
use crate::auth::password::PasswordHashing;
use crate::auth::throttle::{self, ThrottleKeys};
use crate::crypto::{random_token, sha256_hex};
use crate::db::email_tokens::{self, Purpose};
use crate::db::{Database, Global, identities, sessions, users};
use crate::domain::{Email, Password, UserId, now};
use crate::keys::KeyCache;
use crate::mail::{Mailer, OutgoingEmail, Post};
use url::Url;

const RESET_TTL_SECS: i64 = 60 * 60;
/// Longer than any token this service makes; a longer one is refused without a query.
const MAX_TOKEN_CHARS: usize = 128;

/// Sends a reset link to `email` when it has an account. The outcome the caller sees is the same
/// either way, and so is the work done before answering: the attempt is counted and the account
/// looked up in one write transaction; only the sending differs, and it happens afterwards.
pub async fn request_password_reset(
    db: &Database,
    mailer: &Mailer,
    public_url: &Url,
    email: &str,
    client_address: &str,
) -> Result<(), AccountError> {
    let email = Email::parse(email)?;
    let token = random_token();
    let (asked, address, token_hash) =
        (email.clone(), client_address.to_owned(), sha256_hex(&token));
    let account = db
        .write(Global, move |conn| {
            let now = now();
            if !throttle::admit_email_request(conn, "reset", &asked, &address, now)? {
                return Err(AccountError::Throttled);
            }
            let Some(user) = users::find_by_email(conn, &asked)? else {
                return Ok(None);
            };
            email_tokens::insert(
                conn,
                &token_hash,
                &user.id,
                Purpose::ResetPassword,
                now,
                now + RESET_TTL_SECS,
            )?;
            Ok(Some(user.id))
        })
        .await?;
    if account.is_some() {
        let link = link(public_url, "/reset-password", &token);
        let message = OutgoingEmail {
            to: email,
            subject: "Reset your Socializer password".into(),
            body: format!(
                "Someone asked to reset the password of your Socializer account.\n\n\
                 Choose a new password by opening this link within an hour (it works once):\n\n\
                 {link}\n\nIf it was not you, ignore this message: your password stays as it is."
            ),
            link: Some(link),
        };
        send_later(mailer, message, "password reset");
    }
    Ok(())
}

fn token_hash(token: &str) -> Result<String, AccountError> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return Err(AccountError::InvalidToken);
    }
    Ok(sha256_hex(token))
}

/// Whether a reset link can still be used, to show its form or say at once that it cannot.
pub async fn reset_link_is_live(db: &Database, token: &str) -> Result<bool, AccountError> {
    Ok(reset_link_user(db, token).await?.is_some())
}

async fn reset_link_user(db: &Database, token: &str) -> Result<Option<UserId>, AccountError> {
    let Ok(hash) = token_hash(token) else {
        return Ok(None);
    };
    Ok(db
        .read(Global, move |conn| {
            email_tokens::live_user(conn, &hash, Purpose::ResetPassword, now())
        })
        .await?)
}

/// Spends the link: the new password replaces the old one, the email counts as confirmed (the
/// link reached it), every session and every other reset link of the user ends, and the email's
/// failed sign-ins are forgiven. Two uses of one link at once: one succeeds, the other finds it
/// spent. An account whose address nobody had confirmed is taken back by its owner: what it
/// did meanwhile is removed, and answered so that the owner sees it.
pub async fn reset_password(
    db: &Database,
    post: Post<'_>,
    cache: &KeyCache,
    hashing: &PasswordHashing,
    token: &str,
    password: String,
) -> Result<(SignedIn, TakenBack), AccountError> {
    let hash = token_hash(token)?;
    let password = Password::new_password(password)?;
    // A link that is no longer live costs no hash.
    let Some(owner) = reset_link_user(db, token).await? else {
        return Err(AccountError::InvalidToken);
    };
    let workspaces = takeover::workspaces_of(db, &owner).await?;
    let password_hash = hashing.reserve_for_new_password()?.hash(password).await?;
    let (user, taken) = db
        .write(Global, move |conn| {
            let now = now();
            let Some(user) = email_tokens::consume(conn, &hash, Purpose::ResetPassword, now)?
            else {
                return Err(AccountError::InvalidToken);
            };
            let Some(user) = users::find(conn, &user)? else {
                return Err(AccountError::InvalidToken);
            };
            users::set_password(conn, &user.id, &password_hash)?;
            let mut taken = TakenBack::default();
            if !user.email_verified {
                // The mirror of linking (see `google`): an identity linked while nobody had
                // proved the address was linked by whoever claimed it, and the owner has just
                // proved it.
                identities::delete_all_of_user(conn, &user.id)?;
                taken = takeover::take_back(conn, &user.id, &user.email, &workspaces, now)?;
            }
            users::mark_email_verified(conn, &user.id, now)?;
            email_tokens::delete_for_user(conn, &user.id, Purpose::ResetPassword)?;
            sessions::delete_for_user(conn, &user.id)?;
            ThrottleKeys::new(&user.email, "").forgive_email(conn)?;
            Ok((user, taken))
        })
        .await?;
    taken.forget_cached(cache);
    super::notices::password_changed(post, &user.email, None);
    Ok((signed_in_as(db, user.id, user.email).await?, taken))
}
