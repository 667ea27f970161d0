//! Dashboard versions over HTTP, on SQLite and in memory: the history routes, `ETag` on
//! responses carrying one dashboard, `If-Match` on every write route (412 when stale, with the
//! current version), `If-None-Match` (304 only for callers who may view the dashboard), and
//! two writers racing with the same `If-Match`.

use axum::http::StatusCode;
use prismiq_axum::prismiq_core::Engine;
use prismiq_tests::TestApp;
use serde_json::{Value, json};

async fn apps() -> Vec<(&'static str, TestApp)> {
    vec![
        (
            "memory",
            TestApp::new(Engine::new(prismiq_axum::prismiq_core::MemoryStore::new())),
        ),
        (
            "sqlite",
            TestApp::new(Engine::new(
                prismiq_store_sqlite::testing::fresh_store().await,
            )),
        ),
    ]
}

fn widget(title: &str, x: u32) -> Value {
    json!({"type": "text", "title": title, "position": {"x": x, "y": 0, "w": 2, "h": 2},
           "config": {"content": title}})
}

fn etag_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn history_etags_and_conditional_writes() {
    for (store, app) in apps().await {
        let created = app
            .post("/dashboards")
            .as_user("alice")
            .json(&json!({"name": "Versioned", "widgets": [widget("First", 0)]}))
            .send_raw()
            .await;
        assert_eq!(created.0, StatusCode::CREATED, "{store}");
        assert_eq!(etag_of(&created.1), "\"1\"", "{store}");
        let dashboard: Value = serde_json::from_slice(&created.2).unwrap();
        let id = dashboard["id"].as_str().unwrap().to_owned();
        let first = dashboard["widgets"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(dashboard["version"], 1);

        // GET carries the ETag and asks browsers to revalidate.
        let (status, headers, _) = app
            .get(&format!("/dashboards/{id}"))
            .as_user("alice")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(etag_of(&headers), "\"1\"");
        assert_eq!(headers["cache-control"], "private, no-cache");

        // Every write route refuses a stale If-Match with 412 and the current version.
        let stale = |call: prismiq_tests::Call| call.as_user("alice").header("if-match", "\"99\"");
        let calls = [
            stale(app.patch(&format!("/dashboards/{id}"))).json(&json!({"name": "Stale"})),
            stale(app.post(&format!("/dashboards/{id}/widgets"))).json(&widget("Stale", 4)),
            stale(app.patch(&format!("/dashboards/{id}/widgets/{first}")))
                .json(&json!({"title": "Stale"})),
            stale(app.post(&format!("/dashboards/{id}/widgets/{first}/duplicate"))),
            stale(app.delete(&format!("/dashboards/{id}/widgets/{first}"))),
            stale(app.put(&format!("/dashboards/{id}/layout")))
                .json(&json!([{"widget_id": first, "position": {"x": 6, "y": 0, "w": 2, "h": 2}}])),
            stale(app.post(&format!("/dashboards/{id}/versions/1/restore"))),
        ];
        for call in calls {
            let body = call.send().await.expect(412);
            assert_eq!(body["current_version"], 1, "{store}: {body}");
        }
        let now = app
            .get(&format!("/dashboards/{id}"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        assert_eq!(
            (now["version"].clone(), now["name"].clone()),
            (json!(1), json!("Versioned")),
            "{store}: nothing changed"
        );

        // The current version goes ahead, and the response has the new ETag.
        let (status, headers, _) = app
            .patch(&format!("/dashboards/{id}"))
            .as_user("alice")
            .header("if-match", "\"1\"")
            .json(&json!({"name": "Renamed"}))
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{store}");
        assert_eq!(etag_of(&headers), "\"2\"");
        app.post(&format!("/dashboards/{id}/widgets"))
            .as_user("alice")
            .header("if-match", "W/\"2\"")
            .json(&widget("Second", 4))
            .send()
            .await
            .expect(201);
        // Without If-Match, writes behave as before.
        app.patch(&format!("/dashboards/{id}"))
            .as_user("alice")
            .json(&json!({"description": "x"}))
            .send()
            .await
            .expect(200);
        app.patch(&format!("/dashboards/{id}"))
            .as_user("alice")
            .header("if-match", "yes")
            .json(&json!({}))
            .send()
            .await
            .expect(400);

        // If-None-Match: 304 with no body when current, the dashboard when not.
        let (status, headers, body) = app
            .get(&format!("/dashboards/{id}"))
            .as_user("alice")
            .header("if-none-match", "\"4\"")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{store}");
        assert!(body.is_empty());
        assert_eq!(etag_of(&headers), "\"4\"");
        let (status, _, _) = app
            .get(&format!("/dashboards/{id}"))
            .as_user("alice")
            .header("if-none-match", "\"3\"")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK);
        // Only for callers who may view it: another tenant gets 404, a stranger 403.
        app.get(&format!("/dashboards/{id}"))
            .tenant("t2")
            .header("x-user-id", "alice")
            .header("if-none-match", "\"4\"")
            .send()
            .await
            .expect(404);
        app.get(&format!("/dashboards/{id}"))
            .as_user("mallory")
            .header("if-none-match", "\"4\"")
            .send()
            .await
            .expect(403);

        // The history.
        let page = app
            .get(&format!("/dashboards/{id}/versions?limit=2"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        let versions: Vec<u64> = page["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions, [4, 3], "{store}");
        assert_eq!(page["versions"][0]["kind"], "updated");
        assert_eq!(page["versions"][1]["kind"], "widget_created");
        assert_eq!(page["versions"][0]["author"], "alice");
        assert!(page["versions"][0].get("document").is_none());
        let rest = app
            .get(&format!(
                "/dashboards/{id}/versions?cursor={}",
                page["next_cursor"]
            ))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        assert_eq!(rest["versions"].as_array().unwrap().len(), 2);
        let one = app
            .get(&format!("/dashboards/{id}/versions/1"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        assert_eq!(one["document"]["name"], "Versioned");
        app.get(&format!("/dashboards/{id}/versions/99"))
            .as_user("alice")
            .send()
            .await
            .expect(404);
        app.get(&format!("/dashboards/{id}/versions/one"))
            .as_user("alice")
            .send()
            .await
            .expect(422);
        app.get(&format!("/dashboards/{id}/versions"))
            .tenant("t2")
            .header("x-user-id", "alice")
            .send()
            .await
            .expect(404);
        let diff = app
            .get(&format!("/dashboards/{id}/versions/1/diff/4"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        assert_eq!(diff["summary"]["widgets_added"], json!(["Second"]));
        assert!(
            diff["summary"]["fields_changed"]
                .as_array()
                .unwrap()
                .contains(&json!("name"))
        );
        assert!(diff["patch"].as_array().is_some_and(|ops| !ops.is_empty()));

        // Restore: a new version equal to the old content; a viewer may not.
        app.post(&format!("/dashboards/{id}/versions/1/restore"))
            .as_user("mallory")
            .send()
            .await
            .expect(403);
        let (status, headers, body) = app
            .post(&format!("/dashboards/{id}/versions/1/restore"))
            .as_user("alice")
            .header("if-match", "\"4\"")
            .send_raw()
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{store}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(etag_of(&headers), "\"5\"");
        let restored: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(restored["name"], "Versioned");
        assert_eq!(restored["widgets"].as_array().unwrap().len(), 1);
        assert_eq!(restored["widgets"][0]["id"], first.as_str());

        // An import and a user's default dashboard carry their ETag too.
        let export = app
            .get(&format!("/dashboards/{id}/export"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        let (status, headers, _) = app
            .post("/dashboards/import")
            .as_user("alice")
            .json(&json!({"export_data": export, "name_override": "Imported"}))
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::CREATED, "{store}");
        assert_eq!(etag_of(&headers), "\"1\"");
        app.put(&format!("/dashboards/{id}/default"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        let (status, headers, _) = app
            .get("/dashboards/default")
            .as_user("alice")
            .send_raw()
            .await;
        assert_eq!(status, StatusCode::OK, "{store}");
        assert_eq!(etag_of(&headers), "\"5\"");

        // Deleting the dashboard leaves nothing readable.
        app.delete(&format!("/dashboards/{id}"))
            .as_user("alice")
            .send()
            .await
            .expect(200);
        app.get(&format!("/dashboards/{id}/versions/1"))
            .as_user("alice")
            .send()
            .await
            .expect(404);
    }
}

#[tokio::test]
async fn two_writers_with_the_same_if_match_one_wins() {
    for (store, app) in apps().await {
        let dashboard = app
            .post("/dashboards")
            .as_user("alice")
            .json(&json!({"name": "Race"}))
            .send()
            .await
            .expect(201);
        let id = dashboard["id"].as_str().unwrap();
        let write = |name: &'static str| {
            app.patch(&format!("/dashboards/{id}"))
                .as_user("alice")
                .header("if-match", "\"1\"")
                .json(&json!({"name": name}))
                .send()
        };
        let (a, b) = tokio::join!(write("A"), write("B"));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "{store}");
    }
}
