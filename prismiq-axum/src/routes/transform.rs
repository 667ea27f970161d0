//! `/transform/pivot` and `/transform/trend`: reshaping a result the client already has. No
//! database access, so no auth.

use axum::routing::post;
use axum::{Json, Router};
use prismiq_core::{PivotRequest, QueryResult, TrendColumnRequest};

use crate::error::ApiError;
use crate::extract::ApiJson;

pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/transform/pivot", post(pivot))
        .route("/transform/trend", post(trend))
}

/// Pivots a result: one row per `row_column` value, one column per `pivot_column` value.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/transform/pivot",
    tag = "transforms",
    operation_id = "pivot",
    request_body = PivotRequest,
    responses(
        (status = 200, description = "The pivoted result", body = QueryResult),
        (status = 400, response = crate::error_responses::BadRequest),
    ),
))]
async fn pivot(ApiJson(request): ApiJson<PivotRequest>) -> Result<Json<QueryResult>, ApiError> {
    prismiq_core::pivot(&request)
        .map(Json)
        .map_err(|err| ApiError::BadRequest(err.0))
}

/// Adds a column with the change of a value from the row before.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/transform/trend",
    tag = "transforms",
    operation_id = "add_trend_column",
    request_body = TrendColumnRequest,
    responses(
        (status = 200, description = "The result with the trend column", body = QueryResult),
        (status = 400, response = crate::error_responses::BadRequest),
    ),
))]
async fn trend(
    ApiJson(request): ApiJson<TrendColumnRequest>,
) -> Result<Json<QueryResult>, ApiError> {
    prismiq_core::add_trend_column(&request)
        .map(Json)
        .map_err(|err| ApiError::BadRequest(err.0))
}
