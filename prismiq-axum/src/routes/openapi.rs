//! `/openapi.json`: the OpenAPI document of the router (feature `openapi`); no auth.
//!
//! The document lists this route too, so the router passes the document in rather than this
//! module importing it.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// `json` gives the serialized document.
pub(crate) fn routes<S>(json: fn() -> &'static str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/openapi.json", get(move || document(json())))
}

/// The OpenAPI 3.1 document of every route
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
async fn document(json: &'static str) -> Response {
    ([(CONTENT_TYPE, "application/json")], json).into_response()
}
