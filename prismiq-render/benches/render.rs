//! What one picture costs, in process: a bar chart of 12 bars as SVG and as an 800×400 PNG,
//! and the Sales overview's page from its widgets' results.
//!
//! ```text
//! cargo bench -p prismiq-render --bench render
//! ```

#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use prismiq_core::{QueryResult, Widget};
use prismiq_render::{DashboardView, PageOptions, Renderer, Theme, WidgetData, WidgetOptions};
use serde_json::{Value, json};

fn widget(widget_type: &str, title: &str, position: Value, config: Value) -> Widget {
    serde_json::from_value(json!({
        "id": uuid(), "type": widget_type, "title": title, "position": position, "config": config,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    }))
    .unwrap()
}

fn uuid() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!(
        "0190a5c4-0000-7000-8000-{:012}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn result(columns: &[&str], types: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
    QueryResult {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        column_types: types.iter().map(|t| (*t).to_owned()).collect(),
        row_count: rows.len(),
        rows,
        truncated: false,
        execution_time_ms: 1.0,
    }
}

fn twelve_bars() -> (Widget, WidgetData) {
    let rows = (0..12)
        .map(|i| {
            vec![
                json!(format!("Month {i}")),
                json!(f64::from(i).mul_add(137.5, 1000.0)),
            ]
        })
        .collect();
    (
        widget(
            "bar_chart",
            "Revenue by month",
            json!({"x": 0, "y": 0, "w": 6, "h": 4}),
            json!({"valueFormat": "currency"}),
        ),
        WidgetData::rows(result(&["month", "revenue"], &["text", "numeric"], rows)),
    )
}

/// The Sales overview of the demo, with results of the sample dataset's shape.
fn sales_overview() -> DashboardView {
    let regions = || {
        result(
            &["region", "revenue"],
            &["text", "numeric"],
            vec![
                vec![json!("East"), json!(1092395.68)],
                vec![json!("North"), json!(546612.82)],
                vec![json!("South"), json!(825810.04)],
                vec![json!("West"), json!(248526.12)],
                vec![Value::Null, json!(54508.9)],
            ],
        )
    };
    let months = (1..=12)
        .map(|m| vec![json!(format!("2025-{m:02}-01T00:00:00")), json!(120 + m)])
        .collect();
    let products = (0..10)
        .map(|i| {
            vec![
                json!(format!("Product {i}")),
                json!("Electronics"),
                json!(500 - i * 10),
            ]
        })
        .collect();
    let widgets = vec![
        (
            widget(
                "metric",
                "Revenue (completed orders)",
                json!({"x": 0, "y": 0, "w": 4, "h": 2}),
                json!({"valueFormat": "currency"}),
            ),
            WidgetData::rows(result(
                &["revenue"],
                &["numeric"],
                vec![vec![json!(2767144.56)]],
            )),
        ),
        (
            widget(
                "metric",
                "Orders",
                json!({"x": 4, "y": 0, "w": 4, "h": 2}),
                json!({}),
            ),
            WidgetData::rows(result(&["orders"], &["bigint"], vec![vec![json!(3000)]])),
        ),
        (
            widget(
                "text",
                "About",
                json!({"x": 8, "y": 0, "w": 4, "h": 2}),
                json!({"content": "Sample data: 500 customers, 3000 orders over two years.", "markdown": true}),
            ),
            WidgetData::Static,
        ),
        (
            widget(
                "bar_chart",
                "Revenue by region",
                json!({"x": 0, "y": 2, "w": 6, "h": 4}),
                json!({"x_axis": "region", "y_axis": ["revenue"], "valueFormat": "currency"}),
            ),
            WidgetData::rows(regions()),
        ),
        (
            widget(
                "pie_chart",
                "Orders by status",
                json!({"x": 6, "y": 2, "w": 6, "h": 4}),
                json!({}),
            ),
            WidgetData::rows(regions()),
        ),
        (
            widget(
                "line_chart",
                "Orders per month",
                json!({"x": 0, "y": 6, "w": 12, "h": 4}),
                json!({}),
            ),
            WidgetData::rows(result(
                &["order_date_bucket", "orders"],
                &["timestamp", "bigint"],
                months,
            )),
        ),
        (
            widget(
                "table",
                "Best-selling products",
                json!({"x": 0, "y": 10, "w": 12, "h": 5}),
                json!({"page_size": 10}),
            ),
            WidgetData::rows(result(
                &["product", "category", "units"],
                &["text", "text", "bigint"],
                products,
            )),
        ),
    ];
    DashboardView {
        name: "Sales overview".into(),
        description: Some("Orders and revenue of the sample dataset".into()),
        layout: prismiq_core::DashboardLayout::default(),
        widgets,
        filters: Vec::new(),
        refresh_interval: None,
    }
}

fn bench(c: &mut Criterion) {
    let renderer = Renderer::new();
    let (bar, data) = twelve_bars();
    let size = WidgetOptions::new(800, 400);
    c.bench_function("bar chart of 12 bars to SVG", |b| {
        b.iter(|| renderer.widget_svg(&bar, &data, size))
    });
    c.bench_function("bar chart of 12 bars to PNG 800x400", |b| {
        b.iter(|| renderer.widget_png(&bar, &data, size, 1.0).unwrap())
    });
    let view = sales_overview();
    c.bench_function("Sales overview page (7 widgets) to HTML", |b| {
        b.iter(|| renderer.page(&view, &PageOptions::new(Theme::Light, &[])))
    });
    c.bench_function("Sales overview to PDF", |b| {
        b.iter(|| renderer.dashboard_pdf(&view, Theme::Light).unwrap())
    });
    c.bench_function("Sales overview to PNG 1200 wide", |b| {
        b.iter(|| renderer.dashboard_png(&view, 1200, Theme::Light).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench
}
criterion_main!(benches);
