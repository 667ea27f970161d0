//! Every built-in widget type drawn from results of the sample dataset's shapes: the structure
//! of the SVG (what is drawn, and how many of it), not its pixels; and each one as a PNG.

mod support;

use prismiq_core::{Direction, TrendResult};
use prismiq_render::{Renderer, Theme, WidgetData, WidgetOptions, WidgetState};
use serde_json::json;
use support::{orders_per_month, result, revenue_by_region, twelve_bars, widget};

fn count(svg: &str, class: &str) -> usize {
    svg.matches(&format!(r#"class="{class}""#)).count()
}

fn texts(svg: &str, class: &str) -> Vec<String> {
    let open = format!(r#"<text class="{class}""#);
    svg.match_indices(&open)
        .map(|(at, _)| {
            let rest = &svg[at..];
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</text>").unwrap();
            rest[start..end].to_owned()
        })
        .collect()
}

fn render(widget_type: &str, config: serde_json::Value, data: WidgetData) -> (String, WidgetState) {
    let picture = Renderer::new().widget_svg(
        &widget(widget_type, "A title", config),
        &data,
        WidgetOptions::new(600, 320),
    );
    // Every picture is a well-formed SVG document that rasterises.
    let png = Renderer::new().png(&picture.svg, 1.0).expect("a PNG");
    assert!(png.starts_with(b"\x89PNG"));
    (picture.svg, picture.state)
}

#[test]
fn bar_charts_draw_one_bar_per_value_with_formatted_labels() {
    let (svg, state) = render(
        "bar_chart",
        json!({"x_axis": "region", "y_axis": ["revenue"], "valueFormat": "currency"}),
        WidgetData::rows(revenue_by_region()),
    );
    assert_eq!(state, WidgetState::Ok);
    assert_eq!(count(&svg, "bar"), 5);
    assert_eq!(
        texts(&svg, "category"),
        ["East", "North", "South", "West", "(empty)"]
    );
    assert!(
        texts(&svg, "tick")
            .iter()
            .any(|t| t == "$1M" || t == "$1.2M"),
        "{:?}",
        texts(&svg, "tick")
    );
    assert!(!svg.contains("null"));
    assert_eq!(texts(&svg, "title"), ["A title"]);

    let (horizontal, _) = render(
        "bar_chart",
        json!({"x_axis": "region", "y_axis": ["revenue"], "orientation": "horizontal"}),
        WidgetData::rows(revenue_by_region()),
    );
    assert_eq!(count(&horizontal, "bar"), 5);
}

#[test]
fn bars_stack_and_group_several_series() {
    let data = result(
        &["month", "status", "orders"],
        &["text", "text", "bigint"],
        vec![
            json!(["Jan", "completed", 10]),
            json!(["Jan", "cancelled", 3]),
            json!(["Feb", "completed", 12]),
            json!(["Feb", "pending", 4]),
        ],
    );
    let config = json!({"x_axis": "month", "y_axis": ["orders"], "series_column": "status", "stacked": true, "colors": ["#ff0000", "url(https://evil)"]});
    let (svg, _) = render("bar_chart", config, WidgetData::rows(data.clone()));
    assert_eq!(count(&svg, "bar"), 4);
    assert_eq!(texts(&svg, "legend"), ["completed", "cancelled", "pending"]);
    assert!(svg.contains(r##"fill="#ff0000""##));
    assert!(
        !svg.contains("url("),
        "a colour that is not a colour is replaced"
    );
    let (grouped, _) = render(
        "bar_chart",
        json!({"x_axis": "month", "y_axis": ["orders"], "series_column": "status"}),
        WidgetData::rows(data),
    );
    assert_eq!(count(&grouped, "bar"), 4);
}

#[test]
fn line_and_area_charts_label_dates_not_iso_strings() {
    let (svg, state) = render(
        "line_chart",
        json!({"x_axis": "order_date_bucket", "y_axis": ["orders"]}),
        WidgetData::rows(orders_per_month()),
    );
    assert_eq!(state, WidgetState::Ok);
    assert_eq!(count(&svg, "line"), 1);
    assert_eq!(count(&svg, "point"), 12);
    let labels = texts(&svg, "category");
    assert!(labels.contains(&"Jan 2025".to_owned()), "{labels:?}");
    assert!(!svg.contains("T00:00:00"));

    let (area, _) = render(
        "area_chart",
        json!({"x_axis": "order_date_bucket", "y_axis": ["orders"], "dateFormats": {"order_date_bucket": "MMM yy"}}),
        WidgetData::rows(orders_per_month()),
    );
    assert_eq!(count(&area, "area"), 1);
    assert!(texts(&area, "category").contains(&"Jan 25".to_owned()));
}

#[test]
fn pies_have_a_slice_per_positive_value_and_donuts_a_hole() {
    let (svg, _) = render(
        "pie_chart",
        json!({"x_axis": "region", "y_axis": ["revenue"]}),
        WidgetData::rows(revenue_by_region()),
    );
    assert_eq!(count(&svg, "slice"), 5);
    assert!(texts(&svg, "legend").contains(&"(empty)".to_owned()));
    let many = result(
        &["k", "v"],
        &["text", "bigint"],
        (0..30).map(|i| json!([format!("k{i}"), i + 1])).collect(),
    );
    let (donut, _) = render(
        "pie_chart",
        json!({"format": "donut"}),
        WidgetData::rows(many),
    );
    assert_eq!(count(&donut, "slice"), prismiq_render::limits::MAX_SLICES);
    assert!(texts(&donut, "legend").contains(&"Other".to_owned()));
}

#[test]
fn scatter_charts_place_points_by_value() {
    let data = result(
        &["price", "units"],
        &["numeric", "bigint"],
        (0..40)
            .map(|i| json!([i as f64 * 2.5, (i * 7) % 13]))
            .collect(),
    );
    let (svg, _) = render(
        "scatter_chart",
        json!({"x_axis": "price", "y_axis": ["units"]}),
        WidgetData::rows(data),
    );
    assert_eq!(count(&svg, "point"), 40);
}

#[test]
fn metrics_show_the_formatted_value_and_trend() {
    let data = result(&["revenue"], &["numeric"], vec![json!([2767144.56])]);
    let (svg, _) = render(
        "metric",
        json!({"valueFormat": "currency", "currencySymbol": "€"}),
        WidgetData::rows(data.clone()),
    );
    assert_eq!(texts(&svg, "value"), ["€2,767,144.56"]);
    let (compact, _) = render(
        "metric",
        json!({"valueFormat": "compact", "compactNotation": "M"}),
        WidgetData::rows(data.clone()),
    );
    assert_eq!(texts(&compact, "value"), ["2.8M"]);
    let trend = TrendResult {
        current_value: 150.0,
        previous_value: Some(100.0),
        absolute_change: Some(50.0),
        percent_change: Some(50.0),
        direction: Direction::Up,
    };
    let (with_trend, _) = render(
        "metric",
        json!({"showTrend": true}),
        WidgetData::Rows {
            result: data,
            trend: Some(trend),
        },
    );
    assert_eq!(texts(&with_trend, "trend"), ["▲ +50.0%"]);
    let (null, _) = render(
        "metric",
        json!({}),
        WidgetData::rows(result(&["x"], &["numeric"], vec![json!([null])])),
    );
    assert_eq!(texts(&null, "value"), ["—"]);
}

#[test]
fn tables_show_the_first_rows_in_their_formats() {
    let data = result(
        &["product", "sold_on", "units"],
        &["text", "date", "bigint"],
        (0..40)
            .map(|i| json!([format!("Product {i}"), "2025-03-15", i * 1000]))
            .collect(),
    );
    let (svg, _) = render(
        "table",
        json!({"page_size": 5, "dateFormats": {"sold_on": "dd/MM/yyyy"}, "columnFormats": {"units": {"format": "compact"}}}),
        WidgetData::rows(data),
    );
    assert_eq!(texts(&svg, "header"), ["product", "sold_on", "units"]);
    let cells = texts(&svg, "cell");
    assert_eq!(cells.len(), 15);
    assert_eq!(&cells[3..6], ["Product 1", "15/03/2025", "1.0K"]);
    assert_eq!(texts(&svg, "note"), ["5 of 40 rows"]);
}

#[test]
fn text_widgets_render_markdown_as_text() {
    let (svg, state) = render(
        "text",
        json!({"content": "## Notes\n\nRevenue **grew**.\n\n- one\n- two", "markdown": true}),
        WidgetData::Static,
    );
    assert_eq!(state, WidgetState::Static);
    assert_eq!(
        texts(&svg, "text"),
        ["Notes", "Revenue grew.", "• one", "• two"]
    );
}

#[test]
fn empty_and_failed_widgets_say_so() {
    let (svg, state) = render(
        "bar_chart",
        json!({}),
        WidgetData::rows(result(&["a", "b"], &["text", "bigint"], vec![])),
    );
    assert_eq!(state, WidgetState::Empty);
    assert_eq!(texts(&svg, "message"), ["No data"]);
    let (svg, state) = render(
        "line_chart",
        json!({}),
        WidgetData::Failed("Column 'x' does not exist".into()),
    );
    assert_eq!(state, WidgetState::Error);
    assert_eq!(texts(&svg, "error"), ["Could not load this widget"]);
    assert_eq!(
        texts(&svg, "error-detail"),
        ["Column &#39;x&#39; does not exist"]
    );
}

#[test]
fn host_types_use_their_painter_or_a_neutral_card() {
    struct Gauge;
    impl prismiq_render::WidgetPainter for Gauge {
        fn paint(
            &self,
            _: &prismiq_core::Widget,
            result: &prismiq_core::QueryResult,
            _: (f64, f64),
            _: Theme,
        ) -> String {
            format!(
                r#"<circle class="gauge" r="10"/><text>{}</text>"#,
                prismiq_render::escape(&result.rows[0][0].to_string())
            )
        }
    }
    let data = WidgetData::rows(result(&["value"], &["numeric"], vec![json!([42])]));
    let painted = Renderer::new().with_painter("gauge", Gauge).widget_svg(
        &widget("gauge", "G", json!({})),
        &data,
        WidgetOptions::new(300, 300),
    );
    assert_eq!(count(&painted.svg, "gauge"), 1);
    let card = Renderer::new().with_label("gauge", "Gauge").widget_svg(
        &widget("gauge", "G", json!({})),
        &data,
        WidgetOptions::new(300, 300),
    );
    assert_eq!(texts(&card.svg, "type"), ["Gauge"]);
    assert_eq!(texts(&card.svg, "cell"), ["42"]);
    // Names and values over several rows are listed row by row.
    let facts = WidgetData::rows(result(
        &["key", "value"],
        &["text", "json"],
        vec![json!(["uptime_seconds", 12]), json!(["version", "0.1.0"])],
    ));
    let card = Renderer::new().widget_svg(
        &widget("server_status", "S", json!({})),
        &facts,
        WidgetOptions::new(300, 300),
    );
    assert_eq!(texts(&card.svg, "type"), ["server status"]);
    assert_eq!(texts(&card.svg, "key"), ["uptime_seconds", "version"]);
    assert_eq!(texts(&card.svg, "cell"), ["12", "0.1.0"]);
}

#[test]
fn dark_theme_changes_the_colours() {
    let light = Renderer::new().widget_svg(
        &widget("bar_chart", "T", json!({})),
        &WidgetData::rows(twelve_bars()),
        WidgetOptions::new(800, 400),
    );
    let dark = Renderer::new().widget_svg(
        &widget("bar_chart", "T", json!({})),
        &WidgetData::rows(twelve_bars()),
        WidgetOptions::new(800, 400).with_theme(Theme::Dark),
    );
    assert_eq!(count(&light.svg, "bar"), 12);
    assert_eq!(count(&dark.svg, "bar"), 12);
    assert!(light.svg.contains("#ffffff") && dark.svg.contains("#1c222b"));
}

/// Every type as a PNG under `target/render-samples/`, to look at.
#[test]
fn samples_are_written_for_a_look() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/render-samples");
    std::fs::create_dir_all(&dir).unwrap();
    let samples = [
        (
            "bar",
            "bar_chart",
            json!({"x_axis": "region", "y_axis": ["revenue"], "valueFormat": "currency", "show_data_labels": true}),
            revenue_by_region(),
        ),
        (
            "line",
            "line_chart",
            json!({"x_axis": "order_date_bucket", "y_axis": ["orders"]}),
            orders_per_month(),
        ),
        (
            "area",
            "area_chart",
            json!({"x_axis": "order_date_bucket", "y_axis": ["orders"], "referenceLines": [{"value": 120, "label": "target"}]}),
            orders_per_month(),
        ),
        (
            "pie",
            "pie_chart",
            json!({"x_axis": "region", "y_axis": ["revenue"]}),
            revenue_by_region(),
        ),
        (
            "metric",
            "metric",
            json!({"valueFormat": "currency"}),
            result(&["revenue"], &["numeric"], vec![json!([2767144.56])]),
        ),
        ("table", "table", json!({}), revenue_by_region()),
        ("twelve", "bar_chart", json!({}), twelve_bars()),
    ];
    for (name, widget_type, config, data) in samples {
        for theme in [Theme::Light, Theme::Dark] {
            let png = Renderer::new()
                .widget_png(
                    &widget(widget_type, name, config.clone()),
                    &WidgetData::rows(data.clone()),
                    WidgetOptions::new(600, 320).with_theme(theme),
                    1.0,
                )
                .unwrap();
            std::fs::write(dir.join(format!("{name}-{theme}.png")), png).unwrap();
        }
    }
}
