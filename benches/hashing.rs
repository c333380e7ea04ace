//! The password-hashing figure, and the sign-up flood of the security review: sign-in
//! latency on its own, then while a flood of sign-ups from many addresses runs flat out, with
//! `/v1/status` measured alongside. The hashing queue is bounded and sign-ups may fill only half
//! of it, so a flood is answered 429/503 at once instead of queueing, and sign-ins keep their
//! place.
//!
//! Run: `cargo bench --bench hashing` (about a minute). `BENCH_SECS` sets each phase's length
//! (default 10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::figures;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";
/// Concurrent sign-up loops in the flood.
const FLOODERS: usize = 32;

fn start(dir: &std::path::Path) -> SocketAddr {
    // The flood comes from many addresses, as a real one would, so the per-address limits do
    // not end it early: what is measured is the bounded hashing queue.
    support::start_socializer(dir, &[("SOCIALIZER_TRUST_FORWARDED_FOR", "true")], |_| {})
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A made-up client address, different for every call.
fn address(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

/// The body of an answer, as text.
async fn text(request: reqwest::RequestBuilder) -> String {
    request.send().await.unwrap().text().await.unwrap()
}

fn csrf_in(html: &str) -> String {
    let start = html.find(r#"name="csrf_token" value=""#).unwrap() + 25;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Shows a form page and posts it: the answer's status and the time both took.
async fn submit(base: &str, path: &str, from: &str, fields: &[(&str, &str)]) -> (u16, Duration) {
    let client = client();
    let started = Instant::now();
    let page = client
        .get(format!("{base}{path}"))
        .header("x-forwarded-for", from)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_in(&page);
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf_token", &token));
    let status = client
        .post(format!("{base}{path}"))
        .header("x-forwarded-for", from)
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (status, started.elapsed())
}

struct Phase {
    sign_ins: Vec<(u16, Duration)>,
    status_p99_ms: f64,
    sign_ups: HashMap<u16, usize>,
}

fn percentile(mut values: Vec<Duration>, q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_unstable();
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)].as_secs_f64() * 1000.0
}

async fn phase(base: &str, email: &str, key: &str, flood: bool, secs: f64) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicUsize::new(0));
    let flooders: Vec<_> = (0..if flood { FLOODERS } else { 0 })
        .map(|_| {
            let (base, stop, counter) = (base.to_owned(), stop.clone(), counter.clone());
            tokio::spawn(async move {
                let mut statuses: HashMap<u16, usize> = HashMap::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let email = format!("flood-{n}-{}@example.com", std::process::id());
                    let (status, _) = submit(
                        &base,
                        "/signup",
                        &address(n + 1000),
                        &[("email", &email), ("password", PASSWORD), ("workspace", "")],
                    )
                    .await;
                    *statuses.entry(status).or_default() += 1;
                }
                statuses
            })
        })
        .collect();
    let status_task = {
        let (base, key, stop) = (base.to_owned(), key.to_owned(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                let response = client
                    .get(format!("{base}/v1/status"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200);
                response.bytes().await.unwrap();
                latencies.push(sent.elapsed());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            latencies
        })
    };
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut sign_ins = Vec::new();
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        sign_ins.push(
            submit(
                base,
                "/login",
                &address(n),
                &[("email", email), ("password", PASSWORD)],
            )
            .await,
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut sign_ups: HashMap<u16, usize> = HashMap::new();
    for task in flooders {
        for (status, count) in task.await.unwrap() {
            *sign_ups.entry(status).or_default() += count;
        }
    }
    let status_p99_ms = percentile(status_task.await.unwrap(), 0.99);
    Phase {
        sign_ins,
        status_p99_ms,
        sign_ups,
    }
}

fn show(name: &str, p: &Phase) {
    let latencies: Vec<_> = p.sign_ins.iter().map(|(_, d)| *d).collect();
    let ok = p.sign_ins.iter().filter(|(s, _)| *s == 303).count();
    let mut sign_ups: Vec<_> = p.sign_ups.iter().collect();
    sign_ups.sort();
    println!(
        "{name:<28} sign-in p50 {:>7.1} ms  p99 {:>7.1} ms  ({ok}/{} signed in)   /v1/status p99 {:>6.2} ms   sign-ups {sign_ups:?}",
        percentile(latencies.clone(), 0.5),
        percentile(latencies, 0.99),
        p.sign_ins.len(),
        p.status_p99_ms,
    );
}

fn main() {
    let secs: f64 = support::setting("BENCH_SECS", 10.0);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{}", start(dir.path()));
    let runtime = support::one_worker_runtime();
    runtime.block_on(async {
        let email = format!("bench-{}@example.com", std::process::id());
        let (status, _) = submit(
            &base,
            "/signup",
            "10.255.0.1",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("workspace", "Bench"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        // A key for /v1/status, made on the settings page like any key.
        let browser = client();
        let page = text(browser.get(format!("{base}/login"))).await;
        browser
            .post(format!("{base}/login"))
            .header("x-forwarded-for", "10.255.0.2")
            .form(&[
                ("email", email.as_str()),
                ("password", PASSWORD),
                ("csrf_token", &csrf_in(&page)),
            ])
            .send()
            .await
            .unwrap();
        let page = text(browser.get(format!("{base}/settings/api-keys"))).await;
        // A test key: its check costs what a live key's does, and the bench's account has not
        // confirmed its address (live keys wait for that).
        browser
            .post(format!("{base}/settings/api-keys"))
            .form(&[
                ("label", "bench"),
                ("mode", "test"),
                ("csrf_token", &csrf_in(&page)),
            ])
            .send()
            .await
            .unwrap();
        // The form redirects to the page that shows the new key once.
        let created = text(browser.get(format!("{base}/settings/api-keys"))).await;
        let start = created.find(r#"id="new-key""#).unwrap();
        let value = created[start..].find("value=\"").unwrap() + start + 7;
        let key = created[value..value + created[value..].find('"').unwrap()].to_owned();

        println!(
            "machine: {} cores; {secs} s per phase; {FLOODERS} sign-up loops in the flood\n",
            support::num_cores()
        );
        let quiet = phase(&base, &email, &key, false, secs).await;
        show("sign-ins alone", &quiet);
        let flooded = phase(&base, &email, &key, true, secs).await;
        show("sign-ins during a flood", &flooded);
        let p99 = |p: &Phase| percentile(p.sign_ins.iter().map(|(_, d)| *d).collect(), 0.99);
        println!();
        figures::record(
            "`/v1/status` p99 while one person signs in back to back",
            &format!(
                "{:.2} ms (sign-in p99 {:.1} ms)",
                quiet.status_p99_ms,
                p99(&quiet)
            ),
            "< 20 ms",
            quiet.status_p99_ms < 20.0,
        );
        let signed_in = flooded.sign_ins.iter().filter(|(s, _)| *s == 303).count();
        figures::record(
            &format!(
                "`/v1/status` p99 while {FLOODERS} loops sign up flat out beside the sign-ins"
            ),
            &format!(
                "{:.2} ms (sign-in p99 {:.1} ms, {signed_in} of {} signed in)",
                flooded.status_p99_ms,
                p99(&flooded),
                flooded.sign_ins.len()
            ),
            "< 20 ms",
            flooded.status_p99_ms < 20.0,
        );
    });
}
