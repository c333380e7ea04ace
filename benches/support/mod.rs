//! What the benchmarks share: a Socializer of their own started on a random port, the bare
//! route it is compared with, and the load generator.
#![allow(dead_code)]

pub mod figures;
pub mod mixed;
#[path = "../../tests/it/platforms.rs"]
pub mod platforms;
pub mod postgres;
pub mod process;

use socializer::app::Application;
use socializer::config::Config;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// Starts the service on its own thread with its data under `dir`, no practical rate limit
/// (the benchmarks measure other things than its refusals), `extra` settings on top, and
/// `adjust` applied to the configuration last.
pub fn start_socializer(
    dir: &Path,
    extra: &[(&'static str, &str)],
    adjust: impl FnOnce(&mut Config),
) -> SocketAddr {
    let mut vars: HashMap<&str, String> = HashMap::from([
        (
            "SOCIALIZER_DATA_DIR",
            dir.join("data").display().to_string(),
        ),
        ("SOCIALIZER_BIND", "127.0.0.1:0".into()),
        ("SOCIALIZER_RATE_LIMIT_FREE", "4000000000".into()),
    ]);
    vars.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    let mut config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    adjust(&mut config);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config).await.unwrap();
            tx.send(app.address()).unwrap();
            app.run_until_stopped().await.unwrap();
        })
    });
    rx.recv().unwrap()
}

/// Keep-alive connections every measurement uses.
pub const CONNECTIONS: usize = 64;

pub struct Figures {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub statuses: HashMap<u16, usize>,
}

/// [`CONNECTIONS`] connections, spread evenly over `urls`, each sending requests back to back
/// for `secs`.
pub async fn load(urls: &[&str], key: Option<&str>, secs: f64) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let url = urls[i % urls.len()].to_owned();
            let (client, key) = (client.clone(), key.map(str::to_owned));
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(50_000);
                let mut statuses: HashMap<u16, usize> = HashMap::new();
                while Instant::now() < deadline {
                    let mut request = client.get(&url);
                    if let Some(key) = &key {
                        request = request.bearer_auth(key);
                    }
                    let sent = Instant::now();
                    let response = request.send().await.unwrap();
                    let status = response.status().as_u16();
                    response.bytes().await.unwrap();
                    latencies.push(sent.elapsed().as_micros() as u32);
                    *statuses.entry(status).or_default() += 1;
                }
                (latencies, statuses)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for task in tasks {
        let (l, s) = task.await.unwrap();
        latencies.extend(l);
        for (code, n) in s {
            *statuses.entry(code).or_default() += n;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)] as f64 / 1000.0
    };
    Figures {
        rps: latencies.len() as f64 / elapsed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        statuses,
    }
}

pub fn show(name: &str, f: &Figures) {
    let mut statuses: Vec<_> = f.statuses.iter().collect();
    statuses.sort();
    println!(
        "{name:<44} {:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   {statuses:?}",
        f.rps, f.p50_ms, f.p99_ms
    );
}

/// The comparison route: an actix-web handler returning the same JSON bytes from memory.
pub fn start_baseline(body: String) -> SocketAddr {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let body = web::Bytes::from(body);
            let server = HttpServer::new(move || {
                let body = body.clone();
                App::new().route(
                    "/v1/status",
                    web::get().to(move || {
                        let body = body.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    }),
                )
            })
            .workers(num_cores())
            .bind("127.0.0.1:0")
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        })
    });
    rx.recv().unwrap()
}

/// A benchmark setting from the environment (`BENCH_SECS`, …), or `default` when it is unset
/// or does not parse.
pub fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The runtime of a load generator that drives many clients at once from one worker thread,
/// leaving the other core to the servers (blocking work, such as starting the stand-ins, still
/// has threads of its own).
pub fn one_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

pub fn num_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// A workspace with an owner (`email`) and one real key, through the service's own functions;
/// answers (workspace id, plaintext).
pub fn seed_workspace_and_key(database: &str, email: &str) -> (String, String) {
    use socializer::keys::{CreateKey, Issuer};
    // Keys act with their creator's role: the key has an owner behind it.
    let url = socializer::db::DatabaseUrl::parse(database).unwrap();
    let db = socializer::db::Database::open(&url, 2).unwrap();
    actix_web::rt::System::new().block_on(async move {
        let workspace = socializer::domain::WorkspaceId::generate();
        let name = socializer::domain::WorkspaceName::parse("Bench").unwrap();
        let owner = socializer::domain::UserId::generate();
        let email = socializer::domain::Email::parse(email).unwrap();
        let (ws, user, address) = (workspace.clone(), owner.clone(), email.clone());
        db.write(socializer::db::Global, move |conn| {
            socializer::db::users::insert(conn, &user, &address, None, 0)?;
            // Its owner confirmed the address: live keys need that.
            socializer::db::users::mark_email_verified(conn, &user, 0)?;
            let mut scoped = conn.enter_workspace(ws)?;
            socializer::db::workspaces::create(&mut scoped, &name, 0)?;
            socializer::db::memberships::add(&mut scoped, &user, socializer::domain::Role::Owner, 0)
        })
        .await
        .unwrap();
        let issuer = Issuer {
            workspace: workspace.clone(),
            user: Some(owner.clone()),
            role: socializer::domain::Role::Owner,
            key: None,
            who: socializer::audit::Who::user(owner, email, "127.0.0.1"),
        };
        let label = socializer::domain::KeyLabel::parse("bench").unwrap();
        let request = CreateKey::full_access(label);
        // The notice of the new key goes to an outbox nobody reads.
        let outbox = std::env::temp_dir().join("socializer-bench-outbox");
        let mailer = socializer::mail::Mailer::new(
            &socializer::config::MailSetting::Outbox(outbox),
            "localhost",
        )
        .unwrap();
        let public_url = url::Url::parse("http://localhost/").unwrap();
        let post = socializer::mail::Post {
            mailer: &mailer,
            public_url: &public_url,
        };
        let (_, secret) = socializer::keys::create_key(&db, post, &issuer, request)
            .await
            .unwrap();
        (workspace.to_string(), secret.expose().to_owned())
    })
}

pub use mixed::REDIRECT;

/// Connects the stand-in's X account through the API with `key`; answers its id.
pub async fn connect_x(http: &reqwest::Client, base: &str, key: &str) -> String {
    let begun: serde_json::Value = http
        .get(format!("{base}/v1/connect/x?redirect_uri={REDIRECT}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at_platform = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(begun["auth_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let back = url::Url::parse(at_platform.headers()["location"].to_str().unwrap()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let account: serde_json::Value = http
        .post(format!("{base}/v1/connect/x"))
        .bearer_auth(key)
        .json(&serde_json::json!({"code": code, "state": begun["state"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    account["id"].as_str().unwrap().to_owned()
}
