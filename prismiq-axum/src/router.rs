//! [`router`]: every Prismiq route, ready to nest under [`BASE_PATH`].

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
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
/// `{"detail":"Method Not Allowed"}`.
pub fn router<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .merge(routes::health::routes())
        .merge(routes::schema::routes::<S, A>())
        .merge(routes::query::routes::<S, A>())
        .merge(routes::dashboards::routes::<S, A>())
        .merge(routes::widgets::routes::<S, A>())
        .merge(routes::saved_queries::routes::<S, A>())
        .merge(routes::pins::routes::<S, A>())
        .merge(routes::llm::routes::<S, A>())
        .merge(routes::transform::routes())
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}
