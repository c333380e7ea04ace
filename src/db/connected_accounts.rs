//! Connected social accounts: workspace data. Tokens arrive here already sealed.

use super::schema::connected_accounts as ca;
use super::{DbError, InWorkspace, RefreshScanConn, WorkspaceConn};
use crate::domain::KeyMode;
use crate::domain::{AccountId, UserId, WorkspaceId};
use crate::domain::{AccountStatus, Platform};
use diesel::prelude::*;

/// A stored account, tokens still sealed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ca)]
pub struct StoredAccount {
    pub id: AccountId,
    pub workspace_id: WorkspaceId,
    pub platform: Platform,
    pub mode: KeyMode,
    pub platform_account_id: String,
    pub handle: String,
    pub display_name: String,
    pub status: AccountStatus,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub token_expires_at: Option<i64>,
    pub connected_at: i64,
    pub updated_at: i64,
    pub refresh_lease: Option<String>,
    pub refresh_lease_until: Option<i64>,
    pub refresh_failures: i32,
    pub next_refresh_at: Option<i64>,
    pub last_error: Option<String>,
}

/// The one account `id` of the connection's workspace: every query names both.
#[diesel::dsl::auto_type(no_type_alias)]
fn one_account<'a>(workspace: &'a WorkspaceId, id: &'a AccountId) -> _ {
    ca::table
        .filter(ca::workspace_id.eq(workspace))
        .filter(ca::id.eq(id))
}

/// The workspace's accounts, oldest first; only those of `mode` when given.
pub fn list(
    conn: &mut WorkspaceConn<'_>,
    mode: Option<KeyMode>,
) -> Result<Vec<StoredAccount>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut query = ca::table
        .filter(ca::workspace_id.eq(workspace))
        .select(StoredAccount::as_select())
        .order((ca::connected_at.asc(), ca::id.asc()))
        .into_boxed();
    if let Some(mode) = mode {
        query = query.filter(ca::mode.eq(mode));
    }
    Ok(query.load(conn)?)
}

/// How many accounts the workspace has connected now, in either mode.
pub fn count(conn: &mut WorkspaceConn<'_>) -> Result<i64, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(ca::table
        .filter(ca::workspace_id.eq(workspace))
        .count()
        .get_result(conn)?)
}

pub fn get(conn: &mut WorkspaceConn<'_>, id: &AccountId) -> Result<Option<StoredAccount>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(one_account(workspace, id)
        .select(StoredAccount::as_select())
        .first(conn)
        .optional()?)
}

/// The row of this platform account in the workspace, if it was connected before.
pub fn find(
    conn: &mut WorkspaceConn<'_>,
    platform: Platform,
    platform_account_id: &str,
) -> Result<Option<StoredAccount>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(ca::table
        .filter(ca::workspace_id.eq(workspace))
        .filter(ca::platform.eq(platform))
        .filter(ca::platform_account_id.eq(platform_account_id))
        .select(StoredAccount::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = ca)]
pub struct NewAccount<'a> {
    pub id: &'a AccountId,
    pub platform: Platform,
    pub mode: KeyMode,
    pub platform_account_id: &'a str,
    pub handle: &'a str,
    pub display_name: &'a str,
    pub access_token: &'a [u8],
    pub refresh_token: Option<&'a [u8]>,
    pub token_expires_at: Option<i64>,
    pub connected_by: Option<&'a UserId>,
    #[diesel(column_name = connected_at)]
    pub now: i64,
}

pub fn insert(conn: &mut WorkspaceConn<'_>, account: NewAccount<'_>) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(ca::table)
        .values((
            &account,
            ca::workspace_id.eq(workspace),
            ca::status.eq(AccountStatus::Active),
            ca::updated_at.eq(account.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A reconnect: new tokens and profile, the account active again. A refresh token is replaced
/// only by a new one, never by nothing.
pub struct Reconnect<'a> {
    pub handle: &'a str,
    pub display_name: &'a str,
    pub access_token: &'a [u8],
    pub refresh_token: Option<&'a [u8]>,
    pub token_expires_at: Option<i64>,
    pub now: i64,
}

pub fn reconnect(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    update: Reconnect<'_>,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let row = one_account(workspace, id);
    diesel::update(row)
        .set((
            ca::handle.eq(update.handle),
            ca::display_name.eq(update.display_name),
            ca::status.eq(AccountStatus::Active),
            ca::access_token.eq(update.access_token),
            ca::token_expires_at.eq(update.token_expires_at),
            ca::updated_at.eq(update.now),
            ca::refresh_failures.eq(0),
            ca::next_refresh_at.eq(None::<i64>),
            ca::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    if let Some(refresh) = update.refresh_token {
        diesel::update(row)
            .set(ca::refresh_token.eq(refresh))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes the account and its sealed tokens. False when there was no such account.
pub fn delete(conn: &mut WorkspaceConn<'_>, id: &AccountId) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let deleted = diesel::delete(one_account(workspace, id)).execute(conn)?;
    Ok(deleted > 0)
}

/// Takes the refresh lease unless someone else holds an unexpired one: whoever gets it is the
/// only one to spend the refresh token.
pub fn take_lease(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    lease: &str,
    now: i64,
    until: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let taken = diesel::update(
        one_account(workspace, id).filter(
            ca::refresh_lease_until
                .is_null()
                .or(ca::refresh_lease_until.le(now)),
        ),
    )
    .set((
        ca::refresh_lease.eq(lease),
        ca::refresh_lease_until.eq(until),
    ))
    .execute(conn)?;
    Ok(taken > 0)
}

type LeaseReleased = (
    diesel::dsl::Eq<ca::refresh_lease, Option<String>>,
    diesel::dsl::Eq<ca::refresh_lease_until, Option<i64>>,
);

/// The columns that say nobody holds the refresh lease.
fn lease_released() -> LeaseReleased {
    (ca::refresh_lease.eq(None), ca::refresh_lease_until.eq(None))
}

/// Gives `lease` back untouched, when its holder found nothing left to do.
pub fn give_back_lease(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    lease: &str,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(one_account(workspace, id).filter(ca::refresh_lease.eq(lease)))
        .set(lease_released())
        .execute(conn)?;
    Ok(())
}

/// Stores refreshed tokens and gives the lease back, only while `lease` is still held.
pub fn store_refreshed(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    lease: &str,
    access_token: &[u8],
    refresh_token: Option<&[u8]>,
    token_expires_at: Option<i64>,
    now: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let row = one_account(workspace, id).filter(ca::refresh_lease.eq(lease));
    if let Some(refresh) = refresh_token {
        diesel::update(row)
            .set(ca::refresh_token.eq(refresh))
            .execute(conn)?;
    }
    let changed = diesel::update(row)
        .set((
            ca::access_token.eq(access_token),
            ca::token_expires_at.eq(token_expires_at),
            ca::updated_at.eq(now),
            ca::status.eq(AccountStatus::Active),
            ca::refresh_failures.eq(0),
            ca::next_refresh_at.eq(None::<i64>),
            ca::last_error.eq(None::<String>),
            lease_released(),
        ))
        .execute(conn)?;
    Ok(changed > 0)
}

/// A refresh or check that failed for now (network, 5xx): the account stays as it is, the
/// failure is recorded and the next attempt put off until `retry_at`.
pub fn record_failure(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    lease: Option<&str>,
    error: &str,
    retry_at: i64,
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let row = one_account(workspace, id);
    let failures = ca::refresh_failures + 1;
    match lease {
        Some(lease) => diesel::update(row.filter(ca::refresh_lease.eq(lease)))
            .set((
                ca::refresh_failures.eq(failures),
                ca::last_error.eq(error),
                ca::next_refresh_at.eq(retry_at),
                ca::updated_at.eq(now),
                lease_released(),
            ))
            .execute(conn)?,
        None => diesel::update(row)
            .set((
                ca::refresh_failures.eq(failures),
                ca::last_error.eq(error),
                ca::next_refresh_at.eq(retry_at),
                ca::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// The platform refused the credentials for good (`expired` or `revoked`): they are erased,
/// and the user must reconnect.
pub fn mark_unusable(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    status: AccountStatus,
    error: &str,
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(one_account(workspace, id))
        .set((
            ca::status.eq(status),
            ca::access_token.eq(None::<Vec<u8>>),
            ca::refresh_token.eq(None::<Vec<u8>>),
            ca::last_error.eq(error),
            ca::updated_at.eq(now),
            lease_released(),
            ca::next_refresh_at.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_profile(
    conn: &mut WorkspaceConn<'_>,
    id: &AccountId,
    handle: &str,
    display_name: &str,
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(one_account(workspace, id))
        .set((
            ca::handle.eq(handle),
            ca::display_name.eq(display_name),
            ca::updated_at.eq(now),
            ca::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Active accounts, across workspaces, whose token expires before `before`, that can be
/// refreshed and are not waiting out a failure.
pub fn due_for_refresh(
    conn: &mut RefreshScanConn<'_>,
    before: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<(WorkspaceId, AccountId)>, DbError> {
    Ok(ca::table
        .filter(ca::status.eq(AccountStatus::Active))
        .filter(ca::refresh_token.is_not_null())
        .filter(ca::token_expires_at.le(before))
        .filter(
            ca::next_refresh_at
                .is_null()
                .or(ca::next_refresh_at.le(now)),
        )
        .order(ca::token_expires_at.asc())
        .limit(limit)
        .select((ca::workspace_id, ca::id))
        .load(conn.conn())?)
}
