//! The sample dataset (`customers`, `products`, `orders`, `order_items`, `events`): a
//! deterministic e-commerce schema with known answers, loaded into the demo's database and
//! into the test databases. The known answers are in the header of `dataset.sql`.
//!
//! It comes as two scripts that produce the same rows: [`SCRIPT`] (`dataset.sql`) for
//! PostgreSQL, loaded with [`load`], and [`SQLITE_SCRIPT`] (`dataset.sqlite.sql`) for
//! SQLite, loaded with [`load_sqlite`], so that the same queries can be compared between
//! the two engines. In SQLite, dates are `YYYY-MM-DD` text, timestamps
//! `YYYY-MM-DD HH:MM:SS` text, `events.properties` JSON text, and prices REAL (or INTEGER
//! when whole) holding the same 2-decimal values. `sample/check_sqlite_dataset.py`
//! compares every row of the two loads.

use prismiq_store_postgres::sqlx::{self, PgPool};
use prismiq_store_sqlite::sqlx::{ConnectOptions, Connection, SqlitePool};

/// The dataset's SQL script for PostgreSQL. It is written for psql; [`load`] runs it
/// without psql.
pub const SCRIPT: &str = include_str!("../dataset.sql");

/// The dataset's SQL script for SQLite (3.38 or later), with the same tables and rows as
/// [`SCRIPT`] at [`ANCHOR_DATE`], which it holds literally. [`load_sqlite`] runs it.
pub const SQLITE_SCRIPT: &str = include_str!("../dataset.sqlite.sql");

/// The date the dataset's orders and events end at.
pub const ANCHOR_DATE: &str = "2026-05-31";

/// The tables the scripts create.
pub const TABLES: [&str; 5] = ["customers", "products", "orders", "order_items", "events"];

/// Whether the dataset's tables exist in `public`.
pub async fn is_loaded(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables \
         where table_schema = 'public' and table_name = any($1)",
    )
    .bind(&TABLES[..])
    .fetch_one(pool)
    .await?;
    Ok(found == TABLES.len() as i64)
}

/// Loads the dataset into `public` (dropping and recreating its five tables), in one
/// transaction.
pub async fn load(pool: &PgPool) -> Result<(), sqlx::Error> {
    // The psql meta-commands only pick the anchor date; substitute it and drop them.
    let script: String = SCRIPT
        .lines()
        .filter(|line| !line.trim_start().starts_with('\\'))
        .map(|line| line.replace(":'anchor_date'", &format!("'{ANCHOR_DATE}'")))
        .collect::<Vec<_>>()
        .join("\n");
    sqlx::raw_sql(sqlx::AssertSqlSafe(script))
        .execute(pool)
        .await?;
    Ok(())
}

/// Whether the dataset's tables exist in the SQLite database (its `main` schema).
pub async fn is_loaded_sqlite(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    let mut query = sqlx::query_scalar::<_, i64>(
        "select count(*) from sqlite_master \
         where type = 'table' and name in (?, ?, ?, ?, ?)",
    );
    for table in TABLES {
        query = query.bind(table);
    }
    let found = query.fetch_one(pool).await?;
    Ok(found == TABLES.len() as i64)
}

/// Loads the dataset into the SQLite database (dropping and recreating its five tables), in
/// one transaction on one of the pool's connections, then analyzes the tables.
pub async fn load_sqlite(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    // A connection of its own, so that the script (which runs for seconds in debug builds) is
    // not logged whole as a slow statement.
    let options = pool.connect_options().as_ref().clone();
    let mut conn = options.disable_statement_logging().connect().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(SQLITE_SCRIPT))
        .execute(&mut conn)
        .await?;
    conn.close().await
}
