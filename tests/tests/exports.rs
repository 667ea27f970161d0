//! Exports over HTTP on SQLite with the sample dataset: every format holds the rows
//! `/query/execute` answers, the export cap cuts CSV and NDJSON with a notice and refuses XLSX
//! before any byte, hostile cell values stay inert, row filters apply through every export
//! route, widget exports take filter values as parameters, and share links export only when
//! they allow it and only their dashboard's widgets.
//!
//! PostgreSQL (a client going away stops the statement, every column type, row filters) is
//! in `exports_postgres.rs`.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use prismiq_axum::prismiq_core::{AuthContext, Engine, RowFilter, RowPredicate};
use prismiq_store_sqlite::SqliteDataSource;
use prismiq_store_sqlite::sqlx::sqlite::SqlitePoolOptions;
use prismiq_store_sqlite::sqlx::{self, AssertSqlSafe};
use prismiq_tests::{TestApp, sample_sqlite};
use serde_json::{Value, json};

async fn engine() -> Engine {
    Engine::new(prismiq_store_sqlite::testing::fresh_store().await)
        .with_data_source(Arc::new(sample_sqlite::source().await))
}

/// One number from the fixture file, asked directly.
async fn count(sql: &str) -> usize {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteDataSource::options(sample_sqlite::path().await))
        .await
        .expect("open the fixture file");
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    usize::try_from(n).unwrap()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Completed orders, one column of each kind the table has (integer, date, text, decimal,
/// text with nulls).
fn completed_orders() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [
            {"table_id": "t1", "column": "id"},
            {"table_id": "t1", "column": "order_date"},
            {"table_id": "t1", "column": "status"},
            {"table_id": "t1", "column": "total_amount"},
            {"table_id": "t1", "column": "shipping_address"}
        ],
        "filters": [{"table_id": "t1", "column": "status", "operator": "eq", "value": "completed"}],
        "order_by": [{"table_id": "t1", "column": "id", "direction": "ASC"}]
    })
}

/// Events: timestamps and JSON.
fn events() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "events"}],
        "columns": [
            {"table_id": "t1", "column": "id"},
            {"table_id": "t1", "column": "event_type"},
            {"table_id": "t1", "column": "timestamp"},
            {"table_id": "t1", "column": "properties"}
        ],
        "order_by": [{"table_id": "t1", "column": "id", "direction": "ASC"}],
        "limit": 500
    })
}

async fn execute(app: &TestApp, query: &Value) -> Value {
    app.post("/query/execute")
        .as_user("alice")
        .json(&json!({"query": query, "bypass_cache": true}))
        .send()
        .await
        .expect(200)
}

async fn export(app: &TestApp, query: &Value, params: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    app.post(&format!("/query/export?{params}"))
        .as_user("alice")
        .json(&json!({"query": query}))
        .send_raw()
        .await
}

async fn export_sql(app: &TestApp, sql: &str, params: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    app.post(&format!("/query/export-sql?{params}"))
        .as_user("alice")
        .json(&json!({"sql": sql}))
        .send_raw()
        .await
}

/// A cell of `/query/execute` as CSV writes it.
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
        .flexible(true)
        .from_reader(body)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

fn ndjson_lines(body: &[u8]) -> Vec<Value> {
    String::from_utf8(body.to_vec())
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// The rows of the first sheet of a workbook, each as the XML of its cells.
fn sheet_rows(body: &[u8]) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).expect("an XLSX file");
    let mut sheet = String::new();
    archive
        .by_name("xl/worksheets/sheet1.xml")
        .expect("a first sheet")
        .read_to_string(&mut sheet)
        .unwrap();
    sheet
        .split("<row ")
        .skip(1)
        .map(|row| row[..row.find("</row>").unwrap_or(row.len())].to_owned())
        .collect()
}

#[tokio::test]
async fn every_format_holds_the_rows_execute_answers() {
    let app = TestApp::new(engine().await);
    for query in [completed_orders(), events()] {
        let expected = execute(&app, &query).await;
        let columns: Vec<String> = serde_json::from_value(expected["columns"].clone()).unwrap();
        let rows = expected["rows"].as_array().unwrap();
        assert!(
            rows.len() > 100,
            "enough rows to span batches: {}",
            rows.len()
        );

        let (status, headers, body) = export(&app, &query, "format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "text/csv; charset=utf-8");
        assert_eq!(
            header(&headers, "content-disposition"),
            "attachment; filename=\"query.csv\"; filename*=UTF-8''query.csv"
        );
        assert_eq!(header(&headers, "cache-control"), "no-store");
        let records = csv_records(&body);
        assert_eq!(records[0], columns);
        assert_eq!(records.len(), rows.len() + 1);
        for (record, row) in records[1..].iter().zip(rows) {
            let expected: Vec<String> = row.as_array().unwrap().iter().map(as_csv).collect();
            assert_eq!(record, &expected);
        }

        let (status, headers, body) = export(&app, &query, "format=ndjson").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-type"), "application/x-ndjson");
        let lines = ndjson_lines(&body);
        assert_eq!(lines.len(), rows.len());
        for (line, row) in lines.iter().zip(rows) {
            for (i, column) in columns.iter().enumerate() {
                assert_eq!(line[column], row[i], "{column} of {line}");
            }
        }

        let (status, headers, body) = export(&app, &query, "format=xlsx").await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(
            header(&headers, "content-length"),
            body.len().to_string(),
            "a whole file has its length"
        );
        let sheet = sheet_rows(&body);
        assert_eq!(
            sheet.len(),
            rows.len() + 1,
            "a header row and a row per row"
        );
        assert!(sheet[0].contains(&columns[1]), "{}", sheet[0]);
    }
    // Typed cells: the order id is a number, the date a date (a number with a date style),
    // the status text.
    let (_, _, body) = export(&app, &completed_orders(), "format=xlsx").await;
    let first = &sheet_rows(&body)[1];
    assert!(
        first.contains(r#"r="A2""#) && first.contains("<v>"),
        "{first}"
    );
    assert!(
        first.contains(r#"r="B2" s="#),
        "the date has a number format: {first}"
    );
    assert!(
        first.contains(r#"t="inlineStr""#) || first.contains(r#"t="s""#),
        "{first}"
    );
}

#[tokio::test]
async fn the_cap_cuts_csv_and_ndjson_with_a_notice_and_refuses_xlsx() {
    let app = TestApp::new(
        engine()
            .await
            .with_export_limits(5, Duration::from_secs(60)),
    );
    let query = completed_orders();
    let (status, _, body) = export(&app, &query, "format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let records = csv_records(&body);
    assert_eq!(records.len(), 1 + 5 + 1, "header, the cap, the notice");
    let notice = &records[6];
    assert!(
        notice[0].starts_with("TRUNCATED: the query has more than 5 rows")
            && notice[0].contains("max_export_rows"),
        "{notice:?}"
    );
    assert_eq!(
        notice.len(),
        5,
        "the notice has as many fields as the header"
    );

    let (_, _, body) = export(&app, &query, "format=ndjson").await;
    let lines = ndjson_lines(&body);
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[5], json!({"truncated": true, "max_rows": 5}));

    let (status, headers, body) = export(&app, &query, "format=xlsx").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(header(&headers, "content-type").starts_with("application/json"));
    let detail: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        detail["detail"]
            .as_str()
            .unwrap()
            .contains("max_export_rows"),
        "{detail}"
    );

    // Exactly the cap: no notice, and a workbook.
    let mut five = query.clone();
    five["limit"] = json!(5);
    let (_, _, body) = export(&app, &five, "format=csv").await;
    assert_eq!(csv_records(&body).len(), 6);
    let (_, _, body) = export(&app, &five, "format=ndjson").await;
    assert_eq!(ndjson_lines(&body).len(), 5);
    let (status, _, body) = export(&app, &five, "format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sheet_rows(&body).len(), 6);

    // No rows: the header alone.
    let mut none = query;
    none["filters"][0]["value"] = json!("no such status");
    let (_, _, body) = export(&app, &none, "format=csv").await;
    assert_eq!(
        csv_records(&body),
        [[
            "id",
            "order_date",
            "status",
            "total_amount",
            "shipping_address"
        ]]
    );
    let (status, _, body) = export(&app, &none, "format=ndjson").await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    let (status, _, body) = export(&app, &none, "format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sheet_rows(&body).len(), 1);
}

#[tokio::test]
async fn bad_requests_say_what_to_fix() {
    let app = TestApp::new(engine().await);
    let query = completed_orders();
    for (params, parameter) in [
        ("", "format"),
        ("format=pdf", "format"),
        ("format=csv&bom=maybe", "bom"),
        ("format=csv&escape_formulas=2", "escape_formulas"),
    ] {
        let (status, _, body) = export(&app, &query, params).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{params}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"][0]["loc"][1], parameter, "{params}: {body}");
    }
    // The query's own problems are the same as for execute.
    let mut unknown = query.clone();
    unknown["tables"][0]["name"] = json!("no_such_table");
    let (status, _, _) = export(&app, &unknown, "format=csv").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = export_sql(&app, "delete from orders", "format=csv").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // No tenant: the host's extractor refuses, as everywhere.
    let (status, _, _) = app
        .post("/query/export?format=csv")
        .json(&json!({"query": query}))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn hostile_cells_are_inert() {
    let app = TestApp::new(engine().await);
    let sql = "select '=HYPERLINK(\"http://evil\",\"x\")' as \"=name\", '+1' as b, '-1' as c, \
               '@SUM(A1)' as d, '\tlead' as e, 'a,b' as f, 'say \"hi\"' as g, \
               'two\nlines' as h, -5 as n, '' as empty, null as nil";
    let (status, _, body) = export_sql(&app, sql, "format=csv").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let records = csv_records(&body);
    assert_eq!(records[0][0], "'=name", "a header is text too");
    assert_eq!(
        records[1],
        [
            "'=HYPERLINK(\"http://evil\",\"x\")",
            "'+1",
            "'-1",
            "'@SUM(A1)",
            "'\tlead",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "-5",
            "",
            ""
        ]
    );
    // Off on request; with a byte order mark on request.
    let (_, _, body) = export_sql(&app, sql, "format=csv&escape_formulas=false&bom=true").await;
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let records = csv_records(&body[3..]);
    assert_eq!(records[1][0], "=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(records[1][1], "+1");
    // NDJSON keeps values as they are (JSON text is no formula), XLSX writes text as text.
    let (_, _, body) = export_sql(&app, sql, "format=ndjson").await;
    assert_eq!(
        ndjson_lines(&body)[0]["=name"],
        "=HYPERLINK(\"http://evil\",\"x\")"
    );
    let (status, _, body) = export_sql(&app, sql, "format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let row = &sheet_rows(&body)[1];
    assert!(!row.contains("<f>"), "no formula in {row}");
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

fn customers() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "customers"}],
        "columns": [
            {"table_id": "t1", "column": "id"},
            {"table_id": "t1", "column": "region"}
        ]
    })
}

/// A dashboard of tenant `t1` owned by `alice`, with a `region` select filter and a widget
/// listing customers; returns (dashboard id, widget id).
async fn customer_dashboard(app: &TestApp, title: &str) -> (String, String) {
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({
            "name": format!("Customers {title}"),
            "filters": [{"id": "region", "type": "select", "label": "Region", "field": "region", "table": "customers"}]
        }))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap().to_owned();
    let widget = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&json!({
            "type": "table",
            "title": title,
            "query": customers(),
            "position": {"x": 0, "y": 0, "w": 6, "h": 4}
        }))
        .send()
        .await
        .expect(201);
    (id, widget["id"].as_str().unwrap().to_owned())
}

/// The second column of every data record of a CSV body.
fn regions(body: &[u8]) -> Vec<String> {
    csv_records(body)[1..]
        .iter()
        .map(|r| r[1].clone())
        .collect()
}

#[tokio::test]
async fn row_filters_apply_through_every_export_route() {
    let app = TestApp::new(engine().await.with_row_filter(Arc::new(EastOnly)));
    let east = count("select count(*) from customers where region = 'East'").await;
    assert!(east > 0 && east < count("select count(*) from customers").await);

    let (_, _, body) = export(&app, &customers(), "format=csv").await;
    let seen = regions(&body);
    assert_eq!(seen.len(), east);
    assert!(seen.iter().all(|r| r == "East"));

    let (_, _, body) = export_sql(&app, "select id, region from customers", "format=csv").await;
    let seen = regions(&body);
    assert_eq!(seen.len(), east);
    assert!(seen.iter().all(|r| r == "East"));

    let (dashboard, widget) = customer_dashboard(&app, "All customers").await;
    let (status, _, body) = app
        .get(&format!(
            "/dashboards/{dashboard}/widgets/{widget}/export.csv"
        ))
        .as_user("alice")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    let seen = regions(&body);
    assert_eq!(seen.len(), east);
    assert!(seen.iter().all(|r| r == "East"));
}

#[tokio::test]
async fn widget_exports_take_filter_values_and_keep_to_their_dashboard() {
    let app = TestApp::new(engine().await);
    let (dashboard, widget) = customer_dashboard(&app, "Q1/Q2 \"report\" — Ω").await;
    let path = format!("/dashboards/{dashboard}/widgets/{widget}/export");
    let west = count("select count(*) from customers where region = 'West'").await;

    let (status, headers, body) = app
        .get(&format!("{path}.csv?var-region=West"))
        .as_user("alice")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"Q1_Q2 _report_ _ _.csv\"; \
         filename*=UTF-8''Q1_Q2%20_report_%20_%20%CE%A9.csv"
    );
    let seen = regions(&body);
    assert_eq!(seen.len(), west);
    assert!(seen.iter().all(|r| r == "West"));

    for ext in ["ndjson", "xlsx"] {
        let (status, headers, _) = app
            .get(&format!("{path}.{ext}?var-region=West"))
            .as_user("alice")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{ext}");
        assert!(header(&headers, "content-disposition").contains(&format!(".{ext}\"")));
    }

    // A filter the dashboard does not have is named.
    let (status, _, body) = app
        .get(&format!("{path}.csv?var-nope=1"))
        .as_user("alice")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&body).contains("var-nope"));

    // Another tenant's caller finds nothing; a viewer without rights is refused.
    let (status, _, _) = app
        .get(&format!("{path}.csv"))
        .tenant("t2")
        .header("x-user-id", "alice")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .get(&format!("{path}.csv"))
        .as_user("mallory")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A widget of another dashboard is not found through this one.
    let (other, other_widget) = customer_dashboard(&app, "Other").await;
    let (status, _, _) = app
        .get(&format!(
            "/dashboards/{dashboard}/widgets/{other_widget}/export.csv"
        ))
        .as_user("alice")
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ne!(other, dashboard);
}

#[tokio::test]
async fn share_links_export_only_when_allowed_and_only_their_widgets() {
    let app = TestApp::new(engine().await);
    let (dashboard, widget) = customer_dashboard(&app, "Shared customers").await;
    let (_, other_widget) = customer_dashboard(&app, "Not shared").await;
    let share = |body: Value| {
        let app = &app;
        let dashboard = dashboard.clone();
        async move {
            app.post(&format!("/dashboards/{dashboard}/shares"))
                .as_user("alice")
                .json(&body)
                .send()
                .await
                .expect(201)
        }
    };

    let closed = share(json!({})).await;
    assert_eq!(closed["allow_export"], false);
    let token = closed["token"].as_str().unwrap();
    let (status, _, body) = app
        .get(&format!("/shared/{token}/widgets/{widget}/export.csv"))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&body).contains("does not allow exports"));

    let open = share(json!({"allow_export": true, "locked_filters": {"region": "East"}})).await;
    assert_eq!(open["allow_export"], true);
    let token = open["token"].as_str().unwrap();
    let listed = app
        .get(&format!("/dashboards/{dashboard}/shares"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert!(
        listed["shares"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["allow_export"] == true)
    );

    // The locked value wins over the viewer's.
    let (status, _, body) = app
        .get(&format!(
            "/shared/{token}/widgets/{widget}/export.csv?var-region=West"
        ))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);
    let seen = regions(&body);
    assert_eq!(
        seen.len(),
        count("select count(*) from customers where region = 'East'").await
    );
    assert!(seen.iter().all(|r| r == "East"));
    let (status, _, _) = app
        .get(&format!("/shared/{token}/widgets/{widget}/export.xlsx"))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::OK);

    // Only the link's dashboard; no token, no export.
    let (status, _, _) = app
        .get(&format!(
            "/shared/{token}/widgets/{other_widget}/export.csv"
        ))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = app
        .get(&format!("/shared/not-a-token/widgets/{widget}/export.csv"))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Revoked: gone at once.
    let id = open["id"].as_str().unwrap();
    app.delete(&format!("/dashboards/{dashboard}/shares/{id}"))
        .as_user("alice")
        .send_raw()
        .await;
    let (status, _, _) = app
        .get(&format!("/shared/{token}/widgets/{widget}/export.csv"))
        .send_raw()
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cap_of_zero_means_none() {
    let app = TestApp::new(
        engine()
            .await
            .with_export_limits(0, Duration::from_secs(60)),
    );
    let query = completed_orders();
    let rows = execute(&app, &query).await["row_count"].as_u64().unwrap();
    let (status, _, body) = export(&app, &query, "format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let records = csv_records(&body);
    assert_eq!(records.len() as u64, rows + 1, "every row, no notice");
    assert!(!records.last().unwrap()[0].starts_with("TRUNCATED"));
}
