//! `/llm/status` and `/llm/chat`: the assistant endpoints, answering "disabled" until an
//! assistant is plugged in.

use axum::extract::FromRequestParts;
use axum::routing::{get, post};
use axum::{Json, Router};
use prismiq_core::AuthContext;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::PrismiqState;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/llm/status", get(status))
        .route("/llm/chat", post(chat::<A>))
}

/// The body of `/llm/status`.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "only describes the JSON `status` writes")]
struct LlmStatus {
    /// Whether an assistant answers `/llm/chat`.
    enabled: bool,
    /// The assistant's provider, when enabled.
    provider: Option<String>,
    /// The assistant's model, when enabled.
    model: Option<String>,
}

/// Whether the assistant is enabled.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/llm/status",
    tag = "llm",
    operation_id = "llm_status",
    responses(
        (status = 200, description = "`{\"enabled\": false}` until an assistant is plugged in", body = LlmStatus),
    ),
))]
async fn status() -> Json<Value> {
    Json(json!({ "enabled": false }))
}

/// Chats with the assistant; answers 400 while it is disabled.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/llm/chat",
    tag = "llm",
    operation_id = "llm_chat",
    responses(
        (status = 400, response = crate::error_responses::BadRequest),
    ),
    security(("tenant_header" = [])),
))]
async fn chat<A: AuthContext>(_auth: A) -> Result<Json<Value>, ApiError> {
    Err(ApiError::BadRequest("LLM agent is not enabled".to_owned()))
}
