//! The use-case layer of rathaus.
//!
//! Every use case exists here exactly once. It takes an [`Actor`] (who asks)
//! and typed input, checks the permission in the one permission model
//! ([`Actor::require`], [`Actor::require_case`]), runs its transaction through
//! `rathaus-storage`, updates caches and the search index, enqueues outbox jobs
//! and returns a typed result or a [`UseCaseError`]. It knows nothing of HTTP:
//! the HTML pages and the JSON API of `rathaus-web` only parse a request, call
//! a use case and render its answer.
//!
//! One module per capability, named as the web folders are.

pub mod accounts;
pub mod actor;
pub mod applications;
pub mod appointments;
pub mod cases;
pub mod catalog;
pub mod circulation;
pub mod decisions;
pub mod defects;
pub mod drafts;
pub mod editorial;
pub mod error;
pub mod forms;
pub mod identity;
pub mod intake;
pub mod intray;
pub mod payments;
pub mod records;
pub mod routing;
pub mod seals;
pub mod uploads;

use std::sync::Arc;

use rathaus_storage::{Store, files::FileStore};

pub use actor::{Actor, Channel, Staff};
pub use error::{UseCaseError, UseCaseResult};
pub use rathaus_domain::permissions::Permission;

/// What use cases run on: the database, the file store and the caches that
/// live as long as the process.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub files: FileStore,
    /// What the submission path keeps for a few seconds ([`intake`]).
    pub intake: Arc<intake::IntakeCache>,
    /// The portal's search index over the published catalog.
    pub search: Arc<catalog::search::CatalogSearch>,
    /// What applicants may upload per draft and per answer.
    pub uploads: UploadLimits,
    /// The full-text index over the documents of the e-file.
    pub records_search: Arc<seals::RecordSearch>,
    /// The payment provider (none: fees cannot be paid online here).
    pub payments: Option<Arc<payments::PaymentConfig>>,
    /// How appointment booking behaves (proof of work, hold times, limits).
    pub appointments: Arc<appointments::AppointmentConfig>,
}

/// Quotas on applicants' uploads (configurable: `RATHAUS_UPLOAD_QUOTA_BYTES`,
/// `RATHAUS_UPLOAD_QUOTA_FILES`). Each draft and each answer to the office
/// may hold at most `quota_files` files of together `quota_bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    pub quota_bytes: u64,
    pub quota_files: u32,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            quota_bytes: 50 * 1024 * 1024,
            quota_files: 20,
        }
    }
}

impl App {
    pub fn new(store: Store, files: FileStore) -> Self {
        Self {
            store,
            files,
            intake: Arc::default(),
            search: Arc::default(),
            uploads: UploadLimits::default(),
            records_search: Arc::default(),
            payments: None,
            appointments: Arc::default(),
        }
    }
}
