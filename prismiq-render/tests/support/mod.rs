//! Widgets and results of the sample dataset's shapes, for the rendering tests.

#![allow(dead_code, unreachable_pub)]

use prismiq_core::{QueryResult, Widget};
use serde_json::{Value, json};

/// A widget of `widget_type` with `config`, placed `w`×`h` on the grid.
pub fn widget(widget_type: &str, title: &str, config: Value) -> Widget {
    serde_json::from_value(json!({
        "id": "0190a5c4-0000-7000-8000-000000000001",
        "type": widget_type,
        "title": title,
        "position": {"x": 0, "y": 0, "w": 6, "h": 4},
        "config": config,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z"
    }))
    .expect("a widget")
}

/// A result with `columns` of `types` and `rows`.
pub fn result(columns: &[&str], types: &[&str], rows: Vec<Value>) -> QueryResult {
    let rows: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|r| r.as_array().expect("a row is an array").clone())
        .collect();
    QueryResult {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        column_types: types.iter().map(|t| (*t).to_owned()).collect(),
        row_count: rows.len(),
        rows,
        truncated: false,
        execution_time_ms: 1.0,
    }
}

/// Revenue by region, with a null region.
pub fn revenue_by_region() -> QueryResult {
    result(
        &["region", "revenue"],
        &["text", "numeric"],
        vec![
            json!(["East", 1092395.68]),
            json!(["North", "546612.82"]),
            json!(["South", 825810.04]),
            json!(["West", 248526.12]),
            json!([null, 54508.9]),
        ],
    )
}

/// Orders per month over a year.
pub fn orders_per_month() -> QueryResult {
    let rows = (1..=12)
        .map(|m| json!([format!("2025-{m:02}-01T00:00:00"), 100 + m * 7 % 40]))
        .collect();
    result(
        &["order_date_bucket", "orders"],
        &["timestamp", "bigint"],
        rows,
    )
}

/// Twelve bars.
pub fn twelve_bars() -> QueryResult {
    let rows = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .enumerate()
    .map(|(i, m)| json!([m, (i as f64).mul_add(137.5, 1000.0)]))
    .collect();
    result(&["month", "revenue"], &["text", "numeric"], rows)
}
