use std::fmt;

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh random id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, hex::encode(random_id_bytes())))
            }

            /// Accepts only what `generate` could have produced, so a hand-typed or hostile
            /// id is refused before it reaches a query.
            pub fn parse(raw: &str) -> Option<Self> {
                let rest = raw.strip_prefix($prefix)?;
                (rest.len() == 32 && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                    .then(|| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// A workspace (tenant).
    WorkspaceId,
    "ws_"
);
opaque_id!(
    /// A person's account.
    UserId,
    "usr_"
);
opaque_id!(
    /// An API key's public id (never the key itself).
    ApiKeyId,
    "key_"
);
opaque_id!(
    /// A connected social account.
    AccountId,
    "acc_"
);
opaque_id!(
    /// An invitation to join a workspace (never its link's secret).
    InvitationId,
    "inv_"
);
opaque_id!(
    /// The public name of a session (never the cookie's secret key).
    SessionId,
    "ses_"
);
opaque_id!(
    /// A post: text written once for one or more accounts.
    PostId,
    "post_"
);
opaque_id!(
    /// One account's delivery of a post.
    TargetId,
    "tgt_"
);

opaque_id!(
    /// An address a workspace's events are sent to.
    WebhookEndpointId,
    "whe_"
);
opaque_id!(
    /// One event, as every delivery of it names it in `webhook-id`.
    WebhookEventId,
    "msg_"
);
opaque_id!(
    /// One event's delivery to one endpoint.
    WebhookDeliveryId,
    "whd_"
);

/// 128 bits from the operating system's generator: an id nobody can guess or count. Without
/// the generator nothing the service makes is safe, so its failure stops the process (as in
/// `crypto::random_bytes`).
#[allow(clippy::expect_used)]
fn random_id_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_foreign_ones_do_not() {
        let id = WorkspaceId::generate();
        assert_eq!(WorkspaceId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(UserId::parse(id.as_str()), None);
        assert_eq!(WorkspaceId::parse("ws_1' OR 1=1 --"), None);
        assert_eq!(WorkspaceId::parse(""), None);
        assert_ne!(WorkspaceId::generate(), WorkspaceId::generate());
    }
}
