//! Uploads: the body of a form post with files (multipart, CSRF-checked),
//! the type of a file from its content, safe file names.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request},
};
use tower_sessions::Session;

use crate::platform::{
    error::AppError,
    multipart::{self, MultipartError},
    security::{client_ip, verify_csrf},
};

pub use rathaus_app::applications::{MAX_UPLOAD_BYTES, safe_file_name, sniff};

/// The body limit of pages that take uploads (several files per post).
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(3 * MAX_UPLOAD_BYTES)
}

/// A submitted step: text pairs plus uploaded files (multipart), CSRF-checked.
pub struct StepBody {
    pub pairs: Vec<(String, String)>,
    /// (data path, original file name, content)
    pub files: Vec<(String, String, Bytes)>,
    /// The client's address ([`client_ip`]), for the upload rate limit.
    pub client: Option<std::net::IpAddr>,
}

impl<S: Send + Sync> FromRequest<S> for StepBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let session = req
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::internal("session layer missing"))?;
        let client = client_ip(req.extensions());
        let mut pairs = Vec::new();
        let mut files = Vec::new();
        if multipart::is_multipart(&req) {
            // Over the limit, or unreadable (a header with a raw line break in
            // a file name, a missing boundary): each with its own message.
            let parts = multipart::read(req).await.map_err(|e| match e {
                MultipartError::NotMultipart(_) => AppError::Csrf,
                MultipartError::TooLarge(_) => AppError::Validation(
                    rathaus_domain::FieldError::new("body", "file.too_large").into(),
                ),
                MultipartError::Malformed(_) => AppError::Validation(
                    rathaus_domain::FieldError::new("body", "multipart.invalid").into(),
                ),
            })?;
            for part in parts {
                if let Some(path) = part.name.strip_prefix("_file:") {
                    // A browser sends an empty, unnamed part for a file input
                    // left empty; a named empty file is refused by the use case.
                    let named = part.file_name.as_deref().is_some_and(|n| !n.is_empty());
                    if !part.data.is_empty() || named {
                        files.push((
                            path.to_string(),
                            part.file_name.clone().unwrap_or_default(),
                            part.data,
                        ));
                    }
                } else {
                    let text = part.text();
                    pairs.push((part.name, text));
                }
            }
        } else {
            let bytes = Bytes::from_request(req, state).await.map_err(|_| {
                AppError::Validation(rathaus_domain::FieldError::new("body", "too_long").into())
            })?;
            pairs = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        }
        let token = pairs
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.as_str());
        verify_csrf(&session, token).await?;
        Ok(StepBody {
            pairs,
            files,
            client,
        })
    }
}
