//! The command line: the server's commands now, the API client's (§9) alongside later.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "socializer",
    version,
    about = "Socializer: publish to social networks as a team"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default). Configured by SOCIALIZER_* variables or a .env file.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Re-wrap every workspace data key under SOCIALIZER_ROOT_KEY. Run it with the old key in
    /// SOCIALIZER_PREVIOUS_ROOT_KEYS; once it reports success the old key is no longer needed.
    RotateRootKey,
}
