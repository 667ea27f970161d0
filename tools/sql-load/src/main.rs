//! `sql-load`: the database-only side of `scripts/bench-store.sh` and `scripts/bench-sqlite.sh`
//! as prismiq itself talks to the database, through sqlx and the pool of
//! `PostgresStore::connect` (a `postgres://` URL), of `SqliteStore::connect` (a `sqlite://`
//! URL), or of `SqliteDataSource` (a `sqlite://` URL with `--read-only`).
//!
//! It replays a pgbench script of `tools/store-sql` (one statement per line, `:name`
//! variables) on `-c` tasks for `-d` seconds and prints one line, like `http-load`:
//!
//! ```text
//! requests=21234 errors=0 seconds=10.000 rps=2123.4 mean_ms=3.734 p50_ms=3.512 p99_ms=9.210
//! ```
//!
//! Each run of the script is one request. `BEGIN` opens a transaction from the pool, `COMMIT`
//! commits it, and `ROLLBACK` drops it, as the store ends its reads; every other line is a
//! prepared statement with typed parameters whose rows are fetched and not decoded. Variables
//! are given as `-D name:type=value`, with the types `text`, `int`, `uuid`, `bool`, `uuid[]`
//! (comma-separated) and `jsonb[]` (a JSON array); on SQLite, uuids bind as text and the
//! lists are not available.
//!
//! ```text
//! sql-load -c 8 -d 10 -f tools/store-sql/get_dashboard.sql \
//!     -D tenant:text=acme -D dashboard:uuid=0191… postgres://…/db
//! ```

/// The same allocator as the demo, so that the database-only side is not slowed by one the
/// HTTP side does not use.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use load_tally::Tally;
use prismiq_store_postgres::PostgresStore;
use prismiq_store_postgres::sqlx::postgres::{PgArguments, PgPool};
use prismiq_store_postgres::sqlx::query::Query;
use prismiq_store_postgres::sqlx::{self, AssertSqlSafe, Postgres};
use prismiq_store_sqlite::sqlx::sqlite::{SqliteArguments, SqlitePool, SqlitePoolOptions};
use prismiq_store_sqlite::sqlx::{self as sqlite_sqlx, Sqlite};
use prismiq_store_sqlite::{SqliteDataSource, SqliteStore};
use tokio::time::Instant;
use uuid::Uuid;

const USAGE: &str = "\
usage: sql-load [OPTIONS] -f SCRIPT DATABASE_URL

  -f, --file PATH           the script: one statement per line, :name variables
  -D NAME:TYPE=VALUE        a variable; TYPE is text, int, uuid, bool, uuid[] or jsonb[]
  -c, --connections N       concurrent tasks (8); the pool is PostgresStore::connect's, or
                            SqliteStore::connect's for a sqlite:// URL
      --read-only           on SQLite: the read-only connections of SqliteDataSource
      --first-row           fetch each statement's first row only, as a store reading one
                            object does (fetch_optional rather than fetch_all)
  -d, --duration SECONDS    how long to measure (10)
      --warmup SECONDS      load before measuring, not counted (1)

Prints: requests=N errors=N seconds=S rps=R mean_ms=M p50_ms=P p99_ms=Q";

/// A variable's value, typed as the store binds it.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
    Uuid(Uuid),
    Bool(bool),
    Uuids(Vec<Uuid>),
    Jsons(Vec<serde_json::Value>),
}

impl Value {
    fn parse(kind: &str, raw: &str) -> Result<Self, String> {
        let uuid = |raw: &str| {
            raw.trim()
                .parse::<Uuid>()
                .map_err(|e| format!("bad uuid {raw:?}: {e}"))
        };
        Ok(match kind {
            "text" => Self::Text(raw.to_owned()),
            "int" => Self::Int(raw.parse().map_err(|_| format!("bad int {raw:?}"))?),
            "uuid" => Self::Uuid(uuid(raw)?),
            "bool" => Self::Bool(
                raw.parse()
                    .map_err(|_| format!("bad bool {raw:?} (true or false)"))?,
            ),
            "uuid[]" => Self::Uuids(raw.split(',').map(uuid).collect::<Result<_, _>>()?),
            "jsonb[]" => Self::Jsons(
                serde_json::from_str(raw).map_err(|e| format!("bad JSON array {raw:?}: {e}"))?,
            ),
            _ => return Err(format!("unknown type {kind:?}")),
        })
    }

    fn bind(
        &self,
        query: Query<'static, Postgres, PgArguments>,
    ) -> Query<'static, Postgres, PgArguments> {
        match self {
            Self::Text(value) => query.bind(value.clone()),
            Self::Int(value) => query.bind(*value),
            Self::Uuid(value) => query.bind(*value),
            Self::Bool(value) => query.bind(*value),
            Self::Uuids(value) => query.bind(value.clone()),
            Self::Jsons(value) => query.bind(value.clone()),
        }
    }

    fn bind_sqlite(
        &self,
        query: sqlite_sqlx::query::Query<'static, Sqlite, SqliteArguments>,
    ) -> sqlite_sqlx::query::Query<'static, Sqlite, SqliteArguments> {
        match self {
            Self::Text(value) => query.bind(value.clone()),
            Self::Int(value) => query.bind(*value),
            Self::Uuid(value) => query.bind(value.to_string()),
            Self::Bool(value) => query.bind(*value),
            Self::Uuids(_) | Self::Jsons(_) => query.bind(None::<String>),
        }
    }
}

/// Where the script runs.
#[derive(Debug, Clone)]
enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// One line of the script.
#[derive(Debug)]
enum Step {
    Begin,
    Commit,
    Rollback,
    /// A statement with `$n` parameters and the values they take, in order.
    Statement {
        sql: String,
        params: Vec<Value>,
    },
}

/// `line` with its `:name` variables replaced by `$1`, `$2`, … (`::` casts are left alone).
fn statement(line: &str, vars: &HashMap<String, Value>) -> Result<Step, String> {
    let mut sql = String::with_capacity(line.len());
    let mut names: Vec<String> = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ':' {
            sql.push(c);
            continue;
        }
        match chars.peek() {
            Some(':') => {
                sql.push_str("::");
                chars.next();
            }
            Some(next) if next.is_ascii_alphabetic() || *next == '_' => {
                let mut name = String::new();
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        name.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                let index = match names.iter().position(|n| *n == name) {
                    Some(index) => index,
                    None => {
                        names.push(name);
                        names.len() - 1
                    }
                };
                sql.push_str(&format!("${}", index + 1));
            }
            _ => sql.push(c),
        }
    }
    let params = names
        .iter()
        .map(|name| {
            vars.get(name)
                .cloned()
                .ok_or_else(|| format!("no value for :{name} (give -D {name}:TYPE=VALUE)"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Step::Statement { sql, params })
}

fn parse_script(text: &str, vars: &HashMap<String, Value>) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("--") {
            continue;
        }
        let line = line.strip_suffix(';').unwrap_or(line).trim();
        steps.push(match line.to_ascii_uppercase().as_str() {
            "BEGIN" => Step::Begin,
            "COMMIT" => Step::Commit,
            "ROLLBACK" => Step::Rollback,
            _ => statement(line, vars)?,
        });
    }
    Ok(steps)
}

/// What to run, how hard and for how long.
#[derive(Debug)]
struct Options {
    url: String,
    steps: Vec<Step>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    read_only: bool,
    first_row: bool,
}

fn number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{option} needs a number, got {value:?}"))
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut url = None;
        let mut file = None;
        let mut vars = HashMap::new();
        let mut connections = 8;
        let mut duration: f64 = 10.0;
        let mut warmup: f64 = 1.0;
        let mut read_only = false;
        let mut first_row = false;
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "-f" | "--file" => file = Some(value()?),
                "-D" => {
                    let definition = value()?;
                    let (name, raw) = definition
                        .split_once('=')
                        .ok_or_else(|| format!("-D takes NAME:TYPE=VALUE, got {definition:?}"))?;
                    let (name, kind) = name
                        .split_once(':')
                        .ok_or_else(|| format!("-D takes NAME:TYPE=VALUE, got {definition:?}"))?;
                    vars.insert(name.to_owned(), Value::parse(kind, raw)?);
                }
                "-c" | "--connections" => connections = number(&arg, &value()?)?,
                "-d" | "--duration" => duration = number(&arg, &value()?)?,
                "--warmup" => warmup = number(&arg, &value()?)?,
                "--read-only" => read_only = true,
                "--first-row" => first_row = true,
                "-h" | "--help" => return Err(String::new()),
                _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
                _ if url.is_none() => url = Some(arg),
                _ => return Err(format!("unexpected argument {arg}")),
            }
        }
        let file = file.ok_or("no script given (-f)")?;
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
        if connections == 0 {
            return Err("connections must be at least 1".to_owned());
        }
        if !(duration > 0.0 && duration.is_finite() && warmup >= 0.0 && warmup.is_finite()) {
            return Err("the duration must be positive, the warm-up not negative".to_owned());
        }
        Ok(Self {
            url: url.ok_or("no database URL given")?,
            steps: parse_script(&text, &vars)?,
            connections,
            duration: Duration::from_secs_f64(duration),
            warmup: Duration::from_secs_f64(warmup),
            read_only,
            first_row,
        })
    }
}

/// Runs the script once, as one request.
async fn run_once(pool: &Pool, options: &Options) -> Result<(), String> {
    match pool {
        Pool::Postgres(pool) => run_once_postgres(pool, options)
            .await
            .map_err(|e| e.to_string()),
        Pool::Sqlite(pool) => run_once_sqlite(pool, options)
            .await
            .map_err(|e| e.to_string()),
    }
}

async fn run_once_sqlite(pool: &SqlitePool, options: &Options) -> Result<(), sqlite_sqlx::Error> {
    let steps = &options.steps;
    let mut tx = None;
    for step in steps {
        match step {
            Step::Begin => tx = Some(pool.begin().await?),
            Step::Commit => {
                if let Some(tx) = tx.take() {
                    tx.commit().await?;
                }
            }
            Step::Rollback => {
                if let Some(tx) = tx.take() {
                    tx.rollback().await?;
                }
            }
            Step::Statement { sql, params } => {
                let query = params.iter().fold(
                    sqlite_sqlx::query(sqlite_sqlx::AssertSqlSafe(sql.clone())),
                    |query, value| value.bind_sqlite(query),
                );
                match (tx.as_mut(), options.first_row) {
                    (Some(tx), true) => drop(query.fetch_optional(&mut **tx).await?),
                    (Some(tx), false) => drop(query.fetch_all(&mut **tx).await?),
                    (None, true) => drop(query.fetch_optional(pool).await?),
                    (None, false) => drop(query.fetch_all(pool).await?),
                };
            }
        }
    }
    Ok(())
}

async fn run_once_postgres(pool: &PgPool, options: &Options) -> Result<(), sqlx::Error> {
    let steps = &options.steps;
    let mut tx = None;
    for step in steps {
        match step {
            Step::Begin => tx = Some(pool.begin().await?),
            Step::Commit => {
                if let Some(tx) = tx.take() {
                    tx.commit().await?;
                }
            }
            Step::Rollback => drop(tx.take()),
            Step::Statement { sql, params } => {
                let query = params
                    .iter()
                    .fold(sqlx::query(AssertSqlSafe(sql.clone())), |query, value| {
                        value.bind(query)
                    });
                match (tx.as_mut(), options.first_row) {
                    (Some(tx), true) => drop(query.fetch_optional(&mut **tx).await?),
                    (Some(tx), false) => drop(query.fetch_all(&mut **tx).await?),
                    (None, true) => drop(query.fetch_optional(pool).await?),
                    (None, false) => drop(query.fetch_all(pool).await?),
                };
            }
        }
    }
    Ok(())
}

async fn drive(pool: Pool, options: Arc<Options>, measure_from: Instant, until: Instant) -> Tally {
    let mut tally = Tally::default();
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let Ok(result) = tokio::time::timeout_at(until, run_once(&pool, &options)).await else {
            break;
        };
        match result {
            Ok(()) if started >= measure_from => tally.record(started.elapsed().as_micros()),
            Ok(()) => {}
            Err(error) => tally.error(error),
        }
    }
    tally
}

/// The pool prismiq would use for `options.url`.
async fn connect(options: &Options) -> Result<Pool, String> {
    if !options.url.starts_with("sqlite:") {
        let store = PostgresStore::connect(&options.url)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(Pool::Postgres(store.pool().clone()));
    }
    if !options.read_only {
        let store = SqliteStore::connect(&options.url)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(Pool::Sqlite(store.pool().clone()));
    }
    // The data source's connection settings, on a pool as large as the load.
    let path = SqliteStore::options(&options.url)
        .map_err(|e| e.to_string())?
        .get_filename()
        .to_owned();
    SqlitePoolOptions::new()
        .max_connections(options.connections as u32)
        .connect_with(SqliteDataSource::options(path))
        .await
        .map(Pool::Sqlite)
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => Arc::new(options),
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("sql-load: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let pool = match connect(&options).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("sql-load: cannot connect: {error}");
            return ExitCode::FAILURE;
        }
    };
    let measure_from = Instant::now() + options.warmup;
    let until = measure_from + options.duration;
    let tasks: Vec<_> = (0..options.connections)
        .map(|_| tokio::spawn(drive(pool.clone(), options.clone(), measure_from, until)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        match task.await {
            Ok(one) => tally.merge(one),
            Err(error) => tally.error(format!("a task failed: {error}")),
        }
    }
    match pool {
        Pool::Postgres(pool) => pool.close().await,
        Pool::Sqlite(pool) => pool.close().await,
    }
    tally.report("sql-load", "run", options.duration)
}
