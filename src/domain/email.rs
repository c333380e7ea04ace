use super::Invalid;
use std::fmt;

/// An email address, trimmed and case-folded in Unicode NFC, so that one address typed in
/// different cases or with composed and decomposed accents is one account. Addresses
/// with invisible or bidirectional control characters are refused, and so are addresses the
/// mailer could not send to (an account that can never be verified is of no use).
#[derive(
    Clone, PartialEq, Eq, Hash, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = super::text::fold(raw.trim());
        let invalid = || {
            Invalid::new(
                "email",
                "Enter a valid email address, like name@example.com.",
            )
        };
        if email.is_empty() || email.len() > 254 {
            return Err(invalid());
        }
        // Checked as typed: the domain's conversion below would quietly drop some of them.
        if email.chars().any(super::text::is_invisible) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        // The domain in the ASCII form mail travels in, so that one mailbox is one account
        // however its domain was typed (`münchen`, `xn--mnchen-3ya`, `ⓔxample`).
        let domain = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
        if !domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(invalid());
        }
        let email = format!("{local}@{domain}");
        let domain = domain.as_str();
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && !email.chars().any(|c| {
                c.is_whitespace() || super::text::is_invisible(c) || "<>()[],;:\\\"".contains(c)
            });
        if well_formed && email.parse::<lettre::Address>().is_ok() {
            Ok(Self(email))
        } else {
            Err(invalid())
        }
    }

    /// An address no account has (`.invalid` is reserved), standing in for a malformed one
    /// where the work must go on as if it were real.
    pub(crate) fn placeholder() -> Self {
        Self("invalid@invalid.invalid".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Alice@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("alice@example.com".to_owned()));
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@b.com",
            "a@.example.com",
            "a@example..com",
            "<a@example.com>",
            "a@exa\nmple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn one_address_in_every_spelling_and_none_with_hidden_characters() {
        let composed = Email::parse("Ren\u{e9}@example.com").unwrap();
        let decomposed = Email::parse("RENE\u{301}@Example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(composed.as_str(), "ren\u{e9}@example.com");
        assert_eq!(
            Email::parse("a@m\u{fc}nchen.example").unwrap(),
            Email::parse("A@xn--mnchen-3ya.example").unwrap()
        );
        assert_eq!(
            Email::parse("a@\u{24d4}xample.com").unwrap(),
            Email::parse("a@example.com").unwrap()
        );
        assert!(Email::parse("a@x_y.example").is_err());
        for hidden in [
            "al\u{200B}ice@example.com",
            "alice@exam\u{200D}ple.com",
            "\u{202E}alice@example.com",
            "alice\u{FEFF}@example.com",
            "ali\u{AD}ce@example.com",
            "alice@exa\u{200B}mple.com",
        ] {
            assert!(Email::parse(hidden).is_err(), "{hidden:?} was accepted");
        }
    }
}
