//! Custom SQL mode: caller-written SQL, validated and rewritten before it may run (no I/O).
//!
//! [`validate_sql`] answers `POST /query/validate-sql`; [`prepare_sql`] turns the SQL of
//! `POST /query/execute-sql` into a [`CompiledQuery`] that is safe to hand to a
//! [`DataSource`](crate::DataSource).
//!
//! # What is accepted
//!
//! Exactly one read-only query, parsed as PostgreSQL: `SELECT`, `VALUES`, set operations
//! (`UNION`, `INTERSECT`, `EXCEPT`), subqueries, `LATERAL`, window functions and common table
//! expressions (`WITH`, `WITH RECURSIVE`). A CTE name is not a table: it is visible in the body
//! of its `WITH` and in the CTEs declared after it (in every CTE of a `WITH RECURSIVE`), exactly
//! as PostgreSQL scopes it, so a CTE may even shadow a real table name.
//!
//! # What is rejected
//!
//! Every rejection is a message that names the problem:
//! - a statement longer than [`SqlPolicy::max_sql_bytes`] (64 KiB by default), or holding
//!   the NUL character, before it is parsed;
//! - empty SQL, parse errors, more than one statement;
//! - any statement other than a query (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, DDL, `COPY`,
//!   `SET`, `EXPLAIN`, `CALL`, `GRANT`, …), at the top level or nested (a data-modifying CTE);
//! - `SELECT … INTO`, locking clauses (`FOR UPDATE`, `FOR SHARE`, …), `TABLE name`;
//! - tables outside the policy's exposed set (compared case-insensitively). System catalogs
//!   and prismiq's own tables are never exposed;
//! - a schema qualifier other than the caller's schema (on tables and functions; functions may
//!   also be qualified with `pg_catalog`);
//! - functions in `FROM` other than a fixed set of set-returning functions (`generate_series`,
//!   `unnest`, the `json`/`jsonb` expansion functions, `regexp_matches`, …) and the host's
//!   [`SqlPolicy::allowed_functions`];
//! - system columns (`xmin`, `xmax`, `cmin`, `cmax`, `ctid`, `tableoid`), which reveal
//!   transaction ids and row locations;
//! - casts to object-identifier types (`'other.orders'::regclass`, `regproc`, `regrole`, …),
//!   which look objects up in the system catalogs;
//! - any function, anywhere in the statement and whatever its quoting or schema, that is not
//!   on the built-in allow-list (aggregates, window functions, mathematics, strings, dates and
//!   times, conditionals, casts and formatting, JSON, arrays, ranges, full-text search, UUIDs,
//!   set-returning functions) nor in [`SqlPolicy::allowed_functions`]. Left out are functions
//!   that run SQL given as text, act outside the result (sleeping, files, large objects,
//!   settings, sequences, locks, notifications, `dblink`) or reveal server state (`version()`,
//!   `txid_current()`, `pg_backend_pid()`, `inet_server_addr()`, `current_setting`,
//!   `current_user`, `pg_stat_*`, `pg_*_size`, …);
//! - positional placeholders (`$1`) and PostgreSQL unicode-escape identifiers (`U&"…"`), which
//!   the parser would read differently from the server.
//!
//! # How a statement is rewritten
//!
//! [`prepare_sql`] works on the syntax tree, never on the text, and renders the result:
//! 1. **Dashboard filters** are ANDed into the outer query's `WHERE`; an existing condition is
//!    parenthesised first. A set operation (or any other outer query that is not a plain
//!    `SELECT`) is wrapped as `SELECT * FROM (<query>) AS _q WHERE …`, with its `ORDER BY`,
//!    `LIMIT`, `OFFSET` and `FETCH` moved to the wrapper so that they apply after filtering.
//! 2. **Tables** are qualified with the caller's schema, by the exposed spelling of their name.
//! 3. **Row filters**: a table with predicates in [`SqlPolicy::row_filters`] is replaced, at every
//!    reference, by `(SELECT * FROM "schema"."table" WHERE <predicates>) AS <alias>`, so joins,
//!    subqueries, CTE bodies, set-operation branches and lateral subqueries all see only the
//!    permitted rows.
//! 4. **Named parameters** `:name` become `$k`, numbered by first appearance and reused when
//!    the name repeats. `x IN (:list)` with a JSON array expands to one parameter per element.
//!    `::type` casts and string literals are untouched.
//! 5. **Row cap**: the statement becomes `SELECT * FROM (<query>) AS _prismiq LIMIT <max_rows + 1>`
//!    (PostgreSQL accepts a `WITH` inside a derived table).
//!
//! ```
//! use prismiq_core::custom_sql::{SqlPolicy, prepare_sql, validate_sql};
//!
//! let policy = SqlPolicy::new("acme", ["orders"]).with_max_rows(100);
//!
//! let check = validate_sql("SELECT * FROM orders; DROP TABLE orders", &policy);
//! assert_eq!(check.errors, ["Only single statements are allowed"]);
//!
//! let mut params = serde_json::Map::new();
//! params.insert("status".into(), "paid".into());
//! let query = prepare_sql(
//!     "SELECT id FROM orders WHERE status = :status",
//!     &params,
//!     &[],
//!     &[],
//!     &policy,
//! )?;
//! assert_eq!(
//!     query.sql,
//!     r#"SELECT * FROM (SELECT id FROM "acme"."orders" WHERE status = $1) AS _prismiq LIMIT 101"#
//! );
//! # Ok::<(), prismiq_core::custom_sql::SqlError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Dialect;
use crate::model::{DashboardFilter, FilterValue};
use crate::row_filter::RowPredicate;
use crate::source::CompiledQuery;

mod check;
mod filters;
mod functions;
mod params;
mod parse;
mod rewrite;
mod scope;
#[cfg(test)]
mod tests;

/// What custom SQL may touch, for one caller.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlPolicy {
    /// The caller's PostgreSQL schema: every table is read from it, and it is the only schema
    /// a statement may name.
    pub schema_name: String,
    /// The tables the caller may read (compared case-insensitively).
    pub exposed_tables: BTreeSet<String>,
    /// Row-level predicates per table name (compared case-insensitively), ANDed into every
    /// reference to that table.
    pub row_filters: BTreeMap<String, Vec<RowPredicate>>,
    /// At most this many rows are wanted; the statement returns at most one more, so the
    /// caller can tell that the result was truncated.
    pub max_rows: usize,
    /// The day date presets (`last_7_days`, …) are resolved against.
    pub today: NaiveDate,
    /// Functions the host allows on top of the built-in allow-list (compared
    /// case-insensitively, without schema or quotes), in expressions and in `FROM`.
    pub allowed_functions: BTreeSet<String>,
    /// The longest statement, in bytes, that is parsed at all.
    pub max_sql_bytes: usize,
    /// The dialect the statement is parsed, checked and rendered in.
    pub dialect: Dialect,
}

impl SqlPolicy {
    /// The default row cap.
    pub const DEFAULT_MAX_ROWS: usize = 10_000;

    /// The default size limit: 64 KiB.
    pub const DEFAULT_MAX_SQL_BYTES: usize = 64 * 1024;

    /// A policy reading `exposed_tables` in `schema_name`, with no row filters, the default
    /// row cap and size limit, only the built-in functions and today's date (UTC).
    pub fn new<T: Into<String>>(
        schema_name: impl Into<String>,
        exposed_tables: impl IntoIterator<Item = T>,
    ) -> Self {
        Self {
            schema_name: schema_name.into(),
            exposed_tables: exposed_tables.into_iter().map(Into::into).collect(),
            row_filters: BTreeMap::new(),
            max_rows: Self::DEFAULT_MAX_ROWS,
            today: chrono::Utc::now().date_naive(),
            allowed_functions: BTreeSet::new(),
            max_sql_bytes: Self::DEFAULT_MAX_SQL_BYTES,
            dialect: Dialect::Postgres,
        }
    }

    /// Parses, checks and renders statements in `dialect` (PostgreSQL by default).
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Adds row-level predicates for `table` (to any already given for it).
    pub fn with_row_filter(
        mut self,
        table: impl Into<String>,
        predicates: impl IntoIterator<Item = RowPredicate>,
    ) -> Self {
        self.row_filters
            .entry(table.into())
            .or_default()
            .extend(predicates);
        self
    }

    /// Replaces all row-level predicates.
    pub fn with_row_filters(mut self, row_filters: BTreeMap<String, Vec<RowPredicate>>) -> Self {
        self.row_filters = row_filters;
        self
    }

    /// Sets the row cap.
    pub fn with_max_rows(mut self, max_rows: usize) -> Self {
        self.max_rows = max_rows;
        self
    }

    /// Sets the day date presets are resolved against.
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = today;
        self
    }

    /// Allows functions beyond the built-in allow-list (to any already allowed), such as the
    /// host's own functions in the caller's schema. They are then allowed in `FROM` too.
    pub fn with_allowed_functions<T: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = T>,
    ) -> Self {
        self.allowed_functions
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Sets the size limit: longer statements are refused before they are parsed.
    pub fn with_max_sql_bytes(mut self, max_sql_bytes: usize) -> Self {
        self.max_sql_bytes = max_sql_bytes;
        self
    }

    /// The one schema qualifier a statement may write: the caller's schema on PostgreSQL,
    /// `main` (the caller's own database file) on SQLite.
    fn qualifier(&self) -> &str {
        if self.dialect.has_schemas() {
            &self.schema_name
        } else {
            "main"
        }
    }

    /// Whether the host allowed a function (its unqualified name) beyond the built-ins.
    fn allows_function(&self, name: &str) -> bool {
        self.allowed_functions
            .iter()
            .any(|allowed| eq_ignore_case(allowed, name))
    }

    /// The exposed spelling of a table name, when the caller may read it. An exact match
    /// wins over a case-insensitive one.
    fn exposed_table(&self, name: &str, exact: &str) -> Option<&str> {
        if let Some(found) = self.exposed_tables.get(exact) {
            return Some(found);
        }
        self.exposed_tables
            .iter()
            .find(|table| eq_ignore_case(table, name))
            .map(String::as_str)
    }

    /// The row predicates of an exposed table: those of every key naming it, so that keys
    /// differing only in case all apply.
    fn row_predicates<'p>(&'p self, table: &'p str) -> impl Iterator<Item = &'p RowPredicate> {
        self.row_filters
            .iter()
            .filter(move |(name, _)| eq_ignore_case(name, table))
            .flat_map(|(_, predicates)| predicates)
    }
}

/// The outcome of [`validate_sql`], in the wire shape of `POST /query/validate-sql`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SqlValidation {
    /// Whether the statement may run.
    pub valid: bool,
    /// Why it may not, one message per problem.
    pub errors: Vec<String>,
    /// The real tables the statement reads, as written (without a schema), sorted and
    /// de-duplicated. CTE names and table functions are not included.
    pub tables: Vec<String>,
}

/// Custom SQL that may not run, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SQL validation failed: {}", .errors.join("; "))]
pub struct SqlError {
    /// One message per problem.
    pub errors: Vec<String>,
}

impl SqlError {
    fn new(errors: Vec<String>) -> Self {
        Self { errors }
    }
}

/// Checks that `sql` is one read-only query over the caller's exposed tables (see the
/// [module documentation](self) for the rules).
pub fn validate_sql(sql: &str, policy: &SqlPolicy) -> SqlValidation {
    if let Err(error) = check_size(sql, policy.max_sql_bytes).and_then(|()| check_characters(sql)) {
        return SqlValidation {
            valid: false,
            errors: vec![error],
            tables: Vec::new(),
        };
    }
    match parse::parse_query(sql, policy.dialect) {
        Ok(query) => {
            let report = check::check(&query, policy);
            SqlValidation {
                valid: report.errors.is_empty(),
                errors: report.errors,
                tables: report.tables,
            }
        }
        Err(error) => SqlValidation {
            valid: false,
            errors: vec![error],
            tables: Vec::new(),
        },
    }
}

/// Validates `sql`, then rewrites it into the statement that actually runs: dashboard
/// filters injected, tables schema-qualified and row-filtered, `:name` parameters bound from
/// `params`, and the row cap applied (see the [module documentation](self)).
///
/// Dashboard filters follow the raw-SQL rules of the reference: a filter applies only when
/// `values` holds a non-empty value for it (its `default_value` is not used); a filter with a
/// `table` goes to the one outer `FROM` item that reads that table and exposes the column, and is
/// skipped when there is none or more than one; a filter without a `table` names the column
/// unqualified. Date ranges accept `{start, end}`, a preset name or `{preset}`; a date-only end
/// includes the whole day (`col < end + 1 day`).
///
/// # Errors
///
/// Every validation error, or `Missing parameter: <name>` for each `:name` not in `params`.
pub fn prepare_sql(
    sql: &str,
    params: &serde_json::Map<String, Value>,
    filters: &[DashboardFilter],
    values: &[FilterValue],
    policy: &SqlPolicy,
) -> Result<CompiledQuery, SqlError> {
    prepare(sql, params, filters, values, policy).map(|prepared| prepared.statement)
}

/// A statement ready to run and the tables it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSql {
    /// What [`prepare_sql`] returns.
    pub statement: CompiledQuery,
    /// The real tables the caller's SQL reads, as in [`SqlValidation::tables`].
    pub tables: Vec<String>,
}

/// [`prepare_sql`], also returning the tables read (for cache invalidation by table), from the
/// same single parse and check.
///
/// # Errors
///
/// As [`prepare_sql`].
pub fn prepare(
    sql: &str,
    params: &serde_json::Map<String, Value>,
    filters: &[DashboardFilter],
    values: &[FilterValue],
    policy: &SqlPolicy,
) -> Result<PreparedSql, SqlError> {
    check_size(sql, policy.max_sql_bytes)
        .and_then(|()| check_characters(sql))
        .map_err(|error| SqlError::new(vec![error]))?;
    let mut query =
        parse::parse_query(sql, policy.dialect).map_err(|error| SqlError::new(vec![error]))?;
    let report = check::check(&query, policy);
    if !report.errors.is_empty() {
        return Err(SqlError::new(report.errors));
    }

    let mut binder = params::Binder::new(params);
    filters::inject(
        &mut query,
        filters,
        values,
        policy.today,
        policy.dialect,
        &mut binder,
    );
    rewrite::qualify_and_filter(&mut query, policy, &mut binder);
    let mut query = rewrite::cap_rows(query, policy.max_rows);
    let values = binder.number(&mut query).map_err(SqlError::new)?;

    Ok(PreparedSql {
        statement: CompiledQuery {
            sql: query.to_string(),
            values,
        },
        tables: report.tables,
    })
}

/// Refuses a statement longer than `max_sql_bytes`, before any parsing, naming the limit.
pub(crate) fn check_size(sql: &str, max_sql_bytes: usize) -> Result<(), String> {
    if sql.len() > max_sql_bytes {
        return Err(format!(
            "SQL statement is {} bytes long; the limit is {max_sql_bytes} (max_sql_bytes)",
            sql.len()
        ));
    }
    Ok(())
}

/// Refuses a statement holding U+0000: PostgreSQL's protocol ends statement text at it, so
/// what would run is not what was checked.
fn check_characters(sql: &str) -> Result<(), String> {
    if sql.contains('\0') {
        return Err("SQL must not contain the NUL character (\\u0000)".to_owned());
    }
    Ok(())
}

/// Case-insensitive comparison of names (Unicode lower case).
fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}
