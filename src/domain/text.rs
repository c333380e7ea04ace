//! Checks shared by every name a person types: emails, workspace names, key labels (§3.1).

use unicode_normalization::UnicodeNormalization as _;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// True for characters that change how text looks or reads without being seen: controls,
/// format characters (zero-width spaces and joiners, bidirectional overrides and isolates, the
/// byte-order mark, soft hyphens), line and paragraph separators, private-use and surrogate
/// code points, and the Hangul fillers that render as blanks.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    ) || matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
}

pub fn has_invisible(text: &str) -> bool {
    text.chars().any(is_invisible)
}

/// Unicode NFC, so that one spelling composed and decomposed is one string.
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_bidi_characters_are_found() {
        for bad in [
            "a\u{200B}b",
            "\u{202E}evil",
            "x\u{2066}y",
            "\u{FEFF}bom",
            "soft\u{AD}hyphen",
            "tab\there",
            "line\u{2028}sep",
            "\u{3164}",
        ] {
            assert!(has_invisible(bad), "{bad:?}");
        }
        for good in ["Café", "Zoë's team", "東京チーム", "a-b_c.d", "emoji 🚀"] {
            assert!(!has_invisible(good), "{good:?}");
        }
    }

    #[test]
    fn composed_and_decomposed_spellings_normalise_alike() {
        assert_eq!(nfc("e\u{301}"), "\u{e9}");
        assert_eq!(nfc("\u{e9}"), "\u{e9}");
    }
}
