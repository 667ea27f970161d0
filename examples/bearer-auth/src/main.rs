//! A host app whose own bearer-token extractor guards the Prismiq API.
//!
//! The host owns authentication: its extractor turns `Authorization: Bearer <token>` into a
//! user of a tenant, or rejects the request with its *own* 401, which Prismiq passes through
//! untouched.
//!
//! ```text
//! cargo run -p prismiq-example-bearer-auth
//! curl -H 'Authorization: Bearer alice-token' http://127.0.0.1:8081/api/prismiq/dashboards
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use prismiq_axum::prismiq_core::{AuthContext, Engine, MemoryStore};
use prismiq_axum::{BASE_PATH, PrismiqState};
use serde_json::json;

/// Who a token belongs to. A real host would verify a JWT or look up a session.
#[derive(Debug, Clone)]
struct Account {
    organisation: String,
    user: String,
    admin: bool,
}

#[derive(Debug, Clone, Default)]
struct Tokens(Arc<HashMap<String, Account>>);

#[derive(Debug, Clone, FromRef)]
struct AppState {
    prismiq: PrismiqState,
    tokens: Tokens,
}

/// The host's own caller type.
#[derive(Debug)]
struct BearerUser(Account);

/// The host's own rejection: a 401 with its own body and a `WWW-Authenticate` header.
#[derive(Debug)]
struct Unauthorized;

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"example\"")],
            Json(json!({"error": "invalid_token", "hint": "send Authorization: Bearer <token>"})),
        )
            .into_response()
    }
}

impl<S> FromRequestParts<S> for BearerUser
where
    S: Send + Sync,
    Tokens: FromRef<S>,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Unauthorized> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Unauthorized)?;
        Tokens::from_ref(state)
            .0
            .get(token)
            .cloned()
            .map(BearerUser)
            .ok_or(Unauthorized)
    }
}

impl AuthContext for BearerUser {
    fn tenant_id(&self) -> &str {
        &self.0.organisation
    }
    fn user_id(&self) -> Option<&str> {
        Some(&self.0.user)
    }
    fn is_admin(&self) -> bool {
        self.0.admin
    }
}

fn app() -> Router {
    let account = |organisation: &str, user: &str, admin: bool| Account {
        organisation: organisation.to_owned(),
        user: user.to_owned(),
        admin,
    };
    let tokens = Tokens(Arc::new(HashMap::from([
        ("alice-token".to_owned(), account("acme", "alice", false)),
        ("bob-token".to_owned(), account("acme", "bob", true)),
        ("eve-token".to_owned(), account("globex", "eve", false)),
    ])));
    let state = AppState {
        prismiq: PrismiqState::new(Engine::new(MemoryStore::new())),
        tokens,
    };
    Router::new()
        .nest(BASE_PATH, prismiq_axum::router::<AppState, BearerUser>())
        .with_state(state)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    println!("bearer-auth example on http://127.0.0.1:8081{BASE_PATH}");
    axum::serve(listener, app().into_make_service()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use serde_json::Value;
    use tower::ServiceExt;

    async fn call(
        app: &Router,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{BASE_PATH}{path}"));
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        let response = app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, challenge, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn the_hosts_401_passes_through_untouched() {
        let app = app();
        for token in [None, Some("forged")] {
            let (status, challenge, body) = call(&app, "GET", "/dashboards", token, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(challenge.as_deref(), Some("Bearer realm=\"example\""));
            assert_eq!(
                body["error"], "invalid_token",
                "the host's body, not Prismiq's"
            );
            assert!(body.get("detail").is_none());
        }
        // Routes without auth stay open.
        let (status, _, _) = call(&app, "GET", "/health/live", None, None).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn the_token_decides_tenant_user_and_admin() {
        let app = app();
        let (status, _, created) = call(
            &app,
            "POST",
            "/dashboards",
            Some("alice-token"),
            Some(json!({"name": "Alice's"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(created["owner_id"], "alice");
        let path = format!("/dashboards/{}", created["id"].as_str().unwrap());
        let (status, _, _) = call(&app, "GET", &path, Some("eve-token"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another organisation");
        let (status, _, _) = call(&app, "GET", &path, Some("bob-token"), None).await;
        assert_eq!(status, StatusCode::OK, "bob is an admin of acme");
    }
}
