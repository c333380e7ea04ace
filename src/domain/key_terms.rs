//! What a person or a program asks of a new key, each part checked once where it arrives: its
//! label, how many days it lives, how many hours a rolled key keeps working.

use super::{Invalid, KeyMode, text};

pub const MAX_LABEL_CHARS: usize = 100;
pub const MAX_EXPIRY_DAYS: u32 = 3650;
pub const MAX_GRACE_HOURS: u32 = 168;

/// 1 to 100 characters after trimming, in NFC, at least one of them visible, none of them a
/// control, invisible or text-direction character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLabel(String);

impl KeyLabel {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // Looked at before trimming: a tab or line break at either end is a control character
        // sent, not white space to forgive (the API's document says so too).
        if raw.chars().any(char::is_control) {
            return Err(Invalid::new(
                "label",
                "The label cannot contain control, invisible or text-direction characters.",
            ));
        }
        let label = text::nfc(raw.trim());
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(Invalid::new(
                "label",
                format!("Give the key a label of 1 to {MAX_LABEL_CHARS} characters."),
            ));
        }
        if text::has_invisible(&label) || !text::has_visible(&label) {
            return Err(Invalid::new(
                "label",
                "The label cannot contain control, invisible or text-direction characters.",
            ));
        }
        Ok(Self(label))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl KeyMode {
    /// A mode as a person or a program writes it: `live` or `test`.
    pub fn parse_field(raw: &str) -> Result<Self, Invalid> {
        KeyMode::parse(raw.trim()).ok_or_else(|| Invalid::new("mode", "The mode is live or test."))
    }
}

/// How many days a new key lives: 1 to 3650.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryDays(u32);

impl ExpiryDays {
    pub fn new(days: u32) -> Result<Self, Invalid> {
        if (1..=MAX_EXPIRY_DAYS).contains(&days) {
            Ok(Self(days))
        } else {
            Err(Self::refused())
        }
    }

    /// As a form sends it: empty for never, else a whole number of days.
    pub fn parse_form(raw: Option<&str>) -> Result<Option<Self>, Invalid> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(days) => days
                .parse::<u32>()
                .map_err(|_| Self::refused())
                .and_then(Self::new)
                .map(Some),
        }
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.0) * 86_400
    }

    fn refused() -> Invalid {
        Invalid::new(
            "expires_in_days",
            format!(
                "Expiry is a whole number of days from 1 to {MAX_EXPIRY_DAYS}, or empty for never."
            ),
        )
    }
}

/// How many hours a rolled key keeps working: 0 to 168.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraceHours(u32);

impl GraceHours {
    pub fn new(hours: u32) -> Result<Self, Invalid> {
        if hours <= MAX_GRACE_HOURS {
            Ok(Self(hours))
        } else {
            Err(Self::refused())
        }
    }

    /// As a form sends it: a whole number of hours.
    pub fn parse_form(raw: &str) -> Result<Self, Invalid> {
        raw.trim()
            .parse::<u32>()
            .map_err(|_| Self::refused())
            .and_then(Self::new)
    }

    pub fn hours(self) -> u32 {
        self.0
    }

    fn refused() -> Invalid {
        Invalid::new(
            "grace_hours",
            format!("The grace period is a whole number of hours from 0 to {MAX_GRACE_HOURS}."),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::KeyLabel;

    #[test]
    fn a_label_is_trimmed_of_spaces_but_never_of_control_characters() {
        assert_eq!(KeyLabel::parse("  CI  ").unwrap().as_str(), "CI");
        for bad in ["\tCI", "CI\n", "C\u{7}I", "\u{85}CI", "", "   "] {
            assert!(KeyLabel::parse(bad).is_err(), "{bad:?}");
        }
    }
}
