//! What a webhook endpoint is made of, each part checked once where it arrives: its address,
//! its description, the event types it wants.

use super::{Invalid, text};
use std::net::IpAddr;
use url::{Host, Url};

pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// Longer addresses are refused: no receiver needs one, and each is stored and shown.
const MAX_URL_BYTES: usize = 2000;

crate::named_enum! {
    /// What happened, as a webhook's `type` names it.
    #[derive(Hash, PartialOrd, Ord)]
    pub enum EventType {
        PostPublished = "post.published",
        PostFailed = "post.failed",
        PostUnknown = "post.unknown",
        AccountConnected = "account.connected",
        AccountDisconnected = "account.disconnected",
        AccountExpired = "account.expired",
        AccountRevoked = "account.revoked",
        KeyRevoked = "key.revoked",
        MemberJoined = "member.joined",
        MemberRemoved = "member.removed",
        WebhookTest = "webhook.test",
    }
}

crate::named_enum! {
    pub enum EndpointState {
        Enabled = "enabled",
        Disabled = "disabled",
    }
}

crate::named_enum! {
    /// Why an endpoint is disabled.
    pub enum DisabledReason {
        /// Someone turned it off.
        ByPerson = "by_person",
        /// The receiver answered 410 Gone.
        Gone = "gone",
        /// Every delivery failed for five days.
        Failing = "failing",
    }
}

impl DisabledReason {
    pub fn describe(self) -> &'static str {
        match self {
            DisabledReason::ByPerson => "Disabled by a person.",
            DisabledReason::Gone => "Disabled: the receiver answered 410 Gone.",
            DisabledReason::Failing => "Disabled: every delivery failed for five days.",
        }
    }
}

crate::named_enum! {
    /// Where one event's delivery to one endpoint stands.
    pub enum DeliveryState {
        /// Waiting for its first attempt or its next retry.
        Pending = "pending",
        /// Being sent by a server process now.
        Delivering = "delivering",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Every attempt of the schedule failed.
        Failed = "failed",
    }
}

/// The event types an endpoint wants: every type, or the ones named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypes {
    All,
    Only(Vec<EventType>),
}

impl EventTypes {
    /// The names a person or program asked for: none means every type; unknown names are
    /// refused, naming the known ones.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Self, Invalid> {
        if names.is_empty() {
            return Ok(Self::All);
        }
        let mut types = Vec::new();
        for name in names {
            let name = name.as_ref();
            let found = EventType::parse(name).ok_or_else(|| {
                Invalid::new(
                    "event_types",
                    format!(
                        "Unknown event type {name:?}; known types: {}.",
                        EventType::ALL.map(EventType::as_str).join(" ")
                    ),
                )
            })?;
            types.push(found);
        }
        types.sort();
        types.dedup();
        Ok(Self::Only(types))
    }

    /// The stored form: `*`, or space-separated names.
    pub fn from_stored(raw: &str) -> Result<Self, super::UnknownStoredValue> {
        if raw == "*" {
            return Ok(Self::All);
        }
        raw.split_whitespace()
            .map(|name| {
                EventType::parse(name).ok_or_else(|| super::UnknownStoredValue {
                    what: "event type",
                    value: name.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self::Only)
    }

    pub fn to_stored(&self) -> String {
        match self {
            Self::All => "*".to_owned(),
            Self::Only(types) => types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    pub fn wants(&self, event: EventType) -> bool {
        match self {
            Self::All => true,
            Self::Only(types) => types.contains(&event),
        }
    }

    /// The names as listed (empty for every type).
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => Vec::new(),
            Self::Only(types) => types.iter().map(|t| t.as_str()).collect(),
        }
    }
}

/// A receiver's address: `https://` (or `http://` outside production), with a host, without
/// credentials or a fragment, on a real port. Where the host points is checked separately, on
/// every delivery (`webhooks::address`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(raw: &str, require_https: bool) -> Result<Self, Invalid> {
        let bad = |message: &str| Invalid::new("url", message);
        if raw.len() > MAX_URL_BYTES {
            return Err(bad("The URL is too long (2000 bytes at most)."));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("The URL cannot contain spaces or control characters."));
        }
        let url = Url::parse(raw).map_err(|e| bad(&format!("This is not a URL: {e}.")))?;
        match url.scheme() {
            "https" => {}
            "http" if !require_https => {}
            "http" => return Err(bad("The URL must start with https://.")),
            _ => {
                return Err(bad(
                    "The URL must start with https:// (or http:// in development).",
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "The URL cannot carry a user name or password; put a secret in the path, or rely on the signature.",
            ));
        }
        if url.fragment().is_some() {
            return Err(bad("The URL cannot have a #fragment: it is never sent."));
        }
        if url.host().is_none() {
            return Err(bad("The URL needs a host."));
        }
        if url.port() == Some(0) {
            return Err(bad("The URL's port cannot be 0."));
        }
        Ok(Self(url))
    }

    /// Reads back a stored address without the production rule (it held when stored).
    pub fn from_stored(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw, false)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The host when it is a name to resolve; `None` for an address written as such.
    pub fn domain(&self) -> Option<&str> {
        match self.0.host() {
            Some(Host::Domain(name)) => Some(name),
            _ => None,
        }
    }

    /// The address when the host is written as one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.0.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        }
    }

    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }
}

/// One event as a webhook reports it: its type, its mode, and what it is about. Never a secret
/// or a token: the builders below take only ids, names and states.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event_type: EventType,
    pub mode: super::KeyMode,
    pub data: serde_json::Value,
}

impl WebhookEvent {
    pub fn new(event_type: EventType, mode: super::KeyMode, data: serde_json::Value) -> Self {
        Self {
            event_type,
            mode,
            data,
        }
    }

    /// An account connected, disconnected, found expired or revoked.
    pub fn account(
        event_type: EventType,
        mode: super::KeyMode,
        id: &super::AccountId,
        platform: super::Platform,
        handle: &str,
    ) -> Self {
        Self::new(
            event_type,
            mode,
            serde_json::json!({
                "account_id": id.as_str(),
                "platform": platform.as_str(),
                "handle": handle,
            }),
        )
    }

    /// A key revoked: `reason` is `by_person` (revoked itself), `parent_revoked` (the key
    /// that made it was), `creator_departed` (its creator left or was removed) or `leaked`.
    pub fn key_revoked(
        mode: super::KeyMode,
        id: &super::ApiKeyId,
        label: &str,
        last4: &str,
        reason: &str,
    ) -> Self {
        Self::new(
            EventType::KeyRevoked,
            mode,
            serde_json::json!({
                "key_id": id.as_str(),
                "label": label,
                "last4": last4,
                "reason": reason,
            }),
        )
    }

    /// A member joined, or was removed (`reason`: `removed` or `left`). Members are not of a
    /// mode: these are live events.
    pub fn member(
        event_type: EventType,
        user: &super::UserId,
        email: &str,
        role: super::Role,
        reason: Option<&str>,
    ) -> Self {
        let mut data = serde_json::json!({
            "user_id": user.as_str(),
            "email": email,
            "role": role.as_str(),
        });
        if let Some(reason) = reason {
            data["reason"] = reason.into();
        }
        Self::new(event_type, super::KeyMode::Live, data)
    }

    /// How one target of a post ended: `post.published`, `post.failed` or `post.unknown`
    /// (`None` for any other state: no event).
    #[allow(clippy::too_many_arguments)]
    pub fn post_target(
        mode: super::KeyMode,
        post: &super::PostId,
        target: &super::TargetId,
        account: &super::AccountId,
        platform: super::Platform,
        state: super::TargetState,
        url: Option<&str>,
        error: Option<(&str, &str)>,
    ) -> Option<Self> {
        let event_type = match state {
            super::TargetState::Published => EventType::PostPublished,
            super::TargetState::Failed => EventType::PostFailed,
            super::TargetState::Unknown => EventType::PostUnknown,
            _ => return None,
        };
        let mut data = serde_json::json!({
            "post_id": post.as_str(),
            "target_id": target.as_str(),
            "account_id": account.as_str(),
            "platform": platform.as_str(),
            "state": state.as_str(),
        });
        if let Some(url) = url {
            data["url"] = url.into();
        }
        if let Some((code, message)) = error {
            data["error"] = serde_json::json!({"code": code, "message": message});
        }
        Some(Self::new(event_type, mode, data))
    }

    /// The body as sent: `{"type", "timestamp", "livemode", "data"}`.
    pub fn body(&self, at: i64) -> String {
        serde_json::json!({
            "type": self.event_type.as_str(),
            "timestamp": rfc3339(at),
            "livemode": self.mode == super::KeyMode::Live,
            "data": self.data,
        })
        .to_string()
    }
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// What the endpoint is for, in the team's words: up to 200 characters, no control or
/// invisible characters; may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookDescription(String);

impl WebhookDescription {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let refused = || {
            Invalid::new(
                "description",
                "The description cannot contain control, invisible or text-direction characters.",
            )
        };
        if raw.chars().any(char::is_control) {
            return Err(refused());
        }
        let description = text::nfc(raw.trim());
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(Invalid::new(
                "description",
                format!(
                    "The description is too long ({MAX_DESCRIPTION_CHARS} characters at most)."
                ),
            ));
        }
        if text::has_invisible(&description) {
            return Err(refused());
        }
        Ok(Self(description))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_for_what_no_receiver_needs() {
        assert!(WebhookUrl::parse("https://hooks.example.com/in", true).is_ok());
        assert!(WebhookUrl::parse("http://hooks.example.com/in", false).is_ok());
        for bad in [
            "http://hooks.example.com/in",
            "https://user:pass@hooks.example.com/",
            "https://hooks.example.com/#part",
            "https://hooks.example.com:0/",
            "ftp://hooks.example.com/",
            "https://hooks.example.com/a b",
            "javascript:alert(1)",
        ] {
            assert!(WebhookUrl::parse(bad, true).is_err(), "{bad}");
        }
        assert!(
            WebhookUrl::parse(&format!("https://a.example/{}", "a".repeat(2000)), true).is_err()
        );
        let literal = WebhookUrl::parse("https://[::1]:8443/x", true).unwrap();
        assert_eq!(literal.ip(), Some("::1".parse().unwrap()));
        assert_eq!(literal.port(), 8443);
    }

    #[test]
    fn event_types_are_named_exactly() {
        assert_eq!(
            EventTypes::parse_list::<&str>(&[]).unwrap(),
            EventTypes::All
        );
        let some =
            EventTypes::parse_list(&["post.failed", "post.published", "post.failed"]).unwrap();
        assert_eq!(some.to_stored(), "post.published post.failed");
        assert!(some.wants(EventType::PostFailed) && !some.wants(EventType::KeyRevoked));
        assert_eq!(EventTypes::from_stored(&some.to_stored()).unwrap(), some);
        assert_eq!(EventTypes::from_stored("*").unwrap(), EventTypes::All);
        assert!(EventTypes::parse_list(&["post.*"]).is_err());
        assert!(EventTypes::parse_list(&[""]).is_err());
    }

    #[test]
    fn descriptions_keep_out_what_cannot_be_seen() {
        assert_eq!(
            WebhookDescription::parse("  CRM sync ").unwrap().as_str(),
            "CRM sync"
        );
        assert!(WebhookDescription::parse("").is_ok());
        assert!(WebhookDescription::parse("a\u{202e}b").is_err());
        assert!(WebhookDescription::parse("a\nb").is_err());
        assert!(WebhookDescription::parse(&"x".repeat(10_000)).is_err());
    }
}
