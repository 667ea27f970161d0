//! `/openapi.json`: the OpenAPI document of the router (feature `openapi`); no auth.

use axum::Router;

pub(crate) fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let router = Router::new();
    #[cfg(feature = "openapi")]
    let router = router.route("/openapi.json", axum::routing::get(document));
    router
}

/// The OpenAPI 3.1 document of every route
#[cfg(feature = "openapi")]
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)),
)]
async fn document() -> axum::response::Response {
    crate::openapi::document_response()
}
