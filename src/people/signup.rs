use super::AccountError;
use super::email_links::{link, send_later};
use crate::auth::password::PasswordHashing;
use crate::auth::throttle;
use crate::crypto::{random_token, sha256_hex};
use crate::db::email_tokens::{self, Purpose};
use crate::db::{Database, DbError, Global, memberships, users, workspaces};
use crate::domain::{Email, Password, Role, UserId, WorkspaceId, WorkspaceName, now};
use crate::logging::Chain;
use crate::mail::{Mailer, OutgoingEmail};
use url::Url;

const VERIFY_EMAIL_TTL_SECS: i64 = 24 * 60 * 60;

/// What the sign-up form sent, unchecked.
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub workspace: String,
    /// Where the form came from: sign-ups are limited per client address.
    pub client_address: String,
}

#[derive(Debug)]
pub struct SignedUp {
    pub user: UserId,
    pub workspace: WorkspaceId,
    /// As stored: trimmed and lower-cased.
    pub email: Email,
}

/// Creates the user, their first workspace (they own it) and sends the verification email.
/// The user, workspace and membership are written in one transaction: all or nothing.
pub async fn sign_up(
    db: &Database,
    hashing: &PasswordHashing,
    mailer: &Mailer,
    public_url: &Url,
    form: SignUp,
) -> Result<SignedUp, AccountError> {
    let email = Email::parse(&form.email)?;
    let password = Password::new_password(form.password)?;
    let name = if form.workspace.trim().is_empty() {
        WorkspaceName::default_for(&email)
    } else {
        WorkspaceName::parse(&form.workspace)?
    };
    // A place for the hash first (busy: refused, counted against nothing), then the sign-up
    // counted, before the hash runs, like sign-in attempts: a burst gets no more than the limit.
    let place = hashing.reserve_for_new_password()?;
    let address = form.client_address;
    if !db
        .write(Global, move |conn| {
            throttle::admit_signup(conn, &address, now())
        })
        .await?
    {
        return Err(AccountError::Throttled);
    }
    let password_hash = place.hash(password).await?;

    let user = UserId::generate();
    let workspace = WorkspaceId::generate();
    let token = random_token();
    let created = {
        let (user, workspace, email, token_hash) = (
            user.clone(),
            workspace.clone(),
            email.clone(),
            sha256_hex(&token),
        );
        db.write(Global, move |conn| {
            let now = now();
            users::insert(conn, &user, &email, Some(&password_hash), now)?;
            email_tokens::insert(
                conn,
                &token_hash,
                &user,
                Purpose::VerifyEmail,
                now,
                now + VERIFY_EMAIL_TTL_SECS,
            )?;
            let mut ws = conn.enter_workspace(workspace)?;
            workspaces::create(&mut ws, &name, now)?;
            memberships::add(&mut ws, &user, Role::Owner, now)
        })
        .await
    };
    match created {
        Ok(()) => {}
        Err(DbError::UniqueViolation) => return Err(AccountError::EmailTaken),
        Err(e) => return Err(e.into()),
    }

    let message = verification_email(&email, link(public_url, "/verify-email", &token));
    // The account exists either way; a mail failure is the operator's to fix, not the user's.
    if let Err(e) = mailer.send(message).await {
        log::error!(
            "sign-up of user {user}: verification email not sent: {}",
            Chain(&e)
        );
    }
    Ok(SignedUp {
        user,
        workspace,
        email,
    })
}

fn verification_email(to: &Email, link: String) -> OutgoingEmail {
    OutgoingEmail {
        to: to.clone(),
        subject: "Confirm your email for Socializer".into(),
        body: format!(
            "Welcome to Socializer.\n\nConfirm your email address by opening this link within 24 hours:\n\n{link}\n\n\
             If you did not sign up, ignore this message."
        ),
        link: Some(link),
    }
}

/// Sends the signed-in user a fresh verification link, unless their email is confirmed already
/// (then nothing is sent). Counted like a reset request, so it cannot flood an inbox.
pub async fn resend_verification(
    db: &Database,
    mailer: &Mailer,
    public_url: &Url,
    user: &UserId,
    client_address: &str,
) -> Result<(), AccountError> {
    let token = random_token();
    let (user, address, token_hash) = (user.clone(), client_address.to_owned(), sha256_hex(&token));
    let unverified = db
        .write(Global, move |conn| {
            let now = now();
            let Some(user) = users::find(conn, &user)?.filter(|u| !u.email_verified) else {
                return Ok(None);
            };
            if !throttle::admit_email_request(conn, "verify", &user.email, &address, now)? {
                return Err(AccountError::Throttled);
            }
            email_tokens::insert(
                conn,
                &token_hash,
                &user.id,
                Purpose::VerifyEmail,
                now,
                now + VERIFY_EMAIL_TTL_SECS,
            )?;
            Ok(Some(user.email))
        })
        .await?;
    if let Some(email) = unverified {
        let message = verification_email(&email, link(public_url, "/verify-email", &token));
        send_later(mailer, message, "verification");
    }
    Ok(())
}

/// What following a verification link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The link was spent and the email counts as confirmed.
    Confirmed,
    /// The link was spent before, and the address it confirmed still counts as confirmed: a
    /// second click says so instead of calling a good link invalid.
    AlreadyConfirmed,
    /// The link is live but was opened without being signed in as its account: it stays
    /// unspent. Whoever receives the mail is not yet shown to be whoever opened the account,
    /// and confirming a stranger's account would hand it the address's full powers.
    SignInFirst,
}

/// Spends a verification link (single use, 24 h) and marks the email verified, when it is
/// opened by the account it was sent for (`signed_in`).
pub async fn verify_email(
    db: &Database,
    token: &str,
    signed_in: Option<&UserId>,
) -> Result<Verification, AccountError> {
    if token.is_empty() || token.len() > 128 {
        return Err(AccountError::InvalidToken);
    }
    let token_hash = sha256_hex(token);
    let signed_in = signed_in.cloned();
    db.write(Global, move |conn| {
        let now = now();
        let Some(owner) = email_tokens::live_user(conn, &token_hash, Purpose::VerifyEmail, now)?
        else {
            let used = email_tokens::used_by(conn, &token_hash, Purpose::VerifyEmail)?;
            return match used {
                Some(user) if users::find(conn, &user)?.is_some_and(|u| u.email_verified) => {
                    Ok(Verification::AlreadyConfirmed)
                }
                _ => Err(AccountError::InvalidToken),
            };
        };
        if signed_in.as_ref() != Some(&owner) {
            return Ok(Verification::SignInFirst);
        }
        match email_tokens::consume(conn, &token_hash, Purpose::VerifyEmail, now)? {
            Some(user) => {
                users::mark_email_verified(conn, &user, now)?;
                Ok(Verification::Confirmed)
            }
            None => Err(AccountError::InvalidToken),
        }
    })
    .await
}
