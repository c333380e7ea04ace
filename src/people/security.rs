//! A person's own account security: their sessions, ending them, changing the password.

use super::{AccountError, LinkedIdentity};
use crate::auth::password::PasswordHashing;
use crate::auth::throttle::ThrottleKeys;
use crate::db::sessions::{self, ActiveSession};
use crate::db::{Database, Global, identities, users};
use crate::domain::{Password, SessionId, UserId, now};
use crate::mail::Post;

pub struct Security {
    /// Live sessions, most recently seen first.
    pub sessions: Vec<ActiveSession>,
    /// False for an account that signs in only with Google.
    pub has_password: bool,
    /// Linked Google identities (one at most today).
    pub identities: Vec<LinkedIdentity>,
}

pub async fn security(db: &Database, user: &UserId) -> Result<Security, AccountError> {
    let user = user.clone();
    db.read(Global, move |conn| {
        let sessions = sessions::active_for_user(conn, &user, now())?;
        let has_password = users::find(conn, &user)?.is_some_and(|u| u.password_hash.is_some());
        let identities = identities::of_user(conn, &user)?
            .into_iter()
            .map(LinkedIdentity::from)
            .collect();
        Ok(Security {
            sessions,
            has_password,
            identities,
        })
    })
    .await
}

/// Ends one of the user's sessions; `NotFound` when the user has no session of that name (it
/// ended already, or it is someone else's).
pub async fn end_session(
    db: &Database,
    user: &UserId,
    session: &SessionId,
) -> Result<(), AccountError> {
    let (user, session) = (user.clone(), session.clone());
    db.write(Global, move |conn| {
        sessions::delete_one_of_user(conn, &user, &session)
    })
    .await?
    .then_some(())
    .ok_or(AccountError::NotFound)
}

/// What the change-password form sent.
pub struct PasswordChange {
    pub current: String,
    pub new: String,
    pub client_address: String,
}

/// Replaces the password once the current one is confirmed, and ends every other session of
/// the user (the one asking stays signed in). The confirmation is counted like a sign-in
/// attempt, so a stolen session cannot guess the password faster than the sign-in form could.
pub async fn change_password(
    db: &Database,
    post: Post<'_>,
    hashing: &PasswordHashing,
    user: &UserId,
    keep: &SessionId,
    change: PasswordChange,
) -> Result<(), AccountError> {
    let new = Password::new_password(change.new)?;
    let current = Password::attempt(change.current);
    let check = hashing.reserve_for_check()?;
    let who = user.clone();
    let address = change.client_address;
    let from = address.clone();
    let (stored, keys, email) = db
        .write(Global, move |conn| {
            let Some(user) = users::find(conn, &who)? else {
                return Err(AccountError::BadCredentials);
            };
            let keys = ThrottleKeys::new(&user.email, &address);
            if !keys.admit(conn, now())? {
                return Err(AccountError::Throttled);
            }
            Ok((user.password_hash, keys, user.email))
        })
        .await?;
    if !check.verify(current, stored).await? {
        return Err(AccountError::BadCredentials);
    }
    let password_hash = hashing.reserve_for_new_password()?.hash(new).await?;
    let (user, keep) = (user.clone(), keep.clone());
    db.write(Global, move |conn| {
        users::set_password(conn, &user, &password_hash)?;
        sessions::delete_others_of_user(conn, &user, &keep)?;
        keys.record_success(conn)
    })
    .await?;
    super::notices::password_changed(post, &email, Some(&from));
    Ok(())
}
