//! Prometheus metrics: per-route request counts and latencies recorded by the router, query
//! and cache metrics recorded by the engine, and [`metrics_router`] to expose them.
//!
//! Metrics go through the [`metrics`] facade. Nothing is recorded until a recorder is
//! installed; [`install_recorder`] installs a Prometheus one (once per process) and
//! [`metrics_router`] serves its text at `GET /metrics`:
//!
//! ```no_run
//! # use axum::Router;
//! let app: Router = Router::new().merge(prismiq_axum::metrics_router(prismiq_axum::install_recorder()));
//! ```
//!
//! No metric carries a tenant or user id as a label.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets of the `*_duration_ms` metrics, in milliseconds.
const BUCKETS_MS: [f64; 11] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// Installs the process-wide Prometheus recorder (the first call does; later calls return the
/// same handle) and describes Prismiq's metrics.
///
/// If the host already installed another `metrics` recorder, Prismiq's metrics go to that one
/// and the returned handle renders nothing of them.
pub fn install_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_duration_ms".to_owned()), &BUCKETS_MS)
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "a metrics recorder was already installed; /metrics shows only its own output"
                );
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "prismiq_requests_total",
        "HTTP requests, by route, method and status"
    );
    metrics::describe_histogram!(
        "prismiq_request_duration_ms",
        metrics::Unit::Milliseconds,
        "HTTP request latency, by route and method"
    );
    metrics::describe_counter!(
        "prismiq_queries_total",
        "Analytics queries executed, by status"
    );
    metrics::describe_histogram!(
        "prismiq_query_duration_ms",
        metrics::Unit::Milliseconds,
        "Analytics query latency, by status"
    );
    metrics::describe_counter!(
        "prismiq_cache_total",
        "Result cache lookups, by result (hit or miss)"
    );
    metrics::describe_gauge!(
        "prismiq_active_connections",
        "Open database connections of the store pool"
    );
    metrics::describe_gauge!(
        "prismiq_idle_connections",
        "Idle database connections of the store pool"
    );
}

/// A router serving the recorder's text at `GET /metrics`, for the host to mount where it
/// wants (usually at its root, outside the authenticated API).
pub fn metrics_router<S>(handle: PrometheusHandle) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}

/// Records the request count and latency of every matched Prismiq route.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("prismiq_requests_total", "endpoint" => endpoint.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("prismiq_request_duration_ms", "endpoint" => endpoint, "method" => method)
        .record(started.elapsed().as_secs_f64() * 1000.0);
    response
}
