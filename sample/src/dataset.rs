//! The sample dataset (`customers`, `products`, `orders`, `order_items`, `events`): a
//! deterministic e-commerce schema with known answers, loaded into the demo's database and
//! into the test databases. The known answers are in the header of `dataset.sql`.

use prismiq_store_postgres::sqlx::{self, PgPool};

/// The dataset's SQL script. It is written for psql; [`load`] runs it without psql.
pub const SCRIPT: &str = include_str!("../dataset.sql");

/// The date the dataset's orders and events end at.
pub const ANCHOR_DATE: &str = "2026-05-31";

/// The tables the script creates.
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
