//! Domain values, each checked once where it enters the system and trusted afterwards.

mod account_status;
mod email;
mod ids;
mod key_mode;
mod key_scope;
mod key_terms;
mod local_path;
mod named_enum;
mod password;
mod plan;
mod platform;
mod post_state;
mod redirect_uri;
mod role;
mod stored;
pub mod text;
mod time_zone;
mod webhook;
mod workspace_name;

pub use account_status::AccountStatus;
pub use email::Email;
pub use ids::{
    AccountId, ApiKeyId, InvitationId, PostId, SessionId, TargetId, UserId, WebhookDeliveryId,
    WebhookEndpointId, WebhookEventId, WorkspaceId,
};
pub use key_mode::{KeyMode, LIVE_PREFIX, TEST_PREFIX};
pub use key_scope::{Scope, Scopes};
pub use key_terms::{
    ExpiryDays, GraceHours, KeyLabel, MAX_EXPIRY_DAYS, MAX_GRACE_HOURS, MAX_LABEL_CHARS,
};
pub use local_path::LocalPath;
pub use password::Password;
pub use plan::Plan;
pub use platform::Platform;
pub use post_state::{AttemptOutcome, PostState, TargetState};
pub use redirect_uri::{MAX_REDIRECT_URI_BYTES, RedirectUri};
pub use role::{Action, Role};
pub use stored::UnknownStoredValue;
pub use time_zone::TimeZoneName;
pub use webhook::{
    DeliveryState, DisabledReason, EndpointState, EventType, EventTypes, MAX_DESCRIPTION_CHARS,
    WebhookDescription, WebhookEvent, WebhookUrl,
};
pub use workspace_name::WorkspaceName;

/// Why a value was refused, in words fit to show the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The current time as unix seconds, the form every timestamp is stored in.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
