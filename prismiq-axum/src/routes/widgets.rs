//! `/dashboards/{id}/widgets` and `/dashboards/{id}/layout`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::routing::{patch, post, put};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, Dashboard, EngineError, LayoutItem, Widget, WidgetCreate, WidgetId, WidgetUpdate,
};

use super::versions::{engine_for, with_etag};
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

/// Adds a widget to a dashboard.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/{dashboard_id}/widgets",
    tag = "widgets",
    operation_id = "create_widget",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    request_body = WidgetCreate,
    responses(
        (status = 201, description = "The new widget", body = Widget),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WidgetCreate>,
) -> Result<(StatusCode, Json<Widget>), ApiError> {
    let id = dashboard_id(&id)?;
    let widget = engine_for(&state, &headers)?
        .add_widget(&auth, id, body)
        .await?;
    Ok((StatusCode::CREATED, Json(widget)))
}

/// Changes a widget of the dashboard (PATCH, or PUT as the React client sends).
#[cfg_attr(feature = "openapi", utoipa::path(
    method(patch, put),
    path = "/dashboards/{dashboard_id}/widgets/{widget_id}",
    tag = "widgets",
    operation_id = "update_widget",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"), ("widget_id" = String, Path, description = "The widget's id (a UUID)")),
    request_body = WidgetUpdate,
    responses(
        (status = 200, description = "The changed widget", body = Widget),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn update<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, widget)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WidgetUpdate>,
) -> Result<Json<Widget>, ApiError> {
    let (dashboard, widget) = ids(&dashboard, &widget)?;
    Ok(Json(
        engine_for(&state, &headers)?
            .update_widget(&auth, dashboard, widget, body)
            .await?,
    ))
}

/// Deletes a widget of the dashboard.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/dashboards/{dashboard_id}/widgets/{widget_id}",
    tag = "widgets",
    operation_id = "delete_widget",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"), ("widget_id" = String, Path, description = "The widget's id (a UUID)")),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": \"Widget '<id>' deleted\"}`", body = super::SuccessResponse),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn delete<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, raw)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<SuccessResponse>, ApiError> {
    let (dashboard, widget) = ids(&dashboard, &raw)?;
    engine_for(&state, &headers)?
        .delete_widget(&auth, dashboard, widget)
        .await?;
    Ok(Json(SuccessResponse::new(format!(
        "Widget '{raw}' deleted"
    ))))
}

/// Copies a widget of the dashboard onto it.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/{dashboard_id}/widgets/{widget_id}/duplicate",
    tag = "widgets",
    operation_id = "duplicate_widget",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"), ("widget_id" = String, Path, description = "The widget's id (a UUID)")),
    responses(
        (status = 201, description = "The copy", body = Widget),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn duplicate<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((dashboard, widget)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Widget>), ApiError> {
    let (dashboard, widget) = ids(&dashboard, &widget)?;
    let copy = engine_for(&state, &headers)?
        .duplicate_widget(&auth, dashboard, widget)
        .await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

/// Moves widgets of the dashboard.
#[cfg_attr(feature = "openapi", utoipa::path(
    put,
    path = "/dashboards/{dashboard_id}/layout",
    tag = "widgets",
    operation_id = "update_layout",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    request_body(content = Vec<LayoutItem>, description = "A bare array of new positions"),
    responses(
        (status = 200, description = "The dashboard with its widgets moved", body = Dashboard),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn layout<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(items): ApiJson<Vec<LayoutItem>>,
) -> Result<axum::response::Response, ApiError> {
    let id = dashboard_id(&id)?;
    let dashboard = engine_for(&state, &headers)?
        .update_layout(&auth, id, items)
        .await?;
    Ok(with_etag(StatusCode::OK, dashboard))
}
