//! The platforms accounts connect to, each described in one place: endpoints, scopes,
//! PKCE, how the client authenticates, how the profile is read. Adding a platform means adding
//! a variant to `domain::Platform` and its row in `describe` here.

pub use crate::domain::Platform;
use std::fmt;
use url::Url;

impl Platform {
    /// The description of a real platform; `None` for the built-in sandbox.
    pub fn describe(self) -> Option<Description> {
        match self {
            Platform::Sandbox => None,
            Platform::X => Some(Description {
                env: EnvNames {
                    client_id: "SOCIALIZER_X_CLIENT_ID",
                    client_secret: "SOCIALIZER_X_CLIENT_SECRET",
                    authorize_url: "SOCIALIZER_X_AUTHORIZE_URL",
                    token_url: "SOCIALIZER_X_TOKEN_URL",
                    api_url: "SOCIALIZER_X_API_URL",
                    revoke_url: "SOCIALIZER_X_REVOKE_URL",
                },
                default_authorize_url: "https://x.com/i/oauth2/authorize",
                default_token_url: "https://api.x.com/2/oauth2/token",
                default_api_url: "https://api.x.com",
                default_revoke_url: Some("https://api.x.com/2/oauth2/revoke"),
                scopes: &["tweet.read", "tweet.write", "users.read", "offline.access"],
                pkce: true,
                client_auth: ClientAuth::HttpBasic,
                profile_path: "/2/users/me",
                read_profile: read_x_profile,
            }),
            Platform::LinkedIn => Some(Description {
                env: EnvNames {
                    client_id: "SOCIALIZER_LINKEDIN_CLIENT_ID",
                    client_secret: "SOCIALIZER_LINKEDIN_CLIENT_SECRET",
                    authorize_url: "SOCIALIZER_LINKEDIN_AUTHORIZE_URL",
                    token_url: "SOCIALIZER_LINKEDIN_TOKEN_URL",
                    api_url: "SOCIALIZER_LINKEDIN_API_URL",
                    revoke_url: "SOCIALIZER_LINKEDIN_REVOKE_URL",
                },
                default_authorize_url: "https://www.linkedin.com/oauth/v2/authorization",
                default_token_url: "https://www.linkedin.com/oauth/v2/accessToken",
                default_api_url: "https://api.linkedin.com",
                default_revoke_url: None,
                scopes: &["openid", "profile", "email", "w_member_social"],
                pkce: false,
                client_auth: ClientAuth::RequestBody,
                profile_path: "/v2/userinfo",
                read_profile: read_linkedin_profile,
            }),
        }
    }
}

/// How the client proves itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic` with id and secret (X).
    HttpBasic,
    /// `client_id` and `client_secret` in the form body (LinkedIn).
    RequestBody,
}

/// What a real platform is, independent of how an operator configured it.
#[derive(Debug, Clone, Copy)]
pub struct Description {
    /// The variables that configure it.
    pub env: EnvNames,
    pub default_authorize_url: &'static str,
    pub default_token_url: &'static str,
    pub default_api_url: &'static str,
    pub default_revoke_url: Option<&'static str>,
    pub scopes: &'static [&'static str],
    pub pkce: bool,
    pub client_auth: ClientAuth,
    /// Read with the access token, relative to the API URL.
    pub profile_path: &'static str,
    pub read_profile: fn(&serde_json::Value) -> Option<Profile>,
}

#[derive(Debug, Clone, Copy)]
pub struct EnvNames {
    pub client_id: &'static str,
    pub client_secret: &'static str,
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub api_url: &'static str,
    /// Read only for a platform that has a revoke endpoint.
    pub revoke_url: &'static str,
}

/// Who the connected account is on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The platform's stable id: a reconnect of the same id updates the same row.
    pub id: String,
    pub handle: String,
    pub display_name: String,
}

/// `GET /2/users/me`: `{"data": {"id", "name", "username"}}`.
fn read_x_profile(body: &serde_json::Value) -> Option<Profile> {
    let data = body.get("data")?;
    let text = |name: &str| data.get(name)?.as_str().map(str::to_owned);
    Some(Profile {
        id: text("id")?,
        handle: format!("@{}", text("username")?),
        display_name: text("name").unwrap_or_default(),
    })
}

/// `GET /v2/userinfo` (OpenID Connect): `sub` is the id. LinkedIn has no handle; the email
/// (or, without one, the name) stands in for it.
fn read_linkedin_profile(body: &serde_json::Value) -> Option<Profile> {
    let text = |name: &str| body.get(name)?.as_str().map(str::to_owned);
    let name = text("name").unwrap_or_default();
    Some(Profile {
        id: text("sub")?,
        handle: text("email").unwrap_or_else(|| name.clone()),
        display_name: name,
    })
}

/// A real platform as this deployment configured it.
#[derive(Clone)]
pub struct OAuthApp {
    pub platform: Platform,
    pub description: Description,
    pub client_id: String,
    pub client_secret: String,
    pub authorize_url: Url,
    pub token_url: Url,
    pub api_url: Url,
    pub revoke_url: Option<Url>,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("platform", &self.platform)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("authorize_url", &self.authorize_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("api_url", &self.api_url.as_str())
            .finish()
    }
}

/// The real platforms this deployment offers.
#[derive(Debug, Clone, Default)]
pub struct Platforms {
    apps: Vec<OAuthApp>,
}

impl Platforms {
    pub fn new(apps: Vec<OAuthApp>) -> Self {
        Self { apps }
    }

    pub fn app(&self, platform: Platform) -> Option<&OAuthApp> {
        self.apps.iter().find(|a| a.platform == platform)
    }

    /// The configured real platforms, in the order of [`Platform::ALL`].
    pub fn configured(&self) -> Vec<Platform> {
        Platform::ALL
            .into_iter()
            .filter(|p| self.app(*p).is_some())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read_as_each_platform_answers() {
        let x = serde_json::json!({"data": {"id": "42", "name": "Ada", "username": "ada"}});
        assert_eq!(
            (Platform::X.describe().unwrap().read_profile)(&x),
            Some(Profile {
                id: "42".into(),
                handle: "@ada".into(),
                display_name: "Ada".into()
            })
        );
        let li = serde_json::json!({"sub": "abc", "name": "Ada L", "email": "ada@example.com"});
        assert_eq!(
            (Platform::LinkedIn.describe().unwrap().read_profile)(&li).map(|p| (p.id, p.handle)),
            Some(("abc".into(), "ada@example.com".into()))
        );
        assert_eq!(
            (Platform::X.describe().unwrap().read_profile)(&serde_json::json!({})),
            None
        );
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()), Some(p));
        }
        assert_eq!(Platform::parse("X"), None);
    }
}
