//! The API's first three performance figures, measured in one run on this machine:
//!
//! 1. `GET /v1/status` with a valid key (the real server, embedded SQLite) against a bare
//!    actix-web route serving the same JSON from memory: throughput ratio and p99, 64 connections.
//! 2. Keys with a bad checksum against valid keys: a bad key must cost no more.
//! 3. Valid-key throughput with 1,000 and with 1,000,000 stored keys: within 10%.
//!
//! Run: `cargo bench --bench api_auth` (about three minutes). Set `BENCH_SECS` to change the
//! length of each measurement (default 5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, RunQueryDsl as _, SqliteConnection};
use socializer::auth::api_key::{KeyMode, NewApiKey};
use std::net::SocketAddr;
use support::{CONNECTIONS, Figures, figures, load, num_cores, show, start_baseline};

fn start_socializer(dir: &std::path::Path, cache_keys: bool) -> SocketAddr {
    support::start_socializer(dir, &[], |config| config.cache_keys = cache_keys)
}

/// Adds `count` more stored keys (their secrets are thrown away), in one transaction.
fn add_keys(db_path: &std::path::Path, workspace: &str, first: usize, count: usize) {
    let mut conn = SqliteConnection::establish(&db_path.display().to_string()).unwrap();
    conn.batch_execute("BEGIN").unwrap();
    for i in first..first + count {
        let key = NewApiKey::generate(KeyMode::Live);
        diesel::sql_query(
            "INSERT INTO api_keys (id, workspace_id, label, mode, scopes, digest, last4, created_at) \
             VALUES ($1, $2, 'filler', 'live', '', $3, $4, 0)",
        )
        .bind::<diesel::sql_types::Text, _>(format!("key_{:032x}", i as u128 + (1u128 << 100)))
        .bind::<diesel::sql_types::Text, _>(workspace)
        .bind::<diesel::sql_types::Text, _>(key.digest())
        .bind::<diesel::sql_types::Text, _>(key.last4())
        .execute(&mut conn)
        .unwrap();
    }
    conn.batch_execute("COMMIT").unwrap();
    // Fold the bulk insert's write-ahead log into the database now, not during a measurement.
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
}

/// A second data folder holding a copy of `dir`'s store: one SQLite file serves one server
/// process, so the store read without the cache is a copy of the one read with it.
fn copy_store(dir: &std::path::Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(copy.path().join("data")).unwrap();
    std::fs::copy(
        dir.join("data").join("socializer.db"),
        copy.path().join("data").join("socializer.db"),
    )
    .unwrap();
    copy
}

/// A data folder with one workspace, its real key, and `stored - 1` more keys.
fn prepare(stored: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data").join("socializer.db");
    std::fs::create_dir_all(db_path.parent().unwrap()).unwrap();
    let (workspace, key) = support::seed_workspace_and_key(
        &format!("sqlite://{}", db_path.display()),
        "bench@example.com",
    );
    add_keys(&db_path, &workspace, 0, stored - 1);
    (dir, key)
}

fn main() {
    let secs: f64 = support::setting("BENCH_SECS", 5.0);
    let (small_dir, small_key) = prepare(1_000);
    let (large_dir, large_key) = prepare(1_000_000);
    // Each store served twice: as the service runs on SQLite (verified keys cached), and, from an
    // identical copy, reading the database on every request (as it does on PostgreSQL).
    let url = |addr: SocketAddr| format!("http://{addr}/v1/status");
    let (small_copy, large_copy) = (copy_store(small_dir.path()), copy_store(large_dir.path()));
    let small = url(start_socializer(small_dir.path(), true));
    let small_db = url(start_socializer(small_copy.path(), false));
    let large = url(start_socializer(large_dir.path(), true));
    let large_db = url(start_socializer(large_copy.path(), false));

    // One client thread: the load generator shares the machine's cores with the servers and
    // should take as little from them as it can.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let body = reqwest::Client::new()
            .get(&small)
            .bearer_auth(&small_key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let baseline = url(start_baseline(body));
        let mut bad = small_key.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).unwrap();

        println!(
            "machine: {} cores; {CONNECTIONS} connections; {secs} s per measurement\n",
            num_cores()
        );
        let cases: [(&str, &String, Option<&String>); 6] = [
            ("in-memory actix-web route (no auth)", &baseline, None),
            (
                "/v1/status, valid key, 1,000 keys",
                &small,
                Some(&small_key),
            ),
            (
                "/v1/status, valid key, 1,000,000 keys",
                &large,
                Some(&large_key),
            ),
            ("/v1/status, bad checksum", &small, Some(&bad)),
            (
                "/v1/status, no cache, 1,000 keys",
                &small_db,
                Some(&small_key),
            ),
            (
                "/v1/status, no cache, 1,000,000 keys",
                &large_db,
                Some(&large_key),
            ),
        ];
        for (_, url, key) in &cases {
            load(&[url.as_str()], key.map(String::as_str), 1.0).await; // warm up
        }
        // Every case twice, in turn: the machine's drift shows on all sides, not as a difference.
        let mut figures: Vec<Vec<Figures>> = (0..cases.len()).map(|_| Vec::new()).collect();
        for _round in 0..2 {
            for (i, (name, url, key)) in cases.iter().enumerate() {
                let f = load(&[url.as_str()], key.map(String::as_str), secs).await;
                show(name, &f);
                figures[i].push(f);
            }
        }
        let rps =
            |i: usize| figures[i].iter().map(|f| f.rps).sum::<f64>() / figures[i].len() as f64;
        let p99 = |i: usize| figures[i].iter().map(|f| f.p99_ms).fold(0.0, f64::max);
        println!();
        let ratio = rps(1) / rps(0);
        figures::record(
            "embedded: key auth over bare route (`GET /v1/status`, 64 connections)",
            &format!("{ratio:.2} ({:.0} against {:.0} req/s)", rps(1), rps(0)),
            "≥ 0.50",
            ratio >= 0.5,
        );
        let worst = p99(1).max(p99(2));
        figures::record(
            "embedded: key auth p99",
            &format!("{worst:.2} ms (bare route {:.2} ms)", p99(0)),
            "< 5 ms",
            worst < 5.0,
        );
        let ratio = rps(3) / rps(1);
        figures::record(
            "embedded: bad-checksum keys over valid keys, throughput",
            &format!("{ratio:.2}"),
            "≥ 1.00",
            ratio >= 1.0,
        );
        let (cached, read) = (rps(2) / rps(1), rps(5) / rps(4));
        figures::record(
            "embedded: 1,000,000 over 1,000 stored keys",
            &format!("{cached:.2} cached, {read:.2} reading the database"),
            "0.90 to 1.10",
            [cached, read].iter().all(|r| (0.9..=1.1).contains(r)),
        );
    });
}
