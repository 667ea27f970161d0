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
struct SavedQueryList {
    queries: Vec<SavedQuery>,
}

async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<SavedQueryList>, ApiError> {
    let queries = state.engine().list_saved_queries(&auth).await?;
    Ok(Json(SavedQueryList { queries }))
}

async fn read<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<SavedQuery>, ApiError> {
    let id = query_id(&id)?;
    Ok(Json(state.engine().get_saved_query(&auth, id).await?))
}

async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<SavedQueryCreate>,
) -> Result<(StatusCode, Json<SavedQuery>), ApiError> {
    let query = state.engine().create_saved_query(&auth, body).await?;
    Ok((StatusCode::CREATED, Json(query)))
}

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
