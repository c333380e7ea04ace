use super::Invalid;

crate::named_enum! {
    /// What a key may do.
    #[derive(Hash, PartialOrd, Ord)]
    pub enum Scope {
        AccountsRead = "accounts:read",
        AccountsWrite = "accounts:write",
        KeysRead = "keys:read",
        KeysWrite = "keys:write",
        WorkspaceRead = "workspace:read",
        PostsRead = "posts:read",
        PostsWrite = "posts:write",
        WebhooksRead = "webhooks:read",
        WebhooksWrite = "webhooks:write",
    }
}

impl Scope {
    /// What the scope lets a key do, in a line, for the form that grants it.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::AccountsRead => "See the connected accounts and check their state.",
            Scope::AccountsWrite => "Connect and disconnect accounts.",
            Scope::KeysRead => "List the workspace's API keys.",
            Scope::KeysWrite => "Create, roll and revoke API keys (never beyond its own powers).",
            Scope::WorkspaceRead => "Read the workspace, its members and its audit log.",
            Scope::PostsRead => "See posts and how their delivery went.",
            Scope::PostsWrite => "Publish, schedule, edit, cancel, retry and delete posts.",
            Scope::WebhooksRead => "See the webhook endpoints and their deliveries.",
            Scope::WebhooksWrite => {
                "Add, change, remove and test webhook endpoints; resend deliveries."
            }
        }
    }
}

/// A key's scopes. Empty means full access.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Default,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses the scope names a person or program asked for; unknown names are refused.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Self, Invalid> {
        let mut scopes = Vec::new();
        // Each name exactly as written: an empty or padded name is not a scope (the API's
        // document lists the spellings, and a form sends one name per ticked box).
        for name in names {
            let name = name.as_ref();
            let scope = Scope::parse(name).ok_or_else(|| {
                Invalid::new(
                    "scopes",
                    format!(
                        "Unknown scope {name:?}; known scopes: {}.",
                        Self::all_names().join(" ")
                    ),
                )
            })?;
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        Ok(Self(scopes))
    }

    /// The stored form: space-separated names, each one known.
    pub fn from_stored(raw: &str) -> Result<Self, super::UnknownStoredValue> {
        let mut scopes = raw
            .split_whitespace()
            .map(|name| {
                Scope::parse(name).ok_or_else(|| super::UnknownStoredValue {
                    what: "scope",
                    value: name.to_owned(),
                })
            })
            .collect::<Result<Vec<Scope>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(Self(scopes))
    }

    pub fn to_stored(&self) -> String {
        self.names().join(" ")
    }

    pub fn is_full_access(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.0.is_empty() || self.0.contains(&scope)
    }

    /// True when every power of `other` is also one of ours.
    pub fn covers(&self, other: &Scopes) -> bool {
        self.is_full_access()
            || (!other.is_full_access() && other.0.iter().all(|s| self.0.contains(s)))
    }

    /// The names of the scopes as listed (empty for full access).
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.as_str()).collect()
    }

    /// Full access: no scope named.
    pub fn full() -> Self {
        Self(Vec::new())
    }

    fn all_names() -> Vec<&'static str> {
        Scope::ALL.iter().map(|s| s.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_full_access() {
        let full = Scopes::parse_list::<&str>(&[]).unwrap();
        assert!(Scope::ALL.iter().all(|s| full.allows(*s)));
        let some = Scopes::parse_list(&["keys:read", "keys:read", "accounts:read"]).unwrap();
        assert_eq!(some.to_stored(), "accounts:read keys:read");
        assert!(!some.allows(Scope::KeysWrite));
        assert!(full.covers(&some) && !some.covers(&full));
        assert!(Scopes::parse_list(&["keys:admin"]).is_err());
        // An empty or padded name is no scope (schemathesis found "" taken as nothing).
        assert!(Scopes::parse_list(&[""]).is_err());
        assert!(Scopes::parse_list(&[" accounts:read "]).is_err());
        assert_eq!(Scopes::from_stored(&some.to_stored()).unwrap(), some);
        // A stored name this version does not know is an error, not a scope quietly dropped.
        assert!(Scopes::from_stored("keys:read keys:admin").is_err());
    }
}
