//! Uploads: the body of a form post with files (multipart, CSRF-checked),
//! the type of a file from its content, safe file names.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Request},
    http::header,
};
use tower_sessions::Session;

use crate::platform::{error::AppError, security::verify_csrf};

/// Largest accepted upload.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The body limit of pages that take uploads (several files per post).
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(3 * MAX_UPLOAD_BYTES)
}

/// A submitted step: text pairs plus uploaded files (multipart), CSRF-checked.
pub struct StepBody {
    pub pairs: Vec<(String, String)>,
    /// (data path, original file name, content)
    pub files: Vec<(String, String, Bytes)>,
}

impl<S: Send + Sync> FromRequest<S> for StepBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let session = req
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::internal("session layer missing"))?;
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
            while let Some(field) = mp.next_field().await.map_err(|_| {
                AppError::Validation(
                    rathaus_domain::FieldError::new("body", "file.too_large").into(),
                )
            })? {
                let name = field.name().unwrap_or_default().to_string();
                if let Some(path) = name.strip_prefix("_file:") {
                    let file_name = field.file_name().unwrap_or_default().to_string();
                    let data = field.bytes().await.map_err(|_| {
                        AppError::Validation(
                            rathaus_domain::FieldError::new("body", "file.too_large").into(),
                        )
                    })?;
                    if !data.is_empty() {
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
        Ok(StepBody { pairs, files })
    }
}

/// The type of an upload from its first bytes (never from its name).
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// A file name safe to show and store: no paths, no control characters.
pub fn safe_file_name(name: &str, mime: &str) -> String {
    safe_name(name, mime)
}

fn safe_name(name: &str, mime: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !"<>:\"|?*".contains(*c))
        .take(100)
        .collect();
    if clean.trim().trim_matches('.').is_empty() {
        clean = "datei".into();
    }
    let ext = match mime {
        "application/pdf" => ".pdf",
        "image/png" => ".png",
        _ => ".jpg",
    };
    let lower = clean.to_lowercase();
    let has_ext = lower.ends_with(ext) || (ext == ".jpg" && lower.ends_with(".jpeg"));
    if !has_ext {
        clean.push_str(ext);
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_typed_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), Some("image/png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(sniff(b"MZ\x90\x00 an exe named x.pdf"), None);
        assert_eq!(
            safe_name("C:\\Users\\x\\Nachweis.pdf", "application/pdf"),
            "Nachweis.pdf"
        );
        assert_eq!(safe_name("../../etc/passwd", "image/png"), "passwd.png");
        assert_eq!(safe_name("foto.jpeg", "image/jpeg"), "foto.jpeg");
        assert_eq!(safe_name("", "application/pdf"), "datei.pdf");
    }
}
