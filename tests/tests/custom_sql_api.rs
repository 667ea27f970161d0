//! Custom SQL over HTTP against PostgreSQL with the sample dataset: legitimate shapes run with
//! the right answers, hostile SQL is refused, row filters hold in every shape.

use std::sync::Arc;
use std::time::Duration;

use prismiq_axum::prismiq_core::{AuthContext, Engine, MemoryStore, RowFilter, RowPredicate};
use prismiq_store_postgres::PgDataSource;
use prismiq_tests::{TestApp, sample};
use serde_json::{Value, json};

async fn engine() -> Engine {
    Engine::new(MemoryStore::new())
        .with_data_source(Arc::new(PgDataSource::new(sample::pool().await)))
}

async fn sql(app: &TestApp, body: Value) -> Value {
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&body)
        .send()
        .await
        .expect(200)
}

const REVENUE: &str = "select c.region, sum(o.total_amount) as revenue from orders o \
    join customers c on c.id = o.customer_id where o.status = 'completed' \
    group by c.region order by c.region";

#[tokio::test]
async fn legitimate_shapes_run_with_known_answers() {
    let app = TestApp::new(engine().await);
    let valid = app
        .post("/query/validate-sql")
        .as_user("alice")
        .json(&json!({"sql": REVENUE}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        valid,
        json!({"valid": true, "errors": [], "tables": ["customers", "orders"]})
    );

    let plain = sql(&app, json!({"sql": REVENUE})).await;
    assert_eq!(plain["columns"], json!(["region", "revenue"]));
    assert_eq!(
        sample::label_and_amount(&plain),
        [
            (json!("East"), 1092395.68),
            (json!("North"), 546612.82),
            (json!("South"), 825810.04),
            (json!("West"), 248526.12),
            (Value::Null, 54508.9),
        ]
    );

    let cte = sql(&app, json!({"sql": "with done as (select * from orders where status = 'completed'), \
        by_region as (select c.region, sum(d.total_amount) as revenue from done d join customers c on c.id = d.customer_id group by c.region) \
        select region, revenue from by_region where region = 'East'"})).await;
    assert_eq!(
        sample::label_and_amount(&cte),
        [(json!("East"), 1092395.68)]
    );

    let window = sql(&app, json!({"sql": "select region, revenue, rank() over (order by revenue desc) as r from \
        (select c.region, sum(o.total_amount) as revenue from orders o join customers c on c.id = o.customer_id \
         where o.status = 'completed' and c.region is not null group by c.region) t order by r"})).await;
    assert_eq!(window["rows"][0][0], "East");
    assert_eq!(window["rows"][0][2], 1);

    let union = sql(&app, json!({"sql": "select 'orders' as kind, count(*) as n from orders union all select 'customers', count(*) from customers"})).await;
    assert_eq!(union["rows"], json!([["orders", 3000], ["customers", 500]]));

    let params = sql(&app, json!({"sql": "select count(*) as n from orders where status = :status and total_amount > :min", "params": {"status": "completed", "min": 0}})).await;
    assert!(params["rows"][0][0].as_i64().unwrap() > 0);
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select * from orders where status = :status"}))
        .send()
        .await
        .expect_detail_containing(400, "Missing parameter: status");

    let filtered = sql(&app, json!({
        "sql": REVENUE,
        "dashboard_filters": [{"id": "region", "type": "select", "label": "Region", "field": "region", "table": "customers"}],
        "filter_values": [{"filter_id": "region", "value": "East"}]
    })).await;
    assert_eq!(
        sample::label_and_amount(&filtered),
        [(json!("East"), 1092395.68)]
    );

    let capped = TestApp::new(engine().await.with_max_rows(5));
    let rows = capped
        .post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select id from orders"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (rows["row_count"].as_u64(), rows["truncated"].as_bool()),
        (Some(5), Some(true))
    );
}

#[tokio::test]
async fn hostile_sql_is_refused_and_harmless() {
    let app = TestApp::new(engine().await);
    let cases = [
        (
            "select 1; drop table orders",
            "Only single statements are allowed",
        ),
        ("delete from orders", "not allowed"),
        (
            "with x as (delete from orders returning *) select * from x",
            "not allowed",
        ),
        ("select * into stolen from orders", "INTO"),
        ("select * from orders for update", "lock"),
        ("select pg_sleep(10)", "pg_sleep"),
        (
            "select current_setting('prismiq.tenant_id')",
            "current_setting",
        ),
        ("select * from pg_catalog.pg_user", "pg_catalog"),
        (
            "select * from information_schema.tables",
            "information_schema",
        ),
        ("select * from prismiq.dashboards", "prismiq"),
        ("select * from other_schema.orders", "other_schema"),
        ("select * from not_a_table", "not_a_table"),
        ("copy orders to stdout", "not allowed"),
        ("select lo_import('/etc/passwd')", "lo_import"),
    ];
    for (statement, fragment) in cases {
        let detail = app
            .post("/query/execute-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect_detail_containing(400, "SQL validation failed");
        assert!(
            detail.to_lowercase().contains(&fragment.to_lowercase()),
            "{statement}: {detail}"
        );
        let checked = app
            .post("/query/validate-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect(200);
        assert_eq!(checked["valid"], false, "{statement}");
        assert!(!checked["errors"].as_array().unwrap().is_empty());
    }
    let intact = sql(&app, json!({"sql": "select count(*) as n from orders"})).await;
    assert_eq!(intact["rows"], json!([[3000]]));
}

/// Tenant `East` sees only East customers, whatever the SQL looks like.
#[derive(Debug)]
struct RegionIsTenant;

impl RowFilter for RegionIsTenant {
    fn predicates(&self, auth: &dyn AuthContext, table: &str) -> Vec<RowPredicate> {
        match table {
            "customers" => vec![RowPredicate::eq("region", auth.tenant_id())],
            _ => Vec::new(),
        }
    }
}

#[tokio::test]
async fn row_filters_hold_in_every_custom_sql_shape() {
    let app = TestApp::new(engine().await.with_row_filter(Arc::new(RegionIsTenant)));
    let shapes = [
        "select distinct region from customers",
        "select distinct c.region from orders o join customers c on c.id = o.customer_id",
        "select distinct region from (select * from customers) s",
        "with x as (select region from customers) select distinct region from x",
        "select distinct region from customers union select region from customers where region <> 'East'",
        "select distinct region from customers where id in (select id from customers)",
        "select distinct c.region from orders o, lateral (select region from customers where id = o.customer_id) c",
        "select distinct region from CUSTOMERS",
        "select distinct region from \"customers\" as c2 where c2.region is not null or true",
    ];
    for shape in shapes {
        let result = app
            .post("/query/execute-sql")
            .tenant("East")
            .header("x-user-id", "alice")
            .json(&json!({"sql": shape}))
            .send()
            .await
            .expect(200);
        for row in result["rows"].as_array().unwrap() {
            assert!(row[0] == "East" || row[0].is_null(), "{shape} leaked {row}");
        }
        assert!(
            !result["rows"].as_array().unwrap().is_empty(),
            "{shape} returned nothing"
        );
    }
    let west = app
        .post("/query/execute-sql")
        .tenant("West")
        .header("x-user-id", "bob")
        .json(&json!({"sql": "select count(*) from customers where region = 'East'"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        west["rows"],
        json!([[0]]),
        "West cannot count East's customers"
    );
}

#[tokio::test]
async fn custom_sql_times_out_with_504() {
    let app = TestApp::new(
        engine()
            .await
            .with_query_timeout(Duration::from_millis(200)),
    );
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select count(*) from order_items a, order_items b, events c"}))
        .send()
        .await
        .expect_detail(504, "Query exceeded timeout of 0.2 seconds");
}
