//! [`SqliteDataSource`]: introspection and read-only execution of analytics queries on SQLite
//! database files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::TryStreamExt;
use prismiq_core::{
    ColumnSchema, CompiledQuery, DataSource, DatabaseSchema, Dialect, ExecutionContext,
    QueryResult, Relationship, RowStream, SourceError, TableSchema,
};
use sea_query::{OptionEnum, Value};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteColumn, SqliteConnectOptions, SqliteConnection, SqlitePool,
    SqlitePoolOptions, SqliteRow,
};
use sqlx::{AssertSqlSafe, Column, Executor, Row, SqlSafeStr, Sqlite, Statement, TypeInfo};

use crate::decode::{self, Declared, Storage};
use crate::{DEFAULT_BUSY_TIMEOUT, SqliteStoreError};

/// The schema names that mean the one database file of a single-file source.
const SINGLE_FILE_SCHEMAS: [&str; 2] = ["public", "main"];

/// The table in which [`SqliteStore::migrate`](crate::SqliteStore::migrate) records prismiq's
/// migrations: where it exists, the store's tables live in the same file.
const STORE_MIGRATIONS_TABLE: &str = "_prismiq_migrations";

/// The tables of prismiq's SQLite store (`sql/sqlite`).
const STORE_TABLES: [&str; 10] = [
    "dashboards",
    "widgets",
    "saved_queries",
    "pins",
    "schema_configs",
    "dashboard_defaults",
    "starter_dashboards",
    "templates",
    "shares",
    "dashboard_versions",
];

/// How long after its timeout a statement may take to stop before the caller stops waiting.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// SQLite virtual-machine steps between two checks of the deadline and the cancel flag: a few
/// microseconds of work, so a statement stops promptly, for a check that costs a clock read.
const PROGRESS_STEPS: i32 = 1_000;

/// Connections each tenant file's pool may open, unless the host says otherwise.
const DEFAULT_MAX_CONNECTIONS_PER_FILE: u32 = 4;

/// How long an idle connection to a tenant file stays open (each one is a thread).
const TENANT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// SQLite databases as a [`DataSource`]: introspects them and runs compiled queries read-only,
/// under the statement timeout and the row cap. It speaks [`Dialect::Sqlite`].
///
/// # Where the data is
///
/// - **One file for everyone** ([`open`](Self::open), [`new`](Self::new)): the schema names
///   `public` and `main` both mean that file; any other schema does not exist (introspection is
///   empty, [`execute`](DataSource::execute) is [`SourceError::Rejected`]).
/// - **A file per tenant** ([`per_tenant_directory`](Self::per_tenant_directory)): schema
///   `acme` is the file `<dir>/acme.db`. Only names of 1 to 63 ASCII letters, digits, `_` and
///   `-` are looked up, so no name reaches outside the directory; a file that does not exist is
///   a schema that does not exist, and no file is ever created. Each file gets a pool of its
///   own, opened on first use and kept.
///
/// # Read-only
///
/// Connections open the file read-only ([`options`](Self::options): `SQLITE_OPEN_READONLY`,
/// `query_only`), and only one `SELECT`, `WITH` or `VALUES` statement runs per call: a write,
/// `ATTACH`, `PRAGMA` or a second statement is [`SourceError::Rejected`]. Extension loading
/// stays off. `LIKE` is case-sensitive (`case_sensitive_like`), as on PostgreSQL, which the
/// query compiler relies on. SQLite has no row-level security: the tenant id of the
/// [`ExecutionContext`] is not used; a host that needs it keeps each tenant in its own file.
///
/// # Limits
///
/// A statement is interrupted when `context.timeout` has passed (through SQLite's progress
/// handler, which checks every thousand virtual-machine steps) and the call returns
/// [`SourceError::Timeout`]; should SQLite not get to a check (a long wait for a lock), the
/// caller stops waiting two seconds later all the same. Dropping the future of
/// [`execute`](DataSource::execute) interrupts the statement the same way before the connection
/// goes back to the pool. At most `context.max_rows + 1` rows are read; the result says
/// whether there were more (`truncated`).
///
/// # Results
///
/// Values convert by storage class, and by the column's declared type where it says more:
///
/// | Stored | JSON |
/// |---|---|
/// | `INTEGER` | a number; `true`/`false` in a column declared `BOOLEAN` |
/// | `REAL` | a number (`null` when not finite) |
/// | `TEXT` | a string; parsed JSON in a column declared `JSON`/`JSONB` (a string if it does not parse); in a column declared `DATE`, `DATETIME` or `TIMESTAMP`, `YYYY-MM-DD HH:MM:SS[.fff]` becomes ISO-8601 `2024-01-05T10:00:00` (fraction only when not zero; a bare date in a timestamp column gets `T00:00:00`) |
/// | `BLOB` | lowercase hex |
/// | `NULL` | `null` |
///
/// `column_types` holds sqlx's name of each column's type, lowercased: `integer`, `real`,
/// `text`, `blob`, `boolean`, `date`, `time` or `datetime`, from the declared type where sqlx
/// knows it. For an expression, or a declared type outside that list (`DECIMAL(10,2)`, `JSON`),
/// it is the storage class of the first non-null value in the column, and `null` when the
/// column has none.
///
/// # Introspection
///
/// [`introspect`](DataSource::introspect) lists the base tables and views of the file, by
/// name, without SQLite's own tables (`sqlite_…`) nor prismiq's: tables named `prismiq_…` or
/// `_prismiq_…`, and, in a file that holds the store (it has `_prismiq_migrations`), the
/// store's tables (`dashboards`, `widgets`, `saved_queries`, `pins`, `schema_configs`), even
/// when [`with_exposed_tables`](Self::with_exposed_tables) names them. A column's `data_type`
/// is its declared type lowercased (`integer`, `varchar(100)`, `decimal(10,2)`), or `blob`
/// when it has none (SQLite gives such columns BLOB affinity, that is, none). Primary keys,
/// foreign keys between listed tables (a reference without columns means the parent's primary
/// key) and defaults come from the `pragma_table_xinfo` and `pragma_foreign_key_list`
/// functions. A table's `row_count` is the estimate `ANALYZE` left in `sqlite_stat1`, and
/// `count(*)` where there is none; a view has none.
///
/// ```no_run
/// use std::sync::Arc;
/// use prismiq_core::{Engine, MemoryStore};
/// use prismiq_store_sqlite::SqliteDataSource;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let source = SqliteDataSource::open("analytics.db")
///     .await?
///     .with_exposed_tables(["orders", "customers"]);
/// let engine = Engine::new(MemoryStore::new()).with_data_source(Arc::new(source));
/// # let _ = engine;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteDataSource {
    files: Files,
    exposed_tables: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone)]
enum Files {
    Single(SqlitePool),
    PerTenant(Arc<TenantFiles>),
}

/// The files of a per-tenant directory, with a pool for each file used so far.
#[derive(Debug)]
struct TenantFiles {
    dir: PathBuf,
    max_connections: u32,
    pools: Mutex<HashMap<String, SqlitePool>>,
}

impl SqliteDataSource {
    /// The connection settings of the source for the database file at `path`: opened
    /// read-only, never created, `query_only` and `case_sensitive_like` on, the store's busy
    /// timeout ([`DEFAULT_BUSY_TIMEOUT`]).
    ///
    /// A host that builds its own pool for [`new`](Self::new) starts from these.
    pub fn options(path: impl AsRef<Path>) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .pragma("query_only", "ON")
            // The query compiler relies on LIKE being case-sensitive, as on PostgreSQL.
            .pragma("case_sensitive_like", "ON")
            .busy_timeout(DEFAULT_BUSY_TIMEOUT)
    }

    /// A source over the host's pool on one database file, which every tenant reads.
    ///
    /// The pool's connections should come from [`options`](Self::options): read-only
    /// connections are what keeps writes out, and the query compiler relies on
    /// `case_sensitive_like`.
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            files: Files::Single(pool),
            exposed_tables: None,
        }
    }

    /// Opens a pool of its own on the database file at `path` with [`options`](Self::options),
    /// which every tenant reads.
    ///
    /// # Errors
    ///
    /// If the file does not exist (it is never created) or cannot be opened; the error
    /// [`is_unavailable`](SqliteStoreError::is_unavailable).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SqliteStoreError> {
        let pool = SqlitePoolOptions::new()
            .connect_with(Self::options(path))
            .await?;
        Ok(Self::new(pool))
    }

    /// A source with a database file per tenant in `dir`: schema `acme` is `<dir>/acme.db`.
    ///
    /// Nothing is opened yet: each file gets a pool when first used (at most 4 connections,
    /// see [`with_max_connections_per_file`](Self::with_max_connections_per_file), closed after
    /// a minute idle).
    pub fn per_tenant_directory(dir: impl Into<PathBuf>) -> Self {
        Self {
            files: Files::PerTenant(Arc::new(TenantFiles {
                dir: dir.into(),
                max_connections: DEFAULT_MAX_CONNECTIONS_PER_FILE,
                pools: Mutex::new(HashMap::new()),
            })),
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

    /// How many connections the pool of each tenant file may open (default 4; at least 1).
    /// A source on one file ([`open`](Self::open), [`new`](Self::new)) is not affected: its
    /// pool is sized where it is built.
    pub fn with_max_connections_per_file(mut self, max_connections: u32) -> Self {
        if let Files::PerTenant(files) = &self.files {
            self.files = Files::PerTenant(Arc::new(TenantFiles {
                dir: files.dir.clone(),
                max_connections: max_connections.max(1),
                pools: Mutex::new(HashMap::new()),
            }));
        }
        self
    }

    fn exposed(&self, table: &str) -> bool {
        self.exposed_tables
            .as_ref()
            .is_none_or(|tables| tables.contains(table))
    }

    /// The pool of the file `schema` names, if there is such a file.
    fn pool(&self, schema: &str) -> Option<SqlitePool> {
        match &self.files {
            Files::Single(pool) => SINGLE_FILE_SCHEMAS.contains(&schema).then(|| pool.clone()),
            Files::PerTenant(files) => files.pool(schema),
        }
    }
}

impl TenantFiles {
    /// The file of `schema`, if the name is one that may name a file.
    fn path(&self, schema: &str) -> Option<PathBuf> {
        let valid = (1..=63).contains(&schema.len())
            && schema
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        valid.then(|| self.dir.join(format!("{schema}.db")))
    }

    fn exists(&self, schema: &str) -> bool {
        // A stat: quick enough not to leave the async task for it.
        self.path(schema)
            .is_some_and(|path| std::fs::metadata(path).is_ok_and(|meta| meta.is_file()))
    }

    fn pool(&self, schema: &str) -> Option<SqlitePool> {
        let path = self.path(schema)?;
        if let Some(pool) = self.pools().get(schema) {
            return Some(pool.clone());
        }
        if !self.exists(schema) {
            return None;
        }
        let pool = self
            .pools()
            .entry(schema.to_owned())
            .or_insert_with(|| {
                SqlitePoolOptions::new()
                    .max_connections(self.max_connections)
                    .min_connections(0)
                    .idle_timeout(Some(TENANT_IDLE_TIMEOUT))
                    .connect_lazy_with(SqliteDataSource::options(path))
            })
            .clone();
        Some(pool)
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, HashMap<String, SqlitePool>> {
        // The map is consistent after every operation on it, so a panic elsewhere leaves it
        // usable.
        self.pools.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

// SQLite's primary result codes (the low byte of an extended code).
const SQLITE_ERROR: i64 = 1;
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_READONLY: i64 = 8;
const SQLITE_INTERRUPT: i64 = 9;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_TOOBIG: i64 = 18;
const SQLITE_CONSTRAINT: i64 = 19;
const SQLITE_MISMATCH: i64 = 20;
const SQLITE_AUTH: i64 = 23;
const SQLITE_RANGE: i64 = 25;

/// The extended result code of a database error.
fn result_code(err: &sqlx::Error) -> Option<i64> {
    match err {
        sqlx::Error::Database(db) => db.code().and_then(|code| code.parse().ok()),
        _ => None,
    }
}

/// The one place where sqlx errors become [`SourceError`]s: a statement SQLite refused (no
/// such table or column, syntax, a write on the read-only connection, not authorized) is
/// `Rejected` with SQLite's message; a file that cannot be opened, read or locked, or a pool
/// that gives no connection, is `Unavailable`; anything else is `Backend`.
fn source_error(err: sqlx::Error) -> SourceError {
    match &err {
        sqlx::Error::Database(db) => {
            let code = result_code(&err).unwrap_or_default();
            match code & 0xff {
                // Plain SQLITE_READONLY is a write attempt; its extended codes (cannot lock,
                // cannot set up the WAL index, …) are a file SQLite cannot read right now.
                SQLITE_READONLY if code == SQLITE_READONLY => {
                    SourceError::Rejected(db.message().to_owned())
                }
                SQLITE_ERROR | SQLITE_TOOBIG | SQLITE_CONSTRAINT | SQLITE_MISMATCH
                | SQLITE_AUTH | SQLITE_RANGE => SourceError::Rejected(db.message().to_owned()),
                SQLITE_BUSY | SQLITE_LOCKED | SQLITE_READONLY | SQLITE_IOERR | SQLITE_FULL
                | SQLITE_CANTOPEN => SourceError::Unavailable(Box::new(err)),
                _ => SourceError::Backend(Box::new(err)),
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => SourceError::Unavailable(Box::new(err)),
        _ => SourceError::Backend(Box::new(err)),
    }
}

fn unknown_schema(schema: &str) -> SourceError {
    SourceError::Rejected(format!("unknown schema \"{schema}\""))
}

#[async_trait]
impl DataSource for SqliteDataSource {
    async fn introspect(&self, schema: &str) -> Result<DatabaseSchema, SourceError> {
        let Some(pool) = self.pool(schema) else {
            return Ok(DatabaseSchema::default());
        };
        let mut conn = pool.acquire().await.map_err(source_error)?;
        introspect(&mut conn, schema, |table| self.exposed(table)).await
    }

    async fn schema_exists(&self, schema: &str) -> Result<bool, SourceError> {
        Ok(match &self.files {
            Files::Single(_) => SINGLE_FILE_SCHEMAS.contains(&schema),
            Files::PerTenant(files) => files.exists(schema),
        })
    }

    async fn execute(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<QueryResult, SourceError> {
        let Some(pool) = self.pool(&context.schema) else {
            return Err(unknown_schema(&context.schema));
        };
        single_read_statement(&query.sql).map_err(SourceError::Rejected)?;
        let statement = compiled(query)?;
        run(&pool, context, statement, &query.sql).await
    }

    async fn stream(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<RowStream, SourceError> {
        let Some(pool) = self.pool(&context.schema) else {
            return Err(unknown_schema(&context.schema));
        };
        single_read_statement(&query.sql).map_err(SourceError::Rejected)?;
        let statement = compiled(query)?;
        stream(pool, context, statement, query.sql.clone()).await
    }

    async fn ping(&self) -> Result<(), SourceError> {
        match &self.files {
            Files::Single(pool) => sqlx::query("select 1")
                .execute(pool)
                .await
                .map(drop)
                .map_err(source_error),
            Files::PerTenant(files) => std::fs::read_dir(&files.dir)
                .map(drop)
                .map_err(|err| SourceError::Unavailable(Box::new(err))),
        }
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// Whether a table is prismiq's own: never listed, whatever the exposed tables say.
fn is_prismiq_table(name: &str, holds_store: bool) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("prismiq_")
        || name.starts_with("_prismiq_")
        || (holds_store && STORE_TABLES.contains(&name.as_str()))
}

/// `name` as a quoted SQLite identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A column as `pragma_table_xinfo` describes it.
type ColumnInfo = (String, String, i64, Option<String>, i64);

/// A foreign-key column pair as `pragma_foreign_key_list` describes it.
type ForeignKeyInfo = (i64, i64, String, String, Option<String>);

async fn introspect(
    conn: &mut SqliteConnection,
    schema: &str,
    exposed: impl Fn(&str) -> bool,
) -> Result<DatabaseSchema, SourceError> {
    // (name, "table" | "view", without rowid)
    let mut listed: Vec<(String, String, bool)> = sqlx::query_as(
        "select name, type, wr from pragma_table_list \
         where schema = 'main' and type in ('table', 'view')",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(source_error)?;
    listed.sort();
    let holds_store = listed
        .iter()
        .any(|(name, _, _)| name == STORE_MIGRATIONS_TABLE);
    let has_stats = listed.iter().any(|(name, _, _)| name == "sqlite_stat1");
    listed.retain(|(name, _, _)| {
        !name.to_ascii_lowercase().starts_with("sqlite_")
            && !is_prismiq_table(name, holds_store)
            && exposed(name)
    });

    let estimates: BTreeMap<String, i64> = if has_stats {
        row_estimates(conn).await?
    } else {
        BTreeMap::new()
    };

    let mut tables = Vec::with_capacity(listed.len());
    let mut primary_keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for (name, kind, without_rowid) in &listed {
        let columns: Vec<ColumnInfo> = match sqlx::query_as(
            "select name, type, \"notnull\", dflt_value, pk from pragma_table_xinfo(?1, 'main') \
             where hidden in (0, 2, 3) order by cid",
        )
        .bind(name)
        .fetch_all(&mut *conn)
        .await
        {
            Ok(columns) => columns,
            // A view whose definition no longer compiles (its table was dropped) cannot be
            // queried either: leave it out rather than fail the whole schema.
            Err(err) if kind == "view" && source_error_is_rejected(&err) => {
                tracing::warn!(view = %name, error = %err, "skipping a view that does not compile");
                continue;
            }
            Err(err) => return Err(source_error(err)),
        };
        let key_columns = columns.iter().filter(|c| c.4 > 0).count();
        let mut keys: Vec<(i64, String)> = Vec::new();
        let columns = columns
            .into_iter()
            .map(|(column, declared, not_null, default_value, pk)| {
                if pk > 0 {
                    keys.push((pk, column.clone()));
                }
                let declared = declared.trim().to_ascii_lowercase();
                // A single INTEGER PRIMARY KEY is the rowid, never NULL; so is every key
                // column of a WITHOUT ROWID table.
                let rowid = pk > 0 && key_columns == 1 && declared == "integer";
                let is_primary_key = pk > 0;
                ColumnSchema {
                    name: column,
                    data_type: if declared.is_empty() {
                        "blob".to_owned()
                    } else {
                        declared
                    },
                    is_nullable: not_null == 0 && !(is_primary_key && (*without_rowid || rowid)),
                    is_primary_key,
                    default_value,
                }
            })
            .collect();
        keys.sort();
        primary_keys.insert(name.clone(), keys);
        let row_count = if kind == "view" {
            None
        } else if let Some(estimate) = estimates.get(name) {
            Some(*estimate)
        } else {
            Some(count_rows(conn, name).await?)
        };
        tables.push(TableSchema {
            name: name.clone(),
            schema_name: schema.to_owned(),
            columns,
            row_count,
        });
    }

    // SQLite compares table names case-insensitively: a reference may spell the parent its own
    // way.
    let by_lowercase: BTreeMap<String, &str> = tables
        .iter()
        .map(|t| (t.name.to_ascii_lowercase(), t.name.as_str()))
        .collect();
    let mut relationships = Vec::new();
    for table in &tables {
        let foreign: Vec<ForeignKeyInfo> = sqlx::query_as(
            "select id, seq, \"table\", \"from\", \"to\" from pragma_foreign_key_list(?1, 'main') \
             order by id, seq",
        )
        .bind(&table.name)
        .fetch_all(&mut *conn)
        .await
        .map_err(source_error)?;
        for (_, seq, parent, from_column, to_column) in foreign {
            let Some(to_table) = by_lowercase.get(&parent.to_ascii_lowercase()) else {
                continue;
            };
            // `references parent` without columns means the parent's primary key.
            let to_column = to_column.or_else(|| {
                let keys = primary_keys.get(*to_table)?;
                keys.get(usize::try_from(seq).ok()?).map(|(_, c)| c.clone())
            });
            let Some(to_column) = to_column else { continue };
            relationships.push(Relationship {
                from_table: table.name.clone(),
                from_column,
                to_table: (*to_table).to_owned(),
                to_column,
            });
        }
    }
    relationships.sort_by(|a, b| {
        (&a.from_table, &a.from_column, &a.to_table, &a.to_column).cmp(&(
            &b.from_table,
            &b.from_column,
            &b.to_table,
            &b.to_column,
        ))
    });
    Ok(DatabaseSchema {
        tables,
        relationships,
    })
}

fn source_error_is_rejected(err: &sqlx::Error) -> bool {
    result_code(err).is_some_and(|code| code & 0xff == SQLITE_ERROR)
}

/// The row counts `ANALYZE` recorded: the first number of each `sqlite_stat1` row is the
/// number of rows of its table.
async fn row_estimates(conn: &mut SqliteConnection) -> Result<BTreeMap<String, i64>, SourceError> {
    let stats: Vec<(String, Option<String>)> = sqlx::query_as("select tbl, stat from sqlite_stat1")
        .fetch_all(&mut *conn)
        .await
        .map_err(source_error)?;
    let mut estimates = BTreeMap::new();
    for (table, stat) in stats {
        let Some(rows) = stat
            .as_deref()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        let estimate = estimates.entry(table).or_insert(rows);
        *estimate = (*estimate).max(rows);
    }
    Ok(estimates)
}

/// `count(*)` of a table: the one statement built from a name, quoted.
async fn count_rows(conn: &mut SqliteConnection, table: &str) -> Result<i64, SourceError> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from {}",
        quoted(table)
    )))
    .fetch_one(&mut *conn)
    .await
    .map_err(source_error)
}

/// Checks that `sql` is one `SELECT`, `WITH` or `VALUES` statement.
///
/// sqlx runs every statement of a text, and a read-only connection still runs `ATTACH` (which
/// would open another file, another tenant's among them) and `PRAGMA`: so only one statement
/// of the kinds that read gets through. A `WITH` that writes fails on the read-only
/// connection.
fn single_read_statement(sql: &str) -> Result<(), String> {
    let statement = skip_trivia(sql);
    let keyword_len = statement
        .bytes()
        .take_while(u8::is_ascii_alphabetic)
        .count();
    let keyword = &statement[..keyword_len];
    if !["select", "with", "values"]
        .iter()
        .any(|k| keyword.eq_ignore_ascii_case(k))
    {
        let mut message = "only SELECT, WITH or VALUES statements can run".to_owned();
        if !keyword.is_empty() {
            message.push_str(&format!(", not {}", keyword.to_ascii_uppercase()));
        }
        return Err(message);
    }
    let rest = &statement[statement_end(statement)..];
    if !skip_trivia(rest).is_empty() {
        return Err("only single statements can run".to_owned());
    }
    Ok(())
}

/// `sql` without leading white space, comments and semicolons.
fn skip_trivia(mut sql: &str) -> &str {
    loop {
        let trimmed = sql.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        sql = if let Some(comment) = trimmed.strip_prefix("--") {
            comment.find('\n').map_or("", |end| &comment[end..])
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            comment.find("*/").map_or("", |end| &comment[end + 2..])
        } else {
            return trimmed;
        };
    }
}

/// The byte offset of the first semicolon of `sql` outside literals, quoted identifiers and
/// comments (SQLite's only statement separator), or its length.
fn statement_end(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b';' => return i,
            quote @ (b'\'' | b'"' | b'`' | b'[') => {
                let close = if quote == b'[' { b']' } else { quote };
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return bytes.len(),
                        // A doubled quote is one quote character (not in brackets).
                        Some(&b) if b == close && quote != b'[' && bytes.get(i + 1) == Some(&b) => {
                            i += 2;
                        }
                        Some(&b) if b == close => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => match sql[i..].find('\n') {
                Some(end) => i += end,
                None => return bytes.len(),
            },
            b'/' if bytes.get(i + 1) == Some(&b'*') => match sql[i + 2..].find("*/") {
                Some(end) => i += end + 3,
                None => return bytes.len(),
            },
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

type SqliteQuery = Query<'static, Sqlite, SqliteArguments>;

/// A compiled analytics query with its values bound: the SQL comes from the query compiler or
/// the custom-SQL checker, every value is a parameter (`?` or `?NNN`).
fn compiled(query: &CompiledQuery) -> Result<SqliteQuery, SourceError> {
    query
        .values
        .iter()
        .try_fold(sqlx::query(AssertSqlSafe(query.sql.clone())), bind)
}

/// SQLite's own text form of a timestamp (`datetime()`'s, with a fraction when there is one),
/// so that bound timestamps compare with stored ones as text.
const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Binds one value as SQLite stores it: booleans as 0/1, unsigned and signed integers as
/// integers, floats as reals, dates and times as SQLite's text forms (timestamps with a zone
/// converted to UTC), JSON as its text, UUIDs hyphenated, NULLs as NULL.
// The wildcard arm below covers what another crate's features add (see there).
#[allow(clippy::match_wildcard_for_single_variants)]
fn bind(statement: SqliteQuery, value: &Value) -> Result<SqliteQuery, SourceError> {
    Ok(match value {
        Value::Bool(v) => statement.bind(v.map(i64::from)),
        Value::TinyInt(v) => statement.bind(v.map(i64::from)),
        Value::SmallInt(v) => statement.bind(v.map(i64::from)),
        Value::Int(v) => statement.bind(v.map(i64::from)),
        Value::BigInt(v) => statement.bind(*v),
        Value::TinyUnsigned(v) => statement.bind(v.map(i64::from)),
        Value::SmallUnsigned(v) => statement.bind(v.map(i64::from)),
        Value::Unsigned(v) => statement.bind(v.map(i64::from)),
        Value::BigUnsigned(v) => {
            let v = v
                .map(i64::try_from)
                .transpose()
                .map_err(|_| SourceError::Rejected("integer parameter out of range".to_owned()))?;
            statement.bind(v)
        }
        Value::Float(v) => statement.bind(v.map(f64::from)),
        Value::Double(v) => statement.bind(*v),
        Value::String(v) => statement.bind(v.clone()),
        Value::Char(v) => statement.bind(v.map(String::from)),
        Value::Enum(e) => statement.bind(match e {
            OptionEnum::Some(e) => Some(e.value.to_string()),
            OptionEnum::None(_) => None,
        }),
        Value::Bytes(v) => statement.bind(v.clone()),
        Value::Json(v) => statement.bind(v.as_ref().map(|json| json.to_string())),
        Value::ChronoDate(v) => statement.bind(v.map(|d| d.format("%Y-%m-%d").to_string())),
        Value::ChronoTime(v) => statement.bind(v.map(|t| t.format("%H:%M:%S%.f").to_string())),
        Value::ChronoDateTime(v) => {
            statement.bind(v.map(|t| t.format(DATETIME_FORMAT).to_string()))
        }
        Value::ChronoDateTimeUtc(v) => {
            statement.bind(v.map(|t| t.naive_utc().format(DATETIME_FORMAT).to_string()))
        }
        Value::ChronoDateTimeLocal(v) => {
            statement.bind(v.map(|t| t.naive_utc().format(DATETIME_FORMAT).to_string()))
        }
        Value::ChronoDateTimeWithTimeZone(v) => {
            statement.bind(v.map(|t| t.naive_utc().format(DATETIME_FORMAT).to_string()))
        }
        Value::Uuid(v) => statement.bind(v.map(|u| u.hyphenated().to_string())),
        // Arrays and the like exist only when another crate of the build turns on sea-query's
        // PostgreSQL features; no SQLite statement takes them.
        #[allow(unreachable_patterns)]
        _ => {
            return Err(SourceError::Rejected(
                "a parameter of a type SQLite has no value for".to_owned(),
            ));
        }
    })
}

async fn run(
    pool: &SqlitePool,
    context: &ExecutionContext,
    statement: SqliteQuery,
    sql: &str,
) -> Result<QueryResult, SourceError> {
    let conn = pool.acquire().await.map_err(source_error)?;
    let started = Instant::now();
    let deadline = started + context.timeout;
    // From here the statement may run long: if the caller goes away (the request is dropped),
    // `running` interrupts it before the connection is reused.
    let mut running = Running::start(conn, deadline).await.map_err(source_error)?;
    let outcome = {
        let fetch = fetch(running.connection(), statement, sql, context.max_rows);
        tokio::pin!(fetch);
        let grace = tokio::time::sleep(context.timeout + CANCEL_GRACE);
        tokio::pin!(grace);
        tokio::select! {
            biased;
            outcome = &mut fetch => Some(outcome),
            () = &mut grace => None,
        }
    };
    let elapsed = started.elapsed();
    let (columns, column_types, rows) = match outcome {
        // SQLite did not get to a check of the deadline: `running` interrupts the statement
        // when it does, without the caller waiting for it.
        None => return Err(SourceError::Timeout(context.timeout)),
        Some(Ok(fetched)) => {
            running.finish().await;
            fetched
        }
        Some(Err(err)) => {
            running.finish().await;
            let interrupted = result_code(&err).is_some_and(|code| code & 0xff == SQLITE_INTERRUPT);
            if interrupted && Instant::now() >= deadline {
                return Err(SourceError::Timeout(context.timeout));
            }
            return Err(source_error(err));
        }
    };
    Ok(QueryResult::capped(
        columns,
        column_types,
        rows,
        context.max_rows,
        elapsed,
    ))
}

/// Rows a streamed statement hands over at a time.
const STREAM_BATCH: usize = 512;

/// Batches a streamed statement may have ready before the consumer takes them; the statement
/// is not stepped further until it does.
const STREAM_AHEAD: usize = 2;

type Batch = Result<Vec<Vec<serde_json::Value>>, SourceError>;
type Header = Result<(Vec<String>, Vec<String>), SourceError>;

/// Streams a statement: a task steps it, a batch at a time, only as fast as the consumer takes
/// the batches. The columns' types come from the first batch (SQLite types values, not
/// columns), so it is read before the stream is handed over.
async fn stream(
    pool: SqlitePool,
    context: &ExecutionContext,
    statement: SqliteQuery,
    sql: String,
) -> Result<RowStream, SourceError> {
    let conn = pool.acquire().await.map_err(source_error)?;
    let deadline = Instant::now() + context.timeout;
    let running = Running::start(conn, deadline).await.map_err(source_error)?;
    let (header_sender, header) = tokio::sync::oneshot::channel::<Header>();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Batch>(STREAM_AHEAD);
    let steps = Steps {
        sql,
        max_rows: context.max_rows.saturating_add(1),
        timeout: context.timeout,
        deadline,
    };
    tokio::spawn(steps.send_rows(running, statement, header_sender, sender));
    let (columns, column_types) = header
        .await
        .map_err(|_| SourceError::Backend("the statement's task ended early".into()))??;
    let batches = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|batch| (batch, receiver))
    });
    Ok(RowStream {
        columns,
        column_types,
        batches: Box::pin(batches),
    })
}

/// What the task of a streamed statement needs besides the statement.
struct Steps {
    sql: String,
    max_rows: usize,
    timeout: Duration,
    deadline: Instant,
}

impl Steps {
    /// Sends the columns, then the rows in batches, at most `max_rows`. When the consumer goes
    /// away or the statement has more rows than asked for, `running` is dropped mid-statement
    /// and interrupts it.
    async fn send_rows(
        self,
        mut running: Running,
        statement: SqliteQuery,
        header: tokio::sync::oneshot::Sender<Header>,
        sender: tokio::sync::mpsc::Sender<Batch>,
    ) {
        let mut header = Some(header);
        let read = async {
            // The prepared statement names the columns and where they come from, so their
            // declared types are looked up before the statement steps (it then keeps the
            // connection busy); the prepared statement is cached for the fetch.
            let prepared: Vec<SqliteColumn> = running
                .connection()
                .prepare(AssertSqlSafe(self.sql.clone()).into_sql_str())
                .await?
                .columns()
                .to_vec();
            let declared = declared_types(running.connection(), &prepared, None).await;
            let first_size = STREAM_BATCH.min(self.max_rows);
            let mut rows = statement.fetch(running.connection());
            let mut first: Vec<SqliteRow> = Vec::with_capacity(first_size);
            let mut end = false;
            while first.len() < first_size {
                match rows.try_next().await? {
                    Some(row) => first.push(row),
                    None => {
                        end = true;
                        break;
                    }
                }
            }
            let columns = first.first().map_or(&prepared[..], |row| row.columns());
            let names: Vec<String> = columns.iter().map(|c| c.name().to_owned()).collect();
            let types: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| decode::type_name(c.type_info(), &first, i))
                .collect();
            let decode_batch = |batch: &mut Vec<SqliteRow>| -> Vec<Vec<serde_json::Value>> {
                batch
                    .drain(..)
                    .map(|row| {
                        declared
                            .iter()
                            .enumerate()
                            .map(|(i, declared)| decode::cell(&row, i, *declared))
                            .collect()
                    })
                    .collect()
            };
            if let Some(header) = header.take()
                && header.send(Ok((names, types))).is_err()
            {
                return Ok(false);
            }
            let mut count = first.len();
            let mut batch = first;
            loop {
                let values = decode_batch(&mut batch);
                if !values.is_empty() && sender.send(Ok(values)).await.is_err() {
                    return Ok(false);
                }
                if end {
                    return Ok(true);
                }
                if count >= self.max_rows {
                    // Nobody wants more: the statement is interrupted.
                    return Ok(false);
                }
                while batch.len() < STREAM_BATCH && count < self.max_rows {
                    match rows.try_next().await? {
                        Some(row) => {
                            batch.push(row);
                            count += 1;
                        }
                        None => {
                            end = true;
                            break;
                        }
                    }
                }
            }
        };
        // The consumer going away is noticed at once, also while the statement has no row
        // ready: the read is dropped, and `running` with it.
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(self.timeout + CANCEL_GRACE, read) => outcome,
            () = sender.closed() => return,
        };
        let err = match outcome {
            Ok(Ok(_)) => {
                running.finish().await;
                return;
            }
            Ok(Err(err)) => {
                running.finish().await;
                let interrupted =
                    result_code(&err).is_some_and(|code| code & 0xff == SQLITE_INTERRUPT);
                if interrupted && Instant::now() >= self.deadline {
                    SourceError::Timeout(self.timeout)
                } else {
                    source_error(err)
                }
            }
            Err(_) => SourceError::Timeout(self.timeout),
        };
        match header.take() {
            Some(header) => {
                let _ = header.send(Err(err));
            }
            None => {
                let _ = sender.send(Err(err)).await;
            }
        }
    }
}

/// A connection whose progress handler interrupts its statement at the deadline, or as soon as
/// `stop` is set.
///
/// [`finish`](Self::finish) removes the handler before the connection goes back to the pool.
/// Dropped before that (the caller went away mid-statement, or stopped waiting), it sets `stop`
/// and hands the connection to a task that waits for the interrupted statement to end, removes
/// the handler, then releases the connection.
struct Running {
    conn: Option<PoolConnection<Sqlite>>,
    stop: Arc<AtomicBool>,
}

impl Running {
    async fn start(
        mut conn: PoolConnection<Sqlite>,
        deadline: Instant,
    ) -> Result<Self, sqlx::Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        conn.lock_handle()
            .await?
            .set_progress_handler(PROGRESS_STEPS, move || {
                !flag.load(Ordering::Relaxed) && Instant::now() < deadline
            });
        Ok(Self {
            conn: Some(conn),
            stop,
        })
    }

    fn connection(&mut self) -> &mut SqliteConnection {
        self.conn.as_mut().expect("present until finished")
    }

    /// Interrupts whatever still runs (the rest of a statement whose rows were not all read),
    /// then removes the handler, so the connection goes back to the pool as it came.
    async fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(conn) = self.conn.take() {
            release(conn).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(release(conn));
            }
            // Nothing can wait for the statement: the connection is closed, not reused with
            // the handler still set.
            Err(_) => conn.close_on_drop(),
        }
    }
}

/// Removes the progress handler (once the worker is done with the statement) and returns the
/// connection to the pool; a connection whose worker is gone is closed instead.
async fn release(mut conn: PoolConnection<Sqlite>) {
    let removed = match conn.lock_handle().await {
        Ok(mut handle) => {
            handle.remove_progress_handler();
            true
        }
        Err(_) => false,
    };
    if !removed {
        conn.close_on_drop();
    }
}

type Fetched = (Vec<String>, Vec<String>, Vec<Vec<serde_json::Value>>);

/// Fetches at most `max_rows + 1` rows, with the column names and types (also when there are no
/// rows), and converts them.
async fn fetch(
    conn: &mut SqliteConnection,
    statement: SqliteQuery,
    sql: &str,
    max_rows: usize,
) -> Result<Fetched, sqlx::Error> {
    let mut rows: Vec<SqliteRow> = Vec::new();
    {
        let mut stream = statement.fetch(&mut *conn);
        while let Some(row) = stream.try_next().await? {
            rows.push(row);
            if rows.len() > max_rows {
                break;
            }
        }
    }
    let columns: Vec<SqliteColumn> = match rows.first() {
        Some(row) => row.columns().to_vec(),
        None => {
            // No row to read the columns from: the prepared statement knows them (it is in the
            // connection's statement cache already).
            let prepared = (&mut *conn)
                .prepare(AssertSqlSafe(sql.to_owned()).into_sql_str())
                .await?;
            prepared.columns().to_vec()
        }
    };
    let declared = declared_types(conn, &columns, Some(&rows)).await;
    let names = columns.iter().map(|c| c.name().to_owned()).collect();
    let types = columns
        .iter()
        .enumerate()
        .map(|(i, c)| decode::type_name(c.type_info(), &rows, i))
        .collect();
    let values = rows
        .iter()
        .map(|row| {
            declared
                .iter()
                .enumerate()
                .map(|(i, declared)| decode::cell(row, i, *declared))
                .collect()
        })
        .collect();
    Ok((names, types, values))
}

/// What each column's declared type says about its values.
///
/// sqlx reads `BOOLEAN`, `DATE` and `DATETIME`/`TIMESTAMP` from the declared type itself; other
/// declared types (`JSON` among them) it does not keep. For a column that holds text, comes
/// straight from a table and has such a type, the table's declared types are looked up, once
/// per table. A lookup that fails leaves the column's text as text.
///
/// With no `rows` (before any is read), every such column is looked up.
async fn declared_types(
    conn: &mut SqliteConnection,
    columns: &[SqliteColumn],
    rows: Option<&[SqliteRow]>,
) -> Vec<Declared> {
    let mut declared: Vec<Declared> = columns
        .iter()
        .map(|c| Declared::of_sqlx(c.type_info()))
        .collect();
    let mut tables: HashMap<String, HashMap<String, String>> = HashMap::new();
    for (i, column) in columns.iter().enumerate() {
        if !column.type_info().is_null() {
            continue;
        }
        let origin = column.origin();
        let Some(origin) = origin.table_column() else {
            continue;
        };
        if let Some(rows) = rows
            && !rows.iter().any(|row| Storage::of(row, i) == Storage::Text)
        {
            continue;
        }
        if !tables.contains_key(&*origin.table) {
            let types: Vec<(String, String)> =
                sqlx::query_as("select name, type from pragma_table_xinfo(?1, 'main')")
                    .bind(&*origin.table)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap_or_default();
            tables.insert(origin.table.to_string(), types.into_iter().collect());
        }
        if let Some(declared_type) = tables
            .get(&*origin.table)
            .and_then(|types| types.get(&*origin.name))
        {
            declared[i] = Declared::of_declared_type(declared_type);
        }
    }
    declared
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_reading_statement_runs() {
        for sql in [
            "select 1",
            "  SELECT 1;",
            "-- a comment\n/* another */ with x as (select 1) select * from x",
            "values (1), (2);;  -- done",
            "select ';' as \"a;b\", [c;d], `e;f` from t -- ; drop table t",
            "select 'it''s; fine' /* ; */",
        ] {
            assert_eq!(single_read_statement(sql), Ok(()), "{sql}");
        }
        for sql in [
            "insert into t values (1)",
            "attach database 'x.db' as x",
            "pragma query_only = off",
            "/* select */ detach x",
            "select 1; attach database 'x.db' as x",
            "select 'a'';' ; delete from t",
            "select 1; -- fine\n select 2",
            "",
            "   ",
            "(select 1)",
        ] {
            assert!(single_read_statement(sql).is_err(), "{sql}");
        }
    }

    #[test]
    fn tenant_files_are_plain_names_in_the_directory() {
        let files = TenantFiles {
            dir: PathBuf::from("/data"),
            max_connections: 1,
            pools: Mutex::new(HashMap::new()),
        };
        assert_eq!(files.path("acme"), Some(PathBuf::from("/data/acme.db")));
        assert_eq!(files.path("A-b_9"), Some(PathBuf::from("/data/A-b_9.db")));
        assert!(files.path(&"x".repeat(63)).is_some());
        for name in [
            "",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a.b",
            "é",
            "a b",
            &"x".repeat(64),
        ] {
            assert_eq!(files.path(name), None, "{name}");
        }
    }

    #[test]
    fn prismiq_tables_are_recognised() {
        assert!(is_prismiq_table("_prismiq_migrations", false));
        assert!(is_prismiq_table("prismiq_cache", false));
        assert!(is_prismiq_table("Dashboards", true));
        assert!(!is_prismiq_table("dashboards", false));
        assert!(!is_prismiq_table("orders", true));
    }
}
