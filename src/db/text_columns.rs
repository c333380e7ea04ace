//! Domain values stored as text columns. Each is written from its canonical spelling and read
//! back through its own parser, so queries take and return the domain type itself, and a stored
//! value this version of the service does not know fails the read loudly
//! ([`UnknownStoredValue`]) instead of being skipped or guessed at.
//!
//! The types carry `#[derive(AsExpression, FromSqlRow)]` with `sql_type = Text`; the
//! conversions live here, next to the backend they convert for.

use super::{MultiBackend, MultiRawValue};
use crate::auth::api_key::KeyMode;
use crate::connect::{AccountStatus, Platform};
use crate::domain::{
    AccountId, ApiKeyId, Email, Plan, Role, Scopes, SessionId, UnknownStoredValue, UserId,
    WorkspaceId, WorkspaceName,
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
text_column!(Email, "email address", |raw| Email::parse(raw).ok());
text_column!(WorkspaceName, "workspace name", |raw| {
    WorkspaceName::parse(raw).ok()
});
text_column!(KeyMode, "key mode", KeyMode::parse);
text_column!(Plan, "plan", Plan::parse);
text_column!(Role, "role", Role::parse);
text_column!(Platform, "platform", Platform::parse);
text_column!(AccountStatus, "account status", AccountStatus::parse);

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
