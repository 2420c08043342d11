//! Form validation benchmark: `cargo bench -p rathaus-standards --bench forms`.
//!
//! Validates a full Gewerbe-Anmeldung submission (the real FIM schema
//! S00000009, 132 fields) and a Bewohnerparkausweis submission with the
//! server-side rule engine, and reports median and p99 per validation. The
//! baseline, measured in the same run, is parsing the same submission from
//! JSON text (`serde_json::from_str`), which every submission costs anyway.

use std::{hint::black_box, time::Instant};

use rathaus_domain::forms::{self, FormDefinition};
use rathaus_standards::xdatenfelder;
use serde_json::Value;

const FIM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/fim");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{FIM}/{rel}")).unwrap()
}

/// Median and p99 in microseconds of `rounds` batches of `iters` calls each.
fn measure(rounds: usize, iters: usize, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..iters {
        f();
    }
    let mut per_call: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / iters as f64
        })
        .collect();
    per_call.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = per_call[per_call.len() / 2];
    let p99 = per_call[((per_call.len() as f64 * 0.99).ceil() as usize).min(per_call.len()) - 1];
    (median, p99)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and expects a quick run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (rounds, iters) = if quick { (5, 20) } else { (200, 500) };
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
        let (base_med, base_p99) = measure(rounds, iters, || {
            black_box(serde_json::from_str::<Value>(black_box(&text)).unwrap());
        });
        let (med, p99) = measure(rounds, iters, || {
            black_box(forms::validate(black_box(def), black_box(&data), today));
        });
        rows.push((name, fields, base_med, base_p99, med, p99));
    }

    println!(
        "form validation ({} rounds × {} calls{})",
        rounds,
        iters,
        if quick { ", quick mode" } else { "" }
    );
    println!(
        "| form | values | baseline: parse JSON median / p99 | validate median / p99 | validate / baseline |"
    );
    println!("|---|---|---|---|---|");
    for (name, fields, bm, bp, m, p) in &rows {
        println!(
            "| {name} | {fields} | {bm:.1} µs / {bp:.1} µs | {m:.1} µs / {p:.1} µs | {:.2}× |",
            m / bm
        );
    }
    let gewerbe_median = rows[0].4;
    println!(
        "goal: full Gewerbe-Anmeldung validation median < 50 µs — {} ({gewerbe_median:.1} µs)",
        if gewerbe_median < 50.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}
