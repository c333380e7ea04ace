//! Publishing: posts written once and delivered to each chosen connected account, now or at a
//! set time, exactly once, with an honest record of what happened on each.
//!
//! - `text_rules`: what each platform would refuse, checked before anything is stored.
//! - `posts`: writing, reading and managing posts (plain functions on a [`Publisher`]).
//! - `delivery`: the publisher every server process runs, claiming due targets from the
//!   database and recording each attempt.
//! - `platform_api`: the platforms' publishing endpoints, and the sandbox's.

mod delivery;
pub mod platform_api;
pub mod posts;
pub mod text_rules;

pub use delivery::run_publisher;
pub use posts::{Author, Created, Draft, Idempotency, PostView, TargetView};

use crate::connect::{ConnectError, Connector};
use crate::db::{Database, DbError};
use crate::domain::Invalid;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("not found")]
    NotFound,
    /// A chosen account this caller cannot publish to: not in the workspace, or not in the
    /// key's mode.
    #[error("No account {0} to publish to here")]
    AccountNotFound(String),
    #[error("{0}")]
    Forbidden(&'static str),
    /// A live post by a person (or a key's creator) whose email is not confirmed yet.
    #[error("confirm your email address before publishing to live accounts")]
    EmailUnconfirmed,
    /// The post or account is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    /// The same `Idempotency-Key` with another request.
    #[error("This Idempotency-Key was used with another request")]
    IdempotencyKeyReused,
    /// A platform failed to take a post down.
    #[error("{0}")]
    Provider(String),
    #[error("storage")]
    Storage(#[from] DbError),
    #[error("connected account")]
    Account(#[from] ConnectError),
}

/// How the publisher reaches the platforms.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    /// `LinkedIn-Version`, `YYYYMM`.
    pub linkedin_version: String,
    /// How long one platform call may take before its outcome is unknown.
    pub timeout: Duration,
    /// How often the publisher looks for due targets when nothing wakes it.
    pub poll_every: Duration,
}

/// Everything publishing needs, built once at start.
pub struct Publisher {
    db: Database,
    connector: Arc<Connector>,
    public_url: Url,
    settings: PublishSettings,
    /// Wakes this process's publisher when a post falls due now.
    wake: tokio::sync::Notify,
}

impl Publisher {
    pub fn new(
        db: Database,
        connector: Arc<Connector>,
        public_url: Url,
        settings: PublishSettings,
    ) -> Self {
        Self {
            db,
            connector,
            public_url,
            settings,
            wake: tokio::sync::Notify::new(),
        }
    }

    fn route(&self, platform: crate::domain::Platform) -> platform_api::Route<'_> {
        platform_api::Route {
            http: self.connector.http(),
            api: self.connector.app(platform).map(|app| &app.api_url),
            linkedin_version: &self.settings.linkedin_version,
            timeout: self.settings.timeout,
            public_url: &self.public_url,
        }
    }

    /// Removes one published target from its platform.
    async fn take_down(
        &self,
        workspace: &crate::domain::WorkspaceId,
        target: &TargetView,
    ) -> Result<(), PublishError> {
        let Some(id) = &target.platform_post_id else {
            return Ok(());
        };
        let sender = match self
            .connector
            .sender(workspace, &target.account_id, None)
            .await
        {
            Ok(sender) => sender,
            Err(ConnectError::NotFound) => {
                return Err(PublishError::Conflict(format!(
                    "{} is disconnected, so its published post cannot be removed from the platform; reconnect it first.",
                    target.name()
                )));
            }
            Err(e) => return Err(e.into()),
        };
        platform_api::take_down(&self.route(target.platform), &sender, id)
            .await
            .map_err(PublishError::Provider)
    }
}
