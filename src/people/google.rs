//! Who a verified Google identity signs in as. Identities are found by (issuer, subject); an
//! email only decides the first sign-in, and only when the provider vouches for it.

use super::signin::signed_in_as;
use super::takeover::{self, TakenBack};
use super::{AccountError, SignedIn};
use crate::auth::throttle;
use crate::crypto::sha256_hex;
use crate::db::email_tokens::{self, Purpose};
use crate::db::google_sign_ins::{self, NewSignIn};
use crate::db::identities::{self, NewIdentity};
use crate::db::{Database, DbError, Global, GlobalConn, memberships, sessions, users, workspaces};
use crate::domain::{Email, Role, UserId, WorkspaceId, WorkspaceName, now};
use crate::google::VerifiedIdentity;
use crate::keys::KeyCache;
use crate::mail::Post;

#[derive(Debug)]
pub struct GoogleSignedIn {
    pub signed_in: SignedIn,
    /// The identity was linked to an account whose email nobody had confirmed: its password
    /// (set by whoever typed that address) is gone and its sessions ended.
    pub password_removed: bool,
    /// What that account had done before, removed (see `takeover`).
    pub taken_back: TakenBack,
}

/// A linked identity at Google, as the security page shows it.
#[derive(Debug, Clone)]
pub struct LinkedIdentity {
    pub issuer: String,
    pub email: Option<String>,
    pub linked_at: i64,
}

/// Signs in with an identity the provider vouched for:
/// - an identity seen before signs in as its user;
/// - a new one signs in only when the provider says its email is verified: such an email
///   never creates or joins an account otherwise;
/// - a new one whose email an account uses is linked to that account. When the account's own
///   email was never confirmed, the owner takes it back: its password is removed, its sessions
///   ended, any identity linked before removed, and what it did removed (see `takeover`).
///   An account whose owner confirmed it and that is linked to another identity of the same
///   provider is not linked to a second one;
/// - a new one with a new email gets a user and a workspace of their own, as sign-up gives.
pub async fn sign_in_with_google(
    db: &Database,
    post: Post<'_>,
    cache: &KeyCache,
    identity: VerifiedIdentity,
    client_address: &str,
) -> Result<GoogleSignedIn, AccountError> {
    let workspaces = match account_for_email(db, &identity).await? {
        Some(user) => takeover::workspaces_of(db, &user).await?,
        None => Vec::new(),
    };
    // Two first sign-ins racing for one identity or one email: the loser's insert fails on the
    // unique keys and its second look finds what the winner wrote.
    let mut attempts = 0;
    let (user, email, taken_back, linked) = loop {
        let (identity, address, workspaces) = (
            identity.clone(),
            client_address.to_owned(),
            workspaces.clone(),
        );
        match db
            .write(Global, move |conn| {
                link_or_create(conn, &identity, &address, &workspaces)
            })
            .await
        {
            Err(AccountError::Storage(DbError::UniqueViolation)) if attempts == 0 => {
                attempts += 1;
            }
            other => break other?,
        }
    };
    if let Some(taken) = &taken_back {
        taken.forget_cached(cache);
    }
    if linked {
        let google_email = identity.email.as_deref().unwrap_or_default();
        super::notices::google_linked(post, &email, google_email);
    }
    Ok(GoogleSignedIn {
        signed_in: signed_in_as(db, user, email).await?,
        password_removed: taken_back.is_some(),
        taken_back: taken_back.unwrap_or_default(),
    })
}

/// The account a new identity's email would link to, read before the transaction that links
/// it (to find its workspaces).
async fn account_for_email(
    db: &Database,
    identity: &VerifiedIdentity,
) -> Result<Option<UserId>, AccountError> {
    let Some(email) = identity.email.as_deref().and_then(|e| Email::parse(e).ok()) else {
        return Ok(None);
    };
    Ok(db
        .read(Global, move |conn| users::find_by_email(conn, &email))
        .await?
        .map(|u| u.id))
}

/// The user signed in as, their email, what was taken back when the identity took an
/// unconfirmed account over, and whether the identity was just linked to an existing account.
type Linked = (UserId, Email, Option<TakenBack>, bool);

fn link_or_create(
    conn: &mut GlobalConn<'_>,
    identity: &VerifiedIdentity,
    client_address: &str,
    workspaces: &[WorkspaceId],
) -> Result<Linked, AccountError> {
    let now = now();
    if let Some(known) = identities::find(conn, &identity.issuer, &identity.subject)? {
        let user = users::find(conn, &known.user_id)?.ok_or(AccountError::NotFound)?;
        return Ok((user.id, user.email, None, false));
    }
    let given = identity.email.as_deref().ok_or(AccountError::NoEmail)?;
    let email = Email::parse(given).map_err(|_| AccountError::NoEmail)?;
    if !identity.email_verified {
        return Err(AccountError::UnverifiedEmail);
    }
    let link = |conn: &mut GlobalConn<'_>, user: &UserId| {
        identities::insert(
            conn,
            NewIdentity {
                issuer: &identity.issuer,
                subject: &identity.subject,
                user,
                email: Some(email.as_str()),
                now,
            },
        )
    };

    if let Some(user) = users::find_by_email(conn, &email)? {
        let mut taken = None;
        if !user.email_verified {
            users::clear_password(conn, &user.id)?;
            sessions::delete_for_user(conn, &user.id)?;
            email_tokens::delete_for_user(conn, &user.id, Purpose::ResetPassword)?;
            identities::delete_all_of_user(conn, &user.id)?;
            taken = Some(takeover::take_back(
                conn,
                &user.id,
                &user.email,
                workspaces,
                now,
            )?);
            users::mark_email_verified(conn, &user.id, now)?;
        } else if identities::of_user(conn, &user.id)?
            .iter()
            .any(|linked| linked.issuer == identity.issuer)
        {
            return Err(AccountError::OtherIdentityLinked);
        }
        link(conn, &user.id)?;
        return Ok((user.id, user.email, taken, true));
    }

    if !throttle::admit_signup(conn, client_address, now)? {
        return Err(AccountError::Throttled);
    }
    let user = UserId::generate();
    users::insert(conn, &user, &email, None, now)?;
    users::mark_email_verified(conn, &user, now)?;
    link(conn, &user)?;
    let mut workspace = conn.enter_workspace(WorkspaceId::generate())?;
    workspaces::create(&mut workspace, &WorkspaceName::default_for(&email), now)?;
    memberships::add(&mut workspace, &user, Role::Owner, now)?;
    Ok((user, email, None, false))
}

impl From<identities::Identity> for LinkedIdentity {
    fn from(stored: identities::Identity) -> Self {
        Self {
            issuer: stored.issuer,
            email: stored.email,
            linked_at: stored.created_at,
        }
    }
}

/// Unlinks the user's identity at `issuer`. Refused when the account has no password, which
/// would leave it with no way in; `NotFound` when nothing is linked there.
pub async fn unlink_identity(
    db: &Database,
    post: Post<'_>,
    user: &UserId,
    issuer: &str,
) -> Result<(), AccountError> {
    let (user, issuer) = (user.clone(), issuer.to_owned());
    let email = db
        .write(Global, move |conn| {
            let found = users::find(conn, &user)?.ok_or(AccountError::NotFound)?;
            if found.password_hash.is_none() {
                return Err(AccountError::PasswordNeeded);
            }
            if identities::delete_of_user(conn, &user, &issuer)? {
                Ok(found.email)
            } else {
                Err(AccountError::NotFound)
            }
        })
        .await?;
    super::notices::google_unlinked(post, &email);
    Ok(())
}

/// How long a visitor has at the provider to come back.
const SIGN_IN_LIFETIME_SECS: i64 = 10 * 60;

/// Remembers a sign-in begun in a browser: the digests of its `state` and of the browser's
/// cookie, the nonce and PKCE verifier, and where to go afterwards. Answers its lifetime.
pub async fn remember_google_sign_in(
    db: &Database,
    state: &str,
    browser: &str,
    pending: &crate::google::Pending,
    next: Option<String>,
) -> Result<i64, AccountError> {
    let (state_digest, browser_digest) = (sha256_hex(state), sha256_hex(browser));
    let (nonce, pkce_verifier) = (pending.nonce.clone(), pending.pkce_verifier.clone());
    db.write(Global, move |conn| {
        let now = now();
        google_sign_ins::insert(
            conn,
            NewSignIn {
                state_digest: &state_digest,
                browser_digest: &browser_digest,
                nonce: &nonce,
                pkce_verifier: &pkce_verifier,
                next_path: next.as_deref(),
                now,
                expires_at: now + SIGN_IN_LIFETIME_SECS,
            },
        )
    })
    .await?;
    Ok(SIGN_IN_LIFETIME_SECS)
}

/// Spends the sign-in that `state` names, when `browser` is the one that began it and it has
/// not expired; `None` otherwise (unknown, used, expired or another browser's).
pub async fn take_google_sign_in(
    db: &Database,
    state: &str,
    browser: &str,
) -> Result<Option<google_sign_ins::PendingSignIn>, AccountError> {
    let (state_digest, browser_digest) = (sha256_hex(state), sha256_hex(browser));
    let pending = db
        .write(Global, move |conn| {
            google_sign_ins::consume(conn, &state_digest, &browser_digest)
        })
        .await?;
    Ok(pending.filter(|p| p.expires_at > now()))
}
