//! Prometheus metrics: requests by matched route and status, latency
//! histogram, database pool and outbox gauges (set when scraped).

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Several servers in one test process share the first recorder.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn render() -> String {
    install().render()
}

pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    // Only the methods the router knows become labels: `curl -X ANYTHING`
    // must not add a time series per invented method.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Who may read `/metrics` on the public listener.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone (the demo, tests, a laptop).
    #[default]
    Public,
    /// Only with `Authorization: Bearer <token>`.
    Token(String),
    /// Not at all (served on a separate listen address, or not wanted).
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Router, body::Body, routing::any};
    use tower::ServiceExt;

    #[tokio::test]
    async fn invented_methods_share_one_label() {
        install();
        let app = Router::new()
            .route("/probe-metrics-method", any(|| async { "ok" }))
            .layer(axum::middleware::from_fn(track));
        for m in ["FOO", "BAR", "GET"] {
            let req = axum::http::Request::builder()
                .method(m)
                .uri("/probe-metrics-method")
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(req).await.unwrap();
        }
        let text = render();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("http_requests_total") && l.contains("/probe-metrics-method"))
            .collect();
        assert!(
            lines.iter().any(|l| l.contains("method=\"other\"")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("method=\"GET\"")),
            "{lines:?}"
        );
        assert!(!text.contains("FOO") && !text.contains("BAR"), "{lines:?}");
    }
}
