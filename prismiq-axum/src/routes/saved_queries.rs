//! `/saved-queries`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, EngineError, SavedQuery, SavedQueryCreate, SavedQueryId, SavedQueryUpdate,
};
use serde::Serialize;

use super::{SuccessResponse, parse_id};
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
        .route("/saved-queries", get(list::<A>).post(create::<A>))
        .route(
            "/saved-queries/{query_id}",
            get(read::<A>).patch(update::<A>).delete(delete::<A>),
        )
}

fn query_id(raw: &str) -> Result<SavedQueryId, ApiError> {
    parse_id(raw, EngineError::SavedQueryNotFound)
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct SavedQueryList {
    queries: Vec<SavedQuery>,
}

/// The saved queries the caller may read.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/saved-queries",
    tag = "saved-queries",
    operation_id = "list_saved_queries",
    responses(
        (status = 200, description = "Own and shared saved queries", body = SavedQueryList),
    ),
    security(("tenant_header" = [])),
))]
async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<SavedQueryList>, ApiError> {
    let queries = state.engine().list_saved_queries(&auth).await?;
    Ok(Json(SavedQueryList { queries }))
}

/// One saved query.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/saved-queries/{query_id}",
    tag = "saved-queries",
    operation_id = "get_saved_query",
    params(("query_id" = String, Path, description = "The saved query's id (a UUID)")),
    responses(
        (status = 200, description = "The saved query", body = SavedQuery),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn read<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<SavedQuery>, ApiError> {
    let id = query_id(&id)?;
    Ok(Json(state.engine().get_saved_query(&auth, id).await?))
}

/// Saves a query.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/saved-queries",
    tag = "saved-queries",
    operation_id = "create_saved_query",
    request_body = SavedQueryCreate,
    responses(
        (status = 201, description = "The saved query", body = SavedQuery),
        (status = 409, response = crate::error_responses::Conflict),
    ),
    security(("tenant_header" = [])),
))]
async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<SavedQueryCreate>,
) -> Result<(StatusCode, Json<SavedQuery>), ApiError> {
    let query = state.engine().create_saved_query(&auth, body).await?;
    Ok((StatusCode::CREATED, Json(query)))
}

/// Changes a saved query (owner or admin).
#[cfg_attr(feature = "openapi", utoipa::path(
    patch,
    path = "/saved-queries/{query_id}",
    tag = "saved-queries",
    operation_id = "update_saved_query",
    params(("query_id" = String, Path, description = "The saved query's id (a UUID)")),
    request_body = SavedQueryUpdate,
    responses(
        (status = 200, description = "The changed saved query", body = SavedQuery),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 409, response = crate::error_responses::Conflict),
    ),
    security(("tenant_header" = [])),
))]
async fn update<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SavedQueryUpdate>,
) -> Result<Json<SavedQuery>, ApiError> {
    let id = query_id(&id)?;
    Ok(Json(
        state.engine().update_saved_query(&auth, id, body).await?,
    ))
}

/// Deletes a saved query (owner or admin).
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/saved-queries/{query_id}",
    tag = "saved-queries",
    operation_id = "delete_saved_query",
    params(("query_id" = String, Path, description = "The saved query's id (a UUID)")),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": \"Saved query '<id>' deleted\"}`", body = super::SuccessResponse),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn delete<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(raw): Path<String>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let id = query_id(&raw)?;
    state.engine().delete_saved_query(&auth, id).await?;
    Ok(Json(SuccessResponse::new(format!(
        "Saved query '{raw}' deleted"
    ))))
}
