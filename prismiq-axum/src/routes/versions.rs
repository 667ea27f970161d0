//! Dashboard versions over HTTP, and the conditional requests they make possible: `ETag` on
//! responses carrying one dashboard, `If-Match` on writes (412 when stale), `If-None-Match` on
//! `GET /dashboards/{id}` (304 when current).

use std::borrow::Cow;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{CACHE_CONTROL, ETAG, IF_MATCH, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::{AuthContext, Dashboard, DashboardVersion, Engine, VersionDiff, VersionsPage};
use serde::Deserialize;

use super::dashboard_id;
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
        .route("/dashboards/{dashboard_id}/versions", get(list::<A>))
        .route(
            "/dashboards/{dashboard_id}/versions/{version}",
            get(read::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/versions/{from}/diff/{to}",
            get(diff::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/versions/{version}/restore",
            post(restore::<A>),
        )
}

/// The `ETag` of a dashboard at `version`: `"<version>"`.
pub(crate) fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a number is a header value")
}

/// The version an `If-Match` header asks a write to expect: `None` without one (or with
/// `*`), a 400 when it is not an ETag this API gave (`"12"`, or weak `W/"12"`).
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    tag(text).map(Some).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "If-Match must be one ETag this API gave for the dashboard (\"12\"), got {text:?}"
        ))
    })
}

/// Whether an `If-None-Match` header names `version` (or `*`).
fn none_match_names(headers: &HeaderMap, version: u64) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || tag(t.trim()) == Some(version))
}

fn tag(text: &str) -> Option<u64> {
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// The engine for a write: one that expects the `If-Match` version, when there is one.
pub(crate) fn engine_for<'a>(
    state: &'a PrismiqState,
    headers: &HeaderMap,
) -> Result<Cow<'a, Engine>, ApiError> {
    Ok(match if_match(headers)? {
        Some(version) => Cow::Owned(state.engine().at_version(version)),
        None => Cow::Borrowed(state.engine()),
    })
}

/// A dashboard as a response, with its `ETag`.
pub(crate) fn with_etag(status: StatusCode, dashboard: Dashboard) -> Response {
    let tag = etag(dashboard.version);
    (status, [(ETAG, tag)], Json(dashboard)).into_response()
}

/// `GET /dashboards/{id}`: with an `If-None-Match` naming the current version, a 304 after
/// the permission check, read in one cheap statement; else the dashboard. Both carry the
/// `ETag` and `Cache-Control: private, no-cache` (browsers revalidate rather than serve stale).
pub(crate) async fn read_dashboard(
    state: &PrismiqState,
    auth: &dyn AuthContext,
    raw_id: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let id = dashboard_id(raw_id)?;
    let cache = (CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if headers.contains_key(IF_NONE_MATCH) {
        let version = state.engine().dashboard_version(auth, id).await?;
        if none_match_names(headers, version) {
            return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag(version)), cache]).into_response());
        }
    }
    let document = state.engine().get_dashboard_json(auth, id).await?;
    let tag = etag(document.version);
    Ok((
        [
            (ETAG, tag),
            cache,
            (
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        document.into_string(),
    )
        .into_response())
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
struct ListParams {
    /// How many versions (1 to 100, default 20).
    #[serde(default = "twenty")]
    limit: u32,
    /// The `next_cursor` of the page before.
    #[serde(default)]
    cursor: Option<u64>,
}

fn twenty() -> u32 {
    20
}

/// The versions of a dashboard, newest first, without their documents.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/versions",
    tag = "dashboards",
    operation_id = "list_dashboard_versions",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"), ListParams),
    responses(
        (status = 200, description = "A page of versions", body = VersionsPage),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn list<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<VersionsPage>, ApiError> {
    let id = dashboard_id(&id)?;
    Ok(Json(
        state
            .engine()
            .list_versions(&auth, id, params.limit, params.cursor)
            .await?,
    ))
}

fn version_number(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::validation(
            "int_parsing",
            vec!["path".into(), "version".into()],
            "a version is a positive whole number",
            serde_json::Value::String(raw.chars().take(40).collect()),
        )
    })
}

/// One version of a dashboard, with the whole dashboard as it was.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/versions/{version}",
    tag = "dashboards",
    operation_id = "get_dashboard_version",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
           ("version" = u64, Path, description = "The version")),
    responses(
        (status = 200, description = "The version and its document", body = DashboardVersion),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn read<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<DashboardVersion>, ApiError> {
    let id = dashboard_id(&id)?;
    let version = version_number(&version)?;
    Ok(Json(state.engine().get_version(&auth, id, version).await?))
}

/// How version `from` became version `to`: an RFC 6902 JSON Patch and a summary.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/versions/{from}/diff/{to}",
    tag = "dashboards",
    operation_id = "diff_dashboard_versions",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
           ("from" = u64, Path, description = "The version the patch applies to"),
           ("to" = u64, Path, description = "The version it gives")),
    responses(
        (status = 200, description = "The patch and its summary", body = VersionDiff),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn diff<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((id, from, to)): Path<(String, String, String)>,
) -> Result<Json<VersionDiff>, ApiError> {
    let id = dashboard_id(&id)?;
    let (from, to) = (version_number(&from)?, version_number(&to)?);
    Ok(Json(
        state.engine().diff_versions(&auth, id, from, to).await?,
    ))
}

/// Makes a version's content the dashboard's again, as a new version; `If-Match` applies.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/dashboards/{dashboard_id}/versions/{version}/restore",
    tag = "dashboards",
    operation_id = "restore_dashboard_version",
    params(("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
           ("version" = u64, Path, description = "The version to restore"),
           ("If-Match" = Option<String>, Header, description = "The version the dashboard must be at (`\"12\"`)")),
    responses(
        (status = 200, description = "The dashboard as restored, a new version (its `ETag`)", body = Dashboard),
        (status = 403, response = crate::error_responses::Forbidden),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 412, description = "The dashboard is at another version than `If-Match` says; `current_version` in the body", body = crate::error_responses::ErrorDetail),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn restore<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = dashboard_id(&id)?;
    let version = version_number(&version)?;
    let dashboard = engine_for(&state, &headers)?
        .restore_version(&auth, id, version)
        .await?;
    Ok(with_etag(StatusCode::OK, dashboard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_as_versions() {
        assert_eq!(tag("\"12\""), Some(12));
        assert_eq!(tag("W/\"3\""), Some(3));
        assert_eq!(tag("12"), None);
        assert_eq!(tag("\"x\""), None);
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"1\", W/\"4\""));
        assert!(none_match_names(&headers, 4) && !none_match_names(&headers, 2));
        headers.insert(IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&headers).unwrap(), None);
        headers.insert(IF_MATCH, HeaderValue::from_static("\"7\""));
        assert_eq!(if_match(&headers).unwrap(), Some(7));
        headers.insert(IF_MATCH, HeaderValue::from_static("seven"));
        assert!(if_match(&headers).is_err());
    }
}
