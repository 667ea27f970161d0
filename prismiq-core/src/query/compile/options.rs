//! How a query is compiled ([`CompileOptions`]) and what compiling gives ([`Compiled`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::Dialect;
use crate::row_filter::RowPredicate;
use crate::source::CompiledQuery;

/// How a query is compiled: tenant schema, fiscal year, the date "today" is, row cap, row
/// filters and dialect.
///
/// ```
/// use prismiq_core::query::CompileOptions;
///
/// let options = CompileOptions::default()
///     .with_schema_name("tenant_42")
///     .with_fiscal_year_start_month(4)
///     .with_max_rows(10_000);
/// assert_eq!(options.max_rows, Some(10_000));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CompileOptions {
    /// Qualify FROM and JOIN tables with this PostgreSQL schema (`"schema"."table"`).
    pub schema_name: Option<String>,
    /// The month (1–12) fiscal years start in, for `date_window` filters. Default 1.
    pub fiscal_year_start_month: u8,
    /// The day relative date filters count from. Default: the local date when the options
    /// were made.
    pub today: NaiveDate,
    /// The row cap: with no `limit`, or a `limit` above it, the query fetches `max_rows + 1`
    /// rows so that truncation can be detected (see [`Compiled::capped`]).
    pub max_rows: Option<usize>,
    /// Predicates the host requires, by table name; ANDed to every reference to the table.
    pub row_filters: BTreeMap<String, Vec<RowPredicate>>,
    /// The SQL dialect.
    pub dialect: Dialect,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            schema_name: None,
            fiscal_year_start_month: 1,
            today: chrono::Local::now().date_naive(),
            max_rows: None,
            row_filters: BTreeMap::new(),
            dialect: Dialect::Postgres,
        }
    }
}

impl CompileOptions {
    /// Qualifies tables with PostgreSQL schema `schema`.
    pub fn with_schema_name(mut self, schema: impl Into<String>) -> Self {
        self.schema_name = Some(schema.into());
        self
    }

    /// Fiscal years start in `month` (1–12).
    pub fn with_fiscal_year_start_month(mut self, month: u8) -> Self {
        self.fiscal_year_start_month = month;
        self
    }

    /// Relative dates count from `today`.
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = today;
        self
    }

    /// Caps the rows fetched at `max_rows` (fetching one more to detect truncation).
    pub fn with_max_rows(mut self, max_rows: usize) -> Self {
        self.max_rows = Some(max_rows);
        self
    }

    /// Requires `predicates` on every reference to table `table`.
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

    /// Compiles to `dialect`.
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }
}

/// A compiled query and whether the row cap replaced its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The SQL and its bound values.
    pub query: CompiledQuery,
    /// Whether the limit is `max_rows + 1` because of the row cap: if more than `max_rows`
    /// rows come back, keep `max_rows` and report the result as truncated.
    pub capped: bool,
}
