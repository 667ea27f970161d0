//! `/templates` and `/dashboards/{id}/template`: dashboard templates.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::{AuthContext, DashboardTemplate, TemplateCreate};
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
        .route("/templates", get(list::<A>))
        .route(
            "/templates/{template_id}",
            get(read::<A>).delete(delete::<A>),
        )
        .route("/dashboards/{dashboard_id}/template", post(save::<A>))
}

/// The body of `GET /templates`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct TemplateList {
    templates: Vec<DashboardTemplate>,
}

/// The templates the caller may use: the host's, then the tenant's.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/templates",
    tag = "templates",
    operation_id = "list_templates",
    responses((status = 200, description = "`{\"templates\": [...]}`", body = TemplateList)),
    security(("tenant_header" = [])),
))]
async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<Json<TemplateList>, ApiError> {
    Ok(Json(TemplateList {
        templates: state.engine().list_templates(&auth).await?,
    }))
}

/// One template: a host key or a tenant template's id.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/templates/{template_id}",
    tag = "templates",
    operation_id = "get_template",
    params(("template_id" = String, Path, description = "A host template's key or a tenant template's id")),
    responses(
        (status = 200, description = "The template", body = DashboardTemplate),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn read<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<DashboardTemplate>, ApiError> {
    Ok(Json(state.engine().get_template(&auth, &id).await?))
}

/// Deletes a tenant template (its creator or an admin); host templates cannot be deleted.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/templates/{template_id}",
    tag = "templates",
    operation_id = "delete_template",
    params(("template_id" = String, Path, description = "A tenant template's id")),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": ...}`", body = super::SuccessResponse),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn delete<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<SuccessResponse>, ApiError> {
    state.engine().delete_template(&auth, &id).await?;
    Ok(Json(SuccessResponse::new(format!(
        "Template '{id}' deleted"
    ))))
}

/// Saves a dashboard the caller may view as a template of their tenant.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/{dashboard_id}/template",
    tag = "templates",
    operation_id = "save_template",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    request_body = TemplateCreate,
    responses(
        (status = 201, description = "The new template", body = DashboardTemplate),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 409, response = crate::error_responses::Conflict),
    ),
    security(("tenant_header" = [])),
))]
async fn save<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<TemplateCreate>,
) -> Result<(StatusCode, Json<DashboardTemplate>), ApiError> {
    let id = dashboard_id(&raw)?;
    let template = state.engine().save_template(&auth, id, body).await?;
    Ok((StatusCode::CREATED, Json(template)))
}
