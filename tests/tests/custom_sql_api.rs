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

/// Functions outside the allow-list (server state, side effects, resources, SQL as text,
/// catalog lookups, unknown functions) and the name each refusal gives. Several run today on a
/// plain PostgreSQL (`txid_current()`, `version()`, `pg_backend_pid()`, …).
const OFF_THE_LIST: &[(&str, &str)] = &[
    ("select version()", "version"),
    ("select current_user", "current_user"),
    ("select session_user", "session_user"),
    ("select current_role", "current_role"),
    ("select current_schema", "current_schema"),
    ("select current_schemas(true)", "current_schemas"),
    ("select current_database()", "current_database"),
    ("select inet_server_addr()", "inet_server_addr"),
    ("select inet_server_port()", "inet_server_port"),
    ("select pg_backend_pid()", "pg_backend_pid"),
    ("select txid_current()", "txid_current"),
    ("select pg_current_xact_id()", "pg_current_xact_id"),
    (
        "select pg_catalog.txid_current_snapshot()",
        "txid_current_snapshot",
    ),
    (
        "select current_setting('prismiq.tenant_id')",
        "current_setting",
    ),
    ("select set_config('work_mem', '1GB', true)", "set_config"),
    (
        "select pg_postmaster_start_time()",
        "pg_postmaster_start_time",
    ),
    ("select pg_conf_load_time()", "pg_conf_load_time"),
    ("select pg_stat_get_numscans(1)", "pg_stat_get_numscans"),
    ("select pg_relation_size('orders')", "pg_relation_size"),
    ("select pg_database_size('postgres')", "pg_database_size"),
    (
        "select has_table_privilege('orders', 'select')",
        "has_table_privilege",
    ),
    ("select to_regclass('prismiq.dashboards')", "to_regclass"),
    ("select pg_get_viewdef(1)", "pg_get_viewdef"),
    ("select obj_description(1)", "obj_description"),
    ("select pg_sleep(10)", "pg_sleep"),
    ("select pg_read_file('/etc/passwd')", "pg_read_file"),
    ("select lo_import('/etc/passwd')", "lo_import"),
    (
        "select * from dblink('host=evil', 'select 1') as t(x int)",
        "dblink",
    ),
    ("select nextval('orders_id_seq')", "nextval"),
    ("select pg_advisory_lock(1)", "pg_advisory_lock"),
    ("select pg_notify('channel', 'hello')", "pg_notify"),
    (
        "select query_to_xml('select * from prismiq.dashboards', true, false, '')",
        "query_to_xml",
    ),
    ("select setseed(0.5)", "setseed"),
    ("select id, PG_BACKEND_PID() from orders", "PG_BACKEND_PID"),
    (
        "select count(*) from orders where status = txid_current()::text",
        "txid_current",
    ),
    (
        "select my_function(total_amount) from orders",
        "my_function",
    ),
];

#[tokio::test]
async fn functions_off_the_allow_list_are_refused_by_name() {
    let app = TestApp::new(engine().await);
    assert!(OFF_THE_LIST.len() >= 30);
    for (statement, name) in OFF_THE_LIST {
        let message = format!("Function '{name}' is not allowed");
        let checked = app
            .post("/query/validate-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect(200);
        assert_eq!(checked["valid"], false, "{statement}");
        assert!(
            checked["errors"]
                .as_array()
                .unwrap()
                .contains(&json!(message)),
            "{statement}: {checked}"
        );
        let detail = app
            .post("/query/execute-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect_detail_containing(400, "SQL validation failed: ");
        assert!(detail.contains(&message), "{statement}: {detail}");
    }
}

#[tokio::test]
async fn common_analytics_functions_run() {
    let app = TestApp::new(engine().await);
    let statements = [
        "select percentile_cont(0.5) within group (order by total_amount) as median, \
         mode() within group (order by status) as usual, stddev(total_amount), \
         corr(total_amount, id), string_agg(distinct status, ',' order by status), \
         bool_and(total_amount >= 0), count(distinct customer_id) from orders",
        "select customer_id, row_number() over w, rank() over w, dense_rank() over w, \
         percent_rank() over w, cume_dist() over w, ntile(4) over w, lag(total_amount) over w, \
         lead(total_amount) over w, first_value(total_amount) over w, \
         nth_value(total_amount, 2) over w from orders \
         window w as (partition by customer_id order by order_date) limit 5",
        "select date_trunc('month', order_date) as month, to_char(order_date, 'YYYY-MM'), \
         extract(year from order_date), date_part('dow', order_date), age(order_date), \
         round(sum(total_amount), 2), coalesce(max(shipping_address), 'none'), \
         greatest(min(total_amount), 0), nullif(count(*), 0) from orders \
         group by 1, 2, 3, 4, 5 order by 1 limit 3",
        "select lower(name), upper(tier), initcap(name), length(email), \
         split_part(email, '@', 2), left(name, 3), regexp_replace(name, '\\s+', ' ', 'g'), \
         concat_ws(' / ', region, tier), substring(name from 1 for 4), md5(email) \
         from customers limit 5",
        "select event_type, properties ->> 'page', jsonb_typeof(properties), \
         jsonb_extract_path_text(properties, 'page'), jsonb_build_object('t', event_type), \
         jsonb_path_exists(properties, '$.page') from events limit 5",
        "select d::date, count(o.id) from generate_series(date '2024-01-01', \
         date '2024-03-01', interval '1 month') d left join orders o \
         on date_trunc('month', o.order_date) = d group by 1 order by 1",
        "select x, array_length(array[1, 2, 3], 1), cardinality(array[1]), \
         array_to_string(array['a', 'b'], ',') from unnest(array[1, 2]) as u(x)",
    ];
    for statement in statements {
        let checked = app
            .post("/query/validate-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect(200);
        assert_eq!(checked["valid"], true, "{statement}: {checked}");
        let result = sql(&app, json!({"sql": statement})).await;
        assert!(
            !result["rows"].as_array().unwrap().is_empty(),
            "{statement}"
        );
    }
}

#[tokio::test]
async fn the_host_extends_the_allow_list() {
    let app = TestApp::new(
        engine()
            .await
            .with_allowed_functions(["my_func", "VERSION"]),
    );
    let checked = app
        .post("/query/validate-sql")
        .as_user("alice")
        .json(&json!({"sql": "select MY_FUNC(total_amount), \"My_Func\"(1) from orders"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        checked,
        json!({"valid": true, "errors": [], "tables": ["orders"]})
    );
    let version = sql(&app, json!({"sql": "select version() as v"})).await;
    assert!(
        version["rows"][0][0]
            .as_str()
            .is_some_and(|v| v.starts_with("PostgreSQL")),
        "{version}"
    );
    // The others stay refused.
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select txid_current()"}))
        .send()
        .await
        .expect_detail(
            400,
            "SQL validation failed: Function 'txid_current' is not allowed",
        );
}

/// `select count(*) … from orders` padded with a comment to exactly `len` bytes.
fn statement_of(len: usize) -> String {
    let head = "select count(*) as n from orders /*";
    let sql = format!("{head}{}*/", "x".repeat(len - head.len() - 2));
    assert_eq!(sql.len(), len);
    sql
}

#[tokio::test]
async fn statements_over_the_size_limit_are_refused_naming_it() {
    let app = TestApp::new(engine().await);
    let limit = 64 * 1024;

    let under = statement_of(limit);
    let checked = app
        .post("/query/validate-sql")
        .as_user("alice")
        .json(&json!({"sql": under}))
        .send()
        .await
        .expect(200);
    assert_eq!(checked["valid"], true, "{}", checked["errors"]);
    let result = sql(&app, json!({"sql": under})).await;
    assert_eq!(result["rows"], json!([[3000]]));

    let over = statement_of(limit + 1);
    let message = "SQL statement is 65537 bytes long; the limit is 65536 (max_sql_bytes)";
    let checked = app
        .post("/query/validate-sql")
        .as_user("alice")
        .json(&json!({"sql": over}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        checked,
        json!({"valid": false, "errors": [message], "tables": []})
    );
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": over}))
        .send()
        .await
        .expect_detail(422, message);

    // The host sets the limit.
    let small = TestApp::new(engine().await.with_max_sql_bytes(40));
    sql(&small, json!({"sql": statement_of(40)})).await;
    small
        .post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": statement_of(41)}))
        .send()
        .await
        .expect_detail(
            422,
            "SQL statement is 41 bytes long; the limit is 40 (max_sql_bytes)",
        );
}
