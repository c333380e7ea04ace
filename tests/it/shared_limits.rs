//! Rate limits counted in Redis: one limit for every server process, and a service that keeps
//! answering, on per-process limits, while Redis is away.

use crate::harness::{ApiClient, TestApp, json, status_of, unique_email};
use reqwest::StatusCode;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The Redis the suite shares, on a database number of its own.
fn redis_url() -> String {
    std::env::var("SOCIALIZER_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379/9".to_owned())
}

const LIMIT: usize = 10;

fn limited(redis: String) -> impl FnOnce(&mut HashMap<String, String>) {
    move |vars| {
        vars.insert("SOCIALIZER_REDIS_URL".into(), redis);
        vars.insert("SOCIALIZER_RATE_LIMIT_FREE".into(), LIMIT.to_string());
    }
}

/// Waits until the current minute has room for a test (windows are whole minutes): a count
/// that straddles two windows would see twice the limit.
pub async fn away_from_a_window_edge() {
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            % 60
    };
    while second() > 45 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn health(app: &TestApp) -> serde_json::Value {
    json(reqwest::Client::new().get(format!("{}/healthz", app.base)))
        .await
        .2
}

async fn key_for(app: &TestApp) -> String {
    let owner = app.browser();
    owner.sign_up(&unique_email("limited"), "Limited").await;
    owner.create_key("limited", "live", &[]).await
}

fn ok_count(statuses: &[StatusCode]) -> usize {
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    statuses.iter().filter(|s| **s == StatusCode::OK).count()
}

async fn statuses(client: &ApiClient, n: usize) -> Vec<StatusCode> {
    let mut answered = Vec::new();
    for _ in 0..n {
        answered.push(status_of(client.get("/v1/status")).await);
    }
    answered
}

#[tokio::test]
async fn two_processes_share_one_workspace_limit_through_redis() {
    away_from_a_window_edge().await;
    // The database outlives each server.
    let holder = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(crate::harness::TestDatabase::create(holder.path()));
    let first = TestApp::spawn_on(db.clone(), limited(redis_url())).await;
    assert_eq!(
        health(&first).await["redis"],
        "ok",
        "Redis at {}",
        redis_url()
    );
    let key = key_for(&first).await;
    // Another last character (a key that already ends in "x" would otherwise stay valid).
    let last = if key.ends_with('x') { 'y' } else { 'x' };
    let bad_key = format!("{}{last}", &key[..key.len() - 1]);
    let (mut answered, mut unknown) = (Vec::new(), Vec::new());
    if db.is_postgres() {
        // Both serve at once, the requests alternating between them.
        let second = TestApp::spawn_on(db.clone(), limited(redis_url())).await;
        let clients = [
            ApiClient::new(&first.base, &key),
            ApiClient::new(&second.base, &key),
        ];
        let strangers = [
            ApiClient::new(&first.base, &bad_key),
            ApiClient::new(&second.base, &bad_key),
        ];
        for i in 0..3 * LIMIT {
            answered.push(status_of(clients[i % 2].get("/v1/status")).await);
            unknown.push(status_of(strangers[i % 2].get("/v1/status")).await);
        }
    } else {
        // SQLite serves one process at a time: the second starts once the first has stopped,
        // and finds the counts the first left in Redis.
        answered.extend(statuses(&ApiClient::new(&first.base, &key), LIMIT / 2).await);
        unknown.extend(statuses(&ApiClient::new(&first.base, &bad_key), LIMIT / 2).await);
        drop(first);
        let second = TestApp::spawn_on(db.clone(), limited(redis_url())).await;
        answered.extend(statuses(&ApiClient::new(&second.base, &key), 2 * LIMIT).await);
        unknown.extend(statuses(&ApiClient::new(&second.base, &bad_key), 2 * LIMIT).await);
    }
    assert_eq!(
        ok_count(&answered),
        LIMIT,
        "one limit, not one per process: {answered:?}"
    );
    // Without a valid key the client address is the bucket, shared the same way: its first
    // requests are told the key is bad, then it is limited like anyone.
    let refused = unknown
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        refused <= LIMIT && unknown.contains(&StatusCode::TOO_MANY_REQUESTS),
        "one address limit for both processes: {unknown:?}"
    );
}

/// A Redis server of the test's own, to stop and start again.
struct OwnRedis(std::process::Child);

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn while_redis_is_away_the_service_answers_on_its_own_limits_and_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = OwnRedis::start(port);
    let app = TestApp::spawn_with(limited(format!("redis://127.0.0.1:{port}/0"))).await;
    assert_eq!(health(&app).await["redis"], "ok");
    let client = ApiClient::new(&app.base, &key_for(&app).await);
    away_from_a_window_edge().await;
    assert_eq!(status_of(client.get("/v1/status")).await, StatusCode::OK);

    drop(redis);
    // Answers go on, limited by this process's own count, which starts afresh.
    assert_eq!(ok_count(&statuses(&client, 2 * LIMIT).await), LIMIT);
    let response = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a missing Redis is no failure"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["redis"], "unreachable");
    assert_eq!(body["status"], "ok");

    // Back: the count is Redis's again (a fresh one, as this Redis kept nothing), so the
    // workspace that this process had stopped is let through.
    let _redis = OwnRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while health(&app).await["redis"] != "ok" {
        assert!(Instant::now() < deadline, "Redis never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status_of(client.get("/v1/status")).await, StatusCode::OK);

    // A Redis that hangs rather than goes: requests wait at most the quarter-second timeout,
    // and Redis is not taken for back until it answers again (no flapping while it hangs).
    // (This process's own count for the minute is spent by now: 429 is the right answer.)
    let answered = |s: StatusCode| s == StatusCode::OK || s == StatusCode::TOO_MANY_REQUESTS;
    // The bounds are far from the pause (5 s), so that a slow machine cannot fail them and a
    // request that waited for Redis cannot pass them.
    pause_redis(port, 5_000);
    let asked = Instant::now();
    assert!(answered(status_of(client.get("/v1/status")).await));
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    let until = Instant::now() + Duration::from_millis(3_500);
    while Instant::now() < until {
        assert_eq!(health(&app).await["redis"], "unreachable");
        let asked = Instant::now();
        assert!(answered(status_of(client.get("/v1/status")).await));
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while health(&app).await["redis"] != "ok" {
        assert!(
            Instant::now() < deadline,
            "Redis never came back after its pause"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `CLIENT PAUSE ms ALL`: Redis keeps its connections but answers nothing for `ms`.
fn pause_redis(port: u16, ms: u64) {
    use std::io::{Read as _, Write as _};
    let mut redis = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let ms = ms.to_string();
    let command = format!(
        "*4\r\n$6\r\nCLIENT\r\n$5\r\nPAUSE\r\n${}\r\n{ms}\r\n$3\r\nALL\r\n",
        ms.len()
    );
    redis.write_all(command.as_bytes()).unwrap();
    let mut answer = [0u8; 5];
    redis.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"+OK\r\n");
}
