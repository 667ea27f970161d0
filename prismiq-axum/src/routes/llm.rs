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

async fn status() -> Json<Value> {
    Json(json!({ "enabled": false }))
}

async fn chat<A: AuthContext>(_auth: A) -> Result<Json<Value>, ApiError> {
    Err(ApiError::BadRequest("LLM agent is not enabled".to_owned()))
}
