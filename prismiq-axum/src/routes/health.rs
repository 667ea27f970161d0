//! `/health`, `/health/live`, `/health/ready`: no auth.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::PrismiqState;

pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

#[derive(Serialize)]
struct HealthCheck {
    status: &'static str,
    message: Option<String>,
    latency_ms: Option<f64>,
}

#[derive(Serialize)]
struct HealthStatus {
    status: &'static str,
    version: &'static str,
    uptime_seconds: f64,
    checks: BTreeMap<&'static str, HealthCheck>,
}

#[derive(Serialize)]
struct Ok {
    status: &'static str,
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

async fn health(State(state): State<PrismiqState>) -> Json<HealthStatus> {
    let engine = state.engine();
    let started = Instant::now();
    let check = match engine.ping_store().await {
        Result::Ok(()) => HealthCheck {
            status: "healthy",
            message: None,
            latency_ms: Some(round2(started.elapsed().as_secs_f64() * 1000.0)),
        },
        Err(err) => HealthCheck {
            status: "unhealthy",
            message: Some(err.to_string()),
            latency_ms: None,
        },
    };
    let status = check.status;
    Json(HealthStatus {
        status,
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: round2(state.uptime_seconds()),
        checks: BTreeMap::from([(engine.store_check_name(), check)]),
    })
}

async fn live() -> Json<Ok> {
    Json(Ok { status: "ok" })
}

async fn ready(State(state): State<PrismiqState>) -> Result<Json<Ok>, ApiError> {
    state
        .engine()
        .ping_store()
        .await
        .map_err(|err| ApiError::Unavailable(format!("Service not ready: {err}")))?;
    Result::Ok(Json(Ok { status: "ok" }))
}
