//! Storage layer of rathaus.
//!
//! * one code path for SQLite and PostgreSQL through sea-orm ([`Store`]),
//! * versioned migrations ([`migration`]),
//! * one module per concept, always scoped by tenant: [`tenancy`],
//!   [`identity`], [`accounts`], [`catalog`], [`forms`], [`routing`],
//!   [`applications`], [`cases`], [`audit`], [`mailbox`], [`decisions`],
//!   [`outbox`],
//! * file storage through object_store ([`files`]).
//!
//! # One idiom
//!
//! * Reads and single-statement writes are methods of the concept's
//!   repository trait (`CaseRepository`, `FormRepository`, …), implemented
//!   for [`Repo<'_, C: ConnectionTrait>`](Repo): the same call works on the
//!   pool (`store.repo().case(…)`) and inside a transaction
//!   (`Repo(&txn).case(…)`). [`prelude`] brings all traits into scope.
//! * Operations that write more than once are [`Store`] methods: each opens
//!   one write transaction ([`Store::begin_write`], `BEGIN IMMEDIATE` on
//!   SQLite), calls repository methods on it and commits.
//! * Status-like text columns are read as typed enums (the domain's where
//!   one exists); an unknown stored value is [`StorageError::Corrupt`], never
//!   a default.

pub mod accounts;
pub mod applications;
pub mod appointments;
pub mod audit;
pub mod cases;
pub mod catalog;
pub mod circulation;
pub mod decisions;
pub mod defects;
pub mod editorial;
pub mod entities;
pub mod files;
pub mod forms;
pub mod identity;
pub mod intray;
pub mod mailbox;
pub mod migration;
pub mod outbox;
pub mod payments;
pub mod records;
pub mod routing;
pub mod seals;
pub mod secrets;
pub mod tenancy;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod uploads;

/// All repository traits, for `use rathaus_storage::prelude::*;`.
pub mod prelude {
    pub use crate::accounts::CitizenRepository as _;
    pub use crate::applications::ApplicationRepository as _;
    pub use crate::appointments::AppointmentRepository as _;
    pub use crate::audit::AuditRepository as _;
    pub use crate::cases::CaseRepository as _;
    pub use crate::catalog::CatalogRepository as _;
    pub use crate::circulation::CirculationRepository as _;
    pub use crate::decisions::DecisionRepository as _;
    pub use crate::defects::DefectRepository as _;
    pub use crate::forms::FormRepository as _;
    pub use crate::identity::{SessionRepository as _, TokenRepository as _, UserRepository as _};
    pub use crate::intray::IntrayRepository as _;
    pub use crate::mailbox::MailboxRepository as _;
    pub use crate::outbox::OutboxRepository as _;
    pub use crate::payments::PaymentRepository as _;
    pub use crate::records::RecordRepository as _;
    pub use crate::routing::RoutingRepository as _;
    pub use crate::seals::SealKeyRepository as _;
    pub use crate::tenancy::{OrgUnitRepository as _, TenantRepository as _};
    pub use crate::uploads::UploadRepository as _;
}

mod db;

pub use db::{Backend, DbConfig, Repo, Store, redact_url};
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};

use rathaus_domain::ValidationErrors;

/// Makes rustls's `ring` provider the process default (idempotent).
///
/// The only TLS crypto in the build is `ring` (ADR 0012): reqwest — the S3
/// client's transport, and the tests' HTTP client — is built with
/// `rustls-no-provider` and panics when it builds a client before a process
/// default exists. [`files::FileStore::open`] calls this for `s3://`, the
/// binary at start; call it before building any other reqwest client.
pub fn install_tls_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err: another default was installed first; that one is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("invalid input: {0}")]
    Validation(#[from] ValidationErrors),
    /// A unique value already exists; names the field.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("file storage error: {0}")]
    Files(#[from] object_store::Error),
    #[error("configuration error: {0}")]
    Config(String),
    /// An editorial workflow step that the rules refuse.
    #[error("workflow: {0}")]
    Workflow(#[from] rathaus_domain::catalog::WorkflowError),
    /// A stored value that no known variant matches (a status column, …).
    #[error("corrupt value {value:?} in {table}.{column}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        value: String,
    },
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// Maps a unique-constraint violation to [`StorageError::Conflict`] on `field`.
    pub(crate) fn conflict_on(field: &'static str) -> impl FnOnce(sea_orm::DbErr) -> StorageError {
        move |e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StorageError::Conflict(field),
            _ => StorageError::Db(e),
        }
    }
}

/// Parses a stored text column into its enum; an unknown value is
/// [`StorageError::Corrupt`].
pub(crate) fn parse_column<T>(
    table: &'static str,
    column: &'static str,
    value: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T> {
    parse(value).ok_or_else(|| StorageError::Corrupt {
        table,
        column,
        value: value.to_string(),
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
