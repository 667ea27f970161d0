//! `/pins` and `/dashboards/{id}/pins`: a user's pinned dashboards per context.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, EngineError, PinRequest, PinnedDashboard, PinnedDashboards, ReorderPinsRequest,
    UnpinRequest, Violation,
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

/// Pins a dashboard the caller may view in a context.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/pins",
    tag = "pins",
    operation_id = "pin_dashboard",
    request_body = PinRequest,
    responses(
        (status = 201, description = "The pin", body = PinnedDashboard),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 409, response = crate::error_responses::Conflict),
    ),
    security(("tenant_header" = [])),
))]
async fn pin<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<PinRequest>,
) -> Result<(StatusCode, Json<PinnedDashboard>), ApiError> {
    let pin = state.engine().pin_dashboard(&auth, body).await?;
    Ok((StatusCode::CREATED, Json(pin)))
}

/// Unpins a dashboard from a context.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/pins",
    tag = "pins",
    operation_id = "unpin_dashboard",
    request_body = UnpinRequest,
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": \"Dashboard unpinned successfully\"}`", body = super::SuccessResponse),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
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
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
struct ContextQuery {
    /// Where in the host app the pins are (1–100 characters).
    context: String,
}

/// The caller's pinned dashboards in a context, in order.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/pins",
    tag = "pins",
    operation_id = "list_pins",
    params(ContextQuery),
    responses(
        (status = 200, description = "The dashboards and their pins, as parallel lists", body = PinnedDashboards),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiQuery(query): ApiQuery<ContextQuery>,
) -> Result<Json<PinnedDashboards>, ApiError> {
    match state.engine().list_pins(&auth, &query.context).await {
        Ok(pins) => Ok(Json(pins)),
        // A context read from the query string is located there, as other query-string errors.
        Err(EngineError::Invalid(Violation::PinContext(message))) => Err(ApiError::validation(
            "string_length",
            vec!["query".into(), "context".into()],
            message,
            query.context.into(),
        )),
        Err(err) => Err(err.into()),
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct PinContexts {
    contexts: Vec<String>,
}

/// The contexts the caller pinned a dashboard in.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/pins",
    tag = "pins",
    operation_id = "dashboard_pin_contexts",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    responses(
        (status = 200, description = "The contexts", body = PinContexts),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn contexts<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<PinContexts>, ApiError> {
    let id = dashboard_id(&id)?;
    let contexts = state.engine().dashboard_pin_contexts(&auth, id).await?;
    Ok(Json(PinContexts { contexts }))
}

/// Reorders the caller's pins in a context.
#[cfg_attr(feature = "openapi", utoipa::path(
    put,
    path = "/pins/order",
    tag = "pins",
    operation_id = "reorder_pins",
    request_body = ReorderPinsRequest,
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": \"Pins reordered successfully\"}`", body = super::SuccessResponse),
    ),
    security(("tenant_header" = [])),
))]
async fn reorder<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<ReorderPinsRequest>,
) -> Result<Json<SuccessResponse>, ApiError> {
    state.engine().reorder_pins(&auth, body).await?;
    Ok(Json(SuccessResponse::new("Pins reordered successfully")))
}
