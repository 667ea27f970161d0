//! The demo's own widget types, as a host registers them: a `gauge` fed by a query, with a
//! config schema, and `server_status`, whose data the host computes in Rust; a template of its
//! own, "Order health". A user's first visit to `GET /dashboards/default` creates a starter
//! dashboard showing both types. On pages and pictures the gauge is drawn by `GaugePainter`;
//! `server_status` has no painter, so it shows as a neutral card.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use prismiq_axum::prismiq_core::catalogue::{
    Category, ProviderError, ProviderRequest, WidgetDataProvider, WidgetSizes, WidgetTypeSpec,
};
use prismiq_axum::prismiq_core::{
    AnyConfig, AuthContext, DashboardCreate, DashboardTemplate, Engine, QueryDefinition,
    QueryResult, Widget, WidgetCreate, WidgetType,
};
use prismiq_axum::prismiq_render::{Theme, WidgetPainter, escape};
use serde_json::json;

/// A dial between `min` and `max`, coloured by thresholds: one number from a query.
pub(crate) fn gauge() -> WidgetTypeSpec {
    WidgetTypeSpec::new("gauge", "Gauge")
        .with_description("One number on a dial between min and max, coloured by thresholds")
        .with_category(Category::Stats)
        .with_icon("gauge")
        .with_sizes(WidgetSizes::new(3, 3).min(2, 2).max(6, 6))
        .with_default_config(json!({"min": 0, "max": 100, "thresholds": []}))
        .with_config_schema(json!({
            "type": "object",
            "properties": {
                "min": {"type": "number"},
                "max": {"type": "number"},
                "unit": {"type": "string", "maxLength": 12},
                "thresholds": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "number"},
                            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
                        },
                        "required": ["value", "color"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["min", "max"],
            "additionalProperties": false
        }))
}

/// How long this server has run and what it knows of the caller: data no SQL query has.
struct ServerStatus {
    started: Instant,
}

#[async_trait]
impl WidgetDataProvider for ServerStatus {
    async fn fetch(&self, request: ProviderRequest<'_>) -> Result<QueryResult, ProviderError> {
        let uptime = self.started.elapsed().as_secs();
        let rows = vec![
            vec![json!("uptime_seconds"), json!(uptime)],
            vec![json!("tenant"), json!(request.auth.tenant_id())],
            vec![json!("user"), json!(request.auth.user_id())],
            vec![json!("version"), json!(env!("CARGO_PKG_VERSION"))],
        ];
        Ok(QueryResult {
            columns: vec!["key".to_owned(), "value".to_owned()],
            column_types: vec!["text".to_owned(), "json".to_owned()],
            row_count: rows.len(),
            rows,
            truncated: false,
            execution_time_ms: 0.0,
        })
    }
}

/// Server facts, computed by the host and cached for five seconds per user.
pub(crate) fn server_status() -> WidgetTypeSpec {
    WidgetTypeSpec::new("server_status", "Server status")
        .with_description("Uptime and version of the server, computed by the host")
        .with_category(Category::Info)
        .with_icon("server")
        .with_sizes(WidgetSizes::new(4, 3).min(3, 2))
        .with_provider(ServerStatus {
            started: Instant::now(),
        })
        .with_cache_ttl(Duration::from_secs(5))
}

/// The engine with the demo's widget types, its template and a starter dashboard for first
/// visits.
pub(crate) fn register(engine: Engine) -> Engine {
    engine
        .with_widget_type(gauge())
        .with_widget_type(server_status())
        .with_template(order_health())
        .with_starter_dashboard(starter)
}

/// A template every tenant can make a dashboard from: `POST /dashboards` with
/// `{"from_template": "order_health"}`.
fn order_health() -> DashboardTemplate {
    let query = |columns: serde_json::Value| {
        QueryDefinition::from_value(json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": columns
        }))
        .expect("a valid query")
    };
    let orders = query(
        json!([{"table_id": "t1", "column": "id", "aggregation": "count",
                               "alias": "orders"}]),
    );
    let by_status = query(json!([
        {"table_id": "t1", "column": "status"},
        {"table_id": "t1", "column": "id", "aggregation": "count", "alias": "orders"}
    ]));
    DashboardTemplate::host("order_health", "Order health")
        .with_description("How many orders, and where they stand")
        .with_category("operations")
        .with_widget(WidgetCreate::placed(WidgetType::Metric, "Orders").with_query(orders))
        .with_widget(
            WidgetCreate::placed(WidgetType::PieChart, "Orders by status").with_query(by_status),
        )
}

/// "My dashboard": revenue on a gauge and the server's status, placed automatically.
fn starter(auth: &dyn AuthContext) -> Option<DashboardCreate> {
    let user = auth.user_id()?;
    let revenue = QueryDefinition::from_value(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum",
                     "alias": "revenue"}]
    }))
    .expect("a valid query");
    let gauge = WidgetCreate::placed(WidgetType::Custom("gauge".to_owned()), "Revenue")
        .with_query(revenue)
        .with_config(
            json!({"min": 0, "max": 3_000_000, "unit": "$",
                   "thresholds": [{"value": 1_000_000, "color": "#e8a33d"},
                                  {"value": 2_000_000, "color": "#3d9a50"}]})
            .as_object()
            .cloned()
            .expect("an object"),
        );
    let status = WidgetCreate::placed(WidgetType::Custom("server_status".to_owned()), "Server");
    let mut create = DashboardCreate::named(format!("{user}'s dashboard"))
        .with_widget(gauge)
        .with_widget(status);
    create.description = Some("Created on your first visit; make it yours.".to_owned());
    create.refresh_interval = Some(60);
    Some(create)
}

/// How a `gauge` is drawn on the demo's pages and pictures: a half dial from `min` to `max`,
/// filled to the value in the colour of the highest threshold it reached.
#[derive(Debug)]
pub(crate) struct GaugePainter;

impl WidgetPainter for GaugePainter {
    fn paint(
        &self,
        widget: &Widget,
        result: &QueryResult,
        (w, h): (f64, f64),
        theme: Theme,
    ) -> String {
        let config = match &widget.config {
            AnyConfig::Json(map) => map.clone(),
            AnyConfig::Builtin(_) => serde_json::Map::new(),
        };
        let number = |key: &str| config.get(key).and_then(serde_json::Value::as_f64);
        let (min, max) = (number("min").unwrap_or(0.0), number("max").unwrap_or(100.0));
        let value = result
            .rows
            .first()
            .and_then(|row| row.first())
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()));
        let (ink, track) = match theme {
            Theme::Dark => ("#e4e7eb", "#2d3540"),
            Theme::Light => ("#1f2933", "#e4e7eb"),
        };
        let color = config
            .get("thresholds")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter(|t| value.is_some_and(|v| t["value"].as_f64().is_some_and(|at| v >= at)))
            .filter_map(|t| t["color"].as_str())
            .next_back()
            .unwrap_or("#4e79a7");
        let r = (w / 2.0).min(h - 24.0).max(10.0) - 10.0;
        let (cx, cy) = (w / 2.0, h - 20.0);
        let share = value.map_or(0.0, |v| ((v - min) / (max - min)).clamp(0.0, 1.0));
        let angle = std::f64::consts::PI * (1.0 - share);
        let (x, y) = (cx + r * angle.cos(), cy - r * angle.sin());
        let unit = config
            .get("unit")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let label = value.map_or_else(|| "—".to_owned(), |v| format!("{unit}{}", compact(v)));
        format!(
            r#"<path d="M{l},{cy} A{r},{r} 0 0 1 {rr},{cy}" fill="none" stroke="{track}" stroke-width="14"/><path class="gauge-value" d="M{l},{cy} A{r},{r} 0 0 1 {x:.1},{y:.1}" fill="none" stroke="{color}" stroke-width="14"/><text class="value" x="{cx}" y="{cy}" text-anchor="middle" font-size="{size:.0}" font-weight="bold" fill="{ink}">{}</text>"#,
            escape(&label),
            l = cx - r,
            rr = cx + r,
            color = escape(color),
            size = (r / 3.0).clamp(12.0, 36.0),
        )
    }
}

/// `1234567` as `1.2M`.
fn compact(v: f64) -> String {
    match v.abs() {
        a if a >= 1e9 => format!("{:.1}B", v / 1e9),
        a if a >= 1e6 => format!("{:.1}M", v / 1e6),
        a if a >= 1e3 => format!("{:.1}K", v / 1e3),
        _ => format!("{v:.0}"),
    }
}
