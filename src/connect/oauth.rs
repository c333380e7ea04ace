//! Talking to a real platform: the authorization URL, the code and refresh-token exchanges and
//! revocation through the oauth2 crate, and the profile read. Its HTTP client never follows
//! redirects (a token endpoint that redirects would otherwise be an SSRF hole).

use super::providers::{ClientAuth, OAuthApp, Profile};
use crate::crypto::envelope::Secret;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    TokenResponse as _, TokenUrl,
};
use std::time::Duration;
use url::Url;

pub use oauth2::reqwest::Client as HttpClient;
pub use oauth2::reqwest::Error as HttpClientError;

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// How long any one call to a platform may take. Short enough that a refresh lease (see
/// `accounts`) never runs out while its holder is still waiting.
const TIMEOUT: Duration = Duration::from_secs(15);

pub fn http_client() -> Result<HttpClient, HttpClientError> {
    oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(concat!("socializer/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Tokens a platform handed out. `refresh` is `None` when it gave none (LinkedIn), or kept
/// the old one.
#[derive(Debug)]
pub struct TokenSet {
    pub access: Secret,
    pub refresh: Option<Secret>,
    pub expires_at: Option<i64>,
}

/// Why a call to a platform did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The platform refused the grant for good (`invalid_grant`): the user must reconnect.
    #[error("{0}")]
    Refused(String),
    /// The platform no longer accepts the access token (401 on the profile).
    #[error("the platform no longer accepts the access token")]
    Unauthorized,
    /// Network failure, timeout, 5xx, or an answer that makes no sense: try again later.
    #[error("{0}")]
    Failed(String),
}

fn client(app: &OAuthApp, redirect_uri: Option<&str>) -> Result<Client, ProviderError> {
    let config = |e: url::ParseError| ProviderError::Failed(format!("bad endpoint: {e}"));
    let mut client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.clone()))
        .set_auth_uri(AuthUrl::from_url(app.authorize_url.clone()))
        .set_token_uri(TokenUrl::from_url(app.token_url.clone()))
        .set_auth_type(match app.description.client_auth {
            ClientAuth::HttpBasic => AuthType::BasicAuth,
            ClientAuth::RequestBody => AuthType::RequestBody,
        });
    if let Some(uri) = redirect_uri {
        client = client.set_redirect_uri(RedirectUrl::new(uri.to_owned()).map_err(config)?);
    }
    Ok(client)
}

/// Where to send the user, and the PKCE verifier to keep for the exchange (when the platform
/// uses PKCE).
pub fn authorize_url(
    app: &OAuthApp,
    redirect_uri: &str,
    state: &str,
) -> Result<(Url, Option<Secret>), ProviderError> {
    let client = client(app, Some(redirect_uri))?;
    let state = state.to_owned();
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(
            app.description
                .scopes
                .iter()
                .map(|s| oauth2::Scope::new((*s).to_owned())),
        );
    let mut verifier = None;
    if app.description.pkce {
        let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        verifier = Some(Secret::new(pkce_verifier.secret().to_owned()));
    }
    let (url, _) = request.url();
    Ok((url, verifier))
}

fn expires_at(expires_in: Option<Duration>, now: i64) -> Option<i64> {
    expires_in.map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
}

fn token_set(token: &oauth2::basic::BasicTokenResponse, now: i64) -> TokenSet {
    TokenSet {
        access: Secret::new(token.access_token().secret().to_owned()),
        refresh: token
            .refresh_token()
            .map(|r| Secret::new(r.secret().to_owned()))
            .filter(|r| !r.expose().is_empty()),
        expires_at: expires_at(token.expires_in(), now),
    }
}

fn token_error<RE: std::error::Error>(
    err: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> ProviderError {
    match err {
        RequestTokenError::ServerResponse(response)
            if *response.error() == BasicErrorResponseType::InvalidGrant =>
        {
            ProviderError::Refused(format!(
                "the platform refused the grant: {}",
                response.error_description().map_or("invalid_grant", |d| d)
            ))
        }
        RequestTokenError::ServerResponse(response) => {
            ProviderError::Failed(format!("the platform answered {}", response.error()))
        }
        RequestTokenError::Request(e) => {
            ProviderError::Failed(format!("the platform could not be reached: {e}"))
        }
        RequestTokenError::Parse(_, _) => {
            ProviderError::Failed("the platform's answer was not understood".into())
        }
        RequestTokenError::Other(why) => ProviderError::Failed(why),
    }
}

pub async fn exchange_code(
    http: &HttpClient,
    app: &OAuthApp,
    redirect_uri: &str,
    code: &str,
    verifier: Option<&Secret>,
    now: i64,
) -> Result<TokenSet, ProviderError> {
    let client = client(app, Some(redirect_uri))?;
    let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()));
    }
    let token = request.request_async(http).await.map_err(token_error)?;
    Ok(token_set(&token, now))
}

pub async fn refresh(
    http: &HttpClient,
    app: &OAuthApp,
    refresh_token: &Secret,
    now: i64,
) -> Result<TokenSet, ProviderError> {
    let client = client(app, None)?;
    let token = RefreshToken::new(refresh_token.expose().to_owned());
    let response = client
        .exchange_refresh_token(&token)
        .request_async(http)
        .await
        .map_err(token_error)?;
    Ok(token_set(&response, now))
}

/// Which kind of token a revocation names (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// Revokes a token where the platform has a revoke endpoint (RFC 7009); `Ok` where it has
/// none. Sent with reqwest rather than the oauth2 crate, which refuses any revocation URL that
/// is not https, and so any stand-in on loopback.
pub async fn revoke(
    http: &HttpClient,
    app: &OAuthApp,
    token: &Secret,
    kind: TokenKind,
) -> Result<(), ProviderError> {
    let Some(url) = &app.revoke_url else {
        return Ok(());
    };
    let hint = match kind {
        TokenKind::Access => "access_token",
        TokenKind::Refresh => "refresh_token",
    };
    let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
    let mut request = http.post(url.clone());
    match app.description.client_auth {
        ClientAuth::HttpBasic => {
            request = request.basic_auth(&app.client_id, Some(&app.client_secret));
        }
        ClientAuth::RequestBody => {
            form.push(("client_id", &app.client_id));
            form.push(("client_secret", &app.client_secret));
        }
    }
    let response = request
        .form(&form)
        .send()
        .await
        .map_err(|e| ProviderError::Failed(format!("revocation failed: {e}")))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(ProviderError::Failed(format!(
            "revocation answered {}",
            response.status().as_u16()
        )))
    }
}

/// Reads who the account is, with its access token.
pub async fn profile(
    http: &HttpClient,
    app: &OAuthApp,
    access_token: &Secret,
) -> Result<Profile, ProviderError> {
    let mut url = app.api_url.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}{}", app.description.profile_path));
    let response = http
        .get(url)
        .bearer_auth(access_token.expose())
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| ProviderError::Failed(format!("the platform could not be reached: {e}")))?;
    match response.status().as_u16() {
        200..=299 => {}
        401 => return Err(ProviderError::Unauthorized),
        status => {
            return Err(ProviderError::Failed(format!(
                "the platform's profile answered {status}"
            )));
        }
    }
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|_| ProviderError::Failed("the platform's profile was not JSON".into()))?;
    (app.description.read_profile)(&body)
        .ok_or_else(|| ProviderError::Failed("the platform's profile lacks an id".into()))
}
