//! Storage layer of rathaus.
//!
//! * one code path for SQLite and PostgreSQL through sea-orm ([`Store`]),
//! * versioned migrations ([`migration`]),
//! * repositories per domain concept, always scoped by tenant ([`tenancy`],
//!   [`identity`], [`outbox`]),
//! * file storage through object_store ([`files`]),
//! * the outbox and its workers ([`outbox`]).

pub mod accounts;
pub mod applications;
pub mod catalog;
pub mod decisions;
pub mod entities;
pub mod files;
pub mod forms;
pub mod identity;
pub mod migration;
pub mod outbox;
pub mod tenancy;
pub mod test_support;

mod db;

pub use db::{Backend, DbConfig, Repo, Store, redact_url};
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};

use rathaus_domain::ValidationErrors;

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

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
