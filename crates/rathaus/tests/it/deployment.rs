//! What the README promises about running rathaus: several instances on one
//! database, configuration (file and environment), Secure cookies, secrets
//! kept out of the logs, and the rate limits.

use std::time::{Duration, Instant};

use rathaus_storage::{outbox::OutboxRepository, test_support::TestDb};
use serde_json::{Value, json};

use crate::{
    cli::{Running, bin_on, fresh_env},
    helpers::{
        TestApp, claim_case, client, get_json, hundesteuer_data, login_with, publish_form,
        staff_login, submit_api, submitted, token,
    },
};

/// How long a staff write may take to reach another instance's submissions
/// (the intake cache lives 5 s), plus slack for a slow machine.
const CACHE_LIFETIME: Duration = Duration::from_secs(5);

fn instance(dir: &std::path::Path, db: &TestDb, command: &str) -> Running {
    let mut c = bin_on(dir, db);
    c.env("RATHAUS_DEFAULT_TENANT", "musterstadt")
        .env("RATHAUS_SUBMITS_PER_MINUTE", "1000")
        .env("RATHAUS_WORKERS", "1")
        .env("RATHAUS_WORKER_LEASE_SECS", "4")
        .arg(command);
    Running::start(c)
}

/// Two servers on one database (PostgreSQL, or one SQLite file shared by the
/// two processes): unique numbers and one intact audit chain, staff writes
/// reach the other instance, sessions carry over, and a job held by a killed
/// instance is finished by the other once its lease expires.
#[tokio::test]
async fn two_instances_share_one_database() {
    let (dir, db) = fresh_env().await;
    let a = instance(&dir, &db, "demo");
    let b = instance(&dir, &db, "serve");

    // Submissions on both, at the same time: every number once.
    let data = hundesteuer_data();
    let mut sends = Vec::new();
    for i in 0..12 {
        let url = if i % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let data = data.clone();
        sends.push(tokio::spawn(async move {
            submitted(
                &url,
                "hundesteuer-anmeldung",
                &format!("two-inst-{i:04}"),
                &data,
            )
            .await
        }));
    }
    let mut references = Vec::new();
    for s in sends {
        references.push(s.await.unwrap()["reference"].as_str().unwrap().to_string());
    }
    let mut unique = references.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 12, "every number once: {references:?}");
    let out = bin_on(&dir, &db)
        .args(["admin", "verify-audit"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    let entries: usize = report
        .lines()
        .find(|l| l.starts_with("musterstadt\tok\t"))
        .and_then(|l| l.split('\t').nth(2))
        .and_then(|n| n.trim_end_matches(" entries").parse().ok())
        .unwrap_or_else(|| panic!("one intact chain: {report}"));
    assert!(entries >= 12, "{report}");

    // A form published on A is taken by B within the cache's lifetime. B
    // looks for it first, so a stale "not published" would be cached.
    let mut form = crate::forms::test_form();
    form["key"] = json!("zwei-instanzen");
    // Routed to a unit of the demo clerk; a service without a fee (the
    // demo charges for the Gewerbe-Anmeldung before sending).
    form["service"] = json!("gewerbe-ummeldung");
    let form_data = json!({"familienname": "Muster", "lastschrift": false, "hunde": [{"name": "Bello", "rasse": "mischling"}]});
    let r = submit_api(&b.url, "zwei-instanzen", "two-inst-early-1", &form_data).await;
    assert!(
        r.status().is_client_error(),
        "not published yet: {}",
        r.status()
    );
    publish_form(&a.url, &form).await;
    let published = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let r = submit_api(
            &b.url,
            "zwei-instanzen",
            &format!("two-inst-late-{tries}"),
            &form_data,
        )
        .await;
        if r.status() == 201 {
            break;
        }
        assert!(
            published.elapsed() < CACHE_LIFETIME + Duration::from_secs(2),
            "B still refuses the form {:?} after publishing on A: {}",
            published.elapsed(),
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A session made on A works on B (cookies are per host, not per port).
    let browser = staff_login(&a.url, "sachbearbeitung@musterstadt.example").await;
    let page = browser
        .get(format!("{}/staff", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the session of A is valid on B");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("sachbearbeitung@musterstadt.example")
    );
    // A clerk's claim on B is seen on A.
    let clerk = token(&b.url, "sachbearbeitung@musterstadt.example").await;
    let gewerbe = submitted(&a.url, "zwei-instanzen", "two-inst-claim-1", &form_data).await;
    let reference = gewerbe["reference"].as_str().unwrap();
    claim_case(&b.url, &clerk, reference).await;
    let seen = get_json(
        format!("{}/api/v1/cases?reference={reference}", a.url),
        &clerk,
    )
    .await;
    assert_eq!(seen["cases"][0]["status"], "in_progress", "{seen}");

    // A job claimed by one instance that is then killed is finished by the
    // other after the lease (4 s) expires.
    let job = db
        .store
        .repo()
        .enqueue(None, "diagnostics.sleep", &json!({ "ms": 1500 }))
        .await
        .unwrap();
    let started = Instant::now();
    let holder = loop {
        let j = db.store.repo().job(job).await.unwrap().unwrap();
        if j.status == "running" {
            break j.locked_by.expect("a running job has a holder");
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no instance claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let (mut victim, survivor) = if holder.contains(&format!("-{}-", a.child.id())) {
        (a, b)
    } else {
        assert!(holder.contains(&format!("-{}-", b.child.id())), "{holder}");
        (b, a)
    };
    victim.child.kill().unwrap(); // SIGKILL while the job runs
    victim.child.wait().unwrap();
    let killed = Instant::now();
    loop {
        let j = db.store.repo().job(job).await.unwrap().unwrap();
        if j.status == "done" {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the surviving instance did not take the job over: {j:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        killed.elapsed() >= Duration::from_secs(2),
        "the job was taken over only after its lease"
    );
    assert!(survivor.stop().success());
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}

/// The TOML file (`--config`) applies; the environment wins over it: an
/// `https://` public URL from the environment makes cookies Secure and JSON
/// logs replace the file's text logs. Secrets in the database and SMTP URLs
/// appear in neither log format.
#[tokio::test]
async fn config_file_environment_secure_cookies_and_secret_free_logs() {
    const DB_SECRET: &str = "DbGeheim4711x";
    const SMTP_SECRET: &str = "SmtpGeheim0815y";
    let (dir, db) = fresh_env().await;
    let file = dir.join("rathaus.toml");
    std::fs::write(
        &file,
        "public_url = \"http://file.example\"\nlog_format = \"text\"\nsubmits_per_minute = 2\n",
    )
    .unwrap();
    // PostgreSQL with trust authentication accepts (and ignores) a password.
    let db_url = match db.url.strip_prefix("postgres://postgres@") {
        Some(rest) => format!("postgres://postgres:{DB_SECRET}@{rest}"),
        None => db.url.clone(),
    };
    let server = Running::start({
        let mut c = bin_on(&dir, &db);
        c.env("RATHAUS_DATABASE_URL", &db_url)
            .env("RATHAUS_PUBLIC_URL", "https://rathaus.example")
            .env("RATHAUS_LOG_FORMAT", "json")
            .env(
                "RATHAUS_SMTP_URL",
                format!("smtp://mailer:{SMTP_SECRET}@127.0.0.1:1"),
            )
            .env("RUST_LOG", "info")
            .args(["--config", file.to_str().unwrap(), "demo"]);
        c
    });
    let browser = client();
    let r = login_with(
        &browser,
        &server.url,
        "/login",
        "admin@musterstadt.example",
        "demo",
    )
    .await;
    assert_eq!(r.status(), 303);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(
            c.contains("; Secure") || c.contains(";Secure"),
            "https public URL: {c}"
        );
        assert!(c.contains("HttpOnly"), "{c}");
    }
    // submits_per_minute = 2 from the file: the third submission waits.
    let data = hundesteuer_data();
    for i in 0..2 {
        submitted(
            &server.url,
            "hundesteuer-anmeldung",
            &format!("config-file-{i:03}"),
            &data,
        )
        .await;
    }
    let r = submit_api(
        &server.url,
        "hundesteuer-anmeldung",
        "config-file-999",
        &data,
    )
    .await;
    assert_eq!(r.status(), 429);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limited", "{e}");
    let logs = server.logs();
    assert!(server.stop().success());
    let json_lines: Vec<&str> = logs.lines().filter(|l| l.starts_with('{')).collect();
    assert!(
        !json_lines.is_empty(),
        "RATHAUS_LOG_FORMAT=json wins over the file: {logs}"
    );
    for l in &json_lines {
        serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    assert!(logs.contains("rathaus is listening"), "{logs}");

    // A database that cannot be reached: the error names it, without secrets.
    for format in ["text", "json"] {
        let out = bin_on(&dir, &db)
            .env(
                "RATHAUS_DATABASE_URL",
                format!("postgres://postgres:{DB_SECRET}@127.0.0.1:1/rathaus"),
            )
            .env("RATHAUS_LOG_FORMAT", format)
            .env("RUST_LOG", "debug")
            .args(["migrate", "--status"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("127.0.0.1:1"),
            "the error names the database: {text}"
        );
        assert!(
            !text.contains(DB_SECRET),
            "{format} logs show the password: {text}"
        );
    }
    for secret in [DB_SECRET, SMTP_SECRET] {
        assert!(
            !logs.contains(secret),
            "the JSON logs show a secret: {logs}"
        );
    }
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}

/// Secrets stay out of the text logs of a running server too.
#[tokio::test]
async fn text_logs_of_a_running_server_hold_no_secret() {
    const SMTP_SECRET: &str = "SmtpGeheim4242z";
    let (dir, db) = fresh_env().await;
    let server = Running::start({
        let mut c = bin_on(&dir, &db);
        c.env(
            "RATHAUS_SMTP_URL",
            format!("smtp://mailer:{SMTP_SECRET}@127.0.0.1:1"),
        )
        .env("RATHAUS_LOG_FORMAT", "text")
        .env("RUST_LOG", "info")
        .arg("demo");
        c
    });
    let logs = server.logs_with("rathaus is listening");
    let exit = server.stop();
    assert!(
        exit.success(),
        "SIGTERM right after start-up: {exit:?}: {logs}"
    );
    assert!(logs.contains("rathaus is listening"), "{logs}");
    assert!(
        !logs.lines().any(|l| l.starts_with('{')),
        "text format: {logs}"
    );
    assert!(!logs.contains(SMTP_SECRET), "{logs}");
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}

/// API submissions per address and minute: over the limit, 429 with a JSON error.
#[tokio::test]
async fn api_submissions_are_rate_limited() {
    let app = TestApp::spawn_with(|c| c.submits_per_minute = 3).await;
    let data = hundesteuer_data();
    for i in 0..3 {
        submitted(
            &app,
            "hundesteuer-anmeldung",
            &format!("limit-key-{i:04}"),
            &data,
        )
        .await;
    }
    let r = submit_api(&app, "hundesteuer-anmeldung", "limit-key-9999", &data).await;
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limited", "{e}");
    assert!(e["error"]["message"].is_string(), "{e}");
    app.stop().await;
}

/// One address may try three times the per-account limit, spread over
/// accounts; then even a fresh account's right password waits.
#[tokio::test]
async fn login_attempts_are_limited_per_address_across_accounts() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_minute = 2).await;
    let browser = client();
    let accounts = [
        "redaktion@musterstadt.example",
        "redaktion2@musterstadt.example",
        "sachbearbeitung@musterstadt.example",
    ];
    for email in accounts {
        for _ in 0..2 {
            let r = login_with(&browser, &app, "/login", email, "falsch").await;
            assert_eq!(r.status(), 401, "{email}: within both limits");
        }
    }
    let r = login_with(
        &browser,
        &app,
        "/login",
        "admin@musterstadt.example",
        "demo",
    )
    .await;
    assert_eq!(r.status(), 429, "the address used up 3 × 2 attempts");
    app.stop().await;
}
