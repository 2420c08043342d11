//! Form validation benchmark: `cargo bench -p rathaus-standards --bench forms`.
//!
//! Validates a full Gewerbe-Anmeldung submission (the real FIM schema
//! S00000009, 132 fields) and a Bewohnerparkausweis submission with the
//! server-side rule engine, and reports median and p99 of single calls: every
//! call is timed on its own with the monotonic clock (`Instant`, a vDSO read of
//! a few dozen nanoseconds, measured and printed). The baseline, measured in
//! the same run, is parsing the same submission from JSON text
//! (`serde_json::from_str`), which every submission costs anyway. The full run
//! compares the Gewerbe-Anmeldung median with its goal and exits with status 1
//! when it is missed; the quick run (`cargo test`, unoptimised) only checks
//! that the submissions are valid and the harness runs.

use std::{hint::black_box, time::Instant};

use rathaus_domain::forms::{self, FormDefinition};
use rathaus_standards::xdatenfelder;
use serde_json::Value;

const FIM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/fim");

/// Goal for validating a full Gewerbe-Anmeldung, median of single calls.
const GOAL_MEDIAN_US: f64 = 50.0;

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{FIM}/{rel}")).unwrap()
}

/// Value at quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Median and p99 in microseconds of `calls` single calls, each timed on its own
/// (after `calls / 10` untimed warm-up calls).
fn measure(calls: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..calls / 10 {
        f();
    }
    let mut per_call: Vec<f64> = (0..calls)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    (quantile(&per_call, 0.5), quantile(&per_call, 0.99))
}

/// Median cost in nanoseconds of one `Instant::now()` + `elapsed()` pair: what
/// timing a call adds to its figure.
fn clock_overhead_ns() -> f64 {
    let mut samples: Vec<f64> = (0..10_000)
        .map(|_| {
            let t = Instant::now();
            black_box(t.elapsed()).as_secs_f64() * 1e9
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    quantile(&samples, 0.5)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and expects a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let calls = if quick { 100 } else { 100_000 };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();

    let gewerbe: FormDefinition = xdatenfelder::import(
        "S00000009",
        &read("gewerbeanmeldung/S00000009_xdatenfelder.xml"),
        &[],
    )
    .unwrap()
    .form;
    let lists: Vec<(String, String)> = std::fs::read_dir(format!("{FIM}/bewohnerparken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("genericode"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    let parken: FormDefinition = xdatenfelder::import(
        "S05000058",
        &read("bewohnerparken/S05000058V1.0_xdf2.xml"),
        &lists,
    )
    .unwrap()
    .form;

    let mut rows = Vec::new();
    for (name, def) in [
        ("Gewerbe-Anmeldung (S00000009)", &gewerbe),
        ("Bewohnerparkausweis (S05000058)", &parken),
    ] {
        let data = forms::example_data(def);
        let text = serde_json::to_string(&data).unwrap();
        // The benchmark measures the real path: the full submission is valid.
        assert_eq!(
            forms::validate(def, &data, today),
            vec![],
            "{name}: example must be valid"
        );
        let fields = text.matches("\":").count();
        let (base_med, base_p99) = measure(calls, || {
            black_box(serde_json::from_str::<Value>(black_box(&text)).unwrap());
        });
        let (med, p99) = measure(calls, || {
            black_box(forms::validate(black_box(def), black_box(&data), today));
        });
        rows.push((name, fields, base_med, base_p99, med, p99));
    }

    println!(
        "form validation ({calls} single calls each, timed one by one; clock overhead {:.0} ns per call, included{})",
        clock_overhead_ns(),
        if quick { ", quick mode" } else { "" }
    );
    println!(
        "| form | values | baseline: parse JSON median / p99 | validate median / p99 | validate / baseline (medians) |"
    );
    println!("|---|---|---|---|---|");
    for (name, fields, bm, bp, m, p) in &rows {
        println!(
            "| {name} | {fields} | {bm:.1} µs / {bp:.1} µs | {m:.1} µs / {p:.1} µs | {:.2}× |",
            m / bm
        );
    }
    let gewerbe_median = rows[0].4;
    let met = gewerbe_median < GOAL_MEDIAN_US;
    if quick {
        println!(
            "goal: full Gewerbe-Anmeldung validation median < {GOAL_MEDIAN_US} µs — not compared in quick mode"
        );
    } else {
        println!(
            "goal: full Gewerbe-Anmeldung validation median < {GOAL_MEDIAN_US} µs — {} ({gewerbe_median:.1} µs)",
            if met { "met" } else { "NOT met" }
        );
        if !met {
            std::process::exit(1);
        }
    }
}
