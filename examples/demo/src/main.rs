//! A host application running the Prismiq API, for trying it by hand or with the React client.
//!
//! ```text
//! cargo run -p prismiq-demo
//! PORT=9000 PRISMIQ_ADMIN_USERS=alice,root cargo run -p prismiq-demo
//! ```
//!
//! The caller comes from the `X-Tenant-ID`, `X-User-ID` and `X-Schema-Name` headers (the React
//! client's defaults); users named in `PRISMIQ_ADMIN_USERS` are tenant admins.
//!
//! Where everything is kept:
//! - by default, in the SQLite file `prismiq-demo.db` in `PRISMIQ_DATA_DIR` (default: the
//!   current directory), created on first start: nothing to install;
//! - `DATABASE_URL=sqlite://path/to/file.db`: that SQLite file;
//! - `DATABASE_URL=postgres://…`: that PostgreSQL database (prismiq's tables in schema
//!   `prismiq`, the sample dataset in `public`).
//!
//! Either way prismiq's tables are created or updated on start, the sample dataset is loaded
//! when missing, and tenant `demo` gets a public "Sales overview" dashboard whose widgets query
//! it. Two widget types of the demo's own join the built-in ones (`gauge`, fed by a query, and
//! `server_status`, computed in Rust; see `widgets.rs`), and a user's first
//! `GET /dashboards/default` creates their starter dashboard with both.
//! `PRISMIQ_CACHE=off` turns the result cache off, `PRISMIQ_SHARE_RATE_LIMIT=off` the limit on
//! reads through one share link. Share links are read under `/api/prismiq/shared/{token}`.
//! Prometheus metrics are at `/metrics`.
//!
//! Live events (`GET /api/prismiq/events`, `GET /api/prismiq/ws`) travel on the bus the
//! configuration picks (see `events.rs`): PostgreSQL `LISTEN/NOTIFY` on PostgreSQL, Redis with
//! `PRISMIQ_EVENT_BUS=redis` and `REDIS_URL`, in process otherwise; so two demo processes on
//! one database see each other's events. `POST /api/demo/notify` (admins only) sends a host
//! notification. Callers' roles come from an `X-User-Roles` header (comma-separated).
//!
//! Browsers need no headers: `/` redirects to the Sales overview's read-only page, served under
//! `/browse` to a visitor of tenant `demo` who sees what the tenant's public dashboards show
//! (pages and pictures only; the API stays behind the headers).

/// mimalloc rather than the system allocator: a request allocates many small, short-lived
/// values (parsed bodies, compiled SQL, rows), which it serves with less CPU than glibc's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod events;
mod widgets;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use prismiq_axum::prismiq_core::{AuthContext, Engine};
use prismiq_axum::{ApiError, BASE_PATH, HeaderAuth, PrismiqState};
use prismiq_sample::{dashboard, dataset};
use prismiq_store_postgres::{PgDataSource, PostgresStore};
use prismiq_store_sqlite::{SqliteDataSource, SqliteStore};
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

/// The demo host's state: Prismiq's, plus its own admin list.
#[derive(Debug, Clone, FromRef)]
struct AppState {
    prismiq: PrismiqState,
    admins: Admins,
}

/// User ids that administer their tenant.
#[derive(Debug, Clone, Default)]
struct Admins(Arc<HashSet<String>>);

impl Admins {
    fn from_env() -> Self {
        let list = std::env::var("PRISMIQ_ADMIN_USERS").unwrap_or_default();
        Self(Arc::new(
            list.split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
        ))
    }
}

/// The demo's caller: the client's headers, made admin when listed in `PRISMIQ_ADMIN_USERS`.
#[derive(Debug)]
struct DemoAuth {
    headers: HeaderAuth,
    admin: bool,
    roles: Vec<String>,
}

impl<S> FromRequestParts<S> for DemoAuth
where
    S: Send + Sync,
    Admins: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let headers = HeaderAuth::from_parts(parts)?;
        let admin = headers
            .user_id()
            .is_some_and(|user| Admins::from_ref(state).0.contains(user));
        let roles = parts
            .headers
            .get("x-user-roles")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            headers,
            admin,
            roles,
        })
    }
}

impl AuthContext for DemoAuth {
    fn tenant_id(&self) -> &str {
        self.headers.tenant_id()
    }
    fn user_id(&self) -> Option<&str> {
        self.headers.user_id()
    }
    fn schema_name(&self) -> Option<&str> {
        self.headers.schema_name()
    }
    fn is_admin(&self) -> bool {
        self.admin
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
}

/// Who a browser is on the demo's pages: a visitor of tenant `demo`, no admin, no headers
/// needed. A real host would read its session cookie here.
#[derive(Debug)]
struct Visitor;

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self)
    }
}

impl AuthContext for Visitor {
    fn tenant_id(&self) -> &str {
        dashboard::TENANT
    }
    fn user_id(&self) -> Option<&str> {
        Some("visitor")
    }
    fn schema_name(&self) -> Option<&str> {
        None
    }
}

/// Where browsers look at dashboards.
const BROWSE_PATH: &str = "/browse";

fn app(engine: Engine, admins: Admins, home: String) -> Router {
    let state = AppState {
        prismiq: PrismiqState::new(engine).with_renderer(
            prismiq_axum::prismiq_render::Renderer::new()
                .with_painter("gauge", widgets::GaugePainter),
        ),
        admins,
    };
    // The React client sends Content-Type and X-Tenant-ID on every call (so every call is
    // preflighted), plus X-User-ID, X-Schema-Name, Authorization and custom headers.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any);
    // Share links: no host auth, the token is the credential.
    let shared = prismiq_axum::shared_router::<AppState>();
    Router::new()
        .nest(BASE_PATH, prismiq_axum::router::<AppState, DemoAuth>())
        .nest(SHARED_PATH, shared)
        .nest(
            BROWSE_PATH,
            prismiq_axum::render_router::<AppState, Visitor>(),
        )
        .route(
            "/",
            axum::routing::get(move || async move { axum::response::Redirect::to(&home) }),
        )
        .merge(events::routes::<AppState, DemoAuth>())
        .merge(prismiq_axum::metrics_router(
            prismiq_axum::install_recorder(),
        ))
        .layer(cors)
        // Request logs name the route, never a share link's token.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %redacted(request.uri().path()),
                )
            }),
        )
        .with_state(state)
}

/// Where share links are read.
const SHARED_PATH: &str = "/api/prismiq/shared";

/// `path` with a share link's token replaced by `{token}`.
fn redacted(path: &str) -> String {
    match path.strip_prefix(SHARED_PATH) {
        Some(rest) => {
            let rest = rest.trim_start_matches('/');
            let after = rest.find('/').map_or("", |i| &rest[i..]);
            format!("{SHARED_PATH}/{{token}}{after}")
        }
        None => path.to_owned(),
    }
}

/// Everything in PostgreSQL at `url`.
async fn postgres_engine(url: &str) -> Result<Engine, Box<dyn std::error::Error>> {
    let store = PostgresStore::connect(url)
        .await
        .map_err(|e| format!("cannot connect to DATABASE_URL: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| format!("cannot migrate prismiq's tables: {e}"))?;
    let pool = store.pool().clone();
    if !dataset::is_loaded(&pool).await? {
        tracing::info!("loading the sample dataset into schema `public`");
        dataset::load(&pool).await?;
    }
    tracing::info!("storing dashboards in PostgreSQL (schema `prismiq`)");
    let source = PgDataSource::new(pool).with_exposed_tables(dataset::TABLES);
    let engine = Engine::new(store).with_data_source(Arc::new(source));
    dashboard::ensure(&engine).await?;
    Ok(engine)
}

/// Everything in the SQLite file at `url`: prismiq's tables and the sample dataset side by
/// side, queries read through read-only connections of their own.
async fn sqlite_engine(url: &str) -> Result<Engine, Box<dyn std::error::Error>> {
    let store = SqliteStore::connect(url)
        .await
        .map_err(|e| format!("cannot open {url}: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| format!("cannot migrate prismiq's tables: {e}"))?;
    if !dataset::is_loaded_sqlite(store.pool()).await? {
        tracing::info!("loading the sample dataset into {url}");
        dataset::load_sqlite(store.pool()).await?;
    }
    let path = SqliteStore::options(url)?.get_filename().to_owned();
    let source = SqliteDataSource::open(&path)
        .await?
        .with_exposed_tables(dataset::TABLES);
    tracing::info!("storing dashboards and querying data in {}", path.display());
    let engine = Engine::new(store).with_data_source(Arc::new(source));
    dashboard::ensure(&engine).await?;
    Ok(engine)
}

/// The page `/` leads to: the Sales overview, as the visitor sees it.
async fn home_page(engine: &Engine) -> Result<String, Box<dyn std::error::Error>> {
    let sales = engine
        .list_dashboards(&Visitor)
        .await?
        .into_iter()
        .find(|d| d.name == "Sales overview")
        .ok_or("the Sales overview is missing")?;
    Ok(format!("{BROWSE_PATH}/dashboards/{}/view", sales.id))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();

    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT must be a port number, got {port:?}"))?,
        Err(_) => 8080,
    };
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            let dir = std::env::var("PRISMIQ_DATA_DIR").unwrap_or_else(|_| ".".to_owned());
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create PRISMIQ_DATA_DIR {dir:?}: {e}"))?;
            let path = std::path::Path::new(&dir).join("prismiq-demo.db");
            format!("sqlite://{}", path.display())
        }
    };
    let engine = if url.starts_with("sqlite:") {
        sqlite_engine(&url).await?
    } else {
        postgres_engine(&url).await?
    };
    let engine = events::configure(engine, &url).await?;
    let engine = widgets::register(engine);
    // Reads through one share link are limited (120 a minute by default); the benchmarks
    // turn that off.
    let engine = if std::env::var("PRISMIQ_SHARE_RATE_LIMIT").is_ok_and(|v| v == "off") {
        engine.without_share_rate_limit()
    } else {
        engine
    };
    let engine = if std::env::var("PRISMIQ_CACHE").is_ok_and(|v| v == "off") {
        tracing::info!("result cache off (PRISMIQ_CACHE=off)");
        engine.without_result_cache()
    } else {
        engine
    };

    let admins = Admins::from_env();
    let home = home_page(&engine).await?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "Prismiq demo listening on http://{addr}/ (the Sales overview; API: http://{addr}{BASE_PATH}, metrics: http://{addr}/metrics)"
    );
    let handle = engine.clone();
    // A bare `Router` would have its route table rebuilt for every connection (about 100 KiB
    // each, for as long as it is open).
    axum::serve(listener, app(engine, admins, home).into_make_service())
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Live-event connections would hold the shutdown open.
            handle.close_subscriptions();
        })
        .await?;
    Ok(())
}
