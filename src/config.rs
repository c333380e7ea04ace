//! Configuration from the environment. A bad value stops the start with one line naming
//! the variable; nothing here reads global state, so tests build a `Config` of their own.

use crate::connect::{Description, OAuthApp, Platform, Platforms};
use crate::crypto::RootKey;
use crate::db::DatabaseUrl;
use crate::google::{self, GoogleApp};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// The key that signs session cookies: at least 64 bytes. `Debug` never shows it.
#[derive(Clone)]
pub struct SessionSecret(pub(crate) Vec<u8>);

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(<redacted>)")
    }
}

/// Where email goes: an SMTP server, or `.eml` files in the outbox folder.
#[derive(Clone)]
pub enum MailSetting {
    Smtp(String),
    Outbox(PathBuf),
}

impl fmt::Debug for MailSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The URL may carry a password.
            MailSetting::Smtp(_) => f.write_str("Smtp(<redacted>)"),
            MailSetting::Outbox(dir) => write!(f, "Outbox({})", dir.display()),
        }
    }
}

/// Where the server listens unless told otherwise; the command line client calls it there.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub bind: SocketAddr,
    /// `None`: `http://` + the address actually bound.
    pub public_url: Option<Url>,
    pub data_dir: PathBuf,
    pub environment: Environment,
    pub root_key: RootKey,
    /// Root keys that still unwrap data keys during a rotation; never used to wrap.
    pub previous_root_keys: Vec<RootKey>,
    pub session_secret: SessionSecret,
    pub mail: MailSetting,
    pub rate_limit_free: u32,
    pub rate_limit_paid: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// HTTP worker threads; `None`: one per core.
    pub workers: Option<usize>,
    /// Password hashes run at once; default half the cores (set by tests and benchmarks).
    pub hashing_threads: Option<usize>,
    /// How often recorded key uses are written (a key's last use is shown at most a minute late).
    pub key_usage_flush: std::time::Duration,
    /// How long a request's body may take to arrive (408 after it).
    pub body_deadline: std::time::Duration,
    /// Requests one client address may have in progress at once (429 past it).
    pub requests_per_client: usize,
    /// Keep verified keys in memory (see `keys::KeyCache`). The benchmark turns it off to
    /// measure the database path.
    pub cache_keys: bool,
    /// Where the API's rate limits are counted for every process; `None`: in each process.
    pub redis_url: Option<RedisUrl>,
    /// The real platforms offered (each only when its client id and secret are set).
    pub platforms: Platforms,
    /// Sign-in with Google, when its client id and secret are set.
    pub google: Option<GoogleApp>,
    /// How often the background refresher looks for tokens about to expire.
    pub refresh_every: std::time::Duration,
    /// How the publisher reaches the platforms.
    pub publishing: crate::publishing::PublishSettings,
    /// How webhooks are sent.
    pub webhooks: crate::webhooks::WebhookSettings,
}

/// A configuration value that stops the start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

impl Config {
    /// Reads the process environment, after loading `.env` from the working directory when
    /// one is there (variables already set win).
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(bad(".env", e.to_string())),
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any source of variables. May create the data folder and,
    /// in development, the generated secrets in it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let environment = environment(&var)?;
        let data_dir = PathBuf::from(var("SOCIALIZER_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match var("SOCIALIZER_DATABASE_URL") {
            Some(raw) => {
                DatabaseUrl::parse(raw.trim()).map_err(|m| bad("SOCIALIZER_DATABASE_URL", m))?
            }
            None => DatabaseUrl::Sqlite(data_dir.join("socializer.db")),
        };
        let (bind, public_url) = listening(&var, environment)?;
        let (root_key, previous_root_keys, session_secret) = secrets(&var, environment, &data_dir)?;
        let platforms = Platforms::new(
            Platform::ALL
                .into_iter()
                .filter_map(|p| p.describe().map(|d| (p, d)))
                .map(|(platform, description)| oauth_app(&var, platform, description))
                .filter_map(Result::transpose)
                .collect::<Result<_, _>>()?,
        );
        let google = google_app(&var)?;
        let mail = mail(&var, &data_dir)?;
        let limits = limits(&var)?;
        Ok(Self {
            database_url,
            bind,
            public_url,
            data_dir,
            environment,
            root_key,
            previous_root_keys,
            session_secret,
            mail,
            rate_limit_free: limits.free,
            rate_limit_paid: limits.paid,
            trust_forwarded_for: limits.trust_forwarded_for,
            workers: None,
            hashing_threads: None,
            key_usage_flush: std::time::Duration::from_secs(10),
            body_deadline: std::time::Duration::from_secs(10),
            requests_per_client: 128,
            cache_keys: true,
            redis_url: var("SOCIALIZER_REDIS_URL")
                .map(|raw| RedisUrl::parse(raw.trim()))
                .transpose()
                .map_err(|m| bad("SOCIALIZER_REDIS_URL", m))?,
            platforms,
            google,
            refresh_every: limits.refresh_every,
            publishing: publishing(&var)?,
            webhooks: webhooks(&var, environment)?,
        })
    }
}

/// A Redis URL, checked at start: `redis://[:password@]host:port[/db]`. Its `Debug` leaves out
/// any password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw)
            .map_err(|e| format!("expected redis://host:port, got an invalid URL ({e})"))?;
        if url.scheme() == "rediss" {
            return Err(
                "rediss:// (TLS) is not built in: reach Redis over a private network, or through \
                 a local TLS tunnel, with redis://"
                    .into(),
            );
        }
        if url.scheme() != "redis" || url.host_str().is_none_or(str::is_empty) {
            return Err("expected redis://host:port".into());
        }
        let db = url.path().trim_start_matches('/');
        if !db.is_empty() && db.parse::<u16>().is_err() {
            return Err(format!(
                "the database after the host is a number, got {db:?}"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.0) {
            Ok(url) => write!(
                f,
                "{}://{}:{}{}",
                url.scheme(),
                url.host_str().unwrap_or(""),
                url.port().unwrap_or(6379),
                url.path()
            ),
            Err(_) => f.write_str("redis://…"),
        }
    }
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim())
        .map_err(|_| bad("SOCIALIZER_PUBLIC_URL", format!("not a URL: {raw:?}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(
            "SOCIALIZER_PUBLIC_URL",
            "expected an http:// or https:// URL",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "SOCIALIZER_PUBLIC_URL",
            "the public URL takes no query or fragment",
        ));
    }
    Ok(url)
}

type Vars<'a> = dyn Fn(&str) -> Option<String> + 'a;

fn environment(var: &Vars<'_>) -> Result<Environment, ConfigError> {
    Ok(match var("SOCIALIZER_ENV").as_deref().map(str::trim) {
        None | Some("development") => Environment::Development,
        Some("production") => Environment::Production,
        Some(other) => {
            return Err(bad(
                "SOCIALIZER_ENV",
                format!("expected development or production, got {other:?}"),
            ));
        }
    })
}

/// Where the server listens, and the URL it is reached at.
fn listening(
    var: &Vars<'_>,
    environment: Environment,
) -> Result<(SocketAddr, Option<Url>), ConfigError> {
    let bind_raw = var("SOCIALIZER_BIND").unwrap_or_else(|| DEFAULT_BIND.into());
    let bind: SocketAddr = bind_raw.trim().parse().map_err(|_| {
        bad(
            "SOCIALIZER_BIND",
            format!("expected an address like 127.0.0.1:8080, got {bind_raw:?}"),
        )
    })?;

    let public_url = var("SOCIALIZER_PUBLIC_URL")
        .map(|raw| parse_public_url(&raw))
        .transpose()?;

    if environment == Environment::Production {
        match &public_url {
            Some(url) if url.scheme() == "https" => {}
            _ => {
                return Err(bad(
                    "SOCIALIZER_PUBLIC_URL",
                    "production needs an https:// public URL",
                ));
            }
        }
    }
    Ok((bind, public_url))
}

/// The root keys and the session secret: explicit in production, generated into the data
/// folder in development.
fn secrets(
    var: &Vars<'_>,
    environment: Environment,
    data_dir: &Path,
) -> Result<(RootKey, Vec<RootKey>, SessionSecret), ConfigError> {
    let root_key = match var("SOCIALIZER_ROOT_KEY") {
        Some(raw) => RootKey(decode_root_key(&raw).map_err(|m| bad("SOCIALIZER_ROOT_KEY", m))?),
        None if environment == Environment::Production => {
            return Err(bad(
                "SOCIALIZER_ROOT_KEY",
                "production needs an explicit root key (base64 of 32 bytes)",
            ));
        }
        None => RootKey(
            dev_secret(data_dir, "root.key", 32, "SOCIALIZER_ROOT_KEY", |raw| {
                decode_root_key(raw).map(|k| k.to_vec())
            })?
            .try_into()
            .map_err(|_| {
                bad(
                    "SOCIALIZER_ROOT_KEY",
                    "the generated root key is not 32 bytes",
                )
            })?,
        ),
    };

    let previous_root_keys = match var("SOCIALIZER_PREVIOUS_ROOT_KEYS") {
        None => Vec::new(),
        Some(raw) => raw
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| decode_root_key(part).map(RootKey))
            .collect::<Result<_, _>>()
            .map_err(|m| bad("SOCIALIZER_PREVIOUS_ROOT_KEYS", m))?,
    };

    let session_secret = match var("SOCIALIZER_SESSION_SECRET") {
        Some(raw) => SessionSecret(
            decode_session_secret(&raw).map_err(|m| bad("SOCIALIZER_SESSION_SECRET", m))?,
        ),
        None if environment == Environment::Production => {
            return Err(bad(
                "SOCIALIZER_SESSION_SECRET",
                "production needs an explicit session secret (base64 of at least 64 bytes)",
            ));
        }
        None => SessionSecret(dev_secret(
            data_dir,
            "session.key",
            64,
            "SOCIALIZER_SESSION_SECRET",
            decode_session_secret,
        )?),
    };
    Ok((root_key, previous_root_keys, session_secret))
}

fn mail(var: &Vars<'_>, data_dir: &Path) -> Result<MailSetting, ConfigError> {
    Ok(match var("SOCIALIZER_SMTP_URL") {
        Some(raw) => {
            let url = Url::parse(raw.trim()).map_err(|_| {
                bad(
                    "SOCIALIZER_SMTP_URL",
                    "expected smtp://host:port or smtps://user:pass@host",
                )
            })?;
            if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
                return Err(bad(
                    "SOCIALIZER_SMTP_URL",
                    "expected smtp://host:port or smtps://user:pass@host",
                ));
            }
            MailSetting::Smtp(raw.trim().to_owned())
        }
        None => MailSetting::Outbox(data_dir.join("outbox")),
    })
}

struct Limits {
    free: u32,
    paid: u32,
    trust_forwarded_for: bool,
    refresh_every: std::time::Duration,
}

/// The LinkedIn API version sent when none is configured. LinkedIn serves each version for a
/// year and answers 426 after; operators move it forward with `SOCIALIZER_LINKEDIN_VERSION`.
pub const DEFAULT_LINKEDIN_VERSION: &str = "202611";

fn publishing(var: &Vars<'_>) -> Result<crate::publishing::PublishSettings, ConfigError> {
    let linkedin_version = match var("SOCIALIZER_LINKEDIN_VERSION") {
        None => DEFAULT_LINKEDIN_VERSION.to_owned(),
        Some(raw) => {
            let raw = raw.trim();
            let month = raw.get(4..).and_then(|m| m.parse::<u8>().ok());
            if raw.len() != 6
                || !raw.bytes().all(|b| b.is_ascii_digit())
                || !month.is_some_and(|m| (1..=12).contains(&m))
            {
                return Err(bad(
                    "SOCIALIZER_LINKEDIN_VERSION",
                    format!("expected YYYYMM, got {raw:?}"),
                ));
            }
            raw.to_owned()
        }
    };
    Ok(crate::publishing::PublishSettings {
        linkedin_version,
        timeout: std::time::Duration::from_secs(whole_seconds(
            var,
            "SOCIALIZER_PUBLISH_TIMEOUT_SECS",
            15,
            120,
        )?),
        poll_every: std::time::Duration::from_secs(1),
    })
}

/// A yes-or-no variable: `true`/`1` or `false`/`0`, unset being `false`.
fn flag(var: &Vars<'_>, name: &'static str) -> Result<bool, ConfigError> {
    match var(name).as_deref().map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(bad(name, format!("expected true or false, got {other:?}"))),
    }
}

/// Whole seconds from 1 to `max`, `default` when unset.
fn whole_seconds(
    var: &Vars<'_>,
    name: &'static str,
    default: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                name,
                format!("expected whole seconds from 1 to {max}, got {raw:?}"),
            )),
        },
    }
}

fn webhooks(
    var: &Vars<'_>,
    environment: Environment,
) -> Result<crate::webhooks::WebhookSettings, ConfigError> {
    let allow_private = flag(var, "SOCIALIZER_WEBHOOK_ALLOW_PRIVATE")?;
    let timeout = whole_seconds(var, "SOCIALIZER_WEBHOOK_TIMEOUT_SECS", 15, 60)?;
    let dns_server = match var("SOCIALIZER_WEBHOOK_DNS_SERVER") {
        None => None,
        Some(raw) => Some(raw.trim().parse::<std::net::SocketAddr>().map_err(|_| {
            bad(
                "SOCIALIZER_WEBHOOK_DNS_SERVER",
                format!("expected an address like 10.0.0.2:53, got {raw:?}"),
            )
        })?),
    };
    Ok(crate::webhooks::WebhookSettings {
        allow_private,
        dns_server,
        require_https: environment == Environment::Production,
        timeout: std::time::Duration::from_secs(timeout),
        poll_every: std::time::Duration::from_secs(1),
    })
}

fn limits(var: &Vars<'_>) -> Result<Limits, ConfigError> {
    let rate_limit_free = parse_limit(
        var("SOCIALIZER_RATE_LIMIT_FREE"),
        "SOCIALIZER_RATE_LIMIT_FREE",
        60,
    )?;
    let rate_limit_paid = parse_limit(
        var("SOCIALIZER_RATE_LIMIT_PAID"),
        "SOCIALIZER_RATE_LIMIT_PAID",
        600,
    )?;

    let trust_forwarded_for = flag(var, "SOCIALIZER_TRUST_FORWARDED_FOR")?;
    let refresh_every = whole_seconds(var, "SOCIALIZER_REFRESH_INTERVAL_SECS", 60, 600)?;

    Ok(Limits {
        free: rate_limit_free,
        paid: rate_limit_paid,
        trust_forwarded_for,
        refresh_every: std::time::Duration::from_secs(refresh_every),
    })
}

/// A platform's app, when both its client id and secret are set; endpoints default to the real
/// platform's.
fn oauth_app(
    var: &impl Fn(&str) -> Option<String>,
    platform: Platform,
    description: Description,
) -> Result<Option<OAuthApp>, ConfigError> {
    let env = description.env;
    let (id_var, secret_var) = (env.client_id, env.client_secret);
    let (client_id, client_secret) = match (var(id_var), var(secret_var)) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) => (id.trim().to_owned(), secret.trim().to_owned()),
        (Some(_), None) => return Err(bad(secret_var, format!("{id_var} is set, this is not"))),
        (None, Some(_)) => return Err(bad(id_var, format!("{secret_var} is set, this is not"))),
    };
    let url = |variable: &'static str, default: &str| -> Result<Url, ConfigError> {
        let raw = var(variable).unwrap_or_else(|| default.to_owned());
        match Url::parse(raw.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                Ok(url)
            }
            _ => Err(bad(
                variable,
                format!("expected an http:// or https:// URL, got {raw:?}"),
            )),
        }
    };
    Ok(Some(OAuthApp {
        platform,
        description,
        client_id,
        client_secret,
        authorize_url: url(env.authorize_url, description.default_authorize_url)?,
        token_url: url(env.token_url, description.default_token_url)?,
        api_url: url(env.api_url, description.default_api_url)?,
        revoke_url: description
            .default_revoke_url
            .map(|default| url(env.revoke_url, default))
            .transpose()?,
    }))
}

/// Google's app, when both its client id and secret are set.
fn google_app(var: &Vars<'_>) -> Result<Option<GoogleApp>, ConfigError> {
    const ID: &str = "SOCIALIZER_GOOGLE_CLIENT_ID";
    const SECRET: &str = "SOCIALIZER_GOOGLE_CLIENT_SECRET";
    const ISSUER: &str = "SOCIALIZER_GOOGLE_ISSUER";
    let (client_id, client_secret) = match (var(ID), var(SECRET)) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) => (id.trim().to_owned(), secret.trim().to_owned()),
        (Some(_), None) => return Err(bad(SECRET, format!("{ID} is set, this is not"))),
        (None, Some(_)) => return Err(bad(ID, format!("{SECRET} is set, this is not"))),
    };
    let raw = var(ISSUER).unwrap_or_else(|| google::DEFAULT_ISSUER.to_owned());
    let issuer = match Url::parse(raw.trim()) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some()
                && url.query().is_none()
                && url.fragment().is_none() =>
        {
            url
        }
        _ => {
            return Err(bad(
                ISSUER,
                format!("expected the provider's http:// or https:// issuer URL, got {raw:?}"),
            ));
        }
    };
    Ok(Some(GoogleApp {
        client_id,
        client_secret,
        issuer,
    }))
}

fn parse_limit(
    raw: Option<String>,
    variable: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    match raw {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(bad(
                variable,
                format!("expected a whole number of requests per minute above 0, got {raw:?}"),
            )),
        },
    }
}

fn decode_root_key(raw: &str) -> Result<[u8; 32], String> {
    let bytes = STANDARD
        .decode(raw.trim())
        .map_err(|_| "not valid base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("expected 32 bytes, got {}", b.len()))
}

fn decode_session_secret(raw: &str) -> Result<Vec<u8>, String> {
    let bytes = STANDARD
        .decode(raw.trim())
        .map_err(|_| "not valid base64".to_owned())?;
    if bytes.len() < 64 {
        return Err(format!("expected at least 64 bytes, got {}", bytes.len()));
    }
    Ok(bytes)
}

/// A development secret, generated once into the data folder (mode 0600) and reused.
fn dev_secret(
    data_dir: &Path,
    file: &str,
    len: usize,
    variable: &'static str,
    decode: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join(file);
    let unreadable =
        |e: std::io::Error| bad(variable, format!("cannot use {}: {e}", path.display()));
    crate::private_files::dir(data_dir).map_err(unreadable)?;
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| bad(variable, format!("no randomness: {e}")))?;
    match create_private_file(&path, STANDARD.encode(&bytes).as_bytes()) {
        Ok(()) => {
            log::warn!(
                "{variable} is not set: generated a development secret into {} (set it explicitly in production)",
                path.display()
            );
            Ok(bytes)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let stored = std::fs::read_to_string(&path).map_err(unreadable)?;
            decode(&stored)
                .map_err(|m| bad(variable, format!("{} is damaged: {m}", path.display())))
        }
        Err(e) => Err(unreadable(e)),
    }
}

fn create_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = crate::private_files::create_new(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_generate_dev_secrets_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let data = data.to_str().unwrap_or_default();
        let first = config(&[("SOCIALIZER_DATA_DIR", data)]).unwrap();
        let second = config(&[("SOCIALIZER_DATA_DIR", data)]).unwrap();
        assert_eq!(first.root_key.0, second.root_key.0);
        assert_eq!(first.session_secret.0, second.session_secret.0);
        assert_eq!(first.session_secret.0.len(), 64);
        assert_eq!(first.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(first.rate_limit_free, 60);
        assert_eq!(first.rate_limit_paid, 600);
        #[cfg(unix)]
        for file in ["root.key", "session.key"] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("data").join(file))
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap();
            assert_eq!(mode, 0o600, "{file}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap_or_default();
        for (name, value) in [
            ("SOCIALIZER_BIND", "not-an-address"),
            ("SOCIALIZER_DATABASE_URL", "mysql://x"),
            ("SOCIALIZER_PUBLIC_URL", "ftp://example.com"),
            ("SOCIALIZER_ENV", "staging"),
            ("SOCIALIZER_ROOT_KEY", "c2hvcnQ="),
            ("SOCIALIZER_SESSION_SECRET", "c2hvcnQ="),
            ("SOCIALIZER_SMTP_URL", "http://mail"),
            ("SOCIALIZER_RATE_LIMIT_FREE", "lots"),
            ("SOCIALIZER_TRUST_FORWARDED_FOR", "maybe"),
            ("SOCIALIZER_REDIS_URL", "http://cache:6379"),
            ("SOCIALIZER_REDIS_URL", "redis://"),
            ("SOCIALIZER_REDIS_URL", "redis://cache:6379/zero"),
        ] {
            let err = config(&[("SOCIALIZER_DATA_DIR", data), (name, value)]).err();
            assert_eq!(err.map(|e| e.variable), Some(name), "{name}={value}");
        }
    }

    #[test]
    fn a_redis_url_never_shows_its_password() {
        let url = RedisUrl::parse("redis://:hunter2@cache.internal:6380/3").unwrap();
        assert_eq!(format!("{url:?}"), "redis://cache.internal:6380/3");
        assert!(RedisUrl::parse("redis://cache.internal").is_ok());
        assert!(RedisUrl::parse("rediss://cache.internal").is_err());
    }

    #[test]
    fn google_needs_its_id_and_secret_together_and_an_issuer_url() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap_or_default();
        let err = |vars: &[(&str, &str)]| {
            let mut all = vec![("SOCIALIZER_DATA_DIR", data)];
            all.extend_from_slice(vars);
            config(&all).err().map(|e| e.variable)
        };
        assert_eq!(
            err(&[("SOCIALIZER_GOOGLE_CLIENT_ID", "id")]),
            Some("SOCIALIZER_GOOGLE_CLIENT_SECRET")
        );
        assert_eq!(
            err(&[("SOCIALIZER_GOOGLE_CLIENT_SECRET", "secret")]),
            Some("SOCIALIZER_GOOGLE_CLIENT_ID")
        );
        let both = [
            ("SOCIALIZER_GOOGLE_CLIENT_ID", "id"),
            ("SOCIALIZER_GOOGLE_CLIENT_SECRET", "secret"),
        ];
        let mut bad_issuer = both.to_vec();
        bad_issuer.push(("SOCIALIZER_GOOGLE_ISSUER", "accounts.google.com"));
        assert_eq!(err(&bad_issuer), Some("SOCIALIZER_GOOGLE_ISSUER"));
        let mut vars = vec![("SOCIALIZER_DATA_DIR", data)];
        vars.extend_from_slice(&both);
        let google = config(&vars).unwrap().google.unwrap();
        assert_eq!(google.issuer.as_str(), "https://accounts.google.com/");
        assert!(!format!("{google:?}").contains("\"secret\""));
        assert!(
            config(&[("SOCIALIZER_DATA_DIR", data)])
                .unwrap()
                .google
                .is_none()
        );
    }

    #[test]
    fn production_needs_explicit_secrets_and_https() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap_or_default();
        let root = STANDARD.encode([7u8; 32]);
        let session = STANDARD.encode([9u8; 64]);
        let base = [
            ("SOCIALIZER_DATA_DIR", data),
            ("SOCIALIZER_ENV", "production"),
        ];
        let with = |extra: &[(&'static str, &str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            config(&vars).err().map(|e| e.variable)
        };
        assert_eq!(with(&[]), Some("SOCIALIZER_PUBLIC_URL"));
        assert_eq!(
            with(&[("SOCIALIZER_PUBLIC_URL", "http://example.com")]),
            Some("SOCIALIZER_PUBLIC_URL")
        );
        assert_eq!(
            with(&[("SOCIALIZER_PUBLIC_URL", "https://example.com")]),
            Some("SOCIALIZER_ROOT_KEY")
        );
        assert_eq!(
            with(&[
                ("SOCIALIZER_PUBLIC_URL", "https://example.com"),
                ("SOCIALIZER_ROOT_KEY", &root)
            ]),
            Some("SOCIALIZER_SESSION_SECRET")
        );
        assert_eq!(
            with(&[
                ("SOCIALIZER_PUBLIC_URL", "https://example.com"),
                ("SOCIALIZER_ROOT_KEY", &root),
                ("SOCIALIZER_SESSION_SECRET", &session),
            ]),
            None
        );
        assert!(
            !dir.path().join("root.key").exists(),
            "production must not generate secrets"
        );
        // Webhook receivers must be https:// in production, and only there.
        let mut production = base.to_vec();
        production.extend_from_slice(&[
            ("SOCIALIZER_PUBLIC_URL", "https://example.com"),
            ("SOCIALIZER_ROOT_KEY", &root),
            ("SOCIALIZER_SESSION_SECRET", &session),
        ]);
        assert!(config(&production).unwrap().webhooks.require_https);
        assert!(
            !config(&[("SOCIALIZER_DATA_DIR", data)])
                .unwrap()
                .webhooks
                .require_https
        );
        assert_eq!(
            config(&[
                ("SOCIALIZER_DATA_DIR", data),
                ("SOCIALIZER_WEBHOOK_DNS_SERVER", "nope")
            ])
            .err()
            .map(|e| e.variable),
            Some("SOCIALIZER_WEBHOOK_DNS_SERVER")
        );
    }
}
