//! [`QueryError`]: why a query definition could not be validated or compiled.

use super::validate::ValidationError;

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
