//! The command line client: `socializer login`, `status`, `accounts`, `connect`,
//! `disconnect` and `keys`, talking to a server only through its `/v1` API.

mod answers;
mod api;
mod commands;
mod prompt;
mod render;
mod settings;

use crate::cli::ClientCommand;
use std::process::ExitCode;

/// Why a client command failed; each says what to do about it in one line.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Run wrongly: a bad argument or value, or no key at all (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server refused, with its error envelope; its message is what the user sees.
    #[error("{message}{}", hint(code))]
    Api { code: String, message: String },
    #[error("{0}")]
    Unreachable(String),
    /// Something answered, but not as a Socializer server does.
    #[error("{0}")]
    Unexpected(String),
    /// The config file or the terminal failed us.
    #[error("{0}")]
    Local(String),
}

impl ClientError {
    fn exit_code(&self) -> u8 {
        match self {
            ClientError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// What to do next, for the refusals a user can act on.
fn hint(code: &str) -> &'static str {
    match code {
        "invalid_api_key" => {
            " (log in again with `socializer login`, or check --api-key and SOCIALIZER_API_KEY)"
        }
        "insufficient_scope" => " (use a key with that scope, or one with full access)",
        _ => "",
    }
}

/// Runs one client command to its exit status; any error is one line on standard error.
pub fn run(command: ClientCommand) -> ExitCode {
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Local(format!("cannot start: {e}")))
        .and_then(|runtime| runtime.block_on(commands::run(command)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", render::clean(&error.to_string()));
            ExitCode::from(error.exit_code())
        }
    }
}
