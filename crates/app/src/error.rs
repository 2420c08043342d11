//! What a use case answers when it does not succeed. Knows nothing of HTTP;
//! the web layer maps each variant to a status and a worded message.

use rathaus_domain::ValidationErrors;
use rathaus_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// The thing does not exist — or the actor may not know that it does.
    #[error("not found")]
    NotFound,
    /// Nobody is logged in, but the use case needs someone.
    #[error("authentication required")]
    Unauthenticated,
    /// The actor is known but lacks the permission or the scope.
    #[error("forbidden")]
    Forbidden,
    /// Input that breaks a rule; named by field.
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    /// A unique value exists already (names the field).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// An editorial workflow step the rules refuse (message code).
    #[error("workflow step refused: {0}")]
    Workflow(&'static str),
    /// A case step the status machine refuses.
    #[error("case step refused: {0}")]
    Transition(#[from] rathaus_domain::cases::TransitionError),
    /// An uploaded file that cannot be read; names file, line and element.
    #[error("invalid file: {0}")]
    BadFile(String),
    /// An idempotency key used before with another request.
    #[error("idempotency key used with another request")]
    IdempotencyMismatch,
    /// Too many attempts from this client.
    #[error("rate limited")]
    RateLimited,
    /// Something broke that the actor cannot fix.
    #[error("internal: {0}")]
    Internal(String),
}

pub type UseCaseResult<T> = Result<T, UseCaseError>;

impl From<StorageError> for UseCaseError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Validation(v) => UseCaseError::Validation(v),
            StorageError::Conflict(f) => UseCaseError::Conflict(f),
            StorageError::NotFound(_) => UseCaseError::NotFound,
            StorageError::Workflow(w) => UseCaseError::Workflow(w.code()),
            other => UseCaseError::Internal(other.to_string()),
        }
    }
}

impl From<ValidationErrors> for UseCaseError {
    fn from(v: ValidationErrors) -> Self {
        UseCaseError::Validation(v)
    }
}
