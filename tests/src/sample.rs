//! A database holding the sample dataset ([`prismiq_sample::dataset`]), created once per test
//! binary and shared by its tests (each test opens its own pool: pools belong to one runtime).

use prismiq_sample::dataset;
use prismiq_store_postgres::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use prismiq_store_postgres::sqlx::{self, ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;

static DATABASE: OnceCell<PgConnectOptions> = OnceCell::const_new();

/// Connection options of a database with the sample dataset in `public` and prismiq's tables
/// migrated. Needs `DATABASE_URL` (see `prismiq_store_postgres::testing::database_url`).
pub async fn options() -> PgConnectOptions {
    DATABASE
        .get_or_init(|| async {
            let test_db = prismiq_store_postgres::testing::fresh_database().await;
            let options = test_db.connect_options().clone();
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .expect("connect to the sample database");
            dataset::load(&pool).await.expect("load the sample dataset");
            pool.close().await;
            options
        })
        .await
        .clone()
}

/// A new pool on the sample database.
pub async fn pool() -> PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options().await)
        .await
        .expect("connect to the sample database")
}

/// A single connection on the sample database, for statements the tests run themselves.
pub async fn connection() -> PgConnection {
    PgConnection::connect_with(&options().await.disable_statement_logging())
        .await
        .expect("connect to the sample database")
}

/// Runs a statement of the test's own (setup of extra tables and schemas).
pub async fn run(sql: &'static str) {
    let mut conn = connection().await;
    sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
}

/// The rows of a two-column result body (a label, an amount) as pairs, the amount rounded to
/// cents: the shape of the known answers (e.g. revenue by region).
///
/// # Panics
///
/// When the body has no `rows` array or an amount is not a number.
pub fn label_and_amount(result: &serde_json::Value) -> Vec<(serde_json::Value, f64)> {
    result["rows"]
        .as_array()
        .expect("a result body with rows")
        .iter()
        .map(|r| {
            (
                r[0].clone(),
                (r[1].as_f64().expect("an amount") * 100.0).round() / 100.0,
            )
        })
        .collect()
}
