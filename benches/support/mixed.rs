//! The mixed traffic of the memory run and the soak, spread over every server process given:
//! people signing up and in through the pages, owners going through the settings pages and
//! making keys there, API clients reading and writing through `/v1`, and connections to X and
//! LinkedIn through the stand-in, checked and sometimes disconnected. Every answer is counted
//! by kind and status, and any answer other than the one expected is kept to show.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// Answers by kind of request and status, and what was not as expected.
#[derive(Default)]
pub struct Tally {
    pub kinds: BTreeMap<&'static str, BTreeMap<u16, usize>>,
    pub unexpected: Vec<String>,
    pub unexpected_count: usize,
}

impl Tally {
    pub fn answered(&self) -> usize {
        self.kinds.values().flat_map(|s| s.values()).sum()
    }

    /// Answers with a status of 500 or more (0: no answer at all).
    pub fn server_errors(&self) -> usize {
        self.kinds
            .values()
            .flat_map(|s| s.iter())
            .filter(|(status, _)| **status >= 500 || **status == 0)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn show(&self) {
        for (kind, statuses) in &self.kinds {
            println!("{kind:<40} {statuses:?}");
        }
        for line in self.unexpected.iter().take(20) {
            println!("unexpected: {line}");
        }
    }
}

#[derive(Clone)]
struct Traffic {
    bases: Arc<Vec<String>>,
    turn: Arc<AtomicUsize>,
    tally: Arc<Mutex<Tally>>,
    stop: Arc<AtomicBool>,
    /// Where the API clients' connect flows end (registered at the stand-in).
    redirect: Arc<str>,
    /// Every process's outbox, where the confirmation links of sign-ups land.
    outboxes: Arc<Vec<std::path::PathBuf>>,
}

impl Traffic {
    /// The next process, in turn: every kind of request goes to all of them.
    fn base(&self) -> &str {
        &self.bases[self.turn.fetch_add(1, Ordering::Relaxed) % self.bases.len()]
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sends, counts, and answers the response when its status is one of `expected`.
    async fn send(
        &self,
        kind: &'static str,
        request: reqwest::RequestBuilder,
        expected: &[u16],
    ) -> Option<reqwest::Response> {
        let (status, response, failure) = match request.send().await {
            Ok(response) => (response.status().as_u16(), Some(response), None),
            Err(e) => (0, None, Some(e.to_string())),
        };
        let ok = expected.contains(&status);
        let mut tally = self.tally.lock().unwrap();
        *tally
            .kinds
            .entry(kind)
            .or_default()
            .entry(status)
            .or_default() += 1;
        if !ok {
            tally.unexpected_count += 1;
            if tally.unexpected.len() < 50 {
                tally
                    .unexpected
                    .push(format!("{kind}: {status} {}", failure.unwrap_or_default()));
            }
        }
        if ok { response } else { None }
    }

    fn note(&self, what: String) {
        let mut tally = self.tally.lock().unwrap();
        tally.unexpected_count += 1;
        if tally.unexpected.len() < 50 {
            tally.unexpected.push(what);
        }
    }
}

/// An HTTP client as a well-behaved one is set up for this server: it drops connections idle
/// for 4 s, before the server's 5 s timeouts end them. (A client that keeps a connection it
/// opened but never used past them is sent 408 on it, which the client's pool may read as the
/// answer to the next request it sends there.)
fn http_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(4))
}

fn browser() -> reqwest::Client {
    http_client().cookie_store(true).build().unwrap()
}

fn csrf_in(html: &str) -> Option<String> {
    attr(html, r#"input[name="csrf_token"]"#, "value")
}

fn attr(html: &str, css: &str, name: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).unwrap();
    doc.select(&selector)
        .find_map(|e| e.value().attr(name))
        .map(str::to_owned)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A made-up client address, different for every `n`: the per-address limits on sign-up and
/// sign-in are for floods from one address, which this traffic is not.
fn address(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

static ADDRESSES: AtomicUsize = AtomicUsize::new(1);

fn next_address() -> String {
    address(ADDRESSES.fetch_add(1, Ordering::Relaxed))
}

/// A workspace the traffic made: its owner's sign-in and a key made on its settings page.
#[derive(Clone)]
pub struct Workspace {
    pub email: String,
    pub key: String,
}

impl Traffic {
    /// Shows the page at `page` and posts its form to `path` with `fields`; answers the post's
    /// response. The two may go to different processes, as behind a load balancer.
    async fn submit(
        &self,
        client: &reqwest::Client,
        kind: &'static str,
        (page, path): (&str, &str),
        from: &str,
        fields: &[(&str, &str)],
        expected: &[u16],
    ) -> Option<reqwest::Response> {
        let page = self
            .send(
                "page: GET (form)",
                client
                    .get(format!("{}{page}", self.base()))
                    .header("x-forwarded-for", from),
                &[200],
            )
            .await?;
        let token = csrf_in(&page.text().await.ok()?)?;
        let mut form = fields.to_vec();
        form.push(("csrf_token", &token));
        self.send(
            kind,
            client
                .post(format!("{}{path}", self.base()))
                .header("x-forwarded-for", from)
                .form(&form),
            expected,
        )
        .await
    }

    async fn sign_up(&self, client: &reqwest::Client, email: &str) -> bool {
        let fields = [
            ("email", email),
            ("password", PASSWORD),
            ("workspace", "Soak"),
        ];
        self.submit(
            client,
            "page: POST /signup",
            ("/signup", "/signup"),
            &next_address(),
            &fields,
            &[303],
        )
        .await
        .is_some()
    }

    async fn sign_in(&self, client: &reqwest::Client, email: &str) -> bool {
        let fields = [("email", email), ("password", PASSWORD)];
        self.submit(
            client,
            "page: POST /login",
            ("/login", "/login"),
            &next_address(),
            &fields,
            &[303],
        )
        .await
        .is_some()
    }

    /// A key made on the settings page; its plaintext, shown once on the page the form
    /// redirects to.
    async fn key_from_page(&self, client: &reqwest::Client, label: &str) -> Option<String> {
        let page = "/settings/api-keys";
        let fields = [("label", label), ("mode", "live")];
        self.submit(
            client,
            "page: POST /settings/api-keys",
            (page, page),
            "10.0.0.1",
            &fields,
            &[303],
        )
        .await?;
        let shown = self
            .send(
                "page: GET (the new key)",
                client.get(format!("{}{page}", self.base())),
                &[200],
            )
            .await?;
        attr(&shown.text().await.ok()?, "#new-key", "value")
    }

    /// The confirmation link sent to `email`, from whichever process sent it.
    async fn confirmation_link(&self, email: &str) -> Option<String> {
        for _ in 0..100 {
            for outbox in self.outboxes.iter() {
                for entry in std::fs::read_dir(outbox).into_iter().flatten().flatten() {
                    let Ok(raw) = std::fs::read_to_string(entry.path()) else {
                        continue;
                    };
                    // Quoted-printable: soft line breaks, and `=` written as `=3D`.
                    let text = raw
                        .replace("=\r\n", "")
                        .replace("=\n", "")
                        .replace("=3D", "=");
                    if !text.contains(&format!("To: {email}")) {
                        continue;
                    }
                    let link = text
                        .split_whitespace()
                        .find(|w| w.contains("/verify-email?token="))?;
                    return Some(link[link.find("/verify-email")?..].to_owned());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    async fn new_workspace(&self, n: usize) -> Option<(reqwest::Client, Workspace)> {
        let client = browser();
        let email = format!("soak-{}-{n}@example.com", std::process::id());
        if !self.sign_up(&client, &email).await {
            return None;
        }
        // Live keys and live connects wait for a confirmed address.
        let link = self.confirmation_link(&email).await?;
        let confirmed = client
            .get(format!("{}{link}", self.base()))
            .send()
            .await
            .ok()?;
        if confirmed.status() != 200 {
            return None;
        }
        let key = self.key_from_page(&client, "soak").await?;
        Some((client, Workspace { email, key }))
    }
}

/// The traffic, running until [`Mixed::stop`].
pub struct Mixed {
    traffic: Traffic,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub workspaces: Vec<Workspace>,
}

impl Mixed {
    /// Makes `workspaces` workspaces through the pages, then starts their traffic: per
    /// workspace one person on the pages, two API clients and one client connecting accounts,
    /// plus one stream of sign-ups and sign-ins for all (one password hash at a time).
    pub async fn start(
        bases: Vec<String>,
        outboxes: Vec<std::path::PathBuf>,
        workspaces: usize,
        redirect: &str,
    ) -> Self {
        let traffic = Traffic {
            bases: Arc::new(bases),
            outboxes: Arc::new(outboxes),
            turn: Arc::new(AtomicUsize::new(0)),
            tally: Arc::new(Mutex::new(Tally::default())),
            stop: Arc::new(AtomicBool::new(false)),
            redirect: redirect.into(),
        };
        let mut made = Vec::new();
        let mut tasks = Vec::new();
        for n in 0..workspaces {
            let (client, workspace) = traffic
                .new_workspace(n)
                .await
                .expect("a workspace is made through the pages");
            tasks.push(tokio::spawn(pages(
                traffic.clone(),
                client,
                workspace.clone(),
            )));
            for _ in 0..2 {
                tasks.push(tokio::spawn(api(traffic.clone(), workspace.key.clone())));
            }
            tasks.push(tokio::spawn(connects(
                traffic.clone(),
                workspace.key.clone(),
                n % 2 == 1,
            )));
            made.push(workspace);
        }
        tasks.push(tokio::spawn(people(traffic.clone(), made.clone())));
        Self {
            traffic,
            tasks,
            workspaces: made,
        }
    }

    pub async fn stop(self) -> Tally {
        self.traffic.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        std::mem::take(&mut *self.traffic.tally.lock().unwrap())
    }
}

/// An owner on the settings pages; every fifth round makes a key there, which an API client
/// revokes.
async fn pages(t: Traffic, client: reqwest::Client, workspace: Workspace) {
    let api = http_client().build().unwrap();
    let mut round = 0usize;
    while !t.stopped() {
        for path in [
            "/dashboard",
            "/settings/api-keys",
            "/settings/members",
            "/settings/accounts",
            "/settings/audit",
            "/settings/workspace",
            "/settings/security",
        ] {
            let request = client.get(format!("{}{path}", t.base()));
            t.send("page: GET (signed in)", request, &[200]).await;
        }
        let label = format!("page {round}");
        if round.is_multiple_of(5)
            && let Some(key) = t.key_from_page(&client, &label).await
        {
            let listed = t
                .send(
                    "api: GET /v1/api-keys",
                    api.get(format!("{}/v1/api-keys", t.base()))
                        .bearer_auth(&workspace.key),
                    &[200],
                )
                .await;
            let listed: serde_json::Value = match listed {
                Some(r) => r.json().await.unwrap_or_default(),
                None => serde_json::Value::Null,
            };
            let last4 = &key[key.len() - 4..];
            let id = listed["data"].as_array().and_then(|keys| {
                keys.iter()
                    .find(|k| k["label"] == label.as_str() && k["last4"] == last4)
                    .and_then(|k| k["id"].as_str().map(str::to_owned))
            });
            let status = api.get(format!("{}/v1/status", t.base())).bearer_auth(&key);
            t.send("api: GET /v1/status (page's key)", status, &[200])
                .await;
            match id {
                Some(id) => {
                    let revoke = api
                        .delete(format!("{}/v1/api-keys/{id}", t.base()))
                        .bearer_auth(&workspace.key);
                    t.send("api: DELETE /v1/api-keys/{id}", revoke, &[204])
                        .await;
                    // The other process hears of it within the promised 100 ms.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let status = api.get(format!("{}/v1/status", t.base())).bearer_auth(&key);
                    t.send("api: GET /v1/status (revoked key)", status, &[401])
                        .await;
                }
                None => t.note(format!("the key made on the page is not listed: {listed}")),
            }
        }
        round += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An API client reading everything it may, and making and revoking a key every tenth round.
async fn api(t: Traffic, key: String) {
    let client = http_client().build().unwrap();
    let mut round = 0usize;
    while !t.stopped() {
        for (kind, path) in [
            ("api: GET /v1/status", "/v1/status"),
            ("api: GET /v1/accounts", "/v1/accounts"),
            ("api: GET /v1/api-keys", "/v1/api-keys"),
            ("api: GET /v1/members", "/v1/members"),
            ("api: GET /v1/audit-events", "/v1/audit-events"),
        ] {
            let request = client.get(format!("{}{path}", t.base())).bearer_auth(&key);
            t.send(kind, request, &[200]).await;
        }
        if round.is_multiple_of(10) {
            let create = client
                .post(format!("{}/v1/api-keys", t.base()))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "label": format!("soak {round}") }));
            if let Some(made) = t.send("api: POST /v1/api-keys", create, &[201]).await {
                let made: serde_json::Value = made.json().await.unwrap_or_default();
                let id = made["id"].as_str().unwrap_or_default();
                let revoke = client
                    .delete(format!("{}/v1/api-keys/{id}", t.base()))
                    .bearer_auth(&key);
                t.send("api: DELETE /v1/api-keys/{id}", revoke, &[204])
                    .await;
            }
        }
        round += 1;
    }
}

/// Connects X through the API (the stand-in approves at once), checks it every round, which
/// refreshes its short-lived token when near expiry as the background refreshers do; LinkedIn
/// every tenth round; when `disconnects`, disconnects X every fifteenth and connects it again.
async fn connects(t: Traffic, key: String, disconnects: bool) {
    let client = http_client().build().unwrap();
    let platform = http_client().build().unwrap();
    let mut x: Option<String> = None;
    let mut round = 0usize;
    while !t.stopped() {
        if x.is_none() {
            x = connect(&t, &client, &platform, &key, "x").await;
        } else if let Some(id) = &x {
            let check = client
                .post(format!("{}/v1/accounts/{id}/check", t.base()))
                .bearer_auth(&key);
            if let Some(checked) = t
                .send("api: POST /v1/accounts/{id}/check", check, &[200])
                .await
            {
                let checked: serde_json::Value = checked.json().await.unwrap_or_default();
                if checked["status"] != "active" {
                    t.note(format!("a checked account is not active: {checked}"));
                }
            }
        }
        if round % 10 == 5 {
            connect(&t, &client, &platform, &key, "linkedin").await;
        }
        if disconnects
            && round % 15 == 14
            && let Some(id) = x.take()
        {
            let disconnect = client
                .delete(format!("{}/v1/accounts/{id}", t.base()))
                .bearer_auth(&key);
            t.send("api: DELETE /v1/accounts/{id}", disconnect, &[204])
                .await;
        }
        round += 1;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// One connect flow through the API; answers the account's id.
async fn connect(
    t: &Traffic,
    client: &reqwest::Client,
    platform: &reqwest::Client,
    key: &str,
    name: &str,
) -> Option<String> {
    let begin = client
        .get(format!("{}/v1/connect/{name}", t.base()))
        .query(&[("redirect_uri", &*t.redirect)])
        .bearer_auth(key);
    let begun: serde_json::Value = t
        .send("api: GET /v1/connect/{platform}", begin, &[200])
        .await?
        .json()
        .await
        .ok()?;
    let auth_url = begun["auth_url"].as_str()?;
    let approved = t
        .send("platform: authorize", platform.get(auth_url), &[302])
        .await?;
    let back = approved
        .headers()
        .get("location")?
        .to_str()
        .ok()?
        .to_owned();
    let (code, state) = (query_param(&back, "code")?, query_param(&back, "state")?);
    let finish = client
        .post(format!("{}/v1/connect/{name}", t.base()))
        .bearer_auth(key)
        .json(&serde_json::json!({ "code": code, "state": state }));
    let account: serde_json::Value = t
        .send("api: POST /v1/connect/{platform}", finish, &[201])
        .await?
        .json()
        .await
        .ok()?;
    account["id"].as_str().map(str::to_owned)
}

/// New people signing up, and owners signing in and out again, one at a time, with the
/// pages anyone sees; every two seconds.
async fn people(t: Traffic, owners: Vec<Workspace>) {
    let anonymous = http_client().build().unwrap();
    let mut round = 0usize;
    while !t.stopped() {
        for path in ["/login", "/signup", "/healthz"] {
            let request = anonymous.get(format!("{}{path}", t.base()));
            t.send("page: GET (anyone)", request, &[200]).await;
        }
        let client = browser();
        if round.is_multiple_of(2) {
            let email = format!("soak-{}-person-{round}@example.com", std::process::id());
            t.sign_up(&client, &email).await;
        } else if t
            .sign_in(&client, &owners[round / 2 % owners.len()].email)
            .await
        {
            let dashboard = client.get(format!("{}/dashboard", t.base()));
            t.send("page: GET (signed in)", dashboard, &[200]).await;
            let pages = ("/dashboard", "/logout");
            t.submit(
                &client,
                "page: POST /logout",
                pages,
                "10.0.0.2",
                &[],
                &[303],
            )
            .await;
        }
        round += 1;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Where the API clients' connect flows end.
pub const REDIRECT: &str = "https://client.example/done";

/// Lifetime of the X stand-in's access tokens: due for refresh (ten minutes ahead) half a
/// minute after they are handed out.
pub const X_TOKEN_SECS: i64 = 630;

/// The X and LinkedIn stand-ins, X handing out short-lived tokens, with [`REDIRECT`]
/// registered; and the server settings for the traffic (the stand-ins' endpoints, client
/// addresses from `X-Forwarded-For`, no practical rate limit, refresher every 5 s).
pub async fn stand_in() -> (super::platforms::Running, Vec<(String, String)>) {
    let running = super::platforms::Running::start().await;
    for name in ["x", "linkedin"] {
        running.platform(name).redirect_uris.insert(REDIRECT.into());
    }
    running.platform("x").expires_in = X_TOKEN_SECS;
    let mut vars = running.vars();
    for (name, value) in [
        ("SOCIALIZER_TRUST_FORWARDED_FOR", "true"),
        ("SOCIALIZER_RATE_LIMIT_FREE", "4000000000"),
        ("SOCIALIZER_REFRESH_INTERVAL_SECS", "5"),
    ] {
        vars.push((name.into(), value.into()));
    }
    (running, vars)
}

/// Resident memory of each process at a moment of the run.
pub struct Sample {
    pub at_secs: u64,
    pub mb: Vec<f64>,
}

/// Runs the traffic against `processes` for `duration`, sampling their resident memory when
/// it starts and every ten seconds.
pub async fn run(
    processes: &[&super::process::Process],
    workspaces: usize,
    redirect: &str,
    duration: Duration,
) -> (Tally, Vec<Sample>, Vec<Workspace>) {
    let bases = processes.iter().map(|p| p.base()).collect();
    let outboxes = processes.iter().map(|p| p.outbox()).collect();
    let mixed = Mixed::start(bases, outboxes, workspaces, redirect).await;
    let started = tokio::time::Instant::now();
    let mut samples = Vec::new();
    for tick in 0.. {
        let at = Duration::from_secs(10 * tick);
        if at > duration {
            break;
        }
        tokio::time::sleep_until(started + at).await;
        let mb = processes.iter().map(|p| p.resident_mb()).collect();
        samples.push(Sample {
            at_secs: at.as_secs(),
            mb,
        });
    }
    let workspaces = mixed.workspaces.clone();
    (mixed.stop().await, samples, workspaces)
}

/// The samples as a Markdown table, one row a minute (the 10-second samples' lowest and
/// highest in it), a column per process.
pub fn memory_table(samples: &[Sample]) -> String {
    let processes = samples.first().map_or(0, |s| s.mb.len());
    let mut out = String::from("| minute |");
    for p in 1..=processes {
        out += &format!(" process {p}: resident MB (low to high) |");
    }
    out += "\n|---:|";
    out += &"---:|".repeat(processes);
    out += "\n";
    let minutes = samples.last().map_or(0, |s| s.at_secs.div_ceil(60));
    for minute in 0..=minutes {
        let within: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at_secs.div_ceil(60) == minute)
            .collect();
        if within.is_empty() {
            continue;
        }
        out += &format!("| {minute} |");
        for p in 0..processes {
            let low = within.iter().map(|s| s.mb[p]).fold(f64::MAX, f64::min);
            let high = within.iter().map(|s| s.mb[p]).fold(0.0, f64::max);
            out += &format!(" {low:.1} to {high:.1} |");
        }
        out += "\n";
    }
    out
}

/// The highest sample of any process.
pub fn peak_mb(samples: &[Sample]) -> f64 {
    samples
        .iter()
        .flat_map(|s| s.mb.iter().copied())
        .fold(0.0, f64::max)
}

/// Growth of each process's memory over the second half of the run, once its caches (SQLite's
/// pages, the key cache) have filled: the mean of the last minute's samples over the mean of
/// the minute before the half-way mark (1.00: flat).
pub fn growth(samples: &[Sample]) -> Vec<f64> {
    let end = samples.last().map_or(0, |s| s.at_secs);
    let mean = |from: u64, to: u64, p: usize| {
        let within: Vec<f64> = samples
            .iter()
            .filter(|s| s.at_secs >= from && s.at_secs <= to)
            .map(|s| s.mb[p])
            .collect();
        within.iter().sum::<f64>() / within.len().max(1) as f64
    };
    let processes = samples.first().map_or(0, |s| s.mb.len());
    (0..processes)
        .map(|p| {
            mean(end.saturating_sub(60), end, p) / mean((end / 2).saturating_sub(60), end / 2, p)
        })
        .collect()
}
