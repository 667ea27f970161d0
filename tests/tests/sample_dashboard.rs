//! The demo's sample dashboard (`prismiq_sample::dashboard`) over the sample dataset: created
//! once, visible to its tenant, and every widget's query runs and returns the columns its chart
//! configuration names.

use std::sync::Arc;

use prismiq_axum::prismiq_core::{Engine, MemoryStore};
use prismiq_sample::{dashboard, dataset};
use prismiq_store_postgres::PgDataSource;
use prismiq_tests::{TestApp, sample};
use serde_json::Value;

/// The engine as the demo builds it on PostgreSQL: the dataset's tables exposed.
async fn engine() -> Engine {
    let source = PgDataSource::new(sample::pool().await).with_exposed_tables(dataset::TABLES);
    Engine::new(MemoryStore::new()).with_data_source(Arc::new(source))
}

/// The names of a result's columns.
fn column_names(result: &Value) -> Vec<&str> {
    result["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("columns in {result}"))
        .iter()
        .map(|c| {
            c.as_str()
                .unwrap_or_else(|| panic!("a column name in {result}"))
        })
        .collect()
}

#[tokio::test]
async fn the_sample_dashboard_is_created_once_and_every_widget_runs() {
    let engine = engine().await;
    dashboard::ensure(&engine)
        .await
        .expect("create the sample dashboard");
    dashboard::ensure(&engine)
        .await
        .expect("a second call leaves the existing dashboard alone");
    let app = TestApp::new(engine);

    // Public: the tenant's callers see it without a user id.
    let list = app
        .get("/dashboards")
        .tenant(dashboard::TENANT)
        .send()
        .await
        .expect(200);
    let dashboards = list["dashboards"].as_array().expect("dashboards");
    assert_eq!(dashboards.len(), 1, "one sample dashboard: {list}");
    let sales = &dashboards[0];
    assert_eq!(sales["name"], "Sales overview");
    assert_eq!(sales["owner_id"], dashboard::OWNER);
    assert_eq!(sales["is_public"], true);

    let id = sales["id"].as_str().expect("an id");
    let widgets = sales["widgets"].as_array().expect("widgets");
    let mut ran = 0;
    for widget in widgets.iter().filter(|w| !w["query"].is_null()) {
        let title = &widget["title"];
        let wid = widget["id"].as_str().expect("a widget id");
        let result = app
            .post(&format!("/dashboards/{id}/widgets/{wid}/execute"))
            .tenant(dashboard::TENANT)
            .send()
            .await
            .expect(200);
        let columns = column_names(&result);
        let config = &widget["config"];
        let named = config["x_axis"].as_str().into_iter().chain(
            config["y_axis"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        for column in named {
            assert!(
                columns.contains(&column),
                "{title}: the chart names column {column:?}, the result has {columns:?}"
            );
        }
        assert!(
            !result["rows"].as_array().expect("rows").is_empty(),
            "{title}: no rows"
        );
        ran += 1;
    }
    assert_eq!(ran, 6, "every widget but the text one has a query");
}
