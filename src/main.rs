use clap::Parser as _;
use socializer::app::Application;
use socializer::cli::{Cli, Command, WorkspaceCommand};
use socializer::config::Config;
use socializer::crypto::envelope::Keyring;
use socializer::db::Database;
use socializer::domain::{Plan, WorkspaceId};
use std::process::ExitCode;

/// What stops a command: an error with its causes, printed whole on one line.
type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    keep_large_blocks_out_of_arenas();
    socializer::logging::init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(),
        Command::Migrate => migrate(),
        Command::RotateRootKey => rotate_root_key(),
        Command::Workspace(args) => match args.command {
            WorkspaceCommand::Plan { workspace_id, plan } => set_plan(&workspace_id, plan),
        },
        Command::Client(command) => return socializer::client::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", socializer::logging::Chain(failure.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// glibc's allocator serves a large block from a mapping of its own, returned to the system
/// when freed, but raises that threshold each time such a block is freed: after the first
/// password hash (19 MiB) the next ones are carved from the threads' arenas, which keep them.
/// Under mixed traffic the server grew past 200 MB that way; with the threshold fixed at
/// 1 MiB it stays well under 100 MB (`cargo bench --bench memory`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_large_blocks_out_of_arenas() {
    // SAFETY: mallopt only sets an allocator parameter; it is called before any other thread
    // exists, and a refusal (0) leaves glibc's default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_large_blocks_out_of_arenas() {}

fn serve() -> Result<(), Failure> {
    let config = Config::from_env()?;
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        println!("Socializer is ready at {}", app.public_url());
        Ok(app.run_until_stopped().await?)
    })
}

fn migrate() -> Result<(), Failure> {
    let config = Config::from_env()?;
    socializer::db::migrate(&config.database_url)?;
    println!("Migrations applied to {:?}", config.database_url);
    Ok(())
}

/// Runs an operator's command against the configured database, on a runtime of its own.
fn with_database<F, Fut>(command: F) -> Result<(), Failure>
where
    F: FnOnce(Config, Database) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let config = Config::from_env()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let db = Database::open_for_command(&config.database_url)?;
        command(config, db).await
    })
}

fn rotate_root_key() -> Result<(), Failure> {
    with_database(|config, db| async move {
        let keyring = Keyring::new(&config.root_key, &config.previous_root_keys);
        let report = socializer::connect::rotate_root_key(&db, &keyring).await?;
        if !report.failed.is_empty() {
            return Err(format!(
                "{} data key(s) re-wrapped, {} could not be opened with SOCIALIZER_ROOT_KEY or SOCIALIZER_PREVIOUS_ROOT_KEYS (workspaces: {}); set the root key that wrapped them and run again",
                report.rewrapped,
                report.failed.len(),
                report.failed.join(", ")
            )
            .into());
        }
        println!(
            "Root key rotated: {} data key(s) re-wrapped under {}; every data key is now under it, so SOCIALIZER_PREVIOUS_ROOT_KEYS can be removed",
            report.rewrapped,
            keyring.current_id()
        );
        Ok(())
    })
}

fn set_plan(workspace: &str, plan: Plan) -> Result<(), Failure> {
    let Some(id) = WorkspaceId::parse(workspace.trim()) else {
        return Err(format!("no workspace {workspace}").into());
    };
    with_database(|_, db| async move {
        match socializer::people::set_plan(&db, &id, plan).await {
            Ok((before, after)) if before == after => {
                println!("Workspace {workspace} is on the {after} plan already; nothing changed");
                Ok(())
            }
            Ok((before, after)) => {
                println!("Workspace {workspace}: plan changed from {before} to {after}");
                Ok(())
            }
            Err(socializer::people::AccountError::NotFound) => {
                Err(format!("no workspace {workspace}").into())
            }
            Err(e) => Err(e.into()),
        }
    })
}
