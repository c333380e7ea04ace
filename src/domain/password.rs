use super::Invalid;
use std::fmt;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password as typed. Its `Debug` hides it, so it cannot reach a log by accident.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// A new password must meet the length rules (`MIN_PASSWORD_CHARS` to `MAX_PASSWORD_CHARS` characters).
    pub fn new_password(raw: String) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(Invalid::new(
                "password",
                format!("Use at least {MIN_PASSWORD_CHARS} characters for your password."),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(Invalid::new(
                "password",
                format!("Use at most {MAX_PASSWORD_CHARS} characters for your password."),
            ));
        }
        // No keyboard types these, and a NUL cuts the password short in some tools that might
        // one day read it: refused rather than stored as a password nobody can type again.
        if raw.chars().any(char::is_control) {
            return Err(Invalid::new(
                "password",
                "A password cannot contain control characters (such as tabs or line breaks).",
            ));
        }
        Ok(Self(raw))
    }

    /// A password offered at sign-in is only checked against the stored hash; anything longer
    /// than a valid password could be is cut off, so it cannot make the hash work unbounded.
    pub fn attempt(raw: String) -> Self {
        Self(raw.chars().take(MAX_PASSWORD_CHARS + 1).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules_count_characters() {
        assert!(Password::new_password("short".into()).is_err());
        assert!(Password::new_password("ééééééééé".into()).is_err());
        assert!(Password::new_password("éééééééééé".into()).is_ok());
        assert!(Password::new_password("x".repeat(256)).is_ok());
        assert!(Password::new_password("x".repeat(257)).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in [
            "\0".repeat(12),
            format!("{}\n", "x".repeat(11)),
            "tab\tseparated".into(),
        ] {
            assert!(Password::new_password(bad.clone()).is_err(), "{bad:?}");
        }
        assert!(Password::new_password("spaces are fine here".into()).is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::attempt("correct horse battery".into());
        assert!(!format!("{p:?}").contains("horse"));
    }
}
