//! The one way SQL text that is not a compile-time constant reaches the database.
//!
//! Store statements are all `&'static str` with bind parameters. Only test support needs text
//! built at run time (database names, which cannot be parameters, and ad hoc probe queries);
//! it goes through [`dynamic`], so there is exactly one place to audit. Analytics queries come
//! from the query compiler, with every value bound, and go through [`compiled`].

use sqlx::AssertSqlSafe;
#[cfg(feature = "test-utils")]
use sqlx::postgres::PgArguments;
use sqlx::postgres::Postgres;
use sqlx::query::Query;

/// A statement from SQL text built at run time. Callers must quote any identifier they put
/// into it (see [`quote_identifier`]) and pass every value as a bind parameter.
#[cfg(feature = "test-utils")]
pub(crate) fn dynamic(sql: String) -> Query<'static, Postgres, PgArguments> {
    sqlx::query(AssertSqlSafe(sql))
}

/// `name` as a quoted PostgreSQL identifier.
#[cfg(feature = "test-utils")]
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A compiled analytics query: SQL text from the query compiler with its bound values.
pub(crate) fn compiled(
    query: &prismiq_core::CompiledQuery,
) -> Query<'static, Postgres, sea_query_sqlx::SqlxValues> {
    sqlx::query_with(
        AssertSqlSafe(query.sql.clone()),
        sea_query_sqlx::SqlxValues(query.values.clone()),
    )
}
