//! Where the client's key and server URL come from: a flag, else its variable, else
//! `~/.socializer/config.toml`; and that file, written only by `login`.

use super::ClientError;
use crate::auth::api_key::PresentedKey;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use url::Url;

pub const KEY_VARIABLE: &str = "SOCIALIZER_API_KEY";
pub const URL_VARIABLE: &str = "SOCIALIZER_API_URL";
/// The server a development checkout runs by default.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Where a value was found, for messages that say which one to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Variable(&'static str),
    File,
    Prompt,
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "--{name}"),
            Source::Variable(name) => f.write_str(name),
            Source::File => f.write_str("~/.socializer/config.toml"),
            Source::Prompt => f.write_str("the prompt"),
            Source::Default => f.write_str("the default"),
        }
    }
}

/// A server URL: absolute http(s), with a host and no credentials, query or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUrl(Url);

impl ApiUrl {
    pub fn parse(raw: &str, source: Source) -> Result<Self, ClientError> {
        let bad = |why: &str| ClientError::Usage(format!("the API URL from {source} {why}"));
        let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("must be http:// or https:// with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must not carry a query or fragment"));
        }
        Ok(Self(url))
    }

    /// The URL of an API route below this base, each segment escaped, so that an id or a
    /// platform name from the command line can never step into another route.
    pub fn endpoint(&self, segments: &[&str]) -> Result<Url, ClientError> {
        // The url crate drops `.` and `..` segments rather than escape them.
        if let Some(bad) = segments.iter().find(|s| matches!(**s, "" | "." | "..")) {
            return Err(ClientError::Usage(format!(
                "{bad:?} is not an id or a platform name"
            )));
        }
        let mut url = self.0.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        Ok(url)
    }

    /// Whether a key sent here would cross a network in clear.
    pub fn is_plain_http_off_this_machine(&self) -> bool {
        let loopback = match self.0.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        self.0.scheme() == "http" && !loopback
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

/// An API key that has the shape and checksum of one, checked before it is sent
/// anywhere. `Debug` shows only its last 4 characters.
#[derive(Clone)]
pub struct ClientKey(String);

impl ClientKey {
    pub fn parse(raw: &str, source: Source) -> Result<Self, ClientError> {
        let key = raw.trim();
        PresentedKey::parse(key).map_err(|_| {
            ClientError::Usage(format!(
                "the API key from {source} is not a Socializer key: expected sk_live_… or \
                 sk_test_… exactly as shown when it was created (a character may be mistyped)"
            ))
        })?;
        Ok(Self(key.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClientKey(…{})",
            &self.0[self.0.len().saturating_sub(4)..]
        )
    }
}

/// The saved settings, as `login` writes them. No `Debug`: it holds a key.
#[derive(Default, Serialize, Deserialize)]
pub struct Saved {
    pub api_url: Option<String>,
    pub api_key: Option<String>,
}

/// `~/.socializer/config.toml`, or `None` when there is no home folder to hold it.
pub fn config_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".socializer").join("config.toml"))
}

/// The saved settings; none when the file does not exist.
pub fn load() -> Result<Saved, ClientError> {
    let Some(path) = config_path() else {
        return Ok(Saved::default());
    };
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Saved::default()),
        Err(e) => {
            return Err(ClientError::Local(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    if let Ok(meta) = fs::metadata(&path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "warning: {} holds an API key but others may read it; run: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    toml::from_str(&text).map_err(|e| {
        ClientError::Local(format!(
            "{} is not valid ({}); run `socializer login` to write it again",
            path.display(),
            e.message()
        ))
    })
}

/// Replaces the saved settings in one step: a private temporary file in the same folder,
/// flushed to disk, then renamed over the old one. A reader sees the old file or the new one,
/// never a part, and the key is never readable by others, not even for a moment.
pub fn save(saved: &Saved) -> Result<PathBuf, ClientError> {
    let path = config_path().ok_or_else(|| {
        ClientError::Local("HOME is not set, so there is no ~/.socializer to save to".into())
    })?;
    let failed = |what: &str, e: &dyn fmt::Display| {
        ClientError::Local(format!("cannot save {}: {what}: {e}", path.display()))
    };
    let dir = path
        .parent()
        .ok_or_else(|| failed("no parent folder", &"?"))?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| failed("creating the folder", &e))?;
    // A folder made earlier by hand may be open to others; the key inside should not be.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| failed("making the folder private", &e))?;
    let text = toml::to_string(saved).map_err(|e| failed("encoding", &e))?;
    // tempfile creates the file with mode 0600.
    let mut file = tempfile::Builder::new()
        .prefix(".config.toml.")
        .tempfile_in(dir)
        .map_err(|e| failed("creating a temporary file", &e))?;
    file.write_all(b"# Written by `socializer login`. It holds an API key: keep it private.\n")
        .and_then(|()| file.write_all(text.as_bytes()))
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| failed("writing", &e))?;
    file.persist(&path)
        .map_err(|e| failed("replacing the file", &e.error))?;
    // The rename itself reaches the disk once the folder is flushed.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| failed("flushing the folder", &e))?;
    Ok(path)
}

/// A value given on the command line, else in its variable.
fn given(
    flag: Option<&str>,
    flag_name: &'static str,
    variable: &'static str,
) -> Option<(String, Source)> {
    let present = |v: &String| !v.trim().is_empty();
    flag.map(str::to_owned)
        .filter(present)
        .map(|v| (v, Source::Flag(flag_name)))
        .or_else(|| {
            std::env::var(variable)
                .ok()
                .filter(present)
                .map(|v| (v, Source::Variable(variable)))
        })
}

fn from_file(value: Option<String>) -> Option<(String, Source)> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v, Source::File))
}

fn url_from(found: Option<(String, Source)>) -> Result<ApiUrl, ClientError> {
    match found {
        Some((raw, source)) => ApiUrl::parse(&raw, source),
        None => ApiUrl::parse(DEFAULT_URL, Source::Default),
    }
}

/// The server and key a client command uses: each from its flag, else its variable, else the
/// saved file (read only when needed, so a broken file does not stop a command given both).
pub fn resolve(
    key_flag: Option<&str>,
    url_flag: Option<&str>,
) -> Result<(ApiUrl, ClientKey), ClientError> {
    let key = given(key_flag, "api-key", KEY_VARIABLE);
    let url = given(url_flag, "api-url", URL_VARIABLE);
    let saved = if key.is_none() || url.is_none() {
        load()?
    } else {
        Saved::default()
    };
    let url = url_from(url.or_else(|| from_file(saved.api_url)))?;
    let key = match key.or_else(|| from_file(saved.api_key)) {
        Some((raw, source)) => ClientKey::parse(&raw, source)?,
        None => {
            return Err(ClientError::Usage(format!(
                "no API key: run `socializer login` (with a key from the server's Settings → \
                 API keys page), or set {KEY_VARIABLE}, or pass --api-key"
            )));
        }
    };
    Ok((url, key))
}

/// The server `login` checks a key with: the flag, else the variable, else the saved URL (a
/// broken file is about to be replaced, so it only warns), else the local default.
pub fn login_url(url_flag: Option<&str>) -> Result<ApiUrl, ClientError> {
    let found = given(url_flag, "api-url", URL_VARIABLE).or_else(|| match load() {
        Ok(saved) => from_file(saved.api_url),
        Err(e) => {
            eprintln!("warning: {e}");
            None
        }
    });
    url_from(found)
}

#[cfg(test)]
mod tests {
    #[test]
    fn with_no_url_anywhere_the_client_calls_the_server_s_default_address() {
        let url = super::url_from(None).expect("the default parses");
        assert_eq!(
            url.as_str().trim_end_matches('/'),
            format!("http://{}", crate::config::DEFAULT_BIND)
        );
    }
}
