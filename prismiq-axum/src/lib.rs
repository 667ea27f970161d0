//! The Prismiq HTTP API as an axum [`Router`](axum::Router) that a host app mounts behind its
//! own authentication. The API is wire-compatible with the Prismiq React client.
//!
//! # Mounting it
//!
//! The host keeps a [`PrismiqState`] in its own state, implements
//! [`AuthContext`](prismiq_core::AuthContext) on its own auth extractor, and nests
//! [`router`] where it likes:
//!
//! ```no_run
//! use axum::extract::{FromRef, FromRequestParts};
//! use axum::http::{StatusCode, request::Parts};
//! use axum::Router;
//! use prismiq_axum::{BASE_PATH, PrismiqState, prismiq_core::{AuthContext, Engine, MemoryStore}};
//!
//! #[derive(Clone, FromRef)]
//! struct AppState {
//!     prismiq: PrismiqState,
//! }
//!
//! /// The host's own caller, established by its own session or token check.
//! struct User {
//!     org: String,
//!     id: String,
//! }
//!
//! impl<S: Send + Sync> FromRequestParts<S> for User {
//!     type Rejection = StatusCode;
//!
//!     async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
//!         // Verify a session cookie or bearer token here.
//!         let token = parts.headers.get("authorization").ok_or(StatusCode::UNAUTHORIZED)?;
//!         let _ = token;
//!         Ok(User { org: "acme".into(), id: "alice".into() })
//!     }
//! }
//!
//! impl AuthContext for User {
//!     fn tenant_id(&self) -> &str { &self.org }
//!     fn user_id(&self) -> Option<&str> { Some(&self.id) }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let state = AppState {
//!     prismiq: PrismiqState::new(Engine::new(MemoryStore::new())),
//! };
//! let app = Router::new()
//!     .nest(BASE_PATH, prismiq_axum::router::<AppState, User>())
//!     .with_state(state);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! // `into_make_service`: served as a bare `Router`, axum rebuilds the route table for every
//! // connection (about 100 KiB each, held while it is open: live-event connections stay open).
//! axum::serve(listener, app.into_make_service()).await
//! # }
//! ```
//!
//! # Errors
//!
//! Every error body is JSON: `{"detail": "<message>"}`, or for a body, query or path that cannot
//! be read, a 422 `{"detail": [{"type", "loc", "msg", "input"}]}`. See [`ApiError`].
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---|---|---|
//! | `openapi` | no | `openapi()` and `GET /openapi.json`: the OpenAPI 3.1 document of every route (utoipa, re-exported as `utoipa`; implies `prismiq-core/openapi`) |
//! | `render` | no | Dashboards as pictures and pages (`prismiq-render`, re-exported as `prismiq_render`): `render.svg`/`render.png` of a widget, `render.png`/`render.pdf` of a dashboard, the read-only page `/dashboards/{id}/view`, the same through share links, and `render_router` |

#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod error;
#[cfg(feature = "openapi")]
mod error_responses;
pub mod export;
mod extract;
mod metrics;
#[cfg(feature = "openapi")]
mod openapi;
mod router;
mod routes;
mod state;

pub use auth::HeaderAuth;
pub use error::{ApiError, ValidationIssue};
pub use extract::{ApiJson, ApiQuery, RawBody};
pub use metrics::{install_recorder, metrics_router};
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub use openapi::openapi;
pub use prismiq_core;
/// The renderer of pictures and pages (feature `render`).
#[cfg(feature = "render")]
pub use prismiq_render;
#[cfg(feature = "render")]
pub use router::render_router;
pub use router::{BASE_PATH, RouterOptions, router, router_with, shared_router};
/// The close codes of `GET /ws`.
pub use routes::events::close_code as ws_close_code;
pub use state::PrismiqState;
/// The OpenAPI types of [`openapi()`] (feature `openapi`).
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub use utoipa;
