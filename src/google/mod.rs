//! Signing in with Google, or with any OpenID Connect provider configured in its place:
//! discovery from the issuer, the authorization-code flow with `state`, `nonce` and PKCE S256,
//! and the ID token's signature, issuer, audience, expiry and nonce checked before anyone is
//! believed. Who the identity then signs in as is decided in `people::google`.

mod client;

pub use client::{Begun, GoogleSetup, GoogleSignIn};
use std::fmt;
use url::Url;

/// Google's issuer: discovery is at `<issuer>/.well-known/openid-configuration`.
pub const DEFAULT_ISSUER: &str = "https://accounts.google.com";

/// The app registered at the provider. `Debug` never shows the secret.
#[derive(Clone)]
pub struct GoogleApp {
    pub client_id: String,
    pub client_secret: String,
    pub issuer: Url,
}

impl fmt::Debug for GoogleApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("issuer", &self.issuer.as_str())
            .finish()
    }
}

/// What a flow keeps between sending the person away and their return.
#[derive(Debug, Clone)]
pub struct Pending {
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the provider says signed in, from an ID token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// True only when the provider says so; a missing claim is not a yes.
    pub email_verified: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// Discovery, the keys or the token endpoint could not be reached or made no sense.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (`invalid_grant`, a bad client, …).
    #[error("the provider refused the code: {0}")]
    Refused(String),
    /// The ID token is missing or failed a check.
    #[error("the ID token is not acceptable: {0}")]
    BadToken(String),
}
