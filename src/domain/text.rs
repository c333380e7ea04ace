//! Checks shared by every name a person types: emails, workspace names, key labels.

use unicode_normalization::UnicodeNormalization as _;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt): characters a renderer
/// shows as nothing, such as the combining grapheme joiner, variation selectors, Mongolian free
/// variation selectors, Khmer inherent vowels, tag characters and the Hangul fillers.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// True for characters that change how text looks or reads without being seen: controls,
/// format characters (zero-width spaces and joiners, bidirectional overrides and isolates, the
/// byte-order mark, soft hyphens), line and paragraph separators, private-use and surrogate
/// code points, every default-ignorable code point, and the blank Braille pattern.
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
    ) || c == '\u{2800}'
        || DEFAULT_IGNORABLE
            .iter()
            .any(|(first, last)| (*first..=*last).contains(&c))
}

pub fn has_invisible(text: &str) -> bool {
    text.chars().any(is_invisible)
}

/// True when something would be seen: a character that is not a space and not a combining
/// mark (a name of marks alone renders as nothing, or as an accent floating on the text before).
pub fn has_visible(text: &str) -> bool {
    text.chars().any(|c| {
        !c.is_whitespace()
            && !matches!(
                c.general_category(),
                GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
                    | GeneralCategory::EnclosingMark
            )
    })
}

/// Unicode NFC, so that one spelling composed and decomposed is one string.
pub fn nfc(text: &str) -> String {
    text.nfc().collect()
}

/// Unicode's full case folding of the NFC form, in NFC again (folding can undo it): one string
/// for every spelling of one name that differs only in case or composition (`ΟΣ` and `οσ`,
/// `Straße` and `STRASSE`).
pub fn fold(text: &str) -> String {
    nfc(&caseless::default_case_fold_str(&nfc(text)))
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
            "us\u{34F}er",
            "x\u{FE0F}",
            "x\u{E0100}",
            "\u{180B}",
            "\u{17B4}",
            "\u{2800}",
            "tag\u{E0041}",
        ] {
            assert!(has_invisible(bad), "{bad:?}");
        }
        for good in ["Café", "Zoë's team", "東京チーム", "a-b_c.d", "emoji 🚀"] {
            assert!(!has_invisible(good), "{good:?}");
            assert!(has_visible(good), "{good:?}");
        }
        assert!(!has_visible("\u{301}\u{301}"));
        assert!(!has_visible("  "));
    }

    #[test]
    fn composed_and_decomposed_spellings_normalise_alike() {
        assert_eq!(nfc("e\u{301}"), "\u{e9}");
        assert_eq!(nfc("\u{e9}"), "\u{e9}");
        assert_eq!(fold("\u{39F}\u{3A3}"), fold("\u{3BF}\u{3C3}"));
        assert_eq!(fold("Stra\u{DF}e"), fold("STRASSE"));
        assert_eq!(fold("E\u{301}"), "\u{e9}");
    }
}
