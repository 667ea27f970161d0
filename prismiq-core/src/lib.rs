//! The core of Prismiq, the embeddable analytics SDK: domain types, permission rules, store
//! traits with an in-memory store, and the [`Engine`] that enforces every rule.
//!
//! This crate has no HTTP stack and no database driver. `prismiq-axum` mounts the engine as an
//! axum router; `prismiq-store-postgres` stores everything in PostgreSQL.
//!
//! # Quick start
//!
//! ```
//! use prismiq_core::{
//!     DashboardCreate, Engine, MemoryStore, SimpleAuthContext, WidgetCreate, WidgetPosition,
//!     WidgetType,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let engine = Engine::new(MemoryStore::new());
//! // In a host app this is your own auth type implementing `AuthContext`.
//! let alice = SimpleAuthContext::new("acme").with_user("alice");
//!
//! let mut create = DashboardCreate::named("Revenue");
//! let position = WidgetPosition::new(0, 0, 6, 2).unwrap();
//! create.widgets.push(WidgetCreate::new(WidgetType::Text, "Notes", position));
//! let dashboard = engine.create_dashboard(&alice, create).await?;
//! assert_eq!(dashboard.widgets.len(), 1);
//!
//! // Bob, in the same tenant, may not view Alice's private dashboard.
//! let bob = SimpleAuthContext::new("acme").with_user("bob");
//! assert!(engine.get_dashboard(&bob, dashboard.id).await.is_err());
//! # Ok::<(), prismiq_core::EngineError>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---|---|---|
//! | `memory-store` | yes | [`MemoryStore`], every store trait in process memory |
//! | `memory-cache` | yes | [`cache::MemoryCache`] (moka), the result cache an [`Engine`] starts with |
//! | `redis-cache` | no | `cache::RedisCache`: a result cache shared by several instances |
//! | `redis` | no | `events::RedisBus`: live events shared by several instances through Redis pub/sub (implies `redis-cache`) |
//! | `test-utils` | no | `testing`: the store conformance suite and `store_conformance!`; `query::testing`: the query generator (implies `memory-store`) |
//! | `openapi` | no | `utoipa::ToSchema` on the wire types, for OpenAPI documents |

#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
pub mod cache;
pub mod catalogue;
pub mod custom_sql;
mod dialect;
mod engine;
mod error;
pub mod events;
pub mod filter_params;
mod ids;
mod model;
#[cfg(feature = "openapi")]
mod openapi;
pub mod permissions;
/// Automatic placement of widgets that come without a position.
pub mod placement;
pub mod query;
mod row_filter;
mod schema;
mod source;
mod store;
#[cfg(feature = "test-utils")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-utils")))]
pub mod testing;
mod transform;

pub use auth::{AuthContext, Change, Retention, Scope, SimpleAuthContext};
pub use catalogue::{WidgetCatalogue, WidgetDataProvider, WidgetTypeSpec};
pub use dialect::Dialect;
pub use engine::{
    DashboardData, DiffSummary, Engine, ExecuteSqlRequest, Executed, Export, ExportChunk,
    ExportLimits, HealthCheck, HealthReport, HealthStatus, MAX_VERSIONS_PAGE, MetricTrendRequest,
    PinnedDashboards, ShareViewer, SharedDashboard, StarterDashboard, SummariesPage,
    TemplateAccess, TimeSeriesRequest, VersionDiff, VersionsPage, WidgetOutcome,
};
pub use error::{EngineError, Limit, Missing, Unanswerable, Violation};
pub use ids::{DashboardId, PinId, SavedQueryId, ShareId, TemplateId, WidgetId};
pub use model::{
    AnyConfig, ChangeKind, CreatedShare, Dashboard, DashboardCreate, DashboardExport,
    DashboardFilter, DashboardFromTemplate, DashboardImport, DashboardJson, DashboardLayout,
    DashboardSummary, DashboardTemplate, DashboardUpdate, DashboardVersion, DataSourceMode,
    EXPORT_VERSION, FilterType, FilterValue, Hyperlink, LayoutItem, LinkTarget, Patch, PinRequest,
    PinnedDashboard, PositionRequest, QueryDefinition, ReorderPinsRequest, SavedQuery,
    SavedQueryCreate, SavedQueryUpdate, Share, ShareCreate, TemplateContent, TemplateCreate,
    TemplateSource, Timestamp, UnpinRequest, VersionEntry, Widget, WidgetConfig, WidgetContent,
    WidgetCreate, WidgetExport, WidgetPosition, WidgetSave, WidgetType, WidgetUpdate,
};
pub use row_filter::{RowCondition, RowFilter, RowPredicate};
pub use schema::{
    ColumnConfig, ColumnSchema, DataSourceEntry, DatabaseSchema, EnhancedColumnSchema,
    EnhancedDatabaseSchema, EnhancedTableSchema, Relationship, SchemaConfig, TableConfig,
    TableSchema,
};
pub use source::{
    BoxError, CompiledQuery, DataSource, ExecutionContext, QueryResult, RowStream, SourceError,
};
#[cfg(feature = "memory-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-store")))]
pub use store::MemoryStore;
pub use store::{
    Conflict, DashboardChanges, DashboardStore, DefaultFor, Defaults, NewDashboard, NewSavedQuery,
    NewShare, NewTemplate, PinStore, SavedQueryChanges, SavedQueryStore, SchemaConfigStore,
    ShareStore, StoreError, StoreResult, StoredShare, SummaryPage, TemplateStore,
};
pub use transform::{
    ComparisonPeriod, Direction, PivotRequest, TransformError, TrendColumnRequest, TrendResult,
    add_trend_column, pivot, trend,
};
