//! `PgDataSource` against PostgreSQL with the sample dataset: introspection, value conversion,
//! limits, read-only execution, timeouts and cancellation.

use std::time::Duration;

use prismiq_axum::prismiq_core::{CompiledQuery, DataSource, ExecutionContext, SourceError};
use prismiq_store_postgres::PgDataSource;
use prismiq_tests::sample;
use sea_query::{Value as SqlValue, Values};
use serde_json::{Value, json};

fn context(max_rows: usize) -> ExecutionContext {
    ExecutionContext::new("public", "tenant-a", Duration::from_secs(5), max_rows)
}

fn query(sql: &str, values: Vec<SqlValue>) -> CompiledQuery {
    CompiledQuery {
        sql: sql.to_owned(),
        values: Values(values),
    }
}

#[tokio::test]
async fn introspects_the_sample_schema() {
    let source = PgDataSource::new(sample::pool().await);
    let schema = source.introspect("public").await.unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["customers", "events", "order_items", "orders", "products"]
    );
    let orders = schema.table("orders").unwrap();
    let columns: Vec<(&str, &str, bool, bool)> = orders
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.data_type.as_str(),
                c.is_nullable,
                c.is_primary_key,
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "integer", false, true),
            ("customer_id", "integer", false, false),
            ("order_date", "date", false, false),
            ("status", "character varying", true, false),
            ("total_amount", "numeric", true, false),
            ("shipping_address", "text", true, false),
        ]
    );
    assert!(
        orders.columns[0]
            .default_value
            .as_deref()
            .unwrap()
            .starts_with("nextval(")
    );
    assert!(orders.row_count.is_some());
    assert!(schema.relationships.iter().any(|r| r.from_table == "orders"
        && r.from_column == "customer_id"
        && r.to_table == "customers"
        && r.to_column == "id"));
    assert!(
        schema.table("dashboards").is_none(),
        "prismiq's tables are not in public"
    );
    assert!(
        source
            .introspect("prismiq")
            .await
            .unwrap()
            .tables
            .is_empty(),
        "prismiq's schema is never exposed"
    );
    assert!(!source.schema_exists("prismiq").await.unwrap());
    assert!(!source.schema_exists("pg_catalog").await.unwrap());
    assert!(source.schema_exists("public").await.unwrap());
    assert!(!source.schema_exists("no_such_schema").await.unwrap());

    let limited =
        PgDataSource::new(sample::pool().await).with_exposed_tables(["orders", "customers"]);
    let schema = limited.introspect("public").await.unwrap();
    assert_eq!(schema.tables.len(), 2);
    assert_eq!(
        schema.relationships.len(),
        1,
        "only relationships between exposed tables"
    );
}

#[tokio::test]
async fn answers_the_known_revenue_by_region() {
    let source = PgDataSource::new(sample::pool().await);
    let result = source
        .execute(
            &context(100),
            &query(
                "select c.region, sum(o.total_amount) as revenue from orders o \
                 join customers c on c.id = o.customer_id where o.status = $1 \
                 group by c.region order by c.region nulls last",
                vec![SqlValue::String(Some("completed".to_owned()))],
            ),
        )
        .await
        .unwrap();
    assert_eq!(result.columns, ["region", "revenue"]);
    assert_eq!(result.column_types, ["varchar", "numeric"]);
    assert_eq!(
        result.rows,
        vec![
            vec![json!("East"), json!(1092395.68)],
            vec![json!("North"), json!(546612.82)],
            vec![json!("South"), json!(825810.04)],
            vec![json!("West"), json!(248526.12)],
            vec![Value::Null, json!(54508.9)],
        ]
    );
    assert_eq!(result.row_count, 5);
    assert!(!result.truncated);
    assert!(result.execution_time_ms >= 0.0);
}

#[tokio::test]
async fn converts_every_kind_of_value() {
    let source = PgDataSource::new(sample::pool().await);
    let result = source
        .execute(
            &context(10),
            &query(
                "select 1::int2 as a, 2::int4 as b, 3::int8 as c, 1.5::float4 as d, 2.25::float8 as e, \
                 12.340::numeric(6,3) as f, true as g, 'x'::text as h, 'y'::varchar as i, \
                 date '2024-02-29' as j, timestamp '2024-01-02 03:04:05.000600' as k, \
                 timestamptz '2024-01-02 03:04:05+00' as l, time '10:11:12' as m, \
                 interval '1 day 2 hours' as n, '{\"k\": [1, 2]}'::jsonb as o, '[1]'::json as p, \
                 '6f1c2a0e-3b7d-4c1e-9a55-2d4f8e9b0c11'::uuid as q, '\\x00ff'::bytea as r, \
                 array[1, null, 3]::int4[] as s, array['a', 'b']::text[] as t, null::int4 as u, \
                 'NaN'::numeric as v, timestamp '2024-01-02 03:04:05' as w",
                vec![],
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        result.column_types,
        [
            "int2",
            "int4",
            "int8",
            "float4",
            "float8",
            "numeric",
            "bool",
            "text",
            "varchar",
            "date",
            "timestamp",
            "timestamptz",
            "time",
            "interval",
            "jsonb",
            "json",
            "uuid",
            "bytea",
            "int4[]",
            "text[]",
            "int4",
            "numeric",
            "timestamp"
        ]
    );
    assert_eq!(
        result.rows[0],
        vec![
            json!(1),
            json!(2),
            json!(3),
            json!(1.5),
            json!(2.25),
            json!(12.34),
            json!(true),
            json!("x"),
            json!("y"),
            json!("2024-02-29"),
            json!("2024-01-02T03:04:05.000600"),
            json!("2024-01-02T03:04:05+00:00"),
            json!("10:11:12"),
            json!(93600.0),
            json!({"k": [1, 2]}),
            json!([1]),
            json!("6f1c2a0e-3b7d-4c1e-9a55-2d4f8e9b0c11"),
            json!("00ff"),
            json!([1, null, 3]),
            json!(["a", "b"]),
            Value::Null,
            json!("NaN"),
            json!("2024-01-02T03:04:05"),
        ]
    );
}

#[tokio::test]
async fn caps_rows_and_keeps_columns_of_empty_results() {
    let source = PgDataSource::new(sample::pool().await);
    let capped = source
        .execute(
            &context(10),
            &query("select id from orders order by id limit 11", vec![]),
        )
        .await
        .unwrap();
    assert_eq!((capped.row_count, capped.truncated), (10, true));
    let exact = source
        .execute(
            &context(10),
            &query("select id from orders order by id limit 10", vec![]),
        )
        .await
        .unwrap();
    assert_eq!((exact.row_count, exact.truncated), (10, false));
    let empty = source
        .execute(
            &context(10),
            &query(
                "select id, status as state from orders where id < $1",
                vec![SqlValue::Int(Some(0))],
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        empty.columns,
        ["id", "state"],
        "column names survive an empty result"
    );
    assert_eq!(empty.column_types, ["int4", "varchar"]);
    assert!(empty.rows.is_empty());
}

#[tokio::test]
async fn runs_read_only_in_the_tenant_schema_with_the_tenant_set() {
    sample::run(
        "create schema if not exists tenant_b; \
         create table if not exists tenant_b.orders (id int, note text); \
         insert into tenant_b.orders select 1, 'b' where not exists (select 1 from tenant_b.orders)",
    )
    .await;
    let source = PgDataSource::new(sample::pool().await);
    let mut b = context(10);
    b.schema = "tenant_b".to_owned();
    let result = source
        .execute(
            &b,
            &query(
                "select note, current_setting('prismiq.tenant_id') as t from orders",
                vec![],
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        result.rows,
        vec![vec![json!("b"), json!("tenant-a")]],
        "search_path is the tenant's schema"
    );

    let write = source
        .execute(
            &context(10),
            &query(
                "with x as (delete from orders returning id) select count(*) from x",
                vec![],
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&write, SourceError::Rejected(m) if m.contains("read-only")),
        "{write:?}"
    );
    let bad = source
        .execute(
            &context(10),
            &query("select no_such_column from orders", vec![]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, SourceError::Rejected(m) if m.contains("no_such_column")),
        "{bad:?}"
    );
    let mut prismiq = context(10);
    prismiq.schema = "prismiq".to_owned();
    assert!(
        source
            .execute(&prismiq, &query("select 1", vec![]))
            .await
            .is_err()
    );
    // Nothing leaks into the pool: a plain statement afterwards has the default settings.
    let pool = sample::pool().await;
    let setting: Option<String> = prismiq_store_postgres::sqlx::query_scalar(
        "select current_setting('prismiq.tenant_id', true)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(setting.as_deref().unwrap_or_default().is_empty());
}

#[tokio::test]
async fn times_out_and_cancels_abandoned_queries() {
    let pool = sample::pool().await;
    let source = PgDataSource::new(pool.clone());
    let mut short = context(10);
    short.timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = source
        .execute(&short, &query("select pg_sleep(5)", vec![]))
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.to_string(), "Query exceeded timeout of 0.3 seconds");

    // A request that goes away cancels its statement on the server, long before the
    // statement's own timeout would.
    let marker = format!("select pg_sleep(30), {} as marker", std::process::id());
    let mut ctx = context(10);
    ctx.timeout = Duration::from_secs(60);
    let sleeping = query(&marker, vec![]);
    let running = source.execute(&ctx, &sleeping);
    let _ = tokio::time::timeout(Duration::from_millis(500), running).await;
    let mut still_running = 1_i64;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        still_running = prismiq_store_postgres::sqlx::query_scalar(
            "select count(*) from pg_stat_activity where query = $1 and state = 'active'",
        )
        .bind(&marker)
        .fetch_one(&pool)
        .await
        .unwrap();
        if still_running == 0 {
            break;
        }
    }
    assert_eq!(still_running, 0, "the abandoned statement was cancelled");

    // The connection that ran it serves the next queries.
    for _ in 0..12 {
        let result = source
            .execute(&ctx, &query("select 1 as one", vec![]))
            .await
            .expect("query after a cancellation");
        assert_eq!(result.rows, vec![vec![json!(1)]]);
    }
}

#[tokio::test]
async fn publishes_pool_gauges() {
    let handle = prismiq_axum::install_recorder();
    let source = PgDataSource::new(sample::pool().await);
    source
        .execute(&context(10), &query("select 1", vec![]))
        .await
        .unwrap();
    let text = handle.render();
    assert!(text.contains("prismiq_active_connections"), "{text}");
    assert!(text.contains("prismiq_idle_connections"), "{text}");
}

/// Errors the database returns for one statement are the caller's (`Rejected`), never
/// "unavailable": a value the database cannot take, and statement text it cannot even read.
/// The pool keeps serving afterwards.
#[tokio::test]
async fn statement_errors_are_never_unavailable() {
    let source = PgDataSource::new(sample::pool().await);
    let bound_nul = source
        .execute(
            &context(10),
            &query(
                "select count(*) from orders where status = $1",
                vec![SqlValue::String(Some("a\u{0}b".to_owned()))],
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(bound_nul, SourceError::Rejected(_)),
        "{bound_nul:?}"
    );
    let text_nul = source
        .execute(&context(10), &query("select 1 as one \u{0} junk", vec![]))
        .await
        .unwrap_err();
    assert!(
        !matches!(text_nul, SourceError::Unavailable(_)),
        "{text_nul:?}"
    );
    let fine = source
        .execute(&context(10), &query("select 1 as one", vec![]))
        .await
        .unwrap();
    assert_eq!(fine.rows, [[json!(1)]]);
}
