//! The command line client: the real `socializer` binary as a user runs it, with a home folder of its own, against
//! the test server.

use crate::connect::approve_on_sandbox_as;
use crate::harness::{
    ApiClient, Browser, TestApp, json, location, status_of, text, texts, unique_email,
};
use reqwest::StatusCode;
use socializer::auth::api_key::{KeyMode, NewApiKey};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_socializer");

/// A user's shell: an empty home folder and only the variables a test gives it.
struct Shell {
    home: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Shell {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        }
    }

    /// A shell whose environment names the key and the server, as a user's profile would.
    fn using(key: &str, base: &str) -> Self {
        Self::new()
            .with("SOCIALIZER_API_KEY", key)
            .with("SOCIALIZER_API_URL", base)
    }

    fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.into(), value.into()));
        self
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        command
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, "").await
    }

    /// Runs the binary with `input` on a standard input that is not a terminal.
    async fn run_with_input(&self, args: &[&str], input: &str) -> Run {
        let mut command = self.command(BINARY);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let input = input.to_owned();
        // Off the test's runtime: the child's requests are answered while it waits.
        tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            let output = child.wait_with_output().unwrap();
            Run {
                code: output.status.code().unwrap_or(-1),
                stdout: String::from_utf8(output.stdout).unwrap(),
                stderr: String::from_utf8(output.stderr).unwrap(),
            }
        })
        .await
        .unwrap()
    }

    async fn login(&self, key: &str, url: &str) -> Run {
        self.run(&["login", "--api-key", key, "--api-url", url])
            .await
    }

    fn folder(&self) -> PathBuf {
        self.home.path().join(".socializer")
    }

    fn config(&self) -> PathBuf {
        self.folder().join("config.toml")
    }

    fn saved(&self) -> toml::Table {
        toml::from_str(&std::fs::read_to_string(self.config()).unwrap()).unwrap()
    }
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn parsed(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

#[track_caller]
fn succeeded(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
}

#[track_caller]
fn failed_with(run: &Run, code: i32, says: &str) {
    assert_eq!(run.code, code, "{run:?}");
    assert!(run.stderr.contains(says), "{says:?} not in {run:?}");
    assert_eq!(
        run.stderr.trim_end().lines().count(),
        1,
        "one line: {run:?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:?}");
}

/// A server with a signed-up admin who made a full live key and a full test key.
struct Setup {
    app: TestApp,
    browser: Browser,
    live: String,
    test: String,
}

async fn setup(workspace: &str) -> Setup {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("cli"), workspace).await;
    let live = browser.create_key("laptop", "live", &[]).await;
    let test = browser.create_key("sandbox play", "test", &[]).await;
    Setup {
        app,
        browser,
        live,
        test,
    }
}

fn unknown_key() -> String {
    NewApiKey::generate(KeyMode::Live).expose().to_owned()
}

#[actix_web::test]
async fn login_checks_the_key_first_and_saves_it_for_the_owner_alone() {
    let s = setup("Login Works").await;
    let shell = Shell::new();

    let run = shell.login(&s.live, &s.app.base).await;
    succeeded(&run);
    assert!(run.stdout.contains("Login Works") && run.stdout.contains("laptop"));
    assert!(!run.stdout.contains(&s.live) && !run.stderr.contains(&s.live));
    assert_eq!(mode_of(&shell.config()), 0o600);
    assert_eq!(mode_of(&shell.folder()), 0o700);
    let saved = shell.saved();
    assert_eq!(saved["api_key"].as_str(), Some(s.live.as_str()));
    assert_eq!(saved["api_url"].as_str(), Some(s.app.base.as_str()));

    // The other commands now need nothing more.
    let status = shell.run(&["status", "--json"]).await;
    succeeded(&status);
    assert_eq!(parsed(&status)["key"]["label"], "laptop");

    // A key the server refuses, a malformed one and an unreachable server change nothing.
    let before = std::fs::read(shell.config()).unwrap();
    let refused = shell.login(&unknown_key(), &s.app.base).await;
    failed_with(&refused, 1, "Invalid API key");
    let malformed = shell.login("sk_live_nope", &s.app.base).await;
    failed_with(&malformed, 2, "not a Socializer key");
    let unreachable = shell.login(&s.test, "http://127.0.0.1:1").await;
    failed_with(&unreachable, 1, "cannot reach");
    assert_eq!(std::fs::read(shell.config()).unwrap(), before);

    // Without --api-key a script gives the key on standard input; the file is replaced whole.
    let piped = shell
        .run_with_input(&["login"], &format!("{}\n", s.test))
        .await;
    succeeded(&piped);
    assert_eq!(shell.saved()["api_key"].as_str(), Some(s.test.as_str()));
    assert_eq!(
        shell.saved()["api_url"].as_str(),
        Some(s.app.base.as_str()),
        "the saved URL is kept"
    );
    let left: Vec<_> = std::fs::read_dir(shell.folder())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec!["config.toml"],
        "no temporary file is left behind"
    );
    assert_eq!(mode_of(&shell.config()), 0o600);

    let empty = shell.run_with_input(&["login"], "\n").await;
    failed_with(&empty, 2, "no API key given");

    // A file that others could read still works, with a warning to fix it.
    std::fs::set_permissions(shell.config(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = shell.run(&["status"]).await;
    succeeded(&open);
    assert!(open.stderr.contains("chmod 600"), "{open:?}");
}

#[actix_web::test]
async fn a_key_about_to_cross_the_network_in_clear_draws_a_warning() {
    let s = setup("Clear Text").await;
    // 0.0.0.0 is not a loopback address, yet refuses at once on this machine.
    let run = Shell::new()
        .run(&[
            "status",
            "--api-key",
            &s.live,
            "--api-url",
            "http://0.0.0.0:1",
        ])
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("warning: http://0.0.0.0:1 is plain http"),
        "{run:?}"
    );
    assert!(run.stderr.contains("cannot reach"), "{run:?}");
    let local = Shell::new()
        .run(&["status", "--api-key", &s.live, "--api-url", &s.app.base])
        .await;
    succeeded(&local);
    assert!(local.stderr.is_empty(), "{local:?}");
}

#[actix_web::test]
async fn login_makes_an_existing_open_folder_private() {
    let s = setup("Open Folder").await;
    let shell = Shell::new();
    std::fs::create_dir(shell.folder()).unwrap();
    std::fs::set_permissions(shell.folder(), std::fs::Permissions::from_mode(0o755)).unwrap();
    succeeded(&shell.login(&s.live, &s.app.base).await);
    assert_eq!(mode_of(&shell.folder()), 0o700);
    assert_eq!(mode_of(&shell.config()), 0o600);
}

/// Waits until `marker` has appeared in what `from` writes, keeping everything read.
fn read_until(from: &mut impl std::io::Read, seen: &mut Vec<u8>, marker: &str) {
    let mut buffer = [0u8; 256];
    while !String::from_utf8_lossy(seen).contains(marker) {
        let n = from.read(&mut buffer).unwrap();
        assert!(
            n > 0,
            "ended before {marker:?}: {}",
            String::from_utf8_lossy(seen)
        );
        seen.extend_from_slice(&buffer[..n]);
    }
}

#[actix_web::test]
async fn on_a_terminal_the_key_is_asked_for_and_not_echoed() {
    let s = setup("Terminal").await;
    let shell = Shell::new();
    // `script` runs the login on a pseudo-terminal and copies everything shown on it.
    let mut command = shell.command("script");
    command
        .args(["-q", "-e", "-c"])
        .arg(format!("{BINARY} login --api-url {}", s.app.base))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let key = s.live.clone();
    let (code, shown) = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("script(1) from util-linux");
        let (mut terminal, mut keyboard) =
            (child.stdout.take().unwrap(), child.stdin.take().unwrap());
        let child = Arc::new(Mutex::new(child));
        // A login that never prompts or never ends must fail the test, not hang it.
        let (finished, watched) = mpsc::channel::<()>();
        let watchdog = {
            let child = child.clone();
            std::thread::spawn(move || {
                if watched.recv_timeout(Duration::from_secs(30)).is_err() {
                    let _ = child.lock().unwrap().kill();
                }
            })
        };
        let mut seen = Vec::new();
        read_until(&mut terminal, &mut seen, "API key (input hidden): ");
        // The prompt is written just before echo is turned off; give that a moment.
        std::thread::sleep(Duration::from_millis(300));
        keyboard.write_all(format!("{key}\n").as_bytes()).unwrap();
        terminal.read_to_end(&mut seen).unwrap();
        drop(keyboard);
        let _ = finished.send(());
        watchdog.join().unwrap();
        let status = child.lock().unwrap().wait().unwrap();
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&seen).into_owned(),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Logged in to Terminal"), "{shown}");
    assert!(!shown.contains(&s.live), "the key was echoed: {shown}");
    assert_eq!(shell.saved()["api_key"].as_str(), Some(s.live.as_str()));
}

#[actix_web::test]
async fn flags_beat_variables_which_beat_the_saved_file() {
    let s = setup("Precedence").await;
    let from_env = s.browser.create_key("from-env", "live", &[]).await;
    let from_flag = s.browser.create_key("from-flag", "live", &[]).await;
    let label = |run: &Run| {
        succeeded(run);
        parsed(run)["key"]["label"].as_str().unwrap().to_owned()
    };

    let saved = Shell::new();
    succeeded(&saved.login(&s.live, &s.app.base).await);
    assert_eq!(label(&saved.run(&["status", "--json"]).await), "laptop");

    let shell = Shell {
        home: saved.home,
        vars: vec![("SOCIALIZER_API_KEY".into(), from_env.clone())],
    };
    assert_eq!(label(&shell.run(&["status", "--json"]).await), "from-env");
    assert_eq!(
        label(
            &shell
                .run(&["status", "--json", "--api-key", &from_flag])
                .await
        ),
        "from-flag"
    );

    // Logging in while the variable is set says which key will be used.
    let relogin = shell.login(&s.live, &s.app.base).await;
    succeeded(&relogin);
    assert!(
        relogin.stderr.contains("SOCIALIZER_API_KEY is set"),
        "{relogin:?}"
    );
    assert_eq!(label(&shell.run(&["status", "--json"]).await), "from-env");

    // The URL: a variable naming a dead port beats the saved URL, and a flag beats both.
    let shell = shell.with("SOCIALIZER_API_URL", "http://127.0.0.1:1");
    failed_with(&shell.run(&["status"]).await, 1, "http://127.0.0.1:1");
    assert_eq!(
        label(
            &shell
                .run(&["status", "--json", "--api-url", &s.app.base])
                .await
        ),
        "from-env"
    );
    // `keys` takes the flags before or after its own subcommand.
    succeeded(&shell.run(&["keys", "--api-url", &s.app.base, "list"]).await);
    succeeded(&shell.run(&["keys", "list", "--api-url", &s.app.base]).await);

    // A broken file: a clear error where it is read, ignored where flags say all, and login
    // writes it anew.
    let broken = Shell::new();
    std::fs::create_dir(broken.folder()).unwrap();
    std::fs::write(broken.config(), "api_key = [unclosed").unwrap();
    std::fs::set_permissions(broken.config(), std::fs::Permissions::from_mode(0o600)).unwrap();
    failed_with(&broken.run(&["status"]).await, 1, "is not valid");
    succeeded(
        &broken
            .run(&["status", "--api-key", &from_flag, "--api-url", &s.app.base])
            .await,
    );
    let relogin = broken.login(&s.live, &s.app.base).await;
    succeeded(&relogin);
    assert_eq!(broken.saved()["api_key"].as_str(), Some(s.live.as_str()));

    // Nothing anywhere: a usage error that says how to log in.
    failed_with(
        &Shell::new().run(&["accounts"]).await,
        2,
        "socializer login",
    );
    let bad_url = Shell::new().with("SOCIALIZER_API_URL", "ftp://example.com");
    failed_with(
        &bad_url.run(&["status", "--api-key", &s.live]).await,
        2,
        "SOCIALIZER_API_URL",
    );
}

#[actix_web::test]
async fn status_and_keys_print_a_summary_a_table_or_exactly_the_api_json() {
    let s = setup("Tables & Co").await;
    let shell = Shell::using(&s.live, &s.app.base);

    let status = shell.run(&["status"]).await;
    succeeded(&status);
    for expected in [
        "Tables & Co",
        "laptop",
        "live",
        &s.live[s.live.len() - 4..],
        "full access",
        "of 60 requests left",
    ] {
        assert!(status.stdout.contains(expected), "{expected}: {status:?}");
    }
    let from_cli = parsed(&shell.run(&["status", "--json"]).await);
    let (_, _, from_api) = json(ApiClient::new(&s.app.base, &s.live).get("/v1/status")).await;
    assert_eq!(from_cli["workspace"], from_api["workspace"]);
    assert_eq!(from_cli["key"], from_api["key"]);
    assert_eq!(from_cli["rate_limit"]["limit"], 60);

    // Create: the key alone on standard output, usable at once, with what it was given.
    let created = shell
        .run(&[
            "keys",
            "create",
            "--label",
            "from the cli",
            // A key makes keys of its own mode: the workspace's test key makes this one.
            "--api-key",
            &s.test,
            "--mode",
            "test",
            "--scope",
            "accounts:read",
            "--scope",
            "keys:read",
            "--expires-in-days",
            "30",
        ])
        .await;
    succeeded(&created);
    let new_key = created.stdout.trim().to_owned();
    assert_eq!(created.stdout, format!("{new_key}\n"), "the key alone");
    assert!(new_key.starts_with("sk_test_"), "{created:?}");
    assert!(created.stderr.contains("shown this once"), "{created:?}");
    let its_status = parsed(
        &shell
            .run(&["status", "--json", "--api-key", &new_key])
            .await,
    );
    assert_eq!(its_status["key"]["label"], "from the cli");
    assert_eq!(its_status["key"]["mode"], "test");
    assert_eq!(
        its_status["key"]["scopes"],
        serde_json::json!(["accounts:read", "keys:read"])
    );
    let as_json = shell
        .run(&["keys", "create", "--label", "scripted", "--json"])
        .await;
    succeeded(&as_json);
    let scripted = parsed(&as_json);
    assert!(
        scripted["plaintext"]
            .as_str()
            .unwrap()
            .starts_with("sk_live_")
    );

    // List: one row per key, masked; the JSON is the API's own.
    let list = shell.run(&["keys", "list"]).await;
    succeeded(&list);
    let rows: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(rows.len(), 1 + 4, "a header and four keys: {list:?}");
    assert!(rows[0].starts_with("ID") && rows[0].contains("LAST USED"));
    for (label, key) in [
        ("laptop", &s.live),
        ("sandbox play", &s.test),
        ("from the cli", &new_key),
    ] {
        let masked = format!("…{}", &key[key.len() - 4..]);
        assert!(
            rows.iter()
                .any(|r| r.contains(label) && r.contains(&masked)),
            "{label}: {list:?}"
        );
        assert!(!list.stdout.contains(key.as_str()), "a key was printed");
    }
    let listed = parsed(&shell.run(&["keys", "list", "--json"]).await);
    let (_, _, from_api) = json(ApiClient::new(&s.app.base, &s.live).get("/v1/api-keys")).await;
    let without_usage = |v: &serde_json::Value| {
        let mut keys = v["data"].as_array().unwrap().clone();
        for key in &mut keys {
            let key = key.as_object_mut().unwrap();
            key.remove("last_used_at");
            key.remove("last_used_ip");
        }
        keys
    };
    assert_eq!(without_usage(&listed), without_usage(&from_api));

    // Revoke: the key is refused at once, and the refusal says why.
    let id = scripted["id"].as_str().unwrap();
    let revoked = shell.run(&["keys", "revoke", id]).await;
    succeeded(&revoked);
    assert!(revoked.stdout.contains(id));
    failed_with(
        &shell
            .run(&[
                "status",
                "--api-key",
                scripted["plaintext"].as_str().unwrap(),
            ])
            .await,
        1,
        "revoked",
    );
    failed_with(
        &shell.run(&["keys", "revoke", "key_nope"]).await,
        1,
        "Not found",
    );

    // The server's refusals and the client's own usage errors.
    let long = "x".repeat(101);
    failed_with(
        &shell.run(&["keys", "create", "--label", &long]).await,
        1,
        "label",
    );
    let limited = shell.run(&["keys", "list", "--api-key", &new_key]).await;
    succeeded(&limited);
    failed_with(
        &shell
            .run(&["keys", "create", "--label", "more", "--api-key", &new_key])
            .await,
        1,
        "keys:write",
    );
    for usage in [
        vec!["keys", "create", "--label", "x", "--scope", "everything"],
        vec!["keys", "create", "--label", "x", "--expires-in-days", "0"],
        vec!["keys", "create"],
        vec!["keys"],
        vec!["status", "--jsn"],
        vec!["frobnicate"],
    ] {
        let run = shell.run(&usage).await;
        assert_eq!(run.code, 2, "{usage:?}: {run:?}");
    }
    let help = shell.run(&["keys", "create", "--help"]).await;
    succeeded(&help);
    assert!(help.stdout.contains("--expires-in-days"));
}

#[actix_web::test]
async fn accounts_connect_and_disconnect_through_the_cli() {
    let s = setup("Connecting").await;
    let shell = Shell::using(&s.test, &s.app.base);

    let none = shell.run(&["accounts"]).await;
    succeeded(&none);
    assert!(none.stdout.contains("No connected accounts"), "{none:?}");

    // connect prints the URL to open; approving there finishes at the service's callback.
    let started = shell.run(&["connect", "sandbox"]).await;
    succeeded(&started);
    let auth_url = started.stdout.trim().to_owned();
    assert!(
        auth_url.starts_with(&format!("{}/sandbox/authorize?", s.app.base)),
        "{started:?}"
    );
    assert!(started.stderr.contains("socializer accounts"));
    // The person approves in their browser, signed in to the dashboard, and lands on the
    // connected accounts page.
    let back = approve_on_sandbox_as(&s.browser, &auth_url, "cli-person").await;
    let page = s.browser.client.get(&back).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(page.headers()), "/settings/accounts");

    let listed = shell.run(&["accounts"]).await;
    succeeded(&listed);
    let rows: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(rows.len(), 2, "{listed:?}");
    assert!(rows[0].starts_with("ID") && rows[0].contains("TOKEN EXPIRES"));
    assert!(rows[1].contains("sandbox") && rows[1].contains("cli-person"));
    assert!(rows[1].contains("active"));
    let id = rows[1].split_whitespace().next().unwrap().to_owned();

    // --json is byte for byte what the API answers.
    let as_json = shell.run(&["accounts", "--json"]).await;
    succeeded(&as_json);
    let from_api = text(ApiClient::new(&s.app.base, &s.test).get("/v1/accounts")).await;
    assert_eq!(as_json.stdout.trim_end(), from_api.trim_end());
    assert_eq!(parsed(&as_json)["data"][0]["id"], id.as_str());

    let begun = parsed(&shell.run(&["connect", "sandbox", "--json"]).await);
    assert!(begun["auth_url"].is_string() && begun["state"].is_string());

    // A live key cannot connect the sandbox; a name cannot step into another route.
    let live = shell
        .run(&["connect", "sandbox", "--api-key", &s.live])
        .await;
    failed_with(&live, 1, "Not found");
    failed_with(
        &shell.run(&["connect", "../api-keys"]).await,
        1,
        "Not found",
    );
    failed_with(
        &shell.run(&["disconnect", "../api-keys/x"]).await,
        1,
        "Not found",
    );
    failed_with(&shell.run(&["disconnect", ".."]).await, 2, "not an id");

    let gone = shell.run(&["disconnect", &id]).await;
    succeeded(&gone);
    assert!(gone.stdout.contains(&id));
    assert!(
        shell
            .run(&["accounts"])
            .await
            .stdout
            .contains("No connected accounts")
    );
    failed_with(&shell.run(&["disconnect", &id]).await, 1, "Not found");
}

#[actix_web::test]
async fn a_server_that_cannot_be_reached_or_is_not_socializer_is_one_clear_line() {
    let s = setup("Elsewhere").await;
    let shell = Shell::new().with("SOCIALIZER_API_KEY", &s.live);
    let run = shell
        .run(&["status", "--api-url", "http://127.0.0.1:1"])
        .await;
    failed_with(
        &run,
        1,
        "cannot reach the Socializer server at http://127.0.0.1:1",
    );
    assert!(run.stdout.is_empty());

    // Something answers, but not with the API's error envelope: a page, not a backtrace.
    let elsewhere = format!("{}/no-api-here", s.app.base);
    let run = shell.run(&["accounts", "--api-url", &elsewhere]).await;
    failed_with(&run, 1, "is it a Socializer server?");
}

#[tokio::test]
async fn members_roll_and_logout_through_the_cli() {
    let s = setup("Team").await;
    let shell = Shell::new();
    succeeded(&shell.login(&s.live, &s.app.base).await);

    let members = shell.run(&["members", "--json"]).await;
    succeeded(&members);
    let (_, _, api) = json(ApiClient::new(&s.app.base, &s.live).get("/v1/members")).await;
    assert_eq!(parsed(&members), api, "exactly the API's JSON");
    let table = shell.run(&["members"]).await;
    succeeded(&table);
    assert!(
        table.stdout.contains("owner") && table.stdout.contains("EMAIL"),
        "{table:?}"
    );

    // Rolling prints the replacement alone on standard output; with no grace the old key stops.
    let (_, _, keys) = json(ApiClient::new(&s.app.base, &s.test).get("/v1/api-keys")).await;
    let test_id = keys["data"][0]["id"].as_str().unwrap().to_owned();
    // A key rolls keys of its own mode: the test key rolls itself.
    let rolled = Shell::using(&s.test, &s.app.base)
        .run(&["keys", "roll", &test_id])
        .await;
    succeeded(&rolled);
    let replacement = rolled.stdout.trim();
    assert!(replacement.starts_with("sk_test_"), "{rolled:?}");
    let old = ApiClient::new(&s.app.base, &s.test);
    assert_eq!(
        status_of(old.get("/v1/status")).await,
        StatusCode::UNAUTHORIZED
    );
    let new = ApiClient::new(&s.app.base, replacement);
    assert_eq!(status_of(new.get("/v1/status")).await, StatusCode::OK);
    let too_long = shell
        .run(&["keys", "roll", &test_id, "--grace-hours", "169"])
        .await;
    assert_eq!(too_long.code, 2, "{too_long:?}");
    let again = Shell::using(replacement, &s.app.base)
        .run(&["keys", "roll", &test_id])
        .await;
    assert_eq!(again.code, 1, "a rolled key is not rolled twice: {again:?}");

    let out = shell.run(&["logout"]).await;
    succeeded(&out);
    assert!(
        !shell.saved().contains_key("api_key"),
        "the key is gone from the file"
    );
    assert_eq!(mode_of(&shell.config()), 0o600);
    let after = shell.run(&["status"]).await;
    assert_eq!(after.code, 2, "no key any more: {after:?}");
    assert_eq!(
        status_of(ApiClient::new(&s.app.base, &s.live).get("/v1/status")).await,
        StatusCode::OK
    );
    drop(s.browser);
}

#[tokio::test]
async fn the_operator_sets_a_plan_and_the_audit_log_and_status_show_it() {
    let s = setup("Paying").await;
    let client = ApiClient::new(&s.app.base, &s.live);
    let (_, _, status) = json(client.get("/v1/status")).await;
    assert_eq!(status["workspace"]["plan"], "free");
    let workspace = status["workspace"]["id"].as_str().unwrap().to_owned();
    let plan = |args: Vec<String>| {
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(BINARY)
            .args(&args)
            .current_dir(dir.path())
            .env_clear()
            .env("SOCIALIZER_DATABASE_URL", &s.app.db.url)
            .env("SOCIALIZER_DATA_DIR", dir.path().join("data"))
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let args = |id: &str, plan: &str| {
        vec![
            "workspace".into(),
            "plan".into(),
            id.to_owned(),
            plan.to_owned(),
        ]
    };
    assert_eq!(plan(args(&workspace, "paid")).0, Some(0));
    let (code, stderr) = plan(args("ws_00000000000000000000000000000000", "paid"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no workspace"), "{stderr}");
    assert_eq!(plan(args(&workspace, "gold")).0, Some(2), "a usage error");

    // Keys read their workspace again within a minute; a fresh key sees it at once.
    let fresh = ApiClient::new(
        &s.app.base,
        &s.browser.create_key("fresh", "live", &[]).await,
    );
    let (_, headers, status) = json(fresh.get("/v1/status")).await;
    assert_eq!(status["workspace"]["plan"], "paid");
    assert_eq!(headers["ratelimit-limit"], "600");
    let (_, _, log) = json(fresh.get("/v1/audit-events")).await;
    let changed = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "workspace.plan_changed")
        .cloned()
        .expect("the plan change is in the log");
    assert_eq!(changed["actor"]["type"], "operator");
    assert_eq!(changed["detail"], "from free to paid");
    assert_eq!(texts(&s.browser.dashboard().await, ".plan"), vec!["paid"]);
}

#[actix_web::test]
async fn post_and_posts_publish_follow_and_cancel_through_the_cli() {
    let s = setup("Posting").await;
    let test = ApiClient::new(&s.app.base, &s.test);
    let sandbox = crate::publishing::connect_sandbox(&s.app.base, &test, "cli").await;
    let shell = Shell::using(&s.test, &s.app.base);

    // Published now: the command waits for the outcome and prints it.
    let run = shell
        .run(&["post", "Hello from the CLI", "--account", &sandbox])
        .await;
    succeeded(&run);
    assert!(run.stdout.starts_with("post_"), "{run:?}");
    assert!(run.stdout.contains("@cli on sandbox: published"), "{run:?}");
    // The text from standard input.
    let run = shell
        .run_with_input(
            &["post", "-", "--account", &sandbox],
            "From standard input\n",
        )
        .await;
    succeeded(&run);
    let id = run.stdout.split_whitespace().next().unwrap().to_owned();
    let shown = shell.run(&["posts", "show", &id]).await;
    succeeded(&shown);
    assert!(
        shown.stdout.contains("\nFrom standard input\n"),
        "{shown:?}"
    );
    assert!(shown.stdout.contains("published (HTTP 201)"), "{shown:?}");

    // A refusal ends the command with status 1 and one line on standard error.
    let run = shell
        .run(&["post", "No [sandbox:refuse]", "--account", &sandbox])
        .await;
    failed_with(&run, 1, "did not publish");
    assert!(run.stdout.contains("failed"), "{run:?}");

    // Scheduled in a named zone, listed, shown as JSON, then canceled.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let local = format!(
        "{:04}-{:02}-{:02} 09:30",
        later.year(),
        u8::from(later.month()),
        later.day()
    );
    let run = shell
        .run(&[
            "post",
            "Later",
            "--account",
            &sandbox,
            "--at",
            &local,
            "--tz",
            "Asia/Tokyo",
        ])
        .await;
    succeeded(&run);
    assert!(run.stdout.contains("scheduled"), "{run:?}");
    // 09:30 in Tokyo is 00:30 UTC.
    assert!(run.stdout.contains("00:30 UTC"), "{run:?}");
    let later_id = run.stdout.split_whitespace().next().unwrap().to_owned();
    let listed = shell
        .run(&["posts", "--state", "scheduled", "--json"])
        .await;
    succeeded(&listed);
    assert_eq!(parsed(&listed)["data"][0]["id"], later_id.as_str());
    let table = shell.run(&["posts"]).await;
    succeeded(&table);
    assert!(table.stdout.starts_with("ID"), "{table:?}");
    assert_eq!(table.stdout.lines().count(), 5, "{table:?}");
    let canceled = shell.run(&["posts", "cancel", &later_id]).await;
    succeeded(&canceled);
    assert!(canceled.stdout.contains("canceled"), "{canceled:?}");

    // Usage errors: status 2, nothing sent.
    let run = shell
        .run(&["post", "hi", "--account", &sandbox, "--tz", "Europe/Paris"])
        .await;
    failed_with(&run, 2, "--tz applies to --at");
    let run = shell
        .run(&["post", "hi", "--account", &sandbox, "--at", "next week"])
        .await;
    failed_with(&run, 2, "--at");
    let run = shell.run(&["posts", "show", "post_nope"]).await;
    failed_with(&run, 1, "Not found");
    let (_, _, page) = json(test.get("/v1/posts")).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 4);
}
