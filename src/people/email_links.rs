//! The single-use links the service sends by email, and their sending.

use crate::logging::Chain;
use crate::mail::{Mailer, OutgoingEmail};
use url::Url;

/// `PUBLIC_URL/path?token=…`: the token is URL-safe as generated.
pub(super) fn link(public_url: &Url, path: &str, token: &str) -> String {
    format!(
        "{}{path}?token={token}",
        public_url.as_str().trim_end_matches('/')
    )
}

/// Sends `message` after the answer has gone: how long the mail server takes must not show in
/// how long the answer took (it would tell whether an address has an account). A failure is the
/// operator's to fix and is logged, never the asker's.
pub(super) fn send_later(mailer: &Mailer, message: OutgoingEmail, what: &'static str) {
    let mailer = mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(message).await {
            log::error!("{what} email not sent: {}", Chain(&e));
        }
    });
}
