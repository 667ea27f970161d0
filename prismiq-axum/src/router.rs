//! [`router`]: every Prismiq route, ready to nest under [`BASE_PATH`].

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts, Request};
use axum::middleware::Next;
use axum::response::IntoResponse;
use prismiq_core::AuthContext;

use crate::error::ApiError;
use crate::routes;
use crate::state::PrismiqState;

/// Where hosts usually mount the router.
pub const BASE_PATH: &str = "/api/prismiq";

/// Every Prismiq route, for the host to nest (usually at [`BASE_PATH`]).
///
/// - `S` is the host's state; it must hold a [`PrismiqState`] reachable with `FromRef`.
/// - `A` is the host's own auth extractor, implementing [`AuthContext`]. It runs first on every
///   authenticated route, and its rejection (401, redirect, …) is returned untouched.
///   [`HeaderAuth`](crate::HeaderAuth) reads the React client's headers, for demos.
///
/// Health routes and `/llm/status` need no auth. Unknown paths under the mount point answer
/// 404 `{"detail":"Not Found"}`, and known paths with the wrong method 405
/// `{"detail":"Method Not Allowed"}`. With the `openapi` feature, `GET /openapi.json` serves
/// the OpenAPI document of every route (also returned by `prismiq_axum::openapi()`).
pub fn router<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    router_with::<S, A>(RouterOptions::default())
}

/// Request hygiene of the router: body size limit and per-request timeout.
///
/// ```
/// use std::time::Duration;
/// let options = prismiq_axum::RouterOptions::default()
///     .with_body_limit(512 * 1024)
///     .with_request_timeout(Duration::from_secs(20));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterOptions {
    body_limit: usize,
    request_timeout: Duration,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RouterOptions {
    /// The largest request body accepted, in bytes (default 2 MiB); larger is a 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long a request may take (default 60 s); longer is a 504. Queries have their own,
    /// usually shorter, timeout (`Engine::with_query_timeout`).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// [`router`] with explicit [`RouterOptions`].
pub fn router_with<S, A>(options: RouterOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    let timeout = options.request_timeout;
    let router = Router::new()
        .merge(routes::health::routes())
        .merge(routes::schema::routes::<S, A>())
        .merge(routes::query::routes::<S, A>())
        .merge(routes::dashboards::routes::<S, A>())
        .merge(routes::versions::routes::<S, A>())
        .merge(routes::widgets::routes::<S, A>())
        .merge(routes::catalogue::routes::<S, A>())
        .merge(routes::templates::routes::<S, A>())
        .merge(routes::shares::routes::<S, A>())
        .merge(routes::saved_queries::routes::<S, A>())
        .merge(routes::pins::routes::<S, A>())
        .merge(routes::events::routes::<S, A>())
        .merge(routes::llm::routes::<S, A>())
        .merge(routes::transform::routes());
    #[cfg(feature = "render")]
    let router = router.merge(routes::render::routes::<S, A>());
    #[cfg(feature = "openapi")]
    let router = router.merge(routes::openapi::routes(crate::openapi::document_json));
    // Exports have the engine's export timeout instead of the request timeout: a large file
    // takes longer than any other request.
    let exports = routes::exports::routes::<S, A>()
        .route_layer(axum::middleware::from_fn(crate::metrics::track));
    time_limited(
        router.route_layer(axum::middleware::from_fn(crate::metrics::track)),
        timeout,
    )
    .merge(exports)
    .layer(DefaultBodyLimit::max(options.body_limit))
    .fallback(|| async { ApiError::RouteNotFound })
    .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// Only the read-only pages and pictures (feature `render`): `/dashboards/{id}/view`, the
/// `render.*` routes of dashboards and widgets. For a host that lets browsers without its API
/// credentials look at dashboards — with an extractor `A` of their own (a session cookie, a
/// fixed kiosk user) — while the full [`router`] stays behind its API auth.
#[cfg(feature = "render")]
pub fn render_router<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    let routes = routes::render::routes::<S, A>()
        .route_layer(axum::middleware::from_fn(crate::metrics::track));
    time_limited(routes, RouterOptions::default().request_timeout)
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// `router` answering 504 to a request that takes longer than `timeout`.
fn time_limited<S>(router: Router<S>, timeout: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.route_layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => ApiError::RequestTimeout(timeout).into_response(),
            }
        },
    ))
}

/// The public routes of share links, with no host auth (the token is the credential):
/// `GET /{token}`, `POST /{token}/widgets/{widget_id}/execute`, `GET /{token}/events` (live
/// events of its dashboard), `GET /{token}/widgets/{widget_id}/export.{csv,ndjson,xlsx}` (when
/// the link allows exports), and with the `render` feature the page and pictures of its
/// dashboard (`GET /{token}/view`, `/{token}/render.*`, `/{token}/widgets/{widget_id}/render.*`;
/// `GET /{token}` answers the page to browsers). Mount it wherever share
/// links should point (the demo: `/api/prismiq/shared`) and tell the engine
/// (`Engine::with_share_url_base`). Nothing else is reachable through a token.
///
/// Request logs must not record the token: log the matched route (`MatchedPath`), not the URI.
pub fn shared_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: FromRef<S>,
{
    let routes = routes::shares::public_routes::<S>().merge(routes::exports::public_routes::<S>());
    #[cfg(feature = "render")]
    let routes = routes.merge(routes::render::public_routes::<S>());
    routes
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(RouterOptions::default().body_limit))
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}
