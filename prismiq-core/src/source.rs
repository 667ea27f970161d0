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

/// The rows of a statement as the database sends them, in batches: the columns are known
/// before the first row, and the rows come as the consumer asks for them, so that a result of
/// any size passes through in the memory of a few batches.
///
/// Dropping the stream before its end stops the statement on the database.
pub struct RowStream {
    /// Column names, as in [`QueryResult::columns`].
    pub columns: Vec<String>,
    /// Column types, as in [`QueryResult::column_types`].
    pub column_types: Vec<String>,
    /// The rows, a batch at a time, each cell as in [`QueryResult::rows`].
    pub batches: futures_util::stream::BoxStream<'static, Result<Vec<Vec<Value>>, SourceError>>,
}

impl RowStream {
    /// A stream of a result already held whole: one batch of its rows.
    pub fn from_result(result: QueryResult) -> Self {
        let rows = result.rows;
        let batches: Vec<Result<Vec<Vec<Value>>, SourceError>> = if rows.is_empty() {
            Vec::new()
        } else {
            vec![Ok(rows)]
        };
        Self {
            columns: result.columns,
            column_types: result.column_types,
            batches: Box::pin(futures_util::stream::iter(batches)),
        }
    }
}

impl Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("columns", &self.columns)
            .field("column_types", &self.column_types)
            .finish_non_exhaustive()
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

    /// Runs a read-only statement under `context` like [`execute`](Self::execute), but hands
    /// the rows over as they come instead of collecting them: at most `context.max_rows + 1`
    /// rows (the one more says more exist), within `context.timeout` for the whole stream.
    /// Dropping the stream stops the statement on the database.
    ///
    /// The default collects the result with [`execute`](Self::execute) and hands it over
    /// whole; a source that can stream (a server-side cursor, a stepped statement) should.
    async fn stream(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<RowStream, SourceError> {
        let mut context = context.clone();
        context.max_rows = context.max_rows.saturating_add(1);
        Ok(RowStream::from_result(self.execute(&context, query).await?))
    }

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), SourceError>;

    /// The SQL dialect the source speaks: structured queries are compiled to it and custom SQL
    /// is parsed and checked by its rules.
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}
