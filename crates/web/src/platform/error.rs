//! One error type for all handlers. It turns into a bare response carrying an
//! [`ErrorMarker`]; the context middleware renders the marker as a full HTML
//! page in the site layout (or as JSON below `/api/`), in the request's language.

use std::sync::Arc;

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use rathaus_domain::ValidationErrors;
use rathaus_storage::StorageError;

/// The JSON error body of the API: `{"error": {...}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// An Open311 GeoReport v2 error answer: one or more errors, each with a
/// code (the HTTP status) and a description naming the parameter and the
/// fix (German or English by `Accept-Language`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Open311Errors)]
pub struct Open311Errors(pub Vec<Open311Error>);

/// One Open311 error.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

/// What went wrong, with a stable `code` and a message in the request's language.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status again.
    pub status: u16,
    /// Stable, machine-readable: e.g. `validation`, `invalid_json`, `invalid_token`,
    /// `forbidden`, `not_found`, `conflict`, `case.transition`, `rate_limited`.
    pub code: String,
    /// German or English (Accept-Language): what is wrong and how to fix it.
    pub message: String,
    /// The fields with their problems (validation errors).
    pub fields: Vec<FieldProblem>,
    /// Of an internal error: the reference to quote to the operator.
    pub reference: Option<String>,
}

/// One field's problem.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The field (e.g. `email`, `files[0].content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The path in the form data (e.g. `hunde[0].name`), for form data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The problem's code, for form data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
    /// The message in German and English, for form data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Messages>,
}

/// A message in both languages.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Messages {
    pub de: String,
    pub en: String,
}

/// What went wrong, for the renderer.
#[derive(Debug, Clone)]
pub struct ErrorMarker(pub Arc<AppError>);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// An HTML page needs a logged-in staff member.
    #[error("login required")]
    LoginRequired,
    /// An API call without a valid token.
    #[error("invalid token")]
    InvalidToken,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    /// A request the server will not run as asked (a search beyond its
    /// limits, a body nested too deep): 400, coded by the first field error.
    #[error("bad request: {0}")]
    BadRequest(ValidationErrors),
    /// A body larger than the route takes.
    #[error("body too large (limit {limit} bytes)")]
    TooLarge { limit: usize },
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// A refused editorial workflow step (message code).
    #[error("workflow step refused: {0}")]
    Workflow(&'static str),
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A query parameter of the API that cannot be read (400).
    #[error("invalid query: {0}")]
    BadQuery(String),
    /// An API body sent without `Content-Type: application/json` (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// An uploaded file (FIM schema, code list) that cannot be read; the detail names file, line and element.
    #[error("invalid file: {0}")]
    BadFile(String),
    #[error("rate limited")]
    RateLimited,
    /// An idempotency key sent before with another request.
    #[error("idempotency key used with another request")]
    IdempotencyMismatch,
    /// A case step the status machine refuses (worded with the step and the status).
    #[error("case step refused: {0}")]
    Transition(rathaus_domain::cases::TransitionError),
    #[error("no tenant configured")]
    NoTenant,
    #[error("internal error {reference}: {message}")]
    Internal { reference: String, message: String },
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let message = e.to_string();
        tracing::error!(%reference, error = %message, "internal error");
        AppError::Internal { reference, message }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::LoginRequired | AppError::InvalidToken => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Validation(_)
            | AppError::InvalidJson(_)
            | AppError::BadFile(_)
            | AppError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) | AppError::Workflow(_) | AppError::Transition(_) => {
                StatusCode::CONFLICT
            }
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadQuery(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::NoTenant => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::LoginRequired => "login_required",
            AppError::InvalidToken => "invalid_token",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf",
            AppError::Validation(_) => "validation",
            AppError::BadRequest(errs) => errs.0.first().map_or("bad_request", |e| e.code),
            AppError::TooLarge { .. } => "body.too_large",
            AppError::Conflict(_) => "conflict",
            AppError::Workflow(_) => "workflow",
            AppError::InvalidJson(_) => "invalid_json",
            AppError::BadFile(_) => "invalid_file",
            AppError::RateLimited => "rate_limited",
            AppError::IdempotencyMismatch => "idempotency.mismatch",
            AppError::BadQuery(_) => "invalid_query",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Transition(_) => "case.transition",
            AppError::NoTenant => "no_tenant",
            AppError::Internal { .. } => "internal",
        }
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Validation(v) => AppError::Validation(v),
            StorageError::Conflict(field) => AppError::Conflict(field),
            StorageError::NotFound(_) => AppError::NotFound,
            StorageError::Workflow(w) => AppError::Workflow(w.code()),
            other => AppError::internal(other),
        }
    }
}

impl From<rathaus_app::UseCaseError> for AppError {
    fn from(e: rathaus_app::UseCaseError) -> Self {
        use rathaus_app::UseCaseError as U;
        match e {
            U::NotFound => AppError::NotFound,
            U::Unauthenticated => AppError::LoginRequired,
            U::Forbidden => AppError::Forbidden,
            U::Validation(v) => AppError::Validation(v),
            U::Conflict(field) => AppError::Conflict(field),
            U::Workflow(code) => AppError::Workflow(code),
            U::Transition(t) => AppError::Transition(t),
            U::BadFile(detail) => AppError::BadFile(detail),
            U::RateLimited => AppError::RateLimited,
            U::IdempotencyMismatch => AppError::IdempotencyMismatch,
            U::Internal(message) => AppError::internal(message),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        AppError::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if matches!(self, AppError::LoginRequired) {
            // Browsers go to the login page; the API answers 401 (see context).
            let mut r = Redirect::to("/login").into_response();
            r.extensions_mut().insert(ErrorMarker(Arc::new(self)));
            return r;
        }
        let mut r = self.status().into_response();
        r.headers_mut().remove(header::CONTENT_TYPE);
        r.extensions_mut().insert(ErrorMarker(Arc::new(self)));
        r
    }
}

/// A panicking handler becomes a 500 page, never a dropped connection.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into());
    AppError::internal(format!("handler panicked: {detail}")).into_response()
}
