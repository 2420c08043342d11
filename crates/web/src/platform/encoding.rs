//! Content codings: which one a client takes (`Accept-Encoding`), bodies
//! compressed once and kept ([`Encoded`]: the static assets, the cached
//! public pages), `If-None-Match`, and the rule for compressing everything
//! else on the fly ([`Compressible`], used by the `CompressionLayer` in
//! `lib.rs`).
//!
//! Each coding of a body is its own representation: it has its own strong
//! `ETag` (the identity tag with `-gz` or `-br` appended) and every answer
//! carries `Vary: Accept-Encoding`.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use tower_http::compression::predicate::{Predicate, SizeAbove};

/// A content coding this server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` value (none for identity).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }
}

/// The coding a client prefers among those it accepts: the higher `q`
/// wins, brotli before gzip when equal; identity when it takes neither (or
/// refuses them with `q=0`).
pub fn negotiate(headers: &HeaderMap) -> Coding {
    let (mut br, mut gzip, mut any) = (None, None, None);
    for value in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim())
                })
                .next()
                .map_or(1.0, |v| v.parse::<f32>().unwrap_or(0.0));
            if name.eq_ignore_ascii_case("br") {
                br = Some(q);
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if name == "*" {
                any = Some(q);
            }
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Coding::Brotli
    } else if gzip > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks
/// for this header; `*` matches any).
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// gzip at `level` (0–9); `None` if the encoder fails.
pub fn gzip(data: &[u8], level: u32) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3 + 64),
        flate2::Compression::new(level.min(9)),
    );
    enc.write_all(data).ok()?;
    enc.finish().ok()
}

/// Brotli at `quality` (0–11); `None` if the encoder fails.
pub fn brotli(data: &[u8], quality: u32) -> Option<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: quality.min(11) as i32,
        lgwin: 22,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).ok()?;
    Some(out)
}

/// How hard to compress: once per process for static files (the smallest
/// result), per cached page for pages (fast).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// gzip 9, brotli 11.
    Static,
    /// gzip 6, brotli 5.
    Page,
    /// Not compressible (fonts, images): identity only.
    None,
}

/// A body with its strong ETag and its gzip and brotli variants, each made
/// on first demand (on the blocking pool) and kept. A variant that saves
/// nothing is not made; identity is sent instead.
pub struct Encoded {
    pub identity: Bytes,
    /// Hex digest (without quotes) naming the identity body.
    tag: String,
    effort: Effort,
    gzip: OnceCell<Option<Bytes>>,
    br: OnceCell<Option<Bytes>>,
}

impl Encoded {
    pub fn new(identity: Bytes, effort: Effort) -> Arc<Self> {
        let tag = hex::encode(&Sha256::digest(&identity)[..16]);
        Self::with_tag(identity, tag, effort)
    }

    /// With a known digest (rust-embed hashes the static files at build time).
    pub fn with_tag(identity: Bytes, tag: String, effort: Effort) -> Arc<Self> {
        Arc::new(Self {
            identity,
            tag,
            effort,
            gzip: OnceCell::new(),
            br: OnceCell::new(),
        })
    }

    /// Whether this body has compressed variants at all.
    pub fn compressible(&self) -> bool {
        self.effort != Effort::None
    }

    /// The strong ETag of the body in `coding`.
    pub fn etag(&self, coding: Coding) -> String {
        format!("\"{}{}\"", self.tag, coding.etag_suffix())
    }

    /// Bytes kept for this body (identity and the variants made so far).
    pub fn size(&self) -> usize {
        let v =
            |c: &OnceCell<Option<Bytes>>| c.get().and_then(|b| b.as_ref()).map_or(0, Bytes::len);
        self.identity.len() + v(&self.gzip) + v(&self.br)
    }

    /// The body in `wanted`, or in identity when that variant saves nothing.
    pub async fn select(self: &Arc<Self>, wanted: Coding) -> (Coding, Bytes) {
        let cell = match wanted {
            Coding::Identity => return (Coding::Identity, self.identity.clone()),
            _ if !self.compressible() => return (Coding::Identity, self.identity.clone()),
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.br,
        };
        let me = self.clone();
        let made = cell
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || me.compress(wanted))
                    .await
                    .ok()
                    .flatten()
            })
            .await;
        match made {
            Some(b) => (wanted, b.clone()),
            None => (Coding::Identity, self.identity.clone()),
        }
    }

    /// Makes both variants now (for warming up).
    pub async fn prepare(self: &Arc<Self>) {
        self.select(Coding::Brotli).await;
        self.select(Coding::Gzip).await;
    }

    fn compress(&self, coding: Coding) -> Option<Bytes> {
        let (gz, br) = match self.effort {
            Effort::Static => (9, 11),
            Effort::Page => (6, 5),
            Effort::None => return None,
        };
        let out = match coding {
            Coding::Identity => return None,
            Coding::Gzip => gzip(&self.identity, gz)?,
            Coding::Brotli => brotli(&self.identity, br)?,
        };
        // Worth a variant only when it saves something.
        (out.len() + 64 <= self.identity.len()).then(|| Bytes::from(out))
    }
}

/// Marks a response this module already encoded (or chose not to), so the
/// on-the-fly compression leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct NoCompress;

/// The answer with `body` for a request with `request` headers: the coding
/// the client prefers, its ETag, `Vary: Accept-Encoding`, and `304 Not
/// Modified` when `If-None-Match` names that ETag. `headers` are the
/// representation's other headers (type, caching).
pub async fn respond(body: &Arc<Encoded>, request: &HeaderMap, mut headers: HeaderMap) -> Response {
    let wanted = negotiate(request);
    let (coding, bytes) = body.select(wanted).await;
    let etag = body.etag(coding);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if body.compressible() {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let not_modified = none_match(request, &etag);
    if !not_modified && let Some(name) = coding.name() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    }
    let mut res = if not_modified {
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::CONTENT_LENGTH);
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        Response::new(Body::from(bytes))
    };
    *res.headers_mut() = headers;
    res.extensions_mut().insert(NoCompress);
    res
}

/// When the `CompressionLayer` compresses a response on the fly: text
/// (HTML, JSON, XML, CSS, JavaScript, SVG, plain text) of at least
/// [`MIN_COMPRESS_BYTES`], not already encoded here ([`NoCompress`]). Images,
/// fonts, PDFs and other already-compressed types are left alone; the layer
/// itself skips responses with a `Content-Encoding` or `Content-Range`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Compressible;

/// Smaller bodies go out as they are (the gzip frame alone is 20 bytes).
pub const MIN_COMPRESS_BYTES: u16 = 512;

impl Predicate for Compressible {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        if response.extensions().get::<NoCompress>().is_some() {
            return false;
        }
        let ct = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let text = essence.starts_with("text/")
            || essence == "application/json"
            || essence.ends_with("+json")
            || essence == "application/xml"
            || essence.ends_with("+xml")
            || essence == "application/javascript"
            || essence == "image/svg+xml";
        text && SizeAbove::new(MIN_COMPRESS_BYTES).should_compress(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn negotiation_follows_accept_encoding() {
        assert_eq!(negotiate(&HeaderMap::new()), Coding::Identity);
        assert_eq!(negotiate(&accept("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(negotiate(&accept("gzip")), Coding::Gzip);
        assert_eq!(negotiate(&accept("br;q=0, gzip")), Coding::Gzip);
        assert_eq!(negotiate(&accept("br;q=0.5, gzip;q=0.8")), Coding::Gzip);
        assert_eq!(negotiate(&accept("gzip;q=0, br;q=0")), Coding::Identity);
        assert_eq!(negotiate(&accept("identity")), Coding::Identity);
        assert_eq!(negotiate(&accept("*")), Coding::Brotli);
        assert_eq!(negotiate(&accept("*;q=0")), Coding::Identity);
        assert_eq!(negotiate(&accept("deflate, x-gzip")), Coding::Gzip);
    }

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b-br\""),
        );
        assert!(none_match(&h, "\"a\""));
        assert!(none_match(&h, "\"b-br\""));
        assert!(!none_match(&h, "\"b\""));
        assert!(!none_match(&HeaderMap::new(), "\"a\""));
    }

    #[tokio::test]
    async fn variants_decode_to_the_body_and_have_their_own_tags() {
        let text = "Gewerbe anmelden – Musterstadt. ".repeat(200);
        let body = Encoded::new(Bytes::from(text.clone()), Effort::Page);
        let (c, gz) = body.select(Coding::Gzip).await;
        assert_eq!(c, Coding::Gzip);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out)
            .unwrap();
        assert_eq!(out, text);
        let (c, br) = body.select(Coding::Brotli).await;
        assert_eq!(c, Coding::Brotli);
        let mut out = String::new();
        std::io::Read::read_to_string(&mut brotli::Decompressor::new(&br[..], 4096), &mut out)
            .unwrap();
        assert_eq!(out, text);
        let tags = [
            body.etag(Coding::Identity),
            body.etag(Coding::Gzip),
            body.etag(Coding::Brotli),
        ];
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
        assert!(body.size() > text.len());
        // A tiny body is not worth a variant: identity is sent.
        let tiny = Encoded::new(Bytes::from_static(b"ok"), Effort::Page);
        assert_eq!(tiny.select(Coding::Brotli).await.0, Coding::Identity);
    }
}
