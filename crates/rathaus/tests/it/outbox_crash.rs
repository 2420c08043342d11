//! `kill -9` of a worker in the middle of its jobs loses no job: the jobs it
//! had claimed are taken over after their lease expires.

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
