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

async fn pivot(ApiJson(request): ApiJson<PivotRequest>) -> Result<Json<QueryResult>, ApiError> {
    prismiq_core::pivot(&request)
        .map(Json)
        .map_err(|err| ApiError::BadRequest(err.0))
}

async fn trend(
    ApiJson(request): ApiJson<TrendColumnRequest>,
) -> Result<Json<QueryResult>, ApiError> {
    prismiq_core::add_trend_column(&request)
        .map(Json)
        .map_err(|err| ApiError::BadRequest(err.0))
}
