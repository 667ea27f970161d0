//! prismiq's migrations keep to their own schema and migrations table, and can run again.

use prismiq_store_postgres::MIGRATOR;
use prismiq_store_postgres::sqlx::{self, SqlSafeStr};
use prismiq_store_postgres::testing::fresh_database;

#[tokio::test]
async fn migrations_are_recorded_in_prismiqs_own_table_and_are_idempotent() {
    let database = fresh_database().await;
    let store = database.store();
    let pool = store.pool();

    let recorded: i64 =
        sqlx::query_scalar("select count(*) from prismiq._sqlx_migrations where success")
            .fetch_one(pool)
            .await
            .expect("prismiq._sqlx_migrations exists");
    assert_eq!(recorded, i64::try_from(MIGRATOR.iter().count()).unwrap());
    let host_table: Option<String> =
        sqlx::query_scalar("select to_regclass('public._sqlx_migrations')::text")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        host_table, None,
        "the host's migrations table is left alone"
    );

    store
        .migrate()
        .await
        .expect("running the migrations again is a no-op");
    let again: i64 = sqlx::query_scalar("select count(*) from prismiq._sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(again, recorded);

    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables \
         where table_schema = 'prismiq' order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "dashboards",
            "pins",
            "saved_queries",
            "schema_configs",
            "widgets",
        ]
    );
    database.drop_database().await;
}

/// A host that keeps its own sqlx migrations in the same database is unaffected.
#[tokio::test]
async fn a_hosts_own_sqlx_migrations_table_is_untouched() {
    let database = fresh_database().await;
    let pool = database.store().pool();
    let host = sqlx::migrate::Migrator::with_migrations(vec![sqlx::migrate::Migration::new(
        1,
        "host table".into(),
        sqlx::migrate::MigrationType::Simple,
        "create table public.orders (id bigint primary key)".into_sql_str(),
        false,
    )]);
    host.run(pool).await.expect("the host's migrations run");
    database
        .store()
        .migrate()
        .await
        .expect("prismiq's migrations still apply");
    let host_rows: i64 = sqlx::query_scalar("select count(*) from public._sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        host_rows, 1,
        "only the host's own migration is in its table"
    );
    database.drop_database().await;
}
