//! Conformance cases of the JSON documents a store serves for dashboards.

use super::*;

/// The JSON document of a dashboard is the dashboard serialized, whatever it holds: no
/// owner or description, text widgets without a query, every kind of display setting, text
/// that needs escaping, numbers that are not integers.
pub async fn dashboard_json_is_the_serialized_dashboard<S: FullStore>(store: &S) {
    let mut empty = new_dashboard("Empty \"quoted\" \\ back\tslash", None, Vec::new());
    empty.description = None;
    empty.filters = Vec::new();
    empty.layout.compact_type = None;
    let empty = create(store, "t1", empty).await;
    get(store, "t1", empty.id).await.expect("empty dashboard");

    let text = WidgetContent {
        widget_type: WidgetType::Text,
        title: "Notes — ünïcode ✓ \u{1F600}".to_owned(),
        query: None,
        position: WidgetPosition::new(0, 7, 12, 2).expect("valid position"),
        config: WidgetConfig {
            content: Some("# Heading\n\nline \"two\"\r\n</script>".to_owned()),
            markdown: Some(true),
            alignment: Some("center".to_owned()),
            ..WidgetConfig::default()
        }
        .into(),
    };
    let mut chart = widget("chart", 0, 0);
    chart.config = serde_json::from_value::<WidgetConfig>(json!({
        "x_axis": "region",
        "y_axis": ["revenue", "cost"],
        "colors": ["#ff0000", "#00ff00"],
        "stacked": false,
        "max_series": 5,
        "decimalDigits": 2,
        "valueFormat": "currency",
        "referenceLines": [{"value": 1.5, "label": "target", "nested": {"a": [1, 2.25, null]}}],
        "columnFormats": {"revenue": {"type": "currency", "scale": 0.001}},
        "dateFormats": {"day": "yyyy-MM-dd"},
        "data_source_mode": "sql",
        "raw_sql": "select 1",
        "hyperlink": {"url": "https://example.com/?a=1&b=2", "title": "More", "target": "_blank"},
        "showTrend": true,
        "fiscalYearStartMonth": 10,
        "fontSize": "large"
    }))
    .expect("valid config")
    .into();
    let mut table = widget("table", 6, 0);
    table.widget_type = WidgetType::Table;
    table.query = Some(
        QueryDefinition::from_value(json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "status"}, {"table_id": "t1", "column": "total"}],
            "filters": [
                {"table_id": "t1", "column": "total", "operator": "between", "value": [10.5, 99.25]},
                {"table_id": "t1", "column": "status", "operator": "in_", "value": ["a'b", "c\"d"]}
            ],
            "order_by": [{"table_id": "t1", "column": "total", "direction": "DESC"}],
            "limit": 50
        }))
        .expect("valid query"),
    );
    let mut full = new_dashboard("Full", Some("alice"), vec![text, chart, table]);
    full.is_public = true;
    full.allowed_viewers = vec!["bob".to_owned(), "carol".to_owned()];
    full.filters.push(DashboardFilter {
        id: "f2".to_owned(),
        filter_type: FilterType::DateRange,
        label: "When".to_owned(),
        field: "created_at".to_owned(),
        table: None,
        default_value: Some(json!({"start": "2026-01-01", "end": "2026-12-31"})),
        options: None,
        date_preset: Some("last_30_days".to_owned()),
        dynamic: None,
    });
    let full = create(store, "t1", full).await;
    let read = get(store, "t1", full.id).await.expect("full dashboard");
    assert_eq!(read, full, "read back equals what create returned");
    assert!(
        store
            .get_dashboard_json(&scope("t2"), full.id)
            .await
            .expect("get dashboard as JSON")
            .is_none(),
        "another tenant's dashboard is not found as JSON either"
    );
    for viewer in [
        Viewer::Admin,
        Viewer::User("bob".to_owned()),
        Viewer::Anonymous,
    ] {
        list(store, &scope("t1"), &viewer).await;
    }
}
