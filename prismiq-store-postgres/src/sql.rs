//! The one way SQL text that is not a compile-time constant reaches the database.
//!
//! Store statements are all `&'static str` with bind parameters. Only test support needs text
//! built at run time (database names, which cannot be parameters, and ad hoc probe queries);
//! it goes through [`dynamic`], so there is exactly one place to audit.

use sqlx::AssertSqlSafe;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;

/// A statement from SQL text built at run time. Callers must quote any identifier they put
/// into it (see [`quote_identifier`]) and pass every value as a bind parameter.
pub(crate) fn dynamic(sql: String) -> Query<'static, Postgres, PgArguments> {
    sqlx::query(AssertSqlSafe(sql))
}

/// `name` as a quoted PostgreSQL identifier.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
