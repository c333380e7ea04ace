//! Sending a post to a platform and taking one down: X's `POST /2/tweets`, LinkedIn's
//! `POST /rest/posts`, and the built-in sandbox. Each answer is sorted into what it means for
//! the target: published, refused for good, rate limited, or unknown (the platform may have it).

use crate::connect::Sender;
use crate::domain::Platform;
use reqwest::StatusCode;
use std::time::Duration;
use url::Url;

/// Where and how to send.
pub struct Route<'a> {
    pub http: &'a reqwest::Client,
    /// The platform's API base (`None` for the sandbox).
    pub api: Option<&'a Url>,
    pub linkedin_version: &'a str,
    pub timeout: Duration,
    /// The service's own address, for the sandbox's links.
    pub public_url: &'a Url,
}

/// What a send came to.
#[derive(Debug)]
pub enum Sent {
    Published {
        id: String,
        url: String,
        status: u16,
    },
    /// A definite refusal: nothing was published.
    Refused {
        status: Option<u16>,
        code: String,
        message: String,
    },
    /// The platform no longer accepts the token (401): nothing was published.
    Unauthorized { message: String },
    /// Come back at `reset` (Unix seconds).
    RateLimited { reset: i64, message: String },
    /// A timeout, a connection lost after sending, a 5xx, or an answer that makes no sense:
    /// the post may or may not be on the platform.
    Unknown {
        status: Option<u16>,
        message: String,
    },
}

/// LinkedIn's "little text": each reserved character is escaped with a backslash, or LinkedIn
/// cuts the post short at the first one.
pub fn little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '|'
                | '{'
                | '}'
                | '@'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '#'
                | '*'
                | '_'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The sandbox's switches, for integrations to test every outcome.
pub const SANDBOX_REFUSE: &str = "[sandbox:refuse]";
pub const SANDBOX_TIMEOUT: &str = "[sandbox:timeout]";
pub const SANDBOX_RATE_LIMIT: &str = "[sandbox:rate-limit]";

/// Sends `text` as the account `sender`. `first_attempt` says whether this target was never
/// tried before (the sandbox's rate limit answers only the first).
pub async fn send(
    route: &Route<'_>,
    sender: &Sender,
    post_key: &str,
    text: &str,
    first_attempt: bool,
) -> Sent {
    match sender.platform {
        Platform::Sandbox => sandbox(route, sender, post_key, text, first_attempt),
        Platform::X => x(route, sender, text).await,
        Platform::LinkedIn => linkedin(route, sender, text).await,
    }
}

fn sandbox(
    route: &Route<'_>,
    sender: &Sender,
    post_key: &str,
    text: &str,
    first_attempt: bool,
) -> Sent {
    if text.contains(SANDBOX_REFUSE) {
        return Sent::Refused {
            status: Some(400),
            code: "refused".into(),
            message: format!("The sandbox refused the post, as asked by {SANDBOX_REFUSE}."),
        };
    }
    if text.contains(SANDBOX_TIMEOUT) {
        return Sent::Unknown {
            status: None,
            message: format!(
                "The sandbox did not answer in time, as asked by {SANDBOX_TIMEOUT}; the post may or may not be there."
            ),
        };
    }
    if text.contains(SANDBOX_RATE_LIMIT) && first_attempt {
        return Sent::RateLimited {
            reset: crate::domain::now() + 2,
            message: format!("The sandbox answered 429 once, as asked by {SANDBOX_RATE_LIMIT}."),
        };
    }
    let id = format!("sbx_{post_key}");
    let mut url = route.public_url.clone();
    url.set_path(&format!("/sandbox/feed/{}", sender.handle));
    url.set_fragment(Some(&id));
    Sent::Published {
        id,
        url: url.to_string(),
        status: 201,
    }
}

fn endpoint(route: &Route<'_>, path: &str) -> Result<Url, Sent> {
    let Some(api) = route.api else {
        return Err(Sent::Refused {
            status: None,
            code: "not_configured".into(),
            message: "This platform is no longer configured on the service.".into(),
        });
    };
    let mut url = api.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}{path}"));
    Ok(url)
}

fn bearer(sender: &Sender) -> Result<String, Sent> {
    sender
        .access
        .as_ref()
        .map(|t| format!("Bearer {}", t.expose()))
        .ok_or_else(|| Sent::Unauthorized {
            message: "The account has no token; reconnect it.".into(),
        })
}

/// What a failed HTTP exchange means: refused to connect is a definite "not sent"; anything
/// after the request may have left is unknown.
fn transport_failure(e: &reqwest::Error, platform: &str) -> Sent {
    if e.is_connect() {
        return Sent::Refused {
            status: None,
            code: "unreachable".into(),
            message: format!("{platform} could not be reached; nothing was sent. Retry later."),
        };
    }
    let what = if e.is_timeout() {
        "did not answer in time"
    } else {
        "dropped the connection"
    };
    Sent::Unknown {
        status: None,
        message: format!(
            "{platform} {what} after the post was sent; it may or may not be published. Look at the account before retrying."
        ),
    }
}

async fn x(route: &Route<'_>, sender: &Sender, text: &str) -> Sent {
    let (url, auth) = match (endpoint(route, "/2/tweets"), bearer(sender)) {
        (Ok(url), Ok(auth)) => (url, auth),
        (Err(sent), _) | (_, Err(sent)) => return sent,
    };
    let answer = route
        .http
        .post(url)
        .header(reqwest::header::AUTHORIZATION, auth)
        .json(&serde_json::json!({ "text": text }))
        .timeout(route.timeout)
        .send()
        .await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => return transport_failure(&e, "X"),
    };
    let status = response.status();
    let reset = header_number(&response, "x-rate-limit-reset");
    let body: serde_json::Value = match response.json().await {
        Ok(body) => body,
        Err(e) if status.is_success() => return transport_failure(&e, "X"),
        Err(_) => serde_json::Value::Null,
    };
    if status.is_success() {
        return match body["data"]["id"].as_str() {
            Some(id) => Sent::Published {
                url: format!(
                    "https://x.com/{}/status/{id}",
                    sender.handle.trim_start_matches('@')
                ),
                id: id.to_owned(),
                status: status.as_u16(),
            },
            None => Sent::Unknown {
                status: Some(status.as_u16()),
                message: "X answered success without the post's id.".into(),
            },
        };
    }
    let detail = body["detail"]
        .as_str()
        .or(body["title"].as_str())
        .unwrap_or("no detail given")
        .to_owned();
    refusal(status, &detail, "X", reset, |detail| {
        if status == StatusCode::FORBIDDEN && detail.to_lowercase().contains("duplicate content") {
            "duplicate"
        } else {
            "refused"
        }
    })
}

async fn linkedin(route: &Route<'_>, sender: &Sender, text: &str) -> Sent {
    let (url, auth) = match (endpoint(route, "/rest/posts"), bearer(sender)) {
        (Ok(url), Ok(auth)) => (url, auth),
        (Err(sent), _) | (_, Err(sent)) => return sent,
    };
    let body = serde_json::json!({
        "author": format!("urn:li:person:{}", sender.platform_account_id),
        "commentary": little_text(text),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    let answer = route
        .http
        .post(url)
        .header(reqwest::header::AUTHORIZATION, auth)
        .header("LinkedIn-Version", route.linkedin_version)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .timeout(route.timeout)
        .send()
        .await;
    let response = match answer {
        Ok(r) => r,
        Err(e) => return transport_failure(&e, "LinkedIn"),
    };
    let status = response.status();
    let urn = response
        .headers()
        .get("x-restli-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retry_after = header_number(&response, "retry-after").map(|s| crate::domain::now() + s);
    if status.is_success() {
        return match urn {
            Some(urn) => Sent::Published {
                url: format!("https://www.linkedin.com/feed/update/{urn}/"),
                id: urn,
                status: status.as_u16(),
            },
            None => Sent::Unknown {
                status: Some(status.as_u16()),
                message: "LinkedIn answered success without the post's URN.".into(),
            },
        };
    }
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    let detail = body["message"]
        .as_str()
        .unwrap_or("no detail given")
        .to_owned();
    refusal(status, &detail, "LinkedIn", retry_after, |_| {
        if status == StatusCode::UPGRADE_REQUIRED {
            "version_expired"
        } else {
            "refused"
        }
    })
}

/// Sorts a platform's non-success answer.
fn refusal(
    status: StatusCode,
    detail: &str,
    platform: &str,
    reset: Option<i64>,
    code: impl Fn(&str) -> &'static str,
) -> Sent {
    let now = crate::domain::now();
    match status {
        StatusCode::TOO_MANY_REQUESTS => Sent::RateLimited {
            // A reset in the past or absurdly far is bounded: soon, and within a day.
            reset: reset.unwrap_or(now + 60).clamp(now + 1, now + 24 * 3600),
            message: format!("{platform} is rate limiting this account: {detail}"),
        },
        StatusCode::UNAUTHORIZED => Sent::Unauthorized {
            message: format!("{platform} no longer accepts this account's token: {detail}"),
        },
        s if s.is_client_error() => Sent::Refused {
            status: Some(s.as_u16()),
            code: code(detail).into(),
            message: format!("{platform} refused the post ({}): {detail}", s.as_u16()),
        },
        s => Sent::Unknown {
            status: Some(s.as_u16()),
            message: format!(
                "{platform} failed ({}) while taking the post; it may or may not be published: {detail}",
                s.as_u16()
            ),
        },
    }
}

fn header_number(response: &reqwest::Response, name: &str) -> Option<i64> {
    response
        .headers()
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Removes a published post from its platform. A post already gone there counts as removed.
pub async fn take_down(route: &Route<'_>, sender: &Sender, id: &str) -> Result<(), String> {
    let (path, platform) = match sender.platform {
        Platform::Sandbox => return Ok(()),
        Platform::X => (format!("/2/tweets/{id}"), "X"),
        Platform::LinkedIn => (
            format!(
                "/rest/posts/{}",
                url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
            ),
            "LinkedIn",
        ),
    };
    let (url, auth) = match (endpoint(route, &path), bearer(sender)) {
        (Ok(url), Ok(auth)) => (url, auth),
        _ => {
            return Err(format!(
                "{platform} cannot be reached with this account now"
            ));
        }
    };
    let mut request = route
        .http
        .delete(url)
        .header(reqwest::header::AUTHORIZATION, auth)
        .timeout(route.timeout);
    if sender.platform == Platform::LinkedIn {
        request = request
            .header("LinkedIn-Version", route.linkedin_version)
            .header("X-Restli-Protocol-Version", "2.0.0");
    }
    match request.send().await {
        Ok(r) if r.status().is_success() || r.status() == StatusCode::NOT_FOUND => Ok(()),
        Ok(r) => Err(format!(
            "{platform} answered {} to the deletion",
            r.status().as_u16()
        )),
        Err(e) => Err(format!("{platform} could not be reached: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_text_escapes_every_reserved_character_and_nothing_else() {
        assert_eq!(little_text("plain words, é 日本"), "plain words, é 日本");
        assert_eq!(
            little_text(r"a\b|c{d}e@f[g]h(i)j<k>l#m*n_o~p"),
            r"a\\b\|c\{d\}e\@f\[g\]h\(i\)j\<k\>l\#m\*n\_o\~p"
        );
    }
}
