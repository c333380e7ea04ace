//! The soak: two `socializer serve` processes (the release binary) on one PostgreSQL database
//! with Redis, under ten minutes of mixed traffic spread over both (pages, sign-ups and
//! sign-ins, the API, connects to X and LinkedIn, checks and disconnects), while both
//! processes' refreshers and the checks refresh X tokens that live ten and a half minutes
//! (due half a minute after they are handed out). It passes when:
//!
//! - no answer is 500 or more and every answer is the one expected;
//! - no X refresh token was presented twice (the stand-in counts, as X refuses a second use);
//! - every connected X account is still active at the end;
//! - each process's memory is flat over the second half: its last minute within 10% of the
//!   minute before the half-way mark.
//!
//! Run: `cargo bench --bench soak` (ten minutes; `BENCH_SOAK_SECS` changes it, but memory is
//! judged flat only in runs of several minutes, once the caches have filled). It needs
//! PostgreSQL and Redis, as `cargo bench --bench scale_out` does (`BENCH_DATABASE_URL`,
//! `BENCH_REDIS_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;
use support::postgres::{BenchDatabase, redis_url};
use support::{figures, mixed, process::Process};

/// Last minute over the minute before half-way, per process, above which memory is not flat.
const MAX_GROWTH: f64 = 1.10;

fn main() {
    let secs: u64 = support::setting("BENCH_SOAK_SECS", 600);
    let database = BenchDatabase::create("soak");
    let runtime = support::one_worker_runtime();
    runtime.block_on(async {
        let (stand_in, mut vars) = mixed::stand_in().await;
        vars.push(("SOCIALIZER_DATABASE_URL".into(), database.url.clone()));
        vars.push(("SOCIALIZER_REDIS_URL".into(), redis_url()));
        // The first applies the migrations before the second starts.
        let first = Process::start(&vars);
        let second = Process::start(&vars);
        println!("two socializer processes on PostgreSQL with Redis; mixed traffic for {secs} s\n");
        let (tally, samples, workspaces) = mixed::run(
            &[&first, &second],
            6,
            mixed::REDIRECT,
            Duration::from_secs(secs),
        )
        .await;
        tally.show();

        // Every account still active at the end, as each process reads it.
        let client = reqwest::Client::new();
        let (mut reads, mut inactive) = (0, Vec::new());
        for workspace in &workspaces {
            for process in [&first, &second] {
                let listed: serde_json::Value = client
                    .get(format!("{}/v1/accounts", process.base()))
                    .bearer_auth(&workspace.key)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                for account in listed["data"].as_array().unwrap() {
                    reads += 1;
                    if account["status"] != "active" {
                        inactive.push(account.to_string());
                    }
                }
            }
        }
        let (refreshed, spent_twice) = {
            let x = stand_in.platform("x");
            (
                x.refresh_uses.values().sum::<u32>(),
                x.refresh_uses.values().filter(|n| **n > 1).count(),
            )
        };
        let errors: Vec<String> = [&first, &second]
            .iter()
            .flat_map(|p| p.error_lines())
            .collect();
        let growth = mixed::growth(&samples);
        println!();
        let curve = mixed::memory_table(&samples);
        print!("{curve}");
        figures::attach("Resident memory of the two processes in the soak, sampled every 10 s (`cargo bench --bench soak`):", &curve);
        println!();
        figures::record(
            &format!("soak, {} min, two processes: answers of 500 or more", secs / 60),
            &format!("{} of {} ({} not as expected)", tally.server_errors(), tally.answered(), tally.unexpected_count),
            "0",
            tally.server_errors() == 0 && tally.unexpected_count == 0 && errors.is_empty(),
        );
        figures::record(
            "soak: X refresh tokens spent twice",
            &format!("{spent_twice} of {refreshed} refreshes"),
            "0",
            spent_twice == 0 && refreshed > 0,
        );
        let shown: Vec<String> = growth.iter().map(|g| format!("{g:.2}")).collect();
        figures::record(
            "soak: memory, last minute over the minute before half-way",
            &format!("{} (peak {:.1} MB)", shown.join(" and "), mixed::peak_mb(&samples)),
            "≤ 1.10 each",
            growth.iter().all(|g| *g <= MAX_GROWTH),
        );
        figures::record(
            "soak: connected accounts not active at the end",
            &format!("{} of {} (each read from both processes)", inactive.len(), reads / 2),
            "0",
            inactive.is_empty(),
        );
        assert!(errors.is_empty(), "server log: {errors:?}");
        assert!(inactive.is_empty(), "accounts not active: {inactive:?}");
        assert_eq!(tally.server_errors(), 0);
        assert_eq!(tally.unexpected_count, 0, "answers not as expected");
        assert_eq!(spent_twice, 0, "a refresh token was presented twice");
        assert!(refreshed > 0, "no token was refreshed: the soak did not test refreshes");
        assert!(growth.iter().all(|g| *g <= MAX_GROWTH), "memory grew: {growth:?}");
    });
}
