//! Widgets: one visualisation placed on a dashboard's grid.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::config::WidgetConfig;
use super::patch::Patch;
use super::query::QueryDefinition;
use super::time::Timestamp;
use crate::ids::WidgetId;

/// The kind of visualisation a widget renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
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
    /// Display settings.
    pub config: WidgetConfig,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Body of `POST /dashboards/{id}/widgets`, and each initial widget of a new dashboard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct WidgetCreate {
    /// Visualisation kind.
    #[serde(rename = "type")]
    pub widget_type: WidgetType,
    /// Title.
    pub title: String,
    /// Structured query, if any.
    #[serde(default)]
    pub query: Option<QueryDefinition>,
    /// Place on the grid.
    pub position: WidgetPosition,
    /// Display settings; defaults to all-null.
    #[serde(default)]
    pub config: WidgetConfig,
}

impl WidgetCreate {
    /// A widget of `widget_type` titled `title` at `position`, without query, default config.
    pub fn new(
        widget_type: WidgetType,
        title: impl Into<String>,
        position: WidgetPosition,
    ) -> Self {
        Self {
            widget_type,
            title: title.into(),
            query: None,
            position,
            config: WidgetConfig::default(),
        }
    }

    /// The same widget reading `query`.
    pub fn with_query(mut self, query: QueryDefinition) -> Self {
        self.query = Some(query);
        self
    }

    /// The same widget with `config`.
    pub fn with_config(mut self, config: WidgetConfig) -> Self {
        self.config = config;
        self
    }
}

/// Body of `PATCH /dashboards/{id}/widgets/{wid}`: absent fields are unchanged.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct WidgetUpdate {
    /// New visualisation kind.
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
    pub config: Option<WidgetConfig>,
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
    /// Place on the grid.
    pub position: WidgetPosition,
    /// Display settings.
    #[serde(default)]
    pub config: WidgetConfig,
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
    /// Display settings.
    pub config: WidgetConfig,
}

impl WidgetContent {
    /// The content of an existing widget.
    pub fn of(widget: &Widget) -> Self {
        Self {
            widget_type: widget.widget_type,
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

impl From<WidgetCreate> for WidgetContent {
    fn from(create: WidgetCreate) -> Self {
        Self {
            widget_type: create.widget_type,
            title: create.title,
            query: create.query,
            position: create.position,
            config: create.config,
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
