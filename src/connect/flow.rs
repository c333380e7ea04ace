//! The connect flow: a `state` made here, the user sent to the platform, and the code
//! that comes back exchanged for tokens that are sealed before they are stored.

use super::oauth::{self, TokenSet};
use super::providers::{Platform, Profile};
use super::{AccountView, ConnectError, Connector, ModeFilter, sandbox, vault};
use crate::audit::{self, Event, Who};
use crate::crypto::envelope::{Context, Secret};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{
    ByStateDigest, DbError, InWorkspace, connected_accounts, memberships, oauth_states,
    sandbox_grants,
};
use crate::domain::KeyMode;
use crate::domain::{AccountId, Invalid, RedirectUri, UserId, WorkspaceId, now};
use url::Url;

/// A state lives this long.
const STATE_LIFETIME_SECS: i64 = 10 * 60;
const PKCE_FIELD: &str = "pkce_verifier";

/// Who starts or finishes a flow.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A program with an API key: its workspace, and its mode (test keys connect only the
    /// sandbox, live keys never do).
    Key {
        workspace: WorkspaceId,
        mode: KeyMode,
    },
    /// A signed-in person in the browser.
    Member {
        workspace: WorkspaceId,
        user: UserId,
    },
}

impl Actor {
    pub(super) fn workspace(&self) -> &WorkspaceId {
        match self {
            Actor::Key { workspace, .. } | Actor::Member { workspace, .. } => workspace,
        }
    }

    /// The accounts this actor sees: a key those of its mode, a person all of them.
    pub(super) fn sees(&self) -> ModeFilter {
        match self {
            Actor::Key { mode, .. } => Some(*mode),
            Actor::Member { .. } => None,
        }
    }

    fn may_use(&self, platform: Platform) -> bool {
        match self {
            Actor::Key { mode, .. } => platform.mode() == *mode,
            Actor::Member { .. } => true,
        }
    }
}

/// Who finishes a flow, and where.
#[derive(Debug, Clone)]
pub enum Finisher {
    /// `POST /v1/connect/{platform}` with a key of this workspace and mode.
    Key {
        workspace: WorkspaceId,
        mode: KeyMode,
    },
    /// `POST /v1/connect/{platform}` from the dashboard's own pages, with a person's session.
    Member {
        workspace: WorkspaceId,
        user: UserId,
    },
    /// The service's own callback in a browser, with whoever is signed in there.
    Callback { user: Option<UserId> },
}

/// A flow begun: where to send the user, and the state the platform will send back.
#[derive(Debug)]
pub struct Started {
    pub auth_url: Url,
    pub state: String,
}

impl Connector {
    /// Starts connecting `platform`. `redirect_uri` defaults to the service's own callback.
    pub async fn begin(
        &self,
        actor: &Actor,
        platform: Platform,
        requested_redirect: Option<RedirectUri>,
    ) -> Result<Started, ConnectError> {
        if !self.is_offered(platform) || !actor.may_use(platform) {
            return Err(ConnectError::NotFound);
        }
        let redirect = match requested_redirect {
            Some(uri) => uri.as_str().to_owned(),
            None => self.callback_url(platform),
        };
        let state = random_token();
        let digest = sha256_hex(&state);
        let (auth_url, verifier) = match self.platforms.app(platform) {
            Some(app) => oauth::authorize_url(app, &redirect, &state)?,
            None => (self.sandbox_authorize_url(&redirect, &state), None),
        };

        let keyring = self.keyring.clone();
        let user = match actor {
            Actor::Member { user, .. } => Some(user.clone()),
            Actor::Key { .. } => None,
        };
        let now = now();
        let live = platform.mode() == KeyMode::Live;
        self.db
            .write(InWorkspace(actor.workspace().clone()), move |conn| {
                // A person connects a live platform only once they proved their address. A
                // live key needs no check here: only such a person can have made it.
                if live
                    && let Some(user) = &user
                    && !crate::db::users::is_confirmed(&mut conn.global(), user)?
                {
                    return Err(ConnectError::EmailUnconfirmed);
                }
                let sealed = match &verifier {
                    Some(verifier) => {
                        let key = vault::data_key(conn, &keyring)?;
                        let workspace = conn.workspace_id().clone();
                        Some(key.seal(
                            Context {
                                workspace: &workspace,
                                record: &digest,
                                field: PKCE_FIELD,
                            },
                            verifier.expose(),
                        ))
                    }
                    None => None,
                };
                oauth_states::insert(
                    conn,
                    oauth_states::NewState {
                        digest: &digest,
                        user: user.as_ref(),
                        platform,
                        redirect_uri: &redirect,
                        pkce_verifier: sealed.as_deref(),
                        now,
                        expires_at: now + STATE_LIFETIME_SECS,
                    },
                )?;
                Ok::<_, ConnectError>(())
            })
            .await?;
        Ok(Started { auth_url, state })
    }

    fn sandbox_authorize_url(&self, redirect: &str, state: &str) -> Url {
        let mut url = self.public_url.clone();
        url.set_path("/sandbox/authorize");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "socializer")
            .append_pair("redirect_uri", redirect)
            .append_pair("state", state)
            .append_pair("scope", "profile");
        url
    }

    /// Finishes a flow with the code the platform sent back.
    ///
    /// At the service's own callback only a signed-in member of the flow's workspace may finish
    /// it (and only its starter, for a flow begun in the browser), so that a link made by one
    /// workspace cannot pull a stranger's account into it. Whatever is refused here is
    /// refused before the state is spent, so its rightful finisher can still use it.
    pub async fn finish(
        &self,
        finisher: Finisher,
        platform: Platform,
        code: &str,
        state: &str,
        who: &Who,
    ) -> Result<AccountView, ConnectError> {
        let key_may_use = match &finisher {
            Finisher::Key { mode, .. } => platform.mode() == *mode,
            Finisher::Member { .. } | Finisher::Callback { .. } => true,
        };
        if !self.is_offered(platform) || !key_may_use {
            return Err(ConnectError::NotFound);
        }
        if code.is_empty() || code.len() > 4096 {
            return Err(Invalid::new("code", "code is missing or too long").into());
        }
        if state.is_empty() || state.len() > 512 {
            return Err(ConnectError::InvalidState);
        }
        let digest = sha256_hex(state);
        let code_digest = sha256_hex(code);
        let keyring = self.keyring.clone();
        let callback = self.callback_url(platform);
        let now = now();
        // Checked and spent in one transaction: a state is used once, whoever races for it.
        let checked = self
            .db
            .write(ByStateDigest(digest.clone()), move |lookup| {
                let Some(flow) = oauth_states::find(lookup)? else {
                    return Err(ConnectError::InvalidState);
                };
                let workspace = flow.workspace_id.clone();
                let bound_user = flow.user_id.clone();
                if flow.platform != platform || flow.expires_at <= now {
                    return Err(ConnectError::InvalidState);
                }
                let Finishing { person, stranger } = who_finishes(
                    &finisher,
                    &workspace,
                    bound_user.as_ref(),
                    flow.redirect_uri == callback,
                )?;
                if let Some(person) = &person {
                    let mut conn = lookup.enter_workspace(workspace.clone())?;
                    if stranger || memberships::role_of(&mut conn, person)?.is_none() {
                        // Committed, unlike the refusals above: the flow stays spent.
                        oauth_states::consume(&mut conn, &digest)?;
                        return Ok(Checked::SpentByStranger);
                    }
                }
                let sandbox_account = if platform == Platform::Sandbox {
                    let grant = sandbox_grants::consume(
                        &mut lookup.global(),
                        &code_digest,
                        &digest,
                        &flow.redirect_uri,
                        now,
                    )?;
                    Some(grant.ok_or_else(sandbox::refused_code)?)
                } else {
                    None
                };
                let mut conn = lookup.enter_workspace(workspace.clone())?;
                if !oauth_states::consume(&mut conn, &digest)? {
                    return Err(ConnectError::InvalidState);
                }
                let verifier = match &flow.pkce_verifier {
                    Some(sealed) => Some(open_verifier(&mut conn, &keyring, &digest, sealed)?),
                    None => None,
                };
                let connected_by = bound_user.or(person);
                Ok(Checked::Finish((
                    workspace,
                    flow.redirect_uri,
                    verifier,
                    connected_by,
                    sandbox_account,
                )))
            })
            .await?;
        let Checked::Finish((workspace, redirect, verifier, connected_by, sandbox_account)) =
            checked
        else {
            return Err(ConnectError::OtherWorkspace);
        };

        let grant = match sandbox_account {
            Some(account) => sandbox::grant(&account, now),
            None => {
                self.exchange(platform, &redirect, code, verifier.as_ref(), now)
                    .await?
            }
        };
        self.store(workspace, platform, connected_by, grant, now, who)
            .await
    }

    async fn exchange(
        &self,
        platform: Platform,
        redirect: &str,
        code: &str,
        verifier: Option<&Secret>,
        now: i64,
    ) -> Result<(TokenSet, Profile), ConnectError> {
        let app = self.platforms.app(platform).ok_or(ConnectError::NotFound)?;
        let tokens = oauth::exchange_code(&self.http, app, redirect, code, verifier, now).await?;
        let profile = oauth::profile(&self.http, app, &tokens.access).await?;
        Ok((tokens, profile))
    }

    /// Stores a connection: a new row, or the same platform account's row updated.
    async fn store(
        &self,
        workspace: WorkspaceId,
        platform: Platform,
        connected_by: Option<UserId>,
        (tokens, profile): (TokenSet, Profile),
        now: i64,
        who: &Who,
    ) -> Result<AccountView, ConnectError> {
        let keyring = self.keyring.clone();
        let who = who.clone();
        let attempt = move |conn: &mut crate::db::WorkspaceConn<'_>| {
            let key = vault::data_key(conn, &keyring)?;
            let existing = connected_accounts::find(conn, platform, &profile.id)?;
            let id = existing
                .as_ref()
                .map(|row| row.id.clone())
                .unwrap_or_else(AccountId::generate);
            let workspace = conn.workspace_id().clone();
            let seal = |field: &str, secret: &Secret| {
                key.seal(
                    Context {
                        workspace: &workspace,
                        record: id.as_str(),
                        field,
                    },
                    secret.expose(),
                )
            };
            let access = seal("access_token", &tokens.access);
            let refresh = tokens.refresh.as_ref().map(|r| seal("refresh_token", r));
            let subject = format!("{} {}", platform.display_name(), profile.handle);
            let detail = existing.is_some().then_some("reconnected: new tokens");
            audit::record(conn, &who, Event::AccountConnected, &subject, detail)?;
            match existing {
                Some(_) => connected_accounts::reconnect(
                    conn,
                    &id,
                    connected_accounts::Reconnect {
                        handle: &profile.handle,
                        display_name: &profile.display_name,
                        access_token: &access,
                        refresh_token: refresh.as_deref(),
                        token_expires_at: tokens.expires_at,
                        now,
                    },
                )?,
                None => connected_accounts::insert(
                    conn,
                    connected_accounts::NewAccount {
                        id: &id,
                        platform,
                        mode: platform.mode(),
                        platform_account_id: &profile.id,
                        handle: &profile.handle,
                        display_name: &profile.display_name,
                        access_token: &access,
                        refresh_token: refresh.as_deref(),
                        token_expires_at: tokens.expires_at,
                        connected_by: connected_by.as_ref(),
                        now,
                    },
                )?,
            }
            let row = connected_accounts::get(conn, &id)?;
            if let Some(row) = &row {
                super::report(conn, crate::domain::EventType::AccountConnected, row)?;
            }
            Ok::<_, ConnectError>(row)
        };
        // Two first connections of one account at once: the loser's insert meets the
        // winner's row, and the second attempt updates it.
        let attempt = std::sync::Arc::new(attempt);
        let mut tries = 0;
        let row = loop {
            let attempt = attempt.clone();
            match self
                .db
                .write(InWorkspace(workspace.clone()), move |conn| attempt(conn))
                .await
            {
                Err(ConnectError::Storage(DbError::UniqueViolation)) if tries == 0 => tries += 1,
                other => break other?,
            }
        };
        row.map(AccountView::from_stored)
            .ok_or(ConnectError::Storage(DbError::Unavailable(
                "the account just stored is not there".into(),
            )))
    }
}

/// How the check of a returning flow ended, when it did not end in an error (which rolls the
/// check back and leaves the flow as it was).
enum Checked<T> {
    /// Go on with the code.
    Finish(T),
    /// Someone outside the flow's workspace (or not its own person) came back with it: it is
    /// spent, committed, so that no one can finish it later.
    SpentByStranger,
}

/// Who is finishing a flow, as far as the flow's own record can tell; membership of the flow's
/// workspace is checked after, in the database.
#[derive(Debug, PartialEq)]
struct Finishing {
    /// The signed-in person at the callback (none for a key).
    person: Option<UserId>,
    /// True when that person is not the one a browser flow was started by.
    stranger: bool,
}

/// The rules for who may finish a flow. A flow that ends at the service's own callback is
/// finished there, by a member who is signed in, never by whoever holds the code; a flow with
/// the caller's own redirect URI ends with a key of the flow's workspace, or with the session of
/// the person who began it. Whoever is signed in
/// at the callback is the one who approved at the platform, so someone other than a browser
/// flow's own person is a stranger, and the caller spends the flow.
fn who_finishes(
    finisher: &Finisher,
    workspace: &WorkspaceId,
    bound_user: Option<&UserId>,
    ends_at_callback: bool,
) -> Result<Finishing, ConnectError> {
    match finisher {
        Finisher::Key { workspace: w, .. } => {
            if bound_user.is_some() || w != workspace || ends_at_callback {
                return Err(ConnectError::InvalidState);
            }
            Ok(Finishing {
                person: None,
                stranger: false,
            })
        }
        Finisher::Member { workspace: w, user } => {
            if bound_user != Some(user) || w != workspace || ends_at_callback {
                return Err(ConnectError::InvalidState);
            }
            Ok(Finishing {
                person: Some(user.clone()),
                stranger: false,
            })
        }
        Finisher::Callback { user } => {
            if !ends_at_callback {
                return Err(ConnectError::InvalidState);
            }
            let person = user.clone().ok_or(ConnectError::SignInRequired)?;
            let stranger = bound_user.is_some_and(|bound| *bound != person);
            Ok(Finishing {
                person: Some(person),
                stranger,
            })
        }
    }
}

/// The PKCE verifier a flow stored sealed with its workspace's data key.
fn open_verifier(
    conn: &mut crate::db::WorkspaceConn<'_>,
    keyring: &crate::crypto::envelope::Keyring,
    state_digest: &str,
    sealed: &[u8],
) -> Result<Secret, ConnectError> {
    let key = vault::data_key(conn, keyring)?;
    let workspace = conn.workspace_id().clone();
    Ok(key.open(
        Context {
            workspace: &workspace,
            record: state_digest,
            field: PKCE_FIELD,
        },
        sealed,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(workspace: &WorkspaceId) -> Finisher {
        Finisher::Key {
            workspace: workspace.clone(),
            mode: KeyMode::Live,
        }
    }

    #[test]
    fn a_key_finishes_only_its_own_workspace_s_flows_with_its_own_redirect() {
        let (ours, theirs, user) = (
            WorkspaceId::generate(),
            WorkspaceId::generate(),
            UserId::generate(),
        );
        assert_eq!(
            who_finishes(&key(&ours), &ours, None, false).unwrap(),
            Finishing {
                person: None,
                stranger: false
            }
        );
        for (workspace, bound, at_callback) in [
            (&theirs, None, false),
            (&ours, None, true),
            (&ours, Some(&user), false),
        ] {
            assert!(matches!(
                who_finishes(&key(&ours), workspace, bound, at_callback),
                Err(ConnectError::InvalidState)
            ));
        }
    }

    #[test]
    fn a_session_on_the_api_finishes_only_its_own_person_s_flows_with_their_redirect() {
        let (ours, theirs) = (WorkspaceId::generate(), WorkspaceId::generate());
        let (me, someone) = (UserId::generate(), UserId::generate());
        let member = Finisher::Member {
            workspace: ours.clone(),
            user: me.clone(),
        };
        assert_eq!(
            who_finishes(&member, &ours, Some(&me), false).unwrap(),
            Finishing {
                person: Some(me.clone()),
                stranger: false
            }
        );
        for (workspace, bound, at_callback) in [
            (&theirs, Some(&me), false),
            (&ours, Some(&me), true),
            (&ours, Some(&someone), false),
            (&ours, None, false),
        ] {
            assert!(matches!(
                who_finishes(&member, workspace, bound, at_callback),
                Err(ConnectError::InvalidState)
            ));
        }
    }

    #[test]
    fn the_callback_needs_someone_signed_in_and_tells_a_stranger_apart() {
        let ws = WorkspaceId::generate();
        let (starter, other) = (UserId::generate(), UserId::generate());
        let at = |user: Option<&UserId>| Finisher::Callback {
            user: user.cloned(),
        };
        assert!(matches!(
            who_finishes(&at(None), &ws, Some(&starter), true),
            Err(ConnectError::SignInRequired)
        ));
        assert!(matches!(
            who_finishes(&at(Some(&starter)), &ws, Some(&starter), false),
            Err(ConnectError::InvalidState)
        ));
        let own = who_finishes(&at(Some(&starter)), &ws, Some(&starter), true).unwrap();
        assert!(!own.stranger);
        let stranger = who_finishes(&at(Some(&other)), &ws, Some(&starter), true).unwrap();
        assert!(stranger.stranger);
        // A flow a key started in the browser's name has no person of its own: whoever is a
        // member may finish it (membership is checked next).
        let anyone = who_finishes(&at(Some(&other)), &ws, None, true).unwrap();
        assert_eq!(anyone.person, Some(other));
        assert!(!anyone.stranger);
    }
}
