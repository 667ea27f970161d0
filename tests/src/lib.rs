//! Test support for the end-to-end suites: a host app around the Prismiq router, a request
//! builder, and the HTTP suite every store runs ([`http_suite!`]).

pub mod cases;
pub mod catalogue_cases;
pub mod sample;
pub mod sample_sqlite;

/// The README's Rust examples, compiled as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The Rust examples of the guides in `docs/`, compiled as doctests.
#[cfg(doctest)]
pub mod guides {
    /// `docs/embedding.md`.
    #[doc = include_str!("../../docs/embedding.md")]
    pub struct Embedding;
    /// `docs/configuration.md`.
    #[doc = include_str!("../../docs/configuration.md")]
    pub struct Configuration;
    /// `docs/security.md`.
    #[doc = include_str!("../../docs/security.md")]
    pub struct Security;
    /// `docs/http-api.md`.
    #[doc = include_str!("../../docs/http-api.md")]
    pub struct HttpApi;
    /// `docs/sqlite.md`.
    #[doc = include_str!("../../docs/sqlite.md")]
    pub struct Sqlite;
    /// `docs/widget-types.md`.
    #[doc = include_str!("../../docs/widget-types.md")]
    pub struct WidgetTypes;
    /// `docs/events.md`.
    #[doc = include_str!("../../docs/events.md")]
    pub struct Events;
    /// `docs/sharing.md`.
    #[doc = include_str!("../../docs/sharing.md")]
    pub struct Sharing;
    /// `docs/versions.md`.
    #[doc = include_str!("../../docs/versions.md")]
    pub struct Versions;
    /// `docs/rendering.md`.
    #[doc = include_str!("../../docs/rendering.md")]
    pub struct Rendering;
    /// `docs/testing.md`.
    #[doc = include_str!("../../docs/testing.md")]
    pub struct Testing;
    /// `docs/benchmarks.md`.
    #[doc = include_str!("../../docs/benchmarks.md")]
    pub struct Benchmarks;
}

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use prismiq_axum::prismiq_core::{AuthContext, Engine};
use prismiq_axum::{ApiError, BASE_PATH, HeaderAuth, PrismiqState, RouterOptions};
use serde_json::Value;
use tower::ServiceExt;

/// Where the test app mounts the share links' public router (the engine's default share URL
/// base).
pub const SHARED_PATH: &str = "/api/prismiq/shared";

/// The host state of the test app.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    prismiq: PrismiqState,
}

/// The test host's caller: [`HeaderAuth`] plus `X-Test-Admin: true` for admins and
/// `X-Test-Roles: a,b` for roles.
#[derive(Debug)]
pub struct TestAuth {
    inner: HeaderAuth,
    admin: bool,
    roles: Vec<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for TestAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Self {
            inner: HeaderAuth::from_parts(parts)?,
            admin: parts
                .headers
                .get("x-test-admin")
                .is_some_and(|v| v == "true"),
            roles: parts
                .headers
                .get("x-test-roles")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }
}

impl AuthContext for TestAuth {
    fn tenant_id(&self) -> &str {
        self.inner.tenant_id()
    }
    fn user_id(&self) -> Option<&str> {
        self.inner.user_id()
    }
    fn schema_name(&self) -> Option<&str> {
        self.inner.schema_name()
    }
    fn is_admin(&self) -> bool {
        self.admin
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
}

/// A host app with the Prismiq router nested at [`BASE_PATH`].
#[derive(Debug, Clone)]
pub struct TestApp {
    router: Router,
    state: AppState,
}

impl TestApp {
    /// The app over `engine`.
    pub fn new(engine: Engine) -> Self {
        Self::with_options(engine, RouterOptions::default())
    }

    /// The app over `engine`, with explicit router options.
    pub fn with_options(engine: Engine, options: RouterOptions) -> Self {
        let state = AppState {
            prismiq: PrismiqState::new(engine),
        };
        Self {
            state: state.clone(),
            router: Router::new()
                .nest(
                    BASE_PATH,
                    prismiq_axum::router_with::<AppState, TestAuth>(options),
                )
                .nest(SHARED_PATH, prismiq_axum::shared_router::<AppState>())
                .with_state(state),
        }
    }

    /// Serves the app on a free local port until the test ends; returns its address.
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let address = listener.local_addr().expect("local address");
        let router = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, router.into_make_service()).await });
        address
    }

    /// The engine behind the app.
    pub fn engine(&self) -> &Engine {
        self.state.prismiq.engine()
    }

    /// The router, for tests that drive it themselves (streaming bodies).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Starts a request to `path` (relative to the mount point).
    pub fn request(&self, method: Method, path: &str) -> Call {
        Call {
            router: self.router.clone(),
            method,
            path: format!("{BASE_PATH}{path}"),
            headers: Vec::new(),
            body: None,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Call {
        self.request(Method::GET, path)
    }
    /// `POST path`.
    pub fn post(&self, path: &str) -> Call {
        self.request(Method::POST, path)
    }
    /// `PATCH path`.
    pub fn patch(&self, path: &str) -> Call {
        self.request(Method::PATCH, path)
    }
    /// `PUT path`.
    pub fn put(&self, path: &str) -> Call {
        self.request(Method::PUT, path)
    }
    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Call {
        self.request(Method::DELETE, path)
    }
}

/// A request being built.
#[derive(Debug)]
pub struct Call {
    router: Router,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Call {
    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    /// Sets `X-Tenant-ID`.
    pub fn tenant(self, tenant: &str) -> Self {
        self.header("x-tenant-id", tenant)
    }
    /// Sets `X-Tenant-ID: t1` and `X-User-ID: user`.
    pub fn as_user(self, user: &str) -> Self {
        self.tenant("t1").header("x-user-id", user)
    }
    /// Marks the caller as an admin.
    pub fn admin(self) -> Self {
        self.header("x-test-admin", "true")
    }
    /// Sends `value` as a JSON body.
    pub fn json(mut self, value: &Value) -> Self {
        self.body = Some(serde_json::to_vec(value).expect("serialize"));
        self.header("content-type", "application/json")
    }
    /// Sends raw bytes (no content type).
    pub fn raw(mut self, body: &str) -> Self {
        self.body = Some(body.as_bytes().to_vec());
        self
    }

    /// Sends the request and returns the response as it is: status, headers and body bytes
    /// (for pages and pictures).
    pub async fn send_raw(self) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(&self.path);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(self.body.map_or_else(Body::empty, Body::from))
            .expect("request");
        let response = self.router.oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, bytes.to_vec())
    }

    /// Sends the request. Every response must carry a JSON body; this checks it.
    pub async fn send(self) -> Response {
        let what = format!("{} {}", self.method, self.path);
        let (status, headers, bytes) = self.send_raw().await;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{what}: {status} with a non-JSON body: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert!(
            content_type.starts_with("application/json"),
            "{what}: content type {content_type:?}"
        );
        Response { status, body, what }
    }
}

/// A response: status and JSON body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: Value,
    what: String,
}

impl Response {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}: unexpected status, body {}",
            self.what,
            self.body
        );
        self.body
    }

    /// Asserts the status and that `detail` is exactly `message`.
    #[track_caller]
    pub fn expect_detail(self, status: u16, message: &str) {
        let body = self.expect(status);
        assert_eq!(body["detail"], message, "detail of {body}");
    }

    /// Asserts the status and that the string `detail` contains `fragment`.
    #[track_caller]
    pub fn expect_detail_containing(self, status: u16, fragment: &str) -> String {
        let body = self.expect(status);
        let detail = body["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("string detail in {body}"));
        assert!(
            detail.contains(fragment),
            "{detail:?} should contain {fragment:?}"
        );
        detail.to_owned()
    }

    /// Asserts a 422 list-shaped body and returns the first issue's `(type, loc)`.
    #[track_caller]
    pub fn expect_validation(self) -> (String, Value) {
        let body = self.expect(422);
        let issue = &body["detail"][0];
        assert!(issue["msg"].is_string(), "msg in {body}");
        assert!(issue.get("input").is_some(), "input in {body}");
        (
            issue["type"]
                .as_str()
                .unwrap_or_else(|| panic!("list-shaped 422: {body}"))
                .to_owned(),
            issue["loc"].clone(),
        )
    }
}

/// Stamps one `#[tokio::test]` per HTTP case, each on a fresh engine made by the given async
/// function (`async fn() -> Engine`).
#[macro_export]
macro_rules! http_suite {
    ($make:path) => {
        $crate::http_suite!(@cases $make;
            health_routes_need_no_auth,
            missing_tenant_header_is_400_everywhere,
            unknown_routes_and_methods,
            dashboard_crud,
            dashboard_json_shapes,
            dashboard_create_honours_sharing_fields,
            other_tenants_objects_are_404,
            permissions_are_enforced,
            malformed_bodies_are_422_lists,
            nested_body_errors_are_located_by_field_path,
            nul_characters_are_422_at_their_field,
            every_string_of_every_write_body_refuses_nul,
            duplicate_names_are_409,
            positions_are_validated,
            widget_routes,
            widget_routes_stay_within_their_dashboard,
            whole_dashboard_save,
            layout_update,
            export_and_import,
            queries_are_echoed_with_every_key,
            saved_queries,
            pins,
            pins_respect_view_permission,
            limits_are_enforced,
            llm_endpoints,
            schema_routes,
            schema_names_and_missing_source,
            data_sources_route,
            transform_routes,
            widget_catalogue_over_http,
            widget_providers_over_http,
            default_dashboards_over_http,
            dashboard_summaries_over_http,
            templates_over_http,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let engine = $make().await;
                $crate::cases::$case(engine).await;
            }
        )*
    };
}
