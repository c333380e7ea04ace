//! The real binary as an operator runs it: a committed sign-up survives kill -9,
//! a bad value stops the start with one line naming the variable, `socializer migrate`, and
//! what reaches the log.

use crate::harness::{Browser, PASSWORD, TestDatabase, location, unique_email};
use reqwest::StatusCode;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_socializer");

pub struct Server {
    child: Child,
    pub base: String,
    /// Where its mail lands (no SMTP server is set).
    outbox: std::path::PathBuf,
}

/// A test that fails half-way still stops its server.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data_dir: &Path, db: &TestDatabase) -> Self {
        Self::start_with(data_dir, db, &[], "info")
    }

    pub fn start_with(
        data_dir: &Path,
        db: &TestDatabase,
        vars: &[(String, String)],
        log_level: &str,
    ) -> Self {
        let mut child = Command::new(BINARY)
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SOCIALIZER_DATA_DIR", data_dir)
            .env("SOCIALIZER_DATABASE_URL", &db.url)
            .env("SOCIALIZER_BIND", "127.0.0.1:0")
            .env("RUST_LOG", log_level)
            .current_dir(data_dir.parent().unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the binary");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its URL");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Self {
            child,
            base,
            outbox: data_dir.join("outbox"),
        }
    }

    /// A browser that follows the links this server mails.
    pub fn browser(&self) -> Browser {
        let mut browser = Browser::new(&self.base);
        browser.mail = Some(self.outbox.clone());
        browser
    }

    pub fn kill_9(mut self) -> String {
        self.stop_now()
    }

    fn stop_now(&mut self) -> String {
        // SIGKILL: no chance to flush or shut down cleanly.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        log
    }
}

#[actix_web::test]
async fn a_committed_sign_up_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let data = dir.path().join("data");
    let email = unique_email("durable");

    let server = Server::start(&data, &db);
    let response = server.browser().sign_up(&email, "Survivor").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.kill_9();

    let server = Server::start(&data, &db);
    let browser = server.browser();
    let response = browser.log_in(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/dashboard");
    assert!(browser.dashboard().await.contains("Survivor"));
    server.kill_9();
}

#[actix_web::test]
async fn the_log_carries_no_password_session_key_or_query_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let server = Server::start(&dir.path().join("data"), &db);
    let browser = server.browser();
    let email = unique_email("quiet");
    let response = browser.sign_up(&email, "").await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let cookie_value = crate::harness::cookie_value(&cookie);
    let key = browser.create_key("logged?", "live", &[]).await;
    let api = crate::harness::ApiClient::new(&server.base, &key);
    assert_eq!(
        api.get("/v1/status").send().await.unwrap().status(),
        StatusCode::OK
    );
    let listed = api
        .get("/v1/api-keys?key=also-not-logged")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    browser.log_out().await;
    browser.log_in(&email, "a wrong password here").await;
    browser
        .get("/verify-email?token=not-a-real-token-but-secret")
        .await;
    // Each request's line is written before its answer leaves, so the log is complete now.
    let log = server.kill_9();

    assert!(
        log.contains("POST /signup"),
        "the request log is there: {log}"
    );
    assert!(
        log.contains("GET /v1/status"),
        "API requests are logged too: {log}"
    );
    for secret in [
        PASSWORD,
        "a wrong password here",
        "not-a-real-token-but-secret",
        "also-not-logged",
        cookie_value.as_str(),
        key.as_str(),
        &key[8..40],
    ] {
        assert!(!log.contains(secret), "{secret:?} leaked into the log");
    }
}

#[actix_web::test]
async fn no_platform_token_reaches_the_log_even_at_debug() {
    use crate::connect::{at_platform, begin, finish, param};
    let platforms = crate::platforms::Running::start().await;
    platforms
        .platform("x")
        .redirect_uris
        .insert("https://client.example/done".into());
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let server = Server::start_with(&dir.path().join("data"), &db, &platforms.vars(), "debug");
    let browser = server.browser();
    browser.sign_up(&unique_email("tokens"), "Tokens").await;
    let api = crate::harness::ApiClient::new(
        &server.base,
        &browser.create_key("live", "live", &[]).await,
    );
    let (auth_url, state) = begin(&api, "x", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    let code = param(&back, "code").unwrap();
    let (status, account) = finish(&api, "x", &code, &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let id = account["id"].as_str().unwrap();
    db.execute_as_admin("UPDATE connected_accounts SET token_expires_at = token_expires_at - 7000");
    let checked = api
        .post(&format!("/v1/accounts/{id}/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(checked.status(), StatusCode::OK);
    let log = server.kill_9();

    assert!(log.contains("refreshed the token of account"), "{log}");
    let x = platforms.platform("x");
    assert_eq!((x.issued_access.len(), x.issued_refresh.len()), (2, 2));
    for secret in x
        .issued_access
        .iter()
        .chain(&x.issued_refresh)
        .chain([&code, &state])
    {
        assert!(
            !log.contains(secret.as_str()),
            "a token or code leaked into the log"
        );
    }
}

#[test]
fn a_bad_value_stops_the_start_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .env_clear()
        .env("SOCIALIZER_DATA_DIR", dir.path())
        .env("SOCIALIZER_BIND", "not-an-address")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("SOCIALIZER_BIND"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_explicit_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .env_clear()
        .env("SOCIALIZER_DATA_DIR", dir.path())
        .env("SOCIALIZER_ENV", "production")
        .env("SOCIALIZER_PUBLIC_URL", "https://socializer.example")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("SOCIALIZER_ROOT_KEY"));
}

#[test]
fn a_dotenv_file_in_the_working_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "SOCIALIZER_BIND=still-not-an-address\n",
    )
    .unwrap();
    let output = Command::new(BINARY)
        .env_clear()
        .env("SOCIALIZER_DATA_DIR", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("still-not-an-address"));
}

#[test]
fn migrate_applies_migrations_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    for _ in 0..2 {
        let output = Command::new(BINARY)
            .arg("migrate")
            .env_clear()
            .env("SOCIALIZER_DATA_DIR", dir.path().join("data"))
            .env("SOCIALIZER_DATABASE_URL", &db.url)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(db.rows("users"), 0, "the tables exist");
}

#[actix_web::test]
async fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let first = Server::start(&dir.path().join("data"), &db);
    if db.is_postgres() {
        // Several servers on one PostgreSQL is how the service scales out.
        let second = Server::start(&dir.path().join("data2"), &db);
        assert_eq!(
            Browser::new(&second.base).get("/login").await.status(),
            StatusCode::OK
        );
        second.kill_9();
    } else {
        let second = Command::new(BINARY)
            .env_clear()
            .env("SOCIALIZER_DATA_DIR", dir.path().join("data2"))
            .env("SOCIALIZER_DATABASE_URL", &db.url)
            .env("SOCIALIZER_BIND", "127.0.0.1:0")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(!second.status.success(), "{stderr}");
        assert!(
            stderr.contains("another Socializer server is already using"),
            "{stderr}"
        );
    }
    first.kill_9();
    // The lock goes with the process, even one killed: the next start is fine.
    let again = Server::start(&dir.path().join("data"), &db);
    assert_eq!(
        Browser::new(&again.base).get("/login").await.status(),
        StatusCode::OK
    );
    again.kill_9();
}

#[actix_web::test]
async fn what_the_server_writes_is_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let data = dir.path().join("data");
    // An existing, open data folder is tightened too, with what an earlier run left in it.
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(data.join("outbox")).unwrap();
    std::fs::set_permissions(data.join("outbox"), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::write(data.join("outbox").join("old.eml"), "a live link").unwrap();
    std::fs::set_permissions(
        data.join("outbox").join("old.eml"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("umask 000; exec {BINARY}"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SOCIALIZER_DATA_DIR", &data)
        .env("SOCIALIZER_DATABASE_URL", &db.url)
        .env("SOCIALIZER_BIND", "127.0.0.1:0")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_owned();

    // A sign-up (an email into the outbox) and a sandbox connection (sealed tokens).
    let browser = Browser::new(&base);
    browser.sign_up(&unique_email("private"), "Private").await;
    let key = browser.create_key("t", "test", &[]).await;
    let client = crate::harness::ApiClient::new(&base, &key);
    let (auth_url, state) =
        crate::connect::begin(&client, "sandbox", Some("https://a.example/")).await;
    let back = crate::connect::approve_on_sandbox(&base, &auth_url, "private").await;
    let (status, _) = crate::connect::finish(
        &client,
        "sandbox",
        &crate::connect::param(&back, "code").unwrap(),
        &state,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut checked = 0;
    let mut folders = vec![data.clone()];
    while let Some(folder) = folders.pop() {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                checked += 1;
            }
        }
    }
    assert!(data.join("outbox").is_dir(), "the email was written");
    if !db.is_postgres() {
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("test.db")
            {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                checked += 1;
            }
        }
    }
    // Two secrets and an email; on SQLite also the database, its WAL and the server's lock.
    let expected = if db.is_postgres() { 3 } else { 6 };
    assert!(checked >= expected, "{checked} files checked");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[actix_web::test]
async fn what_strangers_send_wrong_is_not_logged_as_an_error() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let server = Server::start(&dir.path().join("data"), &db);
    let address = server.base.trim_start_matches("http://").to_owned();
    for raw in [
        "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_owned(),
        "GARBAGE\r\n\r\n".to_owned(),
        format!(
            "GET /v1/status HTTP/1.1\r\nHost: x\r\n{}\r\n",
            (0..100)
                .map(|i| format!("X-{i}: v\r\n"))
                .collect::<String>()
        ),
    ] {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
    }
    let tampered = reqwest::Client::new()
        .get(format!("{}/login", server.base))
        .header("cookie", "socializer=forged-value")
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), StatusCode::OK);
    let log = server.kill_9();
    let noisy: Vec<_> = log
        .lines()
        .filter(|l| {
            l.contains(" ERROR ") || (l.contains(" WARN ") && !l.contains("socializer::config"))
        })
        .collect();
    assert!(noisy.is_empty(), "{noisy:#?}");
    assert!(
        log.contains("\"GET /login\" 200"),
        "the request log still runs: {log}"
    );
}

#[actix_web::test]
async fn a_commit_survives_kill_9_after_someone_else_opened_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let data = dir.path().join("data");
    let server = Server::start(&data, &db);
    let (first, second) = (unique_email("first"), unique_email("second"));
    let browser = server.browser();
    assert_eq!(
        browser.sign_up(&first, "").await.status(),
        StatusCode::SEE_OTHER
    );
    // Someone looks into the database while the server runs (a backup, an operator's query).
    assert_eq!(db.rows("users"), 1);
    // The server keeps its connections open across many requests meanwhile.
    for _ in 0..20 {
        assert_eq!(browser.get("/login").await.status(), StatusCode::OK);
    }
    let response = server.browser().sign_up(&second, "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.kill_9();

    let server = Server::start(&data, &db);
    for email in [&first, &second] {
        let response = server.browser().log_in(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email}");
    }
    server.kill_9();
}

#[test]
fn a_database_under_two_names_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    if db.is_postgres() {
        // A PostgreSQL database has one name; several servers on it are how it scales.
        let started = Server::start(&dir.path().join("data"), &db);
        started.kill_9();
        return;
    }
    let file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let first = Server::start(&dir.path().join("data"), &db);
    let second_server = |name: &Path| {
        let output = Command::new(BINARY)
            .env_clear()
            .env("SOCIALIZER_DATA_DIR", dir.path().join("data2"))
            .env(
                "SOCIALIZER_DATABASE_URL",
                format!("sqlite://{}", name.display()),
            )
            .env("SOCIALIZER_BIND", "127.0.0.1:0")
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{}", name.display());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // A symbolic link names the same file: the second server is refused as for the file itself.
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let refused = second_server(&link);
    assert!(refused.contains("another Socializer server"), "{refused}");
    // A hard link too: SQLite names its log by path, so a second name is refused outright.
    let hard = dir.path().join("hard.db");
    std::fs::hard_link(&file, &hard).unwrap();
    let refused = second_server(&hard);
    assert!(refused.contains("hard links"), "{refused}");
    first.kill_9();
}

/// What one kind of write answered with success before the kill.
type Answered<T> = std::sync::Arc<std::sync::Mutex<Vec<T>>>;

fn answered<T>() -> Answered<T> {
    std::sync::Arc::new(std::sync::Mutex::new(Vec::new()))
}

fn note<T>(list: &Answered<T>, item: T) {
    list.lock().unwrap_or_else(|p| p.into_inner()).push(item);
}

fn taken<T: Clone>(list: &Answered<T>) -> Vec<T> {
    list.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The server stopped answering (it was killed).
struct Gone;

/// Sends a write: `field` of the answer when it was 201 Created, `None` for any other answer.
async fn created(request: reqwest::RequestBuilder, field: &str) -> Result<Option<String>, Gone> {
    let answer = request.send().await.map_err(|_| Gone)?;
    if answer.status() != StatusCode::CREATED {
        return Ok(None);
    }
    let body: serde_json::Value = answer.json().await.map_err(|_| Gone)?;
    Ok(body[field].as_str().map(str::to_owned))
}

#[actix_web::test]
async fn every_write_answered_before_a_kill_9_mid_burst_is_there_after_it() {
    use crate::harness::ApiClient;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let data = dir.path().join("data");
    let vars = [(
        "SOCIALIZER_RATE_LIMIT_FREE".to_owned(),
        "1000000".to_owned(),
    )];
    let server = Server::start_with(&data, &db, &vars, "warn");
    let base = server.base.clone();
    let owner = server.browser();
    owner.sign_up(&unique_email("burst"), "Burst").await;
    let live = ApiClient::new(&base, &owner.create_key("burst", "live", &[]).await);
    let test = ApiClient::new(&base, &owner.create_key("burst test", "test", &[]).await);

    // Ready before the burst: keys to revoke during it, and sandbox flows approved by the user,
    // waiting only for the write that finishes them.
    let mut victims = Vec::new();
    for n in 0..15 {
        let (status, _, made) = crate::harness::json(
            live.post("/v1/api-keys")
                .json(&serde_json::json!({ "label": format!("victim {n}") })),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        victims.push((
            made["id"].as_str().unwrap().to_owned(),
            made["plaintext"].as_str().unwrap().to_owned(),
        ));
    }
    let landing = "https://app.example/cb";
    let mut flows = Vec::new();
    for n in 0..15 {
        let (auth_url, state) = crate::connect::begin(&test, "sandbox", Some(landing)).await;
        let back = crate::connect::approve_on_sandbox(&base, &auth_url, &format!("burst{n}")).await;
        let code = crate::connect::param(&back, "code").unwrap();
        flows.push((code, state));
    }

    let (signed_up, made, revoked, connected) = (answered(), answered(), answered(), answered());
    let mut burst = Vec::new();
    {
        let (base, signed_up) = (base.clone(), signed_up.clone());
        burst.push(tokio::spawn(async move {
            for n in 0..15 {
                let email = unique_email(&format!("signup{n}"));
                let browser = Browser::new(&base);
                let Ok(page) = browser.client.get(format!("{base}/signup")).send().await else {
                    return;
                };
                let Ok(html) = page.text().await else { return };
                let token = crate::harness::csrf_in(&html);
                let sent = browser
                    .client
                    .post(format!("{base}/signup"))
                    .form(&[
                        ("email", email.as_str()),
                        ("password", PASSWORD),
                        ("workspace", "Burst signup"),
                        ("csrf_token", token.as_str()),
                    ])
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::SEE_OTHER => note(&signed_up, email),
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        }));
    }
    {
        let (live, made) = (live.clone(), made.clone());
        burst.push(tokio::spawn(async move {
            for n in 0..200 {
                let request = live
                    .post("/v1/api-keys")
                    .json(&serde_json::json!({ "label": format!("made {n}") }));
                match created(request, "plaintext").await {
                    Err(Gone) => return,
                    Ok(Some(key)) => note(&made, key),
                    Ok(None) => {}
                }
            }
        }));
    }
    {
        let (live, revoked) = (live.clone(), revoked.clone());
        burst.push(tokio::spawn(async move {
            for (id, plaintext) in victims {
                let sent = live.delete(&format!("/v1/api-keys/{id}")).send().await;
                match sent {
                    Ok(r) if r.status() == StatusCode::NO_CONTENT => note(&revoked, plaintext),
                    Ok(_) => {}
                    Err(_) => return,
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    {
        let (test, connected) = (test.clone(), connected.clone());
        burst.push(tokio::spawn(async move {
            for (code, state) in flows {
                let request = test
                    .post("/v1/connect/sandbox")
                    .json(&serde_json::json!({ "code": code, "state": state }));
                match created(request, "id").await {
                    Err(Gone) => return,
                    Ok(Some(id)) => note(&connected, id),
                    Ok(None) => {}
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }

    // The kill comes while every kind of write is under way: once each has been answered at
    // least once, and before the burst is over.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let started = [
            taken(&signed_up).len(),
            taken(&made).len(),
            taken(&revoked).len(),
            taken(&connected).len(),
        ];
        if started.iter().all(|n| *n >= 1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the burst never got going: {started:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill_9();
    for task in burst {
        task.await.expect("a burst task ends without panicking");
    }
    let (signed_up, made, revoked, connected) = (
        taken(&signed_up),
        taken(&made),
        taken(&revoked),
        taken(&connected),
    );
    eprintln!(
        "answered before the kill: {} sign-ups, {} keys made, {} revoked, {} connected",
        signed_up.len(),
        made.len(),
        revoked.len(),
        connected.len()
    );
    assert!(made.len() < 200, "the kill came mid-burst");

    let server = Server::start_with(&data, &db, &vars, "warn");
    let base = server.base.clone();
    for email in &signed_up {
        let response = Browser::new(&base).log_in(email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{email} signed up"
        );
    }
    for key in &made {
        let client = ApiClient::new(&base, key);
        assert_eq!(
            crate::harness::status_of(client.get("/v1/status")).await,
            StatusCode::OK,
            "a key answered as made works"
        );
    }
    for key in &revoked {
        let client = ApiClient::new(&base, key);
        assert_eq!(
            crate::harness::status_of(client.get("/v1/status")).await,
            StatusCode::UNAUTHORIZED,
            "a key answered as revoked stays revoked"
        );
    }
    let test = ApiClient::new(&base, &test.key);
    let (_, _, listed) = crate::harness::json(test.get("/v1/accounts")).await;
    let listed: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    for id in &connected {
        assert!(
            listed.contains(&id.as_str()),
            "{id} was answered as connected"
        );
    }
    server.kill_9();
}

/// A server starting while another connection holds the SQLite file exclusively (as the last
/// connection of a server that is shutting down does while it checkpoints) waits for it instead
/// of failing at once with "database is locked".
#[actix_web::test]
async fn a_server_starting_while_the_file_is_busy_waits_for_it() {
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection as _;
    let holder = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(TestDatabase::create(holder.path()));
    if db.is_postgres() {
        return;
    }
    // The file exists, migrated, in WAL mode, as after an earlier run.
    drop(crate::harness::TestApp::spawn_on(db.clone(), |_| {}).await);
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let mut busy = diesel::SqliteConnection::establish(&path).unwrap();
    // The server just stopped may still be closing its last connection: wait for it.
    busy.batch_execute(
        "PRAGMA busy_timeout = 5000; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; \
         SELECT 1 FROM users LIMIT 1;",
    )
    .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        busy.batch_execute("COMMIT").unwrap();
        drop(busy);
    });
    let app = crate::harness::TestApp::spawn_on(db.clone(), |_| {}).await;
    assert_eq!(
        reqwest::get(format!("{}/healthz", app.base))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    release.join().unwrap();
}
