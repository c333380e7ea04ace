//! What every handler may use, built once at start.

use crate::auth::password::PasswordHashing;
use crate::db::Database;
use crate::mail::Mailer;
use url::Url;

pub struct AppState {
    pub db: Database,
    pub hashing: PasswordHashing,
    pub mailer: Mailer,
    /// Base of links in emails and redirect URIs; `https` turns on Secure cookies and HSTS.
    pub public_url: Url,
    pub trust_forwarded_for: bool,
}

impl AppState {
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }
}
