//! HTTP layer of rathaus: public portal, staff area, REST API and operations
//! endpoints, on axum with askama templates.
//!
//! One module per concern: [`context`] (tenant and language of a request),
//! [`error`] (one error type, rendered as HTML page or JSON), [`security`]
//! (headers, CSRF, rate limits), [`sessions`] (tower-sessions on the
//! database), [`assets`] (vendored KERN UX and own CSS), [`metrics`], and the
//! areas [`portal`], [`staff`], [`api`], [`ops`].

pub mod accounts;
pub mod api;
pub mod assets;
pub mod catalog;
pub mod catalog_search;
pub mod context;
pub mod error;
pub mod form_render;
pub mod forms;
pub mod i18n;
pub mod intake;
pub mod metrics;
pub mod ops;
pub mod portal;
pub mod security;
pub mod sessions;
pub mod staff;
pub mod staff_cases;
pub mod staff_catalog;
pub mod staff_decisions;
pub mod staff_forms;
pub mod views;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::DefaultBodyLimit, middleware};
use rathaus_storage::{Store, files::FileStore};
use tokio::{net::TcpListener, sync::watch};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

pub use error::AppError;

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
}

impl WebConfig {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into(),
            demo_mode: false,
            default_tenant: None,
            login_attempts_per_minute: 10,
            draft_days: 30,
            submits_per_minute: 20,
        }
    }

    fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

pub struct Inner {
    pub store: Store,
    pub files: FileStore,
    pub config: WebConfig,
    pub tenants: context::TenantCache,
    pub intake: intake::IntakeCache,
    pub limiter: security::LoginLimiter,
    pub catalog: catalog_search::CatalogSearch,
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
        );
        Self(Arc::new(Inner {
            store,
            files,
            config,
            tenants: context::TenantCache::default(),
            intake: intake::IntakeCache::default(),
            limiter,
            catalog: catalog_search::CatalogSearch::new(),
        }))
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    metrics::install();
    let sessions = SessionManagerLayer::new(sessions::DbSessionStore::new(state.store.clone()))
        .with_name("rathaus_session")
        .with_secure(state.config.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));

    let app = Router::new()
        .merge(portal::routes())
        .merge(catalog::routes())
        .merge(staff::routes())
        .merge(staff_catalog::routes())
        .merge(staff_cases::routes())
        .merge(staff_decisions::routes())
        .merge(
            forms::routes()
                .merge(staff_forms::routes())
                .merge(accounts::routes())
                .layer(DefaultBodyLimit::max(3 * forms::MAX_UPLOAD_BYTES)),
        )
        .nest("/api/v1", api::routes())
        .merge(api::openapi::routes())
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            intake::forget_after_staff_writes,
        ))
        .layer(sessions)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            context::context_middleware,
        ));

    Router::new()
        .merge(ops::routes())
        .merge(assets::routes())
        .merge(app)
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(middleware::from_fn(security::security_headers))
        .layer(middleware::from_fn(metrics::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` turns true, then finishes running requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let started = std::time::Instant::now();
    match state.catalog.rebuild(&state.store).await {
        Ok(n) => tracing::info!(
            services = n,
            ms = started.elapsed().as_millis() as u64,
            "search index built"
        ),
        Err(e) => {
            tracing::error!(error = %e, "search index could not be built; search starts empty")
        }
    }
    let follower_state = state.clone();
    let follower_shutdown = shutdown.clone();
    let follower = tokio::spawn(async move {
        let store = follower_state.store.clone();
        follower_state
            .catalog
            .follow(store, Duration::from_secs(1), follower_shutdown)
            .await;
    });
    let cleanup = tokio::spawn(sessions::cleanup_loop(
        state.store.clone(),
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
    result
}
