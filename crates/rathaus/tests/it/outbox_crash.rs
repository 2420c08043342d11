//! `kill -9` of a worker in the middle of its jobs loses no job: the jobs it
//! had claimed are taken over after their lease expires.

use rathaus_storage::prelude::*;
use std::{process::Stdio, time::Duration};

use rathaus_storage::{outbox::OutboxRepository, test_support::TestDb};

use crate::cli::bin;

#[tokio::test]
async fn kill_9_during_the_outbox_loses_no_job() {
    let db = TestDb::new().await;
    let n = 30u64;
    for _ in 0..n {
        db.store
            .repo()
            .enqueue(None, "diagnostics.sleep", &serde_json::json!({ "ms": 100 }))
            .await
            .unwrap();
    }
    let dir = std::env::temp_dir().join(format!("rathaus-crash-{}", uuid::Uuid::new_v4().simple()));
    let mut worker = bin()
        .env("RATHAUS_DATA_DIR", &dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .env("RATHAUS_WORKER_LEASE_SECS", "2")
        .arg("worker")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the worker is in the middle of its work.
    let counts = |db: &TestDb| {
        let store = db.store.clone();
        async move { store.repo().job_counts().await.unwrap() }
    };
    let started = std::time::Instant::now();
    loop {
        let c = counts(&db).await;
        if c.get("done").copied().unwrap_or(0) >= 3 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "worker made no progress: {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let c = counts(&db).await;
    let done_at_kill = c.get("done").copied().unwrap_or(0);
    assert!(
        done_at_kill < n,
        "the worker finished before it was killed: {c:?}"
    );
    assert!(
        c.get("running").copied().unwrap_or(0) > 0,
        "the killed worker held claimed jobs: {c:?}"
    );

    // After the lease a new worker takes over everything that is left.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let out = bin()
        .env("RATHAUS_DATA_DIR", &dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .args(["worker", "--drain"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = counts(&db).await;
    assert_eq!(
        c.get("done").copied().unwrap_or(0),
        n,
        "jobs lost or stuck: {c:?}"
    );
    assert_eq!(c.len(), 1, "every job is done: {c:?}");
    std::fs::remove_dir_all(dir).ok();
    db.drop_db().await;
}

/// SIGKILL of the server during a submission load: every reference number a
/// client received is in the database afterwards, and the audit chain holds.
#[tokio::test]
async fn kill_9_during_submissions_loses_no_received_application() {
    use std::io::{BufRead, BufReader};
    use std::sync::{Arc, Mutex};

    let (dir, db) = crate::cli::fresh_env().await;
    let mut server = bin()
        .env("RATHAUS_DATA_DIR", &dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .env("RATHAUS_LISTEN", "127.0.0.1:0")
        .env("RATHAUS_SUBMITS_PER_MINUTE", "1000000")
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.split("is running at ").nth(1) {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("server announces its address");
    let data = crate::helpers::hundesteuer_data();
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    // Set just before the SIGKILL: from then on a transport error is expected
    // (refused, reset, or cut off mid-response); before it, any error fails.
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (url, data, received, killed) =
            (url.clone(), data.clone(), received.clone(), killed.clone());
        clients.push(tokio::spawn(async move {
            rathaus_storage::install_tls_crypto_provider();
            let http = reqwest::Client::new();
            let after_kill = || killed.load(std::sync::atomic::Ordering::SeqCst);
            for i in 1.. {
                let r = http
                    .post(format!("{url}/api/v1/applications"))
                    .header("idempotency-key", format!("crash-{c}-{i:06}"))
                    .json(&serde_json::json!({"form": "hundesteuer-anmeldung", "data": data}))
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                let r = match r {
                    Ok(r) => r,
                    Err(e) if after_kill() => return Ok::<_, String>(format!("client {c}: {e}")),
                    Err(e) => return Err(format!("client {c}, request {i}, before the kill: {e}")),
                };
                let status = r.status();
                if status != 201 {
                    return Err(format!("client {c}, request {i}: status {status}"));
                }
                match r.json::<serde_json::Value>().await {
                    Ok(body) => {
                        let reference = body["reference"]
                            .as_str()
                            .ok_or_else(|| format!("client {c}: 201 without reference: {body}"))?;
                        received.lock().unwrap().push(reference.to_string());
                    }
                    // Cut off mid-body by the kill: the client never learnt a number.
                    Err(e) if after_kill() => return Ok(format!("client {c}: {e}")),
                    Err(e) => return Err(format!("client {c}, request {i}: body: {e}")),
                }
            }
            unreachable!("the loop ends with the server")
        }));
    }
    let started = std::time::Instant::now();
    while received.lock().unwrap().len() < 60 {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        assert!(
            !clients.iter().any(|c| c.is_finished()),
            "a client stopped before the kill"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    killed.store(true, std::sync::atomic::Ordering::SeqCst);
    server.kill().unwrap(); // SIGKILL, in the middle of the load
    server.wait().unwrap();
    for c in clients {
        let ended = tokio::time::timeout(Duration::from_secs(60), c)
            .await
            .expect("every client notices the dead server")
            .expect("client task panicked");
        match ended {
            Ok(why) => eprintln!("after the kill: {why}"),
            Err(e) => panic!("{e}"),
        }
    }
    let received = received.lock().unwrap().clone();
    assert!(received.len() >= 60);

    // Every reference any client received survived; the numbers have no duplicates.
    let repo = db.store.repo();
    let tenant = rathaus_storage::tenancy::TenantRepository::tenant_by_slug(&repo, "musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    for reference in &received {
        assert!(
            repo.application_by_reference(tenant, reference)
                .await
                .unwrap()
                .is_some(),
            "{reference} was confirmed to a client but is lost"
        );
    }
    let mut unique = received.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), received.len(), "no number was given twice");
    let (entries, broken) = repo.verify_audit(tenant).await.unwrap();
    assert!(entries >= received.len());
    assert!(broken.is_none(), "the audit chain holds after the crash");
    db.drop_db().await;
}
