//! `/dashboards/{id}/widgets` and `/dashboards/{id}/layout`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post, put};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, Dashboard, EngineError, LayoutItem, Widget, WidgetCreate, WidgetId, WidgetUpdate,
};

use super::{SuccessResponse, dashboard_id, parse_id};
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
        .route("/dashboards/{dashboard_id}/widgets", post(create::<A>))
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}",
            // The React client sends PUT; the contract says PATCH. Both work.
            patch(update::<A>).put(update::<A>).delete(delete::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/duplicate",
            post(duplicate::<A>),
        )
        .route("/dashboards/{dashboard_id}/layout", put(layout::<A>))
}

fn ids(dashboard: &str, widget: &str) -> Result<(prismiq_core::DashboardId, WidgetId), ApiError> {
    Ok((
        dashboard_id(dashboard)?,
        parse_id(widget, EngineError::WidgetNotFound)?,
    ))
}

async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WidgetCreate>,
) -> Result<(StatusCode, Json<Widget>), ApiError> {
    let id = dashboard_id(&id)?;
    let widget = state.engine().add_widget(&auth, id, body).await?;
    Ok((StatusCode::CREATED, Json(widget)))
}

async fn update<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, widget)): Path<(String, String)>,
    ApiJson(body): ApiJson<WidgetUpdate>,
) -> Result<Json<Widget>, ApiError> {
    let (dashboard, widget) = ids(&dashboard, &widget)?;
    Ok(Json(
        state
            .engine()
            .update_widget(&auth, dashboard, widget, body)
            .await?,
    ))
}

async fn delete<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, raw)): Path<(String, String)>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let (dashboard, widget) = ids(&dashboard, &raw)?;
    state
        .engine()
        .delete_widget(&auth, dashboard, widget)
        .await?;
    Ok(Json(SuccessResponse::new(format!(
        "Widget '{raw}' deleted"
    ))))
}

async fn duplicate<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, widget)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Widget>), ApiError> {
    let (dashboard, widget) = ids(&dashboard, &widget)?;
    let copy = state
        .engine()
        .duplicate_widget(&auth, dashboard, widget)
        .await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

async fn layout<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    ApiJson(items): ApiJson<Vec<LayoutItem>>,
) -> Result<Json<Dashboard>, ApiError> {
    let id = dashboard_id(&id)?;
    Ok(Json(state.engine().update_layout(&auth, id, items).await?))
}
