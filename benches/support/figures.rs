//! The benchmarks' shared table: when `BENCH_FIGURES` names a file, every benchmark adds one
//! Markdown row per figure to it (figure, measured, target, met), so that `benches/figures`
//! shows every figure of one run in one table.

use std::io::Write as _;

/// Adds a row to the table named by `BENCH_FIGURES`, if any, and prints it.
pub fn record(figure: &str, measured: &str, target: &str, met: bool) {
    let mark = if met { "yes" } else { "**no**" };
    println!("figure: {figure}: {measured} (target {target}): met {mark}");
    let Ok(path) = std::env::var("BENCH_FIGURES") else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("BENCH_FIGURES={path}: {e}"));
    writeln!(file, "| {figure} | {measured} | {target} | {mark} |").unwrap();
}

/// Adds `markdown` (a curve, a breakdown) after the table, under `title`.
pub fn attach(title: &str, markdown: &str) {
    let Ok(path) = std::env::var("BENCH_FIGURES") else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(format!("{path}.notes"))
        .unwrap_or_else(|e| panic!("BENCH_FIGURES={path}: {e}"));
    writeln!(file, "{title}\n\n{markdown}").unwrap();
}
