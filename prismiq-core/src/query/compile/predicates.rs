//! Conditions in SQL: a filter's operator applied to its operand, and the host's row
//! predicates.

use sea_query::{Expr, ExprTrait, Value as SqlValue};
use serde_json::Value;

use super::options::CompileOptions;
use crate::query::bind::{Kind, bind, date_only};
use crate::query::dates::{WindowPeriod, fiscal_window, next_midnight, relative_range};
use crate::query::definition::{FilterDefinition, FilterOperator};
use crate::query::error::QueryError;
use crate::row_filter::{RowCondition, RowPredicate};
use crate::schema::TableSchema;

/// `TRUE` or `FALSE`.
pub(super) fn constant(value: bool) -> Expr {
    Expr::Constant(value.into())
}

/// A host row predicate on an unqualified column of `table`.
pub(super) fn row_predicate(
    table: &TableSchema,
    predicate: &RowPredicate,
) -> Result<Expr, QueryError> {
    let column = table
        .column(&predicate.column)
        .ok_or_else(|| QueryError::RowFilter {
            table: table.name.clone(),
            column: predicate.column.clone(),
        })?;
    let mut kind = Kind::of(&column.data_type);
    let mut target = Expr::col(predicate.column.clone());
    if kind == Kind::Other {
        target = target.cast_as("text");
        kind = Kind::Text;
    }
    let bind_row = |v: &Value| {
        bind(v, kind, &predicate.column).map_err(|_| QueryError::RowFilter {
            table: table.name.clone(),
            column: predicate.column.clone(),
        })
    };
    Ok(match &predicate.condition {
        RowCondition::Eq(Value::Null) => target.is_null(),
        RowCondition::Eq(value) => target.eq(Expr::val(bind_row(value)?)),
        RowCondition::In(values) if values.is_empty() => constant(false),
        RowCondition::In(values) => target.is_in(
            values
                .iter()
                .map(|v| bind_row(v).map(Expr::val))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    })
}

/// The bound items of a list operand (a scalar counts as a one-item list, null as empty).
pub(super) fn list(value: &Value, kind: Kind, column: &str) -> Result<Vec<Expr>, QueryError> {
    let items: &[Value] = match value {
        Value::Array(items) => items,
        Value::Null => &[],
        scalar => std::slice::from_ref(scalar),
    };
    items
        .iter()
        .map(|item| bind(item, kind, column).map(Expr::val))
        .collect()
}

/// The condition `filter` puts on `target`, its column or calculated field, whose values
/// bind as `kind`.
pub(super) fn filter_condition(
    filter: &FilterDefinition,
    target: Expr,
    kind: Kind,
    options: &CompileOptions,
) -> Result<Expr, QueryError> {
    use FilterOperator as Op;
    let name = filter.column.as_str();
    // Types without a natural binding (json, enums, …) are compared as text.
    let (target, kind) = match kind {
        Kind::Other => (target.cast_as("text"), Kind::Text),
        kind => (target, kind),
    };
    let value = &filter.value;
    let one = |v: &Value| bind(v, kind, name).map(Expr::val);
    // A date without a time, against a timestamp, means the whole day.
    let whole_day_end = |v: &Value| {
        kind.has_time()
            .then(|| date_only(v))
            .flatten()
            .map(|d| Expr::val(SqlValue::ChronoDateTime(Some(next_midnight(d)))))
    };
    Ok(match filter.operator {
        Op::Eq if value.is_null() => target.is_null(),
        Op::Neq if value.is_null() => target.is_not_null(),
        Op::Eq => target.eq(one(value)?),
        Op::Neq => target.ne(one(value)?),
        Op::Gt => match whole_day_end(value) {
            Some(next_day) => target.gte(next_day),
            None => target.gt(one(value)?),
        },
        Op::Gte => target.gte(one(value)?),
        Op::Lt => target.lt(one(value)?),
        Op::Lte => match whole_day_end(value) {
            Some(next_day) => target.lt(next_day),
            None => target.lte(one(value)?),
        },
        Op::In => match list(value, kind, name)? {
            values if values.is_empty() => constant(false),
            values => target.is_in(values),
        },
        Op::NotIn => match list(value, kind, name)? {
            values if values.is_empty() => constant(true),
            values => target.is_not_in(values),
        },
        Op::InOrNull => {
            let concrete: Vec<Value> = match value {
                Value::Array(items) => items.iter().filter(|v| !v.is_null()).cloned().collect(),
                Value::Null => Vec::new(),
                scalar => vec![scalar.clone()],
            };
            if concrete.is_empty() {
                target.is_null()
            } else {
                let values = list(&Value::Array(concrete), kind, name)?;
                target.clone().is_in(values).or(target.is_null())
            }
        }
        Op::Like | Op::Ilike | Op::NotLike | Op::NotIlike => {
            let pattern = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => {
                    return Err(QueryError::Invalid(format!(
                        "Operator '{}' on column '{name}' needs a text pattern",
                        filter.operator
                    )));
                }
            };
            let target = if kind == Kind::Text {
                target
            } else {
                target.cast_as("text")
            };
            let pattern = Expr::val(pattern);
            let case_insensitive = matches!(filter.operator, Op::Ilike | Op::NotIlike);
            let negated = matches!(filter.operator, Op::NotLike | Op::NotIlike);
            options
                .dialect
                .like(target, pattern, case_insensitive, negated)
        }
        Op::Between => {
            let (low, high) = match value {
                Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
                Value::Array(items) => {
                    return Err(QueryError::Invalid(format!(
                        "BETWEEN filter on column '{name}' requires exactly 2 values, got {} values",
                        items.len()
                    )));
                }
                other => {
                    return Err(QueryError::Invalid(format!(
                        "BETWEEN filter on column '{name}' requires exactly 2 values, got {}",
                        json_type(other)
                    )));
                }
            };
            match whole_day_end(high) {
                Some(next_day) => target.clone().gte(one(low)?).and(target.lt(next_day)),
                None => target.between(one(low)?, one(high)?),
            }
        }
        Op::IsNull => target.is_null(),
        Op::IsNotNull => target.is_not_null(),
        Op::InSubquery => {
            return Err(QueryError::Unsupported(
                "The in_subquery operator is not supported; row-level restrictions belong \
                 in a row filter"
                    .to_owned(),
            ));
        }
        Op::DateRelative | Op::NotDateRelative | Op::DateWindow => {
            relative_date(filter, target, kind, options)?
        }
    })
}

fn relative_date(
    filter: &FilterDefinition,
    target: Expr,
    kind: Kind,
    options: &CompileOptions,
) -> Result<Expr, QueryError> {
    let name = &filter.column;
    if !(kind.is_temporal() || kind == Kind::Json) {
        return Err(QueryError::Invalid(format!(
            "Operator '{}' needs a date or timestamp column, and '{name}' is not one",
            filter.operator
        )));
    }
    let today = options.today;
    let (start, end) = if filter.operator == FilterOperator::DateWindow {
        let Value::Object(window) = &filter.value else {
            return Err(QueryError::Invalid(format!(
                "date_window filter on column '{name}' needs an object value such as \
                 {{\"period\": \"quarterly\", \"value\": 0}}"
            )));
        };
        let period = match window.get("period") {
            None | Some(Value::Null) => WindowPeriod::Quarterly,
            Some(Value::String(p)) if p == "quarterly" => WindowPeriod::Quarterly,
            Some(Value::String(p)) if p == "yearly" => WindowPeriod::Yearly,
            Some(other) => {
                let shown = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned);
                return Err(QueryError::Invalid(format!(
                    "Unknown date_window period: '{shown}'. Expected 'quarterly' or 'yearly'."
                )));
            }
        };
        let offset = whole_number(window.get("value").unwrap_or(&Value::Null))
            .ok_or_else(|| {
                QueryError::Invalid(format!(
                    "date_window filter on column '{name}' needs a whole number `value` \
                     (the offset in periods)"
                ))
            })?
            .clamp(-10_000, 10_000);
        fiscal_window(period, offset, options.fiscal_year_start_month, today)
    } else {
        let days = whole_number(&filter.value).ok_or_else(|| {
            QueryError::Invalid(format!(
                "{} filter on column '{name}' needs a whole number of days",
                filter.operator
            ))
        })?;
        relative_range(days.clamp(-1_000_000, 1_000_000), today)
    };
    let negated = filter.operator == FilterOperator::NotDateRelative;
    Ok(if kind.has_time() {
        let start = Expr::val(SqlValue::ChronoDateTime(Some(
            start.and_time(chrono::NaiveTime::MIN),
        )));
        let end = Expr::val(SqlValue::ChronoDateTime(Some(next_midnight(end))));
        if negated {
            target.clone().lt(start).or(target.gte(end))
        } else {
            target.clone().gte(start).and(target.lt(end))
        }
    } else {
        let (start, end) = (Expr::val(start), Expr::val(end));
        if negated {
            target.clone().lt(start).or(target.gt(end))
        } else {
            target.between(start, end)
        }
    })
}

/// A whole number from JSON (an integer, a whole float or a numeric string; null is 0).
fn whole_number(value: &Value) -> Option<i64> {
    match value {
        Value::Null => Some(0),
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
