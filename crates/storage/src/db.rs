use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::{Result, StorageError, migration::Migrator};

/// Which database runs underneath.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connection settings. `Debug` hides credentials.
#[derive(Clone)]
pub struct DbConfig {
    pub url: String,
    pub max_connections: u32,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Replaces the password (and any query string) of a URL with `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query().is_some() {
                u.set_query(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparsable url>".to_string(),
    }
}

/// The database handle shared by the whole process.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: Backend,
    /// The group-commit writer of submissions (shared by all clones).
    pub(crate) submissions: std::sync::Arc<crate::applications::SubmissionWriter>,
    /// Seals secrets that pass through the database ([`crate::secrets`]);
    /// random per process unless [`Store::with_secret_key`] sets the
    /// instance key.
    pub(crate) secrets: std::sync::Arc<crate::secrets::SecretKey>,
}

impl Store {
    /// Connects to `sqlite://…` or `postgres://…`.
    ///
    /// SQLite runs in WAL mode with `synchronous = FULL` (a commit is on disk
    /// before it returns: "received" survives a power loss, not just a crashed
    /// process), a busy timeout and foreign keys on; the file is created when
    /// missing.
    pub async fn connect(config: &DbConfig) -> Result<Self> {
        let backend = if config.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if config.url.starts_with("postgres://") || config.url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StorageError::Config(format!(
                "unsupported database URL {} (use sqlite://… or postgres://…)",
                redact_url(&config.url)
            )));
        };
        let mut opts = ConnectOptions::new(config.url.clone());
        opts.max_connections(config.max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        if backend == Backend::Sqlite {
            opts.map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        }
        let db = Database::connect(opts).await?;
        Ok(Self {
            db,
            backend,
            submissions: Default::default(),
            secrets: std::sync::Arc::new(crate::secrets::SecretKey::random()),
        })
    }

    /// The same store, sealing with the instance key (every instance and
    /// worker of an installation must use the same one).
    pub fn with_secret_key(mut self, key: crate::secrets::SecretKey) -> Self {
        self.secrets = std::sync::Arc::new(key);
        self
    }

    /// The key that seals secrets passing through the database.
    pub fn secrets(&self) -> &crate::secrets::SecretKey {
        &self.secrets
    }

    /// Applies all pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Names of applied migrations, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<String>> {
        Ok(Migrator::get_applied_migrations(&self.db)
            .await?
            .iter()
            .map(|m| m.name().to_string())
            .collect())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Calls `observe` after every statement of this handle and of the
    /// transactions it begins, with the statement and its duration as the
    /// client saw it (tests and diagnostics: a statement that waits on the
    /// network shows here, not in the server's own timing). Set it before the
    /// first submission: the submission writer takes its own copy then.
    pub fn observe_statements<F>(&mut self, observe: F)
    where
        F: Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
    {
        self.db.set_metric_callback(observe);
    }

    /// A transaction that will write: on SQLite it takes the write lock at
    /// `BEGIN` (IMMEDIATE), so a transaction that reads first and writes later
    /// waits for the lock (busy timeout) instead of failing with "database is
    /// locked" when it upgrades. On PostgreSQL a normal transaction.
    pub async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
        self.db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }

    /// Repositories on the shared connection (each call its own transaction).
    pub fn repo(&self) -> Repo<'_, DatabaseConnection> {
        Repo(&self.db)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// (connections open, connections idle) of the pool.
    pub fn pool_stats(&self) -> (u32, usize) {
        match self.backend {
            Backend::Sqlite => {
                let p = self.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
            Backend::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
        }
    }

    /// Closes the pool (graceful shutdown).
    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }

    pub(crate) fn db_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}

/// Repositories over any connection: the shared pool or a transaction.
///
/// The repository traits ([`crate::tenancy::TenantRepository`],
/// [`crate::identity::UserRepository`], …) are implemented for `Repo`, so the
/// same calls work inside a transaction: `Repo(&txn).create_user(…)`.
#[derive(Clone, Copy)]
pub struct Repo<'c, C: ConnectionTrait>(pub &'c C);
