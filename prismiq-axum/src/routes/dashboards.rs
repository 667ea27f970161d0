//! `/dashboards`: list, read, create, change, delete, export and import.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, Dashboard, DashboardCreate, DashboardExport, DashboardImport, DashboardUpdate,
};
use serde::Serialize;

use super::{SuccessResponse, dashboard_id};
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
        .route("/dashboards", get(list::<A>).post(create::<A>))
        .route("/dashboards/import", post(import::<A>))
        .route(
            "/dashboards/{dashboard_id}",
            get(read::<A>).patch(update::<A>).delete(delete::<A>),
        )
        .route("/dashboards/{dashboard_id}/export", get(export::<A>))
}

#[derive(Serialize)]
struct DashboardList {
    dashboards: Vec<Dashboard>,
}

async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<DashboardList>, ApiError> {
    let dashboards = state.engine().list_dashboards(&auth).await?;
    Ok(Json(DashboardList { dashboards }))
}

async fn read<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<Dashboard>, ApiError> {
    let id = dashboard_id(&id)?;
    Ok(Json(state.engine().get_dashboard(&auth, id).await?))
}

async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<DashboardCreate>,
) -> Result<(StatusCode, Json<Dashboard>), ApiError> {
    let dashboard = state.engine().create_dashboard(&auth, body).await?;
    Ok((StatusCode::CREATED, Json(dashboard)))
}

async fn update<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DashboardUpdate>,
) -> Result<Json<Dashboard>, ApiError> {
    let id = dashboard_id(&id)?;
    Ok(Json(
        state.engine().update_dashboard(&auth, id, body).await?,
    ))
}

async fn delete<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(raw): Path<String>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let id = dashboard_id(&raw)?;
    state.engine().delete_dashboard(&auth, id).await?;
    Ok(Json(SuccessResponse::new(format!(
        "Dashboard '{raw}' deleted"
    ))))
}

async fn export<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<DashboardExport>, ApiError> {
    let id = dashboard_id(&id)?;
    Ok(Json(state.engine().export_dashboard(&auth, id).await?))
}

async fn import<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<DashboardImport>,
) -> Result<(StatusCode, Json<Dashboard>), ApiError> {
    let dashboard = state.engine().import_dashboard(&auth, body).await?;
    Ok((StatusCode::CREATED, Json(dashboard)))
}
