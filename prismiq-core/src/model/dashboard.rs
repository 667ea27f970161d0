//! Dashboards, their layout, and the bodies that create and change them.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::config::AnyConfig;
use super::filter::DashboardFilter;
use super::patch::Patch;
use super::query::QueryDefinition;
use super::time::Timestamp;
use super::widget::{PositionRequest, Widget, WidgetCreate, WidgetSave, WidgetType};
use crate::ids::DashboardId;

/// The grid a dashboard's widgets are placed on.
///
/// Every key is optional on input: `columns` 12, `row_height` 50, `margin` `[10, 10]`,
/// `compact_type` `"vertical"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DashboardLayout {
    /// Number of grid columns.
    #[serde(deserialize_with = "at_least_one")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub columns: u32,
    /// Height of one grid row, in pixels.
    #[serde(deserialize_with = "at_least_one")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub row_height: u32,
    /// Horizontal and vertical margin between widgets, in pixels.
    pub margin: [u32; 2],
    /// How the grid compacts widgets (`vertical`, `horizontal`, or `null` for none).
    pub compact_type: Option<String>,
}

fn at_least_one<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let value = u32::deserialize(deserializer)?;
    if value == 0 {
        return Err(D::Error::custom("must be at least 1"));
    }
    Ok(value)
}

impl Default for DashboardLayout {
    fn default() -> Self {
        Self {
            columns: 12,
            row_height: 50,
            margin: [10, 10],
            compact_type: Some("vertical".to_owned()),
        }
    }
}

/// A dashboard with its widgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Id.
    pub id: DashboardId,
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Grid settings.
    pub layout: DashboardLayout,
    /// Widgets, ordered by row then column.
    pub widgets: Vec<Widget>,
    /// Dashboard-level filters.
    pub filters: Vec<DashboardFilter>,
    /// The user who owns it; `None` if it was created without a user.
    pub owner_id: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it, or one of its widgets, last changed.
    pub updated_at: Timestamp,
    /// Whether every caller in the tenant may view it.
    pub is_public: bool,
    /// Users, besides the owner, who may view it.
    pub allowed_viewers: Vec<String>,
    /// Seconds between automatic refreshes of its widgets; `None` for none.
    #[serde(default)]
    pub refresh_interval: Option<u32>,
    /// Its version: 1 as created, one more for every committed change since (its `ETag`).
    #[serde(default = "first_version")]
    pub version: u64,
}

/// The version of a dashboard as created.
pub(crate) fn first_version() -> u64 {
    1
}

impl Dashboard {
    /// Sorts widgets into display order: by row, then column, then creation.
    pub fn sort_widgets(&mut self) {
        self.widgets
            .sort_by_key(|w| (w.position.y, w.position.x, w.created_at, w.id));
    }
}

/// A dashboard as the JSON the API returns for it, with the fields the view rule reads.
///
/// Reading a dashboard is the API's most frequent call. A store that keeps dashboards as JSON
/// can produce this document itself ([`DashboardStore::get_dashboard_json`]), so the read never
/// decodes every widget into a [`Dashboard`] only to encode it again.
///
/// [`DashboardStore::get_dashboard_json`]: crate::DashboardStore::get_dashboard_json
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardJson {
    /// The owner, as [`Dashboard::owner_id`].
    pub owner_id: Option<String>,
    /// As [`Dashboard::is_public`].
    pub is_public: bool,
    /// As [`Dashboard::allowed_viewers`].
    pub allowed_viewers: Vec<String>,
    /// As [`Dashboard::version`].
    pub version: u64,
    json: String,
}

impl DashboardJson {
    /// A document from its parts. `json` must be a JSON object equal (as JSON values) to the
    /// serialization of the [`Dashboard`] it stands for, and the other fields that dashboard's;
    /// the store conformance suite checks both.
    pub fn from_parts(
        owner_id: Option<String>,
        is_public: bool,
        allowed_viewers: Vec<String>,
        version: u64,
        json: String,
    ) -> Self {
        Self {
            owner_id,
            is_public,
            allowed_viewers,
            version,
            json,
        }
    }

    /// The document of `dashboard`, serialized here.
    pub fn from_dashboard(dashboard: &Dashboard) -> Self {
        let json = serde_json::to_string(dashboard).expect("a dashboard serializes to JSON");
        Self::from_parts(
            dashboard.owner_id.clone(),
            dashboard.is_public,
            dashboard.allowed_viewers.clone(),
            dashboard.version,
            json,
        )
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// The JSON text, taken out.
    pub fn into_string(self) -> String {
        self.json
    }

    /// The body of `GET /dashboards`, `{"dashboards": [...]}`, around the documents as they
    /// are: what serializing the listed dashboards under `dashboards` gives, without decoding
    /// them.
    pub fn list_body(documents: &[Self]) -> String {
        const OPEN: &str = "{\"dashboards\":[";
        const CLOSE: &str = "]}";
        let length = documents.iter().map(|d| d.json.len() + 1).sum::<usize>();
        let mut body = String::with_capacity(OPEN.len() + length + CLOSE.len());
        body.push_str(OPEN);
        for (i, document) in documents.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&document.json);
        }
        body.push_str(CLOSE);
        body
    }
}

/// Body of `POST /dashboards`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DashboardCreate {
    /// Name, unique within the tenant.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Grid settings; defaults apply when absent.
    #[serde(default, deserialize_with = "layout_or_default")]
    pub layout: DashboardLayout,
    /// Initial widgets.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub widgets: Vec<WidgetCreate>,
    /// Dashboard-level filters.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub filters: Vec<DashboardFilter>,
    /// Whether every caller in the tenant may view it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_public: bool,
    /// Users, besides the owner, who may view it.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub allowed_viewers: Vec<String>,
    /// Seconds between automatic refreshes; `None` for none.
    #[serde(default)]
    pub refresh_interval: Option<u32>,
}

impl DashboardCreate {
    /// A create body with just a name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            layout: DashboardLayout::default(),
            widgets: Vec::new(),
            filters: Vec::new(),
            is_public: false,
            allowed_viewers: Vec::new(),
            refresh_interval: None,
        }
    }

    /// The same body with `widget` added.
    pub fn with_widget(mut self, widget: WidgetCreate) -> Self {
        self.widgets.push(widget);
        self
    }
}

fn layout_or_default<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DashboardLayout, D::Error> {
    Ok(Option::<DashboardLayout>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or_default())
}

/// Body of `PATCH /dashboards/{id}`: absent fields are unchanged.
///
/// `null` clears `description`; for the other fields, which cannot be empty, `null` is the same
/// as absent. With `widgets`, the request saves the whole dashboard: listed widgets are kept or
/// created, unlisted ones deleted, all in one transaction.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct DashboardUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Patch<String>,
    /// New grid settings (missing keys take their defaults).
    #[serde(default)]
    pub layout: Option<DashboardLayout>,
    /// New filters, replacing the old ones.
    #[serde(default)]
    pub filters: Option<Vec<DashboardFilter>>,
    /// New public flag.
    #[serde(default)]
    pub is_public: Option<bool>,
    /// New viewer list, replacing the old one.
    #[serde(default)]
    pub allowed_viewers: Option<Vec<String>>,
    /// The complete new widget list.
    #[serde(default)]
    pub widgets: Option<Vec<WidgetSave>>,
    /// New refresh interval in seconds; `null` turns refreshing off.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub refresh_interval: Patch<u32>,
}

impl DashboardUpdate {
    /// An update renaming the dashboard to `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// The portable form of a dashboard (`GET /dashboards/{id}/export`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardExport {
    /// Format version, `"1.0"`.
    #[serde(default = "export_version")]
    pub version: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Grid settings.
    #[serde(default, deserialize_with = "layout_or_default")]
    pub layout: DashboardLayout,
    /// Widgets without ids or timestamps.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub widgets: Vec<WidgetExport>,
    /// Dashboard-level filters.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub filters: Vec<DashboardFilter>,
    /// Seconds between automatic refreshes; `None` for none.
    #[serde(default)]
    pub refresh_interval: Option<u32>,
}

/// The export format version this library writes and reads.
pub const EXPORT_VERSION: &str = "1.0";

fn export_version() -> String {
    EXPORT_VERSION.to_owned()
}

impl DashboardExport {
    /// The export of `dashboard`.
    pub fn of(dashboard: &Dashboard) -> Self {
        Self {
            version: export_version(),
            name: dashboard.name.clone(),
            description: dashboard.description.clone(),
            layout: dashboard.layout.clone(),
            widgets: dashboard
                .widgets
                .iter()
                .map(|w| WidgetExport {
                    widget_type: w.widget_type.clone(),
                    title: w.title.clone(),
                    query: w.query.clone(),
                    position: Some(w.position.into()),
                    config: Some(w.config.clone()),
                })
                .collect(),
            filters: dashboard.filters.clone(),
            refresh_interval: dashboard.refresh_interval,
        }
    }
}

/// A widget in a [`DashboardExport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetExport {
    /// Visualisation kind.
    #[serde(rename = "type")]
    pub widget_type: WidgetType,
    /// Title.
    pub title: String,
    /// Structured query, if any.
    #[serde(default)]
    pub query: Option<QueryDefinition>,
    /// Place on the grid; placed automatically on import when absent or partial.
    #[serde(default)]
    pub position: Option<PositionRequest>,
    /// Display settings; the type's default config when absent.
    #[serde(default)]
    pub config: Option<AnyConfig>,
}

impl From<WidgetExport> for WidgetCreate {
    fn from(export: WidgetExport) -> Self {
        let mut create = Self::placed(export.widget_type, export.title);
        create.query = export.query;
        create.position = export.position;
        create.config = export.config;
        create
    }
}

/// Body of `POST /dashboards/import`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardImport {
    /// What `GET /dashboards/{id}/export` returned.
    pub export_data: DashboardExport,
    /// A name to use instead of the exported one.
    #[serde(default)]
    pub name_override: Option<String>,
}

/// One dashboard in `GET /dashboards/summaries`: what a list shows, without widgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardSummary {
    /// Id.
    pub id: DashboardId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The owner.
    pub owner_id: Option<String>,
    /// Whether every caller in the tenant may view it.
    pub is_public: bool,
    /// Whether the caller owns it.
    pub is_owner: bool,
    /// Whether it is the dashboard `GET /dashboards/default` gives the caller.
    pub is_default: bool,
    /// How many widgets it has.
    pub widget_count: u32,
    /// When it, or one of its widgets, last changed.
    pub updated_at: Timestamp,
}

impl DashboardSummary {
    /// The summary of `dashboard`, with `is_owner` and `is_default` false.
    pub fn of(dashboard: &Dashboard) -> Self {
        Self {
            id: dashboard.id,
            name: dashboard.name.clone(),
            description: dashboard.description.clone(),
            owner_id: dashboard.owner_id.clone(),
            is_public: dashboard.is_public,
            is_owner: false,
            is_default: false,
            widget_count: u32::try_from(dashboard.widgets.len()).unwrap_or(u32::MAX),
            updated_at: dashboard.updated_at,
        }
    }
}
