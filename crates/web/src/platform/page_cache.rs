//! The cache of public pages for anonymous visitors.
//!
//! The catalogue's public pages (home, lists, topics, life situations,
//! service pages, legal pages) are the same for every anonymous visitor of a
//! tenant in one language, and change only when an editor publishes. So the
//! rendered page is kept, keyed by tenant, language, path and query (without
//! `lang=`, which the language already names), and served without running the
//! handler, the session layer or a database query; with its strong `ETag`
//! (`If-None-Match` → 304) and its gzip and brotli variants made once
//! ([`encoding::Encoded`]).
//!
//! **Only anonymous requests, only anonymous pages.** A request that carries
//! the session cookie neither reads nor fills the cache: it is rendered as
//! before (someone may be logged in, and a logged-in page shows their name and
//! a CSRF token). A response is stored only if its handler marked it
//! [`Cacheable`] — `layout::cache_header` does so when the page has no staff
//! member, citizen or CSRF token — and it is a 200 without `Set-Cookie`. So a
//! page with a per-visitor part (a form with the anonymous CSRF cookie's
//! token, a flash message) is never stored: such handlers do not call
//! `cache_header`, and issuing the cookie would set `Set-Cookie`.
//!
//! **Invalidation.** Each entry remembers the generation it was rendered in:
//! the sum of the search index's generation (bumped whenever the index
//! applies `catalog_index_log` — the publication log every instance follows
//! once a second, so a publication on another instance or by the CLI reaches
//! this cache within about a second, as it reaches the search index), the
//! submission cache's generation (bumped by every staff write of this process
//! that changes forms, services or routing: [`rathaus_app::App::changed`]) and
//! [`PageCache::clear`]. An entry of an older generation is never served.
//! What the log does not carry — tenant and org-unit data changed through the
//! CLI — shows within [`TTL`], as the tenant cache and browsers' `max-age=60`
//! allowed already.
//!
//! **Bounded memory.** Entries are weighed by their bytes; beyond
//! [`BUDGET_BYTES`] the least recently used go. Bodies over
//! [`MAX_PAGE_BYTES`] are not stored.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use lru::LruCache;
use uuid::Uuid;

use crate::platform::{
    AppState,
    context::Ctx,
    encoding::{self, Effort, Encoded},
    error::{AppError, ErrorMarker},
    i18n::Lang,
    sessions::SESSION_COOKIE,
};

/// How long an entry serves at most, whatever the generation says.
pub const TTL: Duration = Duration::from_secs(60);
/// Bytes the cache holds at most (bodies and their compressed variants, estimated).
pub const BUDGET_BYTES: usize = 32 << 20;
/// Larger pages are not stored.
pub const MAX_PAGE_BYTES: usize = 1 << 20;

/// Set on a response (by `layout::cache_header`) whose page shows nothing of
/// the visitor: it may be stored for every anonymous visitor.
#[derive(Debug, Clone, Copy)]
pub struct Cacheable;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    tenant: Uuid,
    lang: Lang,
    path: String,
    query: String,
}

struct Entry {
    generation: u64,
    made: Instant,
    /// The handler's headers (type, caching, `Vary`).
    headers: HeaderMap,
    body: Arc<Encoded>,
    /// Bytes counted against the budget.
    cost: usize,
}

struct Lru {
    map: LruCache<Key, Arc<Entry>>,
    bytes: usize,
}

/// The rendered pages of this instance (see the module docs).
pub struct PageCache {
    inner: Mutex<Lru>,
    budget: usize,
    cleared: AtomicU64,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::with_budget(BUDGET_BYTES)
    }
}

impl PageCache {
    pub fn with_budget(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Lru {
                map: LruCache::unbounded(),
                bytes: 0,
            }),
            budget,
            cleared: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops every page.
    pub fn clear(&self) {
        let mut inner = self.lock();
        self.cleared.fetch_add(1, Ordering::AcqRel);
        inner.map.clear();
        inner.bytes = 0;
    }

    /// Pages held and their weight in bytes.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.map.len(), inner.bytes)
    }

    fn get(&self, key: &Key, generation: u64) -> Option<Arc<Entry>> {
        let mut inner = self.lock();
        let entry = inner.map.get(key)?.clone();
        if entry.generation == generation && entry.made.elapsed() < TTL {
            return Some(entry);
        }
        if let Some(old) = inner.map.pop(key) {
            inner.bytes = inner.bytes.saturating_sub(old.cost);
        }
        None
    }

    fn insert(&self, key: Key, entry: Arc<Entry>) {
        if entry.cost > self.budget / 4 {
            return;
        }
        let mut inner = self.lock();
        inner.bytes += entry.cost;
        if let Some(old) = inner.map.put(key, entry) {
            inner.bytes = inner.bytes.saturating_sub(old.cost);
        }
        while inner.bytes > self.budget {
            match inner.map.pop_lru() {
                Some((_, old)) => inner.bytes = inner.bytes.saturating_sub(old.cost),
                None => break,
            }
        }
    }
}

/// The generation pages are rendered in now (see the module docs).
pub fn generation(state: &AppState) -> u64 {
    state
        .app
        .search
        .generation()
        .wrapping_add(state.app.intake.generation())
        .wrapping_add(state.pages.cleared.load(Ordering::Acquire))
}

/// Whether the request carries the session cookie.
fn has_session(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|c| {
            c.trim()
                .strip_prefix(SESSION_COOKIE)
                .is_some_and(|rest| rest.starts_with('='))
        })
}

/// The query without `lang=` (the language is part of the key already).
fn query_key(query: Option<&str>) -> String {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect::<Vec<_>>()
        .join("&")
}

/// The key of an anonymous GET of a tenant's page; `None` for anything else.
fn key_of(req: &Request) -> Option<Key> {
    if req.method() != Method::GET || has_session(req.headers()) {
        return None;
    }
    let ctx = req.extensions().get::<Ctx>()?;
    Some(Key {
        tenant: ctx.tenant.as_ref()?.id,
        lang: ctx.lang,
        path: req.uri().path().to_string(),
        query: query_key(req.uri().query()),
    })
}

/// Whether a response may be stored for every anonymous visitor.
fn storable(res: &Response) -> bool {
    use axum::body::HttpBody;
    res.status() == StatusCode::OK
        && res.extensions().get::<Cacheable>().is_some()
        && res.extensions().get::<ErrorMarker>().is_none()
        && !res.headers().contains_key(header::SET_COOKIE)
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .body()
            .size_hint()
            .exact()
            .is_some_and(|n| n <= MAX_PAGE_BYTES as u64)
}

/// The request headers the answer depends on.
fn negotiation(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in [header::ACCEPT_ENCODING, header::IF_NONE_MATCH] {
        for v in headers.get_all(&name) {
            out.append(name.clone(), v.clone());
        }
    }
    out
}

/// Middleware (inside the context middleware, outside the session layer):
/// answers anonymous GETs from the cache and stores the cacheable pages it
/// lets through.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(key) = key_of(&req) else {
        return next.run(req).await;
    };
    let generation = generation(&state);
    let request = negotiation(req.headers());
    if let Some(entry) = state.pages.get(&key, generation) {
        metrics::counter!("rathaus_page_cache_total", "outcome" => "hit").increment(1);
        return encoding::respond(&entry.body, &request, entry.headers.clone()).await;
    }
    let res = next.run(req).await;
    if !storable(&res) {
        return res;
    }
    metrics::counter!("rathaus_page_cache_total", "outcome" => "miss").increment(1);
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(b) => b,
        Err(e) => return AppError::internal(format!("reading a page body: {e}")).into_response(),
    };
    let mut headers = parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    // The body and, once made, a gzip (~1/4) and a brotli (~1/5) variant.
    let cost = bytes.len() + bytes.len() / 2 + key.path.len() + key.query.len() + 256;
    let entry = Arc::new(Entry {
        generation,
        made: Instant::now(),
        headers,
        body: Encoded::new(bytes, Effort::Page),
        cost,
    });
    // A publication while rendering makes this page old already: serve it
    // to this request, keep it for nobody.
    if self::generation(&state) == generation {
        state.pages.insert(key, entry.clone());
    }
    encoding::respond(&entry.body, &request, entry.headers.clone()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> Key {
        Key {
            tenant: Uuid::nil(),
            lang: Lang::De,
            path: path.into(),
            query: String::new(),
        }
    }

    fn entry(generation: u64, size: usize) -> Arc<Entry> {
        Arc::new(Entry {
            generation,
            made: Instant::now(),
            headers: HeaderMap::new(),
            body: Encoded::new(vec![b'x'; size].into(), Effort::Page),
            cost: size,
        })
    }

    #[test]
    fn memory_stays_within_the_budget_and_recent_pages_stay() {
        let cache = PageCache::with_budget(10_000);
        for i in 0..100 {
            cache.insert(key(&format!("/leistungen/{i}")), entry(1, 1_000));
            // A page visited all the time is never the least recently used.
            assert!(cache.get(&key("/leistungen/0"), 1).is_some(), "round {i}");
        }
        let (pages, bytes) = cache.usage();
        assert!(bytes <= 10_000, "{bytes} bytes");
        assert_eq!(pages, 10);
        assert!(cache.get(&key("/leistungen/1"), 1).is_none());
        assert!(cache.get(&key("/leistungen/99"), 1).is_some());
        // Too large for the budget: not stored at all.
        cache.insert(key("/gross"), entry(1, 5_000));
        assert!(cache.get(&key("/gross"), 1).is_none());
    }

    #[test]
    fn another_generation_is_never_served() {
        let cache = PageCache::with_budget(10_000);
        cache.insert(key("/"), entry(7, 100));
        assert!(cache.get(&key("/"), 8).is_none());
        assert_eq!(cache.usage().0, 0, "the old page is dropped");
        cache.insert(key("/"), entry(8, 100));
        assert!(cache.get(&key("/"), 8).is_some());
        cache.clear();
        assert!(cache.get(&key("/"), 8).is_none());
    }

    #[test]
    fn keys_ignore_the_language_parameter_only() {
        assert_eq!(query_key(Some("lang=en")), "");
        assert_eq!(
            query_key(Some("audience=citizen&lang=de")),
            "audience=citizen"
        );
        assert_eq!(query_key(None), "");
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "rathaus_lang=en; rathaus_session=abc".parse().unwrap(),
        );
        assert!(has_session(&h));
        h.insert(
            header::COOKIE,
            "rathaus_sessionx=1; rathaus_csrf=rh_".parse().unwrap(),
        );
        assert!(!has_session(&h));
    }
}
