//! Migration from the original Python server: its dashboards, widgets, saved queries and pins,
//! read from its PostgreSQL tables (or its JSON export files), written through the store traits
//! into any store of ours.
//!
//! ```no_run
//! use prismiq_store_postgres::migrate::{Migrator, PgLedger};
//! use prismiq_store_postgres::{PostgresStore, sqlx::PgPool};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let source = PgPool::connect("postgres://app@old-host/app").await?;
//! let target = PostgresStore::connect("postgres://app@new-host/app").await?;
//! target.migrate().await?;
//! let ledger = PgLedger::new(target.pool().clone());
//! let report = Migrator::new(target, ledger)
//!     .with_dry_run(true)
//!     .migrate(&source, "public")
//!     .await?;
//! println!("{report}"); // or report.to_json()
//! # Ok(())
//! # }
//! ```
//!
//! # What is read and what is written
//!
//! The four tables of the original (`prismiq_dashboards`, `prismiq_widgets`,
//! `prismiq_saved_queries`, `prismiq_pinned_dashboards`) in one schema (the original's
//! default `public`). Each record gets a new id of ours; owners, tenants, viewers, public
//! flags, names, descriptions, layouts, filters and times are kept. The store traits set a
//! record's times when they write it; the migration then sets them to the original's through
//! the ledger ([`MigrationLedger::keep_times`]), which holds the target's connection. In
//! PostgreSQL that needs the owner of prismiq's tables (or a superuser), since the trigger that
//! sets `updated_at` on every update is disabled for that one transaction.
//!
//! Every dashboard and widget goes through the checks the [`Engine`]
//! applies when a dashboard is created with its widgets (widget type, config, query shape,
//! size and place on the grid, title, name, description and filter limits), and saved queries
//! through those of `create_saved_query`. A record those checks refuse is skipped and reported
//! with the reason, never changed to fit. What the original itself dropped when it served a
//! record (config keys outside the 34, the camelCase `rowHeight`/`compactType` of its layout
//! column's default) is dropped too, and reported as a note.
//!
//! A dashboard is written with all its widgets in one transaction
//! ([`DashboardStore::create_dashboard`]); by default a dashboard with an invalid widget is
//! skipped whole ([`Migrator::keeping_valid_widgets`] writes it without the invalid ones).
//!
//! # The mapping, and running twice
//!
//! Each record written is recorded in a [`MigrationLedger`] — kind, tenant, old id as the
//! original served it (`"12"`), new id, time — in the target database ([`PgLedger`]:
//! `prismiq.migrated_ids`; `SqliteLedger`, feature `migrate-sqlite`: `prismiq_migrated_ids`).
//! A host can redirect the original's links with it, and a second run skips everything it
//! lists ("already migrated") and adds only what is new, widgets added since to a migrated
//! dashboard included. A dry run ([`Migrator::with_dry_run`]) reads the ledger but writes
//! nothing, not even the ledger's table.

mod ledger;
mod original;
mod report;
#[cfg(feature = "migrate-sqlite")]
mod sqlite;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use prismiq_core::catalogue::WidgetCatalogue;
use prismiq_core::{
    AnyConfig, BoxError, Change, ChangeKind, Conflict, DashboardCreate, DashboardFilter,
    DashboardId, DashboardLayout, DashboardStore, Engine, MemoryStore, NewDashboard, NewSavedQuery,
    PinId, PinStore, QueryDefinition, SavedQueryCreate, SavedQueryId, SavedQueryStore, Scope,
    SimpleAuthContext, StoreError, WidgetConfig, WidgetContent, WidgetCreate, WidgetId,
    WidgetPosition, WidgetType,
};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

pub use ledger::{MappedId, MigrationLedger, OriginalTimes, PgLedger};
pub use report::{Counts, MigrationReport, Problem, RecordKind};
#[cfg(feature = "migrate-sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "migrate-sqlite")))]
pub use sqlite::SqliteLedger;

/// The schema the original keeps its tables in unless told otherwise.
pub const DEFAULT_SOURCE_SCHEMA: &str = "public";

/// Why a migration could not run at all (problems with single records are in the
/// [`MigrationReport`] instead).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The source schema name is not an identifier.
    #[error(
        "source schema {0:?} is not a valid name: use letters, digits and underscores, \
         not starting with a digit, at most 63 characters"
    )]
    InvalidSchema(String),
    /// The source schema lacks some of the original's tables.
    #[error(
        "schema {schema:?} of the source database has no table {}: check --source-schema \
         (the original's tables are prismiq_dashboards, prismiq_widgets, prismiq_saved_queries \
         and prismiq_pinned_dashboards)", tables.join(", ")
    )]
    MissingTables {
        /// The schema read.
        schema: String,
        /// The tables not found in it.
        tables: Vec<String>,
    },
    /// Reading the source failed.
    #[error("source database: {what} failed")]
    Source {
        /// What was being read.
        what: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The mapping could not be read or written.
    #[error("migration ledger (the id mapping in the target) failed")]
    Ledger(#[source] BoxError),
    /// The target store failed (not a problem of one record: unreachable, say).
    #[error("target store failed")]
    Target(#[source] StoreError),
    /// An export file that is not the original's format.
    #[error("not a dashboard export file: {0}")]
    InvalidExport(String),
}

/// Reads the original's records and writes them into a target store; see the
/// [module documentation](self).
pub struct Migrator {
    dashboards: Arc<dyn DashboardStore>,
    saved_queries: Arc<dyn SavedQueryStore>,
    pins: Arc<dyn PinStore>,
    ledger: Arc<dyn MigrationLedger>,
    dry_run: bool,
    keep_valid_widgets: bool,
    /// The Engine whose checks every record goes through, over a scratch store: each check
    /// writes there, then deletes what it wrote.
    checker: Engine,
    scratch: MemoryStore,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("target", &self.dashboards)
            .field("ledger", &self.ledger)
            .field("dry_run", &self.dry_run)
            .field("keep_valid_widgets", &self.keep_valid_widgets)
            .finish_non_exhaustive()
    }
}

/// A dashboard to write, from a table row or an export file.
struct DashboardDraft {
    old_id: Option<String>,
    tenant_id: String,
    owner_id: Option<String>,
    name: String,
    description: Option<String>,
    layout: Value,
    filters: Value,
    is_public: bool,
    allowed_viewers: Vec<String>,
    widgets: Vec<WidgetDraft>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

/// A widget to write.
struct WidgetDraft {
    old_id: Option<String>,
    widget_type: Option<String>,
    title: Option<String>,
    query: Option<Value>,
    position: Value,
    config: Option<Value>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

/// What a step wrote: the ids to record in the ledger, and the original's times to set on
/// the records.
#[derive(Default)]
struct Written {
    ids: Vec<(RecordKind, Option<String>, Uuid)>,
    times: Vec<OriginalTimes>,
}

impl Written {
    /// One record written, with its times.
    fn one(
        kind: RecordKind,
        old_id: String,
        new_id: Uuid,
        created_at: Option<DateTime<Utc>>,
        updated_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            ids: vec![(kind, Some(old_id), new_id)],
            times: vec![OriginalTimes {
                kind,
                new_id,
                created_at,
                updated_at,
            }],
        }
    }

    fn push(
        &mut self,
        kind: RecordKind,
        old_id: Option<String>,
        new_id: Uuid,
        times: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    ) {
        self.ids.push((kind, old_id, new_id));
        self.times.push(OriginalTimes {
            kind,
            new_id,
            created_at: times.0,
            updated_at: times.1,
        });
    }
}

impl Migrator {
    /// A migrator writing into `target` and recording what it writes in `ledger`, checking
    /// widgets against the built-in widget types.
    pub fn new<S>(target: S, ledger: impl MigrationLedger) -> Self
    where
        S: DashboardStore + SavedQueryStore + PinStore,
    {
        let target = Arc::new(target);
        let scratch = MemoryStore::new();
        Self {
            dashboards: target.clone(),
            saved_queries: target.clone(),
            pins: target,
            ledger: Arc::new(ledger),
            dry_run: false,
            keep_valid_widgets: false,
            checker: Engine::new(scratch.clone()),
            scratch,
        }
    }

    /// Checks widgets against `catalogue` (the host's widget types) instead of the built-in
    /// types alone.
    pub fn with_widget_catalogue(mut self, catalogue: WidgetCatalogue) -> Self {
        self.checker = Engine::new(self.scratch.clone()).with_widget_catalogue(catalogue);
        self
    }

    /// With `true`, computes the whole report but writes nothing (default `false`).
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// With `true`, a dashboard with invalid widgets is written without them (each reported);
    /// with `false`, the default, it is skipped whole.
    pub fn keeping_valid_widgets(mut self, keep: bool) -> Self {
        self.keep_valid_widgets = keep;
        self
    }

    /// Migrates every record of the original's tables in `schema` of `source`.
    ///
    /// # Errors
    /// A [`MigrateError`] when the run cannot proceed (bad schema name, missing tables, a
    /// database that fails); records that cannot be migrated are reported instead.
    pub async fn migrate(
        &self,
        source: &PgPool,
        schema: &str,
    ) -> Result<MigrationReport, MigrateError> {
        if !original::valid_schema(schema) {
            return Err(MigrateError::InvalidSchema(schema.to_owned()));
        }
        let old = original::read_original(source, schema).await?;
        let mut mapped: HashMap<(RecordKind, String, String), Uuid> = self
            .ledger
            .load()
            .await
            .map_err(MigrateError::Ledger)?
            .into_iter()
            .map(|m| ((m.kind, m.tenant_id, m.old_id), m.new_id))
            .collect();
        let mut report = MigrationReport {
            dry_run: self.dry_run,
            ..MigrationReport::default()
        };

        let mut widgets: BTreeMap<i64, Vec<original::OldWidget>> = BTreeMap::new();
        for widget in old.widgets {
            widgets.entry(widget.dashboard_id).or_default().push(widget);
        }
        let known: HashSet<i64> = old.dashboards.iter().map(|d| d.id).collect();
        for (dashboard_id, orphans) in widgets.iter().filter(|(id, _)| !known.contains(id)) {
            for widget in orphans {
                report.skip(
                    RecordKind::Widget,
                    Some(&widget.id.to_string()),
                    "",
                    format!("its dashboard {dashboard_id} does not exist in the source"),
                );
            }
        }

        for dashboard in old.dashboards {
            let old_id = dashboard.id.to_string();
            let draft = DashboardDraft {
                old_id: Some(old_id.clone()),
                tenant_id: dashboard.tenant_id,
                owner_id: dashboard.owner_id,
                name: dashboard.name,
                description: dashboard.description,
                layout: dashboard.layout,
                filters: dashboard.filters,
                is_public: dashboard.is_public,
                allowed_viewers: dashboard.allowed_viewers,
                widgets: widgets
                    .remove(&dashboard.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|w| WidgetDraft {
                        old_id: Some(w.id.to_string()),
                        widget_type: w.widget_type,
                        title: w.title,
                        query: w.query,
                        position: w.position,
                        config: w.config,
                        created_at: w.created_at,
                        updated_at: w.updated_at,
                    })
                    .collect(),
                created_at: dashboard.created_at,
                updated_at: dashboard.updated_at,
            };
            let key = (RecordKind::Dashboard, draft.tenant_id.clone(), old_id);
            let written = match mapped.get(&key) {
                Some(&new_id) => {
                    report.dashboards.already_migrated += 1;
                    self.add_new_widgets(&draft, new_id.into(), &mapped, &mut report)
                        .await?
                }
                None => self.write_dashboard(draft, &mut report).await?,
            };
            self.record(&key.1, written, &mut mapped).await?;
        }

        for query in old.saved_queries {
            let old_id = query.id.to_string();
            let key = (
                RecordKind::SavedQuery,
                query.tenant_id.clone(),
                old_id.clone(),
            );
            if mapped.contains_key(&key) {
                report.saved_queries.already_migrated += 1;
                continue;
            }
            let (created_at, updated_at) = (query.created_at, query.updated_at);
            if let Some(new_id) = self.write_saved_query(query, &mut report).await? {
                let written = Written::one(
                    RecordKind::SavedQuery,
                    old_id,
                    new_id,
                    created_at,
                    updated_at,
                );
                self.record(&key.1, written, &mut mapped).await?;
            }
        }

        // Each list keeps the original's order: a pin goes at its rank in its list, which
        // also puts a pin added on a later run where it belongs.
        let mut rank: HashMap<(String, String, String), u32> = HashMap::new();
        for pin in old.pins {
            let list = (
                pin.tenant_id.clone(),
                pin.user_id.clone(),
                pin.context.clone(),
            );
            let position = *rank.entry(list).and_modify(|r| *r += 1).or_insert(0);
            let old_id = pin.id.to_string();
            let key = (RecordKind::Pin, pin.tenant_id.clone(), old_id.clone());
            if mapped.contains_key(&key) {
                report.pins.already_migrated += 1;
                continue;
            }
            let dashboard = mapped
                .get(&(
                    RecordKind::Dashboard,
                    pin.tenant_id.clone(),
                    pin.dashboard_id.to_string(),
                ))
                .copied();
            let Some(dashboard) = dashboard else {
                report.skip(
                    RecordKind::Pin,
                    Some(&old_id),
                    &pin.tenant_id,
                    format!(
                        "its dashboard {} was not migrated (see the dashboard's problem)",
                        pin.dashboard_id
                    ),
                );
                continue;
            };
            if let Some(new_id) = self
                .write_pin(&pin, &old_id, dashboard.into(), position, &mut report)
                .await?
            {
                let written = Written::one(RecordKind::Pin, old_id, new_id, pin.pinned_at, None);
                self.record(&key.1, written, &mut mapped).await?;
            }
        }
        Ok(report)
    }

    /// Imports one of the original's export files (`{"version": "1.0", "name", …}`, parsed)
    /// as a dashboard of `tenant_id` owned by `owner_id`, through the same checks as
    /// [`migrate`](Self::migrate). Nothing is recorded in the ledger (the file has no ids):
    /// importing a file twice reports the name as taken.
    ///
    /// # Errors
    /// [`MigrateError::InvalidExport`] when `export` is not an export of version 1.x, and
    /// [`MigrateError::Target`] when the target fails.
    pub async fn import_export(
        &self,
        export: &Value,
        tenant_id: &str,
        owner_id: Option<&str>,
    ) -> Result<MigrationReport, MigrateError> {
        let object = export.as_object().ok_or_else(|| {
            MigrateError::InvalidExport("the file is not a JSON object".to_owned())
        })?;
        match object.get("version").and_then(Value::as_str) {
            Some(v) if v.split('.').next() == Some("1") => {}
            Some(v) => {
                return Err(MigrateError::InvalidExport(format!(
                    "version {v:?}: only version 1.x exports are read"
                )));
            }
            None => {
                return Err(MigrateError::InvalidExport(
                    "no \"version\" string (the original writes \"1.0\")".to_owned(),
                ));
            }
        }
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| MigrateError::InvalidExport("no \"name\" string".to_owned()))?;
        let widgets = match object.get("widgets") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(widgets)) => widgets.clone(),
            Some(_) => {
                return Err(MigrateError::InvalidExport(
                    "\"widgets\" is not a list".to_owned(),
                ));
            }
        };
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let draft = DashboardDraft {
            old_id: None,
            tenant_id: tenant_id.to_owned(),
            owner_id: owner_id.map(str::to_owned),
            name: name.to_owned(),
            description: text("description"),
            layout: object.get("layout").cloned().unwrap_or(Value::Null),
            filters: object.get("filters").cloned().unwrap_or(Value::Null),
            is_public: false,
            allowed_viewers: Vec::new(),
            widgets: widgets
                .into_iter()
                .enumerate()
                .map(|(i, w)| {
                    let field = |key: &str| w.get(key).filter(|v| !v.is_null()).cloned();
                    WidgetDraft {
                        old_id: Some(format!("widgets[{i}]")),
                        widget_type: w.get("type").and_then(Value::as_str).map(str::to_owned),
                        title: w.get("title").and_then(Value::as_str).map(str::to_owned),
                        query: field("query"),
                        position: field("position").unwrap_or(Value::Null),
                        config: field("config"),
                        created_at: None,
                        updated_at: None,
                    }
                })
                .collect(),
            // The export has no times: the import's are kept.
            created_at: None,
            updated_at: None,
        };
        let mut report = MigrationReport {
            dry_run: self.dry_run,
            ..MigrationReport::default()
        };
        self.write_dashboard(draft, &mut report).await?;
        Ok(report)
    }

    /// Records what a step wrote and sets the original's times on it (nothing in a dry run,
    /// where the ids are only remembered for the rest of the run).
    async fn record(
        &self,
        tenant_id: &str,
        written: Written,
        mapped: &mut HashMap<(RecordKind, String, String), Uuid>,
    ) -> Result<(), MigrateError> {
        let now = Utc::now();
        let entries: Vec<MappedId> = written
            .ids
            .into_iter()
            .filter_map(|(kind, old_id, new_id)| {
                old_id.map(|old_id| MappedId {
                    kind,
                    tenant_id: tenant_id.to_owned(),
                    old_id,
                    new_id,
                    migrated_at: now,
                })
            })
            .collect();
        if entries.is_empty() {
            return Ok(());
        }
        if !self.dry_run {
            // The mapping first: a record whose times could not be set is still known as
            // migrated, never written twice.
            self.ledger
                .record(&entries)
                .await
                .map_err(MigrateError::Ledger)?;
            self.ledger
                .keep_times(tenant_id, &written.times)
                .await
                .map_err(MigrateError::Ledger)?;
        }
        for entry in entries {
            mapped.insert((entry.kind, entry.tenant_id, entry.old_id), entry.new_id);
        }
        Ok(())
    }

    fn auth(tenant_id: &str, owner_id: Option<&str>) -> SimpleAuthContext {
        let auth = SimpleAuthContext::new(tenant_id);
        match owner_id {
            Some(owner) => auth.with_user(owner),
            None => auth,
        }
    }

    /// The scope of a write into the target: the tenant, as an import by the owner.
    fn scope(tenant_id: &str, owner_id: Option<&str>) -> Scope {
        Scope::new(tenant_id).with_change(Change::new(ChangeKind::Imported, owner_id))
    }

    /// Checks and writes one dashboard with its widgets, in one transaction.
    async fn write_dashboard(
        &self,
        draft: DashboardDraft,
        report: &mut MigrationReport,
    ) -> Result<Written, MigrateError> {
        let tenant = draft.tenant_id.clone();
        let old_id = draft.old_id.clone();
        let skip_all =
            |report: &mut MigrationReport, widgets: &[(Option<String>, bool)], reason: String| {
                report.skip(RecordKind::Dashboard, old_id.as_deref(), &tenant, reason);
                for (widget, _) in widgets.iter().filter(|(_, reported)| !reported) {
                    report.skip(
                        RecordKind::Widget,
                        widget.as_deref(),
                        &tenant,
                        "its dashboard was skipped",
                    );
                }
            };
        let layout = match Self::layout(&draft, report) {
            Ok(layout) => layout,
            Err(reason) => {
                let widgets: Vec<_> = draft
                    .widgets
                    .iter()
                    .map(|w| (w.old_id.clone(), false))
                    .collect();
                skip_all(report, &widgets, reason);
                return Ok(Written::default());
            }
        };
        let filters: Result<Vec<DashboardFilter>, _> = match &draft.filters {
            Value::Null => Ok(Vec::new()),
            filters => serde_json::from_value(filters.clone()),
        };
        let filters = match filters {
            Ok(filters) => filters,
            Err(err) => {
                let widgets: Vec<_> = draft
                    .widgets
                    .iter()
                    .map(|w| (w.old_id.clone(), false))
                    .collect();
                skip_all(report, &widgets, format!("filters: {err}"));
                return Ok(Written::default());
            }
        };
        let owner = draft.owner_id.as_deref();
        let mut contents = Vec::new();
        let mut outcomes = Vec::new();
        for widget in &draft.widgets {
            match self
                .check_widget(&tenant, owner, &layout, widget, report)
                .await
            {
                Ok(content) => {
                    outcomes.push((widget.old_id.clone(), false));
                    contents.push((
                        widget.old_id.clone(),
                        (widget.created_at, widget.updated_at),
                        content,
                    ));
                }
                Err(reason) => {
                    report.skip(
                        RecordKind::Widget,
                        widget.old_id.as_deref(),
                        &tenant,
                        reason,
                    );
                    outcomes.push((widget.old_id.clone(), true));
                }
            }
        }
        let invalid = outcomes.iter().filter(|(_, bad)| *bad).count();
        if invalid > 0 && !self.keep_valid_widgets {
            skip_all(
                report,
                &outcomes,
                format!(
                    "{invalid} of its {} widgets are invalid (see their problems); nothing of \
                     the dashboard was written",
                    outcomes.len()
                ),
            );
            return Ok(Written::default());
        }
        // The dashboard as a whole: name, description, filters, widget count.
        let mut create = DashboardCreate::named(draft.name.clone());
        create.description = draft.description.clone();
        create.layout = layout.clone();
        create.filters = filters.clone();
        create.is_public = draft.is_public;
        create.allowed_viewers = draft.allowed_viewers.clone();
        create.widgets = contents
            .iter()
            .map(|(_, _, c)| {
                let w = WidgetCreate::new(c.widget_type.clone(), c.title.clone(), c.position)
                    .with_config(c.config.clone());
                match &c.query {
                    Some(q) => w.with_query(q.clone()),
                    None => w,
                }
            })
            .collect();
        if let Err(reason) = self.check_in_scratch(&tenant, owner, create).await {
            let outcomes: Vec<_> = contents
                .iter()
                .map(|(id, _, _)| (id.clone(), false))
                .collect();
            skip_all(report, &outcomes, reason);
            return Ok(Written::default());
        }
        let id = DashboardId::new();
        let widgets: Vec<(Option<String>, WidgetId, WidgetContent)> = contents
            .iter()
            .map(|(old, _, content)| (old.clone(), WidgetId::new(), content.clone()))
            .collect();
        let new = NewDashboard {
            id,
            name: draft.name,
            description: draft.description,
            layout,
            filters,
            owner_id: draft.owner_id.clone(),
            is_public: draft.is_public,
            allowed_viewers: draft.allowed_viewers,
            refresh_interval: None,
            widgets: widgets.iter().map(|(_, id, c)| (*id, c.clone())).collect(),
        };
        if !self.dry_run {
            let scope = Self::scope(&tenant, owner);
            match self.dashboards.create_dashboard(&scope, new, None).await {
                Ok(_) => {}
                Err(StoreError::Conflict(Conflict::DashboardName)) => {
                    let outcomes: Vec<_> = widgets
                        .iter()
                        .map(|(old, _, _)| (old.clone(), false))
                        .collect();
                    skip_all(
                        report,
                        &outcomes,
                        "the target already has a dashboard of this name in the tenant, not \
                         written by a migration: rename one of them and run again"
                            .to_owned(),
                    );
                    return Ok(Written::default());
                }
                Err(StoreError::Rejected(message)) => {
                    let outcomes: Vec<_> = widgets
                        .iter()
                        .map(|(old, _, _)| (old.clone(), false))
                        .collect();
                    skip_all(
                        report,
                        &outcomes,
                        format!("the target refused a value: {message}"),
                    );
                    return Ok(Written::default());
                }
                Err(err) => return Err(MigrateError::Target(err)),
            }
        }
        report.dashboards.migrated += 1;
        report.widgets.migrated += widgets.len() as u64;
        let mut written = Written::default();
        written.push(
            RecordKind::Dashboard,
            draft.old_id,
            id.into(),
            (draft.created_at, draft.updated_at),
        );
        for ((old, id, _), (_, times, _)) in widgets.into_iter().zip(contents) {
            written.push(RecordKind::Widget, old, id.into(), times);
        }
        Ok(written)
    }

    /// Adds the widgets of a dashboard migrated earlier that the ledger does not list.
    async fn add_new_widgets(
        &self,
        draft: &DashboardDraft,
        id: DashboardId,
        mapped: &HashMap<(RecordKind, String, String), Uuid>,
        report: &mut MigrationReport,
    ) -> Result<Written, MigrateError> {
        let tenant = &draft.tenant_id;
        let fresh: Vec<&WidgetDraft> = draft
            .widgets
            .iter()
            .filter(|w| {
                let key = (
                    RecordKind::Widget,
                    tenant.clone(),
                    w.old_id.clone().unwrap_or_default(),
                );
                if mapped.contains_key(&key) {
                    report.widgets.already_migrated += 1;
                    false
                } else {
                    true
                }
            })
            .collect();
        if fresh.is_empty() {
            return Ok(Written::default());
        }
        let target = self
            .dashboards
            .get_dashboard(&Scope::new(tenant.clone()), id)
            .await
            .map_err(MigrateError::Target)?;
        let Some(target) = target else {
            for widget in fresh {
                report.skip(
                    RecordKind::Widget,
                    widget.old_id.as_deref(),
                    tenant,
                    format!("its dashboard was migrated earlier (as {id}) and has since been deleted from the target"),
                );
            }
            return Ok(Written::default());
        };
        let owner = draft.owner_id.as_deref();
        let mut written = Written::default();
        for widget in fresh {
            let content = match self
                .check_widget(tenant, owner, &target.layout, widget, report)
                .await
            {
                Ok(content) => content,
                Err(reason) => {
                    report.skip(RecordKind::Widget, widget.old_id.as_deref(), tenant, reason);
                    continue;
                }
            };
            let widget_id = WidgetId::new();
            if !self.dry_run {
                let scope = Self::scope(tenant, owner);
                match self
                    .dashboards
                    .add_widget(&scope, id, widget_id, content, None)
                    .await
                {
                    Ok(_) => {}
                    Err(StoreError::NotFound) => {
                        report.skip(
                            RecordKind::Widget,
                            widget.old_id.as_deref(),
                            tenant,
                            "its dashboard no longer exists in the target",
                        );
                        continue;
                    }
                    Err(StoreError::Rejected(message)) => {
                        report.skip(
                            RecordKind::Widget,
                            widget.old_id.as_deref(),
                            tenant,
                            format!("the target refused a value: {message}"),
                        );
                        continue;
                    }
                    Err(err) => return Err(MigrateError::Target(err)),
                }
            }
            report.widgets.migrated += 1;
            written.push(
                RecordKind::Widget,
                widget.old_id.clone(),
                widget_id.into(),
                (widget.created_at, widget.updated_at),
            );
        }
        if !written.ids.is_empty() {
            // Adding the widgets changed the dashboard's `updated_at`: back to the original's.
            written.times.push(OriginalTimes {
                kind: RecordKind::Dashboard,
                new_id: id.into(),
                created_at: draft.created_at,
                updated_at: draft.updated_at,
            });
        }
        Ok(written)
    }

    /// The dashboard's layout as the original served it: its keys, defaults for the missing
    /// ones. The camelCase keys of the original's column default were never read by it.
    fn layout(
        draft: &DashboardDraft,
        report: &mut MigrationReport,
    ) -> Result<DashboardLayout, String> {
        let layout: DashboardLayout = match &draft.layout {
            Value::Null => DashboardLayout::default(),
            value => serde_json::from_value(value.clone()).map_err(|e| format!("layout: {e}"))?,
        };
        for (camel, snake) in [("rowHeight", "row_height"), ("compactType", "compact_type")] {
            if let Some(value) = draft.layout.get(camel)
                && draft.layout.get(snake).is_none()
            {
                let kept = serde_json::to_value(&layout)
                    .ok()
                    .and_then(|l| l.get(snake).cloned());
                if kept.as_ref() != Some(value) {
                    report.problem(
                        RecordKind::Dashboard,
                        draft.old_id.as_deref(),
                        &draft.tenant_id,
                        format!(
                            "layout.{camel} = {value} was not read (the original read only \
                             {snake}, and served {snake} = {}); kept as it served it",
                            kept.unwrap_or(Value::Null)
                        ),
                        false,
                    );
                }
            }
        }
        Ok(layout)
    }

    /// One widget checked as the Engine checks it on a write: its content in our shape, or
    /// why it cannot be migrated.
    async fn check_widget(
        &self,
        tenant_id: &str,
        owner_id: Option<&str>,
        layout: &DashboardLayout,
        widget: &WidgetDraft,
        report: &mut MigrationReport,
    ) -> Result<WidgetContent, String> {
        let widget_type = widget
            .widget_type
            .as_deref()
            .ok_or("the widget has no type")?;
        let widget_type = WidgetType::parse(widget_type).map_err(|e| format!("type: {e}"))?;
        let title = widget.title.clone().ok_or("the widget has no title")?;
        let position: WidgetPosition = serde_json::from_value(widget.position.clone())
            .map_err(|e| format!("position {}: {e}", widget.position))?;
        let mut create = WidgetCreate::new(widget_type.clone(), title, position);
        if let Some(query) = &widget.query {
            let query: QueryDefinition =
                serde_json::from_value(query.clone()).map_err(|e| format!("query: {e}"))?;
            create = create.with_query(query);
        }
        if let Some(config) = &widget.config {
            let Value::Object(config) = config else {
                return Err(format!("config is not a JSON object: {config}"));
            };
            if widget_type.is_builtin() {
                let known = serde_json::to_value(WidgetConfig::default()).unwrap_or_default();
                let dropped: Vec<&str> = config
                    .keys()
                    .filter(|k| known.get(k.as_str()).is_none())
                    .map(String::as_str)
                    .collect();
                if !dropped.is_empty() {
                    report.problem(
                        RecordKind::Widget,
                        widget.old_id.as_deref(),
                        tenant_id,
                        format!(
                            "config keys {} dropped: a widget config has only the contract's \
                             34 keys (the original dropped them too when it served the widget)",
                            dropped.join(", ")
                        ),
                        false,
                    );
                }
            }
            create = create.with_config(AnyConfig::Json(config.clone()));
        }
        let mut check = DashboardCreate::named("widget check");
        check.layout = layout.clone();
        check.widgets.push(create);
        let checked = self.check_in_scratch(tenant_id, owner_id, check).await?;
        checked
            .map(|dashboard| WidgetContent::of(&dashboard.widgets[0]))
            .ok_or_else(|| "the widget check returned no widget".to_owned())
    }

    /// Runs `create` through the Engine's create checks on the scratch store, and removes
    /// what it created.
    async fn check_in_scratch(
        &self,
        tenant_id: &str,
        owner_id: Option<&str>,
        create: DashboardCreate,
    ) -> Result<Option<prismiq_core::Dashboard>, String> {
        let auth = Self::auth(tenant_id, owner_id);
        let dashboard = self
            .checker
            .create_dashboard(&auth, create)
            .await
            .map_err(|e| e.to_string())?;
        let _ = self
            .scratch
            .delete_dashboard(&Scope::new(tenant_id), dashboard.id)
            .await;
        Ok(Some(dashboard).filter(|d| !d.widgets.is_empty()))
    }

    /// Checks and writes one saved query; its new id, or `None` when skipped.
    async fn write_saved_query(
        &self,
        query: original::OldSavedQuery,
        report: &mut MigrationReport,
    ) -> Result<Option<Uuid>, MigrateError> {
        let old_id = query.id.to_string();
        let tenant = query.tenant_id.clone();
        let create: SavedQueryCreate = match serde_json::from_value(serde_json::json!({
            "name": query.name,
            "description": query.description,
            "query": query.query,
            "is_shared": query.is_shared,
        })) {
            Ok(create) => create,
            Err(err) => {
                report.skip(
                    RecordKind::SavedQuery,
                    Some(&old_id),
                    &tenant,
                    format!("query: {err}"),
                );
                return Ok(None);
            }
        };
        let auth = Self::auth(&tenant, query.owner_id.as_deref());
        let checked = match self.checker.create_saved_query(&auth, create).await {
            Ok(checked) => checked,
            Err(err) => {
                report.skip(
                    RecordKind::SavedQuery,
                    Some(&old_id),
                    &tenant,
                    err.to_string(),
                );
                return Ok(None);
            }
        };
        let _ = self
            .scratch
            .delete_saved_query(&Scope::new(tenant.clone()), checked.id)
            .await;
        let id = SavedQueryId::new();
        if !self.dry_run {
            let new = NewSavedQuery {
                id,
                name: checked.name,
                description: checked.description,
                query: checked.query,
                owner_id: query.owner_id,
                is_shared: checked.is_shared,
            };
            match self
                .saved_queries
                .create_saved_query(&Scope::new(tenant.clone()), new)
                .await
            {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => {
                    report.skip(
                        RecordKind::SavedQuery,
                        Some(&old_id),
                        &tenant,
                        "the target already has a saved query of this name in the tenant, not \
                         written by a migration: rename one of them and run again",
                    );
                    return Ok(None);
                }
                Err(StoreError::Rejected(message)) => {
                    report.skip(
                        RecordKind::SavedQuery,
                        Some(&old_id),
                        &tenant,
                        format!("the target refused a value: {message}"),
                    );
                    return Ok(None);
                }
                Err(err) => return Err(MigrateError::Target(err)),
            }
        }
        report.saved_queries.migrated += 1;
        Ok(Some(id.into()))
    }

    /// Writes one pin at `position` of its list; its new id, or `None` when skipped.
    async fn write_pin(
        &self,
        pin: &original::OldPin,
        old_id: &str,
        dashboard: DashboardId,
        position: u32,
        report: &mut MigrationReport,
    ) -> Result<Option<Uuid>, MigrateError> {
        let tenant = &pin.tenant_id;
        let context_chars = pin.context.chars().count();
        if pin.context.contains('\0') || !(1..=100).contains(&context_chars) {
            report.skip(
                RecordKind::Pin,
                Some(old_id),
                tenant,
                "its context must be 1 to 100 characters, without NUL",
            );
            return Ok(None);
        }
        if pin.user_id.is_empty() {
            report.skip(RecordKind::Pin, Some(old_id), tenant, "it has no user");
            return Ok(None);
        }
        let id = PinId::new();
        if !self.dry_run {
            match self
                .pins
                .pin(
                    &Scope::new(tenant.clone()),
                    &pin.user_id,
                    id,
                    dashboard,
                    &pin.context,
                    Some(position),
                )
                .await
            {
                Ok(_) => {}
                Err(StoreError::Conflict(_)) => {
                    report.skip(
                        RecordKind::Pin,
                        Some(old_id),
                        tenant,
                        "the user already pinned that dashboard in this context in the target",
                    );
                    return Ok(None);
                }
                Err(StoreError::NotFound) => {
                    report.skip(
                        RecordKind::Pin,
                        Some(old_id),
                        tenant,
                        "its dashboard was migrated earlier and has since been deleted from the target",
                    );
                    return Ok(None);
                }
                Err(err) => return Err(MigrateError::Target(err)),
            }
        }
        report.pins.migrated += 1;
        Ok(Some(id.into()))
    }
}
