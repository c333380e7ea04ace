//! Webhooks: a workspace's own systems told what happened, signed as the Standard Webhooks
//! specification says.
//!
//! - `signing`: secrets and `v1,` signatures.
//! - `address`: where a webhook may go, checked inside the HTTP client's resolver.
//! - `endpoints`: adding, changing, removing and testing endpoints; their deliveries (plain
//!   functions on [`Webhooks`]).
//! - `delivery`: the deliverer every server process runs, claiming due deliveries from the
//!   database (the outbox that the changes themselves write, see `db::webhooks::emit`).
//! - `notices`: the email to owners and admins when an endpoint is disabled for failing.

pub mod address;
mod delivery;
mod endpoints;
mod notices;
pub mod signing;

pub use delivery::run_deliverer;
pub use endpoints::{
    AttemptView, Created, DeliveryPage, DeliveryView, EndpointChange, EndpointView, Manager,
    NewEndpoint,
};

use crate::crypto::envelope::{CryptoError, Keyring};
use crate::db::{Database, DbError};
use crate::domain::Invalid;
use crate::mail::Mailer;
use address::AddressPolicy;
use std::time::Duration;
use url::Url;

/// Endpoints a workspace may have.
pub const MAX_ENDPOINTS: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The endpoint or delivery is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    #[error("storage")]
    Storage(#[from] DbError),
    #[error("a webhook secret could not be opened")]
    Crypto(#[from] CryptoError),
}

/// How webhooks are sent.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Loopback, private and link-local receivers allowed (development and tests).
    pub allow_private: bool,
    /// Receivers must be `https://` (production).
    pub require_https: bool,
    /// A DNS server to look receivers' names up with, instead of the system's resolver.
    pub dns_server: Option<std::net::SocketAddr>,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// How often the deliverer looks for due deliveries when nothing wakes it.
    pub poll_every: Duration,
}

/// Everything webhooks need, built once at start.
pub struct Webhooks {
    db: Database,
    keyring: Keyring,
    http: reqwest::Client,
    policy: AddressPolicy,
    settings: WebhookSettings,
    mailer: Mailer,
    public_url: Url,
    /// Wakes this process's deliverer when an event was written here.
    wake: tokio::sync::Notify,
}

impl Webhooks {
    pub fn new(
        db: Database,
        keyring: Keyring,
        settings: WebhookSettings,
        mailer: Mailer,
        public_url: Url,
    ) -> reqwest::Result<Self> {
        let policy = AddressPolicy {
            allow_private: settings.allow_private,
            lookup: settings
                .dns_server
                .map_or(address::Lookup::System, address::Lookup::server),
        };
        let http = address::client(policy.clone())?;
        Ok(Self {
            db,
            keyring,
            http,
            policy,
            settings,
            mailer,
            public_url,
            wake: tokio::sync::Notify::new(),
        })
    }

    fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// Tells this process's deliverer that events may be waiting (after a change committed).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }
}
