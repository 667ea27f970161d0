//! Widgets: one visualisation placed on a dashboard's grid.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::config::AnyConfig;
use super::patch::Patch;
use super::query::QueryDefinition;
use super::time::Timestamp;
use crate::ids::WidgetId;

/// The kind of visualisation a widget renders: one of the eight built-in types, or a type a
/// host registered in its [`WidgetCatalogue`](crate::WidgetCatalogue).
///
/// On the wire a type is its snake_case key (`"bar_chart"`, `"gauge"`). Any well-formed key
/// reads; whether a caller may use it is the catalogue's to say, on every write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WidgetType {
    /// A single number.
    Metric,
    /// Bars.
    BarChart,
    /// Lines.
    LineChart,
    /// Filled lines.
    AreaChart,
    /// A pie.
    PieChart,
    /// Points.
    ScatterChart,
    /// A table of rows.
    Table,
    /// Text or markdown, no query.
    Text,
    /// A host's type, by its key (never the key of a built-in type).
    Custom(String),
}

impl WidgetType {
    /// The eight built-in types, in the contract's order.
    pub const BUILTIN: [WidgetType; 8] = [
        Self::Metric,
        Self::BarChart,
        Self::LineChart,
        Self::AreaChart,
        Self::PieChart,
        Self::ScatterChart,
        Self::Table,
        Self::Text,
    ];

    /// The longest key a type may have.
    pub const MAX_KEY_LENGTH: usize = 64;

    /// The type of `key`: a built-in type by its name, any other well-formed key as a
    /// [`Custom`](Self::Custom) type. A key is snake_case: a lowercase ASCII letter, then
    /// lowercase letters, digits and `_`, at most [`MAX_KEY_LENGTH`](Self::MAX_KEY_LENGTH).
    pub fn parse(key: &str) -> Result<Self, String> {
        if let Some(builtin) = Self::BUILTIN.iter().find(|t| t.as_str() == key) {
            return Ok(builtin.clone());
        }
        if is_key(key) {
            Ok(Self::Custom(key.to_owned()))
        } else {
            Err(format!(
                "'{key}' is not a widget type: a type is a snake_case key (a lowercase letter, \
                 then lowercase letters, digits and '_', at most {} characters)",
                Self::MAX_KEY_LENGTH
            ))
        }
    }

    /// The key, as on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Metric => "metric",
            Self::BarChart => "bar_chart",
            Self::LineChart => "line_chart",
            Self::AreaChart => "area_chart",
            Self::PieChart => "pie_chart",
            Self::ScatterChart => "scatter_chart",
            Self::Table => "table",
            Self::Text => "text",
            Self::Custom(key) => key,
        }
    }

    /// Whether this is one of the eight built-in types, whose config is a [`WidgetConfig`](crate::WidgetConfig).
    pub fn is_builtin(&self) -> bool {
        !matches!(self, Self::Custom(_))
    }
}

/// Whether `key` is a snake_case key: a lowercase ASCII letter, then lowercase letters, digits
/// and `_`, at most 64 characters (widget types, host templates).
pub(crate) fn is_key(key: &str) -> bool {
    key.len() <= WidgetType::MAX_KEY_LENGTH
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl std::fmt::Display for WidgetType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WidgetType {
    type Err = String;

    fn from_str(key: &str) -> Result<Self, String> {
        Self::parse(key)
    }
}

impl Serialize for WidgetType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WidgetType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Self::parse(&key).map_err(D::Error::custom)
    }
}

/// A widget's place on the grid, in grid units: `x, y ≥ 0`, `w, h ≥ 1`.
///
/// The dashboard's layout further requires `x + w ≤ columns`; the
/// [`Engine`](crate::Engine) checks that, since it needs the layout.
/// Extra keys the client keeps in `position` (`minW`, `minH`, …) are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetPosition {
    /// Column of the left edge.
    pub x: u32,
    /// Row of the top edge.
    pub y: u32,
    /// Width in columns.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub w: u32,
    /// Height in rows.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub h: u32,
}

impl WidgetPosition {
    /// A position; `w` and `h` must be at least 1.
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> Result<Self, String> {
        if w == 0 {
            return Err("position.w must be at least 1".to_owned());
        }
        if h == 0 {
            return Err("position.h must be at least 1".to_owned());
        }
        Ok(Self { x, y, w, h })
    }

    /// Whether the widget lies within a grid of `columns` columns.
    pub fn fits(&self, columns: u32) -> bool {
        u64::from(self.x) + u64::from(self.w) <= u64::from(columns)
    }
}

impl<'de> Deserialize<'de> for WidgetPosition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            x: u32,
            y: u32,
            #[serde(deserialize_with = "positive")]
            w: u32,
            #[serde(deserialize_with = "positive")]
            h: u32,
        }
        let raw = Raw::deserialize(deserializer)?;
        Self::new(raw.x, raw.y, raw.w, raw.h).map_err(D::Error::custom)
    }
}

/// A widget as stored and returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "StoredWidget")]
pub struct Widget {
    /// Id, unique across all dashboards.
    pub id: WidgetId,
    /// Visualisation kind.
    #[serde(rename = "type")]
    pub widget_type: WidgetType,
    /// Title shown above the widget.
    pub title: String,
    /// The structured query feeding the widget; `None` for text and SQL-mode widgets.
    pub query: Option<QueryDefinition>,
    /// Place on the grid.
    pub position: WidgetPosition,
    /// Display settings: the 34 keys of a built-in type, or a host type's own config.
    pub config: AnyConfig,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// A [`Widget`] as read, before its config takes its type's shape.
#[derive(Deserialize)]
struct StoredWidget {
    id: WidgetId,
    #[serde(rename = "type")]
    widget_type: WidgetType,
    title: String,
    query: Option<QueryDefinition>,
    position: WidgetPosition,
    #[serde(default)]
    config: AnyConfig,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl TryFrom<StoredWidget> for Widget {
    type Error = serde_json::Error;

    fn try_from(w: StoredWidget) -> Result<Self, Self::Error> {
        Ok(Self {
            config: w.config.for_type(&w.widget_type)?,
            id: w.id,
            widget_type: w.widget_type,
            title: w.title,
            query: w.query,
            position: w.position,
            created_at: w.created_at,
            updated_at: w.updated_at,
        })
    }
}

/// Where a new widget goes, as a request says it: a full position, only a size, or nothing.
///
/// With both `x` and `y` the widget goes there (`w`/`h` default to its type's size);
/// otherwise it is placed automatically at the first free spot of the grid, with the size
/// given or its type's default size. Extra keys the client keeps in `position` are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PositionRequest {
    /// Column of the left edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<u32>,
    /// Row of the top edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<u32>,
    /// Width in columns.
    #[serde(
        default,
        deserialize_with = "positive_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub w: Option<u32>,
    /// Height in rows.
    #[serde(
        default,
        deserialize_with = "positive_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub h: Option<u32>,
}

impl PositionRequest {
    /// A widget of size `w`×`h`, placed automatically.
    pub fn size(w: u32, h: u32) -> Self {
        Self {
            x: None,
            y: None,
            w: Some(w),
            h: Some(h),
        }
    }

    /// The point asked for, when the request names one.
    pub fn point(&self) -> Option<(u32, u32)> {
        self.x.zip(self.y)
    }
}

impl From<WidgetPosition> for PositionRequest {
    fn from(p: WidgetPosition) -> Self {
        Self {
            x: Some(p.x),
            y: Some(p.y),
            w: Some(p.w),
            h: Some(p.h),
        }
    }
}

/// Body of `POST /dashboards/{id}/widgets`, and each initial widget of a new dashboard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct WidgetCreate {
    /// Visualisation kind: a built-in type or one the host registered.
    #[serde(rename = "type")]
    pub widget_type: WidgetType,
    /// Title.
    pub title: String,
    /// Structured query, if any.
    #[serde(default)]
    pub query: Option<QueryDefinition>,
    /// Place on the grid; without it (or with only `w`/`h`) the widget takes the first free
    /// spot.
    #[serde(default)]
    pub position: Option<PositionRequest>,
    /// Display settings; without them, the type's default config.
    #[serde(default)]
    pub config: Option<AnyConfig>,
}

impl WidgetCreate {
    /// A widget of `widget_type` titled `title` at `position`, without query, with the type's
    /// default config.
    pub fn new(
        widget_type: WidgetType,
        title: impl Into<String>,
        position: WidgetPosition,
    ) -> Self {
        Self::placed(widget_type, title).at(position)
    }

    /// A widget of `widget_type` titled `title` that takes its type's default size and the
    /// first free spot of the grid.
    pub fn placed(widget_type: WidgetType, title: impl Into<String>) -> Self {
        Self {
            widget_type,
            title: title.into(),
            query: None,
            position: None,
            config: None,
        }
    }

    /// The same widget at `position`.
    pub fn at(mut self, position: WidgetPosition) -> Self {
        self.position = Some(position.into());
        self
    }

    /// The same widget, `w`×`h`, placed automatically.
    pub fn sized(mut self, w: u32, h: u32) -> Self {
        self.position = Some(PositionRequest::size(w, h));
        self
    }

    /// The same widget reading `query`.
    pub fn with_query(mut self, query: QueryDefinition) -> Self {
        self.query = Some(query);
        self
    }

    /// The same widget with `config` (a [`WidgetConfig`](crate::WidgetConfig) for a built-in type, a JSON object
    /// for a host type).
    pub fn with_config(mut self, config: impl Into<AnyConfig>) -> Self {
        self.config = Some(config.into());
        self
    }
}

/// Body of `PATCH /dashboards/{id}/widgets/{wid}`: absent fields are unchanged.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct WidgetUpdate {
    /// New visualisation kind. Between built-in types the config is kept; to or from a host
    /// type, the new type's default config applies unless `config` is given.
    #[serde(default, rename = "type")]
    pub widget_type: Option<WidgetType>,
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New query; `null` removes it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<QueryDefinition>))]
    pub query: Patch<QueryDefinition>,
    /// New position.
    #[serde(default)]
    pub position: Option<WidgetPosition>,
    /// New display settings, replacing the old ones entirely.
    #[serde(default)]
    pub config: Option<AnyConfig>,
}

/// One widget in a whole-dashboard save (`PATCH /dashboards/{id}` with `widgets`).
///
/// The editor sends its full local widget objects; `created_at`, `updated_at` and other extra
/// keys are ignored. A widget whose `id` is already on the dashboard is updated in place; any
/// other widget is created, keeping its `id` when it is a UUID.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetSave {
    /// The widget's id as the client knows it.
    #[serde(default)]
    pub id: Option<String>,
    /// Visualisation kind.
    #[serde(rename = "type")]
    pub widget_type: WidgetType,
    /// Title.
    pub title: String,
    /// Structured query, if any.
    #[serde(default)]
    pub query: Option<QueryDefinition>,
    /// Place on the grid; placed automatically when absent or partial.
    #[serde(default)]
    pub position: Option<PositionRequest>,
    /// Display settings; the type's default config when absent.
    #[serde(default)]
    pub config: Option<AnyConfig>,
}

/// The content of a widget, without identity or timestamps: what stores write.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetContent {
    /// Visualisation kind.
    pub widget_type: WidgetType,
    /// Title.
    pub title: String,
    /// Structured query, if any.
    pub query: Option<QueryDefinition>,
    /// Place on the grid.
    pub position: WidgetPosition,
    /// Display settings, in the shape of the type.
    pub config: AnyConfig,
}

impl WidgetContent {
    /// The content of an existing widget.
    pub fn of(widget: &Widget) -> Self {
        Self {
            widget_type: widget.widget_type.clone(),
            title: widget.title.clone(),
            query: widget.query.clone(),
            position: widget.position,
            config: widget.config.clone(),
        }
    }

    /// The widget `id` with this content, created at `created_at` and changed at `updated_at`.
    pub fn into_widget(self, id: WidgetId, created_at: Timestamp, updated_at: Timestamp) -> Widget {
        Widget {
            id,
            widget_type: self.widget_type,
            title: self.title,
            query: self.query,
            position: self.position,
            config: self.config,
            created_at,
            updated_at,
        }
    }
}

/// One item of `PUT /dashboards/{id}/layout`.
///
/// Accepts `{"widget_id", "position": {x, y, w, h}}` (what the client sends), `id` in place of
/// `widget_id`, and the position keys inline in the item. Missing position keys default to
/// `x = 0, y = 0, w = 4, h = 3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutItem {
    /// The widget to move, as sent; ids that name no widget of the dashboard are skipped.
    pub widget_id: String,
    /// Its new position.
    pub position: WidgetPosition,
}

impl<'de> Deserialize<'de> for LayoutItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Typed fields, so that a bad value is reported at its own path.
        #[derive(Deserialize)]
        struct Coordinates {
            #[serde(default)]
            x: Option<u32>,
            #[serde(default)]
            y: Option<u32>,
            #[serde(default, deserialize_with = "positive_or_null")]
            w: Option<u32>,
            #[serde(default, deserialize_with = "positive_or_null")]
            h: Option<u32>,
        }
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            widget_id: Option<String>,
            #[serde(default)]
            id: Option<String>,
            #[serde(default)]
            position: Option<Coordinates>,
            #[serde(flatten)]
            inline: Coordinates,
        }
        let raw = Raw::deserialize(deserializer)?;
        let widget_id = raw
            .widget_id
            .or(raw.id)
            .ok_or_else(|| D::Error::missing_field("widget_id"))?;
        let at = raw.position.unwrap_or(raw.inline);
        let position = WidgetPosition::new(
            at.x.unwrap_or(0),
            at.y.unwrap_or(0),
            at.w.unwrap_or(4),
            at.h.unwrap_or(3),
        )
        .map_err(D::Error::custom)?;
        Ok(Self {
            widget_id,
            position,
        })
    }
}

/// A width or height: at least 1.
fn positive<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    match u32::deserialize(deserializer)? {
        0 => Err(D::Error::custom("must be at least 1")),
        n => Ok(n),
    }
}

fn positive_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    match Option::<u32>::deserialize(deserializer)? {
        Some(0) => Err(D::Error::custom("must be at least 1")),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_rejects_zero_size_and_negative_coordinates() {
        assert!(serde_json::from_str::<WidgetPosition>(r#"{"x":0,"y":0,"w":0,"h":1}"#).is_err());
        assert!(serde_json::from_str::<WidgetPosition>(r#"{"x":-1,"y":0,"w":1,"h":1}"#).is_err());
        let p: WidgetPosition =
            serde_json::from_str(r#"{"x":1,"y":2,"w":3,"h":4,"minW":2}"#).unwrap();
        assert_eq!(p, WidgetPosition::new(1, 2, 3, 4).unwrap());
        assert!(p.fits(4) && !p.fits(3));
    }

    #[test]
    fn layout_item_accepts_the_client_and_contract_shapes() {
        let client: LayoutItem =
            serde_json::from_str(r#"{"widget_id":"a","position":{"x":1,"y":2,"w":3,"h":4}}"#)
                .unwrap();
        assert_eq!(client.position, WidgetPosition::new(1, 2, 3, 4).unwrap());
        let inline: LayoutItem = serde_json::from_str(r#"{"id":"b","x":5}"#).unwrap();
        assert_eq!(inline.widget_id, "b");
        assert_eq!(inline.position, WidgetPosition::new(5, 0, 4, 3).unwrap());
        assert!(serde_json::from_str::<LayoutItem>(r#"{"x":1}"#).is_err());
        assert!(serde_json::from_str::<LayoutItem>(r#"{"id":"c","x":-2}"#).is_err());
    }
}
