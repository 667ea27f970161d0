//! Rows as they come out of PostgreSQL, the SQL fragments that produce them, and widget
//! contents as statement parameters.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use prismiq_core::permissions::Viewer;
use prismiq_core::{
    Dashboard, DashboardId, DashboardJson, DashboardSummary, DashboardTemplate, NewTemplate, PinId,
    PinnedDashboard, QueryDefinition, SavedQuery, SavedQueryId, Share, ShareId, StoredShare,
    TemplateContent, TemplateId, Timestamp, WidgetContent, WidgetId,
};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

/// A widget of alias `w` as JSON in the serde shape of [`Widget`].
macro_rules! widget_json {
    () => {
        "jsonb_build_object('id', w.id, 'type', w.widget_type, 'title', w.title, \
         'query', w.query, 'position', w.position, 'config', w.config, \
         'created_at', w.created_at, 'updated_at', w.updated_at)"
    };
}
pub(crate) use widget_json;

/// The widgets of dashboard `d`, as the `from` and `where` of an aggregate over them, with the
/// aggregate's `order by` first: display order (row, column, creation, id).
macro_rules! widgets_of_dashboard {
    () => {
        " order by (w.position ->> 'y')::bigint, (w.position ->> 'x')::bigint, \
                   w.created_at, w.id) \
           from prismiq.widgets w \
           where w.tenant_id = d.tenant_id and w.dashboard_id = d.id)"
    };
}

/// A `timestamptz` expression as [`prismiq_core::Timestamp`] writes it:
/// `2026-11-21T21:35:40.181441Z`, or `2026-11-21T21:35:40Z` when the microseconds are zero.
/// (The colons are quoted literals so that no `:name` appears in the statement, which pgbench
/// would take for a variable when it replays it.)
macro_rules! wire_timestamp {
    ($at:literal) => {
        concat!(
            "replace(to_char(",
            $at,
            " at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24\":\"MI\":\"SS.US\"Z\"'), '.000000Z', 'Z')"
        )
    };
}

/// The columns of a [`DashboardJson`](prismiq_core::DashboardJson) for a dashboard of alias
/// `d`: the fields the view rule reads, and the whole dashboard as the API writes it (the
/// stored JSON columns hold what the typed values serialize to, so they go out as they are; a
/// change to how one of those types serializes needs a migration rewriting the stored rows).
macro_rules! dashboard_document_columns {
    () => {
        concat!(
            "d.owner_id, d.is_public, d.allowed_viewers, d.version, ",
            $crate::rows::dashboard_document!(),
            "::text as document"
        )
    };
}

/// A dashboard of alias `d` as the JSON the API writes for it (see
/// [`dashboard_document_columns!`]).
macro_rules! dashboard_document {
    () => {
        concat!(
            "json_build_object('id', d.id, 'name', d.name, 'description', d.description, \
               'layout', d.layout, 'widgets', coalesce((select json_agg(\
                 json_build_object('id', w.id, 'type', w.widget_type, 'title', w.title, \
                   'query', w.query, 'position', w.position, 'config', w.config, \
                   'created_at', ",
            $crate::rows::wire_timestamp!("w.created_at"),
            ", 'updated_at', ",
            $crate::rows::wire_timestamp!("w.updated_at"),
            ")",
            $crate::rows::widgets_of_dashboard!(),
            ", '[]'::json), 'filters', d.filters, 'owner_id', d.owner_id, 'created_at', ",
            $crate::rows::wire_timestamp!("d.created_at"),
            ", 'updated_at', ",
            $crate::rows::wire_timestamp!("d.updated_at"),
            ", 'is_public', d.is_public, 'allowed_viewers', d.allowed_viewers, \
             'refresh_interval', d.refresh_interval, 'version', d.version)"
        )
    };
}
pub(crate) use {
    dashboard_document, dashboard_document_columns, widgets_of_dashboard, wire_timestamp,
};

/// A dashboard as [`dashboard_document_columns!`] selects it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DashboardDocumentRow {
    owner_id: Option<String>,
    is_public: bool,
    allowed_viewers: Vec<String>,
    version: i64,
    document: String,
}

impl From<DashboardDocumentRow> for DashboardJson {
    fn from(row: DashboardDocumentRow) -> Self {
        Self::from_parts(
            row.owner_id,
            row.is_public,
            row.allowed_viewers,
            u64::try_from(row.version).unwrap_or_default(),
            row.document,
        )
    }
}

/// A viewer as the parameters of the listing statements: whether it is an admin, and its
/// user id (none when anonymous, which makes every owner or viewer test fail).
pub(crate) fn viewer_params(viewer: &Viewer) -> (bool, Option<&str>) {
    match viewer {
        Viewer::Admin => (true, None),
        Viewer::User(user) => (false, Some(user)),
        Viewer::Anonymous => (false, None),
    }
}

/// A dashboard with its widgets, parsed from the `document` of
/// [`dashboard_document_columns!`] (the access columns beside it are not read).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DashboardRow {
    document: String,
}

impl TryFrom<DashboardRow> for Dashboard {
    type Error = sqlx::Error;

    fn try_from(row: DashboardRow) -> Result<Self, Self::Error> {
        serde_json::from_str(&row.document).map_err(|e| sqlx::Error::ColumnDecode {
            index: "document".to_owned(),
            source: Box::new(e),
        })
    }
}

/// A saved query.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SavedQueryRow {
    id: Uuid,
    tenant_id: String,
    name: String,
    description: Option<String>,
    query: Json<QueryDefinition>,
    owner_id: Option<String>,
    is_shared: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SavedQueryRow> for SavedQuery {
    fn from(row: SavedQueryRow) -> Self {
        Self {
            id: SavedQueryId::from_uuid(row.id),
            name: row.name,
            description: row.description,
            query: row.query.0,
            tenant_id: row.tenant_id,
            owner_id: row.owner_id,
            is_shared: row.is_shared,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
        }
    }
}

/// A tenant template, its layout, filters, widgets and refresh interval in one document.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TemplateRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    category: Option<String>,
    created_by: Option<String>,
    content: Json<TemplateContent>,
    created_at: DateTime<Utc>,
}

impl TryFrom<TemplateRow> for DashboardTemplate {
    type Error = sqlx::Error;

    fn try_from(row: TemplateRow) -> Result<Self, Self::Error> {
        let mut content = row.content.0;
        // Read from JSON, a config has no shape yet: its widget's type settles it, as it does
        // for stored widgets.
        for widget in &mut content.widgets {
            if let Some(config) = widget.config.take() {
                widget.config = Some(config.for_type(&widget.widget_type).map_err(|e| {
                    sqlx::Error::ColumnDecode {
                        index: "content".to_owned(),
                        source: Box::new(e),
                    }
                })?);
            }
        }
        Ok(NewTemplate {
            id: TemplateId::from_uuid(row.id),
            name: row.name,
            description: row.description,
            category: row.category,
            created_by: row.created_by,
            content,
        }
        .into_template(row.created_at.into()))
    }
}

/// A share link, as the owner lists it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ShareRow {
    id: Uuid,
    dashboard_id: Uuid,
    label: Option<String>,
    locked_filters: Json<BTreeMap<String, Value>>,
    allow_export: bool,
    expires_at: Option<DateTime<Utc>>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<ShareRow> for Share {
    fn from(row: ShareRow) -> Self {
        Self {
            id: ShareId::from_uuid(row.id),
            dashboard_id: DashboardId::from_uuid(row.dashboard_id),
            label: row.label,
            locked_filters: row.locked_filters.0,
            allow_export: row.allow_export,
            expires_at: row.expires_at.map(Timestamp::from),
            created_by: row.created_by,
            created_at: row.created_at.into(),
        }
    }
}

/// A share link found by its token: the link, with its tenant, schema and token hash.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoredShareRow {
    #[sqlx(flatten)]
    share: ShareRow,
    tenant_id: String,
    schema_name: Option<String>,
    token_hash: String,
}

impl From<StoredShareRow> for StoredShare {
    fn from(row: StoredShareRow) -> Self {
        Self {
            share: row.share.into(),
            tenant_id: row.tenant_id,
            schema_name: row.schema_name,
            token_hash: row.token_hash,
        }
    }
}

/// A pin, with its columns named apart from a dashboard's.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PinRow {
    pin_id: Uuid,
    dashboard_id: Uuid,
    pin_context: String,
    pin_position: i32,
    pinned_at: DateTime<Utc>,
}

impl TryFrom<PinRow> for PinnedDashboard {
    type Error = sqlx::Error;

    fn try_from(row: PinRow) -> Result<Self, Self::Error> {
        let position = u32::try_from(row.pin_position).map_err(|e| sqlx::Error::ColumnDecode {
            index: "pin_position".to_owned(),
            source: Box::new(e),
        })?;
        Ok(Self {
            id: PinId::from_uuid(row.pin_id),
            dashboard_id: DashboardId::from_uuid(row.dashboard_id),
            context: row.pin_context,
            position,
            pinned_at: Timestamp::from(row.pinned_at),
        })
    }
}

/// A pin with its dashboard.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PinnedRow {
    #[sqlx(flatten)]
    pub(crate) pin: PinRow,
    #[sqlx(flatten)]
    pub(crate) dashboard: DashboardRow,
}

/// Widgets as parallel arrays, for statements that `unnest` them: one statement writes any
/// number of widgets.
#[derive(Debug, Default)]
pub(crate) struct WidgetArrays {
    pub(crate) ids: Vec<Uuid>,
    pub(crate) types: Vec<String>,
    pub(crate) titles: Vec<String>,
    /// JSON `null` for no query; statements store it as SQL `null`.
    pub(crate) queries: Vec<Value>,
    pub(crate) positions: Vec<Value>,
    pub(crate) configs: Vec<Value>,
}

impl WidgetArrays {
    pub(crate) fn new(widgets: &[(WidgetId, WidgetContent)]) -> Result<Self, serde_json::Error> {
        let mut arrays = Self::default();
        for (id, content) in widgets {
            let columns = WidgetColumns::new(content)?;
            arrays.ids.push(id.as_uuid());
            arrays.types.push(columns.widget_type);
            arrays.titles.push(content.title.clone());
            arrays.queries.push(columns.query);
            arrays.positions.push(columns.position);
            arrays.configs.push(columns.config);
        }
        Ok(arrays)
    }
}

/// One widget's content as column values.
#[derive(Debug)]
pub(crate) struct WidgetColumns {
    pub(crate) widget_type: String,
    pub(crate) query: Value,
    pub(crate) position: Value,
    pub(crate) config: Value,
}

impl WidgetColumns {
    pub(crate) fn new(content: &WidgetContent) -> Result<Self, serde_json::Error> {
        Ok(Self {
            widget_type: content.widget_type.as_str().to_owned(),
            query: serde_json::to_value(&content.query)?,
            position: serde_json::to_value(content.position)?,
            config: serde_json::to_value(&content.config)?,
        })
    }
}

/// A dashboard summary, as the summaries statement selects it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SummaryRow {
    id: Uuid,
    name: String,
    description: Option<String>,
    owner_id: Option<String>,
    is_public: bool,
    is_default: bool,
    widget_count: i64,
    updated_at: DateTime<Utc>,
}

impl From<SummaryRow> for DashboardSummary {
    fn from(row: SummaryRow) -> Self {
        Self {
            id: DashboardId::from_uuid(row.id),
            name: row.name,
            description: row.description,
            owner_id: row.owner_id,
            is_public: row.is_public,
            is_owner: false,
            is_default: row.is_default,
            widget_count: u32::try_from(row.widget_count).unwrap_or(u32::MAX),
            updated_at: row.updated_at.into(),
        }
    }
}
