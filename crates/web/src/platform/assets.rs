//! Static files compiled into the binary: KERN UX (vendored unmodified, EUPL)
//! and rathaus's own CSS. URLs carry a content version so they can be cached
//! for a year.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::platform::routes::{Routes, get};

#[derive(RustEmbed)]
#[folder = "static/"]
#[exclude = "*.md"]
struct Assets;

/// Short hash over all static files.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut names: Vec<_> = Assets::iter().collect();
        names.sort();
        let mut h = Sha256::new();
        for n in names {
            if let Some(f) = Assets::get(&n) {
                h.update(n.as_bytes());
                h.update(f.metadata.sha256_hash());
            }
        }
        hex::encode(h.finalize())[..10].to_string()
    })
}

/// Versioned URL of a static file.
pub fn url(path: &str) -> String {
    format!("/static/{}/{}", version(), path.trim_start_matches('/'))
}

pub fn routes() -> Routes {
    Routes::new("platform").route("/static/{version}/{*path}", get(serve))
}

async fn serve(Path((v, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let Some(file) = Assets::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = if v == version() {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h == etag)
    {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache.to_string()),
            ],
        )
            .into_response();
    }
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let mut res = file.data.into_owned().into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}
