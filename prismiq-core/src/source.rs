//! [`DataSource`]: where analytics queries run, and what they return.

use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Dialect;
use crate::schema::DatabaseSchema;

/// A boxed error from a backend: a store, a data source or a result cache.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A statement ready to run: SQL with `$n` placeholders and its bound values, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledQuery {
    /// The SQL text.
    pub sql: String,
    /// The values of `$1`, `$2`, …
    pub values: sea_query::Values,
}

/// Under which settings a statement runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecutionContext {
    /// The PostgreSQL schema the statement reads (set as the `search_path`).
    pub schema: String,
    /// The caller's tenant, set as a transaction-local setting for row-level policies.
    pub tenant_id: String,
    /// The statement timeout.
    pub timeout: Duration,
    /// At most this many rows are returned; when more exist, the result is `truncated`.
    pub max_rows: usize,
}

impl ExecutionContext {
    /// Read `schema` as tenant `tenant_id`, for at most `timeout`, returning at most `max_rows`.
    pub fn new(
        schema: impl Into<String>,
        tenant_id: impl Into<String>,
        timeout: Duration,
        max_rows: usize,
    ) -> Self {
        Self {
            schema: schema.into(),
            tenant_id: tenant_id.into(),
            timeout,
            max_rows,
        }
    }
}

/// The rows a query returned, in the shape the client renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryResult {
    /// Column names as the database reports them (aliases, or `sum`, `count`, …). Kept even
    /// when there are no rows.
    pub columns: Vec<String>,
    /// PostgreSQL type names of the columns (`int4`, `numeric`, `text`, `timestamptz`, …).
    pub column_types: Vec<String>,
    /// The rows, one JSON value per column: numbers as numbers, dates and timestamps as
    /// ISO-8601 text, json as JSON, uuid as text, bytea as hex, intervals as seconds.
    pub rows: Vec<Vec<Value>>,
    /// `rows.len()`.
    pub row_count: usize,
    /// Whether rows were left out because of the row cap.
    #[serde(default)]
    pub truncated: bool,
    /// Time spent fetching, in milliseconds.
    pub execution_time_ms: f64,
}

impl QueryResult {
    /// The result of a statement that fetched `rows` under a row cap of `max_rows`, having
    /// asked for one row more: more than `max_rows` rows means some were left out, so the
    /// extra one is dropped and the result is `truncated`. `elapsed` is the time spent fetching.
    pub fn capped(
        columns: Vec<String>,
        column_types: Vec<String>,
        mut rows: Vec<Vec<Value>>,
        max_rows: usize,
        elapsed: Duration,
    ) -> Self {
        let truncated = rows.len() > max_rows;
        rows.truncate(max_rows);
        Self {
            row_count: rows.len(),
            columns,
            column_types,
            rows,
            truncated,
            execution_time_ms: elapsed.as_secs_f64() * 1000.0,
        }
    }

    /// An empty result with the given columns.
    pub fn empty(columns: Vec<String>, column_types: Vec<String>) -> Self {
        Self {
            columns,
            column_types,
            rows: Vec::new(),
            row_count: 0,
            truncated: false,
            execution_time_ms: 0.0,
        }
    }
}

/// Why a data source could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The statement ran longer than the timeout and was cancelled.
    #[error("Query exceeded timeout of {} seconds", .0.as_secs_f64())]
    Timeout(Duration),
    /// The database refused the statement (a type mismatch, a missing relation, …); the
    /// message is the database's.
    #[error("{0}")]
    Rejected(String),
    /// The database cannot be reached right now.
    #[error("data source unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other failure.
    #[error("data source failed")]
    Backend(#[source] BoxError),
}

/// A database the analytics queries run against: introspection and execution under limits.
#[async_trait]
pub trait DataSource: Debug + Send + Sync + 'static {
    /// The schema's exposed base tables and views (ordered by name), their columns, primary
    /// keys, foreign keys between exposed tables, and row estimates. Prismiq's own tables are
    /// never included.
    async fn introspect(&self, schema: &str) -> Result<DatabaseSchema, SourceError>;

    /// Whether a PostgreSQL schema of that name exists.
    async fn schema_exists(&self, schema: &str) -> Result<bool, SourceError>;

    /// Runs a read-only statement under `context`: in a read-only transaction, with the
    /// statement timeout, the schema as `search_path` and the tenant as a transaction-local
    /// setting; returns at most `context.max_rows` rows. Dropping the future cancels the
    /// statement.
    async fn execute(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<QueryResult, SourceError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), SourceError>;

    /// The SQL dialect the source speaks: structured queries are compiled to it and custom SQL
    /// is parsed and checked by its rules.
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}
