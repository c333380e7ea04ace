//! The provider's side of the flow through the openidconnect crate. Discovery (with the keys)
//! is cached for an hour; an ID token signed with a key the cache does not hold fetches the
//! published keys again, so a rotation at the provider costs no failed sign-in.

use super::{GoogleApp, GoogleError, Pending, VerifiedIdentity};
use crate::connect::oauth::HttpClient;
use crate::crypto::random_token;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreIdToken, CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, JsonWebKeySet, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse as _,
};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);
/// The fewest seconds between two key fetches caused by an unknown key: a stream of forged
/// tokens cannot make us hammer the provider.
const KEY_REFETCH_GAP: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    fetched_at: Instant,
    keys_refetched_at: Option<Instant>,
}

/// A flow begun: where to send the person, and what to keep until they return.
#[derive(Debug)]
pub struct Begun {
    pub auth_url: Url,
    pub state: String,
    pub pending: Pending,
}

/// Why Google sign-in could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum GoogleSetup {
    #[error("the issuer is not a URL")]
    Issuer(#[source] url::ParseError),
    #[error("the callback URL cannot be made from the public URL")]
    PublicUrl(#[source] url::ParseError),
}

pub struct GoogleSignIn {
    app: GoogleApp,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: HttpClient,
    cache: Mutex<Option<Discovered>>,
}

impl GoogleSignIn {
    pub fn new(app: GoogleApp, public_url: &Url, http: HttpClient) -> Result<Self, GoogleSetup> {
        // The issuer is compared with the ID token's `iss` as a string: no trailing slash added.
        let issuer = IssuerUrl::new(app.issuer.as_str().trim_end_matches('/').to_owned())
            .map_err(GoogleSetup::Issuer)?;
        let redirect = public_url
            .join("/auth/google/callback")
            .map_err(GoogleSetup::PublicUrl)?;
        Ok(Self {
            app,
            issuer,
            redirect: RedirectUrl::from_url(redirect),
            http,
            cache: Mutex::new(None),
        })
    }

    /// Where to send the person, with a fresh `state`, `nonce` and PKCE S256 challenge.
    pub async fn begin(&self) -> Result<Begun, GoogleError> {
        let client = self.client(self.discovered().await?.metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                || CsrfToken::new(random_token()),
                || Nonce::new(random_token()),
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Begun {
            auth_url,
            state: state.secret().clone(),
            pending: Pending {
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        })
    }

    /// Exchanges the code for tokens and checks the ID token.
    pub async fn finish(
        &self,
        code: &str,
        pending: &Pending,
    ) -> Result<VerifiedIdentity, GoogleError> {
        let discovered = self.discovered().await?;
        let client = self.client(discovered.metadata.clone())?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| GoogleError::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    GoogleError::Refused(answer.error().to_string())
                }
                RequestTokenError::Parse(e, _) => {
                    GoogleError::BadToken(format!("unreadable token response: {e}"))
                }
                other => GoogleError::Unavailable(other.to_string()),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| GoogleError::BadToken("the token response has no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        match verify(&client, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => match self.refetch_keys(discovered).await? {
                Some(metadata) => verify(&self.client(metadata)?, id_token, &nonce),
                None => Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )),
            },
            checked => checked,
        }
        .map_err(|e| GoogleError::BadToken(with_cause(&e)))
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Result<Client, GoogleError> {
        let auth_type = auth_type(metadata.token_endpoint_auth_methods_supported())?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.app.client_id.clone()),
            Some(ClientSecret::new(self.app.client_secret.clone())),
        )
        .set_auth_type(auth_type)
        .set_redirect_uri(self.redirect.clone()))
    }

    /// The provider's metadata and keys, from the cache while it is fresh.
    async fn discovered(&self) -> Result<Discovered, GoogleError> {
        if let Some(cached) = self
            .cached()
            .filter(|d| d.fetched_at.elapsed() < DISCOVERY_TTL)
        {
            return Ok(cached);
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| GoogleError::Unavailable(format!("discovery: {e}")))?;
        let discovered = Discovered {
            metadata,
            fetched_at: Instant::now(),
            keys_refetched_at: None,
        };
        self.store(discovered.clone());
        Ok(discovered)
    }

    /// Fetches the published keys again after a token named one we do not hold; `None` when
    /// that was done less than a minute ago.
    async fn refetch_keys(
        &self,
        seen: Discovered,
    ) -> Result<Option<CoreProviderMetadata>, GoogleError> {
        let latest = self.cached().unwrap_or(seen);
        if latest
            .keys_refetched_at
            .is_some_and(|at| at.elapsed() < KEY_REFETCH_GAP)
        {
            return Ok(None);
        }
        let keys = JsonWebKeySet::fetch_async(latest.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| GoogleError::Unavailable(format!("keys: {e}")))?;
        let metadata = latest.metadata.set_jwks(keys);
        self.store(Discovered {
            metadata: metadata.clone(),
            fetched_at: latest.fetched_at,
            keys_refetched_at: Some(Instant::now()),
        });
        Ok(Some(metadata))
    }

    fn cached(&self) -> Option<Discovered> {
        self.cache.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn store(&self, discovered: Discovered) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(discovered);
        }
    }
}

/// The error and what caused it, in one line for the log.
fn with_cause(error: &ClaimsVerificationError) -> String {
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

fn verify(
    client: &Client,
    id_token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<VerifiedIdentity, ClaimsVerificationError> {
    let claims = id_token.claims(&client.id_token_verifier(), nonce)?;
    Ok(VerifiedIdentity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified() == Some(true),
    })
}

/// How the client proves itself at the token endpoint: HTTP Basic unless the discovery document
/// offers only the form body (no list means Basic, the specification's default).
fn auth_type(supported: Option<&Vec<CoreClientAuthMethod>>) -> Result<AuthType, GoogleError> {
    let Some(supported) = supported else {
        return Ok(AuthType::BasicAuth);
    };
    if supported.contains(&CoreClientAuthMethod::ClientSecretBasic) {
        Ok(AuthType::BasicAuth)
    } else if supported.contains(&CoreClientAuthMethod::ClientSecretPost) {
        Ok(AuthType::RequestBody)
    } else {
        Err(GoogleError::Unavailable(
            "the provider accepts neither client_secret_basic nor client_secret_post".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_authenticates_as_discovery_allows() {
        use CoreClientAuthMethod::{ClientSecretBasic, ClientSecretPost, PrivateKeyJwt};
        let basic = |list: Option<Vec<CoreClientAuthMethod>>| {
            auth_type(list.as_ref()).map(|t| matches!(t, AuthType::BasicAuth))
        };
        assert!(matches!(basic(None), Ok(true)));
        assert!(matches!(
            basic(Some(vec![ClientSecretPost, ClientSecretBasic])),
            Ok(true)
        ));
        assert!(matches!(basic(Some(vec![ClientSecretPost])), Ok(false)));
        assert!(basic(Some(vec![PrivateKeyJwt])).is_err());
    }
}
