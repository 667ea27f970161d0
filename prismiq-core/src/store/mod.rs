//! Persistence: the store traits every backend implements, and the in-memory backend.
//!
//! One concern, if a long file: the contract between the Engine and a backend — the traits
//! and the plain values their methods take (each backend's code is in its own crate or, for
//! memory, in `memory/`, one file per trait).
//!
//! Stores persist and never authorize: each method takes the tenant [`Scope`] and plain data,
//! and the [`Engine`](crate::Engine) decides beforehand whether the caller may do it. Every
//! method must confine itself to the scope's tenant: another tenant's object does not exist.
//!
//! A backend implements [`DashboardStore`], [`SavedQueryStore`] and [`PinStore`], and proves it
//! with the conformance suite in `prismiq_core::testing` (feature `test-utils`):
//!
//! ```ignore
//! prismiq_core::store_conformance!(async || MyStore::connect().await);
//! ```

#[cfg(feature = "memory-store")]
mod memory;

use std::fmt::Debug;

use async_trait::async_trait;

use crate::auth::Scope;
use crate::ids::{DashboardId, PinId, SavedQueryId, ShareId, TemplateId, WidgetId};
use crate::model::{
    Dashboard, DashboardFilter, DashboardJson, DashboardLayout, DashboardSummary,
    DashboardTemplate, Patch, PinnedDashboard, QueryDefinition, SavedQuery, Share, TemplateContent,
    TemplateSource, Timestamp, Widget, WidgetContent, WidgetPosition,
};
use crate::permissions::Viewer;
use crate::schema::SchemaConfig;
use crate::source::BoxError;

#[cfg(feature = "memory-store")]
pub use memory::MemoryStore;

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// What went wrong in a store. Backends map their own errors to this type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object (or the dashboard it belongs to) does not exist in the tenant.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// A count limit passed to the store would be exceeded.
    #[error("limit reached")]
    LimitReached,
    /// The backend cannot hold a value of the request (PostgreSQL refuses text with U+0000,
    /// say); the message is the backend's. The caller's to fix.
    #[error("value cannot be stored: {0}")]
    Rejected(String),
    /// The backend cannot be reached right now (database down, pool exhausted); retrying later
    /// may succeed.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure.
    #[error("store backend failed")]
    Backend(#[source] BoxError),
    /// The write expected another version of the dashboard ([`Change::expected_version`](crate::Change::expected_version));
    /// nothing was changed.
    #[error("the dashboard is at version {current}")]
    Stale {
        /// The dashboard's version now.
        current: u64,
    },
}

impl StoreError {
    /// What a write that found no dashboard at the version its change expects fails with: the
    /// dashboard's version now (`current`, as the database holds it), or not found without one.
    pub fn not_at_version(current: Option<i64>) -> Self {
        match current {
            Some(current) => Self::Stale {
                current: u64::try_from(current).unwrap_or_default(),
            },
            None => Self::NotFound,
        }
    }
}

/// Which uniqueness rule a [`StoreError::Conflict`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// Dashboard names are unique per tenant.
    DashboardName,
    /// Saved-query names are unique per tenant.
    SavedQueryName,
    /// A widget id is already used by another dashboard.
    WidgetId,
    /// The dashboard is already pinned in that context by that user.
    Pin,
    /// Tenant template names are unique per tenant.
    TemplateName,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::DashboardName => "dashboard name already used",
            Self::SavedQueryName => "saved query name already used",
            Self::WidgetId => "widget id already used",
            Self::Pin => "dashboard already pinned",
            Self::TemplateName => "template name already used",
        })
    }
}

/// A dashboard to create, with its initial widgets.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDashboard {
    /// Its id.
    pub id: DashboardId,
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Grid settings.
    pub layout: DashboardLayout,
    /// Filters.
    pub filters: Vec<DashboardFilter>,
    /// Owner.
    pub owner_id: Option<String>,
    /// Public flag.
    pub is_public: bool,
    /// Viewers.
    pub allowed_viewers: Vec<String>,
    /// Seconds between automatic refreshes.
    pub refresh_interval: Option<u32>,
    /// Initial widgets, each with its id.
    pub widgets: Vec<(WidgetId, WidgetContent)>,
}

impl NewDashboard {
    /// The dashboard as created at `now`, its widgets in display order.
    pub fn into_dashboard(self, now: Timestamp) -> Dashboard {
        let mut dashboard = Dashboard {
            id: self.id,
            name: self.name,
            description: self.description,
            layout: self.layout,
            widgets: self
                .widgets
                .into_iter()
                .map(|(id, content)| content.into_widget(id, now, now))
                .collect(),
            filters: self.filters,
            owner_id: self.owner_id,
            created_at: now,
            updated_at: now,
            is_public: self.is_public,
            allowed_viewers: self.allowed_viewers,
            refresh_interval: self.refresh_interval,
            version: crate::model::first_version(),
        };
        dashboard.sort_widgets();
        dashboard
    }
}

/// Changes to a dashboard. `None` / [`Patch::Absent`] fields are unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DashboardChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Patch<String>,
    /// New grid settings.
    pub layout: Option<DashboardLayout>,
    /// New filters.
    pub filters: Option<Vec<DashboardFilter>>,
    /// New public flag.
    pub is_public: Option<bool>,
    /// New viewers.
    pub allowed_viewers: Option<Vec<String>>,
    /// New refresh interval; [`Patch::Null`] turns refreshing off.
    pub refresh_interval: Patch<u32>,
    /// The complete new widget list: ids already on the dashboard are updated in place, other
    /// ids are inserted (a [`Conflict::WidgetId`] if another dashboard uses one), widgets not
    /// listed are deleted.
    pub widgets: Option<Vec<(WidgetId, WidgetContent)>>,
}

impl DashboardChanges {
    /// Applies the dashboard's own fields (name, description, layout, filters, sharing) to
    /// `dashboard`, and gives back the new widget list, if any, for the store to save.
    pub fn apply_to(self, dashboard: &mut Dashboard) -> Option<Vec<(WidgetId, WidgetContent)>> {
        if let Some(name) = self.name {
            dashboard.name = name;
        }
        self.description.apply(&mut dashboard.description);
        if let Some(layout) = self.layout {
            dashboard.layout = layout;
        }
        if let Some(filters) = self.filters {
            dashboard.filters = filters;
        }
        if let Some(is_public) = self.is_public {
            dashboard.is_public = is_public;
        }
        if let Some(viewers) = self.allowed_viewers {
            dashboard.allowed_viewers = viewers;
        }
        self.refresh_interval.apply(&mut dashboard.refresh_interval);
        self.widgets
    }
}

/// Whose default dashboard: one user's, or the whole tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefaultFor<'a> {
    /// The user's own default.
    User(&'a str),
    /// The tenant-wide default an admin set.
    Tenant,
}

/// The default dashboards that apply to one caller, as stored (whether the caller may still
/// view them is the [`Engine`](crate::Engine)'s to check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Defaults {
    /// The caller's own default.
    pub user: Option<DashboardId>,
    /// The tenant's default.
    pub tenant: Option<DashboardId>,
}

/// One page of [`DashboardStore::list_dashboard_summaries`].
///
/// The order is the viewer's default dashboard first — their own default if they may view it,
/// else the tenant's if they may — then every other dashboard they may view by `updated_at`
/// descending and id descending. The default is on the first page only (`with_default`), and
/// not among the others there; later pages leave out `shown_default` instead (the default the
/// first page showed, even if the default changed since); `after` continues the rest of the
/// order after the given `(updated_at, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryPage {
    /// The caller's user id, whose own default counts (admins have one too).
    pub user_id: Option<String>,
    /// Whether the default leads this page.
    pub with_default: bool,
    /// Where the previous page ended in the order after the default; `None` from its start.
    pub after: Option<(Timestamp, DashboardId)>,
    /// On later pages, the default the first page showed, left out of the rest.
    pub shown_default: Option<DashboardId>,
    /// At most this many summaries, the default included.
    pub limit: usize,
}

/// A tenant template to save.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTemplate {
    /// Its id.
    pub id: TemplateId,
    /// Name, unique among the tenant's templates.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Who saves it.
    pub created_by: Option<String>,
    /// Layout, filters, widgets and refresh interval.
    pub content: TemplateContent,
}

impl NewTemplate {
    /// The template as stored, saved at `now`.
    pub fn into_template(self, now: Timestamp) -> DashboardTemplate {
        DashboardTemplate {
            id: self.id.to_string(),
            name: self.name,
            description: self.description,
            category: self.category,
            source: TemplateSource::Tenant,
            created_by: self.created_by,
            created_at: Some(now),
            layout: self.content.layout,
            filters: self.content.filters,
            widgets: self.content.widgets,
            refresh_interval: self.content.refresh_interval,
        }
    }
}

/// A saved query to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSavedQuery {
    /// Its id.
    pub id: SavedQueryId,
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The query.
    pub query: QueryDefinition,
    /// Owner.
    pub owner_id: Option<String>,
    /// Sharing flag.
    pub is_shared: bool,
}

/// Changes to a saved query. `None` / [`Patch::Absent`] fields are unchanged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SavedQueryChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Patch<String>,
    /// New query.
    pub query: Option<QueryDefinition>,
    /// New sharing flag.
    pub is_shared: Option<bool>,
}

/// Storage of dashboards and their widgets.
///
/// Dashboards come back with their widgets in display order (row, then column). Any change to
/// a dashboard or one of its widgets sets the dashboard's `updated_at`.
///
/// # The view rule is part of the contract
///
/// Listings filter by the caller, and a store may do it where it is fastest (the PostgreSQL
/// store does it in SQL), but it must implement exactly [`Viewer::can_view_dashboard`] (and,
/// for saved queries, [`Viewer::can_read_saved_query`]): no more, no less. The conformance
/// case `testing::listings_are_exactly_the_view_rule` (feature `test-utils`) checks it for
/// random dashboards and callers. The [`Engine`](crate::Engine) filters the
/// listing again, so a store that lists too much does not leak, but one that lists too little
/// hides dashboards from the people they are shared with.
#[async_trait]
pub trait DashboardStore: Debug + Send + Sync + 'static {
    /// The tenant's dashboards that `viewer` may view (see
    /// [`Viewer::can_view_dashboard`]), most recently updated first.
    async fn list_dashboards(&self, scope: &Scope, viewer: &Viewer) -> StoreResult<Vec<Dashboard>>;

    /// [`list_dashboards`](Self::list_dashboards) as the JSON the API returns for each
    /// dashboard, in the same order. The default serializes what `list_dashboards` returns;
    /// see [`get_dashboard_json`](Self::get_dashboard_json).
    async fn list_dashboards_json(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<DashboardJson>> {
        Ok(self
            .list_dashboards(scope, viewer)
            .await?
            .iter()
            .map(DashboardJson::from_dashboard)
            .collect())
    }

    /// One dashboard with its widgets.
    async fn get_dashboard(&self, scope: &Scope, id: DashboardId)
    -> StoreResult<Option<Dashboard>>;

    /// One dashboard as the JSON the API returns for it: the same dashboard as
    /// [`get_dashboard`](Self::get_dashboard), serialized.
    ///
    /// The default serializes what `get_dashboard` returns. A store that keeps dashboards as
    /// JSON overrides it to build the document where the data is, which spares the host
    /// decoding every widget and encoding it again on the API's most frequent read.
    async fn get_dashboard_json(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<DashboardJson>> {
        Ok(self
            .get_dashboard(scope, id)
            .await?
            .map(|dashboard| DashboardJson::from_dashboard(&dashboard)))
    }

    /// Who may see one dashboard: its owner, public flag and viewers. Live events ask it once
    /// per event delivered, so a store should answer it without reading the widgets. The
    /// default reads the whole dashboard.
    async fn dashboard_access(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<crate::permissions::DashboardAccess>> {
        Ok(self
            .get_dashboard(scope, id)
            .await?
            .map(|dashboard| crate::permissions::DashboardAccess::of(&dashboard)))
    }

    /// Creates a dashboard and its widgets, all or nothing.
    ///
    /// With `max_per_owner`, fails with [`StoreError::LimitReached`] if the owner (or, for an
    /// ownerless dashboard, the tenant's ownerless dashboards) already has that many, checked
    /// atomically with the insert. A taken name is [`Conflict::DashboardName`].
    async fn create_dashboard(
        &self,
        scope: &Scope,
        dashboard: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Dashboard>;

    /// Applies `changes`, all or nothing, and returns the dashboard as it now is.
    async fn update_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
        changes: DashboardChanges,
    ) -> StoreResult<Dashboard>;

    /// Deletes a dashboard with its widgets and every pin of it.
    async fn delete_dashboard(&self, scope: &Scope, id: DashboardId) -> StoreResult<()>;

    /// Adds a widget to a dashboard.
    ///
    /// With `max_widgets`, fails with [`StoreError::LimitReached`] if the dashboard already has
    /// that many, checked atomically with the insert.
    async fn add_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
        max_widgets: Option<u32>,
    ) -> StoreResult<Widget>;

    /// Replaces the content of a widget of `dashboard_id`.
    async fn update_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
    ) -> StoreResult<Widget>;

    /// Deletes a widget of `dashboard_id`.
    async fn delete_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> StoreResult<()>;

    /// Moves widgets of `dashboard_id`, all or nothing; ids not on the dashboard are skipped.
    /// Returns the dashboard as it now is.
    async fn update_layout(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        positions: &[(WidgetId, WidgetPosition)],
    ) -> StoreResult<Dashboard>;

    /// Versions of a dashboard, newest first: at most `limit` of them, below version `before`
    /// when given. `None` when the tenant has no such dashboard.
    ///
    /// Every write above to a dashboard or its widgets (and `create_dashboard`,
    /// `create_default`) makes a version in the same transaction: the dashboard's `version`
    /// goes up by one, and an entry records it with the [`Change`](crate::Change) of the
    /// scope (author, kind; without one, by nobody, of the kind the method implies) and the
    /// whole dashboard after the change. A write whose change expects another version fails
    /// with [`StoreError::Stale`] and changes nothing. The same write deletes what its
    /// retention no longer keeps. Deleting a dashboard deletes its versions.
    async fn list_versions(
        &self,
        scope: &Scope,
        id: DashboardId,
        limit: u32,
        before: Option<u64>,
    ) -> StoreResult<Option<Vec<crate::VersionEntry>>>;

    /// Version `version` of a dashboard with its document, if it is kept.
    async fn get_version(
        &self,
        scope: &Scope,
        id: DashboardId,
        version: u64,
    ) -> StoreResult<Option<crate::DashboardVersion>>;

    /// The default dashboards of the tenant and, when `user_id` is given, of that user.
    async fn defaults(&self, scope: &Scope, user_id: Option<&str>) -> StoreResult<Defaults>;

    /// Makes dashboard `id` the default of `whose`, replacing any earlier one;
    /// [`StoreError::NotFound`] when the tenant has no such dashboard.
    async fn set_default(
        &self,
        scope: &Scope,
        whose: DefaultFor<'_>,
        id: DashboardId,
    ) -> StoreResult<()>;

    /// Removes the default of `whose`, if any.
    async fn clear_default(&self, scope: &Scope, whose: DefaultFor<'_>) -> StoreResult<()>;

    /// Creates `dashboard` and makes it `user_id`'s default — once per user, ever: when a
    /// starter dashboard was already created for the user (by any instance, even if it was
    /// deleted since), creates nothing and returns `None`; otherwise returns the new
    /// dashboard's id. Atomic: many concurrent calls for one user, on any number of
    /// instances, create one dashboard. A name or limit failure creates nothing and records
    /// nothing.
    async fn create_default(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Option<DashboardId>>;

    /// One page of summaries of the dashboards `viewer` may view, in the order
    /// [`SummaryPage`] describes, in one round trip, with `is_default` set on the default.
    /// `is_owner` is left `false`: the [`Engine`](crate::Engine) sets it.
    async fn list_dashboard_summaries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
        page: &SummaryPage,
    ) -> StoreResult<Vec<DashboardSummary>>;

    /// A name for the health check of this store's backend (e.g. `"database"`).
    fn health_check_name(&self) -> &'static str {
        "store"
    }

    /// Checks that the backend answers.
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// Storage of saved queries.
#[async_trait]
pub trait SavedQueryStore: Debug + Send + Sync + 'static {
    /// The tenant's saved queries that `viewer` may read (see
    /// [`Viewer::can_read_saved_query`]), by name.
    async fn list_saved_queries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<SavedQuery>>;

    /// One saved query.
    async fn get_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
    ) -> StoreResult<Option<SavedQuery>>;

    /// Creates a saved query. A taken name is [`Conflict::SavedQueryName`].
    async fn create_saved_query(
        &self,
        scope: &Scope,
        query: NewSavedQuery,
    ) -> StoreResult<SavedQuery>;

    /// Applies `changes` and returns the saved query as it now is.
    async fn update_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
        changes: SavedQueryChanges,
    ) -> StoreResult<SavedQuery>;

    /// Deletes a saved query.
    async fn delete_saved_query(&self, scope: &Scope, id: SavedQueryId) -> StoreResult<()>;
}

/// Storage of pins, per tenant, user and context.
///
/// Within a (tenant, user, context) the positions are always `0..n-1` in order.
#[async_trait]
pub trait PinStore: Debug + Send + Sync + 'static {
    /// Pins a dashboard of the tenant ([`StoreError::NotFound`] if there is none) at
    /// `position` (clamped to the end; appended when `None`), shifting later pins down.
    /// Pinning twice is [`Conflict::Pin`].
    async fn pin(
        &self,
        scope: &Scope,
        user_id: &str,
        pin_id: PinId,
        dashboard_id: DashboardId,
        context: &str,
        position: Option<u32>,
    ) -> StoreResult<PinnedDashboard>;

    /// Removes a pin and closes the gap ([`StoreError::NotFound`] if there is none).
    async fn unpin(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
        context: &str,
    ) -> StoreResult<()>;

    /// The user's pins in a context, in position order, each with its dashboard.
    async fn list_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
    ) -> StoreResult<Vec<(PinnedDashboard, Dashboard)>>;

    /// The contexts, sorted, in which the user pinned a dashboard.
    async fn pin_contexts(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<String>>;

    /// Gives the listed dashboards positions `0..k-1` in that order, all or nothing; the other
    /// pins follow in their previous order. Ids that are not pinned there are ignored.
    async fn reorder_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
        dashboard_ids: &[DashboardId],
    ) -> StoreResult<()>;
}

/// A share link to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewShare {
    /// Id.
    pub id: ShareId,
    /// The dashboard it shows.
    pub dashboard_id: DashboardId,
    /// SHA-256 of the token, in lower-case hex: the token itself is never stored.
    pub token_hash: String,
    /// A note.
    pub label: Option<String>,
    /// Filter values always applied.
    pub locked_filters: std::collections::BTreeMap<String, serde_json::Value>,
    /// Whether viewers may download its widgets' rows.
    pub allow_export: bool,
    /// When it stops working.
    pub expires_at: Option<Timestamp>,
    /// Who created it.
    pub created_by: Option<String>,
    /// The creator's schema, fixed for every viewer of the link.
    pub schema_name: Option<String>,
}

impl NewShare {
    /// The share as listed, created at `now`.
    pub fn into_share(self, now: Timestamp) -> Share {
        Share {
            id: self.id,
            dashboard_id: self.dashboard_id,
            label: self.label,
            locked_filters: self.locked_filters,
            allow_export: self.allow_export,
            expires_at: self.expires_at,
            created_by: self.created_by,
            created_at: now,
        }
    }
}

/// A share link found by its token: the link, and the tenant and schema it was created in.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredShare {
    /// The link.
    pub share: Share,
    /// Its tenant.
    pub tenant_id: String,
    /// The creator's schema.
    pub schema_name: Option<String>,
    /// The token's hash, as stored.
    pub token_hash: String,
}

/// Persistence of share links.
#[async_trait]
pub trait ShareStore: Debug + Send + Sync + 'static {
    /// Stores a link; [`StoreError::NotFound`] when the tenant has no such dashboard.
    async fn create_share(&self, scope: &Scope, share: NewShare) -> StoreResult<Share>;

    /// The links of a dashboard, oldest first.
    async fn list_shares(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<Share>>;

    /// Revokes a link of a dashboard; [`StoreError::NotFound`] when there is none. Deleting
    /// a dashboard revokes all of its links.
    async fn delete_share(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        share_id: ShareId,
    ) -> StoreResult<()>;

    /// The link whose token hashes to `token_hash`, in whatever tenant: the only lookup not
    /// confined to a tenant, since the token is what names it. Read from the store on every
    /// call, so a revocation is seen at once by every instance.
    async fn find_share(&self, token_hash: &str) -> StoreResult<Option<StoredShare>>;
}

/// Persistence of tenants' dashboard templates.
#[async_trait]
pub trait TemplateStore: Debug + Send + Sync + 'static {
    /// The tenant's templates, by name.
    async fn list_templates(&self, scope: &Scope) -> StoreResult<Vec<DashboardTemplate>>;

    /// One template of the tenant.
    async fn get_template(
        &self,
        scope: &Scope,
        id: TemplateId,
    ) -> StoreResult<Option<DashboardTemplate>>;

    /// Saves a template; a taken name is [`Conflict::TemplateName`].
    async fn create_template(
        &self,
        scope: &Scope,
        template: NewTemplate,
    ) -> StoreResult<DashboardTemplate>;

    /// Deletes a template; [`StoreError::NotFound`] when the tenant has no such template.
    async fn delete_template(&self, scope: &Scope, id: TemplateId) -> StoreResult<()>;
}

/// Storage of each tenant's [`SchemaConfig`] (display names, descriptions, hidden parts).
#[async_trait]
pub trait SchemaConfigStore: Debug + Send + Sync + 'static {
    /// The tenant's config, if one was saved.
    async fn get_schema_config(&self, scope: &Scope) -> StoreResult<Option<SchemaConfig>>;

    /// Replaces the tenant's config.
    async fn put_schema_config(&self, scope: &Scope, config: SchemaConfig) -> StoreResult<()>;
}
