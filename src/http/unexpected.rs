//! An unexpected failure behind a 500, kept whole: the log line shows its chain of causes, and
//! the answer shows none of it.

use std::error::Error;
use std::fmt;

type Cause = Box<dyn Error + Send + Sync + 'static>;

#[derive(Debug)]
pub struct Unexpected(Cause);

impl Unexpected {
    pub fn new(cause: impl Into<Cause>) -> Self {
        Self(cause.into())
    }

    /// `cause`, with what was being done when it happened ("session", "cookie").
    pub fn context(doing: &'static str, cause: impl Into<Cause>) -> Self {
        Self(Box::new(Context {
            doing,
            cause: cause.into(),
        }))
    }
}

/// The error and each of its sources, `: `-separated, for one log line.
impl fmt::Display for Unexpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::logging::Chain(self.0.as_ref()).fmt(f)
    }
}

#[derive(Debug)]
struct Context {
    doing: &'static str,
    cause: Cause,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.doing)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.cause.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::Unexpected;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_log_line_carries_every_cause() {
        let inner = std::io::Error::other("disk gone");
        assert_eq!(
            Unexpected::new(Outer(inner)).to_string(),
            "outer: disk gone"
        );
        let inner = std::io::Error::other("bad cookie");
        assert_eq!(
            Unexpected::context("cookie", inner).to_string(),
            "cookie: bad cookie"
        );
    }
}
