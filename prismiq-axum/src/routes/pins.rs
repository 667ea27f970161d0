//! `/pins` and `/dashboards/{id}/pins`: a user's pinned dashboards per context.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, PinRequest, PinnedDashboard, PinnedDashboards, ReorderPinsRequest, UnpinRequest,
};
use serde::{Deserialize, Serialize};

use super::{SuccessResponse, dashboard_id};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/pins", get(list::<A>).post(pin::<A>).delete(unpin::<A>))
        .route("/pins/order", put(reorder::<A>))
        .route("/dashboards/{dashboard_id}/pins", get(contexts::<A>))
}

async fn pin<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<PinRequest>,
) -> Result<(StatusCode, Json<PinnedDashboard>), ApiError> {
    let pin = state.engine().pin_dashboard(&auth, body).await?;
    Ok((StatusCode::CREATED, Json(pin)))
}

async fn unpin<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<UnpinRequest>,
) -> Result<Json<SuccessResponse>, ApiError> {
    state.engine().unpin_dashboard(&auth, body).await?;
    Ok(Json(SuccessResponse::new(
        "Dashboard unpinned successfully",
    )))
}

#[derive(Deserialize)]
struct ContextQuery {
    context: String,
}

async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiQuery(query): ApiQuery<ContextQuery>,
) -> Result<Json<PinnedDashboards>, ApiError> {
    prismiq_core::check_context(&query.context).map_err(|msg| {
        ApiError::validation(
            "string_length",
            vec!["query".into(), "context".into()],
            msg,
            query.context.clone().into(),
        )
    })?;
    Ok(Json(state.engine().list_pins(&auth, &query.context).await?))
}

#[derive(Serialize)]
struct PinContexts {
    contexts: Vec<String>,
}

async fn contexts<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<PinContexts>, ApiError> {
    let id = dashboard_id(&id)?;
    let contexts = state.engine().dashboard_pin_contexts(&auth, id).await?;
    Ok(Json(PinContexts { contexts }))
}

async fn reorder<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<ReorderPinsRequest>,
) -> Result<Json<SuccessResponse>, ApiError> {
    state.engine().reorder_pins(&auth, body).await?;
    Ok(Json(SuccessResponse::new("Pins reordered successfully")))
}
