//! The query endpoints against PostgreSQL with the sample dataset: known answers, validation,
//! SQL, preview, time series, widget execution with dashboard filters, samples, trends, row
//! filters, tenant schemas, injection attempts and timeouts.

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

fn revenue_by_region() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers", "alias": "c"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id", "join_type": "LEFT"}],
        "columns": [
            {"table_id": "t2", "column": "region"},
            {"table_id": "t1", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}
        ],
        "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "completed"}],
        "order_by": [{"table_id": "t2", "column": "region", "direction": "ASC"}]
    })
}

#[tokio::test]
async fn executes_with_known_answers() {
    let app = TestApp::new(engine().await);
    let result = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": revenue_by_region()}))
        .send()
        .await
        .expect(200);
    assert_eq!(result["columns"], json!(["region", "revenue"]));
    assert_eq!(result["column_types"], json!(["varchar", "numeric"]));
    assert_eq!(
        sample::label_and_amount(&result),
        [
            (json!("East"), 1092395.68),
            (json!("North"), 546612.82),
            (json!("South"), 825810.04),
            (json!("West"), 248526.12),
            (Value::Null, 54508.9),
        ]
    );
    assert_eq!(result["row_count"], 5);
    assert_eq!(result["truncated"], false);
    assert_eq!(result["is_from_cache"], false);
    assert!(result["execution_time_ms"].is_number());

    let total = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]}}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        total["rows"][0][0]
            .as_f64()
            .map(|v| (v * 100.0).round() / 100.0),
        Some(3466086.72)
    );

    let empty = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}, {"table_id": "t1", "column": "status"}], "filters": [{"table_id": "t1", "column": "id", "operator": "lt", "value": 0}]}}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        empty["columns"],
        json!(["id", "status"]),
        "empty results keep their columns"
    );
    assert_eq!(empty["rows"], json!([]));
}

#[tokio::test]
async fn validates_and_shows_sql() {
    let app = TestApp::new(engine().await);
    let bad = json!({"tables": [{"id": "t1", "name": "order"}], "columns": [{"table_id": "t1", "column": "id"}]});
    let plain = app
        .post("/query/validate")
        .as_user("alice")
        .json(&bad)
        .send()
        .await
        .expect(200);
    assert_eq!(
        plain,
        json!({"valid": false, "errors": ["Table 'order' not found in schema"]})
    );
    let detailed = app
        .post("/query/validate/detailed")
        .as_user("alice")
        .json(&bad)
        .send()
        .await
        .expect(200);
    assert_eq!(detailed["result"]["errors"][0]["code"], "TABLE_NOT_FOUND");
    assert_eq!(detailed["result"]["errors"][0]["field"], "tables[0].name");
    assert_eq!(
        detailed["result"]["errors"][0]["suggestion"],
        "Did you mean one of: 'orders', 'order_items'?"
    );
    let good = app
        .post("/query/validate")
        .as_user("alice")
        .json(&revenue_by_region())
        .send()
        .await
        .expect(200);
    assert_eq!(good, json!({"valid": true, "errors": []}));

    let sql = app
        .post("/query/sql")
        .as_user("alice")
        .json(&revenue_by_region())
        .send()
        .await
        .expect(200);
    let text = sql["sql"].as_str().unwrap();
    assert!(text.contains(r#"FROM "public"."orders""#), "{text}");
    assert!(text.contains("$1"), "values are placeholders: {text}");
    assert!(!text.contains("completed"), "{text}");
    app.post("/query/sql")
        .as_user("alice")
        .json(&bad)
        .send()
        .await
        .expect_detail(
            400,
            "Query validation failed: Table 'order' not found in schema",
        );
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": bad}))
        .send()
        .await
        .expect_detail(
            400,
            "Query validation failed: Table 'order' not found in schema",
        );
}

#[tokio::test]
async fn previews_in_both_shapes() {
    let app = TestApp::new(engine().await);
    let q = json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}], "order_by": [{"table_id": "t1", "column": "id"}]});
    let contract = app
        .post("/query/preview")
        .as_user("alice")
        .json(&json!({"query": q, "limit": 3}))
        .send()
        .await
        .expect(200);
    assert_eq!(contract["rows"], json!([[1], [2], [3]]));
    assert!(contract.get("is_from_cache").is_none());
    let client = app
        .post("/query/preview?limit=2")
        .as_user("alice")
        .json(&q)
        .send()
        .await
        .expect(200);
    assert_eq!(client["rows"], json!([[1], [2]]));
    let default = app
        .post("/query/preview")
        .as_user("alice")
        .json(&q)
        .send()
        .await
        .expect(200);
    assert_eq!(default["row_count"], 100);
}

#[tokio::test]
async fn buckets_time_series_and_fills_gaps() {
    let app = TestApp::new(engine().await);
    let q = json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "id", "aggregation": "count", "alias": "orders"}],
        "filters": [
            {"table_id": "t1", "column": "order_date", "operator": "gte", "value": "2026-01-01"},
            {"table_id": "t1", "column": "order_date", "operator": "lte", "value": "2026-03-31"},
            {"table_id": "t1", "column": "status", "operator": "eq", "value": "no-such-status"}
        ]
    });
    let result = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": q, "interval": "month", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    assert_eq!(result["columns"], json!(["order_date_bucket", "orders"]));
    assert_eq!(
        result["rows"].as_array().unwrap().len(),
        3,
        "three empty months filled in: {result}"
    );
    assert_eq!(result["rows"][0][1], 0);
    let filled = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": q, "interval": "month", "date_column": "order_date", "fill_missing": false}))
        .send()
        .await
        .expect(200);
    assert_eq!(filled["rows"], json!([]));
    app.post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": q, "interval": "month", "date_column": "nope"}))
        .send()
        .await
        .expect_detail(400, "Date column 'nope' not found in query tables");
    let (kind, loc) = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": q, "interval": "fortnight", "date_column": "order_date"}))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc, json!(["body", "interval"]), "{kind}");
}

#[tokio::test]
async fn executes_widgets_with_dashboard_filters() {
    let app = TestApp::new(engine().await);
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({
            "name": "Revenue",
            "filters": [{"id": "region", "type": "select", "label": "Region", "field": "region", "table": "customers"}],
            "widgets": [{"type": "bar_chart", "title": "By region", "query": revenue_by_region(), "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
                        {"type": "text", "title": "Notes", "position": {"x": 6, "y": 0, "w": 6, "h": 4}}]
        }))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let chart = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["type"] == "bar_chart")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = dashboard["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["type"] == "text")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/dashboards/{id}/widgets/{chart}/execute");

    let all = app.post(&path).as_user("alice").send().await.expect(200);
    assert_eq!(all["row_count"], 5, "no body: no filter");
    // customers is on the nullable side of a LEFT join, so the filter restricts the join, not
    // the orders: the other regions' orders fall under a NULL region.
    let east = app
        .post(&path)
        .as_user("alice")
        .json(&json!([{"filter_id": "region", "value": "East"}]))
        .send()
        .await
        .expect(200);
    assert_eq!(
        sample::label_and_amount(&east),
        [(json!("East"), 1092395.68), (Value::Null, 1675457.88)]
    );
    let every = app
        .post(&path)
        .as_user("alice")
        .json(&json!([{"filter_id": "region", "value": "__all__"}]))
        .send()
        .await
        .expect(200);
    assert_eq!(every["row_count"], 5);
    app.post(&format!("/dashboards/{id}/widgets/{text}/execute"))
        .as_user("alice")
        .send()
        .await
        .expect_detail(400, "Widget has no query");
    app.post(&path)
        .as_user("bob")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    let (kind, _) = app
        .post(&path)
        .as_user("alice")
        .json(&json!({"filter_id": "region"}))
        .send()
        .await
        .expect_validation();
    assert_eq!(kind, "list_type", "the body is a bare array");
}

#[tokio::test]
async fn samples_and_trends() {
    let app = TestApp::new(engine().await);
    let regions = app
        .get("/tables/customers/columns/region/sample?limit=10")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        regions,
        json!({"values": ["East", "North", "South", "West"]})
    );
    let two = app
        .get("/tables/customers/columns/region/sample?limit=2")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(two, json!({"values": ["East", "North"]}));
    app.get("/tables/nope/columns/region/sample")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Table 'nope' not found");
    app.get("/tables/customers/columns/nope/sample")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Column 'nope' not found in table 'customers'");

    let q = json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}]});
    let trend = app
        .post("/metrics/trend")
        .as_user("alice")
        .json(&json!({"query": q, "comparison": "previous_period", "current_start": "2026-05-01", "current_end": "2026-05-31", "value_column": "revenue", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    assert!(trend["current_value"].as_f64().unwrap() > 0.0, "{trend}");
    assert!(trend["previous_value"].as_f64().unwrap() > 0.0, "{trend}");
    assert!(["up", "down", "flat"].contains(&trend["direction"].as_str().unwrap()));
    app.post("/metrics/trend")
        .json(&json!({}))
        .send()
        .await
        .expect_detail(400, "X-Tenant-ID header is required");
}

/// Every customer row outside region East is invisible, in every query shape.
#[derive(Debug)]
struct EastOnly;

impl RowFilter for EastOnly {
    fn predicates(&self, _auth: &dyn AuthContext, table: &str) -> Vec<RowPredicate> {
        match table {
            "customers" => vec![RowPredicate::eq("region", "East")],
            _ => Vec::new(),
        }
    }
}

#[tokio::test]
async fn row_filters_apply_to_every_reference() {
    let app = TestApp::new(engine().await.with_row_filter(Arc::new(EastOnly)));
    let joined = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": revenue_by_region()}))
        .send()
        .await
        .expect(200);
    // customers is LEFT-joined: orders stay, but no customer outside East is seen.
    assert_eq!(
        sample::label_and_amount(&joined),
        [(json!("East"), 1092395.68), (Value::Null, 1675457.88)],
        "{joined}"
    );
    let mut inner = revenue_by_region();
    inner["joins"][0]["join_type"] = json!("INNER");
    let inner = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": inner}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        sample::label_and_amount(&inner),
        [(json!("East"), 1092395.68)],
        "{inner}"
    );
    let base = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "c", "name": "customers"}], "columns": [{"table_id": "c", "column": "region"}, {"table_id": "c", "column": "*", "aggregation": "count"}]}}))
        .send()
        .await
        .expect(200);
    assert_eq!(base["rows"].as_array().unwrap().len(), 1);
    assert_eq!(base["rows"][0][0], "East");
    let samples = app
        .get("/tables/customers/columns/region/sample?limit=10")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(samples, json!({"values": ["East"]}));
    // A filter that tries to widen the scope cannot: the predicate is ANDed.
    let widened = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "c", "name": "customers"}], "columns": [{"table_id": "c", "column": "region"}], "filters": [{"table_id": "c", "column": "region", "operator": "in_or_null", "value": ["West", "North"]}]}}))
        .send()
        .await
        .expect(200);
    assert_eq!(widened["rows"], json!([]));
}

#[tokio::test]
async fn tenant_schemas_and_injection_attempts() {
    sample::run(
        "create schema if not exists tenant_q; \
         create table if not exists tenant_q.orders (id int primary key, total_amount numeric); \
         insert into tenant_q.orders values (1, 5), (2, 7) on conflict do nothing",
    )
    .await;
    let app = TestApp::new(engine().await);
    let q = json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]});
    let tenant = app
        .post("/query/execute")
        .as_user("alice")
        .header("x-schema-name", "tenant_q")
        .json(&json!({"query": q}))
        .send()
        .await
        .expect(200);
    assert_eq!(tenant["rows"][0][0].as_f64(), Some(12.0));
    app.post("/query/execute")
        .as_user("alice")
        .header("x-schema-name", "nope")
        .json(&json!({"query": q}))
        .send()
        .await
        .expect_detail(404, "PostgreSQL schema 'nope' does not exist");
    app.post("/query/execute").as_user("alice").header("x-schema-name", "prismiq").json(&json!({"query": {"tables": [{"id": "t1", "name": "dashboards"}], "columns": [{"table_id": "t1", "column": "name"}]}})).send().await.expect(404);

    let attempts = [
        json!({"tables": [{"id": "t1", "name": "orders; drop table orders"}], "columns": [{"table_id": "t1", "column": "id"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id\"; drop table orders; --"}]}),
        json!({"tables": [{"id": "t1", "name": "pg_catalog.pg_user"}], "columns": [{"table_id": "t1", "column": "usename"}]}),
    ];
    for attempt in attempts {
        app.post("/query/execute")
            .as_user("alice")
            .json(&json!({"query": attempt}))
            .send()
            .await
            .expect(400);
    }
    // Aliases are quoted, values are bound: they run harmlessly.
    let quoted = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders", "alias": "o\"; drop table orders; --"}],
            "columns": [{"table_id": "t1", "column": "id", "alias": "x\" from orders; --"}],
            "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "' or 1=1; drop table orders; --"}]}}))
        .send()
        .await
        .expect(200);
    assert_eq!(quoted["columns"], json!(["x\" from orders; --"]));
    assert_eq!(quoted["rows"], json!([]));
    for (field, value) in [
        ("date_trunc", json!("month') from orders; --")),
        ("sql_expression", json!("1; drop table orders")),
    ] {
        let mut column = json!({"table_id": "t1", "column": "order_date"});
        column[field] = value;
        let (_, loc) = app
            .post("/query/execute")
            .as_user("alice")
            .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [column]}}))
            .send()
            .await
            .expect_validation();
        assert_eq!(loc[0], "body");
    }
    let (_, _) = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
            "filters": [{"table_id": "t1", "column": "id", "operator": "in_subquery", "value": {"sql": "select id from orders"}}]}}))
        .send()
        .await
        .expect_validation();
    let still = app.post("/query/execute").as_user("alice").json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}]}})).send().await.expect(200);
    assert_eq!(still["rows"][0][0], 3000, "the orders table is intact");
}

#[tokio::test]
async fn slow_queries_time_out_with_504() {
    let app = TestApp::new(
        engine()
            .await
            .with_query_timeout(Duration::from_millis(200)),
    );
    let slow = json!({
        "tables": [{"id": "a", "name": "order_items"}, {"id": "b", "name": "order_items", "alias": "b"}, {"id": "c", "name": "events"}],
        "columns": [{"table_id": "a", "column": "id", "aggregation": "count"}]
    });
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": slow}))
        .send()
        .await
        .expect_detail(504, "Query exceeded timeout of 0.2 seconds");
}

/// A table joined to itself needs no aliases from the client: each reference goes by its id.
/// The answer is the same statement written by hand.
#[tokio::test]
async fn a_table_joined_to_itself_runs_with_the_right_answer() {
    let app = TestApp::new(engine().await);
    let query = json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "orders"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "customer_id"}],
        "columns": [{"table_id": "t1", "column": "status"},
                    {"table_id": "t2", "column": "id", "aggregation": "count", "alias": "pairs"}],
        "filters": [{"table_id": "t2", "column": "total_amount", "operator": "gt", "value": 500}],
        "order_by": [{"table_id": "t1", "column": "status"}]
    });
    let validation = app
        .post("/query/validate")
        .as_user("alice")
        .json(&query)
        .send()
        .await
        .expect(200);
    assert_eq!(validation, json!({"valid": true, "errors": []}));
    let result = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": query}))
        .send()
        .await
        .expect(200);
    let expected: Vec<(Option<String>, i64)> = prismiq_store_postgres::sqlx::query_as(
        "select a.status::text, count(b.id) from orders a \
         join orders b on a.customer_id = b.customer_id \
         where b.total_amount > 500 group by a.status order by a.status",
    )
    .fetch_all(&sample::pool().await)
    .await
    .unwrap();
    assert!(
        expected.len() > 1,
        "the sample has several statuses: {expected:?}"
    );
    let rows: Vec<(Option<String>, i64)> = result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row[0].as_str().map(str::to_owned), row[1].as_i64().unwrap()))
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(result["columns"], json!(["status", "pairs"]));
}
