//! Submission and inbox benchmark: `cargo bench -p rathaus --bench submissions`.
//!
//! For SQLite, and for PostgreSQL when `RATHAUS_TEST_POSTGRES_URL` names a
//! server (a fresh database each), in one run:
//! 1. the **raw insert rate** of the database: single-row INSERTs, each in
//!    its own committed write transaction, from the same number of concurrent
//!    tasks, on the same connection settings as the application (SQLite:
//!    WAL, `synchronous = FULL`) — the base of the ratio;
//! 2. **durable submissions per second through the API**: `POST
//!    /api/v1/applications` with an Idempotency-Key, validated, numbered,
//!    audited, with case and outbox job, answered only after the commit of
//!    its batch (the group-commit writer, ADR 0009) — five rounds on the
//!    fresh database, then five more with the inbox's cases (and their
//!    applications: 1,000,000 on PostgreSQL) already stored; the last
//!    round's rate over the first's shows whether it decays as tables grow;
//! 3. the **inbox query** (a clerk's open cases, newest first, 50 per page,
//!    the first page and a page deep in the keyset) with `RATHAUS_BENCH_CASES`
//!    cases in the database (default 1,000,000 on PostgreSQL and 100,000 on
//!    SQLite; bulk-inserted by SQL).
//!
//! The full run (`--bench`) prints each goal as "met" or "NOT met", computed
//! from the figures of the same run, and exits with status 1 when one is
//! missed: ≥ 2,000 durable submissions/s on both backends, fresh and loaded;
//! on PostgreSQL the 5th round ≥ 0.8 × the 1st; the inbox p50 < 10 ms with
//! 1,000,000 cases. `cargo test` runs it in a quick mode with small numbers,
//! so it cannot rot.

use rathaus_storage::prelude::*;
use std::time::{Duration, Instant};

use rathaus_domain::{
    catalog::I18nText,
    forms::{FormDefinition, Item, Step},
    identity::Email,
    tenancy::TenantId,
};
use rathaus_storage::{
    ConnectionTrait, Store,
    applications::InboxQuery,
    files::FileStore,
    forms::FormRepository,
    identity::UserRepository,
    tenancy::{OrgUnitRepository, TenantRepository},
    test_support::{POSTGRES_ENV, TestDb},
};
use rathaus_web::{AppState, WebConfig};
use serde_json::json;
use tokio::sync::watch;

/// The allocator of the `rathaus` binary, so the benchmark measures what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONCURRENCY: usize = 32;
/// Rounds of (baseline, API) in a full run.
const ROUNDS: usize = 5;

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn publish_form(store: &Store, tid: TenantId) {
    let repo = store.repo();
    let user = |e: &str| {
        let repo = store.repo();
        let e = Email::parse(e).unwrap();
        async move { repo.user_by_email(tid, &e).await.unwrap().unwrap().id }
    };
    let author = user("redaktion@musterstadt.example").await;
    let approver = user("redaktion2@musterstadt.example").await;
    let def = FormDefinition {
        key: "bench".into(),
        title: I18nText {
            de: "Benchmark".into(),
            en: "Benchmark".into(),
        },
        steps: vec![Step {
            key: "s".into(),
            title: I18nText::default(),
            items: ["familienname", "vorname", "strasse", "ort"]
                .iter()
                .map(|k| {
                    Item::Field(
                        serde_json::from_value(json!({"key": k, "label": {"de": k}, "kind": "text", "required": true, "max_length": 100}))
                            .unwrap(),
                    )
                })
                .chain(std::iter::once(Item::Field(
                    serde_json::from_value(json!({"key": "email", "label": {"de": "E-Mail"}, "kind": "email", "autocomplete": "email"}))
                        .unwrap(),
                )))
                .collect(),
        }],
    };
    let (form, _) = store
        .create_form(tid, author, "bench", None, &def, None)
        .await
        .unwrap();
    repo.submit_form(tid, form.id, author).await.unwrap();
    store.approve_form(tid, form.id, approver).await.unwrap();
}

/// Single-row INSERTs, each its own committed write transaction.
async fn raw_inserts(store: &Store, total: usize, round: &str) -> f64 {
    store
        .db()
        .execute_unprepared(&format!(
            "CREATE TABLE bench_raw_{round} (id VARCHAR(40) PRIMARY KEY, payload TEXT NOT NULL)"
        ))
        .await
        .unwrap();
    let per = total / CONCURRENCY;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let store = store.clone();
        let round = round.to_string();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let txn = store.begin_write().await.unwrap();
                txn.execute_unprepared(&format!(
                    "INSERT INTO bench_raw_{round} (id, payload) VALUES ('{t}-{i}', '{{\"familienname\":\"Muster\",\"vorname\":\"Max\",\"strasse\":\"Weg 1\",\"ort\":\"Musterstadt\"}}')"
                ))
                .await
                .unwrap();
                txn.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per * CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

async fn api_submissions(base: &str, total: usize, run: &str) -> f64 {
    rathaus_storage::install_tls_crypto_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let per = total / CONCURRENCY;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..CONCURRENCY {
        let c = client.clone();
        let url = format!("{base}/api/v1/applications");
        let run = run.to_string();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let r = c
                    .post(&url)
                    .header("idempotency-key", format!("bench-{run}-{t:03}-{i:06}"))
                    .json(&json!({"form": "bench", "data": {
                        "familienname": "Muster", "vorname": "Max", "strasse": "Weg 1",
                        "ort": "Musterstadt", "email": "max@example.org"}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per * CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

/// Bulk-inserts `n` applications with their cases (spread over a year, all
/// in the clerk's org unit and a second one), by SQL on either backend.
async fn bulk_cases(store: &Store, tid: TenantId, unit: uuid::Uuid, other: uuid::Uuid, n: usize) {
    let repo = store.repo();
    let version: String = {
        let (_, v) = repo
            .published_form(
                tid,
                repo.form_by_key(tid, "bench").await.unwrap().unwrap().id,
            )
            .await
            .unwrap()
            .unwrap();
        v.id.to_string()
    };
    let postgres = matches!(store.backend(), rathaus_storage::Backend::Postgres);
    let chunk = 50_000usize;
    let mut done = 0usize;
    while done < n {
        let k = chunk.min(n - done);
        let (apps, cases) = if postgres {
            (
                format!(
                    "INSERT INTO applications (id, tenant_id, reference, year, seq, service_id, form_version_id, data, idempotency_key, access_token_hash, submitted_at, citizen_id, notify_email)
                     SELECT md5('a' || g)::uuid, '{t}', 'BX-2025-' || lpad(g::text, 7, '0'), 2025, g, NULL, '{version}', '{{}}', NULL, md5('t' || g) || md5('u' || g), now() - (g || ' seconds')::interval, NULL, NULL
                     FROM generate_series({a}, {b}) g",
                    t = tid.0, a = done + 1, b = done + k
                ),
                format!(
                    "INSERT INTO cases (id, tenant_id, application_id, org_unit_id, status, assignee_id, due_at, created_at, updated_at)
                     SELECT md5('c' || g)::uuid, '{t}', md5('a' || g)::uuid, CASE WHEN g % 4 = 0 THEN '{other}'::uuid ELSE '{unit}'::uuid END,
                            (ARRAY['received','in_progress','awaiting_documents','decided','closed'])[1 + g % 5], NULL, NULL,
                            now() - (g || ' seconds')::interval, now()
                     FROM generate_series({a}, {b}) g",
                    t = tid.0, a = done + 1, b = done + k
                ),
            )
        } else {
            // SQLite keeps UUIDs as 16-byte blobs: ids are 16 ASCII bytes.
            let (t, v, u, o) = (
                tid.0.simple(),
                uuid::Uuid::parse_str(&version).unwrap().simple(),
                unit.simple(),
                other.simple(),
            );
            (
                format!(
                    "WITH RECURSIVE s(g) AS (SELECT {a} UNION ALL SELECT g + 1 FROM s WHERE g < {b})
                     INSERT INTO applications (id, tenant_id, reference, year, seq, service_id, form_version_id, data, idempotency_key, access_token_hash, submitted_at, citizen_id, notify_email)
                     SELECT CAST(printf('a%015d', g) AS BLOB), X'{t}', 'BX-2025-' || printf('%07d', g), 2025, g, NULL, X'{v}', '{{}}', NULL,
                            printf('%064d', g), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || g || ' seconds'), NULL, NULL FROM s",
                    a = done + 1, b = done + k
                ),
                format!(
                    "WITH RECURSIVE s(g) AS (SELECT {a} UNION ALL SELECT g + 1 FROM s WHERE g < {b})
                     INSERT INTO cases (id, tenant_id, application_id, org_unit_id, status, assignee_id, due_at, created_at, updated_at)
                     SELECT CAST(printf('c%015d', g) AS BLOB), X'{t}', CAST(printf('a%015d', g) AS BLOB),
                            CASE WHEN g % 4 = 0 THEN X'{o}' ELSE X'{u}' END,
                            CASE g % 5 WHEN 0 THEN 'received' WHEN 1 THEN 'in_progress' WHEN 2 THEN 'awaiting_documents' WHEN 3 THEN 'decided' ELSE 'closed' END,
                            NULL, NULL, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || g || ' seconds'), strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') FROM s",
                    a = done + 1, b = done + k
                ),
            )
        };
        store.db().execute_unprepared(&apps).await.unwrap();
        store.db().execute_unprepared(&cases).await.unwrap();
        done += k;
    }
    let analyze = if postgres {
        "ANALYZE applications; ANALYZE cases"
    } else {
        "ANALYZE"
    };
    store.db().execute_unprepared(analyze).await.unwrap();
}

async fn inbox_median(
    store: &Store,
    tid: TenantId,
    units: &[uuid::Uuid],
    runs: usize,
) -> (Duration, Duration) {
    let repo = store.repo();
    let mut first = Vec::new();
    let mut deep = Vec::new();
    // A cursor some pages down.
    let mut q = InboxQuery {
        limit: 50,
        ..Default::default()
    };
    for _ in 0..20 {
        let page = repo.inbox(tid, units, &q).await.unwrap();
        let last = page.last().unwrap();
        q.before = Some((last.case.created_at, last.case.id));
    }
    let deep_q = q.clone();
    let first_q = InboxQuery {
        limit: 50,
        ..Default::default()
    };
    for _ in 0..runs {
        let t = Instant::now();
        let rows = repo.inbox(tid, units, &first_q).await.unwrap();
        first.push(t.elapsed());
        assert_eq!(rows.len(), 50);
        let t = Instant::now();
        let rows = repo.inbox(tid, units, &deep_q).await.unwrap();
        deep.push(t.elapsed());
        assert_eq!(rows.len(), 50);
    }
    (median(first), median(deep))
}

/// Rounds of (raw insert baseline, API submissions), in alternation.
#[derive(Default)]
struct Rounds {
    raw: Vec<f64>,
    api: Vec<f64>,
}

impl Rounds {
    fn raw(&self) -> f64 {
        median_f(self.raw.clone())
    }
    fn api(&self) -> f64 {
        median_f(self.api.clone())
    }
    fn ratio(&self) -> f64 {
        median_f(self.api.iter().zip(&self.raw).map(|(a, r)| a / r).collect())
    }
    /// The last round's API rate over the first's (1.0: no decay).
    fn last_over_first(&self) -> f64 {
        self.api[self.api.len() - 1] / self.api[0]
    }
}

struct Row {
    backend: &'static str,
    /// On the freshly migrated database.
    fresh: Rounds,
    /// With `cases` applications (and their cases) already in the tables.
    loaded: Rounds,
    cases: usize,
    inbox_first: Duration,
    inbox_deep: Duration,
}

/// Baseline and API in alternation, so drift of the (shared) machine
/// touches both sides of the ratio alike; each round on stderr.
async fn rounds(
    store: &Store,
    base: &str,
    total: usize,
    n: usize,
    backend: &str,
    phase: &str,
) -> Rounds {
    let mut r = Rounds::default();
    for round in 0..n {
        let label = format!("{phase}_{round}");
        let raw = raw_inserts(store, total, &label).await;
        let api = api_submissions(base, total, &label).await;
        eprintln!(
            "{backend} {phase} round {}: raw insert {raw:.0}/s, API {api:.0}/s",
            round + 1
        );
        r.raw.push(raw);
        r.api.push(api);
    }
    r
}

async fn run(postgres: Option<String>, quick: bool) -> Row {
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let db = TestDb::on(postgres.clone(), 16).await;
    let tid = rathaus::demo::seed(&db.store).await.expect("seed");
    publish_form(&db.store, tid).await;
    let total = std::env::var("RATHAUS_BENCH_SUBMISSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 64 } else { 8_000 });
    let n = if quick { 1 } else { ROUNDS };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut config = WebConfig::new(base.clone());
    config.default_tenant = Some("musterstadt".into());
    config.submits_per_minute = u32::MAX / 2;
    let state = AppState::new(db.store.clone(), FileStore::memory(), config);
    let (tx, rx) = watch::channel(false);
    let server = tokio::spawn(rathaus_web::serve(listener, state, rx));
    // Warm-up (connections, caches), then the measured rounds: first on
    // the fresh database, then with a million applications in the tables.
    api_submissions(&base, CONCURRENCY * 2, "warm").await;
    let fresh = rounds(&db.store, &base, total, n, backend, "fresh").await;

    let repo = db.store.repo();
    let unit = repo
        .org_unit_by_name(tid, "Gewerbeanmeldungen")
        .await
        .unwrap()
        .unwrap()
        .id;
    let other = repo
        .org_unit_by_name(tid, "Steueramt")
        .await
        .unwrap()
        .unwrap()
        .id;
    let cases: usize = std::env::var("RATHAUS_BENCH_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(match (quick, backend) {
            (true, _) => 5_000,
            (false, "postgres") => 1_000_000,
            _ => 100_000,
        });
    bulk_cases(&db.store, tid, unit, other, cases).await;
    let loaded = rounds(&db.store, &base, total, n, backend, "loaded").await;
    let _ = tx.send(true);
    let _ = server.await;

    let (inbox_first, inbox_deep) =
        inbox_median(&db.store, tid, &[unit], if quick { 5 } else { 200 }).await;
    let _ = repo.tenant(tid).await;
    db.drop_db().await;
    Row {
        backend,
        fresh,
        loaded,
        cases,
        inbox_first,
        inbox_deep,
    }
}

#[tokio::main]
async fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let mut rows = vec![run(None, quick).await];
    match std::env::var(POSTGRES_ENV).ok().filter(|s| !s.is_empty()) {
        Some(url) => rows.push(run(Some(url), quick).await),
        None => eprintln!("note: PostgreSQL skipped; set {POSTGRES_ENV} to measure it too"),
    }
    println!(
        "submissions benchmark ({}, {CONCURRENCY} concurrent clients; medians of {} rounds; \"loaded\": with the cases column's applications already stored)",
        if quick { "quick mode" } else { "full run" },
        if quick { 1 } else { ROUNDS }
    );
    println!(
        "{:<9} {:<7} {:>10} {:>13} {:>15} {:>7} {:>10} {:>11} {:>12}",
        "backend",
        "phase",
        "cases",
        "raw insert/s",
        "API submits/s",
        "ratio",
        "last/first",
        "inbox p50",
        "inbox deep"
    );
    for r in &rows {
        for (phase, cases, rounds) in [("fresh", 0, &r.fresh), ("loaded", r.cases, &r.loaded)] {
            println!(
                "{:<9} {:<7} {:>10} {:>13.0} {:>15.0} {:>7.2} {:>10.2} {:>8.2} ms {:>9.2} ms",
                r.backend,
                phase,
                cases,
                rounds.raw(),
                rounds.api(),
                rounds.ratio(),
                rounds.last_over_first(),
                r.inbox_first.as_secs_f64() * 1000.0,
                r.inbox_deep.as_secs_f64() * 1000.0
            );
        }
    }
    if quick {
        return;
    }
    let mut missed = 0;
    let mut goal = |met: bool, text: String| {
        println!("goal: {text} — {}", if met { "met" } else { "NOT met" });
        if !met {
            missed += 1;
        }
    };
    for r in &rows {
        for (phase, rounds) in [("fresh", &r.fresh), ("loaded", &r.loaded)] {
            let what = if phase == "fresh" {
                "on a fresh database".to_string()
            } else {
                format!("with {} applications stored", r.cases)
            };
            goal(
                rounds.api() >= 2_000.0,
                format!(
                    "durable API submissions on {} {what} >= 2,000/s ({:.0}/s, {:.2}x the raw insert rate)",
                    r.backend,
                    rounds.api(),
                    rounds.ratio()
                ),
            );
            if r.backend == "postgres" {
                goal(
                    rounds.last_over_first() >= 0.8,
                    format!(
                        "PostgreSQL {what}: round {ROUNDS} >= 0.8 x round 1 ({:.0}/s after {:.0}/s, {:.2}x)",
                        rounds.api[rounds.api.len() - 1],
                        rounds.api[0],
                        rounds.last_over_first()
                    ),
                );
            }
        }
        if r.backend == "postgres" && r.cases >= 1_000_000 {
            let p50 = r.inbox_first.max(r.inbox_deep).as_secs_f64() * 1000.0;
            goal(
                p50 < 10.0,
                format!(
                    "inbox p50 with {} cases on PostgreSQL < 10 ms (first page {:.2} ms, deep page {:.2} ms)",
                    r.cases,
                    r.inbox_first.as_secs_f64() * 1000.0,
                    r.inbox_deep.as_secs_f64() * 1000.0
                ),
            );
        }
    }
    if missed > 0 {
        std::process::exit(1);
    }
}
