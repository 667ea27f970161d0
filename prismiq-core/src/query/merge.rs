//! Applying a dashboard's filters to a widget's query.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::dashboard_filter::{DashboardFilter, FilterType, FilterValue};
use super::dates::{DatePreset, Moment};
use super::definition::{FilterDefinition, FilterOperator, QueryDefinition};
use crate::schema::DatabaseSchema;

/// `def` with the dashboard `filters` that apply to it added, using the user's `values`.
///
/// A filter applies when a table of the query (the one named `filter.table`, if set) has the
/// column `filter.field`; the first such table is filtered. Its value is the entry of
/// `values` with the filter's id (an entry with a null value means "no filter"); with no
/// entry, the filter's `default_value`, or else (date ranges) its `date_preset`.
///
/// * `date_range`: a preset name, `{"preset": name}` or `{"start", "end"}` (ISO dates) →
///   `gte start` and `lte end` as `YYYY-MM-DD`; presets are resolved on `today`. An end date
///   on a timestamp column covers that whole day (see [`compile`](super::compile)).
/// * `select` → `eq` (`""` and `"__all__"` mean no filter);
/// * `multi_select` → `in_` (an empty list means no filter);
/// * `text` → `ilike %text%`, with `%`, `_` and `\` in the text matched literally;
/// * `number_range`: `{min?, max?}` → `gte min`, `lte max`.
///
/// Everything else of `def` is kept, calculated fields included.
pub fn merge_dashboard_filters(
    def: &QueryDefinition,
    filters: &[DashboardFilter],
    values: &[FilterValue],
    schema: &DatabaseSchema,
    today: NaiveDate,
) -> QueryDefinition {
    let mut merged = def.clone();
    for filter in filters {
        let Some(table_id) = applicable_table(def, filter, schema) else {
            continue;
        };
        let chosen = match values.iter().find(|v| v.filter_id == filter.id) {
            Some(entry) if entry.value.is_null() => continue,
            Some(entry) => entry.value.clone(),
            None => match (&filter.default_value, &filter.date_preset) {
                (Some(default), _) if !default.is_null() => default.clone(),
                (_, Some(preset)) if filter.filter_type == FilterType::DateRange => {
                    Value::String(preset.clone())
                }
                _ => continue,
            },
        };
        let add = |merged: &mut QueryDefinition, operator: FilterOperator, value: Value| {
            merged.filters.push(FilterDefinition {
                table_id: table_id.clone(),
                column: filter.field.clone(),
                operator,
                value,
            });
        };
        match filter.filter_type {
            FilterType::DateRange => {
                if let Some((start, end)) = date_range(&chosen, today) {
                    add(&mut merged, FilterOperator::Gte, Value::String(start));
                    add(&mut merged, FilterOperator::Lte, Value::String(end));
                }
            }
            FilterType::Select => {
                let empty = match &chosen {
                    Value::String(s) => s.is_empty() || s == "__all__",
                    Value::Array(items) => items.is_empty(),
                    Value::Object(fields) => fields.is_empty(),
                    _ => false,
                };
                if !empty {
                    add(&mut merged, FilterOperator::Eq, chosen);
                }
            }
            FilterType::MultiSelect => {
                let items = match chosen {
                    Value::Array(items) => items,
                    Value::String(s) if s.is_empty() => Vec::new(),
                    scalar => vec![scalar],
                };
                if !items.is_empty() {
                    add(&mut merged, FilterOperator::In, Value::Array(items));
                }
            }
            FilterType::Text => {
                let text = match &chosen {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                if !text.trim().is_empty() {
                    add(
                        &mut merged,
                        FilterOperator::Ilike,
                        Value::String(format!("%{}%", escape_like(&text))),
                    );
                }
            }
            FilterType::NumberRange => {
                if let Value::Object(range) = &chosen {
                    for (key, operator) in
                        [("min", FilterOperator::Gte), ("max", FilterOperator::Lte)]
                    {
                        if let Some(bound) = range.get(key).filter(|v| !v.is_null()) {
                            add(&mut merged, operator, bound.clone());
                        }
                    }
                }
            }
        }
    }
    merged
}

/// The id of the first query table (named `filter.table`, if set) that has the column.
fn applicable_table(
    def: &QueryDefinition,
    filter: &DashboardFilter,
    schema: &DatabaseSchema,
) -> Option<String> {
    def.tables
        .iter()
        .filter(|t| filter.table.as_ref().is_none_or(|name| &t.name == name))
        .find(|t| {
            schema
                .table(&t.name)
                .is_some_and(|s| s.column(&filter.field).is_some())
        })
        .map(|t| t.id.clone())
}

/// The `(start, end)` of a date-range value: a preset name, `{"preset": name}`, or
/// `{"start", "end"}` as dates (`YYYY-MM-DD` or `YYYYMMDD`) or datetimes.
pub(crate) fn date_range(value: &Value, today: NaiveDate) -> Option<(String, String)> {
    let preset = |name: &str| {
        let (start, end) = name.parse::<DatePreset>().ok()?.resolve(today);
        Some((start.to_string(), end.to_string()))
    };
    match value {
        Value::String(name) => preset(name),
        Value::Object(range) => match range.get("preset") {
            Some(Value::String(name)) => preset(name),
            _ => Some((bound(range, "start")?, bound(range, "end")?)),
        },
        _ => None,
    }
}

fn bound(range: &Map<String, Value>, key: &str) -> Option<String> {
    let text = range.get(key)?.as_str()?.trim();
    if text.len() == 8 && text.chars().all(|c| c.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d")
            .ok()
            .map(|d| d.to_string());
    }
    match Moment::parse(text)? {
        Moment::Date(d) => Some(d.to_string()),
        _ => Some(text.to_owned()),
    }
}

/// Makes `%`, `_` and `\` match themselves in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;
    use crate::query::testing::sample_schema;

    fn query() -> QueryDefinition {
        serde_json::from_value(json!({
            "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
            "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id"}],
            "columns": [{"table_id": "t2", "column": "region"},
                        {"table_id": "t1", "column": "double", "aggregation": "sum"}],
            "calculated_fields": [{"name": "double", "expression": "[total_amount] * 2"}]
        }))
        .unwrap()
    }

    fn filter(id: &str, filter_type: FilterType, field: &str) -> DashboardFilter {
        DashboardFilter {
            id: id.to_owned(),
            filter_type,
            label: id.to_owned(),
            field: field.to_owned(),
            table: None,
            default_value: None,
            options: None,
            date_preset: None,
            dynamic: None,
        }
    }

    fn value(id: &str, value: Value) -> FilterValue {
        FilterValue {
            filter_id: id.to_owned(),
            value,
        }
    }

    fn added(merged: &QueryDefinition) -> Vec<Value> {
        merged
            .filters
            .iter()
            .map(|f| json!([f.table_id, f.column, f.operator, f.value]))
            .collect()
    }

    #[test]
    fn each_filter_type_maps_to_conditions() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        let filters = [
            filter("d", FilterType::DateRange, "order_date"),
            filter("s", FilterType::Select, "status"),
            filter("m", FilterType::MultiSelect, "region"),
            filter("t", FilterType::Text, "name"),
            filter("n", FilterType::NumberRange, "total_amount"),
            filter("x", FilterType::Select, "no_such_column"),
        ];
        let values = [
            value("d", json!("last_7_days")),
            value("s", json!("completed")),
            value("m", json!(["East", "West"])),
            value("t", json!("50%_off")),
            value("n", json!({"min": 10, "max": null})),
            value("x", json!("y")),
        ];
        let merged = merge_dashboard_filters(&query(), &filters, &values, &sample_schema(), today);
        assert_eq!(
            added(&merged),
            vec![
                json!(["t1", "order_date", "gte", "2024-06-09"]),
                json!(["t1", "order_date", "lte", "2024-06-15"]),
                json!(["t1", "status", "eq", "completed"]),
                json!(["t2", "region", "in_", ["East", "West"]]),
                json!(["t2", "name", "ilike", "%50\\%\\_off%"]),
                json!(["t1", "total_amount", "gte", 10]),
            ]
        );
        assert_eq!(
            merged.calculated_fields,
            query().calculated_fields,
            "calculated fields survive"
        );
    }

    #[test]
    fn values_defaults_and_presets() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        let mut with_default = filter("s", FilterType::Select, "status");
        with_default.default_value = Some(json!("pending"));
        let mut with_preset = filter("d", FilterType::DateRange, "order_date");
        with_preset.date_preset = Some("last_month".to_owned());
        let schema = sample_schema();

        let merged = merge_dashboard_filters(
            &query(),
            &[with_default.clone(), with_preset.clone()],
            &[],
            &schema,
            today,
        );
        assert_eq!(
            added(&merged),
            vec![
                json!(["t1", "status", "eq", "pending"]),
                json!(["t1", "order_date", "gte", "2024-05-01"]),
                json!(["t1", "order_date", "lte", "2024-05-31"]),
            ]
        );
        // An explicit null clears the filter, default or not.
        let merged = merge_dashboard_filters(
            &query(),
            &[with_default, with_preset],
            &[value("s", Value::Null), value("d", Value::Null)],
            &schema,
            today,
        );
        assert!(merged.filters.is_empty());
    }

    #[test]
    fn empty_values_are_no_filter_but_zero_and_false_are_values() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        let s = filter("s", FilterType::Select, "status");
        let schema = sample_schema();
        for empty in [json!(""), json!("__all__"), json!([])] {
            let merged = merge_dashboard_filters(
                &query(),
                std::slice::from_ref(&s),
                &[value("s", empty)],
                &schema,
                today,
            );
            assert!(merged.filters.is_empty());
        }
        let merged =
            merge_dashboard_filters(&query(), &[s], &[value("s", json!(0))], &schema, today);
        assert_eq!(merged.filters.len(), 1);
    }

    #[test]
    fn date_ranges_explicit_and_invalid() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        let d = filter("d", FilterType::DateRange, "order_date");
        let schema = sample_schema();
        let run = |v: Value| {
            added(&merge_dashboard_filters(
                &query(),
                std::slice::from_ref(&d),
                &[value("d", v)],
                &schema,
                today,
            ))
        };
        assert_eq!(
            run(json!({"start": "2024-01-01", "end": "20240131"})),
            vec![
                json!(["t1", "order_date", "gte", "2024-01-01"]),
                json!(["t1", "order_date", "lte", "2024-01-31"])
            ]
        );
        assert_eq!(run(json!({"preset": "today"})).len(), 2);
        assert!(run(json!({"start": "2024-01-01"})).is_empty());
        assert!(run(json!({"start": "yesterday-ish", "end": "2024-01-01"})).is_empty());
        assert!(run(json!("next_century")).is_empty());
    }

    #[test]
    fn table_pins_the_filter() {
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        let mut by_name = filter("i", FilterType::Select, "id");
        by_name.table = Some("customers".to_owned());
        let merged = merge_dashboard_filters(
            &query(),
            &[by_name.clone()],
            &[value("i", json!(3))],
            &sample_schema(),
            today,
        );
        assert_eq!(added(&merged), vec![json!(["t2", "id", "eq", 3])]);
        by_name.table = Some("products".to_owned());
        let merged = merge_dashboard_filters(
            &query(),
            &[by_name],
            &[value("i", json!(3))],
            &sample_schema(),
            today,
        );
        assert!(merged.filters.is_empty());
    }
}
