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
            "dashboard_defaults",
            "dashboard_versions",
            "dashboards",
            "event_counters",
            "events",
            "pins",
            "saved_queries",
            "schema_configs",
            "shares",
            "starter_dashboards",
            "templates",
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

/// Queries stored before definitions were written with every key get their defaults filled in,
/// keep their own values, and keep their `updated_at`.
#[tokio::test]
async fn stored_queries_are_filled_in_with_every_default() {
    let database = fresh_database().await;
    let pool = database.store().pool();
    let old_query = serde_json::json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers", "alias": "c"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id"}],
        "columns": [{"table_id": "t2", "column": "region"},
                    {"table_id": "t1", "column": "total", "aggregation": "sum", "alias": "Total"}],
        "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "paid"}],
        "order_by": [{"table_id": "t2", "column": "region"}],
        "limit": 10,
        "time_series": {"table_id": "t1", "date_column": "created_at", "interval": "month"},
        "calculated_fields": [{"name": "double", "expression": "[total] * 2"}]
    });
    let setup = [
        "insert into prismiq.dashboards (id, tenant_id, name, layout) values \
         ('00000000-0000-7000-8000-000000000001', 'acme', 'Old', '{}')",
        "insert into prismiq.widgets (id, tenant_id, dashboard_id, widget_type, title, query, \
         position, updated_at) values ('00000000-0000-7000-8000-000000000002', 'acme', \
         '00000000-0000-7000-8000-000000000001', 'table', 'Old', $1, \
         '{\"x\":0,\"y\":0,\"w\":4,\"h\":3}', '2020-01-02T03:04:05Z'), \
         ('00000000-0000-7000-8000-000000000003', 'acme', \
         '00000000-0000-7000-8000-000000000001', 'text', 'Notes', null, \
         '{\"x\":4,\"y\":0,\"w\":4,\"h\":3}', '2020-01-02T03:04:05Z')",
        "insert into prismiq.saved_queries (id, tenant_id, name, query, updated_at) values \
         ('00000000-0000-7000-8000-000000000004', 'acme', 'Old', $1, '2020-01-02T03:04:05Z')",
        // Only this migration runs again: the later ones would fail on what they created.
        "delete from prismiq._sqlx_migrations where version = 3",
    ];
    for statement in setup {
        let query = sqlx::query(statement.into_sql_str());
        let query = if statement.contains("$1") {
            query.bind(&old_query)
        } else {
            query
        };
        query.execute(pool).await.expect(statement);
    }
    database
        .store()
        .migrate()
        .await
        .expect("the migration applies");

    let expected = serde_json::json!({
        "tables": [{"id": "t1", "name": "orders", "alias": null},
                   {"id": "t2", "name": "customers", "alias": "c"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id", "join_type": "INNER"}],
        "columns": [{"table_id": "t2", "column": "region", "aggregation": "none", "alias": null,
                     "date_trunc": null, "date_format": null, "sql_expression": null},
                    {"table_id": "t1", "column": "total", "aggregation": "sum", "alias": "Total",
                     "date_trunc": null, "date_format": null, "sql_expression": null}],
        "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "paid",
                     "sql_expression": null}],
        "group_by": [],
        "order_by": [{"table_id": "t2", "column": "region", "direction": "ASC"}],
        "limit": 10,
        "offset": null,
        "time_series": {"table_id": "t1", "date_column": "created_at", "interval": "month",
                        "fill_missing": true, "fill_value": 0, "alias": null},
        "calculated_fields": [{"name": "double", "expression": "[total] * 2",
                               "sql_expression": null, "has_internal_aggregation": false,
                               "data_type": "number"}]
    });
    let widgets: Vec<(Option<serde_json::Value>, String)> = sqlx::query_as(
        "select query, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') \
         from prismiq.widgets order by id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        widgets,
        [
            (Some(expected.clone()), "2020-01-02 03:04:05".to_owned()),
            (None, "2020-01-02 03:04:05".to_owned()),
        ]
    );
    let (saved, updated_at): (serde_json::Value, String) = sqlx::query_as(
        "select query, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') \
         from prismiq.saved_queries",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(saved, expected);
    assert_eq!(updated_at, "2020-01-02 03:04:05");

    let written: serde_json::Value = prismiq_core::QueryDefinition::from_value(old_query)
        .unwrap()
        .to_value();
    assert_eq!(
        written, expected,
        "the migration fills in exactly what the API writes"
    );
    database.drop_database().await;
}
