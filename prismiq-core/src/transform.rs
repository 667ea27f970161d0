//! Transforms on query results (pivot, trend columns) and trend arithmetic: pure functions.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::source::QueryResult;

/// Why a transform could not run: a column it needs is not in the result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

/// Body of `POST /transform/pivot`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PivotRequest {
    /// The result to pivot.
    pub result: QueryResult,
    /// Column whose distinct values become the rows.
    pub row_column: String,
    /// Column whose distinct values become the columns.
    pub pivot_column: String,
    /// Column aggregated into the cells.
    pub value_column: String,
    /// `sum` (default), `avg`, `min`, `max` or `count`.
    #[serde(default = "sum")]
    pub aggregation: String,
}

fn sum() -> String {
    "sum".to_owned()
}

/// Body of `POST /transform/trend`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendColumnRequest {
    /// The result to extend.
    pub result: QueryResult,
    /// The numeric column to compare row over row.
    pub value_column: String,
    /// The column giving the order of rows.
    pub order_column: String,
    /// A column splitting rows into independent series.
    #[serde(default)]
    pub group_column: Option<String>,
}

fn column_index(result: &QueryResult, name: &str, message: &str) -> Result<usize, TransformError> {
    result
        .columns
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| TransformError(format!("{message}: {name}")))
}

/// A JSON value as a number: numbers as they are, numeric strings parsed, anything else 0.
fn as_f64(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

fn number(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// The text a value names a pivot column with.
fn label(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

/// Turns the distinct values of `pivot_column` into columns, one row per distinct value of
/// `row_column`, each cell aggregating `value_column` (non-numeric values count as 0).
pub fn pivot(request: &PivotRequest) -> Result<QueryResult, TransformError> {
    let result = &request.result;
    if result.rows.is_empty() {
        return Ok(QueryResult::empty(
            vec![request.row_column.clone()],
            vec!["text".to_owned()],
        ));
    }
    let missing = "Column not found in result";
    let row_i = column_index(result, &request.row_column, missing)?;
    let pivot_i = column_index(result, &request.pivot_column, missing)?;
    let value_i = column_index(result, &request.value_column, missing)?;

    let mut row_keys: Vec<Value> = Vec::new();
    let mut pivot_keys: Vec<String> = Vec::new();
    let mut cells: HashMap<(usize, usize), Vec<f64>> = HashMap::new();
    for row in &result.rows {
        let get = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
        let row_key = get(row_i);
        let r = row_keys
            .iter()
            .position(|k| *k == row_key)
            .unwrap_or_else(|| {
                row_keys.push(row_key);
                row_keys.len() - 1
            });
        let pivot_key = label(&get(pivot_i));
        let p = pivot_keys
            .iter()
            .position(|k| *k == pivot_key)
            .unwrap_or_else(|| {
                pivot_keys.push(pivot_key);
                pivot_keys.len() - 1
            });
        let value = get(value_i);
        let entry = cells.entry((r, p)).or_default();
        if !value.is_null() {
            entry.push(as_f64(&value));
        }
    }
    let aggregate = |values: &[f64]| -> Value {
        if values.is_empty() {
            return Value::Null;
        }
        let total: f64 = values.iter().sum();
        number(match request.aggregation.as_str() {
            "avg" => total / values.len() as f64,
            "min" => values.iter().copied().fold(f64::INFINITY, f64::min),
            "max" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            "count" => values.len() as f64,
            _ => total,
        })
    };
    let rows: Vec<Vec<Value>> = row_keys
        .iter()
        .enumerate()
        .map(|(r, key)| {
            let mut out = vec![key.clone()];
            out.extend((0..pivot_keys.len()).map(|p| {
                cells
                    .get(&(r, p))
                    .map_or(Value::Null, |values| aggregate(values))
            }));
            out
        })
        .collect();
    let mut column_types = vec![
        result
            .column_types
            .get(row_i)
            .cloned()
            .unwrap_or_else(|| "text".to_owned()),
    ];
    column_types.extend(pivot_keys.iter().map(|_| "numeric".to_owned()));
    let mut columns = vec![request.row_column.clone()];
    columns.extend(pivot_keys);
    Ok(QueryResult {
        row_count: rows.len(),
        columns,
        column_types,
        rows,
        truncated: false,
        execution_time_ms: 0.0,
    })
}

/// Appends `<v>_prev`, `<v>_change` and `<v>_pct_change`, comparing each row with the previous
/// one in `order_column` order (per group). The rows keep their original order.
pub fn add_trend_column(request: &TrendColumnRequest) -> Result<QueryResult, TransformError> {
    let result = &request.result;
    let value_i = column_index(result, &request.value_column, "Column not found")?;
    let order_i = column_index(result, &request.order_column, "Column not found")?;
    let group_i = request
        .group_column
        .as_deref()
        .map(|g| column_index(result, g, "Group column not found"))
        .transpose()?;

    let mut order: Vec<usize> = (0..result.rows.len()).collect();
    let sort_key = |i: usize| -> (u8, f64, String) {
        match result.rows[i].get(order_i).unwrap_or(&Value::Null) {
            Value::Null => (0, 0.0, String::new()),
            Value::Number(n) => (0, n.as_f64().unwrap_or(0.0), String::new()),
            Value::String(s) => (1, 0.0, s.clone()),
            other => (1, 0.0, other.to_string()),
        }
    };
    order.sort_by(|&a, &b| {
        let (ka, kb) = (sort_key(a), sort_key(b));
        (ka.0, ka.2.as_str())
            .cmp(&(kb.0, kb.2.as_str()))
            .then(ka.1.total_cmp(&kb.1))
    });

    let mut previous: HashMap<String, f64> = HashMap::new();
    let mut extra: Vec<[Value; 3]> =
        vec![[Value::Null, Value::Null, Value::Null]; result.rows.len()];
    for i in order {
        let row = &result.rows[i];
        let group = group_i.map_or_else(String::new, |g| label(row.get(g).unwrap_or(&Value::Null)));
        let value = row.get(value_i).unwrap_or(&Value::Null);
        if value.is_null() {
            continue;
        }
        let current = as_f64(value);
        if let Some(prev) = previous.get(&group) {
            let change = current - prev;
            let pct = if *prev == 0.0 {
                if current > 0.0 {
                    100.0
                } else if current < 0.0 {
                    -100.0
                } else {
                    0.0
                }
            } else {
                change / prev.abs() * 100.0
            };
            extra[i] = [number(*prev), number(change), number(pct)];
        }
        previous.insert(group, current);
    }

    let mut out = result.clone();
    let v = &request.value_column;
    out.columns.extend([
        format!("{v}_prev"),
        format!("{v}_change"),
        format!("{v}_pct_change"),
    ]);
    out.column_types
        .extend(std::iter::repeat_n("numeric".to_owned(), 3));
    for (row, cells) in out.rows.iter_mut().zip(extra) {
        row.extend(cells);
    }
    out.execution_time_ms = 0.0;
    Ok(out)
}

/// Which earlier period a metric is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComparisonPeriod {
    /// The same number of days just before.
    PreviousPeriod,
    /// The same dates a year earlier.
    PreviousYear,
    /// The same dates a month earlier.
    PreviousMonth,
    /// The same dates a week earlier.
    PreviousWeek,
}

fn shift_months(date: NaiveDate, months: i32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let mut day = date.day();
    loop {
        if let Some(d) = NaiveDate::from_ymd_opt(year, month0 + 1, day) {
            return d;
        }
        day -= 1;
    }
}

impl ComparisonPeriod {
    /// The comparison range of the inclusive range `start..=end`.
    pub fn range(self, start: NaiveDate, end: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Self::PreviousPeriod => {
                let days = (end - start).num_days() + 1;
                let prev_end = start - Duration::days(1);
                (prev_end - Duration::days(days - 1), prev_end)
            }
            Self::PreviousYear => (shift_months(start, -12), shift_months(end, -12)),
            Self::PreviousMonth => (shift_months(start, -1), shift_months(end, -1)),
            Self::PreviousWeek => (start - Duration::days(7), end - Duration::days(7)),
        }
    }
}

/// Which way a metric moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// It grew.
    Up,
    /// It shrank.
    Down,
    /// It changed by less than the threshold.
    Flat,
}

/// A metric now and before (`POST /metrics/trend`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendResult {
    /// The current value (a missing one counts as 0).
    pub current_value: f64,
    /// The earlier value, if any.
    pub previous_value: Option<f64>,
    /// `current - previous`.
    pub absolute_change: Option<f64>,
    /// The change as a percentage of `|previous|`.
    pub percent_change: Option<f64>,
    /// Up, down, or flat when the change is under ±0.1 %.
    pub direction: Direction,
}

/// Compares a value with an earlier one; changes under `threshold` (a fraction, 0.001 by
/// default in the API) are flat.
pub fn trend(current: Option<f64>, previous: Option<f64>, threshold: f64) -> TrendResult {
    let current = current.unwrap_or(0.0);
    let Some(previous) = previous else {
        return TrendResult {
            current_value: current,
            previous_value: None,
            absolute_change: None,
            percent_change: None,
            direction: Direction::Flat,
        };
    };
    let change = current - previous;
    let percent = if previous == 0.0 {
        if current == 0.0 {
            0.0
        } else {
            100.0_f64.copysign(current)
        }
    } else {
        change / previous.abs() * 100.0
    };
    let direction = if percent.abs() < threshold * 100.0 {
        Direction::Flat
    } else if percent > 0.0 {
        Direction::Up
    } else {
        Direction::Down
    };
    TrendResult {
        current_value: current,
        previous_value: Some(previous),
        absolute_change: Some(change),
        percent_change: Some(percent),
        direction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(columns: &[&str], rows: Vec<Vec<Value>>) -> QueryResult {
        QueryResult {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            column_types: columns.iter().map(|_| "text".to_owned()).collect(),
            row_count: rows.len(),
            rows,
            truncated: false,
            execution_time_ms: 3.0,
        }
    }

    #[test]
    fn pivots_in_first_seen_order() {
        let request = PivotRequest {
            result: result(
                &["region", "month", "revenue"],
                vec![
                    vec![json!("East"), json!("Jan"), json!(10)],
                    vec![json!("West"), json!("Feb"), json!("5")],
                    vec![json!("East"), json!("Feb"), json!(2.5)],
                    vec![json!("East"), json!("Jan"), json!(1)],
                    vec![json!("West"), json!(null), json!("x")],
                ],
            ),
            row_column: "region".into(),
            pivot_column: "month".into(),
            value_column: "revenue".into(),
            aggregation: "sum".into(),
        };
        let out = pivot(&request).unwrap();
        assert_eq!(out.columns, ["region", "Jan", "Feb", "None"]);
        assert_eq!(out.column_types, ["text", "numeric", "numeric", "numeric"]);
        assert_eq!(
            out.rows,
            vec![
                vec![json!("East"), json!(11.0), json!(2.5), Value::Null],
                vec![json!("West"), Value::Null, json!(5.0), json!(0.0)],
            ]
        );
        assert_eq!(out.execution_time_ms, 0.0);
        let count = pivot(&PivotRequest {
            aggregation: "count".into(),
            ..request.clone()
        })
        .unwrap();
        assert_eq!(count.rows[0][1], json!(2.0));
        let bad = PivotRequest {
            value_column: "nope".into(),
            ..request
        };
        assert_eq!(
            pivot(&bad).unwrap_err().0,
            "Column not found in result: nope"
        );
    }

    #[test]
    fn trend_columns_follow_the_order_column_per_group() {
        let request = TrendColumnRequest {
            result: result(
                &["month", "team", "v"],
                vec![
                    vec![json!(2), json!("a"), json!(150)],
                    vec![json!(1), json!("a"), json!(100)],
                    vec![json!(1), json!("b"), json!(0)],
                    vec![json!(2), json!("b"), json!(5)],
                ],
            ),
            value_column: "v".into(),
            order_column: "month".into(),
            group_column: Some("team".into()),
        };
        let out = add_trend_column(&request).unwrap();
        assert_eq!(out.columns[3..], ["v_prev", "v_change", "v_pct_change"]);
        assert_eq!(out.rows[0][3..], [json!(100.0), json!(50.0), json!(50.0)]);
        assert_eq!(out.rows[1][3..], [Value::Null, Value::Null, Value::Null]);
        assert_eq!(out.rows[3][3..], [json!(0.0), json!(5.0), json!(100.0)]);
        let bad = TrendColumnRequest {
            group_column: Some("g".into()),
            ..request
        };
        assert_eq!(
            add_trend_column(&bad).unwrap_err().0,
            "Group column not found: g"
        );
    }

    #[test]
    fn trend_arithmetic() {
        let t = trend(Some(150.0), Some(100.0), 0.001);
        assert_eq!((t.percent_change, t.direction), (Some(50.0), Direction::Up));
        assert_eq!(
            trend(Some(80.0), Some(100.0), 0.001).direction,
            Direction::Down
        );
        assert_eq!(
            trend(Some(100.0), Some(0.0), 0.001).percent_change,
            Some(100.0)
        );
        let flat = trend(Some(0.0), Some(0.0), 0.001);
        assert_eq!(
            (flat.percent_change, flat.direction),
            (Some(0.0), Direction::Flat)
        );
        assert_eq!(
            trend(Some(100.0001), Some(100.0), 0.01).direction,
            Direction::Flat
        );
        let none = trend(None, Some(100.0), 0.001);
        assert_eq!((none.current_value, none.direction), (0.0, Direction::Down));
        assert_eq!(trend(Some(1.0), None, 0.001).direction, Direction::Flat);
    }

    #[test]
    fn comparison_ranges() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            ComparisonPeriod::PreviousPeriod.range(d("2024-03-01"), d("2024-03-10")),
            (d("2024-02-20"), d("2024-02-29"))
        );
        assert_eq!(
            ComparisonPeriod::PreviousMonth.range(d("2024-03-01"), d("2024-03-31")),
            (d("2024-02-01"), d("2024-02-29"))
        );
        assert_eq!(
            ComparisonPeriod::PreviousYear.range(d("2024-02-29"), d("2024-03-01")),
            (d("2023-02-28"), d("2023-03-01"))
        );
        assert_eq!(
            ComparisonPeriod::PreviousMonth.range(d("2024-01-15"), d("2024-01-20")),
            (d("2023-12-15"), d("2023-12-20"))
        );
        assert_eq!(
            ComparisonPeriod::PreviousWeek.range(d("2024-01-08"), d("2024-01-14")),
            (d("2024-01-01"), d("2024-01-07"))
        );
    }
}
