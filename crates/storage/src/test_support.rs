//! Databases for tests: a fresh SQLite file, or — when
//! `RATHAUS_TEST_POSTGRES_URL` names a PostgreSQL server — a fresh database
//! on that server, dropped again when the test ends.

use crate::{DbConfig, Store};

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
