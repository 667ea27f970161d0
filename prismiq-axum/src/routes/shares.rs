//! Share links: `/dashboards/{id}/shares` for the dashboard's owner (behind the host's auth),
//! and the public [`shared_router`](crate::shared_router) that reads through a token.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use prismiq_core::{
    AuthContext, CreatedShare, EngineError, FilterValue, QueryResult, Share, ShareCreate, ShareId,
    SharedDashboard, WidgetId,
};
use serde::Serialize;

use super::{SuccessResponse, dashboard_id, parse_id};
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
        .route(
            "/dashboards/{dashboard_id}/shares",
            get(list::<A>).post(create::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/shares/{share_id}",
            delete(revoke::<A>),
        )
}

/// The public routes: no host auth, only the token.
pub(crate) fn public_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/{token}", get(shared))
        .route("/{token}/events", get(shared_events))
        .route("/{token}/widgets/{widget_id}/execute", post(shared_execute))
}

/// Creates a share link of a dashboard the caller owns (or administers).
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/{dashboard_id}/shares",
    tag = "shares",
    operation_id = "create_share",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    request_body = ShareCreate,
    responses(
        (status = 201, description = "The link, with its token: the only time the token is shown", body = CreatedShare),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn create<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<ShareCreate>,
) -> Result<(StatusCode, Json<CreatedShare>), ApiError> {
    let id = dashboard_id(&raw)?;
    let created = state.engine().create_share(&auth, id, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The body of `GET /dashboards/{id}/shares`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct ShareList {
    shares: Vec<Share>,
}

/// The share links of a dashboard the caller owns (or administers), without tokens.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/shares",
    tag = "shares",
    operation_id = "list_shares",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)")),
    responses(
        (status = 200, description = "`{\"shares\": [...]}`", body = ShareList),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(raw): Path<String>,
) -> Result<Json<ShareList>, ApiError> {
    let id = dashboard_id(&raw)?;
    Ok(Json(ShareList {
        shares: state.engine().list_shares(&auth, id).await?,
    }))
}

/// Revokes a share link, at once on every instance.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/dashboards/{dashboard_id}/shares/{share_id}",
    tag = "shares",
    operation_id = "revoke_share",
    params(
        ("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
        ("share_id" = String, Path, description = "The link's id"),
    ),
    responses(
        (status = 200, description = "`{\"success\": true, \"message\": ...}`", body = super::SuccessResponse),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
    ),
    security(("tenant_header" = [])),
))]
async fn revoke<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((raw, share)): Path<(String, String)>,
) -> Result<Json<SuccessResponse>, ApiError> {
    let id = dashboard_id(&raw)?;
    let share: ShareId = parse_id(&share, |_| EngineError::ShareNotFound)?;
    state.engine().revoke_share(&auth, id, share).await?;
    Ok(Json(SuccessResponse::new(format!(
        "Share link '{share}' revoked"
    ))))
}

/// The dashboard of a share link, read-only. No auth: the token is the credential.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}",
    tag = "shares",
    operation_id = "get_shared_dashboard",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "The dashboard, without owner or viewers", body = SharedDashboard),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
))]
async fn shared(
    State(state): State<PrismiqState>,
    Path(token): Path<String>,
    #[cfg(feature = "render")] headers: axum::http::HeaderMap,
    #[cfg(feature = "render")] axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<axum::response::Response, ApiError> {
    // A browser opening the link gets the dashboard's page.
    #[cfg(feature = "render")]
    if super::render::wants_html(&headers) {
        // The page's address is the link's root: its pictures are below the token.
        let downloads = format!("{token}/");
        return super::render::page(
            state,
            super::render::Source::Share(&token),
            query,
            &downloads,
            true,
        )
        .await;
    }
    Ok(Json::<SharedDashboard>(state.engine().shared_dashboard(&token).await?).into_response())
}

/// Live events of a share link's dashboard as server-sent events (as `GET /events` sends them,
/// without tenant or acting user): its fields, widgets and layout changing, its deletion. The
/// stream ends when the link is revoked or expires. Resume with `Last-Event-ID` or
/// `?last_event_id=`. No auth: the token is the credential.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}/events",
    tag = "shares",
    operation_id = "shared_events",
    params(
        ("token" = String, Path, description = "The link's token"),
        ("last_event_id" = Option<u64>, Query, description = "Resume after this event id"),
    ),
    responses(
        (status = 200, description = "`text/event-stream` of `Event`s of the dashboard", body = prismiq_core::events::Event, content_type = "text/event-stream"),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
        (status = 422, response = crate::error_responses::Unprocessable),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
))]
async fn shared_events(
    State(state): State<PrismiqState>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<axum::response::Response, ApiError> {
    let pairs = super::events::query_pairs(query.as_deref())?;
    let after = super::events::resume_after(&pairs, &headers)?;
    let stream = state.engine().subscribe_shared(&token, after).await?;
    Ok(super::events::sse(
        stream,
        state.engine().event_settings().heartbeat(),
    ))
}

/// Runs one widget of a share link's dashboard with the viewer's filter values (locked
/// filters always take the link's). No auth: the token is the credential.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/shared/{token}/widgets/{widget_id}/execute",
    tag = "shares",
    operation_id = "execute_shared_widget",
    params(
        ("token" = String, Path, description = "The link's token"),
        ("widget_id" = String, Path, description = "A widget of the link's dashboard"),
    ),
    request_body(content = Option<Vec<FilterValue>>, description = "Filter values; the body may be empty"),
    responses(
        (status = 200, description = "The widget's rows", body = QueryResult),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
))]
async fn shared_execute(
    State(state): State<PrismiqState>,
    Path((token, widget)): Path<(String, String)>,
    RawBody(body): RawBody,
) -> Result<Json<QueryResult>, ApiError> {
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    let values: Vec<FilterValue> = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        parse_json(&body)?
    };
    Ok(Json(
        state
            .engine()
            .execute_shared_widget(&token, widget, &values)
            .await?,
    ))
}
