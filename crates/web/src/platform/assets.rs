//! Static files compiled into the binary: KERN UX (vendored unmodified, EUPL)
//! and rathaus's own CSS. URLs carry a content version so they can be cached
//! for a year.
//!
//! Text files (CSS, JavaScript, SVG) are also sent gzip- and
//! brotli-compressed, each variant computed once per process at the highest
//! setting ([`warm`] does it at start, on the blocking pool) and chosen by
//! `Accept-Encoding`, with `Vary: Accept-Encoding` and an ETag per variant
//! ([`crate::platform::encoding`]).

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use axum::{
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::platform::{
    encoding::{self, Effort, Encoded},
    routes::{Routes, get},
};

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

/// One static file: its type and its body with the compressed variants.
struct Asset {
    mime: HeaderValue,
    body: Arc<Encoded>,
}

/// Whether a type is text worth compressing (fonts and images are not).
fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime == "application/javascript"
        || mime == "application/json"
        || mime == "image/svg+xml"
}

/// Every static file, read once.
fn all() -> &'static HashMap<String, Asset> {
    static ALL: OnceLock<HashMap<String, Asset>> = OnceLock::new();
    ALL.get_or_init(|| {
        Assets::iter()
            .filter_map(|name| {
                let file = Assets::get(&name)?;
                let mime = mime_guess::from_path(name.as_ref()).first_or_octet_stream();
                let effort = if compressible(mime.essence_str()) {
                    Effort::Static
                } else {
                    Effort::None
                };
                let tag = hex::encode(&file.metadata.sha256_hash()[..16]);
                let body = Encoded::with_tag(file.data.into_owned().into(), tag, effort);
                let mime = HeaderValue::from_str(mime.as_ref()).ok()?;
                Some((name.to_string(), Asset { mime, body }))
            })
            .collect()
    })
}

/// Compresses every text file now, so the first visitor does not wait for
/// it (called once at start; the work runs on the blocking pool).
pub async fn warm() {
    for asset in all().values() {
        if asset.body.compressible() {
            asset.body.prepare().await;
        }
    }
}

async fn serve(Path((v, path)): Path<(String, String)>, request: HeaderMap) -> Response {
    let Some(asset) = all().get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cache = if v == version() {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, asset.mime.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    encoding::respond(&asset.body, &request, headers).await
}
