//! Connected accounts: the connect flow, listing, checking, refreshing and disconnecting,
//! with every platform token sealed by the workspace's data key. Plain async functions
//! on a [`Connector`]; no HTTP framework here.

mod flow;
mod manage;
pub mod oauth;
pub mod providers;
mod refresher;
mod rotation;
pub mod sandbox;
mod status;
mod vault;

pub use flow::{Actor, Finisher, Started};
pub use manage::{ModeFilter, Refreshed, Revocations, Sender};
pub use providers::{Description, OAuthApp, Platform, Platforms, Profile};
pub use refresher::run_refresher;
pub use rotation::{RootKeyCheck, RotationReport, check_root_keys, rotate_root_key};
pub use status::AccountStatus;
pub use vault::data_key;

use crate::crypto::envelope::{CryptoError, Keyring};
use crate::db::{Database, DbError, connected_accounts::StoredAccount};
use crate::domain::KeyMode;
use crate::domain::{AccountId, Invalid};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A wrong, reused or expired `state`, or one made for another workspace, user or platform.
    #[error("The state is unknown, used, expired, or belongs to another flow.")]
    InvalidState,
    /// The flow ends at the service's callback, and nobody is signed in there yet.
    #[error("sign in to finish connecting")]
    SignInRequired,
    /// Whoever is signed in at the callback is not a member of the flow's workspace (or not
    /// the person who began a browser flow).
    #[error("this connection link belongs to another workspace")]
    OtherWorkspace,
    /// No such platform offered here, or no such account in this workspace and mode.
    #[error("not found")]
    NotFound,
    /// A live platform, for a person whose email is not confirmed yet.
    #[error("confirm your email address before connecting live accounts")]
    EmailUnconfirmed,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The platform failed or refused.
    #[error(transparent)]
    Provider(#[from] oauth::ProviderError),
    #[error("storage")]
    Storage(#[from] DbError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Writes the webhook event of a change to `account`, in the change's transaction.
fn report(
    conn: &mut crate::db::WorkspaceConn<'_>,
    event_type: crate::domain::EventType,
    account: &StoredAccount,
) -> Result<(), DbError> {
    let event = crate::domain::WebhookEvent::account(
        event_type,
        account.mode,
        &account.id,
        account.platform,
        &account.handle,
    );
    crate::db::webhooks::emit(conn, &event, None, crate::domain::now())?;
    Ok(())
}

/// Everything the connect flows need, built once at start.
pub struct Connector {
    db: Database,
    keyring: Keyring,
    platforms: Platforms,
    http: oauth::HttpClient,
    public_url: Url,
}

impl Connector {
    pub fn new(
        db: Database,
        keyring: Keyring,
        platforms: Platforms,
        public_url: Url,
    ) -> Result<Self, oauth::HttpClientError> {
        Ok(Self {
            db,
            keyring,
            platforms,
            http: oauth::http_client()?,
            public_url,
        })
    }

    /// The platforms a person can connect in the browser: the configured real ones, then the
    /// sandbox.
    pub fn offered(&self) -> Vec<Platform> {
        let mut offered = self.platforms.configured();
        offered.push(Platform::Sandbox);
        offered
    }

    fn is_offered(&self, platform: Platform) -> bool {
        platform == Platform::Sandbox || self.platforms.app(platform).is_some()
    }

    /// Where the platform sends the user back to in the browser flow.
    pub fn callback_url(&self, platform: Platform) -> String {
        let mut url = self.public_url.clone();
        url.set_path(&format!("/connect/{platform}/callback"));
        url.to_string()
    }
}

/// An account as shown to people and programs: never a token.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub id: AccountId,
    pub platform: Platform,
    pub handle: String,
    pub display_name: String,
    pub mode: KeyMode,
    /// `active`, `expired` or `revoked`.
    pub status: AccountStatus,
    pub connected_at: i64,
    pub token_expires_at: Option<i64>,
    /// Whether the token can be renewed without the user (false for LinkedIn's 60-day tokens).
    pub refreshable: bool,
    pub last_error: Option<String>,
}

impl AccountView {
    fn from_stored(row: StoredAccount) -> Self {
        Self {
            platform: row.platform,
            mode: row.mode,
            refreshable: row.refresh_token.is_some(),
            id: row.id,
            handle: row.handle,
            display_name: row.display_name,
            status: row.status,
            connected_at: row.connected_at,
            token_expires_at: row.token_expires_at,
            last_error: row.last_error,
        }
    }
}
