//! Domain values stored as text columns. Each is written from its canonical spelling and read
//! back through its own parser, so queries take and return the domain type itself, and a stored
//! value this version of the service does not know fails the read loudly
//! ([`UnknownStoredValue`]) instead of being skipped or guessed at.
//!
//! The types carry `#[derive(AsExpression, FromSqlRow)]` with `sql_type = Text`; the
//! conversions live here, next to the backend they convert for.

use super::{MultiBackend, MultiRawValue};
use crate::domain::KeyMode;
use crate::domain::{
    AccountId, ApiKeyId, Email, InvitationId, Plan, Role, Scopes, SessionId, UnknownStoredValue,
    UserId, WorkspaceId, WorkspaceName,
};
use crate::domain::{
    AccountStatus, AttemptOutcome, Platform, PostId, PostState, TargetId, TargetState,
};
use crate::domain::{
    DeliveryState, DisabledReason, EndpointState, EventType, WebhookDeliveryId, WebhookEndpointId,
    WebhookEventId,
};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use std::io::Write as _;

/// `ToSql`/`FromSql` over `Text` for a type with `as_str()`, read back with `$parse`, a function
/// from `&str` to `Option<Self>`.
macro_rules! text_column {
    ($ty:ty, $what:literal, $parse:expr) => {
        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self.as_str()));
                Ok(IsNull::No)
            }
        }

        // Each backend's own binding too, so that `eq_any` can bind a list of them (an array on
        // PostgreSQL).
        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: MultiRawValue<'_>) -> deserialize::Result<Self> {
                let value = bytes.from_sql::<String, Text>()?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                match parse(&value) {
                    Some(parsed) => Ok(parsed),
                    None => Err(Box::new(UnknownStoredValue { what: $what, value })),
                }
            }
        }
    };
}

text_column!(WorkspaceId, "workspace id", WorkspaceId::parse);
text_column!(UserId, "user id", UserId::parse);
text_column!(ApiKeyId, "API key id", ApiKeyId::parse);
text_column!(AccountId, "account id", AccountId::parse);
text_column!(SessionId, "session id", SessionId::parse);
text_column!(InvitationId, "invitation id", InvitationId::parse);
text_column!(Email, "email address", |raw| Email::parse(raw).ok());
text_column!(WorkspaceName, "workspace name", |raw| {
    WorkspaceName::parse(raw).ok()
});
text_column!(KeyMode, "key mode", KeyMode::parse);
text_column!(Plan, "plan", Plan::parse);
text_column!(Role, "role", Role::parse);
text_column!(Platform, "platform", Platform::parse);
text_column!(AccountStatus, "account status", AccountStatus::parse);
text_column!(PostId, "post id", PostId::parse);
text_column!(TargetId, "post target id", TargetId::parse);
text_column!(TargetState, "target state", TargetState::parse);
text_column!(PostState, "post state", PostState::parse);
text_column!(AttemptOutcome, "attempt outcome", AttemptOutcome::parse);
text_column!(
    WebhookEndpointId,
    "webhook endpoint id",
    WebhookEndpointId::parse
);
text_column!(WebhookEventId, "webhook event id", WebhookEventId::parse);
text_column!(
    WebhookDeliveryId,
    "webhook delivery id",
    WebhookDeliveryId::parse
);
text_column!(EventType, "event type", EventType::parse);
text_column!(
    EndpointState,
    "webhook endpoint state",
    EndpointState::parse
);
text_column!(
    DisabledReason,
    "webhook disabled reason",
    DisabledReason::parse
);
text_column!(
    DeliveryState,
    "webhook delivery state",
    DeliveryState::parse
);

// A set of scopes has no borrowed spelling to bind, so each backend gets the owned one.
impl ToSql<Text, MultiBackend> for Scopes {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Sqlite> for Scopes {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_stored());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for Scopes {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.to_stored().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Text, MultiBackend> for Scopes {
    fn from_sql(bytes: MultiRawValue<'_>) -> deserialize::Result<Self> {
        let value = bytes.from_sql::<String, Text>()?;
        Ok(Scopes::from_stored(&value)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DbConnection, DbError};
    use super::*;
    use diesel::prelude::*;

    fn sqlite() -> DbConnection {
        DbConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap())
    }

    /// Reads `stored` back as a `T`, as a query over a column holding it would.
    fn read<T>(stored: &str) -> Result<T, DbError>
    where
        T: diesel::deserialize::FromSqlRow<Text, MultiBackend> + 'static,
    {
        Ok(diesel::select(stored.into_sql::<Text>()).get_result::<T>(&mut sqlite())?)
    }

    #[test]
    fn domain_values_are_bound_as_their_spelling_and_read_back_as_themselves() {
        let id = WorkspaceId::generate();
        let bound: String = diesel::select(id.clone().into_sql::<Text>())
            .get_result(&mut sqlite())
            .unwrap();
        assert_eq!(bound, id.as_str());
        assert_eq!(read::<WorkspaceId>(&bound).unwrap(), id);

        let scopes = Scopes::parse_list(&["keys:read", "accounts:write"]).unwrap();
        let bound: String = diesel::select(scopes.clone().into_sql::<Text>())
            .get_result(&mut sqlite())
            .unwrap();
        assert_eq!(bound, scopes.to_stored());
        assert_eq!(read::<Scopes>(&bound).unwrap(), scopes);

        assert_eq!(read::<KeyMode>("test").unwrap(), KeyMode::Test);
    }

    #[test]
    fn a_stored_text_the_type_refuses_is_an_unknown_value() {
        for (stored, outcome) in [
            ("ws_not-hex", read::<WorkspaceId>("ws_not-hex").map(drop)),
            ("staging", read::<KeyMode>("staging").map(drop)),
            ("keys:admin", read::<Scopes>("keys:admin").map(drop)),
            ("", read::<Email>("").map(drop)),
        ] {
            match outcome {
                Err(DbError::Unknown(unknown)) => assert_eq!(unknown.value, stored),
                other => panic!("{stored:?} was read as {other:?}"),
            }
        }
    }
}
