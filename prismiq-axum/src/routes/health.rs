//! `/health`, `/health/live`, `/health/ready`: no auth.

use std::collections::BTreeMap;

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct HealthCheck {
    status: &'static str,
    message: Option<String>,
    latency_ms: Option<f64>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct HealthStatus {
    status: &'static str,
    version: &'static str,
    uptime_seconds: f64,
    checks: BTreeMap<&'static str, HealthCheck>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = StatusOk))]
struct Ok {
    status: &'static str,
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The health of every backend (store, data source, cache); always 200.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/health",
    tag = "health",
    operation_id = "health",
    responses((status = 200, description = "`healthy`, `degraded` or `unhealthy`, with each check", body = HealthStatus)),
))]
async fn health(State(state): State<PrismiqState>) -> Json<HealthStatus> {
    let report = state.engine().health().await;
    let checks = report
        .checks
        .into_iter()
        .map(|check| {
            let entry = match check.outcome {
                Result::Ok(latency) => HealthCheck {
                    status: "healthy",
                    message: None,
                    latency_ms: Some(round2(latency.as_secs_f64() * 1000.0)),
                },
                Err(message) => HealthCheck {
                    status: "unhealthy",
                    message: Some(message),
                    latency_ms: None,
                },
            };
            (check.name, entry)
        })
        .collect();
    Json(HealthStatus {
        status: report.status.as_str(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: round2(state.uptime_seconds()),
        checks,
    })
}

/// Liveness: the process answers.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    operation_id = "health_live",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Ok)),
))]
async fn live() -> Json<Ok> {
    Json(Ok { status: "ok" })
}

/// Readiness: ready when every critical backend (store, data source) answers.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    operation_id = "health_ready",
    responses(
        (status = 200, description = "`{\"status\": \"ok\"}`", body = Ok),
        (status = 503, response = crate::error_responses::Unavailable),
    ),
))]
async fn ready(State(state): State<PrismiqState>) -> Result<Json<Ok>, ApiError> {
    if let Some((name, message)) = state.engine().health().await.not_ready() {
        return Err(ApiError::Unavailable(format!(
            "Service not ready: {name}: {message}"
        )));
    }
    Result::Ok(Json(Ok { status: "ok" }))
}
