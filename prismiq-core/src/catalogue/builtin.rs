//! The eight built-in widget types: labels, categories, documented sizes, and a JSON Schema of
//! the 34-key config for frontends that build config forms (the Engine reads these configs
//! into [`WidgetConfig`](crate::WidgetConfig) itself).

use serde_json::{Map, Value, json};

use super::{Category, DataKind, WidgetSizes, WidgetTypeSpec};

/// The built-in types, in the contract's order. Their minimum is 1×1 and they have no maximum,
/// as in the original server; only the default size is theirs.
pub(super) fn specs() -> Vec<WidgetTypeSpec> {
    let schema = config_schema();
    [
        (
            "metric",
            "Metric",
            "A single number, with an optional trend",
            Category::Stats,
            (3, 2),
        ),
        (
            "bar_chart",
            "Bar chart",
            "Bars, vertical or horizontal, stacked or grouped",
            Category::Chart,
            (6, 4),
        ),
        (
            "line_chart",
            "Line chart",
            "Lines over an axis, one per series",
            Category::Chart,
            (6, 4),
        ),
        (
            "area_chart",
            "Area chart",
            "Filled lines, stacked or overlapping",
            Category::Chart,
            (6, 4),
        ),
        (
            "pie_chart",
            "Pie chart",
            "Parts of a whole, as a pie or donut",
            Category::Chart,
            (4, 4),
        ),
        (
            "scatter_chart",
            "Scatter chart",
            "Points on two numeric axes",
            Category::Chart,
            (6, 4),
        ),
        (
            "table",
            "Table",
            "Rows and columns, paged and sortable",
            Category::List,
            (6, 5),
        ),
        (
            "text",
            "Text",
            "Text or markdown; no query",
            Category::Info,
            (4, 2),
        ),
    ]
    .into_iter()
    .map(|(key, label, description, category, (w, h))| {
        let mut spec = WidgetTypeSpec::new(key, label)
            .with_description(description)
            .with_category(category)
            .with_sizes(WidgetSizes::new(w, h))
            .with_default_config(Value::Object(Map::new()));
        if key == "text" {
            spec.data = DataKind::None;
        }
        spec.config_schema = Some(schema.clone());
        spec
    })
    .collect()
}

/// A JSON Schema (draft 2020-12) of the 34 keys of [`WidgetConfig`](crate::WidgetConfig).
pub(super) fn config_schema() -> Value {
    let string = json!({"type": ["string", "null"]});
    let boolean = json!({"type": ["boolean", "null"]});
    let integer = json!({"type": ["integer", "null"]});
    let strings = json!({"type": ["array", "null"], "items": {"type": "string"}});
    let object = json!({"type": ["object", "null"]});
    let properties: Map<String, Value> = [
        ("x_axis", string.clone()),
        ("y_axis", strings.clone()),
        ("series_column", string.clone()),
        ("max_series", integer.clone()),
        (
            "orientation",
            json!({"enum": ["horizontal", "vertical", null]}),
        ),
        ("stacked", boolean.clone()),
        ("show_legend", boolean.clone()),
        ("show_data_labels", boolean.clone()),
        ("colors", strings),
        ("valueFormat", string.clone()),
        ("currencySymbol", string.clone()),
        ("compactNotation", string.clone()),
        ("decimalDigits", integer.clone()),
        (
            "referenceLines",
            json!({"type": ["array", "null"], "items": {"type": "object"}}),
        ),
        ("cross_filter", object),
        ("format", string.clone()),
        ("trend_comparison", string.clone()),
        ("trendPeriod", string.clone()),
        ("trendDateColumn", string.clone()),
        ("page_size", integer),
        ("sortable", boolean.clone()),
        ("pivot_column", string.clone()),
        ("value_column", string.clone()),
        (
            "columnFormats",
            json!({"type": ["object", "null"], "additionalProperties": {"type": "object"}}),
        ),
        (
            "dateFormats",
            json!({"type": ["object", "null"], "additionalProperties": {"type": "string"}}),
        ),
        (
            "fiscalYearStartMonth",
            json!({"type": ["integer", "null"], "minimum": 1, "maximum": 12}),
        ),
        ("content", string.clone()),
        ("markdown", boolean.clone()),
        ("alignment", string.clone()),
        ("fontSize", string.clone()),
        ("raw_sql", string.clone()),
        (
            "data_source_mode",
            json!({"enum": ["guided", "advanced", "saved", "sql", null]}),
        ),
        (
            "hyperlink",
            json!({
                "type": ["object", "null"],
                "properties": {
                    "url": {"type": "string"},
                    "title": string,
                    "target": {"enum": ["_blank", "_self", null]},
                },
                "required": ["url"],
            }),
        ),
        ("showTrend", boolean),
    ]
    .into_iter()
    .map(|(key, schema)| (key.to_owned(), schema))
    .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WidgetConfig;

    #[test]
    fn the_schema_names_exactly_the_34_keys() {
        let written = serde_json::to_value(WidgetConfig::default()).unwrap();
        let mut keys: Vec<&String> = written.as_object().unwrap().keys().collect();
        let schema = config_schema();
        let mut described: Vec<&String> =
            schema["properties"].as_object().unwrap().keys().collect();
        keys.sort();
        described.sort();
        assert_eq!(keys, described);
    }

    #[test]
    fn the_schema_compiles_and_accepts_a_full_config() {
        let validator = jsonschema::draft202012::new(&config_schema()).unwrap();
        let full = serde_json::to_value(WidgetConfig::default()).unwrap();
        assert!(validator.is_valid(&full));
        assert!(!validator.is_valid(&json!({"fiscalYearStartMonth": 13})));
    }
}
