//! Reading a JSON request body within limits: the route's body limit (413
//! `body.too_large`), a nesting depth limit (400 `json.too_deep`) checked on
//! the raw bytes before any parsing, and then the typed parse (422).

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::header,
};
use rathaus_domain::FieldError;
use serde::de::DeserializeOwned;

use crate::platform::error::AppError;

/// Deepest nesting of arrays and objects a request body may have.
pub const MAX_JSON_DEPTH: usize = 32;

/// The body limit when a route sets none (see `router`).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Reads and parses a JSON body of `T`.
pub async fn read_json<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<T, AppError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false);
    if !is_json {
        return Err(AppError::UnsupportedMediaType);
    }
    let limit = req
        .extensions()
        .get::<BodyLimit>()
        .map_or(DEFAULT_BODY_LIMIT, |l| l.0);
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge { limit }
        } else {
            AppError::InvalidJson(rejection.body_text())
        }
    })?;
    check_depth(&bytes, MAX_JSON_DEPTH)?;
    serde_json::from_slice(&bytes).map_err(|e| AppError::InvalidJson(e.to_string()))
}

/// The layers that give a route a body limit of `bytes` (and tell
/// [`read_json`] the limit, for the wording of a 413).
pub fn body_limit(
    bytes: usize,
) -> tower::layer::util::Stack<axum::Extension<BodyLimit>, axum::extract::DefaultBodyLimit> {
    tower::layer::util::Stack::new(
        axum::Extension(BodyLimit(bytes)),
        axum::extract::DefaultBodyLimit::max(bytes),
    )
}

/// The body limit a route was given, for the wording of a 413.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Refuses bodies nested deeper than `max` (counting `[` and `{` outside strings).
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), AppError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(AppError::BadRequest(
                        FieldError::new("body", "json.too_deep").into(),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nested(n: usize) -> String {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn depth_is_limited_outside_strings_only() {
        assert!(check_depth(nested(MAX_JSON_DEPTH).as_bytes(), MAX_JSON_DEPTH).is_ok());
        assert!(check_depth(nested(MAX_JSON_DEPTH + 1).as_bytes(), MAX_JSON_DEPTH).is_err());
        let in_string = format!("{{\"a\": \"{}\"}}", "[".repeat(1000));
        assert!(check_depth(in_string.as_bytes(), MAX_JSON_DEPTH).is_ok());
        let escaped_quote = format!("{{\"a\": \"\\\"{}\"}}", "[".repeat(1000));
        assert!(check_depth(escaped_quote.as_bytes(), MAX_JSON_DEPTH).is_ok());
    }

    proptest! {
        /// Whatever serde_json accepts within the limit, the check accepts;
        /// the check never panics on arbitrary bytes.
        #[test]
        fn agrees_with_serde_on_valid_json(depth in 1usize..40, bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = check_depth(&bytes, MAX_JSON_DEPTH);
            let doc = nested(depth);
            let ok = check_depth(doc.as_bytes(), MAX_JSON_DEPTH).is_ok();
            prop_assert_eq!(ok, depth <= MAX_JSON_DEPTH);
            prop_assert!(serde_json::from_str::<serde_json::Value>(&doc).is_ok());
        }
    }
}
