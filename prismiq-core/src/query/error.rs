//! [`QueryError`]: why a query definition could not be validated or compiled, and
//! [`ValidationError`]: one problem that validation found.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a query could not be turned into SQL.
///
/// Every variant but [`QueryError::RowFilter`] is the caller's to fix (HTTP 400), and its
/// message says how. [`QueryError::RowFilter`] is a server misconfiguration (HTTP 500): the
/// query is refused rather than run without the host's row restrictions.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The definition does not match the schema; one message per problem.
    #[error("Query validation failed: {}", join_messages(.0))]
    Validation(Vec<ValidationError>),
    /// The definition cannot be compiled as written (the message names the problem).
    #[error("{0}")]
    Invalid(String),
    /// A calculated field's expression does not parse or refers to something unknown.
    #[error("{0}")]
    Expression(String),
    /// A feature that is never compiled (such as `in_subquery`).
    #[error("{0}")]
    Unsupported(String),
    /// A host row filter names a column the table does not have; the query is refused.
    #[error("Row filter on table '{table}' names column '{column}', which the table does not have")]
    RowFilter {
        /// The restricted table.
        table: String,
        /// The missing column.
        column: String,
    },
}

impl QueryError {
    /// Whether the failure is the caller's to fix (a 4xx), as opposed to a server
    /// misconfiguration.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Self::RowFilter { .. })
    }
}

fn join_messages(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// What kind of problem a [`ValidationError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationCode {
    /// A table is not in the schema (or is hidden).
    TableNotFound,
    /// A column is not in its table (or is hidden).
    ColumnNotFound,
    /// A join column is not in its table.
    InvalidJoin,
    /// A filter value does not fit the operator or the column's type.
    TypeMismatch,
    /// An aggregation does not fit the column's type.
    InvalidAggregation,
    /// Reserved by the wire contract; not emitted.
    EmptyQuery,
    /// A join connects a table to itself.
    CircularJoin,
    /// Two tables of the query share an id, or the name or alias that qualifies their columns.
    AmbiguousColumn,
    /// The time-series column is missing or not a date.
    InvalidTimeSeries,
}

impl ValidationCode {
    /// The wire name (`TABLE_NOT_FOUND`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TableNotFound => "TABLE_NOT_FOUND",
            Self::ColumnNotFound => "COLUMN_NOT_FOUND",
            Self::InvalidJoin => "INVALID_JOIN",
            Self::TypeMismatch => "TYPE_MISMATCH",
            Self::InvalidAggregation => "INVALID_AGGREGATION",
            Self::EmptyQuery => "EMPTY_QUERY",
            Self::CircularJoin => "CIRCULAR_JOIN",
            Self::AmbiguousColumn => "AMBIGUOUS_COLUMN",
            Self::InvalidTimeSeries => "INVALID_TIME_SERIES",
        }
    }
}

impl fmt::Display for ValidationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by [`validate`](super::validate()).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationError {
    /// What kind of problem.
    pub code: ValidationCode,
    /// What is wrong, for people.
    pub message: String,
    /// Where: `tables[0].name`, `columns[2].column`, `filters[1].value`, `joins[0]`, …
    pub field: Option<String>,
    /// How to fix it (`Did you mean 'orders'?`), if known.
    pub suggestion: Option<String>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
