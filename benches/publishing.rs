//! The publishing figure: two `socializer serve` processes (the real binary) on one PostgreSQL,
//! 10,000 post targets falling due within one minute against the X stand-in, which counts every
//! call by text; one process is killed (SIGKILL) halfway through the minute.
//!
//! Measured: targets sent twice (must be none), targets lost (neither published nor `unknown`:
//! must be none; the killed process's claimed targets end `unknown` or are sent by the other),
//! and the p99 delay from each target's due time to its call at the platform (under 2 s).
//!
//! Run: `cargo bench --bench publishing` (about three minutes). It needs PostgreSQL:
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`, a role that may
//! create databases; the benchmark makes one of its own and drops it). `BENCH_TARGETS` sets the
//! number of targets (10000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use std::time::{Duration, Instant};
use support::postgres::BenchDatabase;
use support::process::Process;
use support::{figures, setting};

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// How many targets are still scheduled or being sent.
fn waiting(conn: &mut PgConnection) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM post_targets WHERE state IN ('scheduled', 'publishing')",
    )
    .get_result::<Count>(conn)
    .unwrap()
    .n
}

/// Every target's text, state and due time.
fn targets(conn: &mut PgConnection) -> Vec<(String, String, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        state: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        due_at: i64,
    }
    diesel::sql_query(
        "SELECT p.text, t.state, p.publish_at AS due_at FROM post_targets t JOIN posts p ON p.id = t.post_id",
    )
    .load::<Row>(conn)
    .unwrap()
    .into_iter()
    .map(|r| (r.text, r.state, r.due_at))
    .collect()
}

fn main() {
    let total: usize = setting("BENCH_TARGETS", 10_000);
    let database = BenchDatabase::create("publishing");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let platforms = support::platforms::Running::start().await;
        platforms
            .platform("x")
            .redirect_uris
            .insert(support::REDIRECT.into());
        let mut vars = platforms.vars();
        vars.push(("SOCIALIZER_DATABASE_URL".into(), database.url.clone()));
        vars.push(("SOCIALIZER_RATE_LIMIT_FREE".into(), "4000000000".into()));
        vars.push(("SOCIALIZER_PUBLISH_TIMEOUT_SECS".into(), "5".into()));
        let first = Process::start(&vars);
        let second = Process::start(&vars);
        let db = database.url.clone();
        let (_, key) = tokio::task::spawn_blocking(move || {
            support::seed_workspace_and_key(&db, "owner@bench.example")
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let account = support::connect_x(&http, &first.base(), &key).await;

        // The minute the targets fall due in starts once they can all be written.
        let start = unix_now() + 90;
        let written = Instant::now();
        let bases = [first.base(), second.base()];
        let mut batches = Vec::new();
        for chunk in (0..total).collect::<Vec<_>>().chunks(total.div_ceil(32)) {
            let (http, key, account, bases) =
                (http.clone(), key.clone(), account.clone(), bases.clone());
            let chunk = chunk.to_vec();
            batches.push(tokio::spawn(async move {
                for i in chunk {
                    let due = start + i64::try_from(i * 60 / total).unwrap();
                    let body = serde_json::json!({
                        "text": format!("bench post {i}"),
                        "account_ids": [account],
                        "publish_at": rfc3339(due),
                    });
                    // A kept-alive connection the server just closed fails the send: it is sent
                    // again under the same Idempotency-Key, so it never makes a second post.
                    let mut tries = 0;
                    let answer = loop {
                        tries += 1;
                        match http
                            .post(format!("{}/v1/posts", bases[i % 2]))
                            .bearer_auth(&key)
                            .header("Idempotency-Key", format!("bench-{i}"))
                            .json(&body)
                            .send()
                            .await
                        {
                            Ok(answer) => break answer,
                            Err(e) if tries < 5 => eprintln!("post {i}: {e}; again"),
                            Err(e) => panic!("post {i}: {e}"),
                        }
                    };
                    assert_eq!(answer.status(), 202, "{}", answer.text().await.unwrap());
                }
            }));
        }
        for batch in batches {
            batch.await.unwrap();
        }
        println!(
            "{total} targets written in {:.1} s; due from {} over one minute",
            written.elapsed().as_secs_f64(),
            rfc3339(start)
        );
        assert!(unix_now() < start, "writing the targets overran the start");

        // Halfway through the minute, the second process dies mid-send.
        while unix_now() < start + 30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(second);
        println!("killed the second process (SIGKILL) at {}", rfc3339(unix_now()));

        let url = database.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            let deadline = Instant::now() + Duration::from_secs(180);
            while waiting(&mut conn) > 0 {
                assert!(Instant::now() < deadline, "targets still waiting after 3 minutes");
                std::thread::sleep(Duration::from_millis(500));
            }
        })
        .await
        .unwrap();
        let url = database.url.clone();
        let rows = tokio::task::spawn_blocking(move || {
            targets(&mut PgConnection::establish(&url).unwrap())
        })
        .await
        .unwrap();

        let x = platforms.platform("x");
        let twice = x.calls_by_text.values().filter(|&&n| n > 1).count();
        let mut lost = 0;
        let mut unknown = 0;
        let mut delays: Vec<i64> = Vec::new();
        for (text, state, due) in &rows {
            match state.as_str() {
                "published" => match x.first_call_ms.get(text) {
                    Some(at) => delays.push(at - due * 1000),
                    None => lost += 1,
                },
                "unknown" => unknown += 1,
                _ => lost += 1,
            }
        }
        delays.sort_unstable();
        let p99 = delays
            .get((delays.len() * 99 / 100).min(delays.len().saturating_sub(1)))
            .copied()
            .unwrap_or(i64::MAX);
        let p50 = delays.get(delays.len() / 2).copied().unwrap_or(i64::MAX);
        println!(
            "{} targets: {} published, {unknown} unknown (the killed process's sends in flight), \
             {lost} lost, {twice} sent twice; delay p50 {p50} ms, p99 {p99} ms",
            rows.len(),
            delays.len()
        );
        figures::record(
            &format!("publishing: {total} targets due within a minute, 2 processes on PostgreSQL, one killed halfway: sent twice"),
            &format!("{twice} ({} calls at X for {} targets)", x.publish_calls, rows.len()),
            "0",
            twice == 0 && rows.len() == total,
        );
        figures::record(
            "publishing: targets lost (neither published nor unknown)",
            &format!("{lost} ({} published, {unknown} unknown: in flight in the killed process)", delays.len()),
            "0",
            lost == 0,
        );
        figures::record(
            "publishing: p99 delay from due time to the platform call",
            &format!("{:.2} s (p50 {:.2} s)", p99 as f64 / 1000.0, p50 as f64 / 1000.0),
            "< 2 s",
            p99 < 2000,
        );
        for line in first.error_lines() {
            println!("server error: {line}");
        }
    });
}
