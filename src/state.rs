//! What every handler may use, built once at start.

use crate::auth::password::PasswordHashing;
use crate::connect::Connector;
use crate::db::Database;
use crate::http::rate_limit::RateLimiter;
use crate::keys::{KeyCache, UsageRecorder};
use crate::mail::Mailer;
use url::Url;

pub struct AppState {
    pub db: Database,
    pub hashing: PasswordHashing,
    pub mailer: Mailer,
    /// Base of links in emails and redirect URIs; `https` turns on Secure cookies and HSTS.
    pub public_url: Url,
    pub trust_forwarded_for: bool,
    /// The API's limits (shared through Redis when configured).
    pub rate_limiter: crate::http::shared_limits::ApiLimits,
    pub rate_limits: RateLimits,
    pub key_usage: UsageRecorder,
    pub key_cache: std::sync::Arc<KeyCache>,
    pub connector: std::sync::Arc<Connector>,
    pub publisher: std::sync::Arc<crate::publishing::Publisher>,
    pub webhooks: std::sync::Arc<crate::webhooks::Webhooks>,
    /// Sign-in with Google, when configured.
    pub google: Option<crate::google::GoogleSignIn>,
    /// CSRF tokens for forms shown before sign-in, without a session row.
    pub anonymous_csrf: crate::auth::csrf::AnonymousCsrf,
    /// Form posts by visitors who are not signed in, per client address.
    pub anonymous_posts: RateLimiter,
}

/// API requests per minute per workspace, by plan.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub free: u32,
    pub paid: u32,
}

impl AppState {
    /// Where the service's mail goes out from, with its address for links.
    pub fn post(&self) -> crate::mail::Post<'_> {
        crate::mail::Post {
            mailer: &self.mailer,
            public_url: &self.public_url,
        }
    }

    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}
