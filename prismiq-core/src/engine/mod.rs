//! The [`Engine`]: every dashboard, widget, saved-query and pin operation, with its rules.

mod analytics;
mod custom_sql;
mod queries;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::auth::{AuthContext, Scope};
use crate::cache::{ResultCache, SingleFlight};
use crate::error::EngineError;
use crate::ids::{DashboardId, PinId, SavedQueryId, WidgetId};
use crate::model::{
    Dashboard, DashboardCreate, DashboardExport, DashboardFilter, DashboardImport, DashboardJson,
    DashboardLayout, DashboardUpdate, LayoutItem, PinRequest, PinnedDashboard, ReorderPinsRequest,
    SavedQuery, SavedQueryCreate, SavedQueryUpdate, UnpinRequest, Widget, WidgetContent,
    WidgetCreate, WidgetUpdate,
};
use crate::permissions::{self, Viewer};
use crate::row_filter::RowFilter;
use crate::source::DataSource;
use crate::store::{
    Conflict, DashboardChanges, DashboardStore, NewDashboard, NewSavedQuery, PinStore,
    SavedQueryChanges, SavedQueryStore, SchemaConfigStore, StoreError,
};

use analytics::{ConfigCache, SchemaCache, TenantGates};
pub use custom_sql::ExecuteSqlRequest;
pub use queries::{Executed, MetricTrendRequest, TimeSeriesRequest};

type Result<T, E = EngineError> = std::result::Result<T, E>;

/// The limits the engine enforces, set with the `with_*` methods of [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Limits {
    dashboards_per_owner: Option<u32>,
    widgets_per_dashboard: Option<u32>,
    name_length: usize,
    title_length: usize,
    description_length: usize,
    filters_per_dashboard: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            dashboards_per_owner: Some(1_000),
            widgets_per_dashboard: Some(200),
            name_length: 255,
            title_length: 255,
            description_length: 10_000,
            filters_per_dashboard: 50,
        }
    }
}

/// The outcome of one backend check (see [`Engine::health_checks`]).
#[derive(Debug)]
pub struct HealthCheck {
    /// What was checked: the store's name (`database`, `store`), `data_source` or `cache`.
    pub name: &'static str,
    /// Whether requests fail without it (the cache is not critical).
    pub critical: bool,
    /// The latency, or what went wrong.
    pub outcome: Result<Duration, String>,
}

/// The user's pins in one context, with their dashboards (`GET /pins`): two parallel lists in
/// position order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinnedDashboards {
    /// The pinned dashboards, with their widgets.
    pub dashboards: Vec<Dashboard>,
    /// The pins, `pins[i]` being the pin of `dashboards[i]`.
    pub pins: Vec<PinnedDashboard>,
}

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
    limits: Limits,
    analytics: Analytics,
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
        S: DashboardStore + SavedQueryStore + PinStore + SchemaConfigStore,
    {
        let store = Arc::new(store);
        Self::from_stores(store.clone(), store.clone(), store.clone(), store)
    }

    /// An engine over separate stores.
    pub fn from_stores(
        dashboards: Arc<dyn DashboardStore>,
        saved_queries: Arc<dyn SavedQueryStore>,
        pins: Arc<dyn PinStore>,
        schema_configs: Arc<dyn SchemaConfigStore>,
    ) -> Self {
        Self {
            dashboards,
            saved_queries,
            pins,
            schema_configs,
            limits: Limits::default(),
            analytics: Analytics::default(),
        }
    }

    /// The database analytics queries run against. Without one, the schema and query
    /// operations fail with [`EngineError::NoDataSource`].
    pub fn with_data_source(mut self, source: Arc<dyn DataSource>) -> Self {
        self.analytics.source = Some(source);
        self
    }

    /// The host's row-level restrictions, applied to every table every query reads.
    pub fn with_row_filter(mut self, filter: Arc<dyn RowFilter>) -> Self {
        self.analytics.row_filter = Some(filter);
        self
    }

    /// The schema of callers whose [`AuthContext::schema_name`] is `None` (default `public`).
    pub fn with_default_schema(mut self, schema: impl Into<String>) -> Self {
        self.analytics.default_schema = schema.into();
        self
    }

    /// How long one query may run (default 30 s).
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.analytics.query_timeout = timeout;
        self
    }

    /// The most rows one query returns (default 10 000); more are cut and flagged `truncated`.
    pub fn with_max_rows(mut self, max_rows: usize) -> Self {
        self.analytics.max_rows = max_rows;
        self
    }

    /// Where query results are cached (default: [`MemoryCache`](crate::cache::MemoryCache)
    /// in process memory, with the `memory-cache` feature).
    pub fn with_result_cache(mut self, cache: Arc<dyn ResultCache>) -> Self {
        self.analytics.cache = Some(cache);
        self
    }

    /// Turns result caching off: every query runs against the database.
    pub fn without_result_cache(mut self) -> Self {
        self.analytics.cache = None;
        self
    }

    /// How long a cached result is served (default five minutes).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.analytics.cache_ttl = ttl;
        self
    }

    /// Results larger than this (about, in bytes of JSON) are not cached (default 1 000 000).
    pub fn with_max_cached_result_bytes(mut self, max: usize) -> Self {
        self.analytics.max_cached_result_bytes = max;
        self
    }

    /// Functions custom SQL may call beyond the built-in allow-list (aggregates, window, math,
    /// string, date/time, conditional, cast, JSON, array and set-returning functions; see
    /// [`custom_sql`](crate::custom_sql)), such as the host's own functions. Names are compared
    /// case-insensitively and add to any already given; they are allowed in `FROM` too.
    pub fn with_allowed_functions<T: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = T>,
    ) -> Self {
        self.analytics
            .allowed_functions
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// The longest custom SQL statement, in bytes (default 64 KiB); a longer one is refused
    /// before it is parsed, naming `max_sql_bytes` (422 from `execute_sql`, `valid: false` from
    /// `validate_sql`).
    pub fn with_max_sql_bytes(mut self, max: usize) -> Self {
        self.analytics.max_sql_bytes = max;
        self
    }

    /// How many queries one tenant may run at once (default 8; `None` for no limit). More wait
    /// their turn, up to the query timeout, so one tenant's busy dashboard cannot take every
    /// database connection from the others.
    pub fn with_max_concurrent_queries_per_tenant(mut self, max: impl Into<Option<usize>>) -> Self {
        self.analytics.tenant_gates = Arc::new(TenantGates::new(max.into()));
        self
    }

    /// How long an introspected schema is reused (default one hour).
    pub fn with_schema_cache_ttl(mut self, ttl: Duration) -> Self {
        self.analytics.schema_cache = Arc::new(SchemaCache::new(ttl));
        self
    }

    /// How many dashboards one owner may have (default 1000; `None` for no limit).
    pub fn with_max_dashboards_per_owner(mut self, max: impl Into<Option<u32>>) -> Self {
        self.limits.dashboards_per_owner = max.into();
        self
    }

    /// How many widgets one dashboard may have (default 200; `None` for no limit).
    pub fn with_max_widgets_per_dashboard(mut self, max: impl Into<Option<u32>>) -> Self {
        self.limits.widgets_per_dashboard = max.into();
        self
    }

    /// The longest dashboard or saved-query name, in characters (default 255).
    pub fn with_max_name_length(mut self, max: usize) -> Self {
        self.limits.name_length = max;
        self
    }

    /// The longest widget title, in characters (default 255).
    pub fn with_max_title_length(mut self, max: usize) -> Self {
        self.limits.title_length = max;
        self
    }

    /// The longest dashboard or saved-query description, in characters (default 10 000).
    pub fn with_max_description_length(mut self, max: usize) -> Self {
        self.limits.description_length = max;
        self
    }

    /// How many filters one dashboard may have (default 50).
    pub fn with_max_filters_per_dashboard(mut self, max: usize) -> Self {
        self.limits.filters_per_dashboard = max;
        self
    }

    /// Checks every backend: the store (named by it, e.g. `database`), the data source
    /// (`data_source`) and the result cache (`cache`), each with its latency or its error.
    /// A check is `critical` when the engine cannot serve requests without it.
    pub async fn health_checks(&self) -> Vec<HealthCheck> {
        let timed = |name: &'static str,
                     critical: bool,
                     started: Instant,
                     outcome: Result<(), String>| HealthCheck {
            name,
            critical,
            outcome: outcome.map(|()| started.elapsed()),
        };
        let mut checks = Vec::with_capacity(3);
        let started = Instant::now();
        let store = self
            .dashboards
            .ping()
            .await
            .map_err(|e| crate::error::error_chain(&e));
        checks.push(timed(
            self.dashboards.health_check_name(),
            true,
            started,
            store,
        ));
        if let Some(source) = &self.analytics.source {
            let started = Instant::now();
            let outcome = source
                .ping()
                .await
                .map_err(|e| crate::error::error_chain(&e));
            checks.push(timed("data_source", true, started, outcome));
        }
        if let Some(cache) = &self.analytics.cache {
            let started = Instant::now();
            let outcome = cache
                .ping()
                .await
                .map_err(|e| crate::error::error_chain(&*e));
            checks.push(timed("cache", false, started, outcome));
        }
        checks
    }

    // ----- dashboards -------------------------------------------------------------------------

    /// The dashboards the caller may view, most recently updated first.
    pub async fn list_dashboards(&self, auth: &dyn AuthContext) -> Result<Vec<Dashboard>> {
        let viewer = Viewer::of(auth);
        let mut list = self
            .dashboards
            .list_dashboards(&Scope::of(auth), &viewer)
            .await
            .map_err(EngineError::Store)?;
        // The store filters already; this keeps a faulty store from leaking.
        list.retain(|d| viewer.can_view_dashboard(d));
        Ok(list)
    }

    /// [`list_dashboards`](Self::list_dashboards) as the JSON the API returns for each
    /// dashboard (see [`get_dashboard_json`](Self::get_dashboard_json)).
    pub async fn list_dashboards_json(&self, auth: &dyn AuthContext) -> Result<Vec<DashboardJson>> {
        let viewer = Viewer::of(auth);
        let mut list = self
            .dashboards
            .list_dashboards_json(&Scope::of(auth), &viewer)
            .await
            .map_err(EngineError::Store)?;
        // The store filters already; this keeps a faulty store from leaking.
        list.retain(|d| viewer.can_view_dashboard_json(d));
        Ok(list)
    }

    /// One dashboard the caller may view.
    pub async fn get_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<Dashboard> {
        let dashboard = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_view_dashboard(auth, &dashboard))?;
        Ok(dashboard)
    }

    /// One dashboard the caller may view, as the JSON the API returns for it (see
    /// [`DashboardJson`]): what [`get_dashboard`](Self::get_dashboard) returns, serialized,
    /// without decoding the stored widgets when the store can build the document itself.
    pub async fn get_dashboard_json(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<DashboardJson> {
        let document = self
            .dashboards
            .get_dashboard_json(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))?;
        ensure(Viewer::of(auth).can_view_dashboard_json(&document))?;
        Ok(document)
    }

    /// Creates a dashboard, with its initial widgets, owned by the caller.
    pub async fn create_dashboard(
        &self,
        auth: &dyn AuthContext,
        create: DashboardCreate,
    ) -> Result<Dashboard> {
        self.check_name("Dashboard name", &create.name)?;
        self.check_description(create.description.as_deref())?;
        self.check_filters(&create.filters)?;
        let widgets: Vec<(WidgetId, WidgetContent)> = create
            .widgets
            .into_iter()
            .map(|w| (WidgetId::new(), WidgetContent::from(w)))
            .collect();
        self.check_widgets(&create.layout, widgets.iter().map(|(_, c)| c))?;
        let new = NewDashboard {
            id: DashboardId::new(),
            name: create.name,
            description: create.description,
            layout: create.layout,
            filters: create.filters,
            owner_id: permissions::user(auth).map(str::to_owned),
            is_public: create.is_public,
            allowed_viewers: create.allowed_viewers,
            widgets,
        };
        self.insert_dashboard(auth, new).await
    }

    async fn insert_dashboard(
        &self,
        auth: &dyn AuthContext,
        new: NewDashboard,
    ) -> Result<Dashboard> {
        let name = new.name.clone();
        self.dashboards
            .create_dashboard(&Scope::of(auth), new, self.limits.dashboards_per_owner)
            .await
            .map_err(|err| match err {
                StoreError::LimitReached => EngineError::LimitExceeded(format!(
                    "Dashboard limit reached: an owner may have at most {} dashboards \
                     (max_dashboards_per_owner)",
                    self.limits.dashboards_per_owner.unwrap_or_default()
                )),
                err => self.store_error(err, &name, || EngineError::Store(StoreError::NotFound)),
            })
    }

    /// Changes a dashboard the caller may edit. With `widgets`, saves the whole dashboard.
    pub async fn update_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
        update: DashboardUpdate,
    ) -> Result<Dashboard> {
        let current = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_edit_dashboard(auth, &current))?;

        if let Some(name) = &update.name {
            self.check_name("Dashboard name", name)?;
        }
        if let Some(description) = update.description.as_value() {
            self.check_description(Some(description))?;
        }
        if let Some(filters) = &update.filters {
            self.check_filters(filters)?;
        }
        let layout = update.layout.as_ref().unwrap_or(&current.layout);
        let widgets = match update.widgets {
            Some(saves) => {
                let mut seen = HashSet::new();
                let mut widgets = Vec::with_capacity(saves.len());
                for save in saves {
                    let id = save
                        .id
                        .as_deref()
                        .and_then(|raw| raw.parse::<WidgetId>().ok())
                        .unwrap_or_default();
                    if !seen.insert(id) {
                        return Err(EngineError::Invalid(format!(
                            "Widget id '{id}' appears more than once in `widgets`"
                        )));
                    }
                    let content = WidgetContent {
                        widget_type: save.widget_type,
                        title: save.title,
                        query: save.query,
                        position: save.position,
                        config: save.config,
                    };
                    widgets.push((id, content));
                }
                self.check_widgets(layout, widgets.iter().map(|(_, c)| c))?;
                Some(widgets)
            }
            None => {
                if update.layout.is_some() {
                    self.check_positions(
                        layout,
                        current.widgets.iter().map(|w| (&w.title, &w.position)),
                    )?;
                }
                None
            }
        };
        let name = update.name.clone().unwrap_or_default();
        let changes = DashboardChanges {
            name: update.name,
            description: update.description,
            layout: update.layout,
            filters: update.filters,
            is_public: update.is_public,
            allowed_viewers: update.allowed_viewers,
            widgets,
        };
        self.dashboards
            .update_dashboard(&Scope::of(auth), id, changes)
            .await
            .map_err(|err| self.store_error(err, &name, || dashboard_not_found(id)))
    }

    /// Deletes a dashboard the caller may delete, with its widgets and pins.
    pub async fn delete_dashboard(&self, auth: &dyn AuthContext, id: DashboardId) -> Result<()> {
        let current = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_delete_dashboard(auth, &current))?;
        self.dashboards
            .delete_dashboard(&Scope::of(auth), id)
            .await
            .map_err(|err| self.store_error(err, "", || dashboard_not_found(id)))
    }

    /// The portable form of a dashboard the caller may view.
    pub async fn export_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<DashboardExport> {
        Ok(DashboardExport::of(&self.get_dashboard(auth, id).await?))
    }

    /// Creates a dashboard owned by the caller from an export, all or nothing.
    pub async fn import_dashboard(
        &self,
        auth: &dyn AuthContext,
        import: DashboardImport,
    ) -> Result<Dashboard> {
        let export = import.export_data;
        let major = export.version.split('.').next().unwrap_or_default();
        if major != "1" {
            return Err(EngineError::Invalid(format!(
                "Unsupported export version '{}': this server reads version 1.x exports",
                export.version
            )));
        }
        let create = DashboardCreate {
            name: import.name_override.unwrap_or(export.name),
            description: export.description,
            layout: export.layout,
            widgets: export.widgets.into_iter().map(WidgetCreate::from).collect(),
            filters: export.filters,
            is_public: false,
            allowed_viewers: Vec::new(),
        };
        self.create_dashboard(auth, create).await
    }

    // ----- widgets ----------------------------------------------------------------------------

    /// Adds a widget to a dashboard the caller may edit.
    pub async fn add_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        create: WidgetCreate,
    ) -> Result<Widget> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let content = WidgetContent::from(create);
        self.check_widget(&dashboard.layout, &content)?;
        self.insert_widget(auth, dashboard_id, content).await
    }

    async fn insert_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        content: WidgetContent,
    ) -> Result<Widget> {
        self.dashboards
            .add_widget(
                &Scope::of(auth),
                dashboard_id,
                WidgetId::new(),
                content,
                self.limits.widgets_per_dashboard,
            )
            .await
            .map_err(|err| match err {
                StoreError::LimitReached => self.widget_limit_error(),
                err => self.store_error(err, "", || dashboard_not_found(dashboard_id)),
            })
    }

    /// Changes a widget of a dashboard the caller may edit.
    pub async fn update_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        update: WidgetUpdate,
    ) -> Result<Widget> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let widget = find_widget(&dashboard, widget_id)?;
        let mut content = WidgetContent::of(widget);
        if let Some(widget_type) = update.widget_type {
            content.widget_type = widget_type;
        }
        if let Some(title) = update.title {
            content.title = title;
        }
        update.query.apply(&mut content.query);
        if let Some(position) = update.position {
            content.position = position;
        }
        if let Some(config) = update.config {
            content.config = config;
        }
        self.check_widget(&dashboard.layout, &content)?;
        self.dashboards
            .update_widget(&Scope::of(auth), dashboard_id, widget_id, content)
            .await
            .map_err(|err| self.store_error(err, "", || widget_not_found(widget_id)))
    }

    /// Deletes a widget of a dashboard the caller may edit.
    pub async fn delete_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> Result<()> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        find_widget(&dashboard, widget_id)?;
        self.dashboards
            .delete_widget(&Scope::of(auth), dashboard_id, widget_id)
            .await
            .map_err(|err| self.store_error(err, "", || widget_not_found(widget_id)))
    }

    /// Copies a widget of a dashboard the caller may edit, titled `"<title> (Copy)"` and placed
    /// one column to the right (or, when that leaves the grid, just below the original).
    pub async fn duplicate_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> Result<Widget> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let mut content = WidgetContent::of(find_widget(&dashboard, widget_id)?);
        content.title.push_str(" (Copy)");
        let mut moved = content.position;
        moved.x += 1;
        if moved.fits(dashboard.layout.columns) {
            content.position = moved;
        } else {
            content.position.y = content.position.y.saturating_add(content.position.h);
        }
        self.check_widget(&dashboard.layout, &content)?;
        self.insert_widget(auth, dashboard_id, content).await
    }

    /// Moves widgets of a dashboard the caller may edit; ids not on it are skipped.
    pub async fn update_layout(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        items: Vec<LayoutItem>,
    ) -> Result<Dashboard> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let mut positions = Vec::with_capacity(items.len());
        for item in items {
            let Some(widget) = item
                .widget_id
                .parse::<WidgetId>()
                .ok()
                .and_then(|id| dashboard.widgets.iter().find(|w| w.id == id))
            else {
                continue;
            };
            self.check_positions(&dashboard.layout, [(&widget.title, &item.position)])?;
            positions.push((widget.id, item.position));
        }
        self.dashboards
            .update_layout(&Scope::of(auth), dashboard_id, &positions)
            .await
            .map_err(|err| self.store_error(err, "", || dashboard_not_found(dashboard_id)))
    }

    // ----- saved queries ----------------------------------------------------------------------

    /// The saved queries the caller may read, by name.
    pub async fn list_saved_queries(&self, auth: &dyn AuthContext) -> Result<Vec<SavedQuery>> {
        let viewer = Viewer::of(auth);
        let mut list = self
            .saved_queries
            .list_saved_queries(&Scope::of(auth), &viewer)
            .await
            .map_err(EngineError::Store)?;
        list.retain(|q| viewer.can_read_saved_query(q));
        Ok(list)
    }

    /// One saved query the caller may read.
    pub async fn get_saved_query(
        &self,
        auth: &dyn AuthContext,
        id: SavedQueryId,
    ) -> Result<SavedQuery> {
        self.saved_queries
            .get_saved_query(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .filter(|q| permissions::can_read_saved_query(auth, q))
            .ok_or_else(|| saved_query_not_found(id))
    }

    /// Saves a query owned by the caller.
    pub async fn create_saved_query(
        &self,
        auth: &dyn AuthContext,
        create: SavedQueryCreate,
    ) -> Result<SavedQuery> {
        self.check_name("Saved query name", &create.name)?;
        self.check_description(create.description.as_deref())?;
        let name = create.name.clone();
        let new = NewSavedQuery {
            id: SavedQueryId::new(),
            name: create.name,
            description: create.description,
            query: create.query,
            owner_id: permissions::user(auth).map(str::to_owned),
            is_shared: create.is_shared,
        };
        self.saved_queries
            .create_saved_query(&Scope::of(auth), new)
            .await
            .map_err(|err| {
                self.store_error(err, &name, || EngineError::Store(StoreError::NotFound))
            })
    }

    /// Changes a saved query the caller owns (or any, for an admin). An empty update just
    /// returns the query, if the caller may read it.
    pub async fn update_saved_query(
        &self,
        auth: &dyn AuthContext,
        id: SavedQueryId,
        update: SavedQueryUpdate,
    ) -> Result<SavedQuery> {
        let current = self.get_saved_query(auth, id).await?;
        if update.is_empty() {
            return Ok(current);
        }
        ensure(permissions::can_write_saved_query(auth, &current))?;
        if let Some(name) = &update.name {
            self.check_name("Saved query name", name)?;
        }
        if let Some(description) = update.description.as_value() {
            self.check_description(Some(description))?;
        }
        let name = update.name.clone().unwrap_or_default();
        let changes = SavedQueryChanges {
            name: update.name,
            description: update.description,
            query: update.query,
            is_shared: update.is_shared,
        };
        self.saved_queries
            .update_saved_query(&Scope::of(auth), id, changes)
            .await
            .map_err(|err| self.store_error(err, &name, || saved_query_not_found(id)))
    }

    /// Deletes a saved query the caller owns (or any, for an admin).
    pub async fn delete_saved_query(&self, auth: &dyn AuthContext, id: SavedQueryId) -> Result<()> {
        let current = self.get_saved_query(auth, id).await?;
        ensure(permissions::can_write_saved_query(auth, &current))?;
        self.saved_queries
            .delete_saved_query(&Scope::of(auth), id)
            .await
            .map_err(|err| self.store_error(err, "", || saved_query_not_found(id)))
    }

    // ----- pins -------------------------------------------------------------------------------

    /// Pins a dashboard the caller may view, for the caller, in a context.
    pub async fn pin_dashboard(
        &self,
        auth: &dyn AuthContext,
        request: PinRequest,
    ) -> Result<PinnedDashboard> {
        let user = pin_user(auth)?;
        let dashboard_id = request
            .dashboard_id
            .parse::<DashboardId>()
            .map_err(|_| EngineError::DashboardNotFound(request.dashboard_id.clone()))?;
        self.get_dashboard(auth, dashboard_id).await?;
        self.pins
            .pin(
                &Scope::of(auth),
                user,
                PinId::new(),
                dashboard_id,
                &request.context,
                request.position,
            )
            .await
            .map_err(|err| match err {
                StoreError::Conflict(Conflict::Pin) => EngineError::Conflict(format!(
                    "Dashboard '{dashboard_id}' already pinned to context '{}'",
                    request.context
                )),
                err => self.store_error(err, "", || dashboard_not_found(dashboard_id)),
            })
    }

    /// Removes one of the caller's pins.
    pub async fn unpin_dashboard(
        &self,
        auth: &dyn AuthContext,
        request: UnpinRequest,
    ) -> Result<()> {
        let user = pin_user(auth)?;
        let not_found = || EngineError::PinNotFound {
            dashboard_id: request.dashboard_id.clone(),
            context: request.context.clone(),
        };
        let dashboard_id = request
            .dashboard_id
            .parse::<DashboardId>()
            .map_err(|_| not_found())?;
        self.pins
            .unpin(&Scope::of(auth), user, dashboard_id, &request.context)
            .await
            .map_err(|err| self.store_error(err, "", not_found))
    }

    /// The caller's pins in a context, with their dashboards, leaving out dashboards the caller
    /// may no longer view.
    pub async fn list_pins(
        &self,
        auth: &dyn AuthContext,
        context: &str,
    ) -> Result<PinnedDashboards> {
        let user = pin_user(auth)?;
        let viewer = Viewer::of(auth);
        let pairs = self
            .pins
            .list_pins(&Scope::of(auth), user, context)
            .await
            .map_err(EngineError::Store)?;
        let (pins, dashboards) = pairs
            .into_iter()
            .filter(|(_, dashboard)| viewer.can_view_dashboard(dashboard))
            .unzip();
        Ok(PinnedDashboards { dashboards, pins })
    }

    /// The contexts in which the caller pinned a dashboard the caller may view.
    pub async fn dashboard_pin_contexts(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
    ) -> Result<Vec<String>> {
        let user = pin_user(auth)?;
        self.get_dashboard(auth, dashboard_id).await?;
        self.pins
            .pin_contexts(&Scope::of(auth), user, dashboard_id)
            .await
            .map_err(EngineError::Store)
    }

    /// Reorders the caller's pins in a context; ids not pinned there are ignored.
    pub async fn reorder_pins(
        &self,
        auth: &dyn AuthContext,
        request: ReorderPinsRequest,
    ) -> Result<()> {
        let user = pin_user(auth)?;
        let ids: Vec<DashboardId> = request
            .dashboard_ids
            .iter()
            .filter_map(|raw| raw.parse().ok())
            .collect();
        self.pins
            .reorder_pins(&Scope::of(auth), user, &request.context, &ids)
            .await
            .map_err(EngineError::Store)
    }

    // ----- helpers ----------------------------------------------------------------------------

    async fn load_dashboard(&self, auth: &dyn AuthContext, id: DashboardId) -> Result<Dashboard> {
        self.dashboards
            .get_dashboard(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .ok_or_else(|| dashboard_not_found(id))
    }

    async fn editable_dashboard(
        &self,
        auth: &dyn AuthContext,
        id: DashboardId,
    ) -> Result<Dashboard> {
        let dashboard = self.load_dashboard(auth, id).await?;
        ensure(permissions::can_edit_dashboard(auth, &dashboard))?;
        Ok(dashboard)
    }

    /// Maps a store error, naming `name` in conflicts and using `not_found` for a missing object.
    fn store_error(
        &self,
        err: StoreError,
        name: &str,
        not_found: impl FnOnce() -> EngineError,
    ) -> EngineError {
        match err {
            StoreError::NotFound => not_found(),
            StoreError::Conflict(Conflict::DashboardName) => {
                EngineError::Conflict(format!("A dashboard named '{name}' already exists"))
            }
            StoreError::Conflict(Conflict::SavedQueryName) => {
                EngineError::Conflict(format!("A saved query named '{name}' already exists"))
            }
            StoreError::Conflict(Conflict::WidgetId) => EngineError::Conflict(
                "A widget id in the request is already used by another dashboard; \
                 omit the id to have one generated"
                    .to_owned(),
            ),
            StoreError::Conflict(Conflict::Pin) => {
                EngineError::Conflict("Dashboard already pinned to this context".to_owned())
            }
            StoreError::LimitReached => self.widget_limit_error(),
            err => EngineError::Store(err),
        }
    }

    fn widget_limit_error(&self) -> EngineError {
        EngineError::LimitExceeded(format!(
            "Widget limit reached: a dashboard may have at most {} widgets \
             (max_widgets_per_dashboard)",
            self.limits.widgets_per_dashboard.unwrap_or_default()
        ))
    }

    fn check_name(&self, what: &str, name: &str) -> Result<()> {
        if name.trim().is_empty() {
            return Err(EngineError::Invalid(format!("{what} must not be empty")));
        }
        check_length(what, name, self.limits.name_length, "max_name_length")
    }

    fn check_description(&self, description: Option<&str>) -> Result<()> {
        description.map_or(Ok(()), |d| {
            check_length(
                "Description",
                d,
                self.limits.description_length,
                "max_description_length",
            )
        })
    }

    fn check_filters(&self, filters: &[DashboardFilter]) -> Result<()> {
        if filters.len() > self.limits.filters_per_dashboard {
            return Err(EngineError::LimitExceeded(format!(
                "Too many filters: a dashboard may have at most {} (max_filters_per_dashboard)",
                self.limits.filters_per_dashboard
            )));
        }
        let mut ids = HashSet::new();
        for filter in filters {
            if !ids.insert(filter.id.as_str()) {
                return Err(EngineError::Invalid(format!(
                    "Filter id '{}' appears more than once in `filters`",
                    filter.id
                )));
            }
        }
        Ok(())
    }

    fn check_widgets<'a>(
        &self,
        layout: &DashboardLayout,
        widgets: impl ExactSizeIterator<Item = &'a WidgetContent>,
    ) -> Result<()> {
        if let Some(max) = self.limits.widgets_per_dashboard
            && widgets.len() > max as usize
        {
            return Err(self.widget_limit_error());
        }
        for widget in widgets {
            self.check_widget(layout, widget)?;
        }
        Ok(())
    }

    fn check_widget(&self, layout: &DashboardLayout, widget: &WidgetContent) -> Result<()> {
        check_length(
            "Widget title",
            &widget.title,
            self.limits.title_length,
            "max_title_length",
        )?;
        if widget.query.is_some() && widget.config.raw_sql.is_some() {
            return Err(EngineError::Invalid(
                "raw_sql and query are mutually exclusive; set one or the other, not both"
                    .to_owned(),
            ));
        }
        self.check_positions(layout, [(&widget.title, &widget.position)])
    }

    #[allow(clippy::unused_self)]
    fn check_positions<'a>(
        &self,
        layout: &DashboardLayout,
        positions: impl IntoIterator<Item = (&'a String, &'a crate::model::WidgetPosition)>,
    ) -> Result<()> {
        for (title, position) in positions {
            if !position.fits(layout.columns) {
                return Err(EngineError::Invalid(format!(
                    "Widget '{title}' does not fit the grid: x ({}) + w ({}) must be at most \
                     the layout's {} columns",
                    position.x, position.w, layout.columns
                )));
            }
        }
        Ok(())
    }
}

fn ensure(allowed: bool) -> Result<()> {
    if allowed {
        Ok(())
    } else {
        Err(EngineError::PermissionDenied)
    }
}

fn check_length(what: &str, value: &str, max: usize, setting: &str) -> Result<()> {
    let length = value.chars().count();
    if length > max {
        return Err(EngineError::LimitExceeded(format!(
            "{what} is {length} characters long; the limit is {max} ({setting})"
        )));
    }
    Ok(())
}

fn pin_user(auth: &dyn AuthContext) -> Result<&str> {
    permissions::user(auth).ok_or(EngineError::UserRequired)
}

fn find_widget(dashboard: &Dashboard, widget_id: WidgetId) -> Result<&Widget> {
    dashboard
        .widgets
        .iter()
        .find(|w| w.id == widget_id)
        .ok_or_else(|| widget_not_found(widget_id))
}

fn dashboard_not_found(id: DashboardId) -> EngineError {
    EngineError::DashboardNotFound(id.to_string())
}

fn widget_not_found(id: WidgetId) -> EngineError {
    EngineError::WidgetNotFound(id.to_string())
}

fn saved_query_not_found(id: SavedQueryId) -> EngineError {
    EngineError::SavedQueryNotFound(id.to_string())
}
