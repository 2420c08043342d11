//! HTTP layer of rathaus: public portal, staff area, REST API and operations
//! endpoints, on axum with askama templates.
//!
//! One folder per capability, each with its routes (HTML pages, staff pages
//! and its part of `/api/v1`), its OpenAPI operations and its views:
//! [`catalog`], [`forms`], [`applications`], [`cases`], [`decisions`],
//! [`accounts`], [`identity`]. What they share lives in [`platform`]
//! (context, errors, security, sessions, messages, assets, metrics and
//! operations routes, layout, auth extractors, uploads, the legal pages, the
//! OpenAPI document, the route registry). A capability imports only
//! `crate::platform`, never another capability (a test checks it).

pub mod accounts;
pub mod applications;
pub mod appointments;
pub mod cases;
pub mod catalog;
pub mod decisions;
pub mod defects;
pub mod forms;
pub mod identity;
pub mod payments;
pub mod platform;
pub mod records;

/// Paths the binary and the integration tests use.
pub mod api {
    pub use crate::platform::openapi;
}
pub use platform::routes::RouteEntry;
pub use platform::{error::AppError, i18n};

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::DefaultBodyLimit, middleware};
use platform::{client, context, error, metrics, openapi::Op, routes::Routes, security, sessions};
use rathaus_storage::{Store, files::FileStore};
use tokio::{net::TcpListener, sync::watch};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address citizens use, e.g. `https://rathaus.musterstadt.de`.
    pub public_url: String,
    /// Demo mode shows the demo password hint on the login page.
    pub demo_mode: bool,
    /// Tenant served when the Host header names none.
    pub default_tenant: Option<String>,
    /// Login attempts per account and minute (per client address: three times as many).
    pub login_attempts_per_minute: u32,
    /// Days an applicant's unsent draft is kept after its last change.
    pub draft_days: u32,
    /// New drafts and API submissions per client address and minute.
    pub submits_per_minute: u32,
    /// Reverse proxies whose `Forwarded`/`X-Forwarded-For` name the client.
    pub trusted_proxies: platform::client::TrustedProxies,
    /// Who may read `/metrics` on this listener.
    pub metrics: platform::metrics::MetricsAccess,
    /// Send `Strict-Transport-Security` (when the public URL is https).
    pub hsts: bool,
    /// Posts with files (wizard steps, answers) per client address and minute.
    pub uploads_per_minute: u32,
    /// Quota per draft and per answer (`RATHAUS_UPLOAD_QUOTA_BYTES` / `_FILES`).
    pub upload_limits: rathaus_app::UploadLimits,
    /// Absolute lifetime of a browser session in hours, however active it is
    /// (`RATHAUS_SESSION_MAX_HOURS`); the idle expiry (8 h) applies as well.
    pub session_max_hours: u32,
    /// Online payment (E-Payment): the provider and the addresses it calls
    /// back; `None` takes no payment online.
    pub payments: Option<Arc<rathaus_app::payments::PaymentConfig>>,
    /// Appointment holds and bookings per client address and minute
    /// (`RATHAUS_BOOKINGS_PER_MINUTE`).
    pub bookings_per_minute: u32,
    /// Defect reports per Open311 app key and minute
    /// (`RATHAUS_OPEN311_PER_MINUTE`).
    pub open311_per_minute: u32,
    /// Appointment booking: proof of work, hold times, limits per address.
    pub appointments: Arc<rathaus_app::appointments::AppointmentConfig>,
}

impl WebConfig {
    pub fn new(public_url: impl Into<String>) -> Self {
        let public_url: String = public_url.into();
        Self {
            hsts: public_url.starts_with("https://"),
            public_url,
            demo_mode: false,
            default_tenant: None,
            login_attempts_per_minute: 10,
            draft_days: 30,
            submits_per_minute: 20,
            trusted_proxies: Default::default(),
            metrics: Default::default(),
            uploads_per_minute: 20,
            upload_limits: rathaus_app::UploadLimits::default(),
            session_max_hours: 12,
            payments: None,
            bookings_per_minute: 10,
            open311_per_minute: 120,
            appointments: Arc::default(),
        }
    }

    fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The absolute session lifetime (at least one hour).
    pub fn session_max_age(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_max_hours.max(1)) * 3600)
    }
}

pub struct Inner {
    pub store: Store,
    pub files: FileStore,
    pub config: WebConfig,
    pub tenants: context::TenantCache,
    /// The use-case layer: every write and every permission check goes through it.
    pub app: rathaus_app::App,
    pub limiter: security::LoginLimiter,
    /// Rendered public pages for anonymous visitors.
    pub pages: platform::page_cache::PageCache,
    /// The Content-Security-Policy: [`security::CSP`], with the payment
    /// provider's origin among the form targets (the pay button's answer
    /// leads there).
    pub csp: axum::http::HeaderValue,
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, files: FileStore, config: WebConfig) -> Self {
        let limiter = security::LoginLimiter::with_submits(
            config.login_attempts_per_minute,
            config.submits_per_minute,
        )
        .with_uploads(config.uploads_per_minute)
        .with_bookings(config.bookings_per_minute)
        .with_reports(config.open311_per_minute);
        let mut app = rathaus_app::App::new(store.clone(), files.clone());
        app.uploads = config.upload_limits;
        app.payments = config.payments.clone();
        app.appointments = config.appointments.clone();
        let csp = security::csp_with_form_targets(
            config
                .payments
                .as_ref()
                .and_then(|p| p.provider.pay_origin())
                .as_slice(),
        );
        Self(Arc::new(Inner {
            store,
            files,
            app,
            config,
            tenants: context::TenantCache::default(),
            limiter,
            pages: Default::default(),
            csp,
        }))
    }
}

/// The routes behind the session and context layers: every capability,
/// the legal pages and the OpenAPI document.
fn app_routes() -> Routes {
    Routes::new("platform")
        .merge(platform::legal::routes())
        .merge(catalog::routes())
        .merge(identity::routes())
        .merge(cases::routes())
        .merge(decisions::routes())
        .merge(forms::routes())
        .merge(applications::routes())
        .merge(accounts::routes())
        .merge(records::routes())
        .merge(payments::routes())
        .merge(appointments::routes())
        .merge(defects::routes())
        .merge(platform::openapi::routes())
}

/// The routes outside those layers: operations and assets.
fn outer_routes() -> Routes {
    Routes::new("platform")
        .merge(platform::ops::routes())
        .merge(platform::assets::routes())
}

/// Every route of the application: method, full path, capability.
pub fn route_table() -> Vec<RouteEntry> {
    let mut table = outer_routes().entries().to_vec();
    table.extend_from_slice(app_routes().entries());
    table
}

/// The OpenAPI operations of every capability (joined in [`platform::openapi`]).
fn api_operations() -> Vec<&'static Op> {
    [
        identity::OPERATIONS,
        catalog::OPERATIONS,
        forms::OPERATIONS,
        applications::OPERATIONS,
        cases::OPERATIONS,
        decisions::OPERATIONS,
        accounts::OPERATIONS,
        records::OPERATIONS,
        payments::OPERATIONS,
        appointments::OPERATIONS,
        defects::api::OPERATIONS,
        defects::open311::OPERATIONS,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    metrics::install();
    let sessions = SessionManagerLayer::new(sessions::DbSessionStore::new(
        state.store.clone(),
        state.config.session_max_age(),
    ))
    .with_name(sessions::SESSION_COOKIE)
    .with_secure(state.config.secure_cookies())
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));

    let (app, _) = app_routes().into_parts();
    let app = app
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::csrf_cookie,
        ))
        .layer(sessions)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        // Anonymous GETs of public pages are answered here, before the
        // session layer (it needs the context's tenant and language).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            platform::page_cache::middleware,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            context::context_middleware,
        ));

    let (outer, _) = outer_routes().into_parts();
    outer
        .merge(app)
        .layer(DefaultBodyLimit::max(platform::json::DEFAULT_BODY_LIMIT))
        // HTML and JSON on the fly (static files and cached pages come
        // compressed already: `platform::encoding`).
        .layer(
            tower_http::compression::CompressionLayer::new()
                .compress_when(platform::encoding::Compressible),
        )
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::security_headers,
        ))
        .layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client::client_addr,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `/metrics` alone on a separate (internal) listen address until
/// `shutdown` turns true.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    metrics::install();
    let app = Router::new()
        .route(
            "/metrics",
            axum::routing::get(
                |axum::extract::State(state): axum::extract::State<AppState>| async move {
                    platform::ops::render_metrics(&state).await
                },
            ),
        )
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}

/// Serves until `shutdown` turns true, then finishes running requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    match state.app.search.rebuild(&state.store).await {
        Ok(n) => tracing::info!(
            services = n,
            ms = started.elapsed().as_millis() as u64,
            "search index built"
        ),
        Err(e) => {
            tracing::error!(error = %e, "search index could not be built; search starts empty")
        }
    }
    // The static files' gzip and brotli variants, made once, off the async workers.
    let warm = tokio::spawn(platform::assets::warm());
    let follower_state = state.clone();
    let follower_shutdown = shutdown.clone();
    let follower = tokio::spawn(async move {
        let store = follower_state.store.clone();
        follower_state
            .app
            .search
            .follow(store, Duration::from_secs(1), follower_shutdown)
            .await;
    });
    let cleanup = tokio::spawn(sessions::cleanup_loop(
        state.app.clone(),
        state.config.session_max_age(),
        shutdown.clone(),
    ));
    let limiter_state = state.clone();
    let limiter_task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter_state.limiter.forget_old();
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await;
    cleanup.abort();
    limiter_task.abort();
    follower.abort();
    warm.abort();
    result
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn route_table_lists_every_route_once() {
        let table = route_table();
        assert!(!table.is_empty());
        let mut seen = HashSet::new();
        for e in &table {
            assert!(
                seen.insert((e.method.clone(), e.path.clone())),
                "registered twice: {} {}",
                e.method,
                e.path
            );
        }
        for (method, path, capability) in [
            ("GET", "/leistungen/{slug}", "catalog"),
            ("POST", "/api/v1/applications", "applications"),
            ("GET", "/staff/cases", "cases"),
            ("GET", "/healthz", "platform"),
            ("GET", "/static/{version}/{*path}", "platform"),
            ("GET", "/api/openapi.json", "platform"),
        ] {
            assert!(
                table.iter().any(|e| e.method.as_str() == method
                    && e.path == path
                    && e.capability == capability),
                "missing: {method} {path} ({capability})"
            );
        }
    }

    #[test]
    fn every_api_operation_is_in_the_route_table() {
        let table = route_table();
        for o in platform::openapi::OPERATIONS.iter() {
            // A parameter with a suffix (`{code}.ics`) is served by the
            // route of the bare parameter (the router knows no suffixes);
            // Open311's `name.json` / `name.xml` by a `{file}` segment.
            let path = if o.open311 {
                let (dir, _) = o.path.rsplit_once('/').expect("a path");
                format!("{dir}/{{file}}")
            } else {
                format!("/api/v1{}", o.path.replace("}.ics", "}"))
            };
            assert!(
                table
                    .iter()
                    .any(|e| e.method.as_str().eq_ignore_ascii_case(o.method) && e.path == path),
                "operation not routed: {} {path}",
                o.method
            );
        }
    }
}
