//! What each platform accepts as a post's text, checked before a post is stored so that nothing
//! queued would be refused by its platform.
//!
//! - X counts by its own weighting: every URL counts 23, CJK and emoji count 2, measured after
//!   NFC. The `twitter-text` crate, a port of X's own library, does the counting.
//! - LinkedIn takes at most 3,000 characters.
//! - The sandbox follows X's rules, so that test mode catches what X would refuse.
//! - No platform takes an empty text, or control characters other than line breaks.

use crate::domain::text::nfc;
use crate::domain::{Invalid, Platform};

/// X's limit, in its weighted units.
pub const X_LIMIT: usize = 280;
/// LinkedIn's limit, in characters.
pub const LINKEDIN_LIMIT: usize = 3_000;

/// How much of a platform's limit a text uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub used: usize,
    pub limit: usize,
}

impl Measure {
    pub fn fits(self) -> bool {
        self.used <= self.limit
    }
}

/// The text as `platform` counts it.
pub fn measure(platform: Platform, text: &str) -> Measure {
    let text = nfc(text);
    match platform {
        Platform::X | Platform::Sandbox => {
            // The crate's default parser (nom) panics on some texts (a byte index inside a
            // character, found by the property test below); the external-TLD parser does not, and
            // still checks that a URL's ending is a real top-level domain.
            let counted = twitter_text::parse_with_parser_backend(
                &text,
                twitter_text_config::default(),
                true,
                twitter_text::ParserBackend::External,
            )
            .weighted_length;
            Measure {
                used: usize::try_from(counted).unwrap_or(0),
                limit: X_LIMIT,
            }
        }
        Platform::LinkedIn => Measure {
            used: text.chars().count(),
            limit: LINKEDIN_LIMIT,
        },
    }
}

/// Checks `text` for `platform`; the refusal names `target` (how the page and the API name the
/// account: "@ada on X") and the rule.
pub fn check(platform: Platform, target: &str, text: &str) -> Result<(), Invalid> {
    // Nothing that would be seen: spaces, zero-width and text-direction characters alone.
    if text
        .chars()
        .all(|c| c.is_whitespace() || crate::domain::text::is_invisible(c))
    {
        return Err(Invalid::new(
            "text",
            format!("{target}: the text is empty."),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(Invalid::new(
            "text",
            format!("{target}: the text holds a control character; only line breaks may be used."),
        ));
    }
    let measure = measure(platform, text);
    if !measure.fits() {
        let (name, unit) = match platform {
            Platform::LinkedIn => ("LinkedIn", "characters"),
            Platform::X => ("X", "its weighted count"),
            Platform::Sandbox => ("The sandbox (as X)", "its weighted count"),
        };
        return Err(Invalid::new(
            "text",
            format!(
                "{target}: {name} allows {} by {unit}; this text counts {}.",
                measure.limit, measure.used
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn x_counts_urls_as_23_and_wide_characters_as_2() {
        let url = "https://example.com/a/very/long/path/that/goes/on/and/on/for/a/while";
        assert_eq!(measure(Platform::X, url).used, 23);
        assert_eq!(measure(Platform::X, "hello").used, 5);
        // A name with a dot is a URL only when its ending is a real top-level domain.
        assert_eq!(measure(Platform::X, "notes.txt").used, 9);
        assert_eq!(measure(Platform::X, "example.com").used, 23);
        assert_eq!(measure(Platform::X, "日本").used, 4);
        assert_eq!(measure(Platform::X, "\u{1F600}").used, 2);
        // Decomposed and composed forms count the same: NFC first.
        assert_eq!(
            measure(Platform::X, "e\u{301}").used,
            measure(Platform::X, "\u{e9}").used
        );
        assert_eq!(
            measure(Platform::Sandbox, "日本"),
            measure(Platform::X, "日本")
        );
    }

    #[test]
    fn the_limits_are_each_platform_s() {
        assert!(check(Platform::X, "@ada on X", &"a".repeat(280)).is_ok());
        let refused = check(Platform::X, "@ada on X", &"a".repeat(281)).unwrap_err();
        assert_eq!(
            refused.message,
            "@ada on X: X allows 280 by its weighted count; this text counts 281."
        );
        assert!(check(Platform::X, "@ada on X", &"日".repeat(141)).is_err());
        assert!(check(Platform::LinkedIn, "Ada on LinkedIn", &"日".repeat(3000)).is_ok());
        assert!(check(Platform::LinkedIn, "Ada on LinkedIn", &"a".repeat(3001)).is_err());
        assert!(check(Platform::Sandbox, "test", &"a".repeat(281)).is_err());
    }

    #[test]
    fn empty_texts_and_control_characters_are_refused() {
        for bad in [
            "",
            "   ",
            "\n\n",
            "bell\u{7}",
            "nul\u{0}",
            "tab\there",
            "esc\u{1b}[31m",
        ] {
            for platform in Platform::ALL {
                assert!(check(platform, "t", bad).is_err(), "{bad:?} on {platform}");
            }
        }
        assert!(check(Platform::X, "t", "line one\nline two\r\n").is_ok());
    }

    proptest! {
        // Counting runs a parser over the text: fewer cases keep the unit tests quick; the
        // property is about any text at all, so breadth of input matters more than count.
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn no_text_panics_the_counter_and_the_count_is_sane(text in "\\PC{0,400}") {
            for platform in Platform::ALL {
                let m = measure(platform, &text);
                prop_assert!(m.limit > 0);
                let _ = check(platform, "t", &text);
            }
        }
    }
}
