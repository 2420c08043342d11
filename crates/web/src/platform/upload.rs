//! Uploads: the body of a form post with files (multipart, CSRF-checked),
//! the type of a file from its content, safe file names.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request},
    http::header,
};
use tower_sessions::Session;

use crate::platform::{
    error::AppError,
    security::{client_ip, verify_csrf},
};

pub use rathaus_app::applications::{MAX_UPLOAD_BYTES, safe_file_name, sniff};

/// The body limit of pages that take uploads (several files per post).
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(3 * MAX_UPLOAD_BYTES)
}

/// A multipart body that cannot be read: too large, or malformed (a
/// header with a raw line break in a file name, a missing boundary).
fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    let code = if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        "file.too_large"
    } else {
        "multipart.invalid"
    };
    AppError::Validation(rathaus_domain::FieldError::new("body", code).into())
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
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let mut pairs = Vec::new();
        let mut files = Vec::new();
        if multipart {
            let mut mp = axum::extract::Multipart::from_request(req, state)
                .await
                .map_err(|_| AppError::Csrf)?;
            while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
                let name = field.name().unwrap_or_default().to_string();
                if let Some(path) = name.strip_prefix("_file:") {
                    let file_name = field.file_name().unwrap_or_default().to_string();
                    let data = field.bytes().await.map_err(multipart_error)?;
                    // A browser sends an empty, unnamed part for a file input
                    // left empty; a named empty file is refused by the use case.
                    if !data.is_empty() || !file_name.is_empty() {
                        files.push((path.to_string(), file_name, data));
                    }
                } else {
                    let text = field.text().await.map_err(|_| AppError::Csrf)?;
                    pairs.push((name, text));
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
