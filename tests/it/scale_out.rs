//! Several server processes on one PostgreSQL: each caches verified keys, and a change through
//! one reaches every other's cache at once, also after the listening connection was cut.
//! (SQLite serves one process, which a second is refused; these tests need PostgreSQL.)

use crate::dashboard_api::{page_token, v1};
use crate::harness::{ApiClient, Browser, TestApp, json, status_of, unique_email};
use reqwest::{Method, StatusCode};
use std::time::{Duration, Instant};

/// Limits high enough for many rounds, and telling the plans apart.
fn generous(vars: &mut std::collections::HashMap<String, String>) {
    vars.insert("SOCIALIZER_RATE_LIMIT_FREE".into(), "100000".into());
    vars.insert("SOCIALIZER_RATE_LIMIT_PAID".into(), "200000".into());
}

/// Two servers over one database, and an owner signed in on the first.
async fn two_processes() -> Option<(TestApp, TestApp, Browser)> {
    let first = TestApp::spawn_with(generous).await;
    if !first.db.is_postgres() {
        eprintln!("several processes share a database only on PostgreSQL: skipped");
        return None;
    }
    let second = TestApp::spawn_on(first.db.clone(), generous).await;
    for app in [&first, &second] {
        wait_for_cache(app, "on").await;
    }
    let owner = first.browser();
    owner.sign_up(&unique_email("owner"), "Scaled").await;
    Some((first, second, owner))
}

async fn key_cache_of(app: &TestApp) -> String {
    let (_, _, health) = json(reqwest::Client::new().get(format!("{}/healthz", app.base))).await;
    health["key_cache"].as_str().unwrap_or("").to_owned()
}

async fn wait_for_cache(app: &TestApp, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while key_cache_of(app).await != state {
        assert!(Instant::now() < deadline, "key cache never {state}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A key made through the owner's session; answers (id, plaintext).
async fn make_key(owner: &Browser, label: &str) -> (String, String) {
    let token = page_token(owner).await;
    let (status, _, made) = json(
        v1(owner, Method::POST, "/v1/api-keys")
            .header("x-csrf-token", token)
            .json(&serde_json::json!({ "label": label })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    (
        made["id"].as_str().unwrap().to_owned(),
        made["plaintext"].as_str().unwrap().to_owned(),
    )
}

async fn revoke(owner: &Browser, id: &str) {
    let token = page_token(owner).await;
    let path = format!("/v1/api-keys/{id}");
    let request = v1(owner, Method::DELETE, &path).header("x-csrf-token", token);
    assert_eq!(status_of(request).await, StatusCode::NO_CONTENT);
}

/// How long after the revocation answered `client` still got in: polls until refused.
async fn refused_after(client: &ApiClient, answered: Instant) -> Duration {
    loop {
        let status = status_of(client.get("/v1/status")).await;
        if status == StatusCode::UNAUTHORIZED {
            return answered.elapsed();
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            answered.elapsed() < Duration::from_secs(5),
            "still accepted 5 s after its revocation"
        );
    }
}

#[tokio::test]
async fn a_key_revoked_through_one_process_is_refused_by_the_other_within_100_ms() {
    let Some((first, second, owner)) = two_processes().await else {
        return;
    };
    for round in 0..25 {
        let (id, plaintext) = make_key(&owner, &format!("round {round}")).await;
        let there = ApiClient::new(&second.base, &plaintext);
        // Known, and so cached, by the second process.
        for _ in 0..3 {
            assert_eq!(status_of(there.get("/v1/status")).await, StatusCode::OK);
        }
        // Every fifth through the operator's own SQL: the database announces it all the same.
        if round % 5 == 4 {
            first.db.execute_as_admin(&format!(
                "UPDATE api_keys SET revoked_at = 1 WHERE id = '{id}'"
            ));
        } else {
            revoke(&owner, &id).await;
        }
        let late = refused_after(&there, Instant::now()).await;
        assert!(late < Duration::from_millis(100), "round {round}: {late:?}");
    }
    // A change to what keys act as travels the same way: the plan, set by the operator's
    // command in a process of its own, shows in the other server's answers at once.
    let (_, plaintext) = make_key(&owner, "plan").await;
    let there = ApiClient::new(&second.base, &plaintext);
    let (_, headers, _) = json(there.get("/v1/status")).await;
    assert_eq!(headers["ratelimit-limit"], "100000");
    let (_, _, status) = json(there.get("/v1/status")).await;
    let workspace = status["workspace"]["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let operator = std::process::Command::new(env!("CARGO_BIN_EXE_socializer"))
        .args(["workspace", "plan", &workspace, "paid"])
        .env_clear()
        .env("SOCIALIZER_DATABASE_URL", &first.db.url)
        .env("SOCIALIZER_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert!(operator.status.success(), "{operator:?}");
    let deadline = Instant::now() + Duration::from_millis(100);
    loop {
        let (_, headers, _) = json(there.get("/v1/status")).await;
        if headers["ratelimit-limit"] == "200000" {
            break;
        }
        assert!(Instant::now() < deadline, "the paid plan never showed");
    }
}

#[tokio::test]
async fn revocation_holds_while_the_listener_is_cut_off_and_after_it_is_back() {
    let Some((_first, second, owner)) = two_processes().await else {
        return;
    };
    let (id, plaintext) = make_key(&owner, "cut off").await;
    let there = ApiClient::new(&second.base, &plaintext);
    assert_eq!(status_of(there.get("/v1/status")).await, StatusCode::OK);

    // The second process's listening connection is ended from the database's side, and the
    // key revoked at once: no notification reaches the second process.
    let name = format!(
        "socializer key listener {}",
        &second.base["http://".len()..]
    );
    let ended = second.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = '{name}') AS t"
    ));
    assert_eq!(ended, 1, "one listener per process");
    revoke(&owner, &id).await;
    let late = refused_after(&there, Instant::now()).await;
    assert!(late < Duration::from_millis(100), "{late:?}");

    // It listens again by itself, and the cache serves again, right.
    wait_for_cache(&second, "on").await;
    assert_eq!(
        status_of(there.get("/v1/status")).await,
        StatusCode::UNAUTHORIZED
    );
    let (id, plaintext) = make_key(&owner, "after").await;
    let there = ApiClient::new(&second.base, &plaintext);
    assert_eq!(status_of(there.get("/v1/status")).await, StatusCode::OK);
    revoke(&owner, &id).await;
    let late = refused_after(&there, Instant::now()).await;
    assert!(late < Duration::from_millis(100), "{late:?}");
}
