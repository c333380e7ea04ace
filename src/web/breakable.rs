//! Text that a narrow column may wrap only where a reader expects it: an email address, an id
//! or a host breaks after `@`, `.`, `-` or `_`, never inside a word. The text is escaped as
//! askama escapes, then `<wbr>` marks each place it may break.

use askama::filters::{Escaper as _, Html, HtmlSafe};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakable(String);

impl Breakable {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

impl fmt::Display for Breakable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_str();
        while let Some(at) = rest.find(['@', '.', '-', '_']) {
            let (part, after) = rest.split_at(at + 1);
            Html.write_escaped_str(&mut *f, part)?;
            f.write_str("<wbr>")?;
            rest = after;
        }
        Html.write_escaped_str(f, rest)
    }
}

/// Escaped by its own `Display`: askama writes it as it is.
impl HtmlSafe for Breakable {}

#[cfg(test)]
mod tests {
    use super::Breakable;

    #[test]
    fn breaks_only_after_the_separators_and_escapes_the_rest() {
        assert_eq!(
            Breakable::new("ada.lovelace@example.com").to_string(),
            "ada.<wbr>lovelace@<wbr>example.<wbr>com"
        );
        assert_eq!(
            Breakable::new("<b>x_y</b>").to_string(),
            "&#60;b&#62;x_<wbr>y&#60;/b&#62;"
        );
        assert_eq!(Breakable::new("plain").to_string(), "plain");
    }
}
