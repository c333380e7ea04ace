//! The process's logger: env_logger, except that what strangers can cause at will is logged as
//! what it is. A malformed request or a tampered cookie is the client's mistake, reported by
//! actix at ERROR or WARN; left so, anyone could flood the error log. Those lines are logged at
//! DEBUG instead, so `RUST_LOG=debug` still shows them.

use log::{Level, Log, Metadata, Record};
use std::error::Error;
use std::fmt;

/// Targets whose complaints are about what a client sent.
const CLIENT_MISTAKES: &[&str] = &["actix_http::h1::dispatcher", "actix_session::middleware"];

struct Demoting(env_logger::Logger);

fn demoted(target: &str, level: Level) -> Level {
    if level <= Level::Warn && CLIENT_MISTAKES.iter().any(|t| target.starts_with(t)) {
        Level::Debug
    } else {
        level
    }
}

impl Log for Demoting {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let level = demoted(metadata.target(), metadata.level());
        self.0.enabled(
            &Metadata::builder()
                .level(level)
                .target(metadata.target())
                .build(),
        )
    }

    fn log(&self, record: &Record<'_>) {
        let level = demoted(record.target(), record.level());
        if level == record.level() {
            return self.0.log(record);
        }
        self.0.log(
            &Record::builder()
                .args(*record.args())
                .level(level)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// An error and each of its sources, `: `-separated, for one log line: `{}` of an error shows
/// only its own message, its causes being reachable through `source()`.
pub struct Chain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Installs the logger: `RUST_LOG` (default `info`) as env_logger reads it.
pub fn init() {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let max = logger.filter();
    if log::set_boxed_logger(Box::new(Demoting(logger))).is_ok() {
        log::set_max_level(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_client_mistakes_are_demoted() {
        assert_eq!(
            demoted("actix_http::h1::dispatcher", Level::Error),
            Level::Debug
        );
        assert_eq!(
            demoted("actix_session::middleware", Level::Warn),
            Level::Debug
        );
        assert_eq!(
            demoted("actix_http::h1::dispatcher", Level::Trace),
            Level::Trace
        );
        assert_eq!(demoted("socializer::web", Level::Error), Level::Error);
    }
}
