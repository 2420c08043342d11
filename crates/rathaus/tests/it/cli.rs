//! The real binary: migrate, admin commands, serve with graceful shutdown.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Read, Write},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use rathaus_storage::prelude::*;
use rathaus_storage::{
    ConnectionTrait,
    outbox::OutboxRepository,
    test_support::{TestDb, TestFiles},
};
use sea_orm::{EntityTrait, Statement};

use crate::helpers::{client, hundesteuer_data, text, token};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rathaus"));
    c.env_remove("RATHAUS_DATABASE_URL")
        .env_remove("RATHAUS_STORAGE_URL")
        .env("RUST_LOG", "warn");
    c
}

/// A data dir plus a database URL on the selected backend.
pub async fn fresh_env() -> (std::path::PathBuf, TestDb) {
    let dir = std::env::temp_dir().join(format!("rathaus-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    (dir, TestDb::empty().await)
}

/// The binary with a data dir, the test database and the test file storage
/// (`dir/files`, or on the test S3 server a prefix named after `dir`).
pub fn bin_on(dir: &std::path::Path, db: &TestDb) -> Command {
    let mut c = bin();
    c.env("RATHAUS_DATA_DIR", dir)
        .env("RATHAUS_DATABASE_URL", &db.url);
    TestFiles::for_data_dir(dir).configure(&mut c);
    c
}

/// A `rathaus serve`/`demo` process, killed when dropped.
pub struct Running {
    pub child: Child,
    /// `http://127.0.0.1:PORT` as the server announced it.
    pub url: String,
    logs: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `cmd` (`RATHAUS_LISTEN` is set to a free port) and waits for
    /// its "is running at" line. Stdout and stderr are kept for `logs()`.
    pub fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .env("RATHAUS_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs: Arc<Mutex<String>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for (stream, tx) in [
            (Box::new(stdout) as Box<dyn Read + Send>, Some(tx)),
            (Box::new(stderr), None),
        ] {
            let logs = logs.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let (Some(tx), Some(url)) = (&tx, line.split("is running at ").nth(1)) {
                        let _ = tx.send(url.trim().to_string());
                    }
                    let mut l = logs.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let url = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server did not announce its address: {}",
                    logs.lock().unwrap()
                );
            }
        };
        Self { child, url, logs }
    }

    /// Everything the process wrote so far (stdout and stderr).
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// The logs once they hold `needle` (stderr is read by its own thread
    /// and may lag behind the address line on stdout), or after 15 s.
    pub fn logs_with(&self, needle: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let logs = self.logs();
            if logs.contains(needle) || started.elapsed() > Duration::from_secs(15) {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to 30 s for the process to end.
    pub fn wait(&mut self) -> ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> ExitStatus {
        self.term();
        self.wait()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The number of rows in every table of the database (migration records aside).
pub async fn row_counts(db: &TestDb) -> BTreeMap<String, i64> {
    let conn = db.store.db();
    let backend = conn.get_database_backend();
    let list = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let mut out = BTreeMap::new();
    for row in conn
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .unwrap()
    {
        let name: String = row.try_get("", "name").unwrap();
        if name == "seaql_migrations" {
            continue;
        }
        let n: i64 = conn
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM \"{name}\""),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        out.insert(name, n);
    }
    out
}

fn run(dir: &std::path::Path, db: &TestDb, args: &[&str]) -> std::process::Output {
    // The same database and file storage as the server of the test (on S3
    // too: a worker must find what the demo stored).
    bin_on(dir, db)
        .env("RATHAUS_NEW_PASSWORD", "Rathaus-Ampel-2026")
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn migrate_and_admin_commands() {
    let (dir, db) = fresh_env().await;
    let out = run(&dir, &db, &["migrate", "--status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(listed, rathaus_storage::migration::migration_names().len());

    // Bad input names the flag and the fix, in German and English.
    let out = run(
        &dir,
        &db,
        &[
            "admin",
            "create-tenant",
            "--slug",
            "Bad Slug",
            "--name",
            "X",
            "--ags",
            "123",
            "--street",
            "S 1",
            "--postal-code",
            "12345",
            "--city",
            "X",
            "--email",
            "a@b.de",
            "--dpo-email",
            "d@b.de",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--slug") && err.contains("--ags"), "{err}");
    assert!(
        err.contains("genau 8 Ziffern") && err.contains("exactly 8 digits"),
        "{err}"
    );

    let ok = |args: &[&str]| {
        let out = run(&dir, &db, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    ok(&[
        "admin",
        "create-tenant",
        "--slug",
        "beispielstadt",
        "--name",
        "Stadt Beispielstadt",
        "--ags",
        "09162000",
        "--street",
        "Rathausplatz 2",
        "--postal-code",
        "80331",
        "--city",
        "Beispielstadt",
        "--email",
        "info@beispiel.example",
        "--dpo-email",
        "dsb@beispiel.example",
    ]);
    ok(&[
        "admin",
        "create-org-unit",
        "--tenant",
        "beispielstadt",
        "--name",
        "Bürgerbüro",
        "--kind",
        "office",
        "--street",
        "Rathausplatz 2",
        "--postal-code",
        "80331",
        "--city",
        "Beispielstadt",
    ]);
    ok(&[
        "admin",
        "create-user",
        "--tenant",
        "beispielstadt",
        "--email",
        "clara@beispiel.example",
        "--name",
        "Clara",
        "--role",
        "clerk@Bürgerbüro",
    ]);
    let token = ok(&[
        "admin",
        "create-token",
        "--tenant",
        "beispielstadt",
        "--email",
        "clara@beispiel.example",
        "--name",
        "Fachverfahren",
    ]);
    assert!(token.trim().starts_with("rh_"));
    assert!(ok(&["admin", "list-tenants"]).contains("beispielstadt"));

    // A weak password is refused with the rule.
    let out = bin()
        .env("RATHAUS_DATA_DIR", &dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .env("RATHAUS_NEW_PASSWORD", "kurz")
        .args([
            "admin",
            "create-user",
            "--tenant",
            "beispielstadt",
            "--email",
            "bob@beispiel.example",
            "--name",
            "Bob",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mindestens 12 Zeichen"));
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}

/// SIGTERM while a request is being received and a job is running: the
/// request is answered (201, stored), the job finishes, the exit is clean.
/// Then `demo` starts again on the same data: the seed changes no row.
#[tokio::test]
async fn demo_stops_gracefully_and_seeds_idempotently() {
    let (dir, db) = fresh_env().await;
    let server = Running::start({
        let mut c = bin_on(&dir, &db);
        c.arg("demo");
        c
    });
    let url = server.url.clone();
    let http = client();
    let home = text(&http, format!("{url}/")).await;
    assert!(home.contains("Stadt Musterstadt"));
    assert_eq!(
        http.get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A job that takes 1.5 s, running in the server's worker.
    let job = db
        .store
        .repo()
        .enqueue(
            None,
            "diagnostics.sleep",
            &serde_json::json!({ "ms": 1500 }),
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    while db.store.repo().job(job).await.unwrap().unwrap().status != "running" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the worker did not start the job"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A submission whose body is only half sent when SIGTERM arrives.
    let body = serde_json::json!({"form": "hundesteuer-anmeldung", "data": hundesteuer_data()})
        .to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /api/v1/applications HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Idempotency-Key: sigterm-000001\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    conn.write_all(first.as_bytes()).unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.term();
    std::thread::sleep(Duration::from_millis(500));
    conn.write_all(rest.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201"),
        "the running request is answered: {response}"
    );
    let field = |name: &str| {
        response
            .split(&format!("\"{name}\":\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("no {name}: {response}"))
            .to_string()
    };
    let (reference, access) = (field("reference"), field("access_token"));
    let mut server = server;
    let exit = server.wait();
    assert!(exit.success(), "exit status {exit:?}: {}", server.logs());
    let job = db.store.repo().job(job).await.unwrap().unwrap();
    assert_eq!(
        job.status, "done",
        "the running job finished before the exit"
    );
    let repo = db.store.repo();
    let tenant = rathaus_storage::tenancy::TenantRepository::tenant_by_slug(&repo, "musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    assert!(
        repo.application_by_reference(tenant, &reference)
            .await
            .unwrap()
            .is_some(),
        "{reference} is stored"
    );

    // Running demo again on the same data is idempotent: the seed adds or
    // changes no row, and the data is served as before.
    let before = row_counts(&db).await;
    assert!(
        before["users"] >= 6 && before["services"] >= 3 && before["forms"] >= 1,
        "{before:?}"
    );
    let again = Running::start({
        let mut c = bin_on(&dir, &db);
        c.arg("demo");
        c
    });
    token(&again.url, "sachbearbeitung@musterstadt.example").await;
    let r = http
        .get(format!("{}/api/v1/applications/{reference}", again.url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the application survives the restart");
    let exit = again.stop();
    assert!(exit.success());
    let after = row_counts(&db).await;
    // The token above is the one row this test added itself.
    let mut expected = before.clone();
    *expected.get_mut("api_tokens").unwrap() += 1;
    // The second run's worker may do the receipt job of the application
    // above (its confirmation of receipt, stored once as a document of the
    // case): the job's work, not the seed's.
    let receipts = after["application_files"] - before["application_files"];
    assert!((0..=1).contains(&receipts), "{after:?}");
    *expected.get_mut("application_files").unwrap() += receipts;
    // The same job files the case into its Vorgang (E-Akte): one Vorgang
    // with its documents, each with one version.
    let filed = after["record_files"] - before["record_files"];
    assert_eq!(filed, receipts, "the receipt job files the case: {after:?}");
    for table in [
        "record_files",
        "record_documents",
        "record_document_versions",
    ] {
        *expected.get_mut(table).unwrap() = after[table];
    }
    assert_eq!(
        after["record_documents"] - before["record_documents"],
        after["record_document_versions"] - before["record_document_versions"],
        "one version per filed document"
    );
    // Filing enqueues the job that seals and indexes the new documents (one
    // per filing at most: a waiting one is reused).
    let jobs = after["outbox_jobs"] - before["outbox_jobs"];
    assert!(jobs <= filed, "one processing job per filing: {after:?}");
    *expected.get_mut("outbox_jobs").unwrap() += jobs;
    assert_eq!(after, expected, "the second demo run changed the data");
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}

/// `admin revoke-token`, `outbox-status`, `outbox-ping`, `outbox-requeue` and
/// `verify-audit` of the real binary.
#[tokio::test]
async fn admin_token_and_outbox_commands() {
    let (dir, db) = fresh_env().await;
    let server = Running::start({
        let mut c = bin_on(&dir, &db);
        c.env("RATHAUS_WORKERS", "0").arg("demo");
        c
    });
    let ok = |args: &[&str]| {
        let out = run(&dir, &db, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let created = bin_on(&dir, &db)
        .args([
            "admin",
            "create-token",
            "--tenant",
            "musterstadt",
            "--email",
            "sachbearbeitung@musterstadt.example",
            "--name",
            "Fachverfahren",
        ])
        .output()
        .unwrap();
    assert!(created.status.success());
    let secret = String::from_utf8_lossy(&created.stdout).trim().to_string();
    let id = String::from_utf8_lossy(&created.stderr)
        .split("token id ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the token id is printed")
        .to_string();
    let me = |t: String| {
        let url = server.url.clone();
        async move {
            client()
                .get(format!("{url}/api/v1/me"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(secret.clone()).await, 200);
    assert!(
        ok(&[
            "admin",
            "revoke-token",
            "--tenant",
            "musterstadt",
            "--id",
            &id
        ])
        .contains("revoked")
    );
    assert_eq!(me(secret).await, 401, "a revoked token stops working");
    let out = run(
        &dir,
        &db,
        &[
            "admin",
            "revoke-token",
            "--tenant",
            "musterstadt",
            "--id",
            &id,
        ],
    );
    assert!(!out.status.success(), "revoking twice is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--id"));

    // outbox-ping enqueues, outbox-status counts.
    let status = |ok: &dyn Fn(&[&str]) -> String| -> BTreeMap<String, u64> {
        ok(&["admin", "outbox-status"])
            .lines()
            .map(|l| {
                let (k, v) = l.split_once('\t').expect("status\tcount");
                (k.to_string(), v.parse().unwrap())
            })
            .collect()
    };
    let base = status(&ok);
    assert_eq!(
        base.keys().collect::<Vec<_>>(),
        ["dead", "done", "pending", "running"]
    );
    assert!(ok(&["admin", "outbox-ping", "--count", "3"]).contains("3 diagnostic job(s)"));
    let pinged = status(&ok);
    assert_eq!(pinged["pending"], base["pending"] + 3);

    // A dead job is requeued; a job that is not dead is refused.
    let dead = db
        .store
        .repo()
        .enqueue(None, "diagnostics.sleep", &serde_json::json!({ "ms": 0 }))
        .await
        .unwrap();
    let conn = db.store.db();
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        format!("UPDATE outbox_jobs SET status = 'dead' WHERE id = {dead}"),
    ))
    .await
    .unwrap();
    assert_eq!(status(&ok)["dead"], base["dead"] + 1);
    assert!(ok(&["admin", "outbox-requeue", &dead.to_string()]).contains("requeued"));
    assert_eq!(
        db.store.repo().job(dead).await.unwrap().unwrap().status,
        "pending"
    );
    let out = run(&dir, &db, &["admin", "outbox-requeue", &dead.to_string()]);
    assert!(!out.status.success(), "a pending job is not requeued");
    let drained = ok(&["worker", "--drain"]);
    assert!(drained.contains("job(s) processed"), "{drained}");
    let done = status(&ok);
    let left: Vec<(String, String, Option<String>)> =
        rathaus_storage::entities::outbox_job::Entity::find()
            .all(db.store.db())
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.status != "done")
            .map(|j| (j.kind, j.status, j.last_error))
            .collect();
    assert_eq!(
        (done["pending"], done["dead"]),
        (0, 0),
        "{done:?}: {left:?}"
    );
    assert!(ok(&["admin", "verify-audit"]).contains("musterstadt\tok"));
    assert!(server.stop().success());
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}
