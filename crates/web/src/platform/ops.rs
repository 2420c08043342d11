//! Operations endpoints: liveness, readiness (database) and metrics.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use rathaus_storage::outbox::OutboxRepository;
use subtle::ConstantTimeEq;

use crate::platform::{
    AppState,
    metrics::MetricsAccess,
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

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.config.metrics {
        MetricsAccess::Public => {}
        MetricsAccess::Off => return StatusCode::NOT_FOUND.into_response(),
        MetricsAccess::Token(expected) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                )
                    .into_response();
            }
        }
    }
    render_metrics(&state).await.into_response()
}

/// The Prometheus text, with the gauges read now (also for a separate
/// metrics listener, see `rathaus serve` with `RATHAUS_METRICS_LISTEN`).
pub async fn render_metrics(state: &AppState) -> impl IntoResponse + use<> {
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
