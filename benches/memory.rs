//! The memory figure: the server's resident memory, sampled every 10 seconds, through ten
//! minutes of mixed traffic (pages, sign-ups and sign-ins, the API, connects, refreshes) on
//! embedded SQLite. The server is a process of its own (the release binary), so what is
//! measured is the server alone.
//!
//! Run: `cargo bench --bench memory` (ten minutes). `BENCH_MEMORY_SECS` changes the length.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;
use support::{figures, mixed, process::Process};

/// Megabytes (10^6 bytes) the server may hold.
const TARGET_MB: f64 = 100.0;

fn main() {
    let secs: u64 = support::setting("BENCH_MEMORY_SECS", 600);
    let runtime = support::one_worker_runtime();
    runtime.block_on(async {
        let (_stand_in, vars) = mixed::stand_in().await;
        let server = Process::start(&vars);
        println!("one socializer process, embedded SQLite; mixed traffic for {secs} s\n");
        let (tally, samples, _) =
            mixed::run(&[&server], 4, mixed::REDIRECT, Duration::from_secs(secs)).await;
        tally.show();
        println!();
        let curve = mixed::memory_table(&samples);
        print!("{curve}");
        figures::attach("Resident memory of the embedded server, sampled every 10 s (`cargo bench --bench memory`):", &curve);
        println!();
        let peak = mixed::peak_mb(&samples);
        figures::record(
            &format!("resident memory, {} min of mixed traffic, embedded", secs / 60),
            &format!(
                "{peak:.1} MB at most ({} samples, {} requests)",
                samples.len(),
                tally.answered()
            ),
            "< 100 MB",
            peak < TARGET_MB,
        );
        let errors = server.error_lines();
        assert!(
            tally.server_errors() == 0 && errors.is_empty(),
            "{} answers of 500 or more; log: {errors:?}",
            tally.server_errors()
        );
    });
}
