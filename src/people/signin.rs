use super::AccountError;
use crate::auth::password::PasswordHashing;
use crate::auth::throttle::ThrottleKeys;
use crate::db::{AsUser, Database, Global, InWorkspace, memberships, sessions, users, workspaces};
use crate::domain::{Email, Password, Role, UserId, WorkspaceId, WorkspaceName, now};

#[derive(Debug)]
pub struct SignedIn {
    pub user: UserId,
    /// The workspace the session starts in: the user's oldest membership.
    pub workspace: WorkspaceId,
    /// As stored: trimmed and lower-cased.
    pub email: Email,
}

/// Checks an email and password, with throttling per email and per client address.
pub async fn sign_in(
    db: &Database,
    hashing: &PasswordHashing,
    email: &str,
    password: String,
    client_address: &str,
) -> Result<SignedIn, AccountError> {
    let password = Password::attempt(password);
    // A malformed email cannot match an account; it still costs a hash, so that timing does
    // not tell the two apart, and it still counts against the client address.
    let email = Email::parse(email).unwrap_or_else(|_| Email::placeholder());
    let keys = ThrottleKeys::new(&email, client_address);
    // A place to check the password is taken first: a request refused as busy counts as no
    // attempt.
    let place = hashing.reserve_for_check()?;

    // Counted before the password is checked: parallel guesses each take a place in the count,
    // and those past the limit are refused without being evaluated.
    let (user, keys) = db
        .write(Global, move |conn| {
            if !keys.admit(conn, now())? {
                return Err(AccountError::Throttled);
            }
            Ok((users::find_by_email(conn, &email)?, keys))
        })
        .await?;

    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = place.verify(password, stored_hash).await?;
    let user = match user {
        Some(user) if matches => user,
        _ => return Err(AccountError::BadCredentials),
    };

    db.write(Global, move |conn| keys.record_success(conn))
        .await?;
    signed_in_as(db, user.id, user.email).await
}

/// Where a user who has just proved who they are starts: their oldest workspace, or a new one of
/// their own when they belong to none any more.
pub(super) async fn signed_in_as(
    db: &Database,
    user: UserId,
    email: Email,
) -> Result<SignedIn, AccountError> {
    let first = db
        .read(AsUser(user.clone()), workspaces::list_for_user)
        .await?
        .into_iter()
        .next();
    let workspace = match first {
        Some((workspace, _)) => workspace.id,
        None => create_own_workspace(db, &user, WorkspaceName::default_for(&email)).await?,
    };
    Ok(SignedIn {
        user,
        workspace,
        email,
    })
}

pub(super) async fn create_own_workspace(
    db: &Database,
    user: &UserId,
    name: WorkspaceName,
) -> Result<WorkspaceId, AccountError> {
    let workspace = WorkspaceId::generate();
    let user = user.clone();
    db.write(InWorkspace(workspace.clone()), move |conn| {
        let now = now();
        workspaces::create(conn, &name, now)?;
        memberships::add(conn, &user, Role::Owner, now)
    })
    .await?;
    Ok(workspace)
}

/// Ends all of the user's sessions, on every device.
pub async fn sign_out_everywhere(db: &Database, user: &UserId) -> Result<usize, AccountError> {
    let user = user.clone();
    Ok(db
        .write(Global, move |conn| sessions::delete_for_user(conn, &user))
        .await?)
}
