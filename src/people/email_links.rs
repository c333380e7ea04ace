//! The single-use links the service sends by email, and their sending.

use url::Url;

/// `PUBLIC_URL/path?token=…`: the token is URL-safe as generated.
pub(super) fn link(public_url: &Url, path: &str, token: &str) -> String {
    format!(
        "{}{path}?token={token}",
        public_url.as_str().trim_end_matches('/')
    )
}

pub(super) use crate::mail::send_later;
