//! Time-series gap filling: adding the buckets a query returned no rows for.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike,
};
use serde_json::Value;

use super::dates::{
    Moment, WindowPeriod, fiscal_window, month_index, month_index_to_date, next_midnight,
    relative_range,
};
use super::definition::{FilterOperator, QueryDefinition, TimeSeriesConfig, TimeUnit};
use crate::source::QueryResult;

/// The range buckets should cover, beyond the first and last bucket the data has; each bound
/// is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketBounds {
    /// The earliest moment to cover.
    pub start: Option<NaiveDateTime>,
    /// The latest moment to cover.
    pub end: Option<NaiveDateTime>,
}

impl BucketBounds {
    /// The range the filters of `def` put on its time-series column (`gte`/`gt`/`lte`/`lt`,
    /// `between`, `date_relative`, `date_window`), with relative dates counted from `today`
    /// and fiscal years starting in `fiscal_year_start_month`. The tightest bound wins.
    pub fn from_filters(
        def: &QueryDefinition,
        today: NaiveDate,
        fiscal_year_start_month: u8,
    ) -> Self {
        let mut bounds = Self::default();
        let Some(ts) = &def.time_series else {
            return bounds;
        };
        let moment = |v: &Value| v.as_str().and_then(Moment::parse);
        let mut lower = |at: NaiveDateTime| {
            bounds.start = Some(bounds.start.map_or(at, |s| s.max(at)));
        };
        let mut uppers = Vec::new();
        for filter in def
            .filters
            .iter()
            .filter(|f| f.table_id == ts.table_id && f.column == ts.date_column)
        {
            let day_range = |(start, end): (NaiveDate, NaiveDate)| {
                (start.and_time(NaiveTime::MIN), end.and_time(NaiveTime::MIN))
            };
            match filter.operator {
                FilterOperator::Gte | FilterOperator::Gt => {
                    if let Some(m) = moment(&filter.value) {
                        lower(m.datetime());
                    }
                }
                FilterOperator::Lte | FilterOperator::Lt => {
                    if let Some(m) = moment(&filter.value) {
                        uppers.push(m.datetime());
                    }
                }
                FilterOperator::Between => {
                    if let Some([low, high]) = filter.value.as_array().map(Vec::as_slice) {
                        if let Some(m) = moment(low) {
                            lower(m.datetime());
                        }
                        if let Some(m) = moment(high) {
                            uppers.push(m.datetime());
                        }
                    }
                }
                FilterOperator::DateRelative => {
                    let days = filter.value.as_i64().unwrap_or(0).clamp(-100_000, 100_000);
                    let (start, end) = day_range(relative_range(days, today));
                    lower(start);
                    uppers.push(end);
                }
                FilterOperator::DateWindow => {
                    let period = match filter.value.get("period").and_then(Value::as_str) {
                        Some("yearly") => WindowPeriod::Yearly,
                        _ => WindowPeriod::Quarterly,
                    };
                    let offset = filter
                        .value
                        .get("value")
                        .and_then(Value::as_i64)
                        .unwrap_or(0)
                        .clamp(-10_000, 10_000);
                    let (start, end) = day_range(fiscal_window(
                        period,
                        offset,
                        fiscal_year_start_month,
                        today,
                    ));
                    lower(start);
                    uppers.push(end);
                }
                _ => {}
            }
        }
        bounds.end = uppers.into_iter().min();
        bounds
    }
}

/// How bucket values are written in the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Date,
    Naive,
    Offset(FixedOffset),
}

fn parse_bucket(value: &Value) -> Option<(NaiveDateTime, Format)> {
    let text = value.as_str()?.trim();
    if !text.contains(['T', ' ']) {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some((date.and_time(NaiveTime::MIN), Format::Date));
    }
    let text = text.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&text) {
        return Some((dt.naive_local(), Format::Offset(*dt.offset())));
    }
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|dt| (dt, Format::Naive))
}

fn write_bucket(at: NaiveDateTime, format: Format) -> Value {
    Value::String(match format {
        Format::Date => at.format("%Y-%m-%d").to_string(),
        Format::Naive => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        Format::Offset(offset) => match at.and_local_timezone(offset).single() {
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            None => at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        },
    })
}

/// `at` truncated to the start of its bucket (weeks start on Monday).
fn truncate(at: NaiveDateTime, unit: TimeUnit) -> NaiveDateTime {
    let date = at.date();
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    let hms = |h: u32, m: u32, s: u32| date.and_hms_opt(h, m, s).unwrap_or(at);
    match unit {
        TimeUnit::Year => midnight(month_index_to_date(i64::from(date.year()) * 12)),
        TimeUnit::Quarter => midnight(month_index_to_date(
            month_index(date) - i64::from(date.month0() % 3),
        )),
        TimeUnit::Month => midnight(month_index_to_date(month_index(date))),
        TimeUnit::Week => {
            midnight(date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday())))
        }
        TimeUnit::Day => midnight(date),
        TimeUnit::Hour => hms(at.hour(), 0, 0),
        TimeUnit::Minute => hms(at.hour(), at.minute(), 0),
        TimeUnit::Second => hms(at.hour(), at.minute(), at.second()),
    }
}

/// The start of the bucket after the one starting at `at`.
fn step(at: NaiveDateTime, unit: TimeUnit) -> NaiveDateTime {
    let months = |n: i64| month_index_to_date(month_index(at.date()) + n).and_time(at.time());
    match unit {
        TimeUnit::Year => months(12),
        TimeUnit::Quarter => months(3),
        TimeUnit::Month => months(1),
        TimeUnit::Week => at + Duration::days(7),
        TimeUnit::Day => next_midnight(at.date()),
        TimeUnit::Hour => at + Duration::hours(1),
        TimeUnit::Minute => at + Duration::minutes(1),
        TimeUnit::Second => at + Duration::seconds(1),
    }
}

fn is_numeric_type(column_type: &str) -> bool {
    let t = column_type.to_ascii_lowercase();
    [
        "int", "numeric", "decimal", "float", "double", "real", "money",
    ]
    .iter()
    .any(|n| t.contains(n))
}

/// Adds a row for every bucket between the first and the last (widened to `bounds`) that
/// has no row: the bucket column holds the bucket, numeric columns `config.fill_value`, and
/// the others null.
///
/// `bucket_column` is the index of the bucket column in `result` (0 for a compiled time
/// series). Bucket values are the ISO-8601 text the data source returns (`2024-01-01`,
/// `2024-01-01T00:00:00`, with or without an offset); added buckets are written the same
/// way. Rows must be in bucket order (ascending or descending), as a time series without
/// an explicit `order_by` is; otherwise, or when `config.fill_missing` is false, or when
/// filling would make the result longer than `max_rows`, the result is returned unchanged.
pub fn fill_time_series_gaps(
    mut result: QueryResult,
    config: &TimeSeriesConfig,
    bucket_column: usize,
    bounds: BucketBounds,
    max_rows: usize,
) -> QueryResult {
    if !config.fill_missing || bucket_column >= result.columns.len().max(1) {
        return result;
    }
    let parsed: Vec<Option<(NaiveDateTime, Format)>> = result
        .rows
        .iter()
        .map(|row| row.get(bucket_column).and_then(parse_bucket))
        .collect();
    let present: Vec<NaiveDateTime> = parsed.iter().flatten().map(|(at, _)| *at).collect();
    let ascending = present.windows(2).all(|w| w[0] <= w[1]);
    let descending = present.windows(2).all(|w| w[0] >= w[1]);
    if !(ascending || descending) {
        return result;
    }
    let format = parsed
        .iter()
        .flatten()
        .map(|(_, f)| *f)
        .next()
        .unwrap_or(Format::Naive);
    let unit = config.interval;
    let first = present
        .iter()
        .min()
        .copied()
        .into_iter()
        .chain(bounds.start);
    let last = present.iter().max().copied().into_iter().chain(bounds.end);
    let (Some(start), Some(end)) = (first.min(), last.max()) else {
        return result;
    };
    let existing: BTreeSet<NaiveDateTime> = present.iter().copied().collect();
    let mut missing = Vec::new();
    let mut at = truncate(start, unit);
    while at <= end {
        if !existing.contains(&at) {
            missing.push(at);
            if result.rows.len() + missing.len() > max_rows {
                return result;
            }
        }
        let next = step(at, unit);
        if next <= at {
            break;
        }
        at = next;
    }
    if missing.is_empty() {
        return result;
    }

    let width = result
        .columns
        .len()
        .max(result.rows.first().map_or(0, Vec::len));
    let numeric: Vec<bool> = (0..width)
        .map(|i| match result.column_types.get(i) {
            Some(t) if !t.is_empty() && t != "unknown" => is_numeric_type(t),
            _ => result
                .rows
                .iter()
                .find_map(|r| r.get(i).filter(|v| !v.is_null()))
                .is_some_and(Value::is_number),
        })
        .collect();
    let filler = |at: NaiveDateTime| -> Vec<Value> {
        (0..width)
            .map(|i| {
                if i == bucket_column {
                    write_bucket(at, format)
                } else if numeric[i] {
                    config.fill_value.clone()
                } else {
                    Value::Null
                }
            })
            .collect()
    };

    // Merge in bucket order; rows without a bucket stay at the end.
    let mut rows: Vec<(Option<NaiveDateTime>, Vec<Value>)> = parsed
        .iter()
        .map(|p| p.map(|(at, _)| at))
        .zip(std::mem::take(&mut result.rows))
        .collect();
    rows.extend(missing.into_iter().map(|at| (Some(at), filler(at))));
    rows.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) if descending && !ascending => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    result.rows = rows.into_iter().map(|(_, row)| row).collect();
    result.row_count = result.rows.len();
    result
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn result(rows: Vec<Vec<Value>>) -> QueryResult {
        let mut r = QueryResult::empty(
            vec!["order_date_bucket".into(), "region".into(), "sum".into()],
            vec!["timestamp".into(), "text".into(), "numeric".into()],
        );
        r.row_count = rows.len();
        r.rows = rows;
        r
    }

    fn config(unit: TimeUnit) -> TimeSeriesConfig {
        TimeSeriesConfig::new("t1", "order_date", unit)
    }

    #[test]
    fn fills_missing_days_between_first_and_last() {
        let r = result(vec![
            vec![json!("2024-01-01T00:00:00"), json!("East"), json!(5)],
            vec![json!("2024-01-04T00:00:00"), json!("East"), json!(7)],
        ]);
        let filled =
            fill_time_series_gaps(r, &config(TimeUnit::Day), 0, BucketBounds::default(), 100);
        assert_eq!(
            filled.rows,
            vec![
                vec![json!("2024-01-01T00:00:00"), json!("East"), json!(5)],
                vec![json!("2024-01-02T00:00:00"), json!(null), json!(0)],
                vec![json!("2024-01-03T00:00:00"), json!(null), json!(0)],
                vec![json!("2024-01-04T00:00:00"), json!("East"), json!(7)],
            ]
        );
        assert_eq!(filled.row_count, 4);
    }

    #[test]
    fn weeks_start_monday_and_months_quarters_step_the_calendar() {
        let r = result(vec![
            vec![json!("2024-01-01"), json!("a"), json!(1)],
            vec![json!("2024-01-22"), json!("a"), json!(1)],
        ]);
        let filled =
            fill_time_series_gaps(r, &config(TimeUnit::Week), 0, BucketBounds::default(), 100);
        let buckets: Vec<&Value> = filled.rows.iter().map(|r| &r[0]).collect();
        assert_eq!(
            buckets,
            [
                &json!("2024-01-01"),
                &json!("2024-01-08"),
                &json!("2024-01-15"),
                &json!("2024-01-22")
            ]
        );

        let r = result(vec![
            vec![json!("2023-10-01T00:00:00+00:00"), json!("a"), json!(1)],
            vec![json!("2024-04-01T00:00:00+00:00"), json!("a"), json!(1)],
        ]);
        let mut c = config(TimeUnit::Quarter);
        c.fill_value = json!(null);
        let filled = fill_time_series_gaps(r, &c, 0, BucketBounds::default(), 100);
        assert_eq!(
            filled.rows[1],
            vec![json!("2024-01-01T00:00:00+00:00"), json!(null), json!(null)]
        );
        assert_eq!(filled.rows.len(), 3);
    }

    #[test]
    fn bounds_widen_the_range_and_descending_order_is_kept() {
        let r = result(vec![
            vec![json!("2024-03-01"), json!("a"), json!(3)],
            vec![json!("2024-02-01"), json!("a"), json!(2)],
        ]);
        let bounds = BucketBounds {
            start: NaiveDate::from_ymd_opt(2024, 1, 15).map(|d| d.and_time(NaiveTime::MIN)),
            end: NaiveDate::from_ymd_opt(2024, 4, 2).map(|d| d.and_time(NaiveTime::MIN)),
        };
        let filled = fill_time_series_gaps(r, &config(TimeUnit::Month), 0, bounds, 100);
        let buckets: Vec<&str> = filled.rows.iter().map(|r| r[0].as_str().unwrap()).collect();
        assert_eq!(
            buckets,
            ["2024-04-01", "2024-03-01", "2024-02-01", "2024-01-01"]
        );
    }

    #[test]
    fn leaves_the_result_alone_when_it_should() {
        let rows = vec![
            vec![json!("2024-01-03"), json!("a"), json!(1)],
            vec![json!("2024-01-01"), json!("a"), json!(1)],
            vec![json!("2024-01-05"), json!("a"), json!(1)],
        ];
        let unordered = fill_time_series_gaps(
            result(rows.clone()),
            &config(TimeUnit::Day),
            0,
            BucketBounds::default(),
            100,
        );
        assert_eq!(unordered.rows, rows);
        let mut off = config(TimeUnit::Day);
        off.fill_missing = false;
        let two = vec![rows[1].clone(), rows[2].clone()];
        assert_eq!(
            fill_time_series_gaps(result(two.clone()), &off, 0, BucketBounds::default(), 100).rows,
            two
        );
        let capped = fill_time_series_gaps(
            result(two.clone()),
            &config(TimeUnit::Day),
            0,
            BucketBounds::default(),
            3,
        );
        assert_eq!(capped.rows, two, "filling would exceed max_rows");
        let empty = fill_time_series_gaps(
            result(Vec::new()),
            &config(TimeUnit::Day),
            0,
            BucketBounds::default(),
            100,
        );
        assert!(empty.rows.is_empty());
    }

    #[test]
    fn bounds_come_from_the_time_series_filters() {
        let def: QueryDefinition = serde_json::from_value(json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}],
            "filters": [
                {"table_id": "t1", "column": "order_date", "operator": "gte", "value": "2024-01-01"},
                {"table_id": "t1", "column": "order_date", "operator": "date_relative", "value": -30},
                {"table_id": "t1", "column": "status", "operator": "gte", "value": "2030-01-01"}
            ],
            "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "day"}
        }))
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        let bounds = BucketBounds::from_filters(&def, today, 1);
        assert_eq!(
            bounds.start,
            NaiveDate::from_ymd_opt(2024, 5, 16).map(|d| d.and_time(NaiveTime::MIN))
        );
        assert_eq!(bounds.end, Some(today.and_time(NaiveTime::MIN)));
    }
}
