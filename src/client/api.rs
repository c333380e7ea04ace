//! The client's one way to the server: the `/v1` API, with the key as a Bearer token.

use super::ClientError;
use super::settings::{ApiUrl, ClientKey};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Long enough for a platform's slow token exchange behind the server (which gives up at 15 s).
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Api {
    base: ApiUrl,
    key: ClientKey,
    http: reqwest::Client,
}

/// A successful answer: its body exactly as the server sent it, for `--json`.
pub struct Answer {
    pub body: String,
}

impl Answer {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_str(&self.body).map_err(|e| {
            ClientError::Unexpected(format!("the server's answer was not understood ({e})"))
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

impl Api {
    pub fn new(base: ApiUrl, key: ClientKey) -> Result<Self, ClientError> {
        if base.is_plain_http_off_this_machine() {
            eprintln!(
                "warning: {} is plain http on another machine; the API key crosses the network \
                 unencrypted (use https://)",
                base.as_str()
            );
        }
        let http = reqwest::Client::builder()
            // Never carry the key to wherever a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("socializer-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unexpected(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { base, key, http })
    }

    pub async fn get(&self, segments: &[&str]) -> Result<Answer, ClientError> {
        self.send(Method::GET, segments, None).await
    }

    pub async fn post(
        &self,
        segments: &[&str],
        body: &serde_json::Value,
    ) -> Result<Answer, ClientError> {
        self.send(Method::POST, segments, Some(body)).await
    }

    pub async fn delete(&self, segments: &[&str]) -> Result<Answer, ClientError> {
        self.send(Method::DELETE, segments, None).await
    }

    /// GET with a query string, its values encoded.
    pub async fn get_query(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Answer, ClientError> {
        let mut url = self.base.endpoint(&[&["v1"], segments].concat())?;
        url.query_pairs_mut().extend_pairs(query);
        self.exchange(self.http.request(Method::GET, url)).await
    }

    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ClientError> {
        let mut path = vec!["v1"];
        path.extend_from_slice(segments);
        let mut request = self.http.request(method, self.base.endpoint(&path)?);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.exchange(request).await
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Answer, ClientError> {
        let response = request
            // reqwest marks the header sensitive: it never appears in its debug output.
            .bearer_auth(self.key.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return Ok(Answer { body });
        }
        Err(match serde_json::from_str::<Envelope>(&body) {
            Ok(envelope) => ClientError::Api {
                code: envelope.error.code,
                message: envelope.error.message,
            },
            Err(_) => self.not_socializer(status),
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> ClientError {
        let reason = if error.is_timeout() {
            "no answer in time".to_owned()
        } else {
            innermost(error)
        };
        ClientError::Unreachable(format!(
            "cannot reach the Socializer server at {} ({reason}); is it running? Point \
             --api-url or SOCIALIZER_API_URL at it",
            self.base.as_str()
        ))
    }

    /// An answer without the API's error envelope: something else is listening at that URL.
    fn not_socializer(&self, status: StatusCode) -> ClientError {
        ClientError::Unexpected(format!(
            "{} answered HTTP {status} without a Socializer error; is it a Socializer server?",
            self.base.as_str()
        ))
    }
}

/// The deepest cause, which names what actually went wrong ("Connection refused").
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}
