//! Dashboards as pictures and as a page (feature `render`): a widget as SVG or PNG, the whole
//! dashboard as PNG or PDF, and the read-only HTML page — behind the host's auth, and through a
//! share link for that link's dashboard only. Same permission, tenant and cache rules as
//! `/dashboards/{id}/widgets/{wid}/execute`; the dashboard's filter values come as query
//! parameters (`var-{filter id}`, see [`prismiq_render::RenderParams`]).

use axum::Router;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prismiq_core::{AuthContext, Dashboard, DashboardData, EngineError, FilterValue, WidgetId};
use prismiq_render::{
    DashboardView, FilterState, Page, PageOptions, RenderParams, WidgetData, WidgetOptions, limits,
};
use serde_json::Value;

use super::{dashboard_id, parse_id};
use crate::error::ApiError;
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/dashboards/{dashboard_id}/view", get(view::<A>))
        .route(
            "/dashboards/{dashboard_id}/render.pdf",
            get(dashboard_pdf::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/render.png",
            get(dashboard_png::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/render.svg",
            get(widget_svg::<A>),
        )
        .route(
            "/dashboards/{dashboard_id}/widgets/{widget_id}/render.png",
            get(widget_png::<A>),
        )
}

/// The public routes of a share link: its page is `GET /{token}` answered as HTML (see
/// `shares.rs`); the pictures are here.
pub(crate) fn public_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/{token}/view", get(shared_view))
        .route("/{token}/render.pdf", get(shared_pdf))
        .route("/{token}/render.png", get(shared_png))
        .route(
            "/{token}/widgets/{widget_id}/render.svg",
            get(shared_widget_svg),
        )
        .route(
            "/{token}/widgets/{widget_id}/render.png",
            get(shared_widget_png),
        )
}

/// What a request draws: a widget, or the whole dashboard.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Widget(WidgetId),
    Dashboard,
}

/// The bounds of `width` and `height` for a subject.
fn bounds(subject: Subject) -> (std::ops::RangeInclusive<u32>, std::ops::RangeInclusive<u32>) {
    match subject {
        Subject::Widget(_) => (limits::WIDGET_SIZE, limits::WIDGET_SIZE),
        Subject::Dashboard => (limits::DASHBOARD_WIDTH, 1..=limits::DASHBOARD_MAX_HEIGHT),
    }
}

/// Where the data comes from.
pub(crate) enum Source<'a> {
    Auth(&'a dyn AuthContext, prismiq_core::DashboardId),
    Share(&'a str),
}

/// Reads the dashboard and runs its widgets (or one), with the filter values of `query`.
async fn load(
    state: &PrismiqState,
    source: Source<'_>,
    subject: Subject,
    query: Option<String>,
) -> Result<(DashboardView, RenderParams, Vec<(String, String)>), ApiError> {
    let pairs = super::query_pairs(query.as_deref())?;
    let mut params = RenderParams::default();
    let only = match subject {
        Subject::Widget(id) => Some(id),
        Subject::Dashboard => None,
    };
    let read = |dashboard: &Dashboard| -> Result<Vec<FilterValue>, ApiError> {
        let (width, height) = bounds(subject);
        params = RenderParams::parse(&pairs, &dashboard.filters, width, height)
            .map_err(super::invalid_param)?;
        Ok(params.filter_values())
    };
    let data = match source {
        Source::Auth(auth, id) => state.engine().dashboard_data(auth, id, only, read).await?,
        Source::Share(token) => {
            state
                .engine()
                .shared_dashboard_data(token, only, read)
                .await?
        }
    };
    Ok((view_of(data, &params), params, pairs))
}

/// The drawable view of a dashboard's data.
fn view_of(data: DashboardData, params: &RenderParams) -> DashboardView {
    let DashboardData {
        dashboard,
        widgets,
        locked_filters,
        ..
    } = data;
    let filters = dashboard
        .filters
        .iter()
        .map(|filter| {
            let locked = locked_filters.get(&filter.id);
            let value = locked
                .or_else(|| params.values.get(&filter.id))
                .cloned()
                .or_else(|| filter.default_value.clone())
                .or_else(|| filter.date_preset.clone().map(Value::String));
            FilterState {
                filter: filter.clone(),
                value,
                locked: locked.is_some(),
            }
        })
        .collect();
    let widgets = widgets
        .into_iter()
        .map(|outcome| {
            let data = match outcome.rows {
                None => WidgetData::Static,
                Some(Ok(result)) => WidgetData::Rows {
                    result,
                    trend: outcome.trend,
                },
                Some(Err(error)) => WidgetData::Failed(failure(error)),
            };
            (outcome.widget, data)
        })
        .collect();
    DashboardView {
        name: dashboard.name,
        description: dashboard.description,
        layout: dashboard.layout,
        widgets,
        filters,
        refresh_interval: dashboard.refresh_interval,
    }
}

/// What a viewer is told about a widget that failed: the reason when it is theirs to act on,
/// a generic sentence for the server's own failures (whose cause is logged).
fn failure(error: EngineError) -> String {
    let error = ApiError::from(error);
    if error.status().is_server_error() {
        tracing::warn!(error = %error, "a widget of a rendered dashboard failed");
        "The data could not be loaded right now; try again later.".to_owned()
    } else {
        error.to_string()
    }
}

/// Headers of every picture: its type, no sniffing, revalidated on each use, and (for SVG
/// opened on its own) no script or outside resource.
fn picture(content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
            (
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                HeaderName::from_static("content-security-policy"),
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Drawing is CPU work of a few to tens of milliseconds: off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "a rendering task failed");
        ApiError::Unavailable("the picture could not be drawn".into())
    })
}

fn render_failed(error: prismiq_render::RenderError) -> ApiError {
    tracing::error!(error = %error, "a picture could not be encoded");
    ApiError::Unavailable("the picture could not be drawn".into())
}

async fn widget_picture(
    state: PrismiqState,
    source: Source<'_>,
    widget: WidgetId,
    query: Option<String>,
    png: bool,
) -> Result<Response, ApiError> {
    let (view, params, _) = load(&state, source, Subject::Widget(widget), query).await?;
    let (widget, data) = view
        .widgets
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Engine(EngineError::WidgetNotFound(widget.to_string())))?;
    let natural = WidgetOptions::for_widget(&widget, &view.layout);
    let options = WidgetOptions::new(
        params.width.unwrap_or(natural.width),
        params.height.unwrap_or(natural.height),
    )
    .with_theme(params.theme);
    let renderer = state.renderer().clone();
    if png {
        let bytes = blocking(move || renderer.widget_png(&widget, &data, options, 1.0))
            .await?
            .map_err(render_failed)?;
        Ok(picture("image/png", bytes))
    } else {
        let svg = renderer.widget_svg(&widget, &data, options).svg;
        Ok(picture("image/svg+xml", svg.into_bytes()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Png,
    Pdf,
}

async fn dashboard_picture(
    state: PrismiqState,
    source: Source<'_>,
    query: Option<String>,
    format: Format,
) -> Result<Response, ApiError> {
    let (view, params, _) = load(&state, source, Subject::Dashboard, query).await?;
    let renderer = state.renderer().clone();
    let name = file_name(&view.name);
    let theme = params.theme;
    match format {
        Format::Png => {
            let width = params.width.unwrap_or(1200);
            let bytes = blocking(move || renderer.dashboard_png(&view, width, theme))
                .await?
                .map_err(render_failed)?;
            Ok(picture("image/png", bytes))
        }
        Format::Pdf => {
            let bytes = blocking(move || renderer.dashboard_pdf(&view, theme))
                .await?
                .map_err(render_failed)?;
            let mut response = picture("application/pdf", bytes);
            if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{name}.pdf\"")) {
                response.headers_mut().insert(CONTENT_DISPOSITION, value);
            }
            Ok(response)
        }
    }
}

/// A file name from a dashboard's name: ASCII letters and digits, words joined by `-`.
fn file_name(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let joined = words.join("-");
    let cut: String = joined.chars().take(80).collect();
    if cut.is_empty() {
        "dashboard".to_owned()
    } else {
        cut
    }
}

/// The page and its headers; with `html_errors` (a browser asking), a failure is a small
/// page saying what went wrong, with the error's status, rather than JSON.
pub(crate) async fn page(
    state: PrismiqState,
    source: Source<'_>,
    query: Option<String>,
    downloads: &str,
    html_errors: bool,
) -> Result<Response, ApiError> {
    let page = match load(&state, source, Subject::Dashboard, query).await {
        Ok((view, params, pairs)) => state.renderer().page(
            &view,
            &PageOptions::new(params.theme, &pairs).with_downloads(downloads),
        ),
        Err(error) if html_errors => return Ok(html_error(&error)),
        Err(error) => return Err(error),
    };
    Ok((page_headers(&page), page.html).into_response())
}

/// A failure as a small page saying what went wrong, with the error's status.
fn html_error(error: &ApiError) -> Response {
    let status = error.status();
    let message = match error {
        _ if status.is_server_error() => {
            "The dashboard could not be loaded right now; try again later.".to_owned()
        }
        ApiError::Validation(issues) => issues
            .iter()
            .map(|issue| {
                let what = issue
                    .loc
                    .last()
                    .and_then(Value::as_str)
                    .unwrap_or("request");
                format!("{what}: {}", issue.msg)
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    let page = prismiq_render::error_page(status.canonical_reason().unwrap_or("Error"), &message);
    (status, page_headers(&page), page.html).into_response()
}

/// The headers of a page: its type and policy, no caching without revalidation, no referrer.
fn page_headers(page: &Page) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    // A share page's address holds its token: links on it must not pass it on.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(policy) = HeaderValue::from_str(&page.content_security_policy) {
        headers.insert(HeaderName::from_static("content-security-policy"), policy);
    }
    headers
}

/// Whether a request prefers HTML (a browser opening the address) to JSON.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            let html = accept.find("text/html");
            let json = accept.find("application/json");
            html.is_some_and(|h| json.is_none_or(|j| h < j))
        })
}

/// The dashboard as a read-only HTML page: every widget an inline SVG, the filters a GET form
/// (`var-{filter id}` parameters), refreshing at the dashboard's interval; `?theme=dark` for
/// the dark theme.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/view",
    tag = "render",
    operation_id = "view_dashboard",
    params(
        ("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
        ("theme" = Option<String>, Query, description = "`light` (default) or `dark`"),
    ),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn view<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let html = wants_html(&headers);
    match dashboard_id(&id) {
        Ok(id) => page(state, Source::Auth(&auth, id), query, "", html).await,
        Err(error) if html => Ok(html_error(&error)),
        Err(error) => Err(error),
    }
}

/// The whole dashboard as a PDF of A4 landscape pages, cut between rows of widgets.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/render.pdf",
    tag = "render",
    operation_id = "render_dashboard_pdf",
    params(
        ("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
        ("theme" = Option<String>, Query, description = "`light` (default) or `dark`"),
    ),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn dashboard_pdf<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = dashboard_id(&id)?;
    dashboard_picture(state, Source::Auth(&auth, id), query, Format::Pdf).await
}

/// The whole dashboard as one PNG, following its grid (`?width=` 400–4000, default 1200).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/render.png",
    tag = "render",
    operation_id = "render_dashboard_png",
    params(
        ("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
        ("width" = Option<u32>, Query, description = "Width in pixels, 400 to 4000 (default 1200)"),
        ("theme" = Option<String>, Query, description = "`light` (default) or `dark`"),
    ),
    responses(
        (status = 200, description = "The PNG", content_type = "image/png", body = Vec<u8>),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn dashboard_png<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = dashboard_id(&id)?;
    dashboard_picture(state, Source::Auth(&auth, id), query, Format::Png).await
}

/// One widget as an SVG document (`?width=&height=` 100–4000, default its grid cell).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/widgets/{widget_id}/render.svg",
    tag = "render",
    operation_id = "render_widget_svg",
    params(
        ("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
        ("widget_id" = String, Path, description = "The widget's id (a UUID)"),
        ("width" = Option<u32>, Query, description = "Width in pixels, 100 to 4000"),
        ("height" = Option<u32>, Query, description = "Height in pixels, 100 to 4000"),
        ("theme" = Option<String>, Query, description = "`light` (default) or `dark`"),
    ),
    responses(
        (status = 200, description = "The SVG", content_type = "image/svg+xml", body = String),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn widget_svg<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((id, widget)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = dashboard_id(&id)?;
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    widget_picture(state, Source::Auth(&auth, id), widget, query, false).await
}

/// One widget as a PNG (`?width=&height=` 100–4000, default its grid cell).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/dashboards/{dashboard_id}/widgets/{widget_id}/render.png",
    tag = "render",
    operation_id = "render_widget_png",
    params(
        ("dashboard_id" = String, Path, description = "The dashboard's id (a UUID)"),
        ("widget_id" = String, Path, description = "The widget's id (a UUID)"),
        ("width" = Option<u32>, Query, description = "Width in pixels, 100 to 4000"),
        ("height" = Option<u32>, Query, description = "Height in pixels, 100 to 4000"),
        ("theme" = Option<String>, Query, description = "`light` (default) or `dark`"),
    ),
    responses(
        (status = 200, description = "The PNG", content_type = "image/png", body = Vec<u8>),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 422, response = crate::error_responses::Unprocessable),
    ),
    security(("tenant_header" = [])),
))]
async fn widget_png<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    Path((id, widget)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = dashboard_id(&id)?;
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    widget_picture(state, Source::Auth(&auth, id), widget, query, true).await
}

/// A share link's dashboard as the read-only page (also `GET /shared/{token}` with
/// `Accept: text/html`); locked filters are shown but not editable.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}/view",
    tag = "shares",
    operation_id = "shared_view",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
))]
async fn shared_view(
    State(state): State<PrismiqState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    page(
        state,
        Source::Share(&token),
        query,
        "",
        wants_html(&headers),
    )
    .await
}

/// A share link's dashboard as a PDF.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}/render.pdf",
    tag = "shares",
    operation_id = "shared_render_pdf",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
    ),
))]
async fn shared_pdf(
    State(state): State<PrismiqState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    dashboard_picture(state, Source::Share(&token), query, Format::Pdf).await
}

/// A share link's dashboard as a PNG.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}/render.png",
    tag = "shares",
    operation_id = "shared_render_png",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "The PNG", content_type = "image/png", body = Vec<u8>),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
    ),
))]
async fn shared_png(
    State(state): State<PrismiqState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    dashboard_picture(state, Source::Share(&token), query, Format::Png).await
}

/// A widget of a share link's dashboard as SVG.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}/widgets/{widget_id}/render.svg",
    tag = "shares",
    operation_id = "shared_render_widget_svg",
    params(("token" = String, Path, description = "The link's token"), ("widget_id" = String, Path, description = "The widget's id (a UUID)")),
    responses(
        (status = 200, description = "The SVG", content_type = "image/svg+xml", body = String),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
    ),
))]
async fn shared_widget_svg(
    State(state): State<PrismiqState>,
    Path((token, widget)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    widget_picture(state, Source::Share(&token), widget, query, false).await
}

/// A widget of a share link's dashboard as PNG.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/shared/{token}/widgets/{widget_id}/render.png",
    tag = "shares",
    operation_id = "shared_render_widget_png",
    params(("token" = String, Path, description = "The link's token"), ("widget_id" = String, Path, description = "The widget's id (a UUID)")),
    responses(
        (status = 200, description = "The PNG", content_type = "image/png", body = Vec<u8>),
        (status = 404, response = crate::error_responses::NotFound),
        (status = 410, response = crate::error_responses::Gone),
    ),
))]
async fn shared_widget_png(
    State(state): State<PrismiqState>,
    Path((token, widget)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let widget: WidgetId = parse_id(&widget, EngineError::WidgetNotFound)?;
    widget_picture(state, Source::Share(&token), widget, query, true).await
}

/// The paths of this module, merged into the OpenAPI document.
#[cfg(feature = "openapi")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    view,
    dashboard_pdf,
    dashboard_png,
    widget_svg,
    widget_png,
    shared_view,
    shared_pdf,
    shared_png,
    shared_widget_svg,
    shared_widget_png
))]
pub(crate) struct RenderApi;
