//! A dashboard's filter values as URL query parameters, the way a page's form or a download
//! link sends them:
//!
//! | filter type | parameters |
//! |---|---|
//! | `select`, `text` | `var-{id}=value` |
//! | `multi_select` | `var-{id}=a&var-{id}=b` |
//! | `date_range` | `var-{id}=last_30_days` (a preset) or `var-{id}.start=2025-01-01&var-{id}.end=2025-03-31` |
//! | `number_range` | `var-{id}.min=10&var-{id}.max=100` (either may be left out) |
//!
//! An empty value (`var-region=`) means "no filter"; a filter without parameters takes its
//! default. The prefix keeps filter ids apart from a route's own parameters, whatever a
//! dashboard names its filters.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::{DashboardFilter, FilterType, FilterValue};

/// The prefix of a filter's parameters.
pub const FILTER_PREFIX: &str = "var-";

/// The most characters of one parameter's value that are read.
const MAX_VALUE_CHARS: usize = 1_000;

/// The most parameters read from one query string.
const MAX_PARAMS: usize = 1_000;

/// A query parameter that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{parameter}`: {message}")]
pub struct ParamError {
    /// The parameter, as sent.
    pub parameter: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ParamError {
    /// `parameter` (cut to 100 characters) cannot be used because of `message`.
    pub fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.chars().take(100).collect(),
            message: message.into(),
        }
    }
}

/// The filter values the `var-` parameters among `pairs` (as decoded) set, by filter id
/// (`Value::Null` for "no filter"), for a dashboard with `filters`. Other parameters are left
/// to the caller; a `var-` parameter naming no filter of the dashboard is an error.
pub fn filter_values_from_params(
    pairs: &[(String, String)],
    filters: &[DashboardFilter],
) -> Result<BTreeMap<String, Value>, ParamError> {
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    let mut ranges: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (name, value) in pairs.iter().take(MAX_PARAMS) {
        let Some(rest) = name.strip_prefix(FILTER_PREFIX) else {
            continue;
        };
        let (id, part) = match rest.rsplit_once('.') {
            Some((id, part)) if ["start", "end", "min", "max"].contains(&part) => (id, Some(part)),
            _ => (rest, None),
        };
        let filter = filters
            .iter()
            .find(|f| f.id == id)
            .ok_or_else(|| ParamError::new(name, "the dashboard has no filter with this id"))?;
        let value = value.chars().take(MAX_VALUE_CHARS).collect::<String>();
        match (filter.filter_type, part) {
            (FilterType::Select | FilterType::Text, None) => {
                values.insert(filter.id.clone(), text(value));
            }
            (FilterType::MultiSelect, None) => {
                let entry = values.entry(filter.id.clone()).or_insert(Value::Null);
                if !value.is_empty() {
                    match entry {
                        Value::Array(items) => items.push(Value::String(value)),
                        _ => *entry = Value::Array(vec![Value::String(value)]),
                    }
                }
            }
            (FilterType::DateRange, None) => {
                values.entry(filter.id.clone()).or_insert(text(value));
            }
            (FilterType::DateRange, Some(part @ ("start" | "end"))) => {
                if !value.is_empty() {
                    if chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_err() {
                        return Err(ParamError::new(name, "must be a date, YYYY-MM-DD"));
                    }
                    ranges
                        .entry(filter.id.clone())
                        .or_default()
                        .insert(part.to_owned(), Value::String(value));
                }
            }
            (FilterType::NumberRange, Some(part @ ("min" | "max"))) => {
                if !value.is_empty() {
                    let n: f64 = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n: &f64| n.is_finite())
                        .ok_or_else(|| ParamError::new(name, "must be a number"))?;
                    ranges
                        .entry(filter.id.clone())
                        .or_default()
                        .insert(part.to_owned(), serde_json::json!(n));
                } else {
                    ranges.entry(filter.id.clone()).or_default();
                }
            }
            (kind, _) => {
                return Err(ParamError::new(
                    name,
                    format!("a {} filter does not take this parameter", kind_name(kind)),
                ));
            }
        }
    }
    for (id, range) in ranges {
        let filter = filters
            .iter()
            .find(|f| f.id == id)
            .expect("ranges hold known filters");
        let value = if filter.filter_type == FilterType::DateRange {
            match (range.get("start"), range.get("end")) {
                (Some(_), Some(_)) => Value::Object(range),
                (None, None) => continue,
                _ => {
                    return Err(ParamError::new(
                        &format!("{FILTER_PREFIX}{id}"),
                        "a date range needs both .start and .end",
                    ));
                }
            }
        } else if range.is_empty() {
            Value::Null
        } else {
            Value::Object(range)
        };
        // Dates given explicitly win over a preset sent alongside them.
        values.insert(id, value);
    }
    Ok(values)
}

/// `values` as the Engine takes them.
pub fn as_filter_values(values: &BTreeMap<String, Value>) -> Vec<FilterValue> {
    values
        .iter()
        .map(|(id, value)| FilterValue {
            filter_id: id.clone(),
            value: value.clone(),
        })
        .collect()
}

fn text(value: String) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value)
    }
}

fn kind_name(kind: FilterType) -> &'static str {
    match kind {
        FilterType::DateRange => "date_range",
        FilterType::Select => "select",
        FilterType::MultiSelect => "multi_select",
        FilterType::Text => "text",
        FilterType::NumberRange => "number_range",
    }
}
