//! The parts of the API's answers that the client shows. Fields it does not show are
//! ignored, so a newer server's additions do not break an older client.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Status {
    pub workspace: Workspace,
    pub key: StatusKey,
    pub rate_limit: RateLimit,
}

#[derive(Debug, Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub plan: String,
}

#[derive(Debug, Deserialize)]
pub struct StatusKey {
    pub id: String,
    pub label: String,
    pub mode: String,
    pub scopes: Vec<String>,
    pub last4: String,
}

#[derive(Debug, Deserialize)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}

#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct Account {
    pub id: String,
    pub platform: String,
    pub handle: String,
    pub display_name: String,
    pub status: String,
    pub connected_at: String,
    pub token_expires_at: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Key {
    pub id: String,
    pub label: String,
    pub mode: String,
    pub scopes: Vec<String>,
    pub last4: String,
    pub state: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Only in the answer that creates the key.
    pub plaintext: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ConnectStart {
    pub auth_url: String,
}

#[derive(Debug, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub joined_at: String,
}

#[derive(Debug, Deserialize)]
pub struct Post {
    pub id: String,
    pub state: String,
    pub text: String,
    pub publish_at: String,
    pub targets: Vec<Target>,
}

#[derive(Debug, Deserialize)]
pub struct Target {
    pub account_id: String,
    pub platform: String,
    pub handle: Option<String>,
    pub state: String,
    pub url: Option<String>,
    pub error: Option<TargetError>,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Deserialize)]
pub struct TargetError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct Attempt {
    pub started_at: String,
    pub outcome: String,
    pub status_code: Option<i32>,
    pub detail: Option<String>,
}

impl Target {
    /// Still on its way: scheduled (perhaps again, after a rate limit) or being sent.
    pub fn is_pending(&self) -> bool {
        matches!(self.state.as_str(), "scheduled" | "publishing")
    }
}
