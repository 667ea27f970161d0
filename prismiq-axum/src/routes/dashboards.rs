//! `/dashboards`: list, read, create, change, delete, export and import.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, Dashboard, DashboardExport, DashboardImport, DashboardJson, DashboardUpdate,
};
#[cfg(feature = "openapi")]
use prismiq_core::{DashboardCreate, DashboardFromTemplate};

use super::{JsonText, SuccessResponse, dashboard_id};
use crate::error::ApiError;
use crate::extract::{ApiJson, RawBody, parse_json};
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

/// The body of `GET /dashboards`, for the OpenAPI document (the route writes it from the
/// store's JSON documents).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct DashboardList {
    dashboards: Vec<Dashboard>,
}

/// The dashboards the caller may view. The store builds each one's JSON (see `DashboardJson`).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards",
    tag = "dashboards",
    operation_id = "list_dashboards",
    responses(
        (status = 200, description = "Dashboards with their widgets", body = DashboardList),
    ),
    security(("tenant_header" = [])),
))]
async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
) -> Result<JsonText, ApiError> {
    let documents = state.engine().list_dashboards_json(&auth).await?;
    Ok(JsonText(DashboardJson::list_body(&documents)))
}

/// One dashboard with its widgets. The store builds the JSON (see `DashboardJson`).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}",
    tag = "dashboards",
    operation_id = "get_dashboard",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn read<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    super::versions::read_dashboard(&state, &auth, &id, &headers).await
}

/// The body of `POST /dashboards`: a dashboard, or a template to make one from.
#[cfg(feature = "openapi")]
struct CreateBody;

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for CreateBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::{Ref, RefOr, schema::AnyOfBuilder};
        AnyOfBuilder::new()
            .item(RefOr::Ref(Ref::from_schema_name(DashboardCreate::name())))
            .item(RefOr::Ref(Ref::from_schema_name(
                DashboardFromTemplate::name(),
            )))
            .description(Some(
                "A dashboard to create, or (with `from_template`) a template to make it from",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for CreateBody {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::{PartialSchema, ToSchema};
        schemas.push((DashboardCreate::name().into(), DashboardCreate::schema()));
        <DashboardCreate as ToSchema>::schemas(schemas);
        schemas.push((
            DashboardFromTemplate::name().into(),
            DashboardFromTemplate::schema(),
        ));
    }
}

/// Creates a dashboard, with initial widgets and filters, or (with `from_template`) from a
/// template.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards",
    tag = "dashboards",
    operation_id = "create_dashboard",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new dashboard", body = Dashboard),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 409, response = crate::error_responses::Conflict),
    ),
    security(("tenant_header" = [])),
))]
async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    RawBody(body): RawBody,
) -> Result<axum::response::Response, ApiError> {
    let engine = state.engine();
    let dashboard = if names_template(&body) {
        engine
            .create_dashboard_from_template(&auth, parse_json(&body)?)
            .await?
    } else {
        engine.create_dashboard(&auth, parse_json(&body)?).await?
    };
    Ok(super::versions::with_etag(StatusCode::CREATED, dashboard))
}

/// Whether a create body is a JSON object with a `from_template` key.
fn names_template(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        from_template: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(body).is_ok_and(|probe| probe.from_template.is_some())
}

/// Changes a dashboard; with `widgets`, saves the whole dashboard in one transaction.
#[cfg_attr(feature = "openapi", utoipa::path(
    patch,
    path = "/dashboards/{dashboard_id}",
    tag = "dashboards",
    operation_id = "update_dashboard",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    request_body = DashboardUpdate,
    responses(
        (status = 200, description = "The changed dashboard", body = Dashboard),
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
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<DashboardUpdate>,
) -> Result<axum::response::Response, ApiError> {
    let id = dashboard_id(&id)?;
    let dashboard = super::versions::engine_for(&state, &headers)?
        .update_dashboard(&auth, id, body)
        .await?;
    Ok(super::versions::with_etag(StatusCode::OK, dashboard))
}

/// Deletes a dashboard and its widgets.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/dashboards/{dashboard_id}",
    tag = "dashboards",
    operation_id = "delete_dashboard",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": \"Dashboard '<id>' deleted\"}`", body = super::SuccessResponse),
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
    let id = dashboard_id(&raw)?;
    state.engine().delete_dashboard(&auth, id).await?;
    Ok(Json(SuccessResponse::new(format!(
        "Dashboard '{raw}' deleted"
    ))))
}

/// The portable form of a dashboard.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/export",
    tag = "dashboards",
    operation_id = "export_dashboard",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    responses(
        (status = 200, description = "The export", body = DashboardExport),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn export<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
) -> Result<Json<DashboardExport>, ApiError> {
    let id = dashboard_id(&id)?;
    Ok(Json(state.engine().export_dashboard(&auth, id).await?))
}

/// Creates a dashboard from an export.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/import",
    tag = "dashboards",
    operation_id = "import_dashboard",
    request_body = DashboardImport,
    responses(
        (status = 201, description = "The new dashboard", body = Dashboard),
        (status = 409, response = crate::error_responses::Conflict),
    ),
    security(("tenant_header" = [])),
))]
async fn import<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<DashboardImport>,
) -> Result<axum::response::Response, ApiError> {
    let dashboard = state.engine().import_dashboard(&auth, body).await?;
    Ok(super::versions::with_etag(StatusCode::CREATED, dashboard))
}
