//! `/widget-types`, default dashboards (`/dashboards/default`, `/dashboards/{id}/default`) and
//! `/dashboards/summaries`.

use axum::extract::{FromRequestParts, Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use prismiq_core::catalogue::WidgetTypeInfo;
use prismiq_core::{AuthContext, Dashboard, SummariesPage};
use serde::{Deserialize, Serialize};

use super::{SuccessResponse, dashboard_id};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/widget-types", get(widget_types::<A>))
        .route(
            "/dashboards/default",
            get(default_dashboard::<A>).delete(clear_default::<A>),
        )
        .route("/dashboards/{dashboard_id}/default", put(set_default::<A>))
        .route("/dashboards/summaries", get(summaries::<A>))
}

/// The body of `GET /widget-types`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct WidgetTypes<'a> {
    types: Vec<WidgetTypeInfo<'a>>,
}

/// The widget types the caller may use: the built-in types and the host's, with sizes,
/// default config and config schema.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/widget-types",
    tag = "widgets",
    operation_id = "list_widget_types",
    responses(
        (status = 200, description = "`{\"types\": [...]}`", body = WidgetTypes<'static>),
    ),
    security(("tenant_header" = [])),
))]
async fn widget_types<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Json<serde_json::Value> {
    let engine = state.engine();
    let body = WidgetTypes {
        types: engine.widget_types(&auth),
    };
    Json(serde_json::to_value(body).expect("widget types serialize"))
}

/// Whose default a request sets or clears.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
struct ScopeQuery {
    /// `user` (the caller's own default, the default) or `tenant` (the tenant's; admins only).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    scope: DefaultScope,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
enum DefaultScope {
    #[default]
    User,
    Tenant,
}

/// The caller's default dashboard: their own if they can still view it, else the tenant's,
/// else a starter dashboard the host configured, created on this first visit.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/default",
    tag = "dashboards",
    operation_id = "get_default_dashboard",
    responses(
        (status = 200, description = "The default dashboard", body = Dashboard),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn default_dashboard<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<axum::response::Response, ApiError> {
    let dashboard = state.engine().default_dashboard(&auth).await?;
    Ok(super::versions::with_etag(
        axum::http::StatusCode::OK,
        dashboard,
    ))
}

/// Makes a dashboard the caller may view their default, or (`?scope=tenant`, admins) the
/// tenant's.
#[cfg_attr(feature = "openapi", utoipa::path(
    put,
    path = "/dashboards/{dashboard_id}/default",
    tag = "dashboards",
    operation_id = "set_default_dashboard",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"), ScopeQuery),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": ...}`", body = super::SuccessResponse),
        (status = 401, response = crate::error_responses::Unauthorized),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn set_default<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(raw): Path<String>,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let id = dashboard_id(&raw)?;
    let tenant = query.scope == DefaultScope::Tenant;
    state
        .engine()
        .set_default_dashboard(&auth, id, tenant)
        .await?;
    Ok(Json(SuccessResponse::new(format!(
        "Dashboard '{raw}' is the {} default",
        if tenant { "tenant's" } else { "caller's" }
    ))))
}

/// Removes the caller's default, or (`?scope=tenant`, admins) the tenant's.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/dashboards/default",
    tag = "dashboards",
    operation_id = "clear_default_dashboard",
    params(ScopeQuery),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": ...}`", body = super::SuccessResponse),
        (status = 401, response = crate::error_responses::Unauthorized),
        (status = 403, response = crate::error_responses::Forbidden),
    ),
    security(("tenant_header" = [])),
))]
async fn clear_default<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiQuery(query): ApiQuery<ScopeQuery>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let tenant = query.scope == DefaultScope::Tenant;
    state
        .engine()
        .clear_default_dashboard(&auth, tenant)
        .await?;
    Ok(Json(SuccessResponse::new(if tenant {
        "The tenant's default dashboard is cleared"
    } else {
        "The caller's default dashboard is cleared"
    })))
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
struct SummariesQuery {
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    limit: Option<usize>,
    /// The previous page's `next_cursor`.
    #[serde(default)]
    cursor: Option<String>,
}

/// Summaries of the dashboards the caller may view, without widgets: their default first,
/// then by last change, newest first, a page at a time.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/summaries",
    tag = "dashboards",
    operation_id = "list_dashboard_summaries",
    params(SummariesQuery),
    responses(
        (status = 200, description = "One page", body = SummariesPage),
        (status = 400, response = crate::error_responses::BadRequest),
    ),
    security(("tenant_header" = [])),
))]
async fn summaries<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiQuery(query): ApiQuery<SummariesQuery>,
) -> Result<Json<SummariesPage>, ApiError> {
    Ok(Json(
        state
            .engine()
            .dashboard_summaries(&auth, query.limit, query.cursor.as_deref())
            .await?,
    ))
}
