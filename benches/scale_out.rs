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
use diesel::{Connection as _, PgConnection};
use std::time::{Duration, Instant};
use support::postgres::{BenchDatabase, redis_url};
use support::process::Process;
use support::{Figures, figures, load, num_cores, show, start_baseline};

/// One process on `database`, counting in `redis`, with `limit` requests a minute per
/// workspace.
fn serve(database: &str, redis: &str, limit: &str) -> Process {
    Process::start(&[
        ("SOCIALIZER_DATABASE_URL".into(), database.into()),
        ("SOCIALIZER_REDIS_URL".into(), redis.into()),
        ("SOCIALIZER_RATE_LIMIT_FREE".into(), limit.into()),
    ])
}

/// The workspace limit the last figure measures.
const LIMIT: usize = 100;

/// Waits until the current minute has room for a measurement: windows are whole minutes, and
/// a measurement across two would see twice the limit.
async fn away_from_a_window_edge() {
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 60
    };
    while second() > 40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
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
    let secs: f64 = support::setting("BENCH_SECS", 5.0);
    let redis = redis_url();
    let database = BenchDatabase::create("bench");
    // The benchmark measures answers, not refusals: no practical limit, but counted.
    let unlimited = "4000000000";
    // The first process applies the migrations; the seed runs on the result.
    let first = serve(&database.url, &redis, unlimited);
    let (workspace, key) = support::seed_workspace_and_key(&database.url, "bench@example.com");
    // A second workspace for the last figure, on a limit of its own.
    let (_, limited_key) = support::seed_workspace_and_key(&database.url, "limited@example.com");
    add_keys(&database.url, &workspace, 1_000);
    let second = serve(&database.url, &redis, unlimited);
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
            let (id, plaintext) = (
                made["id"].as_str().unwrap(),
                made["plaintext"].as_str().unwrap(),
            );
            let there = &urls[1];
            for _ in 0..3 {
                let status = client
                    .get(there)
                    .bearer_auth(plaintext)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status.as_u16(), 200);
            }
            let revoke = format!("http://{}/v1/api-keys/{id}", first.address);
            let answered = client
                .delete(&revoke)
                .bearer_auth(&key)
                .send()
                .await
                .unwrap();
            assert_eq!(answered.status().as_u16(), 204);
            let since = Instant::now();
            loop {
                let status = client
                    .get(there)
                    .bearer_auth(plaintext)
                    .send()
                    .await
                    .unwrap()
                    .status();
                if status.as_u16() == 401 {
                    break;
                }
            }
            slowest = slowest.max(since.elapsed());
        }

        println!();
        let ratio = rps(SMALL) / rps(BARE);
        figures::record(
            "scale-out: key auth over bare route, 2 processes on PostgreSQL + Redis",
            &format!(
                "{ratio:.2} ({:.0} against {:.0} req/s)",
                rps(SMALL),
                rps(BARE)
            ),
            "≥ 0.50",
            ratio >= 0.5,
        );
        let worst = p99(SMALL).max(p99(LARGE));
        figures::record(
            "scale-out: key auth p99",
            &format!("{worst:.2} ms (bare route {:.2} ms)", p99(BARE)),
            "< 5 ms",
            worst < 5.0,
        );
        let ratio = rps(LARGE) / rps(SMALL);
        figures::record(
            "scale-out: 1,000,000 over 1,000 stored keys",
            &format!("{ratio:.2}"),
            "0.90 to 1.10",
            (0.9..=1.1).contains(&ratio),
        );
        let ms = slowest.as_secs_f64() * 1000.0;
        figures::record(
            "scale-out: a key revoked through one process, still let in by the other",
            &format!("{ms:.1} ms at most (20 keys)"),
            "< 100 ms",
            ms < 100.0,
        );

        // One workspace limit for both processes: a minute's worth of requests at once,
        // from all connections, within one window.
        drop((first, second));
        let limit = LIMIT.to_string();
        let limited = [
            serve(&database.url, &redis, &limit),
            serve(&database.url, &redis, &limit),
        ];
        let urls: Vec<String> = limited
            .iter()
            .map(|p| format!("{}/v1/status", p.base()))
            .collect();
        let spread: Vec<&str> = urls.iter().map(String::as_str).collect();
        away_from_a_window_edge().await;
        let flood = load(&spread, Some(&limited_key), 3.0).await;
        show("2 processes, limit 100 a minute", &flood);
        let answered = flood.statuses.get(&200).copied().unwrap_or(0);
        let refused = flood.statuses.get(&429).copied().unwrap_or(0);
        figures::record(
            "scale-out: one workspace limit across 2 processes (Redis)",
            &format!("{answered} answered, {refused} refused, limit {LIMIT} a minute"),
            &format!("limit to limit + 2 ({LIMIT} to {})", LIMIT + 2),
            (LIMIT..=LIMIT + 2).contains(&answered)
                && answered + refused == flood.statuses.values().sum::<usize>(),
        );
    });
}
