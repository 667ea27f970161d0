//! The query and custom-SQL endpoints against SQLite with the sample dataset: the coverage of
//! `query_api.rs` and `custom_sql_api.rs` (known answers, validation, SQL, preview, time
//! series, relative dates, every filter operator, widget execution with dashboard filters,
//! samples, trends, row filters, injection attempts, timeouts, custom SQL) on
//! `SqliteDataSource`, a corpus of hostile SQLite statements, and a database file per tenant.
//!
//! Expected answers come from the dataset's known answers or from the same question written
//! by hand and asked of the fixture file directly through sqlx.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use prismiq_axum::prismiq_core::{AuthContext, Engine, MemoryStore, RowFilter, RowPredicate};
use prismiq_store_sqlite::SqliteDataSource;
use prismiq_store_sqlite::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};
use prismiq_store_sqlite::sqlx::{self, AssertSqlSafe};
use prismiq_tests::{TestApp, sample, sample_sqlite};
use serde_json::{Value, json};

async fn engine() -> Engine {
    Engine::new(MemoryStore::new())
        .with_data_source(Arc::new(prismiq_tests::sample_sqlite::source().await))
}

/// The fixture file, opened read-only as the data source opens it, for the answers written
/// by hand and for checking that nothing changed.
struct Fixture(SqlitePool);

impl Fixture {
    async fn open() -> Self {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(SqliteDataSource::options(sample_sqlite::path().await))
            .await
            .expect("open the fixture file");
        Self(pool)
    }

    async fn int(&self, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.0)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    async fn float(&self, sql: &str) -> f64 {
        sqlx::query_scalar::<_, f64>(AssertSqlSafe(format!("select cast(({sql}) as real)")))
            .fetch_one(&self.0)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    async fn strings(&self, sql: &str) -> Vec<String> {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&self.0)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    async fn pairs(&self, sql: &str) -> Vec<(i64, String)> {
        sqlx::query_as(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&self.0)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// Row counts of every table of the file (the dataset's and prismiq's store's) and the
    /// number of schema objects: what no request may change.
    async fn snapshot(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in [
            "customers",
            "products",
            "orders",
            "order_items",
            "events",
            "dashboards",
            "widgets",
            "saved_queries",
            "pins",
            "schema_configs",
            "_prismiq_migrations",
        ] {
            let n = self.int(&format!("select count(*) from \"{table}\"")).await;
            out.push((table.to_owned(), n));
        }
        out.push((
            "sqlite_schema".to_owned(),
            self.int("select count(*) from sqlite_schema").await,
        ));
        out.push((
            "completed orders".to_owned(),
            self.int("select count(*) from orders where status = 'completed'")
                .await,
        ));
        out.push((
            "total cents".to_owned(),
            self.int("select cast(round(sum(total_amount) * 100) as integer) from orders")
                .await,
        ));
        out
    }
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

fn known_revenue() -> Vec<(Value, f64)> {
    vec![
        (json!("East"), 1092395.68),
        (json!("North"), 546612.82),
        (json!("South"), 825810.04),
        (json!("West"), 248526.12),
        (Value::Null, 54508.9),
    ]
}

/// Cents, for comparing sums of floating-point amounts.
fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

async fn execute(app: &TestApp, query: Value) -> Value {
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": query, "bypass_cache": true}))
        .send()
        .await
        .expect(200)
}

async fn sql(app: &TestApp, body: Value) -> Value {
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&body)
        .send()
        .await
        .expect(200)
}

// ----------------------------------------------------------------------- dates by hand

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `(year, month, day, hour, minute, second)` of `YYYY-MM-DD[ HH:MM:SS]`.
fn parts(text: &str) -> (i64, i64, i64, i64, i64, i64) {
    let n = |range: std::ops::Range<usize>| -> i64 {
        text.get(range).map_or(0, |s| s.parse().expect("a number"))
    };
    (n(0..4), n(5..7), n(8..10), n(11..13), n(14..16), n(17..19))
}

fn stamp(y: i64, m: i64, d: i64, h: i64, mi: i64, s: i64) -> String {
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// `text` truncated to `unit` as the SQLite dialect writes it (weeks start on Monday).
fn truncated(text: &str, unit: &str) -> String {
    let (y, m, d, h, mi, s) = parts(text);
    match unit {
        "year" => stamp(y, 1, 1, 0, 0, 0),
        "quarter" => stamp(y, (m - 1) / 3 * 3 + 1, 1, 0, 0, 0),
        "month" => stamp(y, m, 1, 0, 0, 0),
        "week" => {
            let day = days_from_civil(y, m, d);
            // 1970-01-01 was a Thursday: Monday is 0.
            let monday = day - (day + 3).rem_euclid(7);
            let (y, m, d) = civil_from_days(monday);
            stamp(y, m, d, 0, 0, 0)
        }
        "day" => stamp(y, m, d, 0, 0, 0),
        "hour" => stamp(y, m, d, h, 0, 0),
        "minute" => stamp(y, m, d, h, mi, 0),
        "second" => stamp(y, m, d, h, mi, s),
        other => panic!("unit {other}"),
    }
}

// ------------------------------------------------------------------ structured queries

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
    // sqlx's names of the declared type (VARCHAR(50) is text) and of the storage class of an
    // expression (the sum is a REAL).
    assert_eq!(result["column_types"], json!(["text", "real"]));
    assert_eq!(sample::label_and_amount(&result), known_revenue());
    assert_eq!(result["row_count"], 5);
    assert_eq!(result["truncated"], false);
    assert_eq!(result["is_from_cache"], false);
    assert!(result["execution_time_ms"].is_number());

    let again = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": revenue_by_region()}))
        .send()
        .await
        .expect(200);
    assert_eq!(again["is_from_cache"], true, "the second run is cached");
    assert_eq!(again["rows"], result["rows"]);

    let total = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]}),
    )
    .await;
    assert_eq!(total["rows"][0][0].as_f64().map(cents), Some(3466086.72));

    let counts = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}],
               "columns": [{"table_id": "t1", "column": "*", "aggregation": "count", "alias": "n"},
                           {"table_id": "t1", "column": "customer_id", "aggregation": "count_distinct", "alias": "customers"},
                           {"table_id": "t1", "column": "total_amount", "aggregation": "min", "alias": "low"},
                           {"table_id": "t1", "column": "total_amount", "aggregation": "max", "alias": "high"},
                           {"table_id": "t1", "column": "total_amount", "aggregation": "avg", "alias": "mean"}]}),
    )
    .await;
    let fixture = Fixture::open().await;
    assert_eq!(counts["rows"][0][0], 3000);
    assert_eq!(
        counts["rows"][0][1],
        fixture
            .int("select count(distinct customer_id) from orders")
            .await
    );
    assert_eq!(
        counts["rows"][0][2].as_f64().map(cents),
        Some(cents(
            fixture.float("select min(total_amount) from orders").await
        ))
    );
    assert_eq!(
        counts["rows"][0][3].as_f64().map(cents),
        Some(cents(
            fixture.float("select max(total_amount) from orders").await
        ))
    );
    assert_eq!(
        counts["rows"][0][4].as_f64().map(cents),
        Some(cents(3466086.72 / 3000.0))
    );

    let empty = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}, {"table_id": "t1", "column": "status"}], "filters": [{"table_id": "t1", "column": "id", "operator": "lt", "value": 0}]}),
    )
    .await;
    assert_eq!(
        empty["columns"],
        json!(["id", "status"]),
        "empty results keep their columns"
    );
    assert_eq!(empty["column_types"], json!(["integer", "text"]));
    assert_eq!(empty["rows"], json!([]));

    // Values convert by the declared type: dates and timestamps as ISO text, JSON parsed.
    let typed = execute(
        &app,
        json!({"tables": [{"id": "e", "name": "events"}],
               "columns": [{"table_id": "e", "column": "id"}, {"table_id": "e", "column": "timestamp"},
                           {"table_id": "e", "column": "properties"}],
               "order_by": [{"table_id": "e", "column": "id"}], "limit": 1}),
    )
    .await;
    assert_eq!(
        typed["column_types"],
        json!(["integer", "datetime", "text"])
    );
    let raw = fixture
        .strings("select timestamp from events order by id limit 1")
        .await;
    assert_eq!(typed["rows"][0][1], raw[0].replacen(' ', "T", 1));
    assert!(typed["rows"][0][2].is_object(), "{typed}");

    // Limit and offset (SQLite needs a LIMIT before an OFFSET).
    let paged = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
               "order_by": [{"table_id": "t1", "column": "id", "direction": "DESC"}], "limit": 2, "offset": 3}),
    )
    .await;
    assert_eq!(paged["rows"], json!([[2997], [2996]]));
    let offset_only = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
               "order_by": [{"table_id": "t1", "column": "id"}], "offset": 2998}),
    )
    .await;
    assert_eq!(offset_only["rows"], json!([[2999], [3000]]));

    // NULLs sort as on PostgreSQL: last ascending, first descending.
    let descending = execute(
        &app,
        json!({"tables": [{"id": "c", "name": "customers"}],
               "columns": [{"table_id": "c", "column": "region"}, {"table_id": "c", "column": "*", "aggregation": "count"}],
               "order_by": [{"table_id": "c", "column": "region", "direction": "DESC"}]}),
    )
    .await;
    let regions: Vec<&Value> = descending["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r[0])
        .collect();
    assert_eq!(
        regions,
        [
            &Value::Null,
            &json!("West"),
            &json!("South"),
            &json!("North"),
            &json!("East")
        ]
    );

    // A calculated field.
    let doubled = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}],
               "calculated_fields": [{"name": "double", "expression": "[total_amount] * 2"}],
               "columns": [{"table_id": "t1", "column": "double", "aggregation": "sum"}]}),
    )
    .await;
    assert_eq!(
        doubled["rows"][0][0].as_f64().map(cents),
        Some(2.0 * 3466086.72)
    );
}

#[tokio::test]
async fn validates_and_shows_sqlite_sql() {
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
    assert!(
        text.contains(r#"FROM "orders" LEFT JOIN "customers" AS "c""#),
        "tables are not qualified with a schema: {text}"
    );
    assert!(!text.contains(r#""public"."#), "{text}");
    assert!(!text.contains(r#""main"."#), "{text}");
    // Prismiq's store tables share the file, and are not listed.
    let tables = app.get("/tables").as_user("alice").send().await.expect(200);
    assert_eq!(
        tables,
        json!({"tables": ["customers", "events", "order_items", "orders", "products"]})
    );
    assert!(
        text.contains(r#""orders"."status" = ?"#),
        "? placeholders: {text}"
    );
    assert!(!text.contains("$1"), "{text}");
    assert!(!text.contains("completed"), "{text}");
    assert!(text.contains("NULLS LAST"), "{text}");
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
    let (_, loc) = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [], "columns": []}}))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc[0], "body");

    // Every date_trunc unit compiles to SQLite's strftime, never to date_trunc.
    for unit in [
        "year", "quarter", "month", "week", "day", "hour", "minute", "second",
    ] {
        let sql = app
            .post("/query/sql")
            .as_user("alice")
            .json(&json!({"tables": [{"id": "e", "name": "events"}],
                          "columns": [{"table_id": "e", "column": "timestamp", "date_trunc": unit}]}))
            .send()
            .await
            .expect(200);
        let text = sql["sql"].as_str().unwrap();
        assert!(text.contains("strftime("), "{unit}: {text}");
        assert!(!text.contains("date_trunc("), "{unit}: {text}");
    }
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
    let capped = TestApp::new(engine().await.with_max_rows(5));
    let few = capped
        .post("/query/preview?limit=50")
        .as_user("alice")
        .json(&q)
        .send()
        .await
        .expect(200);
    assert_eq!(few["row_count"], 5, "the engine's row cap wins");
    let truncated = capped
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": q}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        (
            truncated["row_count"].as_u64(),
            truncated["truncated"].as_bool()
        ),
        (Some(5), Some(true))
    );
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
    assert_eq!(result["rows"][0][1], 0, "{result}");
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

/// Every bucket of a year of orders, by week (from Monday) and by quarter, against the dates
/// bucketed by hand: the counts of the buckets with orders, zero for the others, each bucket
/// once.
#[tokio::test]
async fn time_series_buckets_match_the_dates_bucketed_by_hand() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let dates = fixture
        .strings(
            "select order_date from orders where order_date between '2025-01-01' and '2025-12-31' \
             and status = 'completed'",
        )
        .await;
    assert!(dates.len() > 100);
    for (interval, expected_buckets) in [("week", 53), ("quarter", 4), ("month", 12), ("day", 365)]
    {
        let q = json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "id", "aggregation": "count", "alias": "orders"}],
            "filters": [
                {"table_id": "t1", "column": "order_date", "operator": "between", "value": ["2025-01-01", "2025-12-31"]},
                {"table_id": "t1", "column": "status", "operator": "eq", "value": "completed"}
            ]
        });
        let result = app
            .post("/query/execute/timeseries")
            .as_user("alice")
            .json(&json!({"query": q, "interval": interval, "date_column": "order_date"}))
            .send()
            .await
            .expect(200);
        let mut expected: std::collections::BTreeMap<String, i64> = Default::default();
        for date in &dates {
            *expected.entry(truncated(date, interval)).or_default() += 1;
        }
        let rows = result["rows"].as_array().unwrap();
        let got: Vec<(String, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r[0].as_str()
                        .unwrap_or_else(|| panic!("{interval}: a text bucket in {r}"))
                        .to_owned(),
                    r[1].as_i64().unwrap(),
                )
            })
            .collect();
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup_by(|a, b| a.0 == b.0);
        assert_eq!(
            sorted.len(),
            got.len(),
            "{interval}: a bucket twice: {got:?}"
        );
        assert_eq!(
            got.len(),
            expected_buckets,
            "{interval}: every bucket of 2025, with or without orders: {got:?}"
        );
        for (bucket, count) in &got {
            assert_eq!(
                *count,
                expected.get(bucket).copied().unwrap_or(0),
                "{interval} bucket {bucket}"
            );
        }
        for (bucket, count) in &expected {
            assert!(
                got.contains(&(bucket.clone(), *count)),
                "{interval}: bucket {bucket} with {count} orders missing from {got:?}"
            );
        }
        assert_eq!(
            got.iter().map(|(_, n)| n).sum::<i64>(),
            dates.len() as i64,
            "{interval}"
        );
    }
}

/// `date_trunc` on every unit, on a date column and on a timestamp column, against the
/// truncation done by hand (weeks start on Monday, quarters in January, April, July, October).
#[tokio::test]
async fn date_trunc_of_every_unit() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    // Orders on each day of a week, across a year's end, and in every month.
    let order_ids: Vec<i64> = (1..=3000).step_by(37).collect();
    let event_ids: Vec<i64> = (1..=5000).step_by(61).collect();
    for unit in [
        "year", "quarter", "month", "week", "day", "hour", "minute", "second",
    ] {
        for (table, column, ids) in [
            ("orders", "order_date", &order_ids),
            ("events", "timestamp", &event_ids),
        ] {
            let result = execute(
                &app,
                json!({"tables": [{"id": "t", "name": table}],
                       "columns": [{"table_id": "t", "column": "id"},
                                   {"table_id": "t", "column": column, "date_trunc": unit, "alias": "bucket"}],
                       "filters": [{"table_id": "t", "column": "id", "operator": "in_", "value": ids}],
                       "order_by": [{"table_id": "t", "column": "id"}]}),
            )
            .await;
            let raw = fixture
                .pairs(&format!(
                    "select id, \"{column}\" from {table} where id in ({}) order by id",
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                ))
                .await;
            let expected: Vec<Value> = raw
                .iter()
                .map(|(id, value)| json!([id, truncated(value, unit)]))
                .collect();
            assert_eq!(
                result["rows"],
                Value::Array(expected),
                "{table}.{column} by {unit}"
            );
        }
    }
    // Weeks start on Monday: 2026-05-31 is a Sunday, its week began on 2026-05-25.
    assert_eq!(truncated("2026-05-31", "week"), "2026-05-25T00:00:00");
    assert_eq!(truncated("2026-06-01", "week"), "2026-06-01T00:00:00");
    let sunday = execute(
        &app,
        json!({"tables": [{"id": "t", "name": "orders"}],
               "columns": [{"table_id": "t", "column": "order_date", "date_trunc": "week", "alias": "week"},
                           {"table_id": "t", "column": "order_date", "date_trunc": "quarter", "alias": "quarter"}],
               "filters": [{"table_id": "t", "column": "order_date", "operator": "eq", "value": "2026-05-31"}],
               "limit": 1}),
    )
    .await;
    assert_eq!(
        sunday["rows"],
        json!([["2026-05-25T00:00:00", "2026-04-01T00:00:00"]])
    );
}

/// `date_relative`, `not_date_relative` and `date_window` resolve against today (the local
/// date, as the engine takes it), on a date column and on a timestamp column, with the answers
/// of the same ranges written by hand.
#[tokio::test]
async fn relative_dates_resolve_against_today() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let count = |table: &str, column: &str, operator: &str, value: Value| {
        json!({"tables": [{"id": "t", "name": table}],
               "columns": [{"table_id": "t", "column": "*", "aggregation": "count"}],
               "filters": [{"table_id": "t", "column": column, "operator": operator, "value": value}]})
    };
    let cases: Vec<(Value, String)> = vec![
        (
            count("orders", "order_date", "date_relative", json!(-400)),
            "select count(*) from orders where order_date between date('now', 'localtime', '-400 days') and date('now', 'localtime')".to_owned(),
        ),
        (
            count("orders", "order_date", "not_date_relative", json!(-400)),
            "select count(*) from orders where order_date < date('now', 'localtime', '-400 days') or order_date > date('now', 'localtime')".to_owned(),
        ),
        (
            count("orders", "order_date", "date_relative", json!(-100_000)),
            "select 3000".to_owned(),
        ),
        (
            count("orders", "order_date", "date_relative", json!(30)),
            "select count(*) from orders where order_date between date('now', 'localtime') and date('now', 'localtime', '+30 days')".to_owned(),
        ),
        (
            count("events", "timestamp", "date_relative", json!(-400)),
            "select count(*) from events where timestamp >= date('now', 'localtime', '-400 days') || ' 00:00:00' \
             and timestamp < date('now', 'localtime', '+1 day') || ' 00:00:00'".to_owned(),
        ),
        (
            count("events", "timestamp", "not_date_relative", json!(-400)),
            "select count(*) from events where timestamp < date('now', 'localtime', '-400 days') || ' 00:00:00' \
             or timestamp >= date('now', 'localtime', '+1 day') || ' 00:00:00'".to_owned(),
        ),
        (
            count("orders", "order_date", "date_window", json!({"period": "yearly", "value": -1})),
            "select count(*) from orders where order_date between date('now', 'localtime', 'start of year', '-1 year') \
             and date('now', 'localtime', 'start of year', '-1 day')".to_owned(),
        ),
        (
            count("orders", "order_date", "date_window", json!({"period": "yearly", "value": 0})),
            "select count(*) from orders where order_date between date('now', 'localtime', 'start of year') and date('now', 'localtime')".to_owned(),
        ),
        (
            count("events", "timestamp", "date_window", json!({"period": "yearly", "value": -1})),
            "select count(*) from events where timestamp >= date('now', 'localtime', 'start of year', '-1 year') || ' 00:00:00' \
             and timestamp < date('now', 'localtime', 'start of year') || ' 00:00:00'".to_owned(),
        ),
        (
            count("orders", "order_date", "date_window", json!({"period": "quarterly", "value": -2})),
            // The calendar quarter two before today's.
            "select count(*) from orders where order_date between \
             date('now', 'localtime', 'start of month', '-' || ((cast(strftime('%m', 'now', 'localtime') as integer) - 1) % 3 + 6) || ' months') \
             and date('now', 'localtime', 'start of month', '-' || ((cast(strftime('%m', 'now', 'localtime') as integer) - 1) % 3 + 3) || ' months', '-1 day')".to_owned(),
        ),
    ];
    let mut nonzero = 0;
    for (query, by_hand) in cases {
        let result = execute(&app, query.clone()).await;
        let expected = fixture.int(&by_hand).await;
        if expected > 0 {
            nonzero += 1;
        }
        assert_eq!(result["rows"][0][0], expected, "{query} vs {by_hand}");
    }
    assert!(nonzero >= 4, "the ranges select rows");
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": count("orders", "status", "date_relative", json!(-7))}))
        .send()
        .await
        .expect_detail_containing(
            400,
            "Operator 'date_relative' requires a date or timestamp column, but 'status' is of \
             type 'varchar(20)'",
        );
}

/// Every filter operator, with the answer of the same condition written by hand.
#[tokio::test]
async fn every_filter_operator_has_the_answer_of_the_condition_by_hand() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let cases: Vec<(&str, &str, &str, Value, &str)> = vec![
        (
            "orders",
            "status",
            "eq",
            json!("completed"),
            "status = 'completed'",
        ),
        (
            "orders",
            "status",
            "neq",
            json!("completed"),
            "status <> 'completed'",
        ),
        ("customers", "region", "eq", Value::Null, "region is null"),
        (
            "customers",
            "region",
            "neq",
            Value::Null,
            "region is not null",
        ),
        (
            "orders",
            "total_amount",
            "gt",
            json!(500),
            "total_amount > 500",
        ),
        (
            "orders",
            "total_amount",
            "gte",
            json!(500.5),
            "total_amount >= 500.5",
        ),
        (
            "orders",
            "total_amount",
            "lt",
            json!(100.25),
            "total_amount < 100.25",
        ),
        (
            "orders",
            "total_amount",
            "lte",
            json!(100),
            "total_amount <= 100",
        ),
        ("orders", "id", "gt", json!(2990), "id > 2990"),
        (
            "orders",
            "order_date",
            "gt",
            json!("2026-01-01"),
            "order_date > '2026-01-01'",
        ),
        (
            "orders",
            "order_date",
            "lte",
            json!("2026-01-01"),
            "order_date <= '2026-01-01'",
        ),
        // A date against a timestamp means the whole day.
        (
            "events",
            "timestamp",
            "lte",
            json!("2025-01-01"),
            "timestamp < '2025-01-02 00:00:00'",
        ),
        (
            "events",
            "timestamp",
            "gt",
            json!("2026-05-01"),
            "timestamp >= '2026-05-02 00:00:00'",
        ),
        (
            "events",
            "timestamp",
            "gte",
            json!("2026-05-01T12:00:00"),
            "timestamp >= '2026-05-01 12:00:00'",
        ),
        (
            "events",
            "timestamp",
            "lt",
            json!("2026-05-01 12:30:00"),
            "timestamp < '2026-05-01 12:30:00'",
        ),
        (
            "customers",
            "region",
            "in_",
            json!(["East", "West"]),
            "region in ('East', 'West')",
        ),
        ("customers", "region", "in_", json!([]), "0"),
        (
            "customers",
            "region",
            "not_in",
            json!(["East", "West"]),
            "region not in ('East', 'West')",
        ),
        ("customers", "region", "not_in", json!([]), "1"),
        (
            "customers",
            "region",
            "in_or_null",
            json!(["East"]),
            "region = 'East' or region is null",
        ),
        (
            "customers",
            "region",
            "in_or_null",
            json!(["East", null]),
            "region = 'East' or region is null",
        ),
        (
            "customers",
            "region",
            "in_or_null",
            json!([]),
            "region is null",
        ),
        (
            "customers",
            "id",
            "in_",
            json!([1, 2, 3]),
            "id in (1, 2, 3)",
        ),
        (
            "orders",
            "total_amount",
            "not_in",
            json!([100, 200]),
            "total_amount not in (100, 200)",
        ),
        (
            "customers",
            "created_at",
            "lt",
            json!("2024-01-01T00:00:00Z"),
            "created_at < '2024-01-01 00:00:00'",
        ),
        ("customers", "name", "like", json!("J%"), "name glob 'J*'"),
        ("customers", "name", "like", json!("j%"), "0"),
        (
            "customers",
            "name",
            "like",
            json!("%son%"),
            "name glob '*son*'",
        ),
        (
            "customers",
            "name",
            "ilike",
            json!("j%"),
            "name glob 'J*' or name glob 'j*'",
        ),
        (
            "customers",
            "name",
            "ilike",
            json!("%SON%"),
            "lower(name) glob '*son*'",
        ),
        (
            "customers",
            "name",
            "not_like",
            json!("J%"),
            "not name glob 'J*'",
        ),
        (
            "customers",
            "name",
            "not_ilike",
            json!("j%"),
            "not (name glob 'J*' or name glob 'j*')",
        ),
        (
            "customers",
            "email",
            "like",
            json!("%@demo.com"),
            "email glob '*@demo.com'",
        ),
        // `\` escapes `%` and `_`: no email has an underscore, every one has a character.
        ("customers", "email", "like", json!("%\\_%"), "0"),
        (
            "customers",
            "email",
            "like",
            json!("%_%"),
            "email is not null",
        ),
        ("customers", "email", "like", json!("100\\%"), "0"),
        // A pattern on a date compares its text.
        (
            "orders",
            "order_date",
            "like",
            json!("2026-02-%"),
            "order_date glob '2026-02-*'",
        ),
        (
            "orders",
            "total_amount",
            "between",
            json!([100, 200]),
            "total_amount between 100 and 200",
        ),
        (
            "orders",
            "order_date",
            "between",
            json!(["2026-01-01", "2026-01-31"]),
            "order_date between '2026-01-01' and '2026-01-31'",
        ),
        (
            "events",
            "timestamp",
            "between",
            json!(["2026-01-01", "2026-01-31"]),
            "timestamp >= '2026-01-01 00:00:00' and timestamp < '2026-02-01 00:00:00'",
        ),
        (
            "customers",
            "region",
            "is_null",
            Value::Null,
            "region is null",
        ),
        (
            "customers",
            "region",
            "is_not_null",
            Value::Null,
            "region is not null",
        ),
        (
            "orders",
            "shipping_address",
            "is_null",
            json!(true),
            "shipping_address is null",
        ),
        (
            "events",
            "properties",
            "like",
            json!("%\"page\"%"),
            "properties glob '*\"page\"*'",
        ),
    ];
    let mut nonzero = 0;
    for (table, column, operator, value, condition) in cases {
        let result = execute(
            &app,
            json!({"tables": [{"id": "t", "name": table}],
                   "columns": [{"table_id": "t", "column": "*", "aggregation": "count"}],
                   "filters": [{"table_id": "t", "column": column, "operator": operator, "value": value}]}),
        )
        .await;
        let expected = fixture
            .int(&format!("select count(*) from {table} where {condition}"))
            .await;
        let total = fixture.int(&format!("select count(*) from {table}")).await;
        if expected > 0 && expected < total {
            nonzero += 1;
        }
        assert_eq!(
            result["rows"][0][0], expected,
            "{table}.{column} {operator} {value} (by hand: {condition})"
        );
    }
    assert!(nonzero >= 25, "most conditions select some rows, not all");

    for value in [json!([1]), json!(5), json!([1, 2, 3])] {
        app.post("/query/execute")
            .as_user("alice")
            .json(&json!({"query": {"tables": [{"id": "t", "name": "orders"}],
                "columns": [{"table_id": "t", "column": "id"}],
                "filters": [{"table_id": "t", "column": "total_amount", "operator": "between", "value": value}]}}))
            .send()
            .await
            .expect_detail(
                400,
                "Query validation failed: Operator 'between' requires a list/tuple of exactly 2 \
                 values for column 'total_amount'",
            );
    }
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t", "name": "orders"}],
            "columns": [{"table_id": "t", "column": "id"}],
            "filters": [{"table_id": "t", "column": "total_amount", "operator": "gt", "value": "lots"}]}}))
        .send()
        .await
        .expect_detail(
            400,
            "Query validation failed: Column 'total_amount' is numeric but received non-numeric \
             value",
        );
}

#[tokio::test]
async fn executes_widgets_with_dashboard_filters() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let count_query = json!({"tables": [{"id": "o", "name": "orders"}, {"id": "c", "name": "customers"}],
        "joins": [{"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}],
        "columns": [{"table_id": "o", "column": "*", "aggregation": "count", "alias": "n"}]});
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({
            "name": "Revenue",
            "filters": [
                {"id": "region", "type": "select", "label": "Region", "field": "region", "table": "customers"},
                {"id": "regions", "type": "multi_select", "label": "Regions", "field": "region", "table": "customers"},
                {"id": "when", "type": "date_range", "label": "When", "field": "order_date"},
                {"id": "name", "type": "text", "label": "Name", "field": "name"},
                {"id": "amount", "type": "number_range", "label": "Amount", "field": "total_amount"}
            ],
            "widgets": [{"type": "bar_chart", "title": "By region", "query": revenue_by_region(), "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
                        {"type": "text", "title": "Notes", "position": {"x": 6, "y": 0, "w": 6, "h": 4}},
                        {"type": "metric", "title": "Orders", "query": count_query, "position": {"x": 0, "y": 4, "w": 6, "h": 4}}]
        }))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let widget = |kind: &str| {
        dashboard["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["type"] == kind)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (chart, text, metric) = (widget("bar_chart"), widget("text"), widget("metric"));
    let path = format!("/dashboards/{id}/widgets/{chart}/execute");

    let all = app.post(&path).as_user("alice").send().await.expect(200);
    assert_eq!(all["row_count"], 5, "no body: no filter");
    assert_eq!(sample::label_and_amount(&all), known_revenue());
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

    // Each kind of dashboard filter on the count widget, against the condition by hand.
    let metric_path = format!("/dashboards/{id}/widgets/{metric}/execute");
    let by_hand = |condition: &str| {
        format!(
            "select count(*) from orders o join customers c on o.customer_id = c.id where {condition}"
        )
    };
    let cases = [
        (json!([]), by_hand("1")),
        (
            json!([{"filter_id": "regions", "value": ["North", "South"]}]),
            by_hand("c.region in ('North', 'South')"),
        ),
        (
            json!([{"filter_id": "when", "value": {"start": "2026-01-01", "end": "2026-03-31"}}]),
            by_hand("o.order_date between '2026-01-01' and '2026-03-31'"),
        ),
        (
            json!([{"filter_id": "name", "value": "SMITH"}]),
            by_hand("lower(c.name) glob '*smith*'"),
        ),
        (
            json!([{"filter_id": "amount", "value": {"min": 100, "max": 250.5}}]),
            by_hand("o.total_amount between 100 and 250.5"),
        ),
        (
            json!([{"filter_id": "region", "value": "West"}, {"filter_id": "amount", "value": {"min": 500}},
                   {"filter_id": "when", "value": "all_time"}]),
            by_hand("c.region = 'West' and o.total_amount >= 500"),
        ),
        (
            json!([{"filter_id": "name", "value": "100%_"}]),
            by_hand("0"),
        ),
    ];
    for (values, condition) in cases {
        let result = app
            .post(&metric_path)
            .as_user("alice")
            .json(&values)
            .send()
            .await
            .expect(200);
        assert_eq!(
            result["rows"][0][0],
            fixture.int(&condition).await,
            "{values}: {condition}"
        );
    }
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
    let dates = app
        .get("/tables/orders/columns/order_date/sample?limit=2")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(dates["values"].as_array().unwrap().len(), 2, "{dates}");
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
    for hidden in [
        "dashboards",
        "_prismiq_migrations",
        "sqlite_schema",
        "sqlite_master",
    ] {
        app.get(&format!("/tables/{hidden}/columns/name/sample"))
            .as_user("alice")
            .send()
            .await
            .expect_detail(404, &format!("Table '{hidden}' not found"));
    }

    let fixture = Fixture::open().await;
    let q = json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}]});
    let trend = app
        .post("/metrics/trend")
        .as_user("alice")
        .json(&json!({"query": q, "comparison": "previous_period", "current_start": "2026-05-01", "current_end": "2026-05-31", "value_column": "revenue", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    let current = fixture
        .float("select sum(total_amount) from orders where order_date between '2026-05-01' and '2026-05-31'")
        .await;
    // The 31 days before May.
    let previous = fixture
        .float("select sum(total_amount) from orders where order_date between '2026-03-31' and '2026-04-30'")
        .await;
    assert_eq!(
        trend["current_value"].as_f64().map(cents),
        Some(cents(current))
    );
    assert_eq!(
        trend["previous_value"].as_f64().map(cents),
        Some(cents(previous))
    );
    assert_eq!(
        trend["absolute_change"].as_f64().map(cents),
        Some(cents(current - previous))
    );
    let direction = if current > previous { "up" } else { "down" };
    assert_eq!(trend["direction"], direction, "{trend}");
    let yearly = app
        .post("/metrics/trend")
        .as_user("alice")
        .json(&json!({"query": q, "comparison": "previous_year", "current_start": "2026-01-01", "current_end": "2026-03-31", "value_column": "revenue", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        yearly["previous_value"].as_f64().map(cents),
        Some(cents(
            fixture
                .float("select sum(total_amount) from orders where order_date between '2025-01-01' and '2025-03-31'")
                .await
        ))
    );
    let before_data = app
        .post("/metrics/trend")
        .as_user("alice")
        .json(&json!({"query": q, "comparison": "previous_year", "current_start": "2024-01-01", "current_end": "2024-01-31", "value_column": "revenue", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    assert_eq!(before_data["current_value"], 0.0, "{before_data}");
    app.post("/metrics/trend")
        .json(&json!({}))
        .send()
        .await
        .expect_detail(400, "X-Tenant-ID header is required");

    // The transforms reshape a SQLite result like any other.
    let by_region_and_status = execute(
        &app,
        json!({"tables": [{"id": "o", "name": "orders"}, {"id": "c", "name": "customers"}],
               "joins": [{"from_table_id": "o", "from_column": "customer_id", "to_table_id": "c", "to_column": "id"}],
               "columns": [{"table_id": "c", "column": "region"}, {"table_id": "o", "column": "status"},
                           {"table_id": "o", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}],
               "filters": [{"table_id": "c", "column": "region", "operator": "is_not_null"},
                           {"table_id": "o", "column": "status", "operator": "in_", "value": ["completed", "pending"]}],
               "order_by": [{"table_id": "c", "column": "region"}, {"table_id": "o", "column": "status"}]}),
    )
    .await;
    let pivoted = app
        .post("/transform/pivot")
        .json(&json!({"result": by_region_and_status, "row_column": "region", "pivot_column": "status", "value_column": "revenue"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        pivoted["columns"],
        json!(["region", "completed", "pending"])
    );
    assert_eq!(pivoted["rows"][0][0], "East");
    assert_eq!(pivoted["rows"][0][1].as_f64().map(cents), Some(1092395.68));
    let months = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": q, "interval": "month", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    let trended = app
        .post("/transform/trend")
        .json(&json!({"result": months, "value_column": "revenue", "order_column": "order_date_bucket"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        trended["columns"],
        json!([
            "order_date_bucket",
            "revenue",
            "revenue_prev",
            "revenue_change",
            "revenue_pct_change"
        ])
    );
    let rows = trended["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 24, "two years of months: {trended}");
    assert_eq!(rows[0][0], "2024-06-01T00:00:00");
    assert_eq!(rows[1][2], rows[0][1], "{trended}");
    app.post("/transform/trend")
        .json(&json!({"result": months, "value_column": "x", "order_column": "order_date_bucket"}))
        .send()
        .await
        .expect_detail(400, "Column not found: x");
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
    let fixture = Fixture::open().await;
    let joined = execute(&app, revenue_by_region()).await;
    // customers is LEFT-joined: orders stay, but no customer outside East is seen.
    assert_eq!(
        sample::label_and_amount(&joined),
        [(json!("East"), 1092395.68), (Value::Null, 1675457.88)],
        "{joined}"
    );
    let mut inner = revenue_by_region();
    inner["joins"][0]["join_type"] = json!("INNER");
    let inner = execute(&app, inner).await;
    assert_eq!(
        sample::label_and_amount(&inner),
        [(json!("East"), 1092395.68)],
        "{inner}"
    );
    // RIGHT and FULL joins (SQLite 3.39+): the filtered customers are the only ones seen.
    for join_type in ["RIGHT", "FULL"] {
        let mut outer = revenue_by_region();
        outer["joins"][0]["join_type"] = json!(join_type);
        let outer = execute(&app, outer).await;
        assert_eq!(
            sample::label_and_amount(&outer)[0],
            (json!("East"), 1092395.68),
            "{join_type}: {outer}"
        );
        for row in outer["rows"].as_array().unwrap() {
            assert!(
                row[0] == "East" || row[0].is_null(),
                "{join_type} leaked {row}"
            );
        }
    }
    let base = execute(
        &app,
        json!({"tables": [{"id": "c", "name": "customers"}], "columns": [{"table_id": "c", "column": "region"}, {"table_id": "c", "column": "*", "aggregation": "count"}]}),
    )
    .await;
    assert_eq!(base["rows"].as_array().unwrap().len(), 1);
    assert_eq!(base["rows"][0][0], "East");
    assert_eq!(
        base["rows"][0][1],
        fixture
            .int("select count(*) from customers where region = 'East'")
            .await
    );
    let samples = app
        .get("/tables/customers/columns/region/sample?limit=10")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(samples, json!({"values": ["East"]}));
    // A filter that tries to widen the scope cannot: the predicate is ANDed.
    let widened = execute(
        &app,
        json!({"tables": [{"id": "c", "name": "customers"}], "columns": [{"table_id": "c", "column": "region"}], "filters": [{"table_id": "c", "column": "region", "operator": "in_or_null", "value": ["West", "North"]}]}),
    )
    .await;
    assert_eq!(widened["rows"], json!([]));
    // The same table twice: both references are filtered.
    let twice = execute(
        &app,
        json!({"tables": [{"id": "a", "name": "customers"}, {"id": "b", "name": "customers"}],
               "joins": [{"from_table_id": "a", "from_column": "tier", "to_table_id": "b", "to_column": "tier", "join_type": "LEFT"}],
               "columns": [{"table_id": "a", "column": "region", "alias": "ra"}, {"table_id": "b", "column": "region", "alias": "rb"},
                           {"table_id": "a", "column": "*", "aggregation": "count"}]}),
    )
    .await;
    for row in twice["rows"].as_array().unwrap() {
        assert_eq!(row[0], "East", "{twice}");
        assert!(row[1] == "East" || row[1].is_null(), "{twice}");
    }
    // A preview, a time series and a trend of customers only count East's.
    let preview = app
        .post("/query/preview")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "c", "name": "customers"}], "columns": [{"table_id": "c", "column": "region"}]}, "limit": 1000}))
        .send()
        .await
        .expect(200);
    assert!(
        preview["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r[0] == "East"),
        "{preview}"
    );
    let series = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "c", "name": "customers"}],
                                "columns": [{"table_id": "c", "column": "*", "aggregation": "count", "alias": "n"}]},
                      "interval": "year", "date_column": "created_at"}))
        .send()
        .await
        .expect(200);
    let per_year: i64 = series["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_i64().unwrap())
        .sum();
    assert_eq!(
        per_year,
        fixture
            .int("select count(*) from customers where region = 'East'")
            .await,
        "{series}"
    );
    let trend = app
        .post("/metrics/trend")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "c", "name": "customers"}],
                                "columns": [{"table_id": "c", "column": "*", "aggregation": "count", "alias": "n"}]},
                      "comparison": "previous_year", "current_start": "2025-06-01", "current_end": "2026-05-31",
                      "value_column": "n", "date_column": "created_at"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        trend["current_value"].as_f64(),
        Some(
            fixture
                .int("select count(*) from customers where region = 'East' and created_at >= '2025-06-01' and created_at < '2026-06-01'")
                .await as f64
        ),
        "{trend}"
    );
    // A widget, through the dashboard's own filter.
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Customers",
            "filters": [{"id": "region", "type": "select", "label": "Region", "field": "region"}],
            "widgets": [{"type": "table", "title": "Regions", "position": {"x": 0, "y": 0, "w": 6, "h": 4},
                         "query": {"tables": [{"id": "c", "name": "customers"}], "columns": [{"table_id": "c", "column": "region"}, {"table_id": "c", "column": "*", "aggregation": "count"}]}}]}))
        .send()
        .await
        .expect(201);
    let path = format!(
        "/dashboards/{}/widgets/{}/execute",
        dashboard["id"].as_str().unwrap(),
        dashboard["widgets"][0]["id"].as_str().unwrap()
    );
    let widget = app.post(&path).as_user("alice").send().await.expect(200);
    assert_eq!(widget["rows"].as_array().unwrap().len(), 1, "{widget}");
    assert_eq!(widget["rows"][0][0], "East");
    let west = app
        .post(&path)
        .as_user("alice")
        .json(&json!([{"filter_id": "region", "value": "West"}]))
        .send()
        .await
        .expect(200);
    assert_eq!(west["rows"], json!([]));
}

#[tokio::test]
async fn injection_attempts_through_every_string_field() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let before = fixture.snapshot().await;

    let attempts = [
        json!({"tables": [{"id": "t1", "name": "orders; drop table orders"}], "columns": [{"table_id": "t1", "column": "id"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id\"; drop table orders; --"}]}),
        json!({"tables": [{"id": "t1", "name": "sqlite_master"}], "columns": [{"table_id": "t1", "column": "sql"}]}),
        json!({"tables": [{"id": "t1", "name": "sqlite_schema"}], "columns": [{"table_id": "t1", "column": "name"}]}),
        json!({"tables": [{"id": "t1", "name": "sqlite_temp_master"}], "columns": [{"table_id": "t1", "column": "name"}]}),
        json!({"tables": [{"id": "t1", "name": "main.orders"}], "columns": [{"table_id": "t1", "column": "id"}]}),
        json!({"tables": [{"id": "t1", "name": "temp.orders"}], "columns": [{"table_id": "t1", "column": "id"}]}),
        json!({"tables": [{"id": "t1", "name": "pragma_table_info('orders')"}], "columns": [{"table_id": "t1", "column": "name"}]}),
        json!({"tables": [{"id": "t1", "name": "dashboards"}], "columns": [{"table_id": "t1", "column": "name"}]}),
        json!({"tables": [{"id": "t1", "name": "widgets"}], "columns": [{"table_id": "t1", "column": "id"}]}),
        json!({"tables": [{"id": "t1", "name": "_prismiq_migrations"}], "columns": [{"table_id": "t1", "column": "version"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
               "order_by": [{"table_id": "t1", "column": "id; drop table orders"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
               "group_by": [{"table_id": "t1", "column": "(select sql from sqlite_master)"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
               "joins": [{"from_table_id": "t1", "from_column": "customer_id = 1 or 1", "to_table_id": "t2", "to_column": "id"}],
               "columns": [{"table_id": "t1", "column": "id"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "c", "aggregation": "sum"}],
               "calculated_fields": [{"name": "c", "expression": "[total_amount]) from orders; drop table orders; --"}]}),
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "c"}],
               "calculated_fields": [{"name": "c", "expression": "load_extension(\"/tmp/x.so\")"}]}),
    ];
    for attempt in attempts {
        let response = app
            .post("/query/execute")
            .as_user("alice")
            .json(&json!({"query": attempt}))
            .send()
            .await;
        assert_eq!(
            response.status.as_u16(),
            400,
            "{attempt}: {}",
            response.body
        );
    }
    // A filter on a column that does not exist is dropped (as on PostgreSQL): the query reads
    // what it would read without it, nothing more.
    let dropped = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}],
               "filters": [{"table_id": "t1", "column": "status' or '1'='1", "operator": "eq", "value": "x"},
                           {"table_id": "t1", "column": "status", "operator": "eq", "value": "completed"}]}),
    )
    .await;
    assert_eq!(
        dropped["rows"][0][0],
        fixture
            .int("select count(*) from orders where status = 'completed'")
            .await
    );
    // Aliases are quoted, values are bound: they run harmlessly.
    let quoted = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders", "alias": "o\"; drop table orders; --"}],
            "columns": [{"table_id": "t1", "column": "id", "alias": "x\" from orders; --"}],
            "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "' or 1=1; drop table orders; --"},
                        {"table_id": "t1", "column": "status", "operator": "like", "value": "%'; attach database '/tmp/x.db' as x; --"},
                        {"table_id": "t1", "column": "status", "operator": "in_", "value": ["') or 1=1 --", "x"]}]}),
    )
    .await;
    assert_eq!(quoted["columns"], json!(["x\" from orders; --"]));
    assert_eq!(quoted["rows"], json!([]));
    // Quotes in ids, aliases and calculated-field names stay names.
    let named = execute(
        &app,
        json!({"tables": [{"id": "t1'; --", "name": "orders", "alias": "[o]`"}],
            "calculated_fields": [{"name": "x\"]`; drop table orders", "expression": "[total_amount] + 1"}],
            "columns": [{"table_id": "t1'; --", "column": "x\"]`; drop table orders", "aggregation": "count", "alias": "n"}],
            "filters": [{"table_id": "t1'; --", "column": "order_date", "operator": "between", "value": ["2026-01-01", "2026-01-31"]}]}),
    )
    .await;
    assert_eq!(
        named["rows"][0][0],
        fixture
            .int(
                "select count(*) from orders where order_date between '2026-01-01' and '2026-01-31'"
            )
            .await
    );
    // A date that is not one is refused, not spliced.
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
            "filters": [{"table_id": "t1", "column": "order_date", "operator": "between", "value": ["2026-01-01'); drop table orders; --", "2026-02-01"]}]}}))
        .send()
        .await
        .expect(400);
    let time_series = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}]},
                      "interval": "month", "date_column": "order_date) from orders; drop table orders; --"}))
        .send()
        .await;
    assert_eq!(time_series.status.as_u16(), 400, "{}", time_series.body);
    for (field, value) in [
        ("date_trunc", json!("month') from orders; --")),
        ("sql_expression", json!("1; drop table orders")),
        ("aggregation", json!("sum(id)); drop table orders; --")),
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
    let (_, _) = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id"}],
            "order_by": [{"table_id": "t1", "column": "id", "direction": "ASC; drop table orders"}]}}))
        .send()
        .await
        .expect_validation();
    // Dashboard filter values and sample paths.
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Injected",
            "filters": [{"id": "f", "type": "text", "label": "F", "field": "status"},
                        {"id": "g", "type": "select", "label": "G", "field": "status"},
                        {"id": "d", "type": "date_range", "label": "D", "field": "order_date"}],
            "widgets": [{"type": "table", "title": "T", "position": {"x": 0, "y": 0, "w": 6, "h": 4},
                         "query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}]}}]}))
        .send()
        .await
        .expect(201);
    let path = format!(
        "/dashboards/{}/widgets/{}/execute",
        dashboard["id"].as_str().unwrap(),
        dashboard["widgets"][0]["id"].as_str().unwrap()
    );
    let widget = app
        .post(&path)
        .as_user("alice")
        .json(
            &json!([{"filter_id": "f", "value": "%'; delete from orders; --"},
                      {"filter_id": "g", "value": "x' or '1'='1"}]),
        )
        .send()
        .await
        .expect(200);
    assert_eq!(widget["rows"], json!([[0]]));
    let dated = app
        .post(&path)
        .as_user("alice")
        .json(&json!([{"filter_id": "d", "value": {"start": "2026-01-01'; drop table orders; --", "end": "2026-01-31"}}]))
        .send()
        .await;
    assert!(
        [200, 400].contains(&dated.status.as_u16()),
        "{}",
        dated.body
    );
    for (table, column) in [
        ("orders; drop table orders", "id"),
        ("orders", "id; drop table orders"),
        ("sqlite_master", "sql"),
        ("orders", "(select sql from sqlite_master)"),
    ] {
        let path = format!(
            "/tables/{}/columns/{}/sample",
            table.replace(' ', "%20").replace(';', "%3B"),
            column
                .replace(' ', "%20")
                .replace(';', "%3B")
                .replace('(', "%28")
                .replace(')', "%29")
        );
        let response = app.get(&path).as_user("alice").send().await;
        assert_eq!(response.status.as_u16(), 404, "{path}: {}", response.body);
    }
    let trend = app
        .post("/metrics/trend")
        .as_user("alice")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum", "alias": "revenue"}]},
                      "comparison": "previous_period", "current_start": "2026-05-01", "current_end": "2026-05-31",
                      "value_column": "revenue'; drop table orders; --", "date_column": "order_date; drop table orders"}))
        .send()
        .await;
    assert_eq!(trend.status.as_u16(), 400, "{}", trend.body);

    let fresh = TestApp::new(engine().await);
    let still = execute(
        &fresh,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}]}),
    )
    .await;
    assert_eq!(still["rows"][0][0], 3000, "the orders table is intact");
    assert_eq!(fixture.snapshot().await, before, "nothing changed");
}

#[tokio::test]
async fn schema_names_of_a_single_file() {
    let app = TestApp::new(engine().await);
    let q = json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]});
    for schema in ["public", "main"] {
        let result = app
            .post("/query/execute")
            .as_user("alice")
            .header("x-schema-name", schema)
            .json(&json!({"query": q}))
            .send()
            .await
            .expect(200);
        assert_eq!(
            result["rows"][0][0].as_f64().map(cents),
            Some(3466086.72),
            "{schema}"
        );
    }
    for schema in [
        "nope",
        "temp",
        "prismiq",
        "../main",
        "main; drop table orders",
    ] {
        app.post("/query/execute")
            .as_user("alice")
            .header("x-schema-name", schema)
            .json(&json!({"query": q}))
            .send()
            .await
            .expect_detail_containing(404, &format!("'{schema}' does not exist"));
        app.post("/query/execute-sql")
            .as_user("alice")
            .header("x-schema-name", schema)
            .json(&json!({"sql": "select count(*) from orders"}))
            .send()
            .await
            .expect(404);
    }
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
    let started = std::time::Instant::now();
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": slow}))
        .send()
        .await
        .expect_detail(504, "Query exceeded timeout of 0.2 seconds");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "interrupted promptly: {:?}",
        started.elapsed()
    );
    // The pool's connections are usable afterwards.
    let after = execute(
        &app,
        json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "id", "aggregation": "count"}]}),
    )
    .await;
    assert_eq!(after["rows"][0][0], 3000);
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
    let result = execute(&app, query).await;
    let expected: Vec<(Option<String>, i64)> = sqlx::query_as(
        "select a.status, count(b.id) from orders a \
         join orders b on a.customer_id = b.customer_id \
         where b.total_amount > 500 group by a.status order by a.status nulls last",
    )
    .fetch_all(&Fixture::open().await.0)
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

// ------------------------------------------------------------------------- custom SQL

const REVENUE: &str = "select c.region, sum(o.total_amount) as revenue from orders o \
    join customers c on c.id = o.customer_id where o.status = 'completed' \
    group by c.region order by c.region nulls last";

#[tokio::test]
async fn custom_sql_legitimate_shapes_run_with_known_answers() {
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
    assert_eq!(sample::label_and_amount(&plain), known_revenue());
    let main = sql(
        &app,
        json!({"sql": REVENUE.replace("from orders o", "from main.orders o")}),
    )
    .await;
    assert_eq!(main["rows"], plain["rows"], "main is the caller's own file");

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

    let recursive = sql(
        &app,
        json!({"sql": "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5) \
        select sum(i) as s from n"}),
    )
    .await;
    assert_eq!(recursive["rows"], json!([[15]]));

    let params = sql(&app, json!({"sql": "select count(*) as n from orders where status = :status and total_amount > :min", "params": {"status": "completed", "min": 0}})).await;
    let fixture = Fixture::open().await;
    assert_eq!(
        params["rows"][0][0],
        fixture
            .int("select count(*) from orders where status = 'completed' and total_amount > 0")
            .await
    );
    let repeated = sql(&app, json!({"sql": "select count(*) as n from orders where status = :status or (:status = 'x' and id < :max)",
                                    "params": {"status": "x", "max": 11}})).await;
    assert_eq!(repeated["rows"], json!([[10]]));
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
    let ranged = sql(&app, json!({
        "sql": "select id, order_date, total_amount from orders",
        "dashboard_filters": [{"id": "when", "type": "date_range", "label": "When", "field": "order_date"},
                              {"id": "amount", "type": "number_range", "label": "Amount", "field": "total_amount"}],
        "filter_values": [{"filter_id": "when", "value": {"start": "2026-01-01", "end": "2026-01-31"}},
                          {"filter_id": "amount", "value": {"min": 100}}]
    })).await;
    assert_eq!(
        ranged["row_count"],
        fixture
            .int("select count(*) from orders where order_date between '2026-01-01' and '2026-01-31' and total_amount >= 100")
            .await
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

/// A text dashboard filter on custom SQL matches the text anywhere, ignoring (ASCII) case, as
/// it does on structured queries; `%` and `_` in the text are plain characters there.
#[tokio::test]
async fn custom_sql_text_dashboard_filters_match_case_insensitively() {
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let text = |value: &str| {
        json!({
            "sql": "select name from customers",
            "dashboard_filters": [{"id": "name", "type": "text", "label": "Name", "field": "name"}],
            "filter_values": [{"filter_id": "name", "value": value}]
        })
    };
    let smith = sql(&app, text("SMITH")).await;
    assert_eq!(
        smith["row_count"],
        fixture
            .int("select count(*) from customers where lower(name) glob '*smith*'")
            .await
    );
    assert!(smith["row_count"].as_i64().unwrap() > 0);
    let literal = sql(&app, text("100%_")).await;
    assert_eq!(literal["rows"], json!([]));
}

/// SQLite statements that would reach outside the caller's tables, write, or learn about the
/// server, each with a fragment of the reason it is refused.
const HOSTILE: &[(&str, &str)] = &[
    // Other files.
    (
        "attach database '{dir}/stolen.db' as stolen",
        "Statement type 'ATTACH' is not allowed",
    ),
    (
        "ATTACH '{dir}/stolen.db' AS stolen",
        "Statement type 'ATTACH' is not allowed",
    ),
    (
        "select 1; attach database '{dir}/stolen.db' as stolen",
        "Only single statements are allowed",
    ),
    ("detach database main", "parse error"),
    ("DETACH stolen", "parse error"),
    ("vacuum into '{dir}/copy.db'", "parse error"),
    ("VACUUM", "Statement type 'VACUUM' is not allowed"),
    (
        "select * from stolen.orders",
        "schema \"stolen\" but only \"main\" is allowed",
    ),
    // Settings and introspection.
    ("pragma query_only = off", "parse error"),
    (
        "PRAGMA query_only = 0",
        "Statement type 'PRAGMA' is not allowed",
    ),
    ("pragma writable_schema = on", "parse error"),
    ("pragma table_info(orders)", "parse error"),
    (
        "pragma main.table_info('orders')",
        "Statement type 'PRAGMA' is not allowed",
    ),
    (
        "select * from pragma_table_info('orders')",
        "pragma_table_info",
    ),
    (
        "select name from pragma_database_list",
        "pragma_database_list",
    ),
    (
        "select * from pragma_function_list()",
        "pragma_function_list",
    ),
    ("select * from main.pragma_table_list", "pragma_table_list"),
    (
        "select * from orders where id in (select cid from pragma_table_info('orders'))",
        "pragma_table_info",
    ),
    (
        "select * from pragma_compile_options",
        "pragma_compile_options",
    ),
    (
        "select * from pragma_table_info('dashboards')",
        "pragma_table_info",
    ),
    (
        "pragma temp.table_list",
        "Statement type 'PRAGMA' is not allowed",
    ),
    // Virtual tables compiled into the bundled SQLite.
    ("select * from dbstat", "Access denied"),
    (
        "select name, pgsize from dbstat where name = 'dashboards'",
        "Access denied",
    ),
    ("select * from sqlite_dbpage", "Access denied"),
    (
        "select * from json_each((select group_concat(sql) from sqlite_master))",
        "Access denied",
    ),
    // Extensions and files.
    ("select load_extension('{dir}/evil.so')", "load_extension"),
    (
        "select load_extension('{dir}/evil.so', 'init')",
        "load_extension",
    ),
    ("select readfile('/etc/passwd')", "readfile"),
    ("select writefile('{dir}/written', 'x')", "writefile"),
    ("select edit('x', 'vi')", "edit"),
    ("select fts3_tokenizer('simple')", "fts3_tokenizer"),
    ("select hex(fts3_tokenizer('simple'))", "fts3_tokenizer"),
    // Build and connection facts.
    ("select sqlite_version()", "sqlite_version"),
    ("select sqlite_source_id()", "sqlite_source_id"),
    (
        "select sqlite_compileoption_used('ENABLE_LOAD_EXTENSION')",
        "sqlite_compileoption_used",
    ),
    (
        "select sqlite_compileoption_get(0)",
        "sqlite_compileoption_get",
    ),
    ("select sqlite_offset(id) from orders", "sqlite_offset"),
    ("select changes()", "changes"),
    ("select total_changes()", "total_changes"),
    ("select last_insert_rowid()", "last_insert_rowid"),
    // SQLite's own tables.
    ("select * from sqlite_master", "Access denied"),
    ("select sql from sqlite_schema", "Access denied"),
    (
        "select * from sqlite_temp_master",
        "Access denied to tables: sqlite_temp_master",
    ),
    (
        "select * from sqlite_temp_schema",
        "Access denied to tables: sqlite_temp_schema",
    ),
    ("select * from main.sqlite_master", "Access denied"),
    ("select * from temp.sqlite_master", "temp"),
    ("select * from main.sqlite_temp_master", "Access denied"),
    ("select * from sqlite_stat1", "Access denied"),
    ("select * from SQLITE_MASTER", "Access denied"),
    ("select * from \"sqlite_master\"", "Access denied"),
    (
        "select * from [sqlite_master]",
        "Access denied to tables: [sqlite_master]",
    ),
    (
        "select * from `sqlite_master`",
        "Access denied to tables: `sqlite_master`",
    ),
    (
        "select (select group_concat(sql) from sqlite_master) from orders",
        "Access denied",
    ),
    (
        "with s as (select * from sqlite_master) select * from s",
        "Access denied",
    ),
    (
        "select * from orders union select 1, 2, 3, 4, 5, sql from sqlite_master",
        "Access denied",
    ),
    // Other schemas.
    (
        "select * from temp.orders",
        "schema \"temp\" but only \"main\" is allowed",
    ),
    (
        "select * from TEMP.orders",
        "schema \"TEMP\" but only \"main\" is allowed",
    ),
    (
        "select * from public.orders",
        "schema \"public\" but only \"main\" is allowed",
    ),
    (
        "select * from other.orders",
        "schema \"other\" but only \"main\" is allowed",
    ),
    (
        "select * from \"main\".\"orders\" join temp.orders t on 1 = 1",
        "schema \"temp\" but only \"main\" is allowed",
    ),
    // Writes.
    (
        "insert into orders (id, customer_id, order_date) values (99999, 1, '2026-01-01')",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "update orders set status = 'hacked'",
        "Statement type 'UPDATE' is not allowed",
    ),
    (
        "update orders set status = 'hacked' returning id",
        "Statement type 'UPDATE' is not allowed",
    ),
    (
        "delete from orders",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "delete from orders returning *",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "replace into orders (id, customer_id, order_date) values (1, 1, '2026-01-01')",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "insert or replace into orders (id, customer_id, order_date) values (1, 1, '2026-01-01')",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "with x as (select 1) insert into orders (id) select * from x",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "with x as (select 1) update orders set status = 'x'",
        "Statement type 'UPDATE' is not allowed",
    ),
    (
        "with x as (select 1) delete from orders",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "with x as (delete from orders returning *) select * from x",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "create table stolen as select * from orders",
        "Statement type 'CREATE' is not allowed",
    ),
    (
        "create temp table t (a)",
        "Statement type 'CREATE' is not allowed",
    ),
    (
        "create view v as select * from orders",
        "Statement type 'CREATE' is not allowed",
    ),
    (
        "create trigger t after insert on orders begin delete from orders; end",
        "Statement type 'CREATE' is not allowed",
    ),
    ("drop table orders", "Statement type 'DROP' is not allowed"),
    (
        "alter table orders rename to gone",
        "Statement type 'ALTER' is not allowed",
    ),
    ("reindex orders", "parse error"),
    ("analyze", "Statement type 'ANALYZE' is not allowed"),
    ("begin immediate", "Statement type 'BEGIN' is not allowed"),
    ("savepoint a", "Statement type 'SAVEPOINT' is not allowed"),
    (
        "select * into stolen from orders",
        "SELECT INTO is not allowed",
    ),
    // Several statements.
    ("select 1; drop table orders", "single statements"),
    ("select 1; select 2", "single statements"),
    ("select 1;; delete from orders", "single statements"),
    ("select ';'; delete from orders", "single statements"),
    (
        "select 1 /* ; */; pragma query_only = 0",
        "single statements",
    ),
    // Prismiq's own tables in the same file.
    ("select * from dashboards", "Access denied"),
    ("select * from widgets", "Access denied"),
    ("select * from saved_queries", "Access denied"),
    ("select * from pins", "Access denied"),
    ("select * from schema_configs", "Access denied"),
    ("select * from _prismiq_migrations", "Access denied"),
    ("select * from main.dashboards", "Access denied"),
    ("select * from Dashboards", "Access denied"),
    ("select * from \"_prismiq_migrations\"", "Access denied"),
    (
        "select o.id from orders o join dashboards d on 1 = 1",
        "Access denied",
    ),
    (
        "select (select count(*) from widgets) from orders",
        "Access denied",
    ),
    (
        "with d as (select * from dashboards) select * from d",
        "Access denied",
    ),
    (
        "select id from orders where exists (select 1 from saved_queries)",
        "Access denied",
    ),
    (
        "select id from orders union all select id from pins",
        "Access denied",
    ),
    // Parameters other than :name.
    (
        "select * from orders where id = ?",
        "Positional parameter ? is not supported",
    ),
    (
        "select * from orders where id = ?1",
        "Positional parameter ?1 is not supported",
    ),
    (
        "select * from orders where id = @id",
        "Positional parameter @id is not supported",
    ),
    (
        "select * from orders where id = $id",
        "Positional parameter $id is not supported",
    ),
    // PostgreSQL's functions do not exist here.
    (
        "select date_trunc('day', order_date) from orders",
        "date_trunc",
    ),
    ("select pg_sleep(10)", "pg_sleep"),
];

#[tokio::test]
async fn hostile_sqlite_sql_is_refused_and_harmless() {
    let dir = std::env::temp_dir().join(format!("prismiq-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_text = dir.display().to_string();
    let app = TestApp::new(engine().await);
    let fixture = Fixture::open().await;
    let before = fixture.snapshot().await;
    assert!(HOSTILE.len() >= 90);
    let mut failures = Vec::new();
    for (statement, fragment) in HOSTILE {
        let statement = statement.replace("{dir}", &dir_text);
        let response = app
            .post("/query/execute-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await;
        let detail = response.body["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let refused = response.status.as_u16() == 400
            && detail.starts_with("SQL validation failed")
            && detail.contains(fragment);
        if !refused {
            failures.push(format!(
                "execute-sql {statement}: {} {}",
                response.status, response.body
            ));
        }
        let checked = app
            .post("/query/validate-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect(200);
        if checked["valid"] != false || checked["errors"].as_array().is_none_or(Vec::is_empty) {
            failures.push(format!("validate-sql {statement}: {checked}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let fresh = TestApp::new(engine().await);
    let intact = sql(&fresh, json!({"sql": "select count(*) as n from orders"})).await;
    assert_eq!(intact["rows"], json!([[3000]]));
    assert_eq!(fixture.snapshot().await, before, "nothing changed");
    let created: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(created, Vec::<PathBuf>::new(), "no file was created");
    std::fs::remove_dir_all(&dir).ok();
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
        "select distinct c.region from orders o left join customers c on c.id = o.customer_id",
        "select distinct c.region from customers c right join orders o on c.id = o.customer_id",
        "select distinct c.region from customers c full join orders o on c.id = o.customer_id",
        "select distinct c.region from orders o, customers c where c.id = o.customer_id",
        "select distinct c.region from orders o cross join customers c",
        "select distinct c.region from orders o natural join customers c",
        "select distinct region from (select * from customers) s",
        "select distinct region from (select * from (select region from main.customers))",
        "with x as (select region from customers) select distinct region from x",
        "with customers as (select * from customers) select distinct region from customers",
        "with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) \
         select distinct region from customers, r",
        "with a as (select * from customers), b as (select * from a) select distinct region from b",
        "select distinct region from customers union select region from customers where region <> 'East'",
        "select region from customers union all select region from main.customers",
        "select region from customers intersect select region from customers",
        "select region from customers except select 'West'",
        "select distinct region from customers where id in (select id from customers)",
        "select distinct (select region from customers where id = o.customer_id) from orders o",
        "select distinct region from customers c where exists (select 1 from customers d where d.id = c.id)",
        "select distinct region from CUSTOMERS",
        "select distinct region from main.customers",
        "select distinct region from MAIN.Customers",
        "select distinct region from \"customers\" as c2 where c2.region is not null or true",
        "select distinct region from customers where 1 = 1 or region <> 'East'",
        "select distinct region from customers group by region having count(*) > 0 or 1",
        "select distinct region from customers order by region limit 10 offset 0",
        "select distinct j.value from customers c, json_each(json_array(c.region)) j",
    ];
    let mut failures = Vec::new();
    for shape in shapes {
        let response = app
            .post("/query/execute-sql")
            .tenant("East")
            .header("x-user-id", "alice")
            .json(&json!({"sql": shape}))
            .send()
            .await;
        if response.status.as_u16() != 200 {
            failures.push(format!("{shape}: {} {}", response.status, response.body));
            continue;
        }
        let rows = response.body["rows"].as_array().unwrap();
        for row in rows {
            if !(row[0] == "East" || row[0].is_null()) {
                failures.push(format!("{shape} leaked {row}"));
            }
        }
        if rows.is_empty() {
            failures.push(format!("{shape} returned nothing"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
    // Wherever a subquery sits, West's customers are not counted for East.
    for shape in [
        "select (select count(*) from customers where region = 'West')",
        "select count(*) from orders where exists (select 1 from customers where region = 'West' and id = orders.customer_id)",
        "select count(*) from (select 1 from orders limit (select count(*) from customers where region = 'West'))",
        "select count(*) from orders o join (select id from customers where region = 'West') w on w.id = o.customer_id",
        "select count(*) from orders o where o.customer_id in (select id from customers where region = 'West')",
        "select count(*) from json_each((select json_group_array(id) from customers where region = 'West'))",
        "values ((select count(*) from customers where region = 'West'))",
        "select count(*) from customers c1 join customers c2 on c1.id = c2.id where c2.region = 'West'",
        "select sum(n) from (select count(*) as n from customers where region = 'West' union all select 0)",
        "select count(*) from orders group by 1 having count(*) > 0 and 0 = (select count(*) from customers where region = 'West')          union all select count(*) from customers where region = 'West'",
        "select max(x) from (select count(*) over (partition by region) as x from customers where region = 'West' union all select 0)",
    ] {
        let response = app
            .post("/query/execute-sql")
            .tenant("East")
            .header("x-user-id", "alice")
            .json(&json!({"sql": shape}))
            .send()
            .await;
        match response.status.as_u16() {
            400 => {}
            200 => {
                for row in response.body["rows"].as_array().unwrap() {
                    assert!(
                        row[0] == 0 || row[0].is_null() || row[0] == 3000,
                        "{shape} leaked {row}"
                    );
                }
            }
            other => panic!("{shape}: {other} {}", response.body),
        }
    }
    // Ways around the rewrite are refused, not run unfiltered.
    for shape in [
        "select distinct region from [customers]",
        "select distinct region from `customers`",
        "select distinct region from temp.customers",
        "select * from sqlite_master where name = 'customers'",
        "select distinct region from customers indexed by sqlite_autoindex_customers_1",
        "select distinct region from customers not indexed",
        // SQLite resolves quoted names case-insensitively too.
        "select distinct region from \"CUSTOMERS\"",
        "select distinct region from \"Customers\" c",
        "select distinct region from main.\"CUSTOMERS\"",
        "select distinct region from \"main\".\"customers\"",
        "select distinct region from \"MAIN\".customers",
        "with recursive customers(region) as (select region from customers) select * from customers",
        "with x as materialized (select * from customers) select distinct region from x",
    ] {
        let response = app
            .post("/query/execute-sql")
            .tenant("East")
            .header("x-user-id", "alice")
            .json(&json!({"sql": shape}))
            .send()
            .await;
        match response.status.as_u16() {
            400 => {}
            200 => {
                for row in response.body["rows"].as_array().unwrap() {
                    assert!(row[0] == "East" || row[0].is_null(), "{shape} leaked {row}");
                }
            }
            other => panic!("{shape}: {other} {}", response.body),
        }
    }
}

/// Parameters, row-filter values and dashboard-filter values each reach their own place,
/// wherever they appear in the statement.
#[tokio::test]
async fn custom_sql_values_bind_where_they_appear() {
    let app = TestApp::new(engine().await.with_row_filter(Arc::new(RegionIsTenant)));
    let fixture = Fixture::open().await;
    let result = app
        .post("/query/execute-sql")
        .tenant("East")
        .header("x-user-id", "alice")
        .json(&json!({
            "sql": "select :label as label, c.tier, count(*) as n, :label || '!' as again from orders o \
                    join customers c on c.id = o.customer_id \
                    where o.total_amount > :min and c.tier <> :skip group by c.tier \
                    having count(*) >= :least order by c.tier limit :cap",
            "params": {"label": "L", "min": 100, "skip": "Bronze", "least": 1, "cap": 10},
            "dashboard_filters": [{"id": "status", "type": "select", "label": "Status", "field": "tier"}],
            "filter_values": [{"filter_id": "status", "value": "Gold"}]
        }))
        .send()
        .await
        .expect(200);
    let expected = fixture
        .int(
            "select count(*) from orders o join customers c on c.id = o.customer_id \
             where o.total_amount > 100 and c.region = 'East' and c.tier = 'Gold'",
        )
        .await;
    assert!(expected > 0);
    assert_eq!(result["rows"], json!([["L", "Gold", expected, "L!"]]));
}

#[tokio::test]
async fn custom_sql_times_out_with_504() {
    let app = TestApp::new(
        engine()
            .await
            .with_query_timeout(Duration::from_millis(200)),
    );
    let started = std::time::Instant::now();
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "with recursive c(n) as (select 1 union all select n + 1 from c where n < 1000000000) \
                              select count(*) from c"}))
        .send()
        .await
        .expect_detail(504, "Query exceeded timeout of 0.2 seconds");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "interrupted promptly: {:?}",
        started.elapsed()
    );
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select count(*) from order_items a, order_items b, events c"}))
        .send()
        .await
        .expect_detail(504, "Query exceeded timeout of 0.2 seconds");
    let after = sql(&app, json!({"sql": "select count(*) as n from orders"})).await;
    assert_eq!(after["rows"], json!([[3000]]));
}

/// SQLite built-ins outside the allow-list, and the name each refusal gives.
const OFF_THE_LIST: &[(&str, &str)] = &[
    ("select sqlite_version()", "sqlite_version"),
    ("select sqlite_source_id()", "sqlite_source_id"),
    (
        "select sqlite_compileoption_get(0)",
        "sqlite_compileoption_get",
    ),
    (
        "select sqlite_compileoption_used('THREADSAFE')",
        "sqlite_compileoption_used",
    ),
    ("select sqlite_offset(id) from orders", "sqlite_offset"),
    ("select changes()", "changes"),
    ("select total_changes()", "total_changes"),
    ("select last_insert_rowid()", "last_insert_rowid"),
    ("select load_extension('x')", "load_extension"),
    ("select readfile('/etc/passwd')", "readfile"),
    ("select writefile('/tmp/x', 'y')", "writefile"),
    ("select edit('x')", "edit"),
    ("select fts3_tokenizer('simple')", "fts3_tokenizer"),
    ("select id, SQLITE_VERSION() from orders", "SQLITE_VERSION"),
    (
        "select count(*) from orders where status = sqlite_version()",
        "sqlite_version",
    ),
    (
        "select my_function(total_amount) from orders",
        "my_function",
    ),
    (
        "select date_trunc('month', order_date) from orders",
        "date_trunc",
    ),
    ("select pg_sleep(1)", "pg_sleep"),
    ("select version()", "version"),
    ("select current_setting('x')", "current_setting"),
];

#[tokio::test]
async fn functions_off_the_allow_list_are_refused_by_name() {
    let app = TestApp::new(engine().await);
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
async fn common_sqlite_analytics_functions_run() {
    let app = TestApp::new(engine().await);
    let statements = [
        "select total(total_amount), avg(total_amount), count(distinct customer_id), \
         group_concat(distinct status), string_agg(status, ','), min(order_date), max(order_date), \
         sum(case when status = 'completed' then 1 else 0 end) from orders",
        "select customer_id, row_number() over w, rank() over w, dense_rank() over w, \
         percent_rank() over w, cume_dist() over w, ntile(4) over w, lag(total_amount) over w, \
         lead(total_amount) over w, first_value(total_amount) over w, last_value(total_amount) over w, \
         nth_value(total_amount, 2) over w from orders \
         window w as (partition by customer_id order by order_date) limit 5",
        "select strftime('%Y-%m', order_date) as month, date(order_date, 'start of month'), \
         julianday(order_date) - julianday('2024-01-01'), unixepoch(order_date), \
         datetime(order_date, '+1 day'), time('12:00:00'), round(sum(total_amount), 2), \
         coalesce(max(shipping_address), 'none'), ifnull(min(status), 'x'), iif(count(*) > 1, 'many', 'one'), \
         nullif(count(*), 0) from orders group by 1 order by 1 limit 3",
        "select lower(name), upper(tier), length(email), substr(name, 1, 4), instr(email, '@'), \
         replace(email, '@', ' at '), trim('  x  '), ltrim(name, 'J'), rtrim(name, 's'), \
         printf('%05d', id), format('%s/%s', region, tier), concat(region, tier), \
         concat_ws(' / ', region, tier), hex(name), quote(name), char(65), unicode(name), \
         typeof(id), abs(-id), sign(-id) from customers limit 5",
        "select event_type, properties ->> '$.page', properties -> '$.page', json_extract(properties, '$.page'), \
         json_type(properties), json_valid(properties), json_object('t', event_type), json_array(1, 2), \
         json_array_length('[1,2]'), json_group_array(id) over () from events limit 5",
        "select e.id, j.key, j.value from events e, json_each(e.properties) j limit 5",
        "select region, json_group_object(tier, n) from \
         (select region, tier, count(*) as n from customers group by 1, 2) group by region",
        "select round(avg(total_amount), 2), max(total_amount) - min(total_amount), \
         cast(sum(total_amount) as integer), cast(id as text), cast('12' as real) from orders group by id % 3",
    ];
    let failures = run_all(&app, &statements).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The mathematical functions and `generate_series` are on SQLite's allow-list: they run on
/// the SQLite the store bundles.
/// The bundled SQLite has neither the mathematical functions nor `generate_series`: they are
/// off the allow-list, so validation refuses them by name rather than letting SQLite fail.
#[tokio::test]
async fn functions_the_bundled_sqlite_lacks_are_refused_by_name() {
    let app = TestApp::new(engine().await);
    for (statement, function) in [
        ("select sqrt(total_amount) from orders", "sqrt"),
        ("select pi(), id from orders", "pi"),
        ("select value from generate_series(1, 5)", "generate_series"),
    ] {
        let checked = app
            .post("/query/validate-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect(200);
        assert_eq!(checked["valid"], false, "{statement}");
        let errors = checked["errors"].to_string();
        assert!(errors.contains(function), "{statement}: {errors}");
    }
}

/// Validates and runs each statement; the problems, one line each.
async fn run_all(app: &TestApp, statements: &[&str]) -> Vec<String> {
    let mut failures = Vec::new();
    for statement in statements {
        let checked = app
            .post("/query/validate-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect(200);
        if checked["valid"] != true {
            failures.push(format!("validate {statement}: {checked}"));
            continue;
        }
        let response = app
            .post("/query/execute-sql")
            .as_user("alice")
            .json(&json!({"sql": statement}))
            .send()
            .await;
        if response.status.as_u16() != 200 {
            failures.push(format!(
                "execute {statement}: {} {}",
                response.status, response.body
            ));
        } else if response.body["rows"].as_array().unwrap().is_empty() {
            failures.push(format!("execute {statement}: no rows"));
        }
    }
    failures
}

#[tokio::test]
async fn the_host_extends_the_allow_list() {
    let app = TestApp::new(
        engine()
            .await
            .with_allowed_functions(["my_func", "SQLITE_VERSION"]),
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
    let version = sql(&app, json!({"sql": "select sqlite_version() as v"})).await;
    assert!(
        version["rows"][0][0]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{version}"
    );
    // A function the host allowed but SQLite does not have is SQLite's error, a 400.
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select my_func(total_amount) from orders"}))
        .send()
        .await
        .expect_detail_containing(400, "my_func");
    // The others stay refused.
    app.post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": "select changes()"}))
        .send()
        .await
        .expect_detail(
            400,
            "SQL validation failed: Function 'changes' is not allowed",
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

// ----------------------------------------------------------------- a file per tenant

/// Creates the SQLite file `path` with `script` run in it.
async fn create_database(path: &Path, script: &'static str) {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("create a tenant file");
    sqlx::raw_sql(script).execute(&pool).await.expect(script);
    pool.close().await;
}

const TENANT_TABLES: &str = "create table orders (id integer primary key, status varchar(20), \
    order_date date, total_amount decimal(10,2)); \
    create table customers (id integer primary key, region varchar(50));";

#[tokio::test]
async fn each_tenant_reads_its_own_file() {
    let root = std::env::temp_dir().join(format!(
        "prismiq-tenants-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let dir = root.join("tenants");
    std::fs::create_dir_all(&dir).unwrap();
    create_database(&dir.join("acme.db"), TENANT_TABLES).await;
    create_database(
        &dir.join("acme.db"),
        "insert into orders values (1, 'completed', '2026-01-05', 5), (2, 'pending', '2026-02-10', 7); \
         insert into customers values (1, 'East')",
    )
    .await;
    create_database(&dir.join("globex.db"), TENANT_TABLES).await;
    create_database(
        &dir.join("globex.db"),
        "insert into orders values (1, 'completed', '2026-01-05', 100), \
         (2, 'completed', '2026-03-01', 200), (3, 'pending', '2026-03-02', 300); \
         insert into customers values (1, 'West'), (2, 'North'); \
         create table globex_secrets (id integer primary key, secret text); \
         insert into globex_secrets values (1, 'formula');",
    )
    .await;
    // A valid database just outside the directory, and a non-database inside it.
    create_database(
        &root.join("outside.db"),
        "create table orders (id integer primary key, total_amount real); \
         insert into orders values (1, 1000000);",
    )
    .await;
    std::fs::write(dir.join("notes.txt"), "not a database").unwrap();

    let engine = Engine::new(MemoryStore::new())
        .with_data_source(Arc::new(SqliteDataSource::per_tenant_directory(&dir)));
    let app = TestApp::new(engine);
    let total = json!({"tables": [{"id": "t1", "name": "orders"}], "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]});
    let as_tenant = |schema: &str| {
        app.post("/query/execute")
            .as_user("alice")
            .header("x-schema-name", schema)
    };
    for (schema, sum) in [("acme", 12.0), ("globex", 600.0), ("acme", 12.0)] {
        let result = as_tenant(schema)
            .json(&json!({"query": total}))
            .send()
            .await
            .expect(200);
        assert_eq!(result["rows"][0][0].as_f64(), Some(sum), "{schema}");
        let custom = app
            .post("/query/execute-sql")
            .as_user("alice")
            .header("x-schema-name", schema)
            .json(&json!({"sql": "select sum(total_amount) as s from orders"}))
            .send()
            .await
            .expect(200);
        assert_eq!(custom["rows"][0][0].as_f64(), Some(sum), "{schema}");
        let qualified = app
            .post("/query/execute-sql")
            .as_user("alice")
            .header("x-schema-name", schema)
            .json(&json!({"sql": "select sum(total_amount) as s from main.orders"}))
            .send()
            .await
            .expect(200);
        assert_eq!(qualified["rows"][0][0].as_f64(), Some(sum), "{schema}");
    }
    // Each tenant's schema lists its own tables only.
    let acme_tables = app
        .get("/tables")
        .as_user("alice")
        .header("x-schema-name", "acme")
        .send()
        .await
        .expect(200);
    assert_eq!(acme_tables, json!({"tables": ["customers", "orders"]}));
    let globex_tables = app
        .get("/tables")
        .as_user("alice")
        .header("x-schema-name", "globex")
        .send()
        .await
        .expect(200);
    assert_eq!(
        globex_tables,
        json!({"tables": ["customers", "globex_secrets", "orders"]})
    );
    let samples = app
        .get("/tables/customers/columns/region/sample")
        .as_user("alice")
        .header("x-schema-name", "acme")
        .send()
        .await
        .expect(200);
    assert_eq!(samples, json!({"values": ["East"]}));
    let series = app
        .post("/query/execute/timeseries")
        .as_user("alice")
        .header("x-schema-name", "globex")
        .json(&json!({"query": total, "interval": "month", "date_column": "order_date"}))
        .send()
        .await
        .expect(200);
    // Whole amounts are stored as integers (NUMERIC affinity), so their sum is one.
    let months: Vec<(&str, f64)> = series["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap(), r[1].as_f64().unwrap()))
        .collect();
    assert_eq!(
        months,
        [
            ("2026-01-01T00:00:00", 100.0),
            ("2026-02-01T00:00:00", 0.0),
            ("2026-03-01T00:00:00", 500.0)
        ]
    );
    let sql_text = app
        .post("/query/sql")
        .as_user("alice")
        .header("x-schema-name", "acme")
        .json(&total)
        .send()
        .await
        .expect(200);
    let sql_text = sql_text["sql"].as_str().unwrap();
    assert!(
        sql_text.starts_with(r#"SELECT SUM("orders"."total_amount")"#)
            && sql_text.ends_with(r#" FROM "orders""#),
        "the tenant's file is main, never named: {sql_text}"
    );

    // One tenant cannot reach another's file or tables.
    as_tenant("acme")
        .json(&json!({"query": {"tables": [{"id": "t1", "name": "globex_secrets"}], "columns": [{"table_id": "t1", "column": "secret"}]}}))
        .send()
        .await
        .expect_detail(
            400,
            "Query validation failed: Table 'globex_secrets' not found in schema",
        );
    for statement in [
        "select * from globex_secrets",
        "select * from globex.orders",
        "select * from globex.globex_secrets",
        "attach database 'globex.db' as globex",
        "attach database '{dir}/globex.db' as g",
        "select * from orders; attach database '{dir}/globex.db' as g",
    ] {
        let statement = statement.replace("{dir}", &dir.display().to_string());
        app.post("/query/execute-sql")
            .as_user("alice")
            .header("x-schema-name", "acme")
            .json(&json!({"sql": statement}))
            .send()
            .await
            .expect_detail_containing(400, "SQL validation failed");
    }
    // Unknown schemas, names that would leave the directory, and files that are not tenant
    // databases are refused, and never created.
    let long = "a".repeat(64);
    for schema in [
        "nope",
        "../outside",
        "..",
        ".",
        "acme.db",
        "acme/../globex",
        "./acme",
        "/etc/passwd",
        "tenants/acme",
        "notes",
        "notes.txt",
        "ACME",
        "acme%00",
        long.as_str(),
    ] {
        let response = as_tenant(schema)
            .json(&json!({"query": total}))
            .send()
            .await;
        assert!(
            [400, 404].contains(&response.status.as_u16()),
            "{schema:?}: {} {}",
            response.status,
            response.body
        );
        let custom = app
            .post("/query/execute-sql")
            .as_user("alice")
            .header("x-schema-name", schema)
            .json(&json!({"sql": "select sum(total_amount) from orders"}))
            .send()
            .await;
        assert!(
            [400, 404].contains(&custom.status.as_u16()),
            "{schema:?}: {} {}",
            custom.status,
            custom.body
        );
    }
    as_tenant("nope")
        .json(&json!({"query": total}))
        .send()
        .await
        .expect_detail_containing(404, "'nope' does not exist");
    // Without a schema the caller is in `public`, which has no file here.
    let default = app
        .post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": total}))
        .send()
        .await;
    assert_ne!(default.status.as_u16(), 200, "{}", default.body);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["acme.db", "globex.db", "notes.txt"],
        "no file was created"
    );
    std::fs::remove_dir_all(&root).ok();
}

/// SQLite's own spellings of types (`INT`, `DATETIME`, `DOUBLE`) bind and compare as the
/// integers, timestamps and numbers they are, not as text.
#[tokio::test]
async fn sqlite_type_spellings_compare_as_their_kind() {
    let path = std::env::temp_dir().join(format!(
        "prismiq-spellings-{}-{}.db",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    create_database(
        &path,
        "create table readings (id INT, taken DATETIME, value DOUBLE); \
         insert into readings values (2, '2024-01-02 23:30:00', 9.5), \
         (10, '2024-01-03 00:00:00', 10.25), (3, '2024-01-01 08:00:00', 100);",
    )
    .await;
    let engine = Engine::new(MemoryStore::new()).with_data_source(Arc::new(
        SqliteDataSource::open(&path).await.expect("open the file"),
    ));
    let app = TestApp::new(engine);
    let ids = |filters: Value| {
        let body = json!({"query": {
            "tables": [{"id": "t1", "name": "readings"}],
            "columns": [{"table_id": "t1", "column": "id"}],
            "filters": filters,
            "order_by": [{"table_id": "t1", "column": "id", "direction": "ASC"}]
        }});
        let request = app.post("/query/execute").as_user("alice").json(&body);
        async move {
            let result = request.send().await.expect(200);
            result["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row[0].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    // As integers: 10 > 3 (as text, "10" < "3").
    assert_eq!(
        ids(json!([{"table_id": "t1", "column": "id", "operator": "gt", "value": 3}])).await,
        [10]
    );
    // As timestamps: a date as the upper bound means the whole day.
    assert_eq!(
        ids(
            json!([{"table_id": "t1", "column": "taken", "operator": "lte", "value": "2024-01-02"}])
        )
        .await,
        [2, 3]
    );
    // As numbers: 100 > 10.25.
    assert_eq!(
        ids(json!([{"table_id": "t1", "column": "value", "operator": "gte", "value": 10}])).await,
        [3, 10]
    );
    let _ = std::fs::remove_file(&path);
}
