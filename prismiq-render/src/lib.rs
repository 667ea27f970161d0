//! Prismiq dashboards as pictures and as a page, in pure Rust and in process.
//!
//! - **Widgets as SVG and PNG**: every built-in widget type (metric, bar, line, area, pie and
//!   donut, scatter, table, text) drawn from its [`QueryResult`] and
//!   [`WidgetConfig`](prismiq_core::WidgetConfig) — the
//!   config's axes, series, colours, number and date formats, reference lines, legend and data
//!   labels; a readable empty and error state; host types through a [`WidgetPainter`] or as a
//!   neutral card.
//! - **Dashboards as PNG and PDF**, following the grid layout; the PDF is cut into A4 landscape
//!   pages between rows of widgets.
//! - **A read-only HTML page** ([`Renderer::page`]): the dashboard as a responsive CSS grid of
//!   inline SVG, its filters as a plain HTML form, a light and a dark theme, automatic refresh,
//!   no script, and the `Content-Security-Policy` that says so.
//!
//! Everything a user wrote — titles, labels, data values, markdown — is escaped or sanitised:
//! SVG text is escaped (and characters XML cannot carry dropped), colours from configs are kept
//! only when they are plain colours, markdown is rendered without raw HTML into pictures and
//! cleaned by `ammonia` for the page. How much of a result a picture draws is bounded
//! ([`limits`]). Text uses DejaVu Sans, embedded, so PNG and PDF output is the same on every
//! machine.
//!
//! The crate does no I/O: give it results (from [`Engine`](prismiq_core::Engine) calls, usually
//! through `prismiq-axum`'s render routes) and it gives back bytes.
//!
//! ```
//! use prismiq_core::{QueryResult, Widget, WidgetType};
//! use prismiq_render::{Renderer, Theme, WidgetData, WidgetOptions, WidgetState};
//! use serde_json::json;
//!
//! let widget: Widget = serde_json::from_value(json!({
//!     "id": "0190a5c4-0000-7000-8000-000000000001", "type": "bar_chart", "title": "Revenue",
//!     "position": {"x": 0, "y": 0, "w": 6, "h": 4},
//!     "config": {"x_axis": "region", "y_axis": ["revenue"], "valueFormat": "currency"},
//!     "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
//! }))?;
//! let result = QueryResult {
//!     columns: vec!["region".into(), "revenue".into()],
//!     column_types: vec!["text".into(), "numeric".into()],
//!     rows: vec![vec![json!("East"), json!(1200.5)], vec![json!("West"), json!(800)]],
//!     row_count: 2,
//!     truncated: false,
//!     execution_time_ms: 0.0,
//! };
//! let renderer = Renderer::new();
//! let picture = renderer.widget_svg(&widget, &WidgetData::rows(result), WidgetOptions::new(600, 300));
//! assert_eq!(picture.state, WidgetState::Ok);
//! assert_eq!(picture.svg.matches(r#"class="bar""#).count(), 2);
//! let png = renderer.png(&picture.svg, 1.0)?;
//! assert!(png.starts_with(b"\x89PNG"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
// Drawing code is coordinate arithmetic: written as the geometry reads (`x + i * step`), not
// as fused multiply-adds, whose extra precision is invisible at a fraction of a pixel.
#![allow(clippy::suboptimal_flops)]

mod chart;
mod dashboard;
mod data;
mod font;
mod format;
pub mod limits;
mod page;
mod params;
mod raster;
mod svg;
mod theme;
mod widget;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use prismiq_core::query::DatePreset;
use prismiq_core::{
    DashboardFilter, DashboardLayout, FilterType, QueryResult, TrendResult, Widget, WidgetType,
};
use serde_json::Value;

pub use page::{Page, PageOptions, error_page};
pub use params::{FILTER_PREFIX, ParamError, RenderParams};
pub use svg::escape;
pub use theme::Theme;

/// What a widget has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetData {
    /// The rows of its query (or of its host provider), and a metric's trend when there is one.
    Rows {
        /// The rows.
        result: QueryResult,
        /// How the metric compares with an earlier period.
        trend: Option<TrendResult>,
    },
    /// Its data could not be had: the message says why, in words for the viewer.
    Failed(String),
    /// It has no data (a text widget, or a host type with static content).
    Static,
}

impl WidgetData {
    /// Rows without a trend.
    pub fn rows(result: QueryResult) -> Self {
        Self::Rows {
            result,
            trend: None,
        }
    }
}

/// What a rendered widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WidgetState {
    /// A chart of its data.
    Ok,
    /// Its query returned nothing to draw.
    Empty,
    /// Its data could not be had.
    Error,
    /// Static content (a text widget).
    Static,
}

impl WidgetState {
    /// `ok`, `empty`, `error` or `static`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Empty => "empty",
            Self::Error => "error",
            Self::Static => "static",
        }
    }
}

/// A widget as an SVG document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetSvg {
    /// The document.
    pub svg: String,
    /// What it shows.
    pub state: WidgetState,
}

/// The size and theme of a widget picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WidgetOptions {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colours.
    pub theme: Theme,
}

impl WidgetOptions {
    /// `width` × `height` pixels (each clamped to [`limits::WIDGET_SIZE`]), light theme.
    pub fn new(width: u32, height: u32) -> Self {
        let bound = |v: u32| v.clamp(*limits::WIDGET_SIZE.start(), *limits::WIDGET_SIZE.end());
        Self {
            width: bound(width),
            height: bound(height),
            theme: Theme::Light,
        }
    }

    /// With `theme`.
    pub fn with_theme(mut self, theme: Theme) -> Self {
        self.theme = theme;
        self
    }

    /// The size a widget has on its dashboard drawn 1,200 pixels wide: its grid cell.
    pub fn for_widget(widget: &Widget, layout: &DashboardLayout) -> Self {
        let columns = f64::from(layout.columns.max(1));
        let gap = f64::from(layout.margin[0].min(100));
        let column = (1200.0 - 32.0 - (columns - 1.0) * gap) / columns;
        let (w, h) = (
            widget.position.w.clamp(1, layout.columns.max(1)),
            widget.position.h.clamp(1, 100),
        );
        let width = f64::from(w) * column + f64::from(w - 1) * gap;
        let height =
            f64::from(h * layout.row_height.clamp(10, 500) + (h - 1) * layout.margin[1].min(100));
        Self::new(width.round() as u32, height.round() as u32)
    }
}

/// A dashboard filter with the value in force.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterState {
    /// The filter.
    pub filter: DashboardFilter,
    /// The value in force: what the request chose, else the share link's locked value, else
    /// the filter's default; `None` or null for none.
    pub value: Option<Value>,
    /// Whether a share link fixes it (shown, not editable).
    pub locked: bool,
}

impl FilterState {
    /// The filter's value in words: `All`, `East`, `A, B`, `2025-01-01 – 2025-03-31`,
    /// `Last 30 days`, `≥ 10`.
    pub fn describe(&self) -> String {
        let value = match &self.value {
            None | Some(Value::Null) => return "All".to_owned(),
            Some(value) => value,
        };
        match value {
            Value::String(s) if self.filter.filter_type == FilterType::DateRange => preset_label(s),
            Value::String(s) => font::clip(s).into_owned(),
            Value::Array(items) if items.is_empty() => "All".to_owned(),
            Value::Array(items) => {
                font::clip(&items.iter().map(plain).collect::<Vec<_>>().join(", ")).into_owned()
            }
            Value::Object(range) => {
                if let Some(Value::String(preset)) = range.get("preset") {
                    return preset_label(preset);
                }
                let part = |key: &str| range.get(key).filter(|v| !v.is_null()).map(plain);
                match (
                    part("start").or_else(|| part("min")),
                    part("end").or_else(|| part("max")),
                ) {
                    (Some(a), Some(b)) => format!("{a} – {b}"),
                    (Some(a), None) => format!("≥ {a}"),
                    (None, Some(b)) => format!("≤ {b}"),
                    (None, None) => "All".to_owned(),
                }
            }
            other => plain(other),
        }
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `last_30_days` → `Last 30 days`; any other text as it is.
pub(crate) fn preset_label(name: &str) -> String {
    if name.parse::<DatePreset>().is_err() {
        return font::clip(name).into_owned();
    }
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A dashboard with its widgets' data, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardView {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its grid.
    pub layout: DashboardLayout,
    /// Its widgets, each with its data, in display order.
    pub widgets: Vec<(Widget, WidgetData)>,
    /// Its filters and the values in force.
    pub filters: Vec<FilterState>,
    /// Seconds between refreshes of the page, if it refreshes.
    pub refresh_interval: Option<u32>,
}

/// Draws a host widget type's body.
///
/// The returned markup is placed as it is inside a `<g>` of the widget's picture, the origin at
/// the body's top left (below the title): SVG elements only, with every string that came from
/// data escaped through [`escape`]. Without a painter a host type is drawn as a neutral card
/// listing its first row.
pub trait WidgetPainter: Send + Sync + 'static {
    /// SVG elements drawing `result` for `widget` in a `size.0` × `size.1` pixel box.
    fn paint(
        &self,
        widget: &Widget,
        result: &QueryResult,
        size: (f64, f64),
        theme: Theme,
    ) -> String;
}

/// Why a picture could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The SVG did not parse (only possible with a host painter's markup).
    #[error("the picture is not valid SVG: {0}")]
    Svg(String),
    /// The picture could not be encoded.
    #[error("the picture could not be encoded: {0}")]
    Encode(String),
    /// The picture would be too large to allocate.
    #[error("the picture is too large")]
    TooLarge,
}

/// Draws widgets, dashboards and pages. Cheap to clone; holds the host's painters.
#[derive(Clone, Default)]
pub struct Renderer {
    painters: BTreeMap<String, Arc<dyn WidgetPainter>>,
    labels: BTreeMap<String, String>,
}

impl fmt::Debug for Renderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Renderer")
            .field("painters", &self.painters.keys().collect::<Vec<_>>())
            .field("labels", &self.labels)
            .finish()
    }
}

/// A4 landscape, in points.
const A4_LANDSCAPE: (f32, f32) = (842.0, 595.0);
/// PDF page margin, in points.
const PDF_MARGIN: f32 = 24.0;
/// Width at which a PDF page's content is laid out, in pixels.
const PDF_WIDTH: u32 = 1200;

impl Renderer {
    /// A renderer for the built-in types; host types are drawn as neutral cards.
    pub fn new() -> Self {
        Self::default()
    }

    /// Draws widgets of the host type `key` with `painter`.
    pub fn with_painter(mut self, key: impl Into<String>, painter: impl WidgetPainter) -> Self {
        self.painters.insert(key.into(), Arc::new(painter));
        self
    }

    /// Names the host type `key` `label` on its neutral card (the catalogue's label, usually).
    pub fn with_label(mut self, key: impl Into<String>, label: impl Into<String>) -> Self {
        self.labels.insert(key.into(), label.into());
        self
    }

    /// Whether the host type `key` has a label of this renderer's.
    pub fn has_label(&self, key: &str) -> bool {
        self.labels.contains_key(key)
    }

    pub(crate) fn painter(&self, widget_type: &WidgetType) -> Option<&dyn WidgetPainter> {
        self.painters.get(widget_type.as_str()).map(|p| p.as_ref())
    }

    pub(crate) fn label(&self, widget_type: &WidgetType) -> String {
        self.labels
            .get(widget_type.as_str())
            .cloned()
            .unwrap_or_else(|| widget_type.as_str().replace('_', " "))
    }

    /// `widget` as a standalone SVG document with its title.
    pub fn widget_svg(
        &self,
        widget: &Widget,
        data: &WidgetData,
        options: WidgetOptions,
    ) -> WidgetSvg {
        let mut svg = String::with_capacity(4 * 1024);
        let state = widget::write(
            self,
            &mut svg,
            widget,
            data,
            widget::Placement {
                x: 0.0,
                y: 0.0,
                width: f64::from(options.width),
                height: f64::from(options.height),
                theme: options.theme,
                title: true,
                standalone: true,
            },
        );
        WidgetSvg { svg, state }
    }

    /// `widget` as a PNG (`options` pixels, twice as many with `scale` 2).
    pub fn widget_png(
        &self,
        widget: &Widget,
        data: &WidgetData,
        options: WidgetOptions,
        scale: f32,
    ) -> Result<Vec<u8>, RenderError> {
        self.png(&self.widget_svg(widget, data, options).svg, scale)
    }

    /// An SVG document this renderer made, as a PNG; `scale` device pixels per SVG pixel.
    pub fn png(&self, svg: &str, scale: f32) -> Result<Vec<u8>, RenderError> {
        raster::png(svg, scale.clamp(0.25, 4.0))
    }

    /// The whole dashboard as one SVG document `width` pixels wide (clamped to
    /// [`limits::DASHBOARD_WIDTH`]).
    pub fn dashboard_svg(&self, view: &DashboardView, width: u32, theme: Theme) -> String {
        let width = width.clamp(
            *limits::DASHBOARD_WIDTH.start(),
            *limits::DASHBOARD_WIDTH.end(),
        );
        dashboard::svg(self, view, width, theme)
    }

    /// The whole dashboard as a PNG `width` pixels wide.
    pub fn dashboard_png(
        &self,
        view: &DashboardView,
        width: u32,
        theme: Theme,
    ) -> Result<Vec<u8>, RenderError> {
        raster::png(&self.dashboard_svg(view, width, theme), 1.0)
    }

    /// The whole dashboard as a PDF of A4 landscape pages, cut between rows of widgets.
    pub fn dashboard_pdf(
        &self,
        view: &DashboardView,
        theme: Theme,
    ) -> Result<Vec<u8>, RenderError> {
        let (w, h) = A4_LANDSCAPE;
        let aspect = f64::from(h - 2.0 * PDF_MARGIN) / f64::from(w - 2.0 * PDF_MARGIN);
        let pages = dashboard::pages(self, view, PDF_WIDTH, aspect, theme);
        raster::pdf(&view.name, &pages, A4_LANDSCAPE, PDF_MARGIN)
    }

    /// The dashboard as a read-only HTML page.
    pub fn page(&self, view: &DashboardView, options: &PageOptions<'_>) -> Page {
        page::render(self, view, options)
    }
}
