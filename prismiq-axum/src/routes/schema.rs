//! `/schema`, `/tables` and the tenant's schema config.

use axum::extract::{FromRequestParts, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, DatabaseSchema, EnhancedDatabaseSchema, EnhancedTableSchema, SchemaConfig,
    TableSchema,
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
        .route("/tables/{table}", get(table::<A>))
        .route("/tables/{table}/enhanced", get(enhanced_table::<A>))
}

async fn schema<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<DatabaseSchema>, ApiError> {
    Ok(Json(state.engine().schema(&auth).await?))
}

async fn enhanced<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<EnhancedDatabaseSchema>, ApiError> {
    Ok(Json(state.engine().enhanced_schema(&auth).await?))
}

#[derive(Serialize)]
struct TableList {
    tables: Vec<String>,
}

async fn tables<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<TableList>, ApiError> {
    let tables = state.engine().table_names(&auth).await?;
    Ok(Json(TableList { tables }))
}

async fn table<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(name): Path<String>,
) -> Result<Json<TableSchema>, ApiError> {
    Ok(Json(state.engine().table(&auth, &name).await?))
}

async fn enhanced_table<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(name): Path<String>,
) -> Result<Json<EnhancedTableSchema>, ApiError> {
    Ok(Json(state.engine().enhanced_table(&auth, &name).await?))
}

async fn config<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<SchemaConfig>, ApiError> {
    Ok(Json(state.engine().schema_config(&auth).await?))
}

async fn set_config<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(config): ApiJson<SchemaConfig>,
) -> Result<Json<SchemaConfig>, ApiError> {
    Ok(Json(state.engine().set_schema_config(&auth, config).await?))
}
