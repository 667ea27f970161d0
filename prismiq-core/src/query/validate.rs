//! Checking a query definition against a schema, with "Did you mean" suggestions.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bind::parses_as_moment;
use super::definition::{Aggregation, FilterOperator, QueryDefinition};
use super::error::{QueryError, ValidationCode, ValidationError};
use super::suggest::suggest;
use crate::schema::{DatabaseSchema, TableSchema};

/// The outcome of [`validate`]: `{valid, errors}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationResult {
    /// Whether no problem was found.
    pub valid: bool,
    /// The problems, in check order.
    pub errors: Vec<ValidationError>,
}

impl ValidationResult {
    /// The messages alone (what `/query/validate` returns).
    pub fn messages(&self) -> Vec<String> {
        self.errors.iter().map(|e| e.message.clone()).collect()
    }

    /// `Ok` when valid, else [`QueryError::Validation`] (`Query validation failed: e1; e2`).
    pub fn into_result(self) -> Result<(), QueryError> {
        if self.valid {
            Ok(())
        } else {
            Err(QueryError::Validation(self.errors))
        }
    }
}

struct Collector {
    errors: Vec<ValidationError>,
}

impl Collector {
    fn push(
        &mut self,
        code: ValidationCode,
        message: String,
        field: String,
        suggestion: Option<String>,
    ) {
        self.errors.push(ValidationError {
            code,
            message,
            field: Some(field),
            suggestion,
        });
    }
}

fn column_names(table: &TableSchema) -> impl Iterator<Item = &str> {
    table.columns.iter().map(|c| c.name.as_str())
}

/// Checks `def` against `schema`, the tables and columns queries may use (hidden ones left
/// out, so they are reported as not found). Every problem is collected.
///
/// Checks, in order: tables, and that each can be told apart (its id, and the name or alias
/// that qualifies its columns); selected columns and their aggregations; join columns; filter
/// columns and value types; order-by columns; group-by columns; the time-series column; joins
/// of a table to itself.
pub fn validate(def: &QueryDefinition, schema: &DatabaseSchema) -> ValidationResult {
    let mut out = Collector { errors: Vec::new() };
    let table_of = |id: &str| def.table(id).and_then(|t| schema.table(&t.name));
    let is_calculated = |name: &str| def.calculated_field(name).is_some();

    for (i, table) in def.tables.iter().enumerate() {
        if schema.table(&table.name).is_none() {
            out.push(
                ValidationCode::TableNotFound,
                format!("Table '{}' not found in schema", table.name),
                format!("tables[{i}].name"),
                suggest(&table.name, schema.tables.iter().map(|t| t.name.as_str())),
            );
        }
    }

    // Each table must be told apart: by its id in the query, by its reference in the SQL.
    for (i, table) in def.tables.iter().enumerate() {
        let earlier = &def.tables[..i];
        if let Some(first) = earlier.iter().position(|t| t.id == table.id) {
            out.push(
                ValidationCode::AmbiguousColumn,
                format!(
                    "Table id '{}' is used by tables[{first}] and tables[{i}]",
                    table.id
                ),
                format!("tables[{i}].id"),
                Some("Give every table of the query its own id".to_owned()),
            );
            continue;
        }
        let reference = def.table_reference(table);
        if let Some(first) = earlier
            .iter()
            .position(|t| def.table_reference(t) == reference)
        {
            out.push(
                ValidationCode::AmbiguousColumn,
                format!(
                    "Table name or alias '{reference}' is used by tables[{first}] and tables[{i}]"
                ),
                format!("tables[{i}].alias"),
                Some("Give each of them an alias of its own".to_owned()),
            );
        }
    }

    for (i, column) in def.columns.iter().enumerate() {
        let Some(table) = table_of(&column.table_id) else {
            continue;
        };
        if (column.column == "*" && column.aggregation == Aggregation::Count)
            || is_calculated(&column.column)
        {
            continue;
        }
        let Some(schema_column) = table.column(&column.column) else {
            out.push(
                ValidationCode::ColumnNotFound,
                format!(
                    "Column '{}' not found in table '{}'",
                    column.column, table.name
                ),
                format!("columns[{i}].column"),
                suggest(&column.column, column_names(table)),
            );
            continue;
        };
        if let Some(unit) = column.date_trunc
            && !schema_column.is_temporal()
        {
            out.push(
                ValidationCode::TypeMismatch,
                format!(
                    "date_trunc '{unit}' requires a date or timestamp column, but '{}' is of \
                     type '{}'",
                    column.column, schema_column.data_type
                ),
                format!("columns[{i}].date_trunc"),
                None,
            );
        }
        if matches!(column.aggregation, Aggregation::Sum | Aggregation::Avg)
            && !schema_column.is_numeric()
        {
            out.push(
                ValidationCode::InvalidAggregation,
                format!(
                    "Aggregation '{}' is not valid for column '{}' of type '{}'",
                    column.aggregation.as_str(),
                    column.column,
                    schema_column.data_type
                ),
                format!("columns[{i}].aggregation"),
                Some("Valid aggregations for this column: min, max, count".to_owned()),
            );
        }
    }

    for (i, join) in def.joins.iter().enumerate() {
        for (table_id, column, side) in [
            (&join.from_table_id, &join.from_column, "from_column"),
            (&join.to_table_id, &join.to_column, "to_column"),
        ] {
            if let Some(table) = table_of(table_id)
                && table.column(column).is_none()
            {
                out.push(
                    ValidationCode::InvalidJoin,
                    format!("Join column '{column}' not found in table '{}'", table.name),
                    format!("joins[{i}].{side}"),
                    suggest(column, column_names(table)),
                );
            }
        }
    }

    for (i, filter) in def.filters.iter().enumerate() {
        let Some(table) = table_of(&filter.table_id) else {
            continue;
        };
        if is_calculated(&filter.column) {
            continue;
        }
        let Some(schema_column) = table.column(&filter.column) else {
            out.push(
                ValidationCode::ColumnNotFound,
                format!(
                    "Filter column '{}' not found in table '{}'",
                    filter.column, table.name
                ),
                format!("filters[{i}].column"),
                suggest(&filter.column, column_names(table)),
            );
            continue;
        };
        if let Some(message) = type_mismatch(
            filter.operator,
            &filter.value,
            &filter.column,
            schema_column.is_numeric(),
            schema_column.is_temporal(),
            &schema_column.data_type,
        ) {
            out.push(
                ValidationCode::TypeMismatch,
                message,
                format!("filters[{i}].value"),
                None,
            );
        }
    }

    for (i, sort) in def.order_by.iter().enumerate() {
        let Some(table) = table_of(&sort.table_id) else {
            continue;
        };
        if !is_calculated(&sort.column) && table.column(&sort.column).is_none() {
            out.push(
                ValidationCode::ColumnNotFound,
                format!(
                    "Order by column '{}' not found in table '{}'",
                    sort.column, table.name
                ),
                format!("order_by[{i}].column"),
                suggest(&sort.column, column_names(table)),
            );
        }
    }

    for (i, group) in def.group_by.iter().enumerate() {
        let Some(table) = table_of(&group.table_id) else {
            continue;
        };
        if !is_calculated(&group.column) && table.column(&group.column).is_none() {
            out.push(
                ValidationCode::ColumnNotFound,
                format!(
                    "Group by column '{}' not found in table '{}'",
                    group.column, table.name
                ),
                format!("group_by[{i}].column"),
                suggest(&group.column, column_names(table)),
            );
        }
    }

    if let Some(ts) = &def.time_series {
        match def.table(&ts.table_id) {
            None => out.push(
                ValidationCode::InvalidTimeSeries,
                format!("Time series table_id '{}' not found", ts.table_id),
                "time_series.table_id".to_owned(),
                None,
            ),
            Some(query_table) => {
                if let Some(table) = schema.table(&query_table.name) {
                    match table.column(&ts.date_column) {
                        None => out.push(
                            ValidationCode::InvalidTimeSeries,
                            format!(
                                "Date column '{}' not found in table '{}'",
                                ts.date_column, table.name
                            ),
                            "time_series.date_column".to_owned(),
                            suggest(&ts.date_column, column_names(table)),
                        ),
                        Some(column) if !column.is_temporal() => out.push(
                            ValidationCode::InvalidTimeSeries,
                            format!(
                                "Column '{}' is not a date/timestamp type (found: {})",
                                ts.date_column, column.data_type
                            ),
                            "time_series.date_column".to_owned(),
                            Some(
                                "Use a column with date, timestamp, or timestamptz type".to_owned(),
                            ),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
    }

    if let Some(i) = def
        .joins
        .iter()
        .position(|j| j.from_table_id == j.to_table_id)
    {
        out.push(
            ValidationCode::CircularJoin,
            "Join references the same table on both sides".to_owned(),
            format!("joins[{i}]"),
            Some("A join should connect two different tables".to_owned()),
        );
    }

    ValidationResult {
        valid: out.errors.is_empty(),
        errors: out.errors,
    }
}

fn is_number(value: &Value) -> bool {
    matches!(value, Value::Number(_) | Value::Bool(_))
}

/// The type check of a filter value, if it fails.
fn type_mismatch(
    operator: FilterOperator,
    value: &Value,
    column: &str,
    numeric: bool,
    temporal: bool,
    data_type: &str,
) -> Option<String> {
    use FilterOperator as Op;
    if operator.is_relative_date() && !temporal {
        return Some(format!(
            "Operator '{operator}' requires a date or timestamp column, but '{column}' is of \
             type '{data_type}'"
        ));
    }
    if value.is_null() {
        return None;
    }
    match (operator, value) {
        (Op::In | Op::NotIn, v) if !v.is_array() => {
            return Some(format!(
                "Operator '{operator}' requires a list value for column '{column}'"
            ));
        }
        (Op::Between, Value::Array(items)) if items.len() == 2 => {}
        (Op::Between, _) => {
            return Some(format!(
                "Operator 'between' requires a list/tuple of exactly 2 values for column \
                 '{column}'"
            ));
        }
        _ => {}
    }
    if numeric && !matches!(operator, Op::IsNull | Op::IsNotNull) {
        let failed = match (operator, value) {
            (Op::In | Op::NotIn | Op::InOrNull, Value::Array(items)) => items
                .iter()
                .any(|v| !v.is_null() && !is_number(v))
                .then_some(" in list"),
            (Op::Between, Value::Array(items)) => {
                items.iter().any(|v| !is_number(v)).then_some(" in range")
            }
            (_, v) => (!is_number(v) && !v.is_array()).then_some(""),
        };
        if let Some(suffix) = failed {
            return Some(format!(
                "Column '{column}' is numeric but received non-numeric value{suffix}"
            ));
        }
    }
    if temporal && !operator.is_relative_date() && !matches!(operator, Op::IsNull | Op::IsNotNull) {
        let bad = match value {
            Value::Array(items) => items
                .iter()
                .find(|v| !v.is_null() && !parses_as_moment(v, data_type)),
            v if !parses_as_moment(v, data_type)
                && !matches!(operator, Op::Like | Op::Ilike | Op::NotLike | Op::NotIlike) =>
            {
                Some(v)
            }
            _ => None,
        };
        if let Some(bad) = bad {
            let shown = bad.as_str().map_or_else(|| bad.to_string(), str::to_owned);
            return Some(format!(
                "Invalid date value: '{shown}'. Expected ISO format (YYYY-MM-DD or \
                 YYYY-MM-DDTHH:MM:SS)."
            ));
        }
    }
    None
}

/// The definition without the filters that cannot apply: unknown table id or table, or a
/// column that is neither a calculated field nor a column of the table. Dashboard filters
/// are merged into every widget's query, so some naturally do not fit.
pub fn sanitize_filters(def: &QueryDefinition, schema: &DatabaseSchema) -> QueryDefinition {
    let mut sanitized = def.clone();
    sanitized.filters.retain(|filter| {
        def.calculated_field(&filter.column).is_some()
            || def
                .table(&filter.table_id)
                .and_then(|t| schema.table(&t.name))
                .is_some_and(|t| t.column(&filter.column).is_some())
    });
    sanitized
}
