//! `/schema`, `/tables` and the tenant's schema config.

use axum::extract::{FromRequestParts, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, DataSourceEntry, DatabaseSchema, EnhancedDatabaseSchema, EnhancedTableSchema,
    SchemaConfig, TableSchema,
};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/schema", get(schema::<A>))
        .route("/schema/enhanced", get(enhanced::<A>))
        .route("/schema/config", get(config::<A>).put(set_config::<A>))
        .route("/tables", get(tables::<A>))
        .route("/data-sources", get(data_sources::<A>))
        .route("/tables/{table}", get(table::<A>))
        .route("/tables/{table}/enhanced", get(enhanced_table::<A>))
}

/// The caller's schema as introspected, hidden tables included.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/schema",
    tag = "schema",
    operation_id = "get_schema",
    responses(
        (status = 200, description = "Tables, views and relationships", body = DatabaseSchema),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn schema<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<DatabaseSchema>, ApiError> {
    Ok(Json(state.engine().schema(&auth).await?))
}

/// The caller's schema as the tenant presents it: hidden parts left out, display names added.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/schema/enhanced",
    tag = "schema",
    operation_id = "get_enhanced_schema",
    responses(
        (status = 200, description = "Visible tables and relationships", body = EnhancedDatabaseSchema),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn enhanced<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<EnhancedDatabaseSchema>, ApiError> {
    Ok(Json(state.engine().enhanced_schema(&auth).await?))
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct TableList {
    tables: Vec<String>,
}

/// The names of the tables and views queries may use.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/tables",
    tag = "schema",
    operation_id = "list_tables",
    responses(
        (status = 200, description = "Table names, ordered", body = TableList),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn tables<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<TableList>, ApiError> {
    let tables = state.engine().table_names(&auth).await?;
    Ok(Json(TableList { tables }))
}

/// The tables the caller may query as the React client lists them: a bare array of
/// `{id, table, title, subtitle}`, `[]` without a data source.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/data-sources",
    tag = "schema",
    operation_id = "list_data_sources",
    responses(
        (status = 200, description = "One entry per visible table", body = Vec<DataSourceEntry>),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn data_sources<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<Vec<DataSourceEntry>>, ApiError> {
    Ok(Json(state.engine().data_sources(&auth).await?))
}

/// One table as introspected.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/tables/{table}",
    tag = "schema",
    operation_id = "get_table",
    params(("table" = String, Path, description = "The table name")),
    responses(
        (status = 200, description = "The table", body = TableSchema),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn table<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(name): Path<String>,
) -> Result<Json<TableSchema>, ApiError> {
    Ok(Json(state.engine().table(&auth, &name).await?))
}

/// One visible table as the tenant presents it.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/tables/{table}/enhanced",
    tag = "schema",
    operation_id = "get_enhanced_table",
    params(("table" = String, Path, description = "The table name")),
    responses(
        (status = 200, description = "The table", body = EnhancedTableSchema),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn enhanced_table<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(name): Path<String>,
) -> Result<Json<EnhancedTableSchema>, ApiError> {
    Ok(Json(state.engine().enhanced_table(&auth, &name).await?))
}

/// The tenant's schema config (admins only).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/schema/config",
    tag = "schema",
    operation_id = "get_schema_config",
    responses(
        (status = 200, description = "Display names, descriptions, formats and hidden parts", body = SchemaConfig),
        (status = 403, response = crate::error_responses::Forbidden),
    ),
    security(("tenant_header" = [])),
))]
async fn config<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<SchemaConfig>, ApiError> {
    Ok(Json(state.engine().schema_config(&auth).await?))
}

/// Replaces the tenant's schema config (admins only).
#[cfg_attr(feature = "openapi", utoipa::path(
    put,
    path = "/schema/config",
    tag = "schema",
    operation_id = "put_schema_config",
    request_body = SchemaConfig,
    responses(
        (status = 200, description = "The saved config", body = SchemaConfig),
        (status = 403, response = crate::error_responses::Forbidden),
    ),
    security(("tenant_header" = [])),
))]
async fn set_config<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(config): ApiJson<SchemaConfig>,
) -> Result<Json<SchemaConfig>, ApiError> {
    Ok(Json(state.engine().set_schema_config(&auth, config).await?))
}
