//! The [`Engine`]: every dashboard, widget, saved-query, pin, schema and query operation, with
//! its rules. One file per resource: `dashboards`, `widgets`, `saved_queries`, `pins`,
//! `schema`, `queries`, `custom_sql`, `health`, `defaults` (default dashboards, summaries),
//! `templates` and `shares`; a dashboard with its widgets' results (for pictures and pages) in
//! `dashboard_data`; live events and notifications in `events`; the widget catalogue's checks in `catalogue`, host data providers
//! in `providers`; the settings are in `config`, the limits and their checks in `limits`, the
//! query side's caches in `caches`. Who may do what is `crate::permissions`.

mod caches;
mod catalogue;
mod config;
mod custom_sql;
mod dashboard_data;
mod dashboards;
mod defaults;
mod events;
mod exports;
mod health;
mod limits;
mod pins;
mod providers;
mod queries;
mod saved_queries;
mod schema;
mod shares;
mod templates;
mod versions;
mod widgets;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AuthContext, Scope};
use crate::cache::{ResultCache, SingleFlight};
use crate::error::EngineError;
use crate::ids::{DashboardId, SavedQueryId, WidgetId};
use crate::model::{Dashboard, Widget};
use crate::permissions;
use crate::row_filter::RowFilter;
use crate::source::DataSource;
use crate::store::{
    Conflict, DashboardStore, PinStore, SavedQueryStore, SchemaConfigStore, ShareStore, StoreError,
    TemplateStore,
};

use caches::{ConfigCache, SchemaCache, TenantGates};
pub use catalogue::StarterDashboard;
pub use custom_sql::ExecuteSqlRequest;
pub use dashboard_data::{DashboardData, WidgetOutcome};
pub use defaults::SummariesPage;
pub use exports::{Export, ExportChunk, ExportLimits};
pub use health::{HealthCheck, HealthReport, HealthStatus};
use limits::Limits;
pub use pins::PinnedDashboards;
pub use queries::{Executed, MetricTrendRequest, TimeSeriesRequest};
pub use shares::{ShareViewer, SharedDashboard};
pub use templates::TemplateAccess;
pub use versions::{DiffSummary, MAX_VERSIONS_PAGE, VersionDiff, VersionsPage};

type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Every dashboard, widget, saved-query and pin operation, taking the caller's
/// [`AuthContext`] and enforcing tenant scope, permissions and limits.
///
/// This is the one place where the rules live: the HTTP router calls it, and so can a host's
/// own Rust code.
///
/// ```
/// # tokio_test_block(async {
/// use prismiq_core::{DashboardCreate, Engine, MemoryStore, SimpleAuthContext};
///
/// let engine = Engine::new(MemoryStore::new()).with_max_dashboards_per_owner(10);
/// let alice = SimpleAuthContext::new("acme").with_user("alice");
///
/// let created = engine.create_dashboard(&alice, DashboardCreate::named("Sales")).await?;
/// assert_eq!(created.owner_id.as_deref(), Some("alice"));
/// assert_eq!(engine.list_dashboards(&alice).await?.len(), 1);
///
/// // Another tenant does not see it at all.
/// let other = SimpleAuthContext::new("globex").with_user("alice");
/// assert!(engine.get_dashboard(&other, created.id).await.is_err());
/// # Ok::<(), prismiq_core::EngineError>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    dashboards: Arc<dyn DashboardStore>,
    saved_queries: Arc<dyn SavedQueryStore>,
    pins: Arc<dyn PinStore>,
    schema_configs: Arc<dyn SchemaConfigStore>,
    templates: Arc<dyn TemplateStore>,
    share_store: Arc<dyn ShareStore>,
    limits: Limits,
    analytics: Analytics,
    widgets: catalogue::WidgetRules,
    host_templates: templates::HostTemplates,
    shares: Arc<shares::ShareSettings>,
    hub: Arc<crate::events::Hub>,
    /// The version the dashboard writes of this handle expect (see [`Engine::at_version`]).
    expected_version: Option<u64>,
}

/// The query side's settings and shared state.
#[derive(Debug, Clone)]
struct Analytics {
    source: Option<Arc<dyn DataSource>>,
    row_filter: Option<Arc<dyn RowFilter>>,
    default_schema: String,
    query_timeout: Duration,
    max_rows: usize,
    schema_cache: Arc<SchemaCache>,
    cache: Option<Arc<dyn ResultCache>>,
    cache_ttl: Duration,
    max_cached_result_bytes: usize,
    allowed_functions: std::collections::BTreeSet<String>,
    max_sql_bytes: usize,
    flights: Arc<SingleFlight<Arc<Executed>>>,
    tenant_gates: Arc<TenantGates>,
    configs: Arc<ConfigCache>,
}

impl Default for Analytics {
    fn default() -> Self {
        #[cfg(feature = "memory-cache")]
        let cache: Option<Arc<dyn ResultCache>> =
            Some(Arc::new(crate::cache::MemoryCache::default()));
        #[cfg(not(feature = "memory-cache"))]
        let cache: Option<Arc<dyn ResultCache>> = None;
        Self {
            source: None,
            row_filter: None,
            default_schema: "public".to_owned(),
            query_timeout: Duration::from_secs(30),
            max_rows: 10_000,
            schema_cache: Arc::new(SchemaCache::new(Duration::from_secs(3600))),
            cache,
            cache_ttl: Duration::from_secs(300),
            max_cached_result_bytes: 1_000_000,
            allowed_functions: std::collections::BTreeSet::new(),
            max_sql_bytes: crate::custom_sql::SqlPolicy::DEFAULT_MAX_SQL_BYTES,
            flights: Arc::default(),
            tenant_gates: Arc::new(TenantGates::new(Some(8))),
            configs: Arc::default(),
        }
    }
}

impl Engine {
    /// An engine over one store that implements every store trait.
    pub fn new<S>(store: S) -> Self
    where
        S: DashboardStore
            + SavedQueryStore
            + PinStore
            + SchemaConfigStore
            + TemplateStore
            + ShareStore,
    {
        let store = Arc::new(store);
        Self::from_stores(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            store,
        )
    }

    /// An engine over separate stores.
    pub fn from_stores(
        dashboards: Arc<dyn DashboardStore>,
        saved_queries: Arc<dyn SavedQueryStore>,
        pins: Arc<dyn PinStore>,
        schema_configs: Arc<dyn SchemaConfigStore>,
        templates: Arc<dyn TemplateStore>,
        share_store: Arc<dyn ShareStore>,
    ) -> Self {
        let hub = crate::events::Hub::attach(
            Arc::new(crate::events::InProcessBus::new()),
            dashboards.clone(),
            crate::events::EventSettings::default(),
        );
        Self {
            hub,
            dashboards,
            saved_queries,
            pins,
            schema_configs,
            templates,
            share_store,
            limits: Limits::default(),
            analytics: Analytics::default(),
            widgets: catalogue::WidgetRules::default(),
            expected_version: None,
            host_templates: templates::HostTemplates::default(),
            shares: Arc::default(),
        }
    }

    pub(super) async fn load_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<Dashboard> {
        self.dashboards
            .get_dashboard(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))
    }

    pub(super) async fn editable_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<Dashboard> {
        let dashboard = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_edit_dashboard(auth, &dashboard))?;
        Ok(dashboard)
    }

    /// Maps a store error, naming `name` in conflicts and using `not_found` for a missing object.
    /// This engine, for writes that go ahead only if the dashboard is at `version` (an HTTP
    /// `If-Match`): [`update_dashboard`](Self::update_dashboard), the widget writes
    /// ([`add_widget`](Self::add_widget), [`update_widget`](Self::update_widget),
    /// [`delete_widget`](Self::delete_widget), [`duplicate_widget`](Self::duplicate_widget)),
    /// [`update_layout`](Self::update_layout) and
    /// [`restore_version`](Self::restore_version). Otherwise they fail with
    /// [`EngineError::VersionMismatch`] and change nothing. Cheap: the handle shares
    /// everything with this one.
    ///
    /// ```
    /// # use prismiq_core::{Engine, EngineError, MemoryStore, SimpleAuthContext, DashboardCreate, DashboardUpdate};
    /// # tokio_test_block(async {
    /// let engine = Engine::new(MemoryStore::new());
    /// let alice = SimpleAuthContext::new("acme").with_user("alice");
    /// let board = engine.create_dashboard(&alice, DashboardCreate::named("Board")).await?;
    /// assert_eq!(board.version, 1);
    /// let renamed = engine
    ///     .at_version(1)
    ///     .update_dashboard(&alice, board.id, DashboardUpdate::default().with_name("Sales"))
    ///     .await?;
    /// assert_eq!(renamed.version, 2);
    /// let stale = engine
    ///     .at_version(1)
    ///     .update_dashboard(&alice, board.id, DashboardUpdate::default().with_name("Again"))
    ///     .await;
    /// assert!(matches!(stale, Err(EngineError::VersionMismatch { current: 2 })));
    /// # Ok::<(), EngineError>(())
    /// # }).unwrap();
    /// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub fn at_version(&self, version: u64) -> Engine {
        Engine {
            expected_version: Some(version),
            ..self.clone()
        }
    }

    /// The scope of a write to a dashboard: the caller's tenant, and the change its history
    /// records (the caller as author, `kind`, the version the write expects, the retention).
    pub(super) fn change_scope(
        &self,
        auth: &dyn AuthContext,
        kind: crate::ChangeKind,
        expected: Option<u64>,
    ) -> Scope {
        Scope::of(auth).with_change(
            crate::Change::new(kind, crate::permissions::user(auth))
                .expecting(expected)
                .keeping(self.limits.version_retention),
        )
    }

    pub(super) fn store_error(
        &self,
        err: StoreError,
        name: &str,
        not_found: impl FnOnce() -> EngineError,
    ) -> EngineError {
        match err {
            StoreError::NotFound => not_found(),
            StoreError::Conflict(conflict) => EngineError::Conflict {
                conflict,
                message: match conflict {
                    Conflict::DashboardName => format!("A dashboard named '{name}' already exists"),
                    Conflict::SavedQueryName => {
                        format!("A saved query named '{name}' already exists")
                    }
                    Conflict::WidgetId => "A widget id in the request is already used by \
                                           another dashboard; omit the id to have one generated"
                        .to_owned(),
                    Conflict::Pin => "Dashboard already pinned to this context".to_owned(),
                    Conflict::TemplateName => format!("A template named '{name}' already exists"),
                },
            },
            StoreError::LimitReached => self.limits.widget_limit_error(),
            StoreError::Stale { current } => EngineError::VersionMismatch { current },
            err => EngineError::Store(err),
        }
    }
}

pub(super) fn ensure(allowed: bool) -> Result<()> {
    if allowed {
        Ok(())
    } else {
        Err(EngineError::PermissionDenied)
    }
}

pub(super) fn find_widget(dashboard: &Dashboard, widget_id: WidgetId) -> Result<&Widget> {
    dashboard
        .widgets
        .iter()
        .find(|w| w.id == widget_id)
        .ok_or_else(|| widget_not_found(widget_id))
}

pub(super) fn dashboard_not_found(id: DashboardId) -> EngineError {
    EngineError::DashboardNotFound(id.to_string())
}

pub(super) fn widget_not_found(id: WidgetId) -> EngineError {
    EngineError::WidgetNotFound(id.to_string())
}

pub(super) fn saved_query_not_found(id: SavedQueryId) -> EngineError {
    EngineError::SavedQueryNotFound(id.to_string())
}
