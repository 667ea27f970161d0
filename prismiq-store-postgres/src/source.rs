//! [`PgDataSource`]: introspection and read-only execution of analytics queries.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::TryStreamExt;
use prismiq_core::{
    ColumnSchema, CompiledQuery, DataSource, DatabaseSchema, ExecutionContext, QueryResult,
    Relationship, RowStream, SourceError, TableSchema,
};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Column, Executor, Row, SqlSafeStr, Statement};

use crate::decode;
use crate::error::unreachable_database;
use crate::sql::compiled;

/// Schemas that never hold analytics data: prismiq's own tables and the system catalogs.
const RESERVED_SCHEMAS: [&str; 4] = ["prismiq", "pg_catalog", "information_schema", "pg_toast"];

/// How long after its timeout a statement may take to be cancelled before the client gives up.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// The host's PostgreSQL as a [`DataSource`]: introspects schemas and runs compiled queries
/// read-only, under a statement timeout, with the tenant's schema as `search_path` and the
/// tenant as the transaction-local setting `prismiq.tenant_id`.
///
/// ```no_run
/// use std::sync::Arc;
/// use prismiq_core::{Engine, MemoryStore};
/// use prismiq_store_postgres::PgDataSource;
/// # async fn run(pool: prismiq_store_postgres::sqlx::PgPool) {
/// let source = PgDataSource::new(pool).with_exposed_tables(["orders", "customers"]);
/// let engine = Engine::new(MemoryStore::new()).with_data_source(Arc::new(source));
/// # let _ = engine;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PgDataSource {
    pool: PgPool,
    exposed_tables: Option<BTreeSet<String>>,
}

impl PgDataSource {
    /// A data source over the host's pool. Every base table and view of a schema is exposed.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            exposed_tables: None,
        }
    }

    /// Exposes only these tables and views (by exact name) to queries.
    pub fn with_exposed_tables<I, T>(mut self, tables: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.exposed_tables = Some(tables.into_iter().map(Into::into).collect());
        self
    }

    fn exposed(&self, table: &str) -> bool {
        self.exposed_tables
            .as_ref()
            .is_none_or(|tables| tables.contains(table))
    }
}

fn source_error(err: sqlx::Error) -> SourceError {
    match &err {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default().into_owned();
            if code == "57014" {
                // query_canceled: the statement timeout fired.
                SourceError::Rejected(db.message().to_owned())
            } else if unreachable_database(&err) {
                SourceError::Unavailable(Box::new(err))
            } else if code.starts_with("42")
                || code.starts_with("22")
                || code.starts_with("23")
                || code == "25006"
            {
                SourceError::Rejected(db.message().to_owned())
            } else {
                SourceError::Backend(Box::new(err))
            }
        }
        _ if unreachable_database(&err) => SourceError::Unavailable(Box::new(err)),
        _ => SourceError::Backend(Box::new(err)),
    }
}

fn is_timeout(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("57014"))
}

/// `name` as a quoted identifier, for the `search_path` setting.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[async_trait]
impl DataSource for PgDataSource {
    async fn introspect(&self, schema: &str) -> Result<DatabaseSchema, SourceError> {
        if RESERVED_SCHEMAS.contains(&schema) {
            return Ok(DatabaseSchema::default());
        }
        let tables: Vec<(String, String)> = sqlx::query_as(
            "select table_name::text, table_type::text from information_schema.tables \
             where table_schema = $1 and table_type in ('BASE TABLE', 'VIEW') \
             order by table_name",
        )
        .bind(schema)
        .fetch_all(&self.pool)
        .await
        .map_err(source_error)?;
        let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "select table_name::text, column_name::text, data_type::text, is_nullable::text, \
             column_default::text from information_schema.columns where table_schema = $1 \
             order by table_name, ordinal_position",
        )
        .bind(schema)
        .fetch_all(&self.pool)
        .await
        .map_err(source_error)?;
        let keys: Vec<(String, String)> = sqlx::query_as(
            "select cl.relname::text, a.attname::text from pg_constraint con \
             join pg_class cl on cl.oid = con.conrelid \
             join pg_namespace n on n.oid = cl.relnamespace \
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = any(con.conkey) \
             where con.contype = 'p' and n.nspname = $1",
        )
        .bind(schema)
        .fetch_all(&self.pool)
        .await
        .map_err(source_error)?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "select c.relname::text, greatest(c.reltuples, 0)::bigint from pg_class c \
             join pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = $1 and c.relkind in ('r', 'p')",
        )
        .bind(schema)
        .fetch_all(&self.pool)
        .await
        .map_err(source_error)?;
        let foreign: Vec<(String, String, String, String)> = sqlx::query_as(
            "select cl.relname::text, a.attname::text, rcl.relname::text, ra.attname::text \
             from pg_constraint con \
             join pg_class cl on cl.oid = con.conrelid \
             join pg_namespace n on n.oid = cl.relnamespace \
             join pg_class rcl on rcl.oid = con.confrelid \
             join pg_namespace rn on rn.oid = rcl.relnamespace \
             cross join lateral unnest(con.conkey, con.confkey) as k(col, rcol) \
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.col \
             join pg_attribute ra on ra.attrelid = con.confrelid and ra.attnum = k.rcol \
             where con.contype = 'f' and n.nspname = $1 and rn.nspname = $1 \
             order by 1, 2, 3, 4",
        )
        .bind(schema)
        .fetch_all(&self.pool)
        .await
        .map_err(source_error)?;

        let keys: BTreeSet<(String, String)> = keys.into_iter().collect();
        let counts: BTreeMap<String, i64> = counts.into_iter().collect();
        let mut by_table: BTreeMap<String, Vec<ColumnSchema>> = BTreeMap::new();
        for (table, name, data_type, nullable, default) in columns {
            let is_primary_key = keys.contains(&(table.clone(), name.clone()));
            by_table.entry(table).or_default().push(ColumnSchema {
                name,
                data_type,
                is_nullable: nullable == "YES",
                is_primary_key,
                default_value: default,
            });
        }
        let tables: Vec<TableSchema> = tables
            .into_iter()
            .filter(|(name, _)| self.exposed(name))
            .map(|(name, kind)| TableSchema {
                columns: by_table.remove(&name).unwrap_or_default(),
                row_count: if kind == "VIEW" {
                    None
                } else {
                    counts.get(&name).copied()
                },
                schema_name: schema.to_owned(),
                name,
            })
            .collect();
        let known: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        let relationships = foreign
            .into_iter()
            .filter(|(from, _, to, _)| known.contains(from.as_str()) && known.contains(to.as_str()))
            .map(
                |(from_table, from_column, to_table, to_column)| Relationship {
                    from_table,
                    from_column,
                    to_table,
                    to_column,
                },
            )
            .collect();
        Ok(DatabaseSchema {
            tables,
            relationships,
        })
    }

    async fn schema_exists(&self, schema: &str) -> Result<bool, SourceError> {
        if RESERVED_SCHEMAS.contains(&schema) || schema.starts_with("pg_") {
            return Ok(false);
        }
        sqlx::query_scalar("select exists(select 1 from pg_namespace where nspname = $1)")
            .bind(schema)
            .fetch_one(&self.pool)
            .await
            .map_err(source_error)
    }

    async fn execute(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<QueryResult, SourceError> {
        if RESERVED_SCHEMAS.contains(&context.schema.as_str()) {
            return Err(SourceError::Rejected(format!(
                "schema \"{}\" cannot be queried",
                context.schema
            )));
        }
        let result = run(&self.pool, context, query).await;
        record_pool_gauges(&self.pool);
        result
    }

    async fn stream(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<RowStream, SourceError> {
        if RESERVED_SCHEMAS.contains(&context.schema.as_str()) {
            return Err(SourceError::Rejected(format!(
                "schema \"{}\" cannot be queried",
                context.schema
            )));
        }
        let result = stream(&self.pool, context, query).await;
        record_pool_gauges(&self.pool);
        result
    }

    async fn ping(&self) -> Result<(), SourceError> {
        record_pool_gauges(&self.pool);
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(source_error)
    }
}

/// Opens the read-only transaction a statement runs in under `context` (timeout, schema,
/// tenant), and returns it with its backend's pid.
async fn begin_read(
    pool: &PgPool,
    context: &ExecutionContext,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, i32), SourceError> {
    let mut tx = pool
        .begin_with("begin transaction read only")
        .await
        .map_err(source_error)?;
    let timeout_ms = context.timeout.as_millis().max(1).to_string();
    let pid: i32 = sqlx::query_scalar(
        "select pg_backend_pid() from (select set_config('statement_timeout', $1, true), \
         set_config('search_path', $2, true), set_config('prismiq.tenant_id', $3, true)) s",
    )
    .bind(&timeout_ms)
    .bind(quoted(&context.schema))
    .bind(&context.tenant_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(source_error)?;
    Ok((tx, pid))
}

/// Rows a streamed statement hands over at a time.
const STREAM_BATCH: usize = 512;

/// Batches a streamed statement may have ready before the consumer takes them: the rest wait
/// in the database's send buffer, and the statement waits with them.
const STREAM_AHEAD: usize = 2;

type Batch = Result<Vec<Vec<serde_json::Value>>, SourceError>;

/// Streams a statement: its columns from the prepared statement, then its rows from the
/// portal, read by a task only as fast as the consumer takes them.
async fn stream(
    pool: &PgPool,
    context: &ExecutionContext,
    query: &CompiledQuery,
) -> Result<RowStream, SourceError> {
    let (mut tx, pid) = begin_read(pool, context).await?;
    let statement = (&mut *tx)
        .prepare(sqlx::AssertSqlSafe(query.sql.clone()).into_sql_str())
        .await
        .map_err(source_error)?;
    let (columns, column_types) = describe(statement.columns());
    let running = Running {
        pool: pool.clone(),
        pid,
        tx: Some(tx),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<Batch>(STREAM_AHEAD);
    tokio::spawn(send_rows(
        running,
        query.clone(),
        columns.len(),
        context.max_rows.saturating_add(1),
        context.timeout,
        sender,
    ));
    let batches = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|batch| (batch, receiver))
    });
    Ok(RowStream {
        columns,
        column_types,
        batches: Box::pin(batches),
    })
}

/// Reads the statement's rows into batches and sends them, at most `max_rows`, within
/// `timeout`. When the consumer goes away, or the statement has more rows than asked for, or
/// the time is up, `running` is dropped mid-statement and cancels it on the server.
async fn send_rows(
    mut running: Running,
    query: CompiledQuery,
    width: usize,
    max_rows: usize,
    timeout: Duration,
    sender: tokio::sync::mpsc::Sender<Batch>,
) {
    let read = async {
        let tx = running.tx.as_mut().expect("set by stream");
        let mut rows = compiled(&query).fetch(&mut **tx);
        let mut batch = Vec::with_capacity(STREAM_BATCH);
        let mut count = 0usize;
        while let Some(row) = rows.try_next().await? {
            batch.push((0..width).map(|i| decode::cell(&row, i)).collect());
            count += 1;
            if batch.len() == STREAM_BATCH || count >= max_rows {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(STREAM_BATCH));
                if sender.send(Ok(full)).await.is_err() || count >= max_rows {
                    // Nobody reads on, or nobody wants more: stop the statement.
                    return Ok(false);
                }
            }
        }
        if !batch.is_empty() {
            let _ = sender.send(Ok(batch)).await;
        }
        Ok::<_, sqlx::Error>(true)
    };
    // The consumer going away is noticed at once, also while the statement has no row ready
    // (a long sort): the read is dropped, and `running` with it.
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(timeout + CANCEL_GRACE, read) => outcome,
        () = sender.closed() => return,
    };
    match outcome {
        // The statement ran to its end.
        Ok(Ok(true)) => running.finish(),
        // Stopped early: dropping `running` cancels the rest.
        Ok(Ok(false)) => {}
        Ok(Err(err)) => {
            running.finish();
            let err = if is_timeout(&err) {
                SourceError::Timeout(timeout)
            } else {
                source_error(err)
            };
            let _ = sender.send(Err(err)).await;
        }
        Err(_) => {
            let _ = sender.send(Err(SourceError::Timeout(timeout))).await;
        }
    }
}

async fn run(
    pool: &PgPool,
    context: &ExecutionContext,
    query: &CompiledQuery,
) -> Result<QueryResult, SourceError> {
    let (tx, pid) = begin_read(pool, context).await?;

    // From here the statement may run long: if the caller goes away (the request is dropped),
    // `running` cancels it on the server before the connection is reused.
    let mut running = Running {
        pool: pool.clone(),
        pid,
        tx: Some(tx),
    };
    let started = Instant::now();
    let outcome = {
        let tx = running.tx.as_mut().expect("set above");
        let fetch = fetch(tx, query, context.max_rows);
        tokio::pin!(fetch);
        let deadline = tokio::time::sleep(context.timeout + CANCEL_GRACE);
        tokio::pin!(deadline);
        tokio::select! {
            biased;
            outcome = &mut fetch => Some(outcome),
            () = &mut deadline => {
                // The server did not stop the statement at its timeout.
                cancel(pool, pid).await;
                let _ = fetch.await;
                None
            }
        }
    };
    let elapsed = started.elapsed();
    running.finish();
    let (columns, column_types, rows) = match outcome {
        None => return Err(SourceError::Timeout(context.timeout)),
        Some(Ok(fetched)) => fetched,
        Some(Err(err)) if is_timeout(&err) => return Err(SourceError::Timeout(context.timeout)),
        Some(Err(err)) => return Err(source_error(err)),
    };
    Ok(QueryResult::capped(
        columns,
        column_types,
        rows,
        context.max_rows,
        elapsed,
    ))
}

/// A read-only transaction whose statement may still be running on backend `pid`.
///
/// Dropped before [`finish`](Self::finish) (the caller went away mid-statement), it hands the
/// connection to a task that first cancels the statement, then releases the connection: the
/// cancel cannot reach whatever the connection runs next.
struct Running {
    pool: PgPool,
    pid: i32,
    tx: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl Running {
    /// The statement is over. Nothing to commit: dropping the transaction queues its ROLLBACK,
    /// which sqlx sends with the check the pool runs on every returned connection, before the
    /// connection is reused (as the store's reads do), so the caller does not wait a round trip
    /// for it.
    fn finish(&mut self) {
        drop(self.tx.take());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        // Outside a runtime (it is shutting down) there is nothing to cancel with; the
        // connection goes as sqlx drops it.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pool = self.pool.clone();
            let pid = self.pid;
            runtime.spawn(async move {
                cancel(&pool, pid).await;
                drop(tx);
            });
        }
    }
}

type Fetched = (Vec<String>, Vec<String>, Vec<Vec<serde_json::Value>>);

/// Fetches at most `max_rows + 1` rows, with the column names and types (also when there are no
/// rows).
async fn fetch(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    query: &CompiledQuery,
    max_rows: usize,
) -> Result<Fetched, sqlx::Error> {
    let mut rows: Vec<PgRow> = Vec::new();
    {
        let mut stream = compiled(query).fetch(&mut **tx);
        while let Some(row) = stream.try_next().await? {
            rows.push(row);
            if rows.len() > max_rows {
                break;
            }
        }
    }
    let (columns, column_types) = match rows.first() {
        Some(row) => describe(row.columns()),
        None => {
            // No row to read the columns from: the prepared statement knows them (the
            // connection usually has it in its statement cache already).
            let statement = (&mut **tx)
                .prepare(sqlx::AssertSqlSafe(query.sql.clone()).into_sql_str())
                .await?;
            describe(statement.columns())
        }
    };
    let values = rows
        .iter()
        .map(|row| (0..columns.len()).map(|i| decode::cell(row, i)).collect())
        .collect();
    Ok((columns, column_types, values))
}

fn describe(columns: &[sqlx::postgres::PgColumn]) -> (Vec<String>, Vec<String>) {
    columns
        .iter()
        .map(|c| (c.name().to_owned(), decode::type_name(c.type_info())))
        .unzip()
}

/// Publishes the pool's connection counts as the `prismiq_active_connections` and
/// `prismiq_idle_connections` gauges.
pub(crate) fn record_pool_gauges(pool: &PgPool) {
    let idle = pool.num_idle();
    let size = pool.size() as usize;
    metrics::gauge!("prismiq_active_connections").set(size.saturating_sub(idle) as f64);
    metrics::gauge!("prismiq_idle_connections").set(idle as f64);
}

/// Asks the server to cancel whatever backend `pid` is running.
async fn cancel(pool: &PgPool, pid: i32) {
    if let Err(err) = sqlx::query("select pg_cancel_backend($1)")
        .bind(pid)
        .execute(pool)
        .await
    {
        tracing::warn!(error = %err, pid, "could not cancel an abandoned query");
    }
}
