//! Who made a change, as the log names them.

use crate::domain::{ApiKeyId, Email, KeyMode, UserId};

/// Who made a change.
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: UserId,
        email: Email,
    },
    Key {
        id: ApiKeyId,
        mode: KeyMode,
        last4: String,
    },
    /// Someone running an operator's command (`socializer workspace plan`).
    Operator,
    /// The service itself (the background token refresher).
    Service,
}

/// An actor and the client address the change came from (none for operators and the service).
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: Actor,
    pub address: Option<String>,
}

impl Who {
    pub fn user(id: UserId, email: Email, address: impl Into<String>) -> Self {
        Who {
            actor: Actor::User { id, email },
            address: Some(address.into()),
        }
    }

    pub fn operator() -> Self {
        Who {
            actor: Actor::Operator,
            address: None,
        }
    }

    pub fn service() -> Self {
        Who {
            actor: Actor::Service,
            address: None,
        }
    }

    /// The user behind the change, if a person made it themselves.
    pub fn user_id(&self) -> Option<&UserId> {
        match &self.actor {
            Actor::User { id, .. } => Some(id),
            _ => None,
        }
    }
}

impl Actor {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::Key { .. } => "key",
            Actor::Operator => "operator",
            Actor::Service => "service",
        }
    }

    pub(super) fn id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id.as_str()),
            Actor::Key { id, .. } => Some(id.as_str()),
            Actor::Operator | Actor::Service => None,
        }
    }

    /// How the actor is named to people: an email, a masked key, "operator", "Socializer".
    pub fn name(&self) -> String {
        match self {
            Actor::User { email, .. } => email.to_string(),
            Actor::Key { mode, last4, .. } => masked_key(*mode, last4),
            Actor::Operator => "operator".into(),
            Actor::Service => "Socializer".into(),
        }
    }
}

/// `sk_live_…a1b2`: how a key is named in the log.
pub fn masked_key(mode: KeyMode, last4: &str) -> String {
    format!("sk_{}_…{last4}", mode.as_str())
}
