//! One module per resource; each exposes `routes::<S, A>()`.

pub(crate) mod catalogue;
pub(crate) mod dashboards;
pub(crate) mod events;
pub(crate) mod exports;
pub(crate) mod health;
pub(crate) mod llm;
#[cfg(feature = "openapi")]
pub(crate) mod openapi;
pub(crate) mod pins;
pub(crate) mod query;
#[cfg(feature = "render")]
pub(crate) mod render;
pub(crate) mod saved_queries;
pub(crate) mod schema;
pub(crate) mod shares;
pub(crate) mod templates;
pub(crate) mod transform;
pub(crate) mod versions;
pub(crate) mod widgets;

use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// The body of a successful deletion or reordering.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct SuccessResponse {
    success: bool,
    message: String,
}

impl SuccessResponse {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            success: true,
            message: message.into(),
        }
    }
}

/// Parses a path id; a malformed id names nothing, so it is the same 404 as a missing object.
pub(crate) fn parse_id<T: std::str::FromStr>(
    raw: &str,
    not_found: impl FnOnce(String) -> prismiq_core::EngineError,
) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::Engine(not_found(raw.to_owned())))
}

pub(crate) fn dashboard_id(raw: &str) -> Result<prismiq_core::DashboardId, ApiError> {
    parse_id(raw, prismiq_core::EngineError::DashboardNotFound)
}

/// The pairs of a request's query string, as decoded; one that cannot be read is a 422.
pub(crate) fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| {
        ApiError::validation(
            "url_parsing",
            vec!["query".into()],
            e.to_string(),
            serde_json::Value::Null,
        )
    })
}

/// A query parameter that cannot be used, as a 422 naming it.
pub(crate) fn invalid_param(error: prismiq_core::filter_params::ParamError) -> ApiError {
    ApiError::validation(
        "value_error",
        vec!["query".into(), serde_json::Value::String(error.parameter)],
        error.message,
        serde_json::Value::Null,
    )
}

/// A JSON body that is already serialized (e.g. built by the store), sent as it is.
pub(crate) struct JsonText(pub(crate) String);

impl IntoResponse for JsonText {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}
