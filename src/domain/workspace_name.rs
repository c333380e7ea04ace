use super::{Email, Invalid};
use std::fmt;

pub const MAX_WORKSPACE_NAME_CHARS: usize = 100;

/// A workspace's display name: 1 to 100 visible characters, trimmed, in Unicode NFC.
#[derive(
    Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = super::text::nfc(raw.trim());
        let name = name.as_str();
        if name.is_empty() {
            return Err(Invalid::new("workspace", "Give the workspace a name."));
        }
        if name.chars().count() > MAX_WORKSPACE_NAME_CHARS {
            return Err(Invalid::new(
                "workspace",
                format!(
                    "Keep the workspace name to {MAX_WORKSPACE_NAME_CHARS} characters or fewer."
                ),
            ));
        }
        if super::text::has_invisible(name) || !super::text::has_visible(name) {
            return Err(Invalid::new(
                "workspace",
                "The workspace name cannot contain control, invisible or text-direction characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name a sign-up gets when none was given: "alice's workspace" for alice@example.com.
    pub fn default_for(email: &Email) -> Self {
        let local: String = email.local_part().chars().take(80).collect();
        Self(format!("{local}'s workspace"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkspaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds_names() {
        assert_eq!(
            WorkspaceName::parse("  Acme ").map(|n| n.0),
            Ok("Acme".to_owned())
        );
        assert!(WorkspaceName::parse("   ").is_err());
        assert!(WorkspaceName::parse(&"a".repeat(101)).is_err());
        assert!(WorkspaceName::parse("a\u{0}b").is_err());
        assert!(WorkspaceName::parse("Acme \u{202E}gnp.exe").is_err());
        assert!(WorkspaceName::parse("Ac\u{200B}me").is_err());
        assert!(WorkspaceName::parse("\u{301}\u{301}").is_err());
        assert_eq!(
            WorkspaceName::parse("Caf\u{65}\u{301}").map(|n| n.0),
            Ok("Caf\u{e9}".to_owned())
        );
    }

    #[test]
    fn default_name_comes_from_the_email() {
        let email = Email::parse("alice@example.com").map(|e| WorkspaceName::default_for(&e).0);
        assert_eq!(email, Ok("alice's workspace".to_owned()));
    }
}
