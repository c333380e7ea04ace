//! The webhooks figure: one `socializer serve` process (the real binary, embedded SQLite) with
//! ten endpoints on one receiver, and 100 events a second for a minute: posts published to the
//! X stand-in, each reported by `post.published` to every endpoint. The minute comes in three
//! stretches of 20 s, each after a stretch of the same posts with the endpoints off (no event
//! written), so that the machine's drift shows on both sides. The receiver answers 500 for the
//! first 3 seconds of the first stretch, then 200.
//!
//! Measured: every event delivered to every endpoint, each exactly once with a 200 (those that
//! met the 500s by their first retry, 5 s later); and `GET /v1/status` p99 during the stretches
//! with webhooks against the stretches without (must stay within 20%).
//!
//! Run: `cargo bench --bench webhooks` (about two and a half minutes). `BENCH_EVENTS_PER_SEC`
//! (100) and `BENCH_EVENT_SECS` (60) change the load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::process::Process;
use support::{figures, setting};

const ENDPOINTS: usize = 10;

/// What the receiver saw: per (endpoint path, webhook-id), the statuses it answered.
#[derive(Default)]
struct Seen {
    answers: HashMap<(String, String), Vec<u16>>,
    /// Until when it answers 500.
    failing_until: Option<Instant>,
}

fn start_receiver(seen: Arc<Mutex<Seen>>) -> SocketAddr {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let seen = web::Data::from(seen);
            let server = HttpServer::new(move || {
                App::new().app_data(seen.clone()).default_service(web::to(
                    |req: HttpRequest, seen: web::Data<Mutex<Seen>>, _body: web::Bytes| async move {
                        let id = req
                            .headers()
                            .get("webhook-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let mut seen = seen.lock().unwrap();
                        let failing = seen
                            .failing_until
                            .is_some_and(|until| Instant::now() < until);
                        let status = if failing { 500 } else { 200 };
                        seen.answers
                            .entry((req.path().to_owned(), id))
                            .or_default()
                            .push(status);
                        if failing {
                            HttpResponse::InternalServerError().finish()
                        } else {
                            HttpResponse::Ok().finish()
                        }
                    },
                ))
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        })
    });
    rx.recv().unwrap()
}

/// Posts `per_sec` posts a second for `secs` (each published at once: one event each), while
/// four connections ask `GET /v1/status` back to back; answers the status p99 in ms.
async fn posts_with_status_load(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    account: &str,
    tag: &str,
    per_sec: usize,
    secs: u64,
) -> (Vec<u128>, usize) {
    let until = Instant::now() + Duration::from_secs(secs);
    let asking: Vec<_> = (0..4)
        .map(|_| {
            let (http, base, key) = (http.clone(), base.to_owned(), key.to_owned());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let sent = Instant::now();
                    let answer = http
                        .get(format!("{base}/v1/status"))
                        .bearer_auth(&key)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(answer.status(), 200);
                    answer.bytes().await.unwrap();
                    latencies.push(sent.elapsed().as_micros());
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                latencies
            })
        })
        .collect();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / per_sec as u64));
    let mut sent = Vec::new();
    let mut i = 0;
    while Instant::now() < until {
        tick.tick().await;
        let (http, base, key, account) = (
            http.clone(),
            base.to_owned(),
            key.to_owned(),
            account.to_owned(),
        );
        let text = format!("{tag} event {i}");
        i += 1;
        sent.push(tokio::spawn(async move {
            let answer = http
                .post(format!("{base}/v1/posts"))
                .bearer_auth(&key)
                .json(&serde_json::json!({"text": text, "account_ids": [account]}))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 202, "{}", answer.text().await.unwrap());
        }));
    }
    for post in sent {
        post.await.unwrap();
    }
    let mut latencies: Vec<u128> = Vec::new();
    for task in asking {
        latencies.extend(task.await.unwrap());
    }
    (latencies, i)
}

fn p99_ms(mut latencies: Vec<u128>) -> f64 {
    latencies.sort_unstable();
    latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)] as f64 / 1000.0
}

/// Waits until every post has gone out (none scheduled or being published).
async fn posts_settled(http: &reqwest::Client, base: &str, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for state in ["scheduled", "publishing"] {
        loop {
            let page: serde_json::Value = http
                .get(format!("{base}/v1/posts?state={state}&limit=1"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if page["data"].as_array().unwrap().is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "posts still {state} after a minute"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Turns every endpoint on or off.
async fn switch(http: &reqwest::Client, base: &str, key: &str, endpoints: &[String], on: bool) {
    for id in endpoints {
        let answer = http
            .patch(format!("{base}/v1/webhooks/{id}"))
            .bearer_auth(key)
            .json(&serde_json::json!({"enabled": on}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    }
}

fn main() {
    let per_sec: usize = setting("BENCH_EVENTS_PER_SEC", 100);
    let secs: u64 = setting("BENCH_EVENT_SECS", 60);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let receiver = start_receiver(seen.clone());
        let platforms = support::platforms::Running::start().await;
        platforms.platform("x").redirect_uris.insert(support::REDIRECT.into());
        let mut vars = platforms.vars();
        vars.push(("SOCIALIZER_RATE_LIMIT_FREE".into(), "4000000000".into()));
        vars.push(("SOCIALIZER_WEBHOOK_ALLOW_PRIVATE".into(), "true".into()));
        let data = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}/bench.db", data.path().display());
        vars.push(("SOCIALIZER_DATABASE_URL".into(), db.clone()));
        // The workspace and its key are made before the server holds the file.
        let (_, key) = tokio::task::spawn_blocking(move || {
            support::seed_workspace_and_key(&db, "owner@bench.example")
        })
        .await
        .unwrap();
        let server = Process::start(&vars);
        let base = server.base();
        let http = reqwest::Client::new();
        let account = support::connect_x(&http, &base, &key).await;

        let mut endpoints = Vec::new();
        for i in 0..ENDPOINTS {
            let answer = http
                .post(format!("{base}/v1/webhooks"))
                .bearer_auth(&key)
                .json(&serde_json::json!({
                    "url": format!("http://{receiver}/e{i}"),
                    "event_types": ["post.published"],
                    "enabled": false,
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 201);
            let endpoint: serde_json::Value = answer.json().await.unwrap();
            endpoints.push(endpoint["id"].as_str().unwrap().to_owned());
        }
        // The same load of posts in stretches without webhooks (endpoints off: no event is
        // written) and with them, in turn, so that the machine's drift shows on both sides.
        let stretches = 3;
        let stretch = secs / stretches;
        let (mut quiet, mut loud, mut posts) = (Vec::new(), Vec::new(), 0);
        for round in 0..stretches {
            let (latencies, _) =
                posts_with_status_load(&http, &base, &key, &account, &format!("quiet {round}"), per_sec, stretch).await;
            quiet.extend(latencies);
            // The last of those posts go out before the endpoints are on: no event of theirs.
            posts_settled(&http, &base, &key).await;
            switch(&http, &base, &key, &endpoints, true).await;
            if round == 0 {
                seen.lock().unwrap().failing_until = Some(Instant::now() + Duration::from_secs(3));
            }
            let (latencies, sent) =
                posts_with_status_load(&http, &base, &key, &account, &format!("loud {round}"), per_sec, stretch).await;
            loud.extend(latencies);
            posts += sent;
            // Every event of the stretch is written before the endpoints go off (their
            // deliveries still wait for them, and go when they are on again).
            posts_settled(&http, &base, &key).await;
            switch(&http, &base, &key, &endpoints, false).await;
        }
        switch(&http, &base, &key, &endpoints, true).await;
        let (without, with) = (p99_ms(quiet), p99_ms(loud));
        println!(
            "GET /v1/status p99: {without:.2} ms without webhooks, {with:.2} ms while {posts} posts \
             were reported to {ENDPOINTS} endpoints ({stretches} stretches of {stretch} s each)"
        );

        // Every event to every endpoint: wait for the last retries (5 s) and the queue to drain.
        let expected = posts * ENDPOINTS;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let delivered = seen
                .lock()
                .unwrap()
                .answers
                .values()
                .filter(|s| s.contains(&200))
                .count();
            if delivered >= expected || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tokio::time::sleep(Duration::from_secs(6)).await;
        let seen = seen.lock().unwrap();
        let events = seen.answers.len();
        let delivered = seen.answers.values().filter(|s| s.contains(&200)).count();
        let twice = seen
            .answers
            .values()
            .filter(|s| s.iter().filter(|&&st| st == 200).count() > 1)
            .count();
        let retried = seen.answers.values().filter(|s| s.first() == Some(&500)).count();
        let retried_once = seen
            .answers
            .values()
            .filter(|s| s.as_slice() == [500, 200])
            .count();
        println!(
            "{events} (event, endpoint) pairs seen of {expected}; {delivered} delivered, {twice} delivered twice; \
             {retried} met a 500 first, {retried_once} of them delivered by their first retry"
        );
        figures::record(
            &format!("webhooks: {per_sec} events/s for {secs} s into {ENDPOINTS} endpoints, delivered"),
            &format!("{delivered} of {expected}, {twice} twice"),
            "all, each once",
            delivered == expected && twice == 0,
        );
        figures::record(
            "webhooks: events met by the receiver's first 3 s of 500s, delivered by their first retry",
            &format!("{retried_once} of {retried}"),
            "all",
            retried > 0 && retried_once == retried,
        );
        figures::record(
            "webhooks: `GET /v1/status` p99 while they are delivered, over its p99 without",
            &format!("{:.2} ({with:.2} ms against {without:.2} ms)", with / without),
            "≤ 1.2",
            with <= without * 1.2,
        );
        for line in server.error_lines() {
            println!("server error: {line}");
        }
    });
}
