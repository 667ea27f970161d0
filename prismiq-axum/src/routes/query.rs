//! `/query/*`, widget execution, column samples and `/metrics/trend`.

use axum::extract::{FromRequestParts, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::QueryDefinition;
use prismiq_core::custom_sql::SqlValidation;
use prismiq_core::query::ValidationResult;
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Validity {
    valid: bool,
    errors: Vec<String>,
}

/// Checks a query against the caller's schema.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/validate",
    tag = "query",
    operation_id = "validate_query",
    request_body = QueryDefinition,
    responses(
        (status = 200, description = "Whether the query is valid, and the problems", body = Validity),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Detailed {
    result: ValidationResult,
}

/// Checks a query against the caller's schema, with codes, fields and suggestions.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/validate/detailed",
    tag = "query",
    operation_id = "validate_query_detailed",
    request_body = QueryDefinition,
    responses(
        (status = 200, description = "The full validation result", body = Detailed),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn validate_detailed<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(def): ApiJson<QueryDefinition>,
) -> Result<Json<Detailed>, ApiError> {
    let result = state.engine().validate_query(&auth, &def).await?;
    Ok(Json(Detailed { result }))
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Sql {
    sql: String,
}

/// The SQL a query compiles to.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/sql",
    tag = "query",
    operation_id = "query_sql",
    request_body = QueryDefinition,
    responses(
        (status = 200, description = "The SQL text, with `$n` placeholders", body = Sql),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(def): ApiJson<QueryDefinition>,
) -> Result<Json<Sql>, ApiError> {
    let sql = state.engine().query_sql(&auth, &def).await?;
    Ok(Json(Sql { sql }))
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ExecuteRequest {
    pub(crate) query: QueryDefinition,
    #[serde(default)]
    pub(crate) bypass_cache: bool,
}

/// A result with the cache facts of `/query/execute`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct CachedResult {
    #[serde(flatten)]
    result: QueryResult,
    cached_at: Option<f64>,
    is_from_cache: bool,
}

/// Runs a query, through the result cache.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/execute",
    tag = "query",
    operation_id = "execute_query",
    request_body = ExecuteRequest,
    responses(
        (status = 200, description = "The rows, with the cache facts", body = CachedResult),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
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
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
struct PreviewParams {
    limit: Option<usize>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct PreviewRequest {
    query: QueryDefinition,
    #[serde(default)]
    limit: Option<usize>,
}

/// The body of `/query/preview`: the contract's `{"query", "limit"}` or the React client's bare
/// query.
#[cfg(feature = "openapi")]
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "only describes the body `preview` reads")]
enum PreviewBody {
    /// The query with an optional row limit.
    Wrapped(PreviewRequest),
    /// The bare query; the limit comes from `?limit=`.
    Bare(QueryDefinition),
}

/// Accepts the contract's `{"query", "limit"}` body and the React client's bare query with
/// `?limit=`.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/preview",
    tag = "query",
    operation_id = "preview_query",
    summary = "Runs a query for a preview, with a row limit",
    params(PreviewParams),
    request_body = PreviewBody,
    responses(
        (status = 200, description = "At most `limit` rows (default 100)", body = QueryResult),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
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
    Ok(Json(
        state.engine().preview_query(&auth, &def, limit).await?,
    ))
}

/// Runs a query bucketed by a date column.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/execute/timeseries",
    tag = "query",
    operation_id = "execute_timeseries",
    request_body = TimeSeriesRequest,
    responses(
        (status = 200, description = "One row per bucket (and group)", body = QueryResult),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
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
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/{dashboard_id}/widgets/{widget_id}/execute",
    tag = "query",
    operation_id = "execute_widget",
    summary = "Runs a widget's query with the dashboard's filter values",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"), ("widget_id" = String, Path, description = "The widget's id (a UUID)")),
    request_body(content = Option<Vec<FilterValue>>, description = "The values of the dashboard's filters; the body may be empty"),
    responses(
        (status = 200, description = "The widget's rows", body = QueryResult),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
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
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
struct SampleParams {
    #[serde(default = "five")]
    limit: usize,
}

fn five() -> usize {
    5
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Samples {
    values: Vec<Value>,
}

/// Distinct values of a column, for filter pickers.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/tables/{table}/columns/{column}/sample",
    tag = "query",
    operation_id = "sample_column",
    params(("table" = String, Path, description = "The table name"), ("column" = String, Path, description = "The column name"), SampleParams),
    responses(
        (status = 200, description = "Up to `limit` distinct non-null values, ordered", body = Samples),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
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

/// A metric in the current period against an earlier one.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/metrics/trend",
    tag = "query",
    operation_id = "metric_trend",
    request_body = MetricTrendRequest,
    responses(
        (status = 200, description = "Current and previous values and the change", body = TrendResult),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
async fn metric_trend<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<MetricTrendRequest>,
) -> Result<Json<TrendResult>, ApiError> {
    Ok(Json(state.engine().metric_trend(&auth, request).await?))
}

#[derive(Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct InvalidateRequest {
    #[serde(default)]
    table: Option<String>,
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Invalidated {
    success: bool,
    message: String,
}

/// Drops the caller's tenant's cached results (of one table, or all). Admins only.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/cache/invalidate",
    tag = "cache",
    operation_id = "invalidate_cache",
    summary = "Drops the tenant's cached results (admins only)",
    request_body(content = Option<InvalidateRequest>, description = "A table to invalidate; the body may be empty (all tables)"),
    responses(
        (status = 200, description = "What was invalidated", body = Invalidated),
        (status = 403, response = crate::error_responses::Forbidden),
    ),
    security(("tenant_header" = [])),
))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct ValidateSqlRequest {
    sql: String,
}

/// Checks custom SQL: one read-only SELECT over the caller's tables.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/validate-sql",
    tag = "query",
    operation_id = "validate_sql",
    request_body = ValidateSqlRequest,
    responses(
        (status = 200, description = "Whether the SQL may run, the problems, and the tables it reads", body = SqlValidation),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn validate_sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<ValidateSqlRequest>,
) -> Result<Json<SqlValidation>, ApiError> {
    Ok(Json(
        state.engine().validate_sql(&auth, &request.sql).await?,
    ))
}

/// Runs custom SQL with parameters and dashboard filters.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/execute-sql",
    tag = "query",
    operation_id = "execute_sql",
    request_body = ExecuteSqlRequest,
    responses(
        (status = 200, description = "The rows", body = QueryResult),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
async fn execute_sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(request): ApiJson<ExecuteSqlRequest>,
) -> Result<Json<QueryResult>, ApiError> {
    Ok(Json(state.engine().execute_sql(&auth, &request).await?))
}
