//! Starts the real server on a random port over a fresh database: a temporary SQLite file, or a
//! fresh PostgreSQL schema when `SOCIALIZER_TEST_DATABASE_URL` is set.

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection};
use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{Response, StatusCode, redirect};
use socializer::app::Application;
use socializer::config::Config;
use std::collections::HashMap;
use std::sync::Arc;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery";

/// A database for one test, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    pg_schema: Option<(String, String)>,
}

impl TestDatabase {
    pub fn create(dir: &std::path::Path) -> Self {
        match std::env::var("SOCIALIZER_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            None => Self {
                url: format!("sqlite://{}", dir.join("test.db").display()),
                pg_schema: None,
            },
            Some(admin) => {
                let schema = format!("t_{}", hex::encode(socializer::crypto::random_bytes::<8>()));
                let mut conn = PgConnection::establish(&admin)
                    .expect("connect to SOCIALIZER_TEST_DATABASE_URL");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create test schema");
                let mut url =
                    url::Url::parse(&admin).expect("SOCIALIZER_TEST_DATABASE_URL is a URL");
                url.query_pairs_mut()
                    .append_pair("options", &format!("-csearch_path={schema}"));
                Self {
                    url: url.to_string(),
                    pg_schema: Some((admin, schema)),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_schema.is_some()
    }

    /// Runs SQL as the test's admin (the owner of the tables), for arranging states that
    /// take too long to reach through the service (e.g. an expired session).
    pub fn execute_as_admin(&self, sql: &str) {
        match &self.pg_schema {
            Some(_) => {
                let mut conn = PgConnection::establish(&self.url).expect("connect");
                conn.batch_execute(sql).expect("admin SQL");
            }
            None => self.sqlite_admin().batch_execute(sql).expect("admin SQL"),
        }
    }

    /// Runs SQL as the service itself would: on PostgreSQL as its role, inside `workspace` (so
    /// row-level security lets the rows through and only the grants decide); on SQLite on the
    /// file as it is. The database's refusal, if any.
    pub fn execute_as_service(&self, workspace: &str, sql: &str) -> Result<(), String> {
        match &self.pg_schema {
            Some(_) => {
                let mut conn = PgConnection::establish(&self.url).expect("connect");
                conn.batch_execute(&format!(
                    "BEGIN; SET LOCAL ROLE socializer_app;                      SELECT set_config('app.workspace_id', '{workspace}', true); {sql}; COMMIT"
                ))
                .map_err(|e| e.to_string())
            }
            None => self
                .sqlite_admin()
                .batch_execute(sql)
                .map_err(|e| e.to_string()),
        }
    }

    /// On SQLite, a connection holding the write lock until it is dropped, as another process
    /// in the middle of a write would. None on PostgreSQL.
    pub fn hold_write_lock(&self) -> Option<diesel::SqliteConnection> {
        if self.is_postgres() {
            return None;
        }
        let mut conn = self.sqlite_admin();
        conn.batch_execute("BEGIN IMMEDIATE").expect("write lock");
        Some(conn)
    }

    /// A connection to the SQLite file that, like the server's, waits for a writer to finish
    /// instead of failing with "database is locked".
    fn sqlite_admin(&self) -> diesel::SqliteConnection {
        let path = self.url.trim_start_matches("sqlite://");
        let mut conn = diesel::SqliteConnection::establish(path).expect("open sqlite");
        conn.batch_execute("PRAGMA busy_timeout = 5000")
            .expect("busy timeout");
        conn
    }

    /// How many rows `table` holds, counted as the admin (past row-level security).
    pub fn rows(&self, table: &str) -> i64 {
        self.count_as_admin(&format!("SELECT COUNT(*) AS n FROM {table}"))
    }

    /// One text value (column `v`) from a query run as the admin.
    pub fn first_text_as_admin(&self, sql: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let rows: Vec<Text> = self.load_as_admin(sql);
        rows.into_iter().next().map(|t| t.v).expect("one row")
    }

    /// The rows of a query run as the admin.
    pub fn load_as_admin<T>(&self, sql: &str) -> Vec<T>
    where
        T: diesel::QueryableByName<diesel::pg::Pg>
            + diesel::QueryableByName<diesel::sqlite::Sqlite>
            + 'static,
    {
        use diesel::RunQueryDsl as _;
        match &self.pg_schema {
            Some(_) => {
                let mut conn = PgConnection::establish(&self.url).expect("connect");
                diesel::sql_query(sql).load(&mut conn).expect("admin query")
            }
            None => diesel::sql_query(sql)
                .load(&mut self.sqlite_admin())
                .expect("admin query"),
        }
    }

    /// One number from a query run as the admin.
    pub fn count_as_admin(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<Count> = self.load_as_admin(sql);
        rows.first().map(|c| c.n).expect("one row")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, schema)) = &self.pg_schema
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// The variables a test server starts with; tests add or change some.
pub fn base_vars(dir: &TempDir, db: &TestDatabase) -> HashMap<String, String> {
    HashMap::from([
        (
            "SOCIALIZER_DATA_DIR".to_owned(),
            dir.path().join("data").display().to_string(),
        ),
        ("SOCIALIZER_DATABASE_URL".to_owned(), db.url.clone()),
        ("SOCIALIZER_BIND".to_owned(), "127.0.0.1:0".to_owned()),
    ])
}

/// Not a variable the server reads: a test's mailbox names the folder where the server's mail
/// lands, so that its browsers can follow the links sent to them.
pub const MAIL_FOLDER_VAR: &str = "SOCIALIZER_TEST_MAIL_FOLDER";

pub struct TestApp {
    pub base: String,
    pub dir: TempDir,
    pub db: Arc<TestDatabase>,
    /// Where the server's mail lands, one file a message: the outbox, or a test's maildir.
    pub mail: std::path::PathBuf,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; joining the thread waits until the server, its
        // workers and its database pool are gone, so tests never pile up connections.
        drop(self.server.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose variables `adjust` may change.
    pub async fn spawn_with(adjust: impl FnOnce(&mut HashMap<String, String>)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(TestDatabase::create(dir.path()));
        Self::spawn_in(dir, db, adjust).await
    }

    /// Starts a server whose configuration `adjust` may change (what no variable sets).
    pub async fn spawn_configured(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Arc::new(TestDatabase::create(dir.path()));
        let mut config = Self::config_for(&dir, &db, |_| {});
        adjust(&mut config);
        Self::start(dir, db, config).await
    }

    /// Another server over the database of an earlier one (which may be gone).
    pub async fn spawn_on(
        db: Arc<TestDatabase>,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn_in(dir, db, adjust).await
    }

    /// The configuration a server over `db` would start with, `adjust`ed.
    pub fn config_for(
        dir: &TempDir,
        db: &TestDatabase,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Config {
        let mut vars = base_vars(dir, db);
        adjust(&mut vars);
        Config::from_lookup(|name| vars.get(name).cloned()).expect("test config")
    }

    async fn spawn_in(
        dir: TempDir,
        db: Arc<TestDatabase>,
        adjust: impl FnOnce(&mut HashMap<String, String>),
    ) -> Self {
        let mut mail = None;
        let config = Self::config_for(&dir, &db, |vars| {
            adjust(vars);
            mail = vars.get(MAIL_FOLDER_VAR).map(std::path::PathBuf::from);
        });
        let mut app = Self::start(dir, db, config).await;
        if let Some(folder) = mail {
            app.mail = folder;
        }
        app
    }

    async fn start(dir: TempDir, db: Arc<TestDatabase>, mut config: Config) -> Self {
        config.workers = Some(2);
        config.key_usage_flush = std::time::Duration::from_millis(200);
        // The server runs on a thread of its own, with its own runtime, like the real process.
        let (started, ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(config).await.expect("server starts");
                started
                    .send((app.address(), app.handle()))
                    .expect("test is waiting");
                app.run_until_stopped().await.expect("server runs");
            })
        });
        let (address, server) =
            tokio::task::spawn_blocking(move || ready.recv().expect("server started"))
                .await
                .expect("wait for the server");
        // Clients talk to the bound address, whatever public URL the server was given.
        let base = format!("http://{address}");
        let mail = dir.path().join("data").join("outbox");
        Self {
            base,
            dir,
            db,
            mail,
            server,
            thread: Some(thread),
        }
    }

    /// A fresh browser: its own cookie jar, redirects not followed. It reads this server's
    /// outbox, so that signing up confirms the address as its owner would.
    pub fn browser(&self) -> Browser {
        let mut browser = Browser::new(&self.base);
        browser.mail = Some(self.mail.clone());
        browser
    }

    pub fn outbox(&self) -> std::path::PathBuf {
        self.dir.path().join("data").join("outbox")
    }
}

pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    /// Where the server's mail lands, when the test reads it (see `sign_up`).
    pub mail: Option<std::path::PathBuf>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::built(base, reqwest::Client::builder())
    }

    /// A fresh browser that names itself `user_agent`.
    pub fn with_user_agent(base: &str, user_agent: &str) -> Self {
        Self::built(base, reqwest::Client::builder().user_agent(user_agent))
    }

    fn built(base: &str, builder: reqwest::ClientBuilder) -> Self {
        let client = builder
            // Under the server's 5 s keep-alive: a connection the server is closing is never
            // picked for the next request (which would fail as an incomplete message).
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            base: base.to_owned(),
            client,
            mail: None,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// Posts a form as the browser would from `page`: with the CSRF token that page carries.
    pub async fn submit(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf(page).await;
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form(path, &fields).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// The CSRF token of the form on the page at `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.text().await.expect("page");
        csrf_in(&html)
    }

    /// Signs up and, when the browser reads the outbox, follows the confirmation link that
    /// sign-up sent, as the address's owner would: most tests act as a confirmed account.
    pub async fn sign_up(&self, email: &str, workspace: &str) -> Response {
        let response = self.sign_up_unconfirmed(email, workspace).await;
        if response.status() == StatusCode::SEE_OTHER
            && let Some(mail) = &self.mail
        {
            let path = confirmation_link(mail, email).await;
            let confirmed = self.get(&path).await;
            assert_eq!(confirmed.status(), StatusCode::OK, "confirmation link");
        }
        response
    }

    /// Signs up without opening the confirmation link.
    pub async fn sign_up_unconfirmed(&self, email: &str, workspace: &str) -> Response {
        let token = self.csrf("/signup").await;
        self.post_form(
            "/signup",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("workspace", workspace),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        let token = self.csrf("/login").await;
        self.post_form(
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
            ],
        )
        .await
    }

    pub async fn log_out(&self) -> Response {
        let token = self.csrf("/dashboard").await;
        self.post_form("/logout", &[("csrf_token", &token)]).await
    }

    /// Creates a key on the settings page and returns its one showing.
    pub async fn create_key(&self, label: &str, mode: &str, scopes: &[&str]) -> String {
        let mut fields = vec![("label", label), ("mode", mode)];
        fields.extend(scopes.iter().map(|s| ("scopes", *s)));
        self.create_key_with(&fields).await
    }

    /// A key made on the settings page from these form fields; its plaintext, shown once on
    /// the page the form redirects to.
    pub async fn create_key_with(&self, fields: &[(&str, &str)]) -> String {
        let page = "/settings/api-keys";
        let response = self.submit(page, page, fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "key created");
        assert_eq!(location(response.headers()), page);
        new_key_in(&self.page(page).await)
    }

    /// The dashboard's HTML, asserting that it is shown (signed in).
    pub async fn dashboard(&self) -> String {
        self.page("/dashboard").await
    }

    /// A page's HTML, asserting that it is shown.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path} should be shown");
        response.text().await.expect("page")
    }
}

/// The path of the newest confirmation link sent to `email`, waiting for it.
pub async fn confirmation_link(mail: &std::path::Path, email: &str) -> String {
    mailed_link(mail, email, "/verify-email").await
}

/// The messages sent to `email` that contain `wanted`, decoded, oldest first, from the folder
/// where the server's mail lands, waiting up to 5 s for the first (mail goes out after the
/// answer).
pub async fn mailed(mail: &std::path::Path, email: &str, wanted: &str) -> Vec<String> {
    let to = format!("to: {}", email.to_lowercase());
    for _ in 0..100 {
        let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(mail)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let text = decode_quoted_printable(&std::fs::read_to_string(entry.path()).ok()?);
                let modified = entry.metadata().ok()?.modified().ok()?;
                (text.to_lowercase().contains(&to) && text.contains(wanted))
                    .then_some((modified, text))
            })
            .collect();
        if !found.is_empty() {
            found.sort_by_key(|(at, _)| *at);
            return found.into_iter().map(|(_, text)| text).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "no message to {email} with {wanted:?} in {}",
        mail.display()
    );
}

/// The path of the newest link to `path` (`/reset-password`) sent to `email`, found in the
/// folder where the server's mail lands, waiting for it (mail goes out after the answer).
pub async fn mailed_link(mail: &std::path::Path, email: &str, path: &str) -> String {
    let wanted = format!("{path}?token=");
    let newest = mailed(mail, email, &wanted).await.pop().expect("a message");
    let link = newest
        .split_whitespace()
        .find(|w| w.contains(&wanted))
        .expect("a link");
    link[link.find(path).expect("path")..].to_owned()
}

pub fn csrf_in(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(r#"input[name="csrf_token"]"#).expect("selector");
    doc.select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_owned)
        .expect("the page has a CSRF token")
}

/// The texts of the elements matching `css`.
pub fn texts(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).expect("selector");
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// The attribute `name` of the first element matching `css`, which must have it.
pub fn attr_of(html: &str, css: &str, name: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).expect("selector");
    doc.select(&selector)
        .find_map(|e| e.value().attr(name))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no {css} with {name} in the page"))
}

/// A header's value as text, or empty when it is missing.
pub fn header_value(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn location(headers: &HeaderMap) -> String {
    headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn unique_email(name: &str) -> String {
    format!(
        "{name}-{}@example.com",
        hex::encode(socializer::crypto::random_bytes::<4>())
    )
}

/// The body of a quoted-printable email as text (soft line breaks joined, `=XX` decoded).
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 email")
}

/// A program calling the API with a key.
#[derive(Clone)]
pub struct ApiClient {
    pub base: String,
    pub client: reqwest::Client,
    pub key: String,
}

impl ApiClient {
    pub fn new(base: &str, key: &str) -> Self {
        Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .expect("http client"),
            key: key.to_owned(),
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    pub fn patch(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .patch(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }
}

/// An API answer's status and JSON body.
pub async fn json(request: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, serde_json::Value) {
    let response = request.send().await.expect("request");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

/// An answer's status alone.
pub async fn status_of(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.expect("request").status()
}

/// An error answer's status and its `error.code` (empty when there is none).
pub async fn error_of(request: reqwest::RequestBuilder) -> (StatusCode, String) {
    let (status, _, body) = json(request).await;
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, code)
}

/// An answer's body exactly as sent.
pub async fn text(request: reqwest::RequestBuilder) -> String {
    request
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

/// The new key shown once on the API keys page.
pub fn new_key_in(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("#new-key").expect("selector");
    doc.select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_owned)
        .expect("the new key is shown once")
}

/// The value of a `Set-Cookie` header's cookie (`name=VALUE; attributes`).
pub fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().expect("a cookie");
    pair.split_once('=').expect("name=value").1.to_owned()
}

/// Runs every future at once (each on its own task) and answers their outputs in order.
pub async fn all_at_once<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let tasks: Vec<_> = futures.map(tokio::task::spawn_local).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

/// A message with every masked key's last four characters left out ("sk_live_…a1b2" becomes
/// "sk_live_…"), to compare messages about keys whose secrets a test does not hold.
pub fn without_last4(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(at) = rest.find('…') {
        let (before, after) = rest.split_at(at + '…'.len_utf8());
        out.push_str(before);
        let skip: usize = after.chars().take(4).map(char::len_utf8).sum();
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}
