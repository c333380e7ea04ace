//! Asking for the key at `login`: hidden on a terminal, one line of standard input otherwise.

use super::ClientError;
use std::io::{BufRead as _, IsTerminal as _, Read as _};

/// No key is this long; a larger input is not a key and is not read whole.
const MAX_LINE: u64 = 1024;

pub fn read_key() -> Result<String, ClientError> {
    let stdin = std::io::stdin();
    let raw = if stdin.is_terminal() {
        // rpassword turns echo off on the terminal while the key is typed.
        rpassword::prompt_password("API key (input hidden): ")
            .map_err(|e| ClientError::Local(format!("cannot read the key: {e}")))?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .take(MAX_LINE)
            .read_line(&mut line)
            .map_err(|e| {
                ClientError::Usage(format!("cannot read the key from standard input: {e}"))
            })?;
        line
    };
    let key = raw.trim();
    if key.is_empty() {
        return Err(ClientError::Usage(
            "no API key given: paste the key shown when it was created, or pass --api-key".into(),
        ));
    }
    Ok(key.to_owned())
}
