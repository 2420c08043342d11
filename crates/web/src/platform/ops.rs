//! Operations endpoints: liveness, readiness (database) and metrics.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use rathaus_storage::outbox::OutboxRepository;

use crate::platform::{
    AppState,
    routes::{Routes, get},
};

pub fn routes() -> Routes {
    Routes::new("platform")
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (size, idle) = state.store.pool_stats();
    metrics::gauge!("db_pool_connections").set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    if let Ok(counts) = state.store.repo().job_counts().await {
        for status in ["pending", "running", "done", "dead"] {
            let n = counts.get(status).copied().unwrap_or(0);
            metrics::gauge!("rathaus_outbox_jobs", "status" => status).set(n as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::platform::metrics::render(),
    )
}
