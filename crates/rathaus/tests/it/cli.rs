//! The real binary: migrate, admin commands, serve with graceful shutdown.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use rathaus_storage::test_support::TestDb;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rathaus"));
    c.env_remove("RATHAUS_DATABASE_URL").env("RUST_LOG", "warn");
    c
}

/// A data dir plus a database URL on the selected backend.
pub async fn fresh_env() -> (std::path::PathBuf, TestDb) {
    let dir = std::env::temp_dir().join(format!("rathaus-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    (dir, TestDb::empty().await)
}

fn run(dir: &std::path::Path, db: &TestDb, args: &[&str]) -> std::process::Output {
    bin()
        .env("RATHAUS_DATA_DIR", dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
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

#[tokio::test]
async fn demo_serves_and_stops_gracefully() {
    let (dir, db) = fresh_env().await;
    let mut child = bin()
        .env("RATHAUS_DATA_DIR", &dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .env("RATHAUS_LISTEN", "127.0.0.1:0")
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.split("is running at ").nth(1) {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server announces its address");
    let client = crate::helpers::client();
    let home = client
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Stadt Musterstadt"));
    assert_eq!(
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // SIGTERM: the server finishes and exits cleanly.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");

    // Running demo again on the same data is idempotent (no duplicate seed error).
    let out = bin()
        .env("RATHAUS_DATA_DIR", &dir)
        .env("RATHAUS_DATABASE_URL", &db.url)
        .args(["admin", "list-tenants"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}
