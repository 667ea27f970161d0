//! Share links over HTTP, against PostgreSQL and the sample dataset: what a token reaches and
//! what it does not, locked filters, revocation seen by another instance, expiry, the rate
//! limit, and tenant isolation under row filters through every filter type.

use std::sync::Arc;
use std::time::Duration;

use prismiq_axum::prismiq_core::{AuthContext, Engine, RowFilter, RowPredicate};
use prismiq_store_postgres::PgDataSource;
use prismiq_tests::{TestApp, sample};
use serde_json::{Value, json};

/// Tenant `East` sees East's customers, tenant `West` West's.
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

async fn engine(store: prismiq_store_postgres::PostgresStore) -> Engine {
    Engine::new(store)
        .with_data_source(Arc::new(PgDataSource::new(sample::pool().await)))
        .with_row_filter(Arc::new(RegionIsTenant))
        .without_result_cache()
}

/// Revenue by customer region, with a filter of every type.
fn dashboard_body(name: &str) -> Value {
    json!({
        "name": name,
        "filters": [
            {"id": "status", "type": "select", "label": "Status", "field": "status", "table": "orders"},
            {"id": "regions", "type": "multi_select", "label": "Regions", "field": "region", "table": "customers"},
            {"id": "city", "type": "text", "label": "City", "field": "city", "table": "customers"},
            {"id": "amount", "type": "number_range", "label": "Amount", "field": "total_amount", "table": "orders"},
            {"id": "when", "type": "date_range", "label": "When", "field": "order_date", "table": "orders"}
        ],
        "widgets": [{
            "type": "table", "title": "Revenue by region",
            "position": {"x": 0, "y": 0, "w": 6, "h": 4},
            "query": {
                "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
                "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id", "join_type": "INNER"}],
                "columns": [{"table_id": "t2", "column": "region"}, {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]
            }
        }]
    })
}

fn regions(result: &Value) -> Vec<Value> {
    result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].clone())
        .collect()
}

fn total(result: &Value) -> f64 {
    result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[1].as_f64().unwrap_or_default())
        .sum()
}

#[tokio::test]
async fn a_token_reaches_its_dashboard_only_with_its_creators_rows() {
    let app = TestApp::new(engine(prismiq_store_postgres::testing::fresh_store().await).await);
    let as_east = |call: prismiq_tests::Call| call.tenant("East").header("x-user-id", "alice");
    let dashboard = as_east(app.post("/dashboards"))
        .json(&dashboard_body("Shared"))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let widget = dashboard["widgets"][0]["id"].as_str().unwrap();
    let private = as_east(app.post("/dashboards"))
        .json(&dashboard_body("Not shared"))
        .send()
        .await
        .expect(201);
    let west = app
        .post("/dashboards")
        .tenant("West")
        .header("x-user-id", "wes")
        .json(&dashboard_body("West's"))
        .send()
        .await
        .expect(201);

    // Only the owner (or an admin) makes links; locked filters must be the dashboard's.
    app.post(&format!("/dashboards/{id}/shares"))
        .tenant("East")
        .header("x-user-id", "mallory")
        .json(&json!({}))
        .send()
        .await
        .expect(403);
    as_east(app.post(&format!("/dashboards/{id}/shares")))
        .json(&json!({"locked_filters": {"nope": 1}}))
        .send()
        .await
        .expect(422);
    as_east(app.post(&format!("/dashboards/{id}/shares")))
        .json(&json!({"expires_at": "2001-01-01T00:00:00Z"}))
        .send()
        .await
        .expect(422);
    let share = as_east(app.post(&format!("/dashboards/{id}/shares")))
        .json(&json!({"label": "board", "locked_filters": {"status": "completed"}}))
        .send()
        .await
        .expect(201);
    let token = share["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "at least 128 bits: {token}");
    assert_eq!(share["url"], format!("/api/prismiq/shared/{token}"));

    // The dashboard, read-only, without owner or viewers.
    let shared = app
        .get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(200);
    assert_eq!(shared["id"], dashboard["id"]);
    assert!(shared.get("owner_id").is_none() && shared.get("allowed_viewers").is_none());
    assert_eq!(shared["locked_filters"], json!({"status": "completed"}));

    // Execute: the creator's rows (tenant East), whatever filter values the viewer sends.
    let execute = |values: Value| {
        app.post(&format!("/shared/{token}/widgets/{widget}/execute"))
            .json(&values)
    };
    let locked = execute(json!([])).send().await.expect(200);
    assert_eq!(regions(&locked), [json!("East")]);
    for values in [
        json!([{"filter_id": "regions", "value": ["West", "North", "East"]}]),
        json!([{"filter_id": "city", "value": "a"}]),
        json!([{"filter_id": "amount", "value": {"min": 0, "max": 1000000}}]),
        json!([{"filter_id": "when", "value": {"start": "2000-01-01", "end": "2100-01-01"}}]),
        json!([{"filter_id": "status", "value": "pending"}]),
        json!([{"filter_id": "Status", "value": "pending"}]),
        json!([{"filter_id": "status", "value": "pending"}, {"filter_id": "status", "value": "cancelled"}]),
        json!([{"filter_id": "undeclared", "value": "x"}]),
    ] {
        let result = execute(values.clone()).send().await.expect(200);
        for region in regions(&result) {
            assert_eq!(region, json!("East"), "{values}: another tenant's row");
        }
        if values.to_string().contains("status") || values.to_string().contains("undeclared") {
            assert_eq!(
                total(&result),
                total(&locked),
                "{values}: the locked status cannot be overridden"
            );
        }
    }
    // The same widget through the authenticated route, with the locked value: the same rows.
    let owner_view = as_east(app.post(&format!("/dashboards/{id}/widgets/{widget}/execute")))
        .json(&json!([{"filter_id": "status", "value": "completed"}]))
        .send()
        .await
        .expect(200);
    assert_eq!(owner_view["rows"], locked["rows"]);

    // Nothing else is reachable through the token.
    let other_widget = private["widgets"][0]["id"].as_str().unwrap();
    let west_widget = west["widgets"][0]["id"].as_str().unwrap();
    for path in [
        format!("/shared/{token}/widgets/{other_widget}/execute"),
        format!("/shared/{token}/widgets/{west_widget}/execute"),
    ] {
        app.post(&path).json(&json!([])).send().await.expect(404);
    }
    for path in [
        format!("/shared/{token}/query/execute"),
        format!("/shared/{token}/dashboards"),
        format!("/shared/{token}/schema"),
    ] {
        app.get(&path).send().await.expect(404);
    }
    app.post(&format!("/shared/{token}"))
        .send()
        .await
        .expect(405);
    app.get("/shared/psh_0000").send().await.expect(404);

    // Listing shows no token; errors carry none.
    let listed = as_east(app.get(&format!("/dashboards/{id}/shares")))
        .send()
        .await
        .expect(200);
    assert_eq!(listed["shares"].as_array().unwrap().len(), 1);
    assert!(
        !listed.to_string().contains(&token[4..]),
        "no token in the list"
    );
    let hash_like = &token[4..20];
    let missing = app
        .get(&format!("/shared/{token}x"))
        .send()
        .await
        .expect(404);
    assert!(!missing.to_string().contains(hash_like));

    // Revoked: 404 at once. Deleting a dashboard revokes its links.
    let share_id = share["id"].as_str().unwrap();
    as_east(app.delete(&format!("/dashboards/{id}/shares/{share_id}")))
        .send()
        .await
        .expect(200);
    app.get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(404);
    let second = as_east(app.post(&format!("/dashboards/{id}/shares")))
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    as_east(app.delete(&format!("/dashboards/{id}")))
        .send()
        .await
        .expect(200);
    app.get(&format!("/shared/{}", second["token"].as_str().unwrap()))
        .send()
        .await
        .expect(404);
}

#[tokio::test]
async fn revocation_is_seen_by_another_instance_and_expiry_is_410() {
    let database = prismiq_store_postgres::testing::fresh_database().await;
    let first = TestApp::new(engine(database.store().clone()).await);
    // Another instance: an engine of its own on a pool of its own.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(database.connect_options().clone())
        .await
        .unwrap();
    let second = TestApp::new(engine(prismiq_store_postgres::PostgresStore::new(pool)).await);
    let dashboard = first
        .post("/dashboards")
        .as_user("alice")
        .json(&dashboard_body("D"))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let share = first
        .post(&format!("/dashboards/{id}/shares"))
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let token = share["token"].as_str().unwrap();
    second
        .get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(200);
    first
        .delete(&format!(
            "/dashboards/{id}/shares/{}",
            share["id"].as_str().unwrap()
        ))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    second
        .get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(404);

    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let expiring = first
        .post(&format!("/dashboards/{id}/shares"))
        .as_user("alice")
        .json(&json!({"expires_at": soon.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)}))
        .send()
        .await
        .expect(201);
    let token = expiring["token"].as_str().unwrap();
    second
        .get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    second
        .get(&format!("/shared/{token}"))
        .send()
        .await
        .expect_detail(410, "This share link has expired");
}

#[tokio::test]
async fn reads_through_a_link_are_rate_limited() {
    let engine = engine(prismiq_store_postgres::testing::fresh_store().await)
        .await
        .with_share_rate_limit(2, Duration::from_secs(60));
    let app = TestApp::new(engine);
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&dashboard_body("D"))
        .send()
        .await
        .expect(201);
    let share = app
        .post(&format!(
            "/dashboards/{}/shares",
            dashboard["id"].as_str().unwrap()
        ))
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let token = share["token"].as_str().unwrap();
    for _ in 0..2 {
        app.get(&format!("/shared/{token}"))
            .send()
            .await
            .expect(200);
    }
    let limited = app.get(&format!("/shared/{token}")).send().await;
    assert_eq!(limited.status.as_u16(), 429);
}

/// Everything prismiq logs while links are created, read, refused, revoked and expire, at
/// every level: no token in it.
#[tokio::test]
async fn tokens_never_reach_the_logs() {
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::new(Engine::new(prismiq_axum::prismiq_core::MemoryStore::new()));
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&dashboard_body("Logged"))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let widget = dashboard["widgets"][0]["id"].as_str().unwrap();
    let share = app
        .post(&format!("/dashboards/{id}/shares"))
        .as_user("alice")
        .json(&json!({"locked_filters": {"status": "completed"}}))
        .send()
        .await
        .expect(201);
    let token = share["token"].as_str().unwrap().to_owned();
    app.get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(200);
    // No data source: the widget's run fails on the server's side, and is logged.
    app.post(&format!("/shared/{token}/widgets/{widget}/execute"))
        .send()
        .await
        .expect(503);
    app.get(&format!("/shared/{token}x"))
        .send()
        .await
        .expect(404);
    app.delete(&format!(
        "/dashboards/{id}/shares/{}",
        share["id"].as_str().unwrap()
    ))
    .as_user("alice")
    .send()
    .await
    .expect(200);
    app.get(&format!("/shared/{token}"))
        .send()
        .await
        .expect(404);

    let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        !logged.contains(&token[4..]),
        "a token in the logs:\n{logged}"
    );
}
