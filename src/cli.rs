//! The command line: the server's commands and the API client's, in one binary.

use crate::domain::{Plan, Scope};
use clap::{Args, Parser, Subcommand, ValueEnum};

const CLIENT_HELP: &str = "\
Client commands (login, logout, status, accounts, connect, disconnect, keys, members, post,
posts) talk to a Socializer server
through its /v1 API with an API key, made by an owner or admin on the server's Settings → API keys
page. `socializer login` checks a key and saves it; the other commands then use it.

Where the key and URL come from, first found wins: --api-key / --api-url, then the
SOCIALIZER_API_KEY / SOCIALIZER_API_URL variables, then ~/.socializer/config.toml (written by
login). The URL defaults to http://127.0.0.1:8080.

Exit status: 0 on success, 1 when the server refused or could not be reached (the reason on
stderr), or when `post` saw a target end failed or unknown, 2 on a usage error (a bad argument,
or no API key at all).";

#[derive(Debug, Parser)]
#[command(
    name = "socializer",
    version,
    about = "Socializer: publish to social networks as a team",
    after_help = CLIENT_HELP
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
    /// Operator commands on one workspace (the change is recorded in its audit log).
    Workspace(WorkspaceArgs),
    #[command(flatten)]
    Client(ClientCommand),
}

#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    #[command(subcommand)]
    pub command: WorkspaceCommand,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Set a workspace's plan, which sets its API rate limit (SOCIALIZER_RATE_LIMIT_FREE or
    /// _PAID). Keys already in use see the new limit within a minute.
    Plan {
        /// The workspace's id (ws_…), as `/v1/status` and the dashboard's switcher show it
        workspace_id: String,
        /// free or paid
        #[arg(value_parser = plan)]
        plan: Plan,
    },
}

/// A plan as the operator types it: the service's own spelling, parsed once here.
fn plan(raw: &str) -> Result<Plan, String> {
    Plan::parse(raw).ok_or_else(|| "the plan is free or paid".to_owned())
}

/// The API client's commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Check an API key with the server and save it, with the server's URL, for the other
    /// client commands.
    #[command(after_help = "\
Without --api-key the key is asked for with the input hidden, or read from standard input when
that is not a terminal (`socializer login < key.txt`). Nothing is written unless the server
accepts the key. The key and URL go to ~/.socializer/config.toml, readable by you alone (0600,
in a 0700 folder), replacing the file in one step.")]
    Login(LoginArgs),
    /// Show the key's workspace, the key itself (never its secret) and its rate limit.
    Status(ShowArgs),
    /// List the workspace's connected accounts (a test key sees only sandbox ones).
    Accounts(ShowArgs),
    /// Start connecting an account: prints the URL to open in a browser. Approving there
    /// finishes the connection; `socializer accounts` then lists it.
    Connect(ConnectArgs),
    /// Disconnect an account: its tokens are erased and revoked at the platform.
    Disconnect(DisconnectArgs),
    /// List, create, roll and revoke the workspace's API keys.
    Keys(KeysArgs),
    /// List the workspace's members and their roles.
    Members(ShowArgs),
    /// Publish a post to one or more accounts, now or at a set time.
    #[command(after_help = "\
Published now, the command waits (up to a minute) for each account's outcome and prints it;
with --at it prints the scheduled post. Exit status 1 when a target ended failed, or unknown
(the platform may or may not have it: look there before retrying).")]
    Post(PostArgs),
    /// List posts, show one with every attempt, or cancel one.
    Posts(PostsArgs),
    /// Forget the saved key (the key itself stays valid: revoke it on the server for that).
    Logout,
}

/// The server and key a client command talks to; each overrides its variable and the file.
#[derive(Debug, Clone, Default, Args)]
pub struct Target {
    /// API key to use [default: SOCIALIZER_API_KEY, then the saved one]
    #[arg(long, value_name = "KEY", global = true)]
    pub api_key: Option<String>,
    /// Server URL [default: SOCIALIZER_API_URL, then the saved one, then http://127.0.0.1:8080]
    #[arg(long, value_name = "URL", global = true)]
    pub api_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The key to check and save (asked for when absent)
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Server URL [default: SOCIALIZER_API_URL, then the saved one, then http://127.0.0.1:8080]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print exactly the JSON the API answered
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// x, linkedin, or sandbox (test keys only)
    pub platform: String,
    #[command(flatten)]
    pub target: Target,
    /// Print exactly the JSON the API answered (auth_url and state)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// The account's id, as `socializer accounts` shows it
    pub id: String,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Args)]
pub struct PostArgs {
    /// The text; `-` reads it from standard input
    pub text: String,
    /// An account's id, as `socializer accounts` shows it; repeat for several (1 to 10)
    #[arg(long = "account", value_name = "ID", required = true)]
    pub accounts: Vec<String>,
    /// When to publish: RFC 3339 (2026-12-24T09:00:00+01:00), or "YYYY-MM-DD HH:MM" in --tz
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,
    /// The time zone of a "YYYY-MM-DD HH:MM" --at, an IANA name such as Europe/Paris [default: UTC]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    #[command(flatten)]
    pub target: Target,
    /// Print exactly the JSON the API answered (the post as accepted, without waiting)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PostsArgs {
    #[command(subcommand)]
    pub command: Option<PostsCommand>,
    /// Only posts in this state (scheduled, publishing, published, partially_published,
    /// failed, needs_attention, canceled)
    #[arg(long, value_name = "S")]
    pub state: Option<String>,
    #[command(flatten)]
    pub target: Target,
    /// Print exactly the JSON the API answered
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PostsCommand {
    /// One post with each account's state, link or error, and every attempt.
    Show {
        /// The post's id, as `socializer posts` shows it
        id: String,
    },
    /// Cancel what is still scheduled of a post.
    Cancel {
        /// The post's id, as `socializer posts` shows it
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List every key of the workspace, revoked and expired ones included (never a secret).
    List {
        /// Print exactly the JSON the API answered
        #[arg(long)]
        json: bool,
    },
    /// Create a key and print it, this once: the key alone on standard output, the rest on
    /// standard error, so that `KEY=$(socializer keys create --label ci)` works.
    Create(CreateKeyArgs),
    /// Revoke a key at once: its next request is refused.
    Revoke {
        /// The key's id, as `socializer keys list` shows it
        id: String,
    },
    /// Replace a key with a new one (same label, mode and scopes) and print it, this once; the
    /// old key keeps working for the grace period.
    Roll {
        /// The key's id, as `socializer keys list` shows it
        id: String,
        /// Hours the old key keeps working, 0 to 168
        #[arg(long, value_name = "H", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=168))]
        grace_hours: u32,
        /// Print exactly the JSON the API answered, the new key's plaintext included
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateKeyArgs {
    /// What the key is for, 1 to 100 characters
    #[arg(long)]
    pub label: String,
    /// live sees live data; test only test-mode (sandbox) data [default: live]
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// A scope to grant; repeat for several. None: full access (never more than this key has)
    #[arg(long = "scope", value_name = "SCOPE", value_parser = scope_names())]
    pub scopes: Vec<String>,
    /// Days until the key expires, 1 to 3650 [default: never]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub expires_in_days: Option<u32>,
    /// Print exactly the JSON the API answered, the key's plaintext included
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Live,
    Test,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }
}

fn scope_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Scope::ALL.map(Scope::as_str))
}
