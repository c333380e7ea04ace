//! Listing, checking, refreshing and disconnecting connected accounts.

use super::oauth::{self, ProviderError, TokenSet};
use super::providers::Platform;
use super::{AccountStatus, AccountView, Actor, ConnectError, Connector, sandbox, vault};
use crate::audit::{self, Event, Who};
use crate::crypto::envelope::{Context, DataKey, Secret};
use crate::crypto::random_token;
use crate::db::InWorkspace;
use crate::db::connected_accounts::{self as accounts, StoredAccount};
use crate::domain::KeyMode;
use crate::domain::{AccountId, WorkspaceId, now};
use crate::logging::Chain;
use std::time::Duration;

/// Tokens that expire within this long are refreshed first.
pub const REFRESH_AHEAD_SECS: i64 = 10 * 60;
/// A refresh lease outlives any one refresh (whose calls time out after 15 s), so that it is
/// never taken from a holder still at work; a crashed holder's lease lapses after this.
const LEASE_SECS: i64 = 120;
/// How long a check waits for a refresh another request or process is making.
const WAIT_FOR_OTHER_REFRESH: Duration = Duration::from_secs(20);

/// The mode an account list or lookup is limited to: a key's, or none for people in
/// the browser, who see both (test mode in a section of its own).
pub type ModeFilter = Option<KeyMode>;

/// What became of a refresh.
#[derive(Debug, PartialEq, Eq)]
pub enum Refreshed {
    Done,
    /// Someone else holds the lease and is refreshing.
    Busy,
    /// The platform refused the refresh token: the account is now `expired`.
    Refused,
    /// Nothing to refresh with.
    NoRefreshToken,
}

fn sealed_context<'a>(
    workspace: &'a WorkspaceId,
    account: &'a AccountId,
    field: &'a str,
) -> Context<'a> {
    Context {
        workspace,
        record: account.as_str(),
        field,
    }
}

/// An account row with its tokens opened.
struct Opened {
    row: StoredAccount,
    access: Option<Secret>,
    refresh: Option<Secret>,
}

fn open_tokens(
    key: &DataKey,
    workspace: &WorkspaceId,
    row: StoredAccount,
) -> Result<Opened, ConnectError> {
    let id = row.id.clone();
    let open = |field: &str, sealed: &Option<Vec<u8>>| -> Result<Option<Secret>, ConnectError> {
        sealed
            .as_ref()
            .map(|bytes| key.open(sealed_context(workspace, &id, field), bytes))
            .transpose()
            .map_err(ConnectError::from)
    };
    Ok(Opened {
        access: open("access_token", &row.access_token)?,
        refresh: open("refresh_token", &row.refresh_token)?,
        row,
    })
}

fn matches_mode(row: &StoredAccount, mode: ModeFilter) -> bool {
    mode.is_none_or(|m| row.mode == m)
}

impl Connector {
    /// The accounts `actor` sees, oldest first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<AccountView>, ConnectError> {
        let mode = actor.sees();
        let rows = self
            .db
            .read(InWorkspace(actor.workspace().clone()), move |conn| {
                accounts::list(conn, mode)
            })
            .await?;
        Ok(rows.into_iter().map(AccountView::from_stored).collect())
    }

    async fn opened(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        mode: ModeFilter,
    ) -> Result<Opened, ConnectError> {
        let keyring = self.keyring.clone();
        let id = id.clone();
        self.db
            .read(InWorkspace(workspace.clone()), move |conn| {
                let Some(row) = accounts::get(conn, &id)?.filter(|r| matches_mode(r, mode)) else {
                    return Err(ConnectError::NotFound);
                };
                if row.access_token.is_none() && row.refresh_token.is_none() {
                    return Ok(Opened {
                        row,
                        access: None,
                        refresh: None,
                    });
                }
                let workspace = conn.workspace_id().clone();
                open_tokens(&vault::data_key(conn, &keyring)?, &workspace, row)
            })
            .await
    }

    /// Erases the account and its tokens at once, then asks the platform to revoke them
    /// (where it has a revoke endpoint). A revocation that fails is logged: the tokens are gone
    /// from here either way.
    pub async fn disconnect(
        &self,
        actor: &Actor,
        id: &AccountId,
        who: &Who,
    ) -> Result<(), ConnectError> {
        let (workspace, mode) = (actor.workspace(), actor.sees());
        let opened = self.opened(workspace, id, mode).await;
        let owned_id = id.clone();
        let who = who.clone();
        let deleted = self
            .db
            .write(InWorkspace(workspace.clone()), move |conn| {
                let Some(row) = accounts::get(conn, &owned_id)? else {
                    return Ok(false);
                };
                if !matches_mode(&row, mode) {
                    return Ok(false);
                }
                let subject = subject(&row);
                let deleted = accounts::delete(conn, &owned_id)?;
                if deleted {
                    audit::record(conn, &who, Event::AccountDisconnected, &subject, None)?;
                    super::report(conn, crate::domain::EventType::AccountDisconnected, &row)?;
                }
                Ok::<_, crate::db::DbError>(deleted)
            })
            .await?;
        if !deleted {
            return Err(ConnectError::NotFound);
        }
        // Tokens that no longer open (a root key lost) cannot be revoked; the row is gone.
        if let Ok(opened) = opened {
            self.revoke_at_platform(opened).await;
        }
        Ok(())
    }

    /// Asks the platform to revoke an erased account's tokens (where it has a revoke endpoint).
    /// A failure is logged: the tokens are gone from here either way.
    async fn revoke_at_platform(&self, opened: Opened) {
        let Some(app) = self.platforms.app(opened.row.platform) else {
            return;
        };
        let revocations = opened
            .refresh
            .iter()
            .map(|t| (t, oauth::TokenKind::Refresh))
            .chain(opened.access.iter().map(|t| (t, oauth::TokenKind::Access)));
        for (token, kind) in revocations {
            if let Err(e) = oauth::revoke(&self.http, app, token, kind).await {
                log::warn!("revocation for account {}: {}", opened.row.id, Chain(&e));
            }
        }
    }

    /// Every account's tokens of a workspace about to be deleted, opened while its data key
    /// still exists, so that they can be revoked at the platforms once the rows are gone.
    /// Accounts whose tokens do not open are left out (nothing could revoke them).
    pub async fn tokens_to_revoke(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Revocations, ConnectError> {
        let keyring = self.keyring.clone();
        let opened = self
            .db
            .read(InWorkspace(workspace.clone()), move |conn| {
                let rows = accounts::list(conn, None)?;
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let workspace = conn.workspace_id().clone();
                let key = vault::data_key(conn, &keyring)?;
                // An account whose tokens do not open cannot be revoked at its platform; the
                // workspace goes anyway, and the operator hears of it.
                Ok::<_, ConnectError>(
                    rows.into_iter()
                        .filter_map(|row| {
                            let id = row.id.clone();
                            open_tokens(&key, &workspace, row)
                                .map_err(|e| {
                                    log::error!(
                                        "account {id} of workspace {workspace}: its tokens did \
                                         not decrypt, so they are not revoked at the platform: {}",
                                        Chain(&e)
                                    );
                                })
                                .ok()
                        })
                        .collect(),
                )
            })
            .await?;
        Ok(Revocations(opened))
    }

    /// Revokes at the platforms what [`Connector::tokens_to_revoke`] collected.
    pub async fn revoke_all(&self, revocations: Revocations) {
        for opened in revocations.0 {
            self.revoke_at_platform(opened).await;
        }
    }

    /// Reads the profile from the platform with the account's token, refreshing it first when
    /// it is near expiry, and answers the account as it now is.
    pub async fn check(
        &self,
        actor: &Actor,
        id: &AccountId,
        who: &Who,
    ) -> Result<AccountView, ConnectError> {
        let (workspace, mode) = (actor.workspace(), actor.sees());
        let mut opened = self.opened(workspace, id, mode).await?;
        if opened.row.status == AccountStatus::Active
            && opened.refresh.is_some()
            && near_expiry(&opened.row)
        {
            self.refresh_or_wait(workspace, id, who, Due::NearExpiry)
                .await?;
            opened = self.opened(workspace, id, mode).await?;
        }
        let platform = opened.row.platform;
        if let (Some(access), AccountStatus::Active) = (&opened.access, opened.row.status) {
            let now = now();
            let profile = match self.platforms.app(platform) {
                // The sandbox's profile is what it was connected with.
                None if platform == Platform::Sandbox => None,
                None => return Err(ConnectError::NotFound),
                Some(app) => Some(oauth::profile(&self.http, app, access).await),
            };
            if let Some(profile) = profile {
                let id = id.clone();
                let (who, subject) = (who.clone(), subject(&opened.row));
                // What the platform said is recorded; a failure for now is also the answer.
                let failed = self
                    .db
                    .write(InWorkspace(workspace.clone()), move |conn| match profile {
                        Ok(profile) => accounts::update_profile(
                            conn,
                            &id,
                            &profile.handle,
                            &profile.display_name,
                            now,
                        )
                        .map(|()| None),
                        Err(ProviderError::Unauthorized) => {
                            accounts::mark_unusable(
                                conn,
                                &id,
                                AccountStatus::Revoked,
                                "the platform no longer accepts the token; reconnect",
                                now,
                            )?;
                            audit::record(conn, &who, Event::AccountRevoked, &subject, None)?;
                            if let Some(row) = accounts::get(conn, &id)? {
                                super::report(
                                    conn,
                                    crate::domain::EventType::AccountRevoked,
                                    &row,
                                )?;
                            }
                            Ok(None)
                        }
                        Err(e) => {
                            accounts::record_failure(conn, &id, None, &e.to_string(), now, now)?;
                            Ok(Some(e))
                        }
                    })
                    .await?;
                if let Some(e) = failed {
                    return Err(e.into());
                }
            }
        }
        self.opened(workspace, id, mode)
            .await
            .map(|o| AccountView::from_stored(o.row))
    }

    /// Refreshes, or when another request or process is already refreshing, waits for it to
    /// finish. A platform failure is recorded and answered as a provider error.
    async fn refresh_or_wait(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        who: &Who,
        due: Due,
    ) -> Result<(), ConnectError> {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHER_REFRESH;
        loop {
            match self.refresh_when(workspace, id, who, due).await {
                Ok(Refreshed::Busy) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(Refreshed::Busy) => {
                    return Err(ConnectError::Provider(ProviderError::Failed(
                        "another refresh of this account is taking too long".into(),
                    )));
                }
                Ok(_) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Refreshes the account's token if it is still due: one holder of the lease at a time,
    /// across processes, so a single-use refresh token is spent once. The new refresh token is
    /// stored in the same write as the new access token, before either is used.
    /// `who` is named in the audit log when the platform refuses (the service itself, for the
    /// background refresher).
    pub async fn refresh(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        who: &Who,
    ) -> Result<Refreshed, ConnectError> {
        self.refresh_when(workspace, id, who, Due::NearExpiry).await
    }

    async fn refresh_when(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        who: &Who,
        due: Due,
    ) -> Result<Refreshed, ConnectError> {
        let lease = random_token();
        let opened = match self.take_for_refresh(workspace, id, &lease, due).await? {
            Taken::NotDue => return Ok(Refreshed::NoRefreshToken),
            Taken::Busy => return Ok(Refreshed::Busy),
            Taken::Opened(opened) => *opened,
        };
        let Some(refresh_token) = opened.refresh else {
            return Ok(Refreshed::NoRefreshToken);
        };
        let platform = opened.row.platform;
        let now = now();
        let result = match self.platforms.app(platform) {
            Some(app) => oauth::refresh(&self.http, app, &refresh_token, now).await,
            None if platform == Platform::Sandbox => Ok(sandbox::refresh(now)),
            None => Err(ProviderError::Failed(format!(
                "{platform} is no longer configured"
            ))),
        };
        let decision = decide(result, opened.row.refresh_failures, now);
        let subject = subject(&opened.row);
        self.apply(workspace, id, &lease, decision, now, (who, &subject))
            .await
    }

    /// Takes the account's refresh lease and opens its tokens, in one transaction, when a
    /// refresh is still due (another holder may have refreshed while this one waited).
    async fn take_for_refresh(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        lease: &str,
        due: Due,
    ) -> Result<Taken, ConnectError> {
        let keyring = self.keyring.clone();
        let (lease, id) = (lease.to_owned(), id.clone());
        self.db
            .write(InWorkspace(workspace.clone()), move |conn| {
                let now = now();
                // The lease first, the row after: on PostgreSQL a row read before the lease
                // could be the one the previous holder has just replaced, and its refresh
                // token already spent.
                if !accounts::take_lease(conn, &id, &lease, now, now + LEASE_SECS)? {
                    return match accounts::get(conn, &id)? {
                        None => Err(ConnectError::NotFound),
                        Some(_) => Ok(Taken::Busy),
                    };
                }
                let row = accounts::get(conn, &id)?.ok_or(ConnectError::NotFound)?;
                let refused_since = match due {
                    Due::NearExpiry => false,
                    // Someone else may have refreshed since the token was refused.
                    Due::RefusedAt(at) => row.updated_at <= at,
                };
                if row.status != AccountStatus::Active
                    || row.refresh_token.is_none()
                    || !(near_expiry(&row) || refused_since)
                {
                    accounts::give_back_lease(conn, &id, &lease)?;
                    return Ok(Taken::NotDue);
                }
                let workspace = conn.workspace_id().clone();
                let key = vault::data_key(conn, &keyring)?;
                open_tokens(&key, &workspace, row).map(|o| Taken::Opened(Box::new(o)))
            })
            .await
    }

    /// Stores what [`decide`] chose.
    async fn apply(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        lease: &str,
        decision: Decision,
        now: i64,
        (who, subject): (&Who, &str),
    ) -> Result<Refreshed, ConnectError> {
        let keyring = self.keyring.clone();
        let (lease, id_owned) = (lease.to_owned(), id.clone());
        match decision {
            Decision::Store(tokens) => {
                self.db
                    .write(InWorkspace(workspace.clone()), move |conn| {
                        let workspace = conn.workspace_id().clone();
                        let key = vault::data_key(conn, &keyring)?;
                        let access = key.seal(
                            sealed_context(&workspace, &id_owned, "access_token"),
                            tokens.access.expose(),
                        );
                        let refresh = tokens.refresh.as_ref().map(|r| {
                            key.seal(
                                sealed_context(&workspace, &id_owned, "refresh_token"),
                                r.expose(),
                            )
                        });
                        accounts::store_refreshed(
                            conn,
                            &id_owned,
                            &lease,
                            &access,
                            refresh.as_deref(),
                            tokens.expires_at,
                            now,
                        )?;
                        Ok::<_, ConnectError>(())
                    })
                    .await?;
                log::info!("refreshed the token of account {id}");
                Ok(Refreshed::Done)
            }
            Decision::MarkExpired => {
                log::info!("account {id}: refresh refused, marked expired");
                let (who, subject) = (who.clone(), subject.to_owned());
                self.db
                    .write(InWorkspace(workspace.clone()), move |conn| {
                        accounts::mark_unusable(
                            conn,
                            &id_owned,
                            AccountStatus::Expired,
                            "the platform refused the refresh token; reconnect",
                            now,
                        )?;
                        audit::record(conn, &who, Event::AccountExpired, &subject, None)?;
                        if let Some(row) = accounts::get(conn, &id_owned)? {
                            super::report(conn, crate::domain::EventType::AccountExpired, &row)?;
                        }
                        Ok::<_, crate::db::DbError>(())
                    })
                    .await?;
                Ok(Refreshed::Refused)
            }
            Decision::RetryAt { at, error } => {
                let message = error.to_string();
                log::warn!("account {id}: refresh failed, retrying later: {message}");
                self.db
                    .write(InWorkspace(workspace.clone()), move |conn| {
                        accounts::record_failure(conn, &id_owned, Some(&lease), &message, at, now)
                    })
                    .await?;
                Err(error.into())
            }
        }
    }
}

/// When a token is due for a refresh.
#[derive(Debug, Clone, Copy)]
enum Due {
    /// It expires within [`REFRESH_AHEAD_SECS`].
    NearExpiry,
    /// The platform refused it at this time (a 401 on a send), unless it was renewed since.
    RefusedAt(i64),
}

/// An account ready to send with, for publishing: never shown, never logged.
pub struct Sender {
    pub platform: Platform,
    pub platform_account_id: String,
    pub handle: String,
    pub status: AccountStatus,
    pub access: Option<Secret>,
}

impl Connector {
    /// The account `id` of the workspace with its access token, refreshed first (through the
    /// single-flight refresh) when it expires within ten minutes, or when the platform has just
    /// refused it (`refused_at`). A refresh that fails leaves the token as it was: the send
    /// then finds out what the platform thinks of it.
    pub async fn sender(
        &self,
        workspace: &WorkspaceId,
        id: &AccountId,
        refused_at: Option<i64>,
    ) -> Result<Sender, ConnectError> {
        let mut opened = self.opened(workspace, id, None).await?;
        let due = match refused_at {
            Some(at) => Some(Due::RefusedAt(at)),
            None => near_expiry(&opened.row).then_some(Due::NearExpiry),
        };
        if let Some(due) = due
            && opened.row.status == AccountStatus::Active
            && opened.refresh.is_some()
        {
            if let Err(e) = self
                .refresh_or_wait(workspace, id, &Who::service(), due)
                .await
            {
                log::warn!("account {id}: refresh before sending failed: {}", Chain(&e));
            }
            opened = self.opened(workspace, id, None).await?;
        }
        Ok(Sender {
            platform: opened.row.platform,
            platform_account_id: opened.row.platform_account_id,
            handle: opened.row.handle,
            status: opened.row.status,
            access: opened.access,
        })
    }

    /// The HTTP client for the platforms: no redirects, a 15-second timeout.
    pub fn http(&self) -> &oauth::HttpClient {
        &self.http
    }

    /// The configured app of a real platform, for its API's address.
    pub fn app(&self, platform: Platform) -> Option<&super::OAuthApp> {
        self.platforms.app(platform)
    }
}

/// An account as the audit log names it: `X @handle`.
fn subject(row: &StoredAccount) -> String {
    format!("{} {}", row.platform.display_name(), row.handle)
}

/// Tokens held in memory only, between a workspace's deletion and their revocation at the
/// platforms.
#[derive(Default)]
pub struct Revocations(Vec<Opened>);

/// What the start of a refresh found.
enum Taken {
    /// Not active, nothing to refresh with, or not near expiry any more.
    NotDue,
    /// Another holder has the lease.
    Busy,
    Opened(Box<Opened>),
}

/// What a refresh's answer from the platform leads to.
#[derive(Debug)]
enum Decision {
    /// New tokens: stored, with the lease released.
    Store(TokenSet),
    /// The platform refused the refresh token: only reconnecting helps.
    MarkExpired,
    /// A failure that may pass: try again at `at`.
    RetryAt { at: i64, error: ProviderError },
}

/// Decides what a refresh's outcome means, after `failures` failed attempts before it.
fn decide(result: Result<TokenSet, ProviderError>, failures: i32, now: i64) -> Decision {
    match result {
        Ok(tokens) => Decision::Store(tokens),
        Err(ProviderError::Refused(_)) => Decision::MarkExpired,
        Err(error) => Decision::RetryAt {
            at: now + backoff_secs(u32::try_from(failures).unwrap_or(0)),
            error,
        },
    }
}

fn near_expiry(row: &StoredAccount) -> bool {
    row.token_expires_at
        .is_some_and(|at| at <= now() + REFRESH_AHEAD_SECS)
}

/// 30 s, 1 min, 2 min, … up to an hour between attempts after failures.
fn backoff_secs(failures: u32) -> i64 {
    (30_i64 << failures.min(7)).min(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_30_seconds_to_an_hour() {
        let waits: Vec<i64> = (0..10).map(backoff_secs).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff_secs(u32::MAX), 3600);
    }

    #[test]
    fn a_refresh_answer_is_stored_marks_the_account_expired_or_is_retried_later() {
        let now = 1_000_000;
        let tokens = sandbox::refresh(now);
        assert!(matches!(decide(Ok(tokens), 0, now), Decision::Store(_)));
        assert!(matches!(
            decide(Err(ProviderError::Refused("invalid_grant".into())), 3, now),
            Decision::MarkExpired
        ));
        match decide(Err(ProviderError::Failed("timeout".into())), 2, now) {
            Decision::RetryAt { at, .. } => assert_eq!(at, now + 120),
            other => panic!("{other:?}"),
        }
        // A count gone negative in storage waits the shortest time, not forever.
        match decide(Err(ProviderError::Failed("timeout".into())), -5, now) {
            Decision::RetryAt { at, .. } => assert_eq!(at, now + 30),
            other => panic!("{other:?}"),
        }
    }
}
