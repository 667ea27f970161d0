//! [`Dialect`]: the SQL a data source speaks.
//!
//! The query compiler, the calculated-field language and the custom-SQL checker build one
//! syntax tree and ask the dialect for the few pieces that differ between engines: how a
//! statement is rendered (quotes, placeholders), date truncation and arithmetic, pattern
//! matching, where `NULL`s sort, and how caller-written SQL is parsed. A new engine is a new
//! variant and its arms here; the engine and the compiler do not change.
//!
//! # Same answers on every engine
//!
//! Every dialect gives the answers PostgreSQL gives, with these documented exceptions on
//! SQLite:
//! - `ilike` folds ASCII letters only (SQLite's `lower()` without ICU): `'É' ilike 'é'` is false
//!   on SQLite and true on PostgreSQL. `like` is case-sensitive on both (the SQLite data source
//!   turns `case_sensitive_like` on), and `\` escapes `%` and `_` on both.
//! - Truncated dates and timestamps come back as `YYYY-MM-DDTHH:MM:SS` text without a zone
//!   (PostgreSQL adds `+00:00` when it truncates a `date` or a `timestamptz`).
//! - `NULL`s sort last in ascending and first in descending order on both (SQLite's own default
//!   is the other way round; the compiler says `NULLS LAST`/`NULLS FIRST` explicitly).
//! - An unaliased column gets PostgreSQL's name (`sum`, `count`, `date_trunc`, `case`, a
//!   function's name), except a calculated field whose SQLite rendering differs at the top
//!   (PostgreSQL calls a datediff in months `int4`, SQLite `?column?`): give calculated fields
//!   an alias where the name matters.
//! - `round` rounds halves away from zero on both; SQLite rounds the double scaled by the
//!   power of ten, which matches PostgreSQL's exact decimal for up to 15 significant digits.
//! - Arithmetic follows the engine: dividing by zero is an error on PostgreSQL and `NULL` on
//!   SQLite, and decimals are exact on PostgreSQL and binary floating point on SQLite: sums
//!   agree to about 1e-12, but grouping by arithmetic over decimals may split a group on
//!   SQLite where two equal decimals differ in the last bit.

use sea_query::{
    Expr, ExprTrait, Func, NullOrdering, Order, PostgresQueryBuilder, SelectStatement,
    SqliteQueryBuilder, Values,
};

use crate::query::TimeUnit;

/// The SQL dialect of a [`DataSource`](crate::DataSource).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// PostgreSQL: `"quoted"` identifiers, `$n` placeholders, schemas per tenant.
    #[default]
    Postgres,
    /// SQLite 3.39 or newer (RIGHT and FULL joins; the SQLite store bundles 3.51):
    /// `"quoted"` identifiers, `?` placeholders, one database file per tenant.
    Sqlite,
}

impl Dialect {
    /// Renders `statement` with its values as parameters.
    pub(crate) fn build(self, statement: &SelectStatement) -> (String, Values) {
        match self {
            Self::Postgres => statement.build(PostgresQueryBuilder),
            Self::Sqlite => statement.build(SqliteQueryBuilder),
        }
    }

    /// Whether tables are qualified with the tenant's schema (SQLite has one file per tenant
    /// instead).
    pub(crate) fn has_schemas(self) -> bool {
        match self {
            Self::Postgres => true,
            Self::Sqlite => false,
        }
    }

    /// `expr` truncated to the start of its `unit` (weeks start on Monday).
    pub(crate) fn date_trunc(self, unit: TimeUnit, expr: Expr) -> Expr {
        match self {
            Self::Postgres => Func::cust("date_trunc")
                .arg(Expr::Constant(unit.as_str().into()))
                .arg(expr)
                .into(),
            Self::Sqlite => {
                let format = |pattern: &str, expr: Expr| {
                    self.custom(format!("strftime('{pattern}', $1)"), vec![expr])
                };
                match unit {
                    TimeUnit::Year => format("%Y-01-01T00:00:00", expr),
                    TimeUnit::Month => format("%Y-%m-01T00:00:00", expr),
                    TimeUnit::Day => format("%Y-%m-%dT00:00:00", expr),
                    TimeUnit::Hour => format("%Y-%m-%dT%H:00:00", expr),
                    TimeUnit::Minute => format("%Y-%m-%dT%H:%M:00", expr),
                    TimeUnit::Second => format("%Y-%m-%dT%H:%M:%S", expr),
                    // Back to Monday: %w is 0 on Sunday.
                    TimeUnit::Week => self.custom(
                        "strftime('%Y-%m-%dT00:00:00', $1, '-' || ((CAST(strftime('%w', $1) AS \
                         INTEGER) + 6) % 7) || ' days')",
                        vec![expr],
                    ),
                    // Back to the first month of the quarter.
                    TimeUnit::Quarter => self.custom(
                        "strftime('%Y-%m-01T00:00:00', $1, 'start of month', '-' || \
                         ((CAST(strftime('%m', $1) AS INTEGER) - 1) % 3) || ' months')",
                        vec![expr],
                    ),
                }
            }
        }
    }

    /// `target LIKE pattern` (or `ILIKE`, or negated), with `\` as the escape character and
    /// case-sensitive `LIKE`.
    pub(crate) fn like(
        self,
        target: Expr,
        pattern: Expr,
        case_insensitive: bool,
        negated: bool,
    ) -> Expr {
        let not = if negated { "NOT " } else { "" };
        match (self, case_insensitive) {
            (Self::Postgres, false) => {
                self.custom(format!("$1 {not}LIKE $2"), vec![target, pattern])
            }
            (Self::Postgres, true) => {
                self.custom(format!("$1 {not}ILIKE $2"), vec![target, pattern])
            }
            (Self::Sqlite, false) => self.custom(
                format!("$1 {not}LIKE $2 ESCAPE '\\'"),
                vec![target, pattern],
            ),
            (Self::Sqlite, true) => self.custom(
                format!("lower($1) {not}LIKE lower($2) ESCAPE '\\'"),
                vec![target, pattern],
            ),
        }
    }

    /// Where `NULL`s go in `order`, so that every dialect sorts as PostgreSQL does (last when
    /// ascending, first when descending); `None` where the dialect does that already.
    pub(crate) fn nulls(self, order: &Order) -> Option<NullOrdering> {
        match (self, order) {
            (Self::Postgres, _) => None,
            (Self::Sqlite, Order::Desc) => Some(NullOrdering::First),
            (Self::Sqlite, _) => Some(NullOrdering::Last),
        }
    }

    /// The limit that means "no limit", for an `OFFSET` without `LIMIT` (SQLite requires a
    /// `LIMIT` before `OFFSET`).
    pub(crate) fn unlimited(self) -> Option<u64> {
        match self {
            Self::Postgres => None,
            Self::Sqlite => Some(i64::MAX as u64),
        }
    }

    /// The position (1-based, 0 when absent) of `needle` in `haystack`.
    pub(crate) fn position(self, needle: Expr, haystack: Expr) -> Expr {
        match self {
            Self::Postgres => self.custom("POSITION($1 IN $2)", vec![needle, haystack]),
            Self::Sqlite => self.custom("instr($2, $1)", vec![needle, haystack]),
        }
    }

    /// The current date.
    pub(crate) fn today(self) -> Expr {
        match self {
            Self::Postgres => Expr::cust("CURRENT_DATE"),
            Self::Sqlite => Expr::cust("date('now')"),
        }
    }

    /// The year, month or day of a date or timestamp, as a number.
    pub(crate) fn date_part(self, part: DatePart, expr: Expr) -> Expr {
        let (name, format) = match part {
            DatePart::Year => ("YEAR", "%Y"),
            DatePart::Month => ("MONTH", "%m"),
            DatePart::Day => ("DAY", "%d"),
        };
        match self {
            Self::Postgres => self.custom(format!("EXTRACT({name} FROM $1)"), vec![expr]),
            Self::Sqlite => self.custom(
                format!("CAST(strftime('{format}', $1) AS INTEGER)"),
                vec![expr],
            ),
        }
    }

    /// A timestamp from six whole numbers: year, month, day, hour, minute, second.
    pub(crate) fn make_timestamp(self, parts: Vec<Expr>) -> Expr {
        let parts = parts.into_iter().map(|e| e.cast_as("integer"));
        match self {
            Self::Postgres => Func::cust("MAKE_TIMESTAMP").args(parts).into(),
            Self::Sqlite => self.custom(
                "datetime(printf('%04d-%02d-%02d %02d:%02d:%02d', $1, $2, $3, $4, $5, $6))",
                parts.collect(),
            ),
        }
    }

    /// `end − start` in `unit`: whole days, months or years (by the calendar, as PostgreSQL's
    /// `age()` counts them), or hours, minutes and seconds with fractions.
    pub(crate) fn datediff(self, unit: DiffUnit, start: Expr, end: Expr) -> Expr {
        let template = match (self, unit) {
            (Self::Postgres, DiffUnit::Day) => "(CAST($2 AS date) - CAST($1 AS date))",
            (Self::Postgres, DiffUnit::Month) => {
                "CAST(EXTRACT(YEAR FROM AGE(CAST($2 AS date), CAST($1 AS date))) * 12 + \
                 EXTRACT(MONTH FROM AGE(CAST($2 AS date), CAST($1 AS date))) AS integer)"
            }
            (Self::Postgres, DiffUnit::Year) => {
                "CAST(EXTRACT(YEAR FROM AGE(CAST($2 AS date), CAST($1 AS date))) AS integer)"
            }
            (Self::Postgres, DiffUnit::Hour) => {
                "(EXTRACT(EPOCH FROM (CAST($2 AS timestamp) - CAST($1 AS timestamp))) / 3600)"
            }
            (Self::Postgres, DiffUnit::Minute) => {
                "(EXTRACT(EPOCH FROM (CAST($2 AS timestamp) - CAST($1 AS timestamp))) / 60)"
            }
            (Self::Postgres, DiffUnit::Second) => {
                "EXTRACT(EPOCH FROM (CAST($2 AS timestamp) - CAST($1 AS timestamp)))"
            }
            (Self::Sqlite, DiffUnit::Day) => {
                "CAST(julianday(date($2)) - julianday(date($1)) AS INTEGER)"
            }
            (Self::Sqlite, DiffUnit::Month) => SQLITE_MONTHS,
            (Self::Sqlite, DiffUnit::Year) => SQLITE_YEARS,
            (Self::Sqlite, DiffUnit::Hour) => {
                "((unixepoch($2, 'subsec') - unixepoch($1, 'subsec')) / 3600.0)"
            }
            (Self::Sqlite, DiffUnit::Minute) => {
                "((unixepoch($2, 'subsec') - unixepoch($1, 'subsec')) / 60.0)"
            }
            (Self::Sqlite, DiffUnit::Second) => {
                "(unixepoch($2, 'subsec') - unixepoch($1, 'subsec'))"
            }
        };
        self.custom(template, vec![start, end])
    }

    /// `value` rounded to `places` decimals (0 when `None`), halves away from zero.
    ///
    /// PostgreSQL rounds the exact decimal. SQLite's `round` works on the binary double, where
    /// 290.65 is 290.6499…, so it scales first: the product (2906.5) is the nearest double to
    /// the decimal's, and the halves of decimals with up to 15 significant digits round as
    /// PostgreSQL rounds them.
    pub(crate) fn round(self, value: Expr, places: Option<Expr>) -> Expr {
        match (self, places) {
            (Self::Postgres, Some(places)) => {
                Func::round_with_precision(value.cast_as("numeric"), places.cast_as("integer"))
                    .into()
            }
            (Self::Postgres, None) => Func::round(value.cast_as("numeric")).into(),
            (Self::Sqlite, Some(places)) => self.custom(
                "(round($1 * CAST('1e' || CAST($2 AS INTEGER) AS REAL)) / \
                 CAST('1e' || CAST($2 AS INTEGER) AS REAL))",
                vec![value, places],
            ),
            (Self::Sqlite, None) => Func::round(value).into(),
        }
    }

    /// The sqlparser dialect caller-written SQL is parsed with.
    pub(crate) fn parser(self) -> &'static dyn sqlparser::dialect::Dialect {
        match self {
            Self::Postgres => &sqlparser::dialect::PostgreSqlDialect {},
            Self::Sqlite => &sqlparser::dialect::SQLiteDialect {},
        }
    }
}

/// Whole months from `$1` to `$2` by the calendar: the month difference, less one when the
/// last month is not complete (the day of month not reached yet), towards zero.
const SQLITE_MONTHS: &str = "(CASE WHEN $1 IS NULL OR $2 IS NULL THEN NULL ELSE \
     ((CAST(strftime('%Y', $2) AS INTEGER) - CAST(strftime('%Y', $1) AS INTEGER)) * 12 \
     + CAST(strftime('%m', $2) AS INTEGER) - CAST(strftime('%m', $1) AS INTEGER)) \
     - (CASE WHEN date($2) > date($1) AND CAST(strftime('%d', $2) AS INTEGER) < \
     CAST(strftime('%d', $1) AS INTEGER) THEN 1 WHEN date($2) < date($1) AND \
     CAST(strftime('%d', $2) AS INTEGER) > CAST(strftime('%d', $1) AS INTEGER) THEN -1 \
     ELSE 0 END) END)";

/// Whole years: whole months divided by twelve, towards zero.
const SQLITE_YEARS: &str = "(CASE WHEN $1 IS NULL OR $2 IS NULL THEN NULL ELSE \
     (((CAST(strftime('%Y', $2) AS INTEGER) - CAST(strftime('%Y', $1) AS INTEGER)) * 12 \
     + CAST(strftime('%m', $2) AS INTEGER) - CAST(strftime('%m', $1) AS INTEGER)) \
     - (CASE WHEN date($2) > date($1) AND CAST(strftime('%d', $2) AS INTEGER) < \
     CAST(strftime('%d', $1) AS INTEGER) THEN 1 WHEN date($2) < date($1) AND \
     CAST(strftime('%d', $2) AS INTEGER) > CAST(strftime('%d', $1) AS INTEGER) THEN -1 \
     ELSE 0 END)) / 12 END)";

impl Dialect {
    /// A custom SQL expression: `template` with `$1`, `$2`, … standing for `args` (each may
    /// appear any number of times), rendered with the dialect's placeholders. Literals in
    /// the template must not contain `$` or `?`.
    pub(crate) fn custom(self, template: impl AsRef<str>, args: Vec<Expr>) -> Expr {
        let template = template.as_ref();
        match self {
            Self::Postgres => Expr::cust_with_exprs(template.to_owned(), args),
            Self::Sqlite => {
                // SQLite's builder takes positional `?`s, one argument each, in order.
                let mut text = String::with_capacity(template.len());
                let mut ordered = Vec::new();
                let mut rest = template;
                while let Some(at) = rest.find('$') {
                    text.push_str(&rest[..at]);
                    let digits = rest[at + 1..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(rest.len() - at - 1, |n| n);
                    let index: usize = rest[at + 1..at + 1 + digits]
                        .parse()
                        .expect("a numbered placeholder");
                    text.push('?');
                    ordered.push(args[index - 1].clone());
                    rest = &rest[at + 1 + digits..];
                }
                text.push_str(rest);
                Expr::cust_with_exprs(text, ordered)
            }
        }
    }
}

/// A part of a date, for [`Dialect::date_part`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatePart {
    Year,
    Month,
    Day,
}

/// The unit of a difference between two dates, for [`Dialect::datediff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffUnit {
    Day,
    Month,
    Year,
    Hour,
    Minute,
    Second,
}

#[cfg(test)]
mod tests {
    use sea_query::{Expr, Query};

    use super::Dialect;

    #[test]
    fn custom_expressions_repeat_their_arguments_in_every_dialect() {
        let sql = |dialect: Dialect| {
            let expr = dialect.custom("f($2, $1) + g($2)", vec![Expr::col("a"), Expr::val(7)]);
            let (sql, values) = dialect.build(Query::select().expr(expr));
            (sql, values.0.len())
        };
        assert_eq!(
            sql(Dialect::Postgres),
            (r#"SELECT f($1, "a") + g($2)"#.to_owned(), 2)
        );
        assert_eq!(
            sql(Dialect::Sqlite),
            (r#"SELECT f(?, "a") + g(?)"#.to_owned(), 2)
        );
    }
}
