//! Delivery under faults: two server processes claiming from one PostgreSQL, and a server
//! killed (SIGKILL) while posts are on their way. The X stand-in counts every call by text, so
//! "sent at most once" is the platform's own count, not the service's word.

use crate::connect::{at_platform, begin, finish, param};
use crate::durability::Server;
use crate::harness::{ApiClient, TestApp, TestDatabase, all_at_once, json, unique_email};
use crate::platforms::Running;
use reqwest::StatusCode;
use serde_json::{Value, json as j};
use std::time::{Duration, Instant};

async fn connect_x(live: &ApiClient) -> String {
    let (auth_url, state) = begin(live, "x", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    let (status, account) = finish(live, "x", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    account["id"].as_str().unwrap().to_owned()
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Writes `n` posts to `account`, each its own text, all due at `at`; answers their ids.
async fn many_posts(live: &ApiClient, account: &str, n: usize, at: i64, tag: &str) -> Vec<String> {
    let mut ids = Vec::new();
    // In batches, so that the queue fills quickly without one request per post at a time.
    for batch in (0..n).collect::<Vec<_>>().chunks(25) {
        let answers = all_at_once(batch.iter().map(|i| {
            let body = j!({"text": format!("{tag} post {i}"), "account_ids": [account],
                           "publish_at": rfc3339(at)});
            json(live.post("/v1/posts").json(&body))
        }))
        .await;
        for (status, _, body) in answers {
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            ids.push(body["id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

/// Every post of the key, once none of their targets is scheduled or publishing any more.
async fn all_settled(live: &ApiClient, n: usize, within: Duration) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let mut posts = Vec::new();
        let mut cursor = String::new();
        loop {
            let (status, _, page) =
                json(live.get(&format!("/v1/posts?limit=100&cursor={cursor}"))).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            posts.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(posts.len(), n);
        let waiting = posts
            .iter()
            .filter(|p| matches!(p["state"].as_str(), Some("scheduled" | "publishing")))
            .count();
        if waiting == 0 {
            return posts;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} posts still waiting or publishing"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[actix_web::test]
async fn two_processes_on_postgresql_send_500_due_targets_each_exactly_once() {
    let platforms = Running::start().await;
    platforms
        .platform("x")
        .redirect_uris
        .insert("https://client.example/done".into());
    let mut vars = platforms.vars();
    vars.push(("SOCIALIZER_RATE_LIMIT_FREE".into(), "100000".into()));
    // Both processes open the workspace's tokens: one root key, as in any deployment.
    vars.push((
        "SOCIALIZER_ROOT_KEY".into(),
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
    ));
    let first = TestApp::spawn_with(|v| v.extend(vars.clone())).await;
    if !first.db.is_postgres() {
        eprintln!("several processes share a database only on PostgreSQL: skipped");
        return;
    }
    let second = TestApp::spawn_on(first.db.clone(), |v| v.extend(vars)).await;
    let owner = first.browser();
    owner.sign_up(&unique_email("owner"), "Busy").await;
    let live = ApiClient::new(&first.base, &owner.create_key("live", "live", &[]).await);
    let account = connect_x(&live).await;
    let due = socializer::domain::now() + 6;
    many_posts(&live, &account, 500, due, "busy").await;
    // The second process exists to compete for the same targets; its key reads the same posts.
    let other = ApiClient::new(&second.base, &live.key);
    let posts = all_settled(&other, 500, Duration::from_secs(90)).await;

    let x = platforms.platform("x");
    let failed: Vec<&Value> = posts
        .iter()
        .filter(|p| p["state"] != "published")
        .take(2)
        .collect();
    assert_eq!(x.publish_calls, 500, "one call per target: {failed:?}");
    assert!(x.calls_by_text.values().all(|&n| n == 1));
    assert_eq!(x.published.len(), 500);
    for post in &posts {
        assert_eq!(post["state"], "published", "{post}");
        assert_eq!(post["targets"][0]["attempts"].as_array().unwrap().len(), 1);
    }
}

#[actix_web::test]
async fn a_server_killed_mid_send_never_sends_a_target_twice_and_loses_none() {
    let platforms = Running::start().await;
    {
        let mut x = platforms.platform("x");
        x.redirect_uris.insert("https://client.example/done".into());
        // Every post reaches X at once; X's answer takes a while, so sends are in flight.
        x.hold_all_ms = 4000;
    }
    let mut vars = platforms.vars();
    vars.push(("SOCIALIZER_RATE_LIMIT_FREE".into(), "100000".into()));
    vars.push(("SOCIALIZER_PUBLISH_TIMEOUT_SECS".into(), "5".into()));
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let data = dir.path().join("data");
    let server = Server::start_with(&data, &db, &vars, "info");
    let owner = server.browser();
    owner.sign_up(&unique_email("killed"), "Killed").await;
    let live = ApiClient::new(&server.base, &owner.create_key("live", "live", &[]).await);
    let account = connect_x(&live).await;
    let n = 60;
    many_posts(&live, &account, n, socializer::domain::now() + 3, "killed").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while platforms.platform("x").publish_calls < 10 {
        assert!(Instant::now() < deadline, "nothing was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill_9();

    // A short timeout after the restart: the lapsed leases end within seconds.
    platforms.platform("x").hold_all_ms = 0;
    let restarted = Server::start_with(&data, &db, &vars, "info");
    let live = ApiClient::new(&restarted.base, &live.key);
    let posts = all_settled(&live, n, Duration::from_secs(120)).await;

    let x = platforms.platform("x");
    assert!(
        x.calls_by_text.values().all(|&calls| calls == 1),
        "a target was sent twice: {:?}",
        x.calls_by_text
    );
    let mut unknown = 0;
    for post in &posts {
        let target = &post["targets"][0];
        let text = post["text"].as_str().unwrap();
        match target["state"].as_str().unwrap() {
            // On its way when the process died, its answer lost with it: it may or may not
            // have reached X (a request already written to the socket still can), and it is
            // never sent again.
            "unknown" => {
                unknown += 1;
                assert_eq!(target["error"]["code"], "interrupted", "{post}");
                assert!(x.calls_by_text.get(text).is_none_or(|&n| n == 1), "{post}");
            }
            "published" => assert_eq!(x.calls_by_text.get(text), Some(&1), "{post}"),
            other => panic!("a target ended {other}: {post}"),
        }
    }
    assert!(unknown > 0, "the kill caught no send in flight");
    drop(x);
    restarted.kill_9();
}
