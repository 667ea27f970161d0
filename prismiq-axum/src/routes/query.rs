//! `/query/*`, widget execution, column samples and `/metrics/trend`.

use axum::extract::{FromRequestParts, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::custom_sql::SqlValidation;
use prismiq_core::query::{QueryDefinition, ValidationResult};
use prismiq_core::{
    AuthContext, EngineError, ExecuteSqlRequest, FilterValue, MetricTrendRequest, QueryResult,
    TimeSeriesRequest, TrendResult, WidgetId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{dashboard_id, parse_id};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, RawBody, parse_json};
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/query/validate", post(validate::<A>))
        .route("/query/validate/detailed", post(validate_detailed::<A>))
        .route("/query/sql", post(sql::<A>))
        .route("/query/execute", post(execute::<A>))
        .route("/query/preview", post(preview::<A>))
        .route("/query/execute/timeseries", post(timeseries::<A>))
        .route("/query/validate-sql", post(validate_sql::<A>))
        .route("/query/execute-sql", post(execute_sql::<A>))
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/execute",
            post(execute_widget::<A>),
        )
        .route("/tables/{table}/columns/{column}/sample", get(sample::<A>))
        .route("/metrics/trend", post(metric_trend::<A>))
        .route("/cache/invalidate", post(invalidate::<A>))
}

#[derive(Serialize)]
struct Validity {
    valid: bool,
    errors: Vec<String>,
}

async fn validate<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(def): ApiJson<QueryDefinition>,
) -> Result<Json<Validity>, ApiError> {
    let result = state.engine().validate_query(&auth, &def).await?;
    Ok(Json(Validity {
        valid: result.valid,
        errors: result.messages(),
    }))
}

#[derive(Serialize)]
struct Detailed {
    result: ValidationResult,
}

async fn validate_detailed<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(def): ApiJson<QueryDefinition>,
) -> Result<Json<Detailed>, ApiError> {
    let result = state.engine().validate_query(&auth, &def).await?;
    Ok(Json(Detailed { result }))
}

#[derive(Serialize)]
struct Sql {
    sql: String,
}

async fn sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(def): ApiJson<QueryDefinition>,
) -> Result<Json<Sql>, ApiError> {
    let sql = state.engine().query_sql(&auth, &def).await?;
    Ok(Json(Sql { sql }))
}

#[derive(Deserialize)]
struct ExecuteRequest {
    query: QueryDefinition,
    #[serde(default)]
    bypass_cache: bool,
}

/// A result with the cache facts of `/query/execute`.
#[derive(Serialize)]
struct CachedResult {
    #[serde(flatten)]
    result: QueryResult,
    cached_at: Option<f64>,
    is_from_cache: bool,
}

async fn execute<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<Json<CachedResult>, ApiError> {
    let executed = state
        .engine()
        .execute_query_cached(&auth, &request.query, request.bypass_cache)
        .await?;
    Ok(Json(CachedResult {
        result: executed.result,
        cached_at: executed.cached_at,
        is_from_cache: executed.is_from_cache,
    }))
}

#[derive(Deserialize)]
struct PreviewParams {
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct PreviewRequest {
    query: QueryDefinition,
    #[serde(default)]
    limit: Option<usize>,
}

const DEFAULT_PREVIEW_LIMIT: usize = 100;

/// Accepts the contract's `{"query", "limit"}` body and the React client's bare query with
/// `?limit=`.
async fn preview<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiQuery(params): ApiQuery<PreviewParams>,
    RawBody(body): RawBody,
) -> Result<Json<QueryResult>, ApiError> {
    let wrapped = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| o.contains_key("query") && !o.contains_key("tables"))
        })
        .unwrap_or(false);
    let (def, limit) = if wrapped {
        let request: PreviewRequest = parse_json(&body)?;
        (request.query, request.limit.or(params.limit))
    } else {
        (parse_json::<QueryDefinition>(&body)?, params.limit)
    };
    let limit = limit.unwrap_or(DEFAULT_PREVIEW_LIMIT);
    Ok(Json(
        state.engine().preview_query(&auth, &def, limit).await?,
    ))
}

async fn timeseries<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<TimeSeriesRequest>,
) -> Result<Json<QueryResult>, ApiError> {
    Ok(Json(
        state.engine().execute_timeseries(&auth, request).await?,
    ))
}

/// The body is a bare array of filter values, or nothing at all.
async fn execute_widget<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, widget)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Json<QueryResult>, ApiError> {
    let dashboard = dashboard_id(&dashboard)?;
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    let values: Vec<FilterValue> = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        parse_json(&body)?
    };
    Ok(Json(
        state
            .engine()
            .execute_widget(&auth, dashboard, widget, &values)
            .await?,
    ))
}

#[derive(Deserialize)]
struct SampleParams {
    #[serde(default = "five")]
    limit: usize,
}

fn five() -> usize {
    5
}

#[derive(Serialize)]
struct Samples {
    values: Vec<Value>,
}

async fn sample<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((table, column)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<SampleParams>,
) -> Result<Json<Samples>, ApiError> {
    let values = state
        .engine()
        .sample_values(&auth, &table, &column, params.limit)
        .await?;
    Ok(Json(Samples { values }))
}

async fn metric_trend<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<MetricTrendRequest>,
) -> Result<Json<TrendResult>, ApiError> {
    Ok(Json(state.engine().metric_trend(&auth, request).await?))
}

#[derive(Deserialize, Default)]
struct InvalidateRequest {
    #[serde(default)]
    table: Option<String>,
}

#[derive(Serialize)]
struct Invalidated {
    success: bool,
    message: String,
}

/// Drops the caller's tenant's cached results (of one table, or all). Admins only.
async fn invalidate<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    RawBody(body): RawBody,
) -> Result<Json<Invalidated>, ApiError> {
    let request: InvalidateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        InvalidateRequest::default()
    } else {
        parse_json(&body)?
    };
    state
        .engine()
        .invalidate_tenant_cache(&auth, request.table.as_deref())
        .await?;
    let message = match &request.table {
        Some(table) => format!("Cached results of table '{table}' invalidated"),
        None => "Cached results invalidated".to_owned(),
    };
    Ok(Json(Invalidated {
        success: true,
        message,
    }))
}

#[derive(Deserialize)]
struct ValidateSqlRequest {
    sql: String,
}

async fn validate_sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<ValidateSqlRequest>,
) -> Result<Json<SqlValidation>, ApiError> {
    Ok(Json(
        state.engine().validate_sql(&auth, &request.sql).await?,
    ))
}

async fn execute_sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<ExecuteSqlRequest>,
) -> Result<Json<QueryResult>, ApiError> {
    Ok(Json(state.engine().execute_sql(&auth, &request).await?))
}
