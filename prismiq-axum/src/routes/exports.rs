//! Exports: a query's, custom SQL's or widget's rows as a CSV, NDJSON or XLSX download (see
//! [`crate::export`] for the formats).

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prismiq_core::filter_params::{ParamError, as_filter_values, filter_values_from_params};
use prismiq_core::{
    AuthContext, Dashboard, EngineError, ExecuteSqlRequest, Export, FilterValue, WidgetId,
};

use super::dashboard_id;
use super::parse_id;
use super::query::ExecuteRequest;
use crate::error::ApiError;
use crate::export::{
    CsvOptions, ExportFormat, content_disposition, csv_chunks, file_chunks, file_name,
    ndjson_chunks, xlsx_file,
};
use crate::extract::ApiJson;
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/query/export", post(export_query::<A>))
        .route("/query/export-sql", post(export_sql::<A>))
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/export.csv",
            get(widget_csv::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/export.ndjson",
            get(widget_ndjson::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/export.xlsx",
            get(widget_xlsx::<A>),
        )
}

/// The exports of share links' widgets, for [`shared_router`](crate::shared_router).
pub(crate) fn public_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/{token}/widgets/{widget_id}/export.csv", get(shared_csv))
        .route(
            "/{token}/widgets/{widget_id}/export.ndjson",
            get(shared_ndjson),
        )
        .route("/{token}/widgets/{widget_id}/export.xlsx", get(shared_xlsx))
}

/// What an export request's query string asks for: the format (for the `/query` routes),
/// the CSV options, and the rest (filter values, for a widget).
struct Options {
    format: Option<ExportFormat>,
    csv: CsvOptions,
    pairs: Vec<(String, String)>,
}

fn bad_parameter(parameter: &str, message: impl Into<String>) -> ApiError {
    super::invalid_param(ParamError::new(parameter, message))
}

fn flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad_parameter(name, "must be true or false")),
    }
}

fn options(query: Option<&str>) -> Result<Options, ApiError> {
    let pairs = super::query_pairs(query)?;
    let mut options = Options {
        format: None,
        csv: CsvOptions::default(),
        pairs: Vec::new(),
    };
    for (name, value) in pairs {
        match name.as_str() {
            "format" => {
                options.format = Some(value.parse().map_err(|m: String| bad_parameter(&name, m))?);
            }
            "bom" => options.csv.bom = flag(&name, &value)?,
            "escape_formulas" => options.csv.escape_formulas = flag(&name, &value)?,
            _ => options.pairs.push((name, value)),
        }
    }
    Ok(options)
}

/// The download of `export` as `format`.
async fn download(
    export: Export,
    format: ExportFormat,
    csv: CsvOptions,
    default_name: &str,
) -> Result<Response, ApiError> {
    let name = file_name(export.title.as_deref().or(Some(default_name)), format);
    let (body, length) = match format {
        ExportFormat::Csv => (Body::from_stream(csv_chunks(export, csv)), None),
        ExportFormat::Ndjson => (Body::from_stream(ndjson_chunks(export)), None),
        _ => {
            let file = xlsx_file(export).await?;
            let length = file.metadata().ok().map(|m| m.len());
            (Body::from_stream(file_chunks(file)), length)
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&name)) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(length) = length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(response)
}

fn format_of(options: &Options) -> Result<ExportFormat, ApiError> {
    options
        .format
        .ok_or_else(|| bad_parameter("format", "is required: one of csv, ndjson, xlsx"))
}

/// Exports a query's rows as a file: the `/query/execute` body, `?format=csv|ndjson|xlsx`.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/export",
    tag = "query",
    operation_id = "export_query",
    params(ExportParams),
    request_body = ExecuteRequest,
    responses(
        (status = 200, description = "The rows as a file of the format asked for (CSV and NDJSON streamed)", content(
            (Vec<u8> = "text/csv; charset=utf-8"),
            (Vec<u8> = "application/x-ndjson"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
        (status = 429, response = crate::error_responses::TooManyRequests),
        (status = 503, response = crate::error_responses::Unavailable),
    ),
    security(("tenant_header" = [])),
))]
async fn export_query<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    RawQuery(query): RawQuery,
    ApiJson(request): ApiJson<ExecuteRequest>,
) -> Result<Response, ApiError> {
    let options = options(query.as_deref())?;
    let format = format_of(&options)?;
    let export = state.engine().export_query(&auth, &request.query).await?;
    download(export, format, options.csv, "query").await
}

/// Exports custom SQL's rows as a file: the `/query/execute-sql` body,
/// `?format=csv|ndjson|xlsx`.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/query/export-sql",
    tag = "query",
    operation_id = "export_sql",
    params(ExportParams),
    request_body = ExecuteSqlRequest,
    responses(
        (status = 200, description = "The rows as a file of the format asked for (CSV and NDJSON streamed)", content(
            (Vec<u8> = "text/csv; charset=utf-8"),
            (Vec<u8> = "application/x-ndjson"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
        (status = 429, response = crate::error_responses::TooManyRequests),
        (status = 503, response = crate::error_responses::Unavailable),
    ),
    security(("tenant_header" = [])),
))]
async fn export_sql<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    RawQuery(query): RawQuery,
    ApiJson(request): ApiJson<ExecuteSqlRequest>,
) -> Result<Response, ApiError> {
    let options = options(query.as_deref())?;
    let format = format_of(&options)?;
    let export = state.engine().export_sql(&auth, &request).await?;
    download(export, format, options.csv, "sql").await
}

/// The query parameters of the `/query` exports.
#[cfg(feature = "openapi")]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "only describes the parameters")]
struct ExportParams {
    /// `csv`, `ndjson` or `xlsx`.
    format: String,
    /// CSV: start with a UTF-8 byte order mark (for Excel). Default false.
    bom: Option<bool>,
    /// CSV: prefix text that starts with `=`, `+`, `-`, `@`, tab or CR with `'`. Default true.
    escape_formulas: Option<bool>,
}

async fn widget_export<A: AuthContext>(
    state: PrismiqState,
    auth: A,
    (dashboard, widget): (String, String),
    query: Option<String>,
    format: ExportFormat,
) -> Result<Response, ApiError> {
    let dashboard = dashboard_id(&dashboard)?;
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    let options = options(query.as_deref())?;
    let export = state
        .engine()
        .export_widget_with(&auth, dashboard, widget, |d| filter_values(&options, d))
        .await?;
    download(export, format, options.csv, "export").await
}

async fn shared_export(
    state: PrismiqState,
    (token, widget): (String, String),
    query: Option<String>,
    format: ExportFormat,
) -> Result<Response, ApiError> {
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    let options = options(query.as_deref())?;
    let export = state
        .engine()
        .export_shared_widget_with(&token, widget, |d| filter_values(&options, d))
        .await?;
    download(export, format, options.csv, "export").await
}

/// The filter values the request's `var-` parameters set for `dashboard`.
fn filter_values(options: &Options, dashboard: &Dashboard) -> Result<Vec<FilterValue>, ApiError> {
    filter_values_from_params(&options.pairs, &dashboard.filters)
        .map(|values| as_filter_values(&values))
        .map_err(super::invalid_param)
}

/// Declares one widget export route per format, with its OpenAPI description.
macro_rules! widget_routes {
    ($($name:ident, $shared:ident, $format:expr, $ext:literal, $media:literal;)*) => {$(
        #[doc = concat!("Exports a widget's rows as ", $ext, ", with the dashboard's filter values as `var-{filter id}` parameters.")]
        #[cfg_attr(feature = "openapi", utoipa::path(
            get,
            path = concat!("/dashboards/{dashboard_id}/widgets/{widget_id}/export.", $ext),
            tag = "dashboards",
            operation_id = concat!("export_widget_", $ext),
            summary = concat!("Exports a widget's rows as ", $ext),
            params(
                ("dashboard_id" = String, Path, description = "The dashboard"),
                ("widget_id" = String, Path, description = "A widget of the dashboard"),
            ),
            responses(
                (status = 200, description = "The widget's rows as a file", content_type = $media, body = Vec<u8>),
                (status = 403, response = crate::error_responses::Forbidden),
                (status = 404, response = crate::error_responses::NotFound),
                (status = 422, response = crate::error_responses::Unprocessable),
                (status = 429, response = crate::error_responses::TooManyRequests),
            ),
            security(("tenant_header" = [])),
        ))]
        async fn $name<A: AuthContext>(
            State(state): State<PrismiqState>,
            auth: A,
            Path(ids): Path<(String, String)>,
            RawQuery(query): RawQuery,
        ) -> Result<Response, ApiError> {
            widget_export(state, auth, ids, query, $format).await
        }

        #[doc = concat!("Exports a widget of a share link's dashboard as ", $ext, ", if the link allows exports; locked filters always take the link's values.")]
        #[cfg_attr(feature = "openapi", utoipa::path(
            get,
            path = concat!("/shared/{token}/widgets/{widget_id}/export.", $ext),
            tag = "shares",
            operation_id = concat!("export_shared_widget_", $ext),
            summary = concat!("Exports a widget of a share link's dashboard as ", $ext),
            params(
                ("token" = String, Path, description = "The link's token"),
                ("widget_id" = String, Path, description = "A widget of the link's dashboard"),
            ),
            responses(
                (status = 200, description = "The widget's rows as a file", content_type = $media, body = Vec<u8>),
                (status = 403, response = crate::error_responses::Forbidden),
                (status = 404, response = crate::error_responses::NotFound),
                (status = 410, response = crate::error_responses::Gone),
                (status = 422, response = crate::error_responses::Unprocessable),
                (status = 429, response = crate::error_responses::TooManyRequests),
            ),
        ))]
        async fn $shared(
            State(state): State<PrismiqState>,
            Path(ids): Path<(String, String)>,
            RawQuery(query): RawQuery,
        ) -> Result<Response, ApiError> {
            shared_export(state, ids, query, $format).await
        }
    )*};
}

widget_routes! {
    widget_csv, shared_csv, ExportFormat::Csv, "csv", "text/csv; charset=utf-8";
    widget_ndjson, shared_ndjson, ExportFormat::Ndjson, "ndjson", "application/x-ndjson";
    widget_xlsx, shared_xlsx, ExportFormat::Xlsx, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}
