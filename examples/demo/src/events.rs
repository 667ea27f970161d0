//! The demo's live events: which bus carries them, the connection limits, and a route of the
//! host's own that sends a notification.
//!
//! - `PRISMIQ_EVENT_BUS`: `postgres` (the default when `DATABASE_URL` is PostgreSQL), `redis`
//!   (needs `REDIS_URL`), or `memory` (the default otherwise: this process only).
//! - `PRISMIQ_EVENT_CONNECTIONS_PER_USER` / `PRISMIQ_EVENT_CONNECTIONS_PER_TENANT`: the
//!   connection limits (default 16 and 10,000).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use prismiq_axum::prismiq_core::events::{Audience, RedisBus};
use prismiq_axum::prismiq_core::{AuthContext, Engine, EngineError};
use prismiq_axum::{ApiError, ApiJson, PrismiqState};
use prismiq_store_postgres::PgEventBus;
use serde::Deserialize;
use serde_json::{Value, json};

/// Puts the engine on the bus and limits the configuration asks for.
pub(crate) async fn configure(
    engine: Engine,
    url: &str,
) -> Result<Engine, Box<dyn std::error::Error>> {
    let on_postgres = url.starts_with("postgres");
    let bus = std::env::var("PRISMIQ_EVENT_BUS")
        .unwrap_or_else(|_| if on_postgres { "postgres" } else { "memory" }.to_owned());
    let engine = match bus.as_str() {
        "memory" => {
            tracing::info!("live events within this process (PRISMIQ_EVENT_BUS=memory)");
            engine
        }
        "postgres" if on_postgres => {
            // A small pool of its own for publishing; the bus listens on a connection of its own.
            let pool = prismiq_store_postgres::sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .connect(url)
                .await
                .map_err(|e| format!("cannot connect the event bus to DATABASE_URL: {e}"))?;
            let bus = PgEventBus::connect(pool).await?;
            tracing::info!("live events through PostgreSQL LISTEN/NOTIFY");
            engine.with_event_bus(Arc::new(bus))
        }
        "postgres" => {
            return Err("PRISMIQ_EVENT_BUS=postgres needs DATABASE_URL to be PostgreSQL".into());
        }
        "redis" => {
            let redis_url = std::env::var("REDIS_URL")
                .map_err(|_| "PRISMIQ_EVENT_BUS=redis needs REDIS_URL (redis://host:6379)")?;
            let bus = RedisBus::connect(&redis_url)
                .await
                .map_err(|e| format!("cannot reach Redis at REDIS_URL: {e}"))?;
            tracing::info!("live events through Redis pub/sub");
            engine.with_event_bus(Arc::new(bus))
        }
        other => {
            return Err(format!(
                "PRISMIQ_EVENT_BUS must be postgres, redis or memory, not {other:?}"
            )
            .into());
        }
    };
    let mut settings = engine.event_settings().clone();
    if let Some(max) = limit("PRISMIQ_EVENT_CONNECTIONS_PER_USER")? {
        settings = settings.with_max_connections_per_user(max);
    }
    if let Some(max) = limit("PRISMIQ_EVENT_CONNECTIONS_PER_TENANT")? {
        settings = settings.with_max_connections_per_tenant(max);
    }
    Ok(engine.with_event_settings(settings))
}

fn limit(name: &str) -> Result<Option<usize>, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a number, got {value:?}")),
        Err(_) => Ok(None),
    }
}

/// `POST /api/demo/notify`: a host notification, sent by a tenant admin to their tenant.
pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new().route("/api/demo/notify", post(notify::<A>))
}

/// `{"kind": "payment_due", "payload": {…}, "users": [...]}` — or `"roles": [...]`, or
/// neither for the whole tenant.
#[derive(Debug, Deserialize)]
struct Notify {
    kind: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    users: Option<Vec<String>>,
    #[serde(default)]
    roles: Option<Vec<String>>,
}

async fn notify<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    ApiJson(body): ApiJson<Notify>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !auth.is_admin() {
        return Err(EngineError::PermissionDenied.into());
    }
    let audience = match (body.users, body.roles) {
        (Some(users), None) => Audience::users(users),
        (None, Some(roles)) => Audience::roles(roles),
        (None, None) => Audience::Tenant,
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "name users or roles, not both".to_owned(),
            ));
        }
    };
    let id = state
        .engine()
        .notify(auth.tenant_id(), audience, &body.kind, body.payload)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))))
}
