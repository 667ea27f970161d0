//! Exports on PostgreSQL with the sample dataset: a client that goes away mid-export leaves no
//! statement running (checked in `pg_stat_activity`), nor does an export cut at its cap; every
//! column type comes out as `/query/execute-sql` answers it; row filters apply.
//!
//! Needs `DATABASE_URL` (see `scripts/pg-env.sh`); fails without it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use prismiq_axum::prismiq_core::{AuthContext, Engine, MemoryStore, RowFilter, RowPredicate};
use prismiq_store_postgres::PgDataSource;
use prismiq_store_postgres::sqlx;
use prismiq_tests::{TestApp, sample};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A table large enough that its CSV does not fit in the sockets' buffers, and a view of it
/// slow enough (tens of microseconds a row) that a statement nobody cancels would still run
/// long after the tests stop waiting for it to end.
const BIG_TABLE: &str = "create table export_big as \
         select g as n, md5(g::text) as t from generate_series(1, 2000000) g; \
     create view export_big_slow as \
         select n, t, (select count(*) from generate_series(1, 300 + n % 2)) as c from export_big";

static BIG: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn engine() -> Engine {
    BIG.get_or_init(|| sample::run(BIG_TABLE)).await;
    Engine::new(MemoryStore::new())
        .with_data_source(Arc::new(PgDataSource::new(sample::pool().await)))
}

/// Statements reading `export_big` that run now, other than this one.
async fn running_exports() -> i64 {
    let mut conn = sample::connection().await;
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity \
         where state = 'active' and query like '%export_big%' \
           and query not like '%pg_stat_activity%'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("read pg_stat_activity")
}

/// Waits up to `limit` for `running_exports` to be `expected`.
async fn wait_for_running(expected: impl Fn(i64) -> bool, limit: Duration) -> i64 {
    let started = Instant::now();
    loop {
        let now = running_exports().await;
        if expected(now) || started.elapsed() > limit {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn big_query() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "export_big_slow"}],
        "columns": [{"table_id": "t1", "column": "n"}, {"table_id": "t1", "column": "t"}]
    })
}

#[tokio::test]
async fn a_client_that_goes_away_leaves_no_statement_running() {
    let app = TestApp::new(
        engine()
            .await
            .with_export_limits(None, Duration::from_secs(600)),
    );
    let address = app.serve().await;
    assert_eq!(running_exports().await, 0);

    let body = serde_json::to_vec(&json!({"query": big_query()})).unwrap();
    let mut client = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/prismiq/query/export?format=csv HTTP/1.1\r\nhost: test\r\n\
         x-tenant-id: t1\r\nx-user-id: alice\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await.unwrap();
    client.write_all(&body).await.unwrap();
    // Read the start of the file, then stop reading: the export waits for the client.
    let mut received = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    while received.len() < 256 * 1024 {
        let n = client.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server ended the export early");
        received.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 200 OK"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("\nn,t\r\n"), "the CSV header, ended by CRLF");
    assert_eq!(
        wait_for_running(|n| n == 1, Duration::from_secs(5)).await,
        1,
        "the statement runs while the client reads slowly"
    );

    drop(client);
    assert_eq!(
        wait_for_running(|n| n == 0, Duration::from_secs(10)).await,
        0,
        "the statement is cancelled when the client goes away"
    );
}

#[tokio::test]
async fn an_export_cut_at_its_cap_stops_the_statement() {
    let app = TestApp::new(
        engine()
            .await
            .with_export_limits(10, Duration::from_secs(60)),
    );
    let (status, _, body) = app
        .post("/query/export?format=csv")
        .as_user("alice")
        .json(&json!({"query": big_query()}))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 10 + 1, "{text}");
    assert!(lines[11].starts_with("TRUNCATED: the query has more than 10 rows"));
    assert_eq!(
        wait_for_running(|n| n == 0, Duration::from_secs(10)).await,
        0,
        "nothing reads the rest of the table"
    );
}

fn as_csv(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_records(body: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn every_column_type_comes_out_as_execute_answers_it() {
    let app = TestApp::new(engine().await);
    let sql = "select 1::int4 as i, 9007199254740993::int8 as big, 2.50::numeric as n, \
               1.5::float8 as f, 'x'::text as t, true as b, date '2025-01-02' as d, \
               timestamp '2025-01-02 03:04:05.123' as ts, \
               timestamptz '2025-01-02 03:04:05+00' as tz, '{\"a\": [1, 2]}'::jsonb as j, \
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u, interval '90 minutes' as iv, \
               null::text as z";
    let executed = app
        .post("/query/execute-sql")
        .as_user("alice")
        .json(&json!({"sql": sql}))
        .send()
        .await
        .expect(200);
    let (status, _, body) = app
        .post("/query/export-sql?format=csv")
        .as_user("alice")
        .json(&json!({"sql": sql}))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let records = csv_records(&body);
    let expected: Vec<String> = executed["rows"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(as_csv)
        .collect();
    assert_eq!(records[1], expected);
    assert_eq!(records[1][6], "2025-01-02", "dates as ISO 8601");
    assert_eq!(records[1][5], "true");
    assert_eq!(records[1][12], "", "NULL as an empty field");

    let (status, _, body) = app
        .post("/query/export-sql?format=ndjson")
        .as_user("alice")
        .json(&json!({"sql": sql}))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    let line: Value = serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let columns = executed["columns"].as_array().unwrap();
    for (i, column) in columns.iter().enumerate() {
        assert_eq!(
            line[column.as_str().unwrap()],
            executed["rows"][0][i],
            "{column}"
        );
    }
    assert_eq!(
        executed["column_types"],
        json!([
            "int4",
            "int8",
            "numeric",
            "float8",
            "text",
            "bool",
            "date",
            "timestamp",
            "timestamptz",
            "jsonb",
            "uuid",
            "interval",
            "text"
        ]),
        "the types the XLSX writer reads"
    );

    let (status, headers, body) = app
        .post("/query/export-sql?format=xlsx")
        .as_user("alice")
        .json(&json!({"sql": sql}))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(body.starts_with(b"PK"), "a ZIP archive");
}

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
async fn row_filters_apply_to_exports() {
    let app = TestApp::new(engine().await.with_row_filter(Arc::new(EastOnly)));
    let mut conn = sample::connection().await;
    let east: i64 = sqlx::query_scalar("select count(*) from customers where region = 'East'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let query = json!({
        "tables": [{"id": "t1", "name": "customers"}],
        "columns": [{"table_id": "t1", "column": "id"}, {"table_id": "t1", "column": "region"}]
    });
    for (path, body) in [
        ("/query/export?format=csv", json!({"query": query})),
        (
            "/query/export-sql?format=csv",
            json!({"sql": "select id, region from customers"}),
        ),
    ] {
        let (status, _, body) = app.post(path).as_user("alice").json(&body).send_raw().await;
        assert_eq!(status, StatusCode::OK);
        let records = csv_records(&body);
        assert_eq!(records.len() as i64 - 1, east, "{path}");
        assert!(records[1..].iter().all(|r| r[1] == "East"), "{path}");
    }
}
