//! The scale-out figures, measured in one run on this machine: two `socializer serve`
//! processes (the real binary) on one PostgreSQL database, rate limits in Redis, the load
//! spread over both, against a bare actix-web route serving the same JSON from memory.
//!
//! 1. `GET /v1/status` with a valid key: throughput over the bare route's, and p99.
//! 2. The same with 1,000 and with 1,000,000 stored keys: within 10%.
//! 3. A key revoked through one process: how long the other still lets it in.
//!
//! Run: `cargo bench --bench scale_out` (about two minutes). It needs PostgreSQL and Redis:
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`, a role that may
//! create databases; the benchmark makes one of its own and drops it) and `BENCH_REDIS_URL`
//! (default `redis://127.0.0.1:6379/10`). `BENCH_SECS` sets each measurement's length (5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Figures, load, num_cores, show, start_baseline};

/// A database of the benchmark's own on the server `admin` names; dropped at the end.
struct BenchDatabase {
    admin: String,
    name: String,
    url: String,
}

impl BenchDatabase {
    fn create(admin: &str) -> Self {
        let name = format!("socializer_bench_{}", std::process::id());
        let mut conn = PgConnection::establish(admin).expect("BENCH_DATABASE_URL connects");
        // One statement each: several in one string would run as one transaction, which
        // neither may run in.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            diesel::sql_query(statement).execute(&mut conn).unwrap();
        }
        let mut url = url::Url::parse(admin).unwrap();
        url.set_path(&format!("/{name}"));
        Self {
            admin: admin.to_owned(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// One `socializer serve` process, stopped when dropped.
struct Process {
    child: Child,
    address: SocketAddr,
    _data: tempfile::TempDir,
}

impl Process {
    fn start(database: &str, redis: &str, root_key: &str, session_secret: &str) -> Self {
        let address = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_socializer"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SOCIALIZER_DATABASE_URL", database)
            .env("SOCIALIZER_REDIS_URL", redis)
            .env("SOCIALIZER_BIND", address.to_string())
            .env("SOCIALIZER_DATA_DIR", data.path())
            .env("SOCIALIZER_ROOT_KEY", root_key)
            .env("SOCIALIZER_SESSION_SECRET", session_secret)
            // The benchmark measures answers, not refusals: no practical limit, but counted.
            .env("SOCIALIZER_RATE_LIMIT_FREE", "4000000000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the socializer binary starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "socializer never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            address,
            _data: data,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Brings the workspace to `total` stored keys (the added ones' secrets are never known).
fn add_keys(admin_url: &str, workspace: &str, total: usize) {
    let mut conn = PgConnection::establish(admin_url).unwrap();
    conn.batch_execute(&format!(
        "INSERT INTO api_keys (id, workspace_id, label, mode, scopes, digest, last4, created_at) \
         SELECT 'key_' || lpad(to_hex(n), 32, '0'), '{workspace}', 'filler', 'live', '', \
                md5(n::text) || md5((n + 1)::text), 'fill', 0 \
         FROM generate_series((SELECT COUNT(*) FROM api_keys) + 1, {total}) AS n; \
         ANALYZE api_keys"
    ))
    .unwrap();
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let admin = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let redis =
        std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/10".into());
    let database = BenchDatabase::create(&admin);
    let root_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let session_secret = "A".repeat(86) + "==";
    // The first process applies the migrations; the seed runs on the result.
    let first = Process::start(&database.url, &redis, root_key, &session_secret);
    let (workspace, key) = support::seed_workspace_and_key(&database.url);
    add_keys(&database.url, &workspace, 1_000);
    let second = Process::start(&database.url, &redis, root_key, &session_secret);
    let urls: Vec<String> = [&first, &second]
        .iter()
        .map(|p| format!("http://{}/v1/status", p.address))
        .collect();
    let spread: Vec<&str> = urls.iter().map(String::as_str).collect();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let body = reqwest::Client::new()
            .get(&urls[0])
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let baseline = format!("http://{}/v1/status", start_baseline(body));
        println!(
            "machine: {} cores; two socializer processes on PostgreSQL, limits in Redis; {} \
             connections spread over both; {secs} s per measurement\n",
            num_cores(),
            support::CONNECTIONS
        );
        load(&[baseline.as_str()], None, 1.0).await;
        load(&spread, Some(&key), 1.0).await;

        let mut measured: Vec<(&str, Vec<Figures>)> = Vec::new();
        let mut measure = |name: &'static str, figures: Figures| {
            show(name, &figures);
            match measured.iter_mut().find(|(n, _)| *n == name) {
                Some((_, all)) => all.push(figures),
                None => measured.push((name, vec![figures])),
            }
        };
        const BARE: &str = "in-memory actix-web route (no auth)";
        const SMALL: &str = "2 processes, valid key, 1,000 keys";
        const LARGE: &str = "2 processes, valid key, 1,000,000 keys";
        for _round in 0..2 {
            measure(BARE, load(&[baseline.as_str()], None, secs).await);
            measure(SMALL, load(&spread, Some(&key), secs).await);
        }
        add_keys(&database.url, &workspace, 1_000_000);
        load(&spread, Some(&key), 1.0).await;
        for _round in 0..2 {
            measure(BARE, load(&[baseline.as_str()], None, secs).await);
            measure(LARGE, load(&spread, Some(&key), secs).await);
        }
        let rps = |name: &str| {
            let all = &measured.iter().find(|(n, _)| *n == name).unwrap().1;
            all.iter().map(|f| f.rps).sum::<f64>() / all.len() as f64
        };
        let p99 = |name: &str| {
            let all = &measured.iter().find(|(n, _)| *n == name).unwrap().1;
            all.iter().map(|f| f.p99_ms).fold(0.0, f64::max)
        };

        // Revocation through the first process, seen by the second: the longest of many.
        let client = reqwest::Client::new();
        let mut slowest = Duration::ZERO;
        for round in 0..20 {
            let made: serde_json::Value = client
                .post(format!("http://{}/v1/api-keys", first.address))
                .bearer_auth(&key)
                .json(&serde_json::json!({ "label": format!("revoked {round}") }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let (id, plaintext) = (made["id"].as_str().unwrap(), made["plaintext"].as_str().unwrap());
            let there = &urls[1];
            for _ in 0..3 {
                let status = client.get(there).bearer_auth(plaintext).send().await.unwrap().status();
                assert_eq!(status.as_u16(), 200);
            }
            let revoke = format!("http://{}/v1/api-keys/{id}", first.address);
            let answered = client.delete(&revoke).bearer_auth(&key).send().await.unwrap();
            assert_eq!(answered.status().as_u16(), 204);
            let since = Instant::now();
            loop {
                let status = client.get(there).bearer_auth(plaintext).send().await.unwrap().status();
                if status.as_u16() == 401 {
                    break;
                }
            }
            slowest = slowest.max(since.elapsed());
        }

        println!();
        println!(
            "1. 2 processes / in-memory throughput: {:.2} (target >= 0.50); p99 {:.2} ms vs {:.2} ms in memory (target < 5 ms)",
            rps(SMALL) / rps(BARE),
            p99(SMALL),
            p99(BARE)
        );
        println!(
            "2. 1,000,000 / 1,000 keys throughput:  {:.2} (target 0.90 to 1.10)",
            rps(LARGE) / rps(SMALL)
        );
        println!(
            "3. revoked through one process, still let in by the other for at most {:.1} ms (target < 100 ms)",
            slowest.as_secs_f64() * 1000.0
        );
    });
}
