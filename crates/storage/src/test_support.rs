//! Databases for tests: a fresh SQLite file, or — when
//! `RATHAUS_TEST_POSTGRES_URL` names a PostgreSQL server — a fresh database
//! on that server, dropped again when the test ends. File storage for tests
//! ([`TestFiles`]): a fresh local folder, or — when `RATHAUS_TEST_S3_ENDPOINT`
//! names an S3-compatible server — a fresh prefix in a bucket there.

use crate::{DbConfig, Store, files::FileStore};

/// Environment variable that selects PostgreSQL for the test suites.
pub const POSTGRES_ENV: &str = "RATHAUS_TEST_POSTGRES_URL";

/// A database that lives as long as the test.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Creates and migrates a fresh database on the selected backend.
    pub async fn new() -> Self {
        let db = Self::empty().await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    /// A fresh database without any migration applied.
    pub async fn empty() -> Self {
        Self::empty_on(
            std::env::var(POSTGRES_ENV).ok().filter(|s| !s.is_empty()),
            5,
        )
        .await
    }

    /// A fresh, migrated database on PostgreSQL (`postgres`: the server's
    /// admin URL) or SQLite (`None`), with a pool of `max_connections`.
    /// Benchmarks use it to measure both backends in one run.
    pub async fn on(postgres: Option<String>, max_connections: u32) -> Self {
        let db = Self::empty_on(postgres, max_connections).await;
        db.store.migrate().await.expect("migrations apply");
        db
    }

    async fn empty_on(postgres: Option<String>, max_connections: u32) -> Self {
        let (url, cleanup) = match postgres {
            Some(admin_url) => {
                let name = format!("rathaus_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Store::connect(&DbConfig {
                    url: admin_url.clone(),
                    max_connections: 1,
                })
                .await
                .expect("connect to the PostgreSQL test server");
                use sea_orm::ConnectionTrait;
                admin
                    .db()
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).expect("valid PostgreSQL URL");
                url.set_path(&format!("/{name}"));
                (url.to_string(), Cleanup::Postgres { admin_url, name })
            }
            None => {
                let dir = std::env::temp_dir().join("rathaus-tests");
                std::fs::create_dir_all(&dir).expect("temp dir");
                let path = dir.join(format!("{}.sqlite", uuid::Uuid::new_v4().simple()));
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Cleanup::Sqlite(path),
                )
            }
        };
        let store = Store::connect(&DbConfig {
            url: url.clone(),
            max_connections,
        })
        .await
        .expect("connect to test database");
        Self {
            store,
            url,
            cleanup,
        }
    }

    /// Which backend the suite runs on, for messages.
    pub fn backend_name() -> &'static str {
        if std::env::var(POSTGRES_ENV).is_ok_and(|s| !s.is_empty()) {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Runs SQL behind the repositories' back (a test changing rows).
    pub async fn db_execute(&self, sql: &str) {
        use sea_orm::ConnectionTrait;
        self.store
            .db()
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column of every row of a query, as text (a test reading
    /// rows as an attacker with the database would).
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        use sea_orm::{ConnectionTrait, Statement};
        let db = self.store.db();
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
            .collect()
    }

    /// Closes the pool and removes the database.
    pub async fn drop_db(self) {
        self.store.close().await.ok();
        match self.cleanup {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(admin) = Store::connect(&DbConfig {
                    url: admin_url,
                    max_connections: 1,
                })
                .await
                {
                    use sea_orm::ConnectionTrait;
                    let _ = admin
                        .db()
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                }
            }
        }
    }
}

/// Prints once per process which backend the suite uses.
pub fn announce_backend() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if TestDb::backend_name() == "sqlite" {
            eprintln!(
                "note: storage tests run on SQLite; set {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/postgres to run them on PostgreSQL"
            );
        } else {
            eprintln!("note: storage tests run on PostgreSQL (fresh database per test)");
        }
    });
}

/// A complete tenant input for tests: `Stadt <slug>`, every field filled.
pub fn tenant_input(slug: &str) -> crate::tenancy::NewTenant {
    crate::tenancy::NewTenant {
        slug: slug.into(),
        name: format!("Stadt {slug}"),
        ags: "09162000".into(),
        host: None,
        street: "Marktplatz 1".into(),
        postal_code: "12345".into(),
        city: "Musterstadt".into(),
        phone: "+49 123 4567".into(),
        email: "info@example.org".into(),
        website: "https://example.org".into(),
        representative: "Erika Mustermann".into(),
        supervisory_authority: "Landratsamt".into(),
        dpo_name: "Max Datenschutz".into(),
        dpo_email: "datenschutz@example.org".into(),
    }
}

/// Environment variable that runs the file tests on an S3-compatible server
/// (`http://127.0.0.1:PORT`, e.g. `moto_server -p PORT`) instead of a local
/// folder. The harness creates a bucket there for each test process (see
/// [`s3_bucket`]) and gives each test a fresh prefix in it.
pub const S3_ENV: &str = "RATHAUS_TEST_S3_ENDPOINT";

/// The bucket of this test process on the S3 server (`rathaus-test-<id>`):
/// what earlier runs left on a long-running server is never in it.
pub fn s3_bucket() -> &'static str {
    static BUCKET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BUCKET.get_or_init(|| {
        let id = uuid::Uuid::new_v4().simple().to_string();
        format!("rathaus-test-{}", &id[..12])
    })
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A line on the real stderr (past cargo test's output capture).
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The S3 endpoint of the file tests, once its bucket exists; `None` for a
/// local folder. Asked for but unreachable: a failure under `CI=true`, else a
/// visible notice and the local folder.
fn s3_endpoint() -> Option<&'static str> {
    static ENDPOINT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            let Some(endpoint) = std::env::var(S3_ENV).ok().filter(|s| !s.is_empty()) else {
                eprintln!(
                    "note: file tests use a local folder; set {S3_ENV}=http://127.0.0.1:PORT \
                     (moto_server -p PORT) to run them on an S3-compatible server"
                );
                return None;
            };
            match create_bucket(&endpoint) {
                Ok(()) => {
                    say(&format!(
                        "note: file tests run on the S3 server at {endpoint} \
                         (bucket {}, a fresh prefix per test)",
                        s3_bucket()
                    ));
                    Some(endpoint)
                }
                Err(e) => {
                    let why = format!(
                        "{S3_ENV}={endpoint}: S3 server not usable (S3-Server nicht erreichbar): {e}"
                    );
                    assert!(!is_ci(), "CI=true, but {why}");
                    say(&format!(
                        "\nNOTICE (fallback, would fail under CI=true): {why}; \
                         the file tests use a local folder instead"
                    ));
                    None
                }
            }
        })
        .as_deref()
}

/// Creates [`s3_bucket`] on the server by an unsigned `PUT /bucket` (test
/// servers such as moto take it; an existing bucket is fine).
fn create_bucket(endpoint: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::time::Duration;
    let url = url::Url::parse(endpoint).map_err(|e| format!("not a URL: {e}"))?;
    if url.scheme() != "http" {
        return Err("the test harness speaks plain http://host:port to its S3 server".into());
    }
    let host = url.host_str().ok_or("no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port}: no address"))?;
    let mut conn = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    write!(
        conn,
        "PUT /{} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        s3_bucket()
    )
    .map_err(|e| format!("send to {addr}: {e}"))?;
    let mut response = String::new();
    conn.read_to_string(&mut response)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let status = response.lines().next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if code.starts_with('2') || (code == "409" && response.contains("BucketAlreadyOwnedByYou")) {
        Ok(())
    } else {
        let body: String = response.chars().take(400).collect();
        Err(format!(
            "creating bucket {} answered {status:?}: {body}",
            s3_bucket()
        ))
    }
}

/// The `AWS_*` settings that reach the test S3 server.
fn s3_settings(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "rathaus-test"),
        ("AWS_SECRET_ACCESS_KEY", "rathaus-test"),
        ("AWS_REGION", "us-east-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// File storage that lives as long as the test: a fresh local folder, or —
/// when [`S3_ENV`] names a server — a fresh prefix in [`s3_bucket`] there.
/// The same tests run on both.
pub struct TestFiles {
    pub store: FileStore,
    /// `RATHAUS_STORAGE_URL` for the same storage.
    pub url: String,
    /// The `AWS_*` variables a spawned binary needs to reach it (none for a
    /// folder).
    pub env: Vec<(String, String)>,
    /// The key prefix on S3 (`None` for a folder).
    pub prefix: Option<String>,
    /// The folder (`None` on S3), removed when dropped if the harness made it.
    folder: Option<std::path::PathBuf>,
    remove_folder: bool,
}

impl std::fmt::Debug for TestFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestFiles").field("url", &self.url).finish()
    }
}

impl Default for TestFiles {
    fn default() -> Self {
        Self::new()
    }
}

impl TestFiles {
    /// Fresh storage on the selected backend.
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match s3_endpoint() {
            Some(endpoint) => Self::on_s3(endpoint, format!("test-{id}")),
            None => Self::folder(
                std::env::temp_dir().join("rathaus-test-files").join(id),
                true,
            ),
        }
    }

    /// The storage a `rathaus` binary with `RATHAUS_DATA_DIR=dir` uses in
    /// the tests: `dir/files` (its default), or a prefix of [`s3_bucket`]
    /// named after `dir` (see [`TestFiles::configure`]). The caller removes
    /// `dir`.
    pub fn for_data_dir(dir: &std::path::Path) -> Self {
        match s3_endpoint() {
            Some(endpoint) => {
                let name: String = dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                Self::on_s3(endpoint, format!("data-{name}"))
            }
            None => Self::folder(dir.join("files"), false),
        }
    }

    /// `"s3"` or `"folder"`, for messages.
    pub fn backend_name() -> &'static str {
        if s3_endpoint().is_some() {
            "s3"
        } else {
            "folder"
        }
    }

    fn on_s3(endpoint: &str, prefix: String) -> Self {
        let url = format!("s3://{}/{prefix}", s3_bucket());
        let env = s3_settings(endpoint);
        let store = FileStore::open_with(&url, &env)
            .unwrap_or_else(|e| panic!("test S3 storage {url}: {e}"));
        Self {
            store,
            url,
            env,
            prefix: Some(prefix),
            folder: None,
            remove_folder: false,
        }
    }

    fn folder(dir: std::path::PathBuf, remove: bool) -> Self {
        let url = dir.display().to_string();
        let store = FileStore::open(&url).unwrap_or_else(|e| panic!("test folder {url}: {e}"));
        Self {
            store,
            url,
            env: Vec::new(),
            prefix: None,
            folder: Some(dir),
            remove_folder: remove,
        }
    }

    /// Points a spawned `rathaus` at this storage: on S3 its URL and the
    /// `AWS_*` variables; a folder made by [`TestFiles::for_data_dir`] is the
    /// binary's default already.
    pub fn configure(&self, cmd: &mut std::process::Command) {
        if self.prefix.is_some() {
            cmd.env("RATHAUS_STORAGE_URL", &self.url);
            for (k, v) in &self.env {
                cmd.env(k, v);
            }
        } else if self.remove_folder {
            cmd.env("RATHAUS_STORAGE_URL", &self.url);
        }
    }

    /// Every key as the backend itself holds it, listed behind the
    /// application's back: on S3 through the S3 API over the whole bucket
    /// (every test's prefix), in a folder the paths below it.
    pub async fn backend_keys(&self) -> Vec<String> {
        use futures::TryStreamExt;
        use object_store::ObjectStore;
        let raw: Box<dyn ObjectStore> = match &self.folder {
            None => {
                let mut b = object_store::aws::AmazonS3Builder::new().with_bucket_name(s3_bucket());
                for (k, v) in &self.env {
                    b = b.with_config(k.to_ascii_lowercase().parse().expect("AWS key"), v);
                }
                Box::new(b.build().expect("S3 client of the test bucket"))
            }
            Some(dir) => Box::new(
                object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .expect("the test folder"),
            ),
        };
        let mut keys: Vec<String> = raw
            .list(None)
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .expect("list the backend");
        keys.sort();
        keys
    }
}

impl Drop for TestFiles {
    fn drop(&mut self) {
        if let (true, Some(dir)) = (self.remove_folder, &self.folder) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
