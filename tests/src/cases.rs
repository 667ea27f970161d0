//! The HTTP cases. Each takes a fresh engine over the store under test.

use axum::http::Method;
use prismiq_axum::prismiq_core::Engine;
use serde_json::{Value, json};

use crate::TestApp;
pub use crate::catalogue_cases::{
    dashboard_summaries_over_http, default_dashboards_over_http, templates_over_http,
    widget_catalogue_over_http, widget_providers_over_http,
};

fn query() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]
    })
}

/// [`query`] as the API writes it back: every key, with its default.
fn echoed_query() -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders", "alias": null}],
        "joins": [],
        "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum",
                     "alias": null, "date_trunc": null, "date_format": null,
                     "sql_expression": null}],
        "filters": [],
        "group_by": [],
        "order_by": [],
        "limit": null,
        "offset": null,
        "time_series": null,
        "calculated_fields": []
    })
}

fn widget_body(title: &str, x: u32, y: u32) -> Value {
    json!({
        "type": "bar_chart",
        "title": title,
        "query": query(),
        "position": {"x": x, "y": y, "w": 4, "h": 3},
        "config": {"x_axis": "region", "valueFormat": "currency"}
    })
}

async fn create_dashboard(app: &TestApp, user: &str, body: Value) -> Value {
    app.post("/dashboards")
        .as_user(user)
        .json(&body)
        .send()
        .await
        .expect(201)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// `/health`, `/health/live` and `/health/ready` answer without any header.
pub async fn health_routes_need_no_auth(engine: Engine) {
    let app = TestApp::new(engine);
    let health = app.get("/health").send().await.expect(200);
    assert_eq!(health["status"], "healthy");
    assert!(health["version"].is_string());
    assert!(health["uptime_seconds"].is_number());
    let checks = health["checks"].as_object().expect("checks");
    let names: Vec<&String> = checks.keys().collect();
    assert!(
        names.len() >= 2,
        "the store and the result cache are checked: {names:?}"
    );
    assert!(checks.contains_key("cache"), "{names:?}");
    for check in checks.values() {
        assert_eq!(check["status"], "healthy");
        assert!(check["latency_ms"].is_number());
        assert_eq!(check["message"], Value::Null);
    }
    assert_eq!(
        app.get("/health/live").send().await.expect(200),
        json!({"status": "ok"})
    );
    assert_eq!(
        app.get("/health/ready").send().await.expect(200),
        json!({"status": "ok"})
    );
}

/// Every authenticated route answers 400 without `X-Tenant-ID` (or with an empty one), even
/// when the body is also wrong.
pub async fn missing_tenant_header_is_400_everywhere(engine: Engine) {
    let app = TestApp::new(engine);
    let id = "0190f5b2-0000-7000-8000-000000000000";
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, "/dashboards".into()),
        (Method::POST, "/dashboards".into()),
        (Method::GET, format!("/dashboards/{id}")),
        (Method::PATCH, format!("/dashboards/{id}")),
        (Method::DELETE, format!("/dashboards/{id}")),
        (Method::POST, format!("/dashboards/{id}/widgets")),
        (Method::PATCH, format!("/dashboards/{id}/widgets/{id}")),
        (Method::PUT, format!("/dashboards/{id}/widgets/{id}")),
        (Method::DELETE, format!("/dashboards/{id}/widgets/{id}")),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets/{id}/duplicate"),
        ),
        (Method::PUT, format!("/dashboards/{id}/layout")),
        (Method::GET, format!("/dashboards/{id}/export")),
        (Method::POST, "/dashboards/import".into()),
        (Method::GET, format!("/dashboards/{id}/pins")),
        (Method::GET, "/saved-queries".into()),
        (Method::POST, "/saved-queries".into()),
        (Method::GET, format!("/saved-queries/{id}")),
        (Method::PATCH, format!("/saved-queries/{id}")),
        (Method::DELETE, format!("/saved-queries/{id}")),
        (Method::POST, "/pins".into()),
        (Method::DELETE, "/pins".into()),
        (Method::GET, "/pins?context=home".into()),
        (Method::PUT, "/pins/order".into()),
        (Method::POST, "/llm/chat".into()),
    ];
    for (method, path) in routes {
        app.request(method.clone(), &path)
            .json(&json!({"name": 5}))
            .send()
            .await
            .expect_detail(400, "X-Tenant-ID header is required");
        app.request(method, &path)
            .tenant("")
            .header("x-user-id", "alice")
            .send()
            .await
            .expect_detail(400, "X-Tenant-ID header is required");
    }
}

/// Unknown paths are 404 and wrong methods 405, both as JSON.
pub async fn unknown_routes_and_methods(engine: Engine) {
    let app = TestApp::new(engine);
    app.get("/nope")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Not Found");
    app.delete("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect_detail(405, "Method Not Allowed");
    app.post("/health")
        .send()
        .await
        .expect_detail(405, "Method Not Allowed");
}

/// Create, read, list, change and delete a dashboard.
pub async fn dashboard_crud(engine: Engine) {
    let app = TestApp::new(engine);
    let created = create_dashboard(
        &app,
        "alice",
        json!({"name": "Sales", "description": "Q3", "widgets": [widget_body("Revenue", 0, 0)]}),
    )
    .await;
    let id = id_of(&created);
    assert_eq!(created["name"], "Sales");
    assert_eq!(created["owner_id"], "alice");
    assert_eq!(
        created["layout"],
        json!({"columns": 12, "row_height": 50, "margin": [10, 10], "compact_type": "vertical"})
    );
    assert_eq!(created["widgets"].as_array().unwrap().len(), 1);

    let read = app
        .get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(read, created);
    let list = app
        .get("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(list["dashboards"], json!([created]));

    let patched = app
        .patch(&format!("/dashboards/{id}"))
        .as_user("alice")
        .json(&json!({"description": null, "layout": {"columns": 24}}))
        .send()
        .await
        .expect(200);
    assert_eq!(patched["description"], Value::Null, "explicit null clears");
    assert_eq!(patched["name"], "Sales", "absent is unchanged");
    assert_eq!(patched["layout"]["columns"], 24);
    assert_eq!(
        patched["layout"]["row_height"], 50,
        "missing layout keys take defaults"
    );
    assert_eq!(
        patched["widgets"], created["widgets"],
        "no `widgets`, no widget change"
    );

    let deleted = app
        .delete(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        deleted,
        json!({"success": true, "message": format!("Dashboard '{id}' deleted")})
    );
    app.get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, &format!("Dashboard '{id}' not found"));
    app.get("/dashboards/not-a-uuid")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Dashboard 'not-a-uuid' not found");
}

/// Dashboards, widgets and configs have exactly the contract's keys.
pub async fn dashboard_json_shapes(engine: Engine) {
    let app = TestApp::new(engine);
    let created = create_dashboard(
        &app,
        "alice",
        json!({"name": "Shapes", "widgets": [widget_body("W", 0, 0)]}),
    )
    .await;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&created),
        [
            "allowed_viewers",
            "created_at",
            "description",
            "filters",
            "id",
            "is_public",
            "layout",
            "name",
            "owner_id",
            "refresh_interval",
            "updated_at",
            "version",
            "widgets"
        ]
    );
    let widget = &created["widgets"][0];
    assert_eq!(
        keys(widget),
        [
            "config",
            "created_at",
            "id",
            "position",
            "query",
            "title",
            "type",
            "updated_at"
        ]
    );
    assert_eq!(widget["position"], json!({"x": 0, "y": 0, "w": 4, "h": 3}));
    let config = widget["config"].as_object().unwrap();
    assert_eq!(config.len(), 34, "config carries all 34 keys");
    assert_eq!(config["valueFormat"], "currency");
    assert_eq!(config["raw_sql"], Value::Null);
    for stamp in [&created["created_at"], &widget["updated_at"]] {
        let s = stamp.as_str().unwrap();
        assert!(
            s.ends_with('Z') && s.contains('T'),
            "ISO-8601 UTC with Z: {s}"
        );
    }
    assert!(
        created["id"]
            .as_str()
            .unwrap()
            .parse::<uuid_like::Id>()
            .is_ok()
    );
}

mod uuid_like {
    /// A minimal UUID shape check (8-4-4-4-12 hex).
    pub(crate) struct Id;
    impl std::str::FromStr for Id {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let parts: Vec<&str> = s.split('-').collect();
            let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            let hex = parts
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()));
            (lengths == [8, 4, 4, 4, 12] && hex).then_some(Id).ok_or(())
        }
    }
}

/// `POST /dashboards` keeps `filters`, `is_public` and `allowed_viewers`.
pub async fn dashboard_create_honours_sharing_fields(engine: Engine) {
    let app = TestApp::new(engine);
    let filters = json!([{"id": "f1", "type": "select", "label": "Region", "field": "region", "table": "customers", "default_value": null, "options": [{"value": "East", "label": "East"}], "date_preset": null, "dynamic": false}]);
    let created = create_dashboard(
        &app,
        "alice",
        json!({"name": "Shared", "filters": filters, "is_public": true, "allowed_viewers": ["bob"]}),
    )
    .await;
    assert_eq!(created["filters"], filters);
    assert_eq!(created["is_public"], true);
    assert_eq!(created["allowed_viewers"], json!(["bob"]));
}

/// Another tenant's dashboard, widget or saved query is 404 on every route, never 403.
pub async fn other_tenants_objects_are_404(engine: Engine) {
    let app = TestApp::new(engine);
    let created = create_dashboard(
        &app,
        "alice",
        json!({"name": "Mine", "is_public": true, "widgets": [widget_body("W", 0, 0)]}),
    )
    .await;
    let id = id_of(&created);
    let wid = id_of(&created["widgets"][0]);
    let other = |call: crate::Call| call.tenant("t2").header("x-user-id", "alice").admin();
    let not_found = format!("Dashboard '{id}' not found");
    other(app.get(&format!("/dashboards/{id}")))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.patch(&format!("/dashboards/{id}")))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.delete(&format!("/dashboards/{id}")))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.get(&format!("/dashboards/{id}/export")))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.post(&format!("/dashboards/{id}/widgets")))
        .json(&widget_body("x", 0, 0))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.patch(&format!("/dashboards/{id}/widgets/{wid}")))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.delete(&format!("/dashboards/{id}/widgets/{wid}")))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.post(&format!("/dashboards/{id}/widgets/{wid}/duplicate")))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.put(&format!("/dashboards/{id}/layout")))
        .json(&json!([]))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.get(&format!("/dashboards/{id}/pins")))
        .send()
        .await
        .expect_detail(404, &not_found);
    other(app.post("/pins"))
        .json(&json!({"dashboard_id": id, "context": "home"}))
        .send()
        .await
        .expect_detail(404, &not_found);
    let list = other(app.get("/dashboards")).send().await.expect(200);
    assert_eq!(list["dashboards"], json!([]));

    let saved = app
        .post("/saved-queries")
        .as_user("alice")
        .json(&json!({"name": "Q", "query": query(), "is_shared": true}))
        .send()
        .await
        .expect(201);
    let qid = id_of(&saved);
    let q_not_found = format!("Saved query '{qid}' not found");
    other(app.get(&format!("/saved-queries/{qid}")))
        .send()
        .await
        .expect_detail(404, &q_not_found);
    other(app.patch(&format!("/saved-queries/{qid}")))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .expect_detail(404, &q_not_found);
    other(app.delete(&format!("/saved-queries/{qid}")))
        .send()
        .await
        .expect_detail(404, &q_not_found);
    assert_eq!(
        other(app.get("/saved-queries")).send().await.expect(200)["queries"],
        json!([])
    );

    // Still intact for its own tenant.
    app.get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
}

/// View, edit and delete rules over HTTP: 403 within the tenant, admins allowed, lists filtered.
pub async fn permissions_are_enforced(engine: Engine) {
    let app = TestApp::new(engine);
    let private = create_dashboard(
        &app,
        "alice",
        json!({"name": "Private", "widgets": [widget_body("W", 0, 0)]}),
    )
    .await;
    let public =
        create_dashboard(&app, "alice", json!({"name": "Public", "is_public": true})).await;
    let shared = create_dashboard(
        &app,
        "alice",
        json!({"name": "Shared", "allowed_viewers": ["bob"]}),
    )
    .await;
    let (pid, wid) = (id_of(&private), id_of(&private["widgets"][0]));

    app.get(&format!("/dashboards/{pid}"))
        .as_user("bob")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.get(&format!("/dashboards/{pid}/export"))
        .as_user("bob")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.get(&format!("/dashboards/{pid}"))
        .tenant("t1")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.get(&format!("/dashboards/{}", id_of(&shared)))
        .as_user("bob")
        .send()
        .await
        .expect(200);
    app.get(&format!("/dashboards/{}", id_of(&public)))
        .tenant("t1")
        .send()
        .await
        .expect(200);

    for call in [
        app.patch(&format!("/dashboards/{}", id_of(&public)))
            .json(&json!({"name": "Mine now"})),
        app.delete(&format!("/dashboards/{}", id_of(&shared))),
        app.post(&format!("/dashboards/{pid}/widgets"))
            .json(&widget_body("x", 0, 0)),
        app.patch(&format!("/dashboards/{pid}/widgets/{wid}"))
            .json(&json!({"title": "x"})),
        app.delete(&format!("/dashboards/{pid}/widgets/{wid}")),
        app.post(&format!("/dashboards/{pid}/widgets/{wid}/duplicate")),
        app.put(&format!("/dashboards/{pid}/layout"))
            .json(&json!([])),
    ] {
        call.as_user("bob")
            .send()
            .await
            .expect_detail(403, "Permission denied");
    }

    let names = |body: Value| {
        let mut names: Vec<String> = body["dashboards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(
            app.get("/dashboards")
                .as_user("bob")
                .send()
                .await
                .expect(200)
        ),
        ["Public", "Shared"]
    );
    assert_eq!(
        names(app.get("/dashboards").tenant("t1").send().await.expect(200)),
        ["Public"]
    );
    assert_eq!(
        names(
            app.get("/dashboards")
                .as_user("carol")
                .admin()
                .send()
                .await
                .expect(200)
        ),
        ["Private", "Public", "Shared"]
    );

    // An admin may view and edit anyone's dashboard.
    app.get(&format!("/dashboards/{pid}"))
        .as_user("carol")
        .admin()
        .send()
        .await
        .expect(200);
    let renamed = app
        .patch(&format!("/dashboards/{pid}"))
        .as_user("carol")
        .admin()
        .json(&json!({"name": "Audited"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        renamed["owner_id"], "alice",
        "editing does not change the owner"
    );
    app.delete(&format!("/dashboards/{pid}"))
        .as_user("carol")
        .admin()
        .send()
        .await
        .expect(200);
}

/// Bodies that cannot be read are 422 with the list shape and a location.
pub async fn malformed_bodies_are_422_lists(engine: Engine) {
    let app = TestApp::new(engine);
    let (kind, loc) = app
        .post("/dashboards")
        .as_user("alice")
        .raw("{\"name\": ")
        .send()
        .await
        .expect_validation();
    assert_eq!(kind, "json_invalid");
    assert_eq!(loc[0], "body");
    assert!(loc[1].is_number());

    let (kind, loc) = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"description": "no name"}))
        .send()
        .await
        .expect_validation();
    assert_eq!((kind.as_str(), loc), ("missing", json!(["body", "name"])));

    let (kind, loc) = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": 5}))
        .send()
        .await
        .expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        ("string_type", json!(["body", "name"]))
    );

    let (kind, loc) = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "x", "widgets": [widget_body("ok", 0, 0), {"type": "table", "title": "t", "position": {"x": 0, "y": 0, "w": "wide", "h": 1}}]}))
        .send()
        .await
        .expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        ("int_type", json!(["body", "widgets", 1, "position", "w"]))
    );

    let (kind, loc) = app.post("/dashboards").as_user("alice").json(&json!({"name": "x", "widgets": [{"type": "donut", "title": "t", "position": {"x": 0, "y": 0, "w": 1, "h": 1}}]})).send().await.expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        ("enum", json!(["body", "widgets", 0, "type"])),
        "unknown widget type"
    );

    let (kind, _) = app
        .post("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect_validation();
    assert_eq!(kind, "missing", "no body at all");

    let (kind, loc) = app
        .post("/saved-queries")
        .as_user("alice")
        .json(&json!({"name": "q", "query": {"tables": [], "columns": []}}))
        .send()
        .await
        .expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        ("value_error", json!(["body", "query"])),
        "an empty query definition"
    );

    let (kind, loc) = app.post("/dashboards").as_user("alice").json(&json!({"name": "x", "widgets": [{"type": "table", "title": "t", "position": {"x": 0, "y": 0, "w": 1, "h": 1}, "config": {"fiscalYearStartMonth": 13}}]})).send().await.expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        (
            "value_error",
            json!(["body", "widgets", 0, "config", "fiscalYearStartMonth"])
        )
    );

    // Without a content type, valid JSON is still accepted.
    app.post("/dashboards")
        .as_user("alice")
        .raw(r#"{"name": "plain"}"#)
        .send()
        .await
        .expect(201);
}

/// Dashboard and saved-query names are unique per tenant: 409, with the name in the message.
pub async fn duplicate_names_are_409(engine: Engine) {
    let app = TestApp::new(engine);
    create_dashboard(&app, "alice", json!({"name": "Sales"})).await;
    let other = create_dashboard(&app, "alice", json!({"name": "Costs"})).await;
    app.post("/dashboards")
        .as_user("bob")
        .json(&json!({"name": "Sales"}))
        .send()
        .await
        .expect_detail(409, "A dashboard named 'Sales' already exists");
    app.patch(&format!("/dashboards/{}", id_of(&other)))
        .as_user("alice")
        .json(&json!({"name": "Sales"}))
        .send()
        .await
        .expect_detail(409, "A dashboard named 'Sales' already exists");
    app.post("/dashboards")
        .tenant("t2")
        .json(&json!({"name": "Sales"}))
        .send()
        .await
        .expect(201);

    app.post("/saved-queries")
        .as_user("alice")
        .json(&json!({"name": "Q", "query": query()}))
        .send()
        .await
        .expect(201);
    app.post("/saved-queries")
        .as_user("bob")
        .json(&json!({"name": "Q", "query": query()}))
        .send()
        .await
        .expect_detail(409, "A saved query named 'Q' already exists");
}

/// Positions: negative or zero sizes are 422 lists; off-grid widgets are 422 with the reason.
pub async fn positions_are_validated(engine: Engine) {
    let app = TestApp::new(engine);
    let d = create_dashboard(&app, "alice", json!({"name": "Grid"})).await;
    let path = format!("/dashboards/{}/widgets", id_of(&d));
    let body = |position: Value| json!({"type": "table", "title": "t", "position": position});
    let (kind, loc) = app
        .post(&path)
        .as_user("alice")
        .json(&body(json!({"x": -1, "y": 0, "w": 1, "h": 1})))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc, json!(["body", "position", "x"]), "{kind}");
    let (_, loc) = app
        .post(&path)
        .as_user("alice")
        .json(&body(json!({"x": 0, "y": 0, "w": 0, "h": 1})))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc, json!(["body", "position", "w"]));
    app.post(&path)
        .as_user("alice")
        .json(&body(json!({"x": 10, "y": 0, "w": 4, "h": 1})))
        .send()
        .await
        .expect_detail_containing(422, "does not fit the grid");
    app.post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Off", "widgets": [body(json!({"x": 12, "y": 0, "w": 1, "h": 1}))]}))
        .send()
        .await
        .expect_detail_containing(422, "12 columns");
    let ok = app
        .post(&path)
        .as_user("alice")
        .json(&body(json!({"x": 8, "y": 0, "w": 4, "h": 1, "minW": 2})))
        .send()
        .await
        .expect(201);
    assert_eq!(
        ok["position"],
        json!({"x": 8, "y": 0, "w": 4, "h": 1}),
        "extra keys dropped"
    );
}

/// Add, change (PATCH and PUT), duplicate and delete a widget.
pub async fn widget_routes(engine: Engine) {
    let app = TestApp::new(engine);
    let d = create_dashboard(&app, "alice", json!({"name": "W"})).await;
    let id = id_of(&d);
    let created = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("Revenue", 2, 0))
        .send()
        .await
        .expect(201);
    let wid = id_of(&created);
    assert_eq!(created["title"], "Revenue");
    assert_eq!(created["query"], echoed_query());
    assert_eq!(created["config"]["x_axis"], "region");

    let patched = app
        .patch(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"title": "Income", "query": null}))
        .send()
        .await
        .expect(200);
    assert_eq!(patched["title"], "Income");
    assert_eq!(patched["query"], Value::Null, "null clears the query");
    assert_eq!(
        patched["config"]["x_axis"], "region",
        "absent config unchanged"
    );
    let put = app
        .put(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"config": {"raw_sql": "select 1", "data_source_mode": "sql"}}))
        .send()
        .await
        .expect(200);
    assert_eq!(put["config"]["raw_sql"], "select 1");
    assert_eq!(
        put["config"]["x_axis"],
        Value::Null,
        "config is replaced whole"
    );
    app.patch(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"query": query()}))
        .send()
        .await
        .expect_detail(
            422,
            "raw_sql and query are mutually exclusive; set one or the other, not both",
        );

    let copy = app
        .post(&format!("/dashboards/{id}/widgets/{wid}/duplicate"))
        .as_user("alice")
        .send()
        .await
        .expect(201);
    assert_eq!(copy["title"], "Income (Copy)");
    assert_eq!(copy["position"]["x"], 3);
    assert_ne!(copy["id"], created["id"]);

    let dashboard = app
        .get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(dashboard["widgets"].as_array().unwrap().len(), 2);

    let deleted = app
        .delete(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        deleted,
        json!({"success": true, "message": format!("Widget '{wid}' deleted")})
    );
    app.delete(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, &format!("Widget '{wid}' not found"));
    app.patch(&format!("/dashboards/{id}/widgets/xyz"))
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect_detail(404, "Widget 'xyz' not found");
}

/// A widget of dashboard B cannot be reached through dashboard A's routes.
pub async fn widget_routes_stay_within_their_dashboard(engine: Engine) {
    let app = TestApp::new(engine);
    let a = create_dashboard(&app, "alice", json!({"name": "A"})).await;
    let b = create_dashboard(
        &app,
        "alice",
        json!({"name": "B", "widgets": [widget_body("B's", 0, 0)]}),
    )
    .await;
    let (aid, wid) = (id_of(&a), id_of(&b["widgets"][0]));
    let missing = format!("Widget '{wid}' not found");
    app.patch(&format!("/dashboards/{aid}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"title": "hijack"}))
        .send()
        .await
        .expect_detail(404, &missing);
    app.put(&format!("/dashboards/{aid}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"title": "hijack"}))
        .send()
        .await
        .expect_detail(404, &missing);
    app.delete(&format!("/dashboards/{aid}/widgets/{wid}"))
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, &missing);
    app.post(&format!("/dashboards/{aid}/widgets/{wid}/duplicate"))
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, &missing);
    let after = app
        .get(&format!("/dashboards/{}", id_of(&b)))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(after["widgets"], b["widgets"]);
    let a_after = app
        .get(&format!("/dashboards/{aid}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(a_after["widgets"], json!([]));
}

/// PATCH with `widgets` (the editor's save) keeps existing ids and client UUIDs, and is atomic.
pub async fn whole_dashboard_save(engine: Engine) {
    let app = TestApp::new(engine);
    let d = create_dashboard(&app, "alice", json!({"name": "Editor", "widgets": [widget_body("keep", 0, 0), widget_body("drop", 4, 0)]})).await;
    let id = id_of(&d);
    let mut keep = d["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["title"] == "keep")
        .unwrap()
        .clone();
    keep["title"] = json!("kept");
    keep["position"] = json!({"x": 0, "y": 3, "w": 6, "h": 2, "minW": 2});
    let client_id = "6f1c2a0e-3b7d-4c1e-9a55-2d4f8e9b0c11";
    let mut new_widget = widget_body("new", 0, 0);
    new_widget["id"] = json!(client_id);
    let mut temp = widget_body("temp id", 6, 0);
    temp["id"] = json!("widget-temp-1");
    // The editor sends the whole dashboard object back.
    let mut body = d.clone();
    body["name"] = json!("Editor v2");
    body["widgets"] = json!([keep, new_widget, temp]);
    let saved = app
        .patch(&format!("/dashboards/{id}"))
        .as_user("alice")
        .json(&body)
        .send()
        .await
        .expect(200);
    assert_eq!(saved["name"], "Editor v2");
    let widgets = saved["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 3);
    assert_eq!(widgets[0]["id"], client_id, "client UUID kept");
    assert_eq!(widgets[2]["id"], keep["id"], "existing id kept");
    assert_eq!(widgets[2]["title"], "kept");
    assert_eq!(widgets[2]["created_at"], keep["created_at"]);
    assert_eq!(
        widgets[2]["position"],
        json!({"x": 0, "y": 3, "w": 6, "h": 2})
    );
    assert_eq!(widgets[1]["title"], "temp id");
    assert_ne!(
        widgets[1]["id"], "widget-temp-1",
        "a non-UUID id is replaced"
    );

    // A failing save (raw_sql with a query) changes nothing.
    let mut bad = widget_body("bad", 0, 0);
    bad["config"] = json!({"raw_sql": "select 1"});
    app.patch(&format!("/dashboards/{id}"))
        .as_user("alice")
        .json(&json!({"name": "Editor v3", "widgets": [bad]}))
        .send()
        .await
        .expect_detail(
            422,
            "raw_sql and query are mutually exclusive; set one or the other, not both",
        );
    let after = app
        .get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(after, saved);
}

/// `PUT /dashboards/{id}/layout` takes a raw array and returns the dashboard.
pub async fn layout_update(engine: Engine) {
    let app = TestApp::new(engine);
    let d = create_dashboard(
        &app,
        "alice",
        json!({"name": "Layout", "widgets": [widget_body("a", 0, 0), widget_body("b", 4, 0)]}),
    )
    .await;
    let id = id_of(&d);
    let (a, b) = (id_of(&d["widgets"][0]), id_of(&d["widgets"][1]));
    let moved = app
        .put(&format!("/dashboards/{id}/layout"))
        .as_user("alice")
        .json(&json!([
            {"widget_id": b, "position": {"x": 0, "y": 0, "w": 12, "h": 2}},
            {"id": a, "x": 0, "y": 2, "w": 6, "h": 4},
            {"widget_id": "unknown", "position": {"x": 0, "y": 0, "w": 1, "h": 1}}
        ]))
        .send()
        .await
        .expect(200);
    assert_eq!(moved["widgets"][0]["id"], b);
    assert_eq!(
        moved["widgets"][0]["position"],
        json!({"x": 0, "y": 0, "w": 12, "h": 2})
    );
    assert_eq!(
        moved["widgets"][1]["position"],
        json!({"x": 0, "y": 2, "w": 6, "h": 4})
    );
    let (kind, _) = app
        .put(&format!("/dashboards/{id}/layout"))
        .as_user("alice")
        .json(&json!({"widgets": []}))
        .send()
        .await
        .expect_validation();
    assert_eq!(kind, "list_type");
    app.put(&format!("/dashboards/{id}/layout"))
        .as_user("alice")
        .json(&json!([{"widget_id": a, "position": {"x": 11, "y": 0, "w": 2, "h": 1}}]))
        .send()
        .await
        .expect_detail_containing(422, "does not fit the grid");
}

/// Export drops identity; import recreates the dashboard for the caller, atomically.
pub async fn export_and_import(engine: Engine) {
    let app = TestApp::new(engine);
    let filters = json!([{"id": "f1", "type": "date_range", "label": "When", "field": "created_at", "table": null, "default_value": null, "options": null, "date_preset": "last_30_days", "dynamic": null}]);
    let d = create_dashboard(&app, "alice", json!({"name": "Exported", "description": "d", "filters": filters, "is_public": true, "widgets": [widget_body("a", 0, 0)]})).await;
    let export = app
        .get(&format!("/dashboards/{}/export", id_of(&d)))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(export["version"], "1.0");
    assert_eq!(export["name"], "Exported");
    assert_eq!(export["filters"], filters);
    let mut keys: Vec<&String> = export.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "description",
            "filters",
            "layout",
            "name",
            "refresh_interval",
            "version",
            "widgets"
        ]
    );
    let mut widget_keys: Vec<&String> = export["widgets"][0].as_object().unwrap().keys().collect();
    widget_keys.sort();
    assert_eq!(
        widget_keys,
        ["config", "position", "query", "title", "type"]
    );

    app.post("/dashboards/import")
        .as_user("bob")
        .json(&json!({"export_data": export}))
        .send()
        .await
        .expect_detail(409, "A dashboard named 'Exported' already exists");
    let imported = app
        .post("/dashboards/import")
        .as_user("bob")
        .json(&json!({"export_data": export, "name_override": "Imported"}))
        .send()
        .await
        .expect(201);
    assert_eq!(imported["name"], "Imported");
    assert_eq!(imported["owner_id"], "bob");
    assert_eq!(imported["is_public"], false, "sharing is not exported");
    assert_eq!(imported["filters"], filters);
    assert_eq!(imported["widgets"][0]["title"], "a");
    assert_ne!(imported["widgets"][0]["id"], d["widgets"][0]["id"]);

    let mut broken = export.clone();
    broken["widgets"] = json!([{"title": "no type", "position": {"x": 0, "y": 0, "w": 1, "h": 1}}]);
    let (kind, loc) = app
        .post("/dashboards/import")
        .as_user("bob")
        .json(&json!({"export_data": broken, "name_override": "Broken"}))
        .send()
        .await
        .expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        (
            "missing",
            json!(["body", "export_data", "widgets", 0, "type"])
        )
    );
    let mut future = export.clone();
    future["version"] = json!("2.0");
    app.post("/dashboards/import")
        .as_user("bob")
        .json(&json!({"export_data": future, "name_override": "Future"}))
        .send()
        .await
        .expect_detail_containing(422, "Unsupported export version '2.0'");
    let names: Vec<Value> = app
        .get("/dashboards")
        .as_user("bob")
        .admin()
        .send()
        .await
        .expect(200)["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].clone())
        .collect();
    assert_eq!(names.len(), 2, "failed imports left nothing: {names:?}");
}

/// Saved-query CRUD, sharing and ownership.
pub async fn saved_queries(engine: Engine) {
    let app = TestApp::new(engine);
    let created = app
        .post("/saved-queries")
        .as_user("alice")
        .json(&json!({"name": "Revenue", "description": "all", "query": query()}))
        .send()
        .await
        .expect(201);
    let id = id_of(&created);
    assert_eq!(created["owner_id"], "alice");
    assert_eq!(created["tenant_id"], "t1");
    assert_eq!(created["is_shared"], false);
    assert!(created["created_at"].as_str().unwrap().ends_with("+00:00"));
    let mut keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "description",
            "id",
            "is_shared",
            "name",
            "owner_id",
            "query",
            "tenant_id",
            "updated_at"
        ]
    );

    app.get(&format!("/saved-queries/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    app.get(&format!("/saved-queries/{id}"))
        .as_user("bob")
        .send()
        .await
        .expect_detail(404, &format!("Saved query '{id}' not found"));
    assert_eq!(
        app.get("/saved-queries")
            .as_user("bob")
            .send()
            .await
            .expect(200),
        json!({"queries": []})
    );

    let shared = app
        .patch(&format!("/saved-queries/{id}"))
        .as_user("alice")
        .json(&json!({"is_shared": true, "description": null}))
        .send()
        .await
        .expect(200);
    assert_eq!(shared["is_shared"], true);
    assert_eq!(shared["description"], Value::Null);
    assert_eq!(shared["name"], "Revenue");
    app.get(&format!("/saved-queries/{id}"))
        .as_user("bob")
        .send()
        .await
        .expect(200);
    app.get(&format!("/saved-queries/{id}"))
        .tenant("t1")
        .send()
        .await
        .expect(200);
    app.patch(&format!("/saved-queries/{id}"))
        .as_user("bob")
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.delete(&format!("/saved-queries/{id}"))
        .tenant("t1")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    let unchanged = app
        .patch(&format!("/saved-queries/{id}"))
        .as_user("bob")
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    assert_eq!(unchanged["name"], "Revenue", "an empty PATCH just reads");

    app.post("/saved-queries")
        .as_user("bob")
        .json(&json!({"name": "A first", "query": query(), "is_shared": true}))
        .send()
        .await
        .expect(201);
    let names: Vec<Value> = app
        .get("/saved-queries")
        .as_user("alice")
        .send()
        .await
        .expect(200)["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("A first"), json!("Revenue")],
        "ordered by name"
    );

    let admin_edit = app
        .patch(&format!("/saved-queries/{id}"))
        .as_user("carol")
        .admin()
        .json(&json!({"name": "Audited"}))
        .send()
        .await
        .expect(200);
    assert_eq!(admin_edit["name"], "Audited");
    let deleted = app
        .delete(&format!("/saved-queries/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        deleted,
        json!({"success": true, "message": format!("Saved query '{id}' deleted")})
    );
    app.delete(&format!("/saved-queries/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(404);
    app.get("/saved-queries/nope")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Saved query 'nope' not found");
}

/// Pin, list, reorder, list contexts and unpin.
pub async fn pins(engine: Engine) {
    let app = TestApp::new(engine);
    let mut ids = Vec::new();
    for name in ["P0", "P1", "P2"] {
        ids.push(id_of(
            &create_dashboard(
                &app,
                "alice",
                json!({"name": name, "widgets": [widget_body("w", 0, 0)]}),
            )
            .await,
        ));
    }
    app.post("/pins")
        .tenant("t1")
        .json(&json!({"dashboard_id": ids[0], "context": "home"}))
        .send()
        .await
        .expect_detail(401, "User ID required for pin operations");
    app.get("/pins?context=home")
        .tenant("t1")
        .send()
        .await
        .expect_detail(401, "User ID required for pin operations");

    let pin = app
        .post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[0], "context": "home"}))
        .send()
        .await
        .expect(201);
    let mut keys: Vec<&String> = pin.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["context", "dashboard_id", "id", "pinned_at", "position"]
    );
    assert_eq!(
        (
            pin["dashboard_id"].as_str().unwrap(),
            pin["position"].as_u64()
        ),
        (ids[0].as_str(), Some(0))
    );
    app.post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[1], "context": "home"}))
        .send()
        .await
        .expect(201);
    let front = app
        .post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[2], "context": "home", "position": 0}))
        .send()
        .await
        .expect(201);
    assert_eq!(front["position"], 0);
    app.post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[2], "context": "home"}))
        .send()
        .await
        .expect_detail(
            409,
            &format!("Dashboard '{}' already pinned to context 'home'", ids[2]),
        );
    app.post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[0], "context": "accounts"}))
        .send()
        .await
        .expect(201);

    let order = |body: &Value| -> Vec<String> {
        body["pins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["dashboard_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = app
        .get("/pins?context=home")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        order(&listed),
        [ids[2].clone(), ids[0].clone(), ids[1].clone()]
    );
    let dashboards: Vec<&str> = listed["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        dashboards,
        [ids[2].as_str(), ids[0].as_str(), ids[1].as_str()],
        "parallel arrays"
    );
    assert_eq!(
        listed["dashboards"][0]["widgets"].as_array().unwrap().len(),
        1,
        "dashboards come whole"
    );
    let positions: Vec<u64> = listed["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [0, 1, 2]);

    let contexts = app
        .get(&format!("/dashboards/{}/pins", ids[0]))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(contexts, json!({"contexts": ["accounts", "home"]}));

    let reordered = app
        .put("/pins/order")
        .as_user("alice")
        .json(&json!({"context": "home", "dashboard_ids": [ids[1], "junk"]}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        reordered,
        json!({"success": true, "message": "Pins reordered successfully"})
    );
    let listed = app
        .get("/pins?context=home")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        order(&listed),
        [ids[1].clone(), ids[2].clone(), ids[0].clone()]
    );

    let unpinned = app
        .delete("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[2], "context": "home"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        unpinned,
        json!({"success": true, "message": "Dashboard unpinned successfully"})
    );
    let listed = app
        .get("/pins?context=home")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(order(&listed), [ids[1].clone(), ids[0].clone()]);
    assert_eq!(listed["pins"][1]["position"], 1, "compacted");
    app.delete("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[2], "context": "home"}))
        .send()
        .await
        .expect_detail(
            404,
            &format!("Pin not found for dashboard '{}' in context 'home'", ids[2]),
        );
    assert_eq!(
        app.get("/pins?context=home")
            .as_user("bob")
            .send()
            .await
            .expect(200),
        json!({"dashboards": [], "pins": []})
    );

    let (kind, loc) = app
        .get("/pins")
        .as_user("alice")
        .send()
        .await
        .expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        ("missing", json!(["query", "context"]))
    );
    let (_, loc) = app
        .post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": "", "context": "home"}))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc, json!(["body", "dashboard_id"]));
    let (_, loc) = app
        .post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": ids[0], "context": "x".repeat(101)}))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc, json!(["body", "context"]));
    let (_, loc) = app
        .put("/pins/order")
        .as_user("alice")
        .json(&json!({"context": "home", "dashboard_ids": []}))
        .send()
        .await
        .expect_validation();
    assert_eq!(loc, json!(["body", "dashboard_ids"]));
    app.post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": "42", "context": "home"}))
        .send()
        .await
        .expect_detail(404, "Dashboard '42' not found");
}

/// Pins need view permission, and `GET /pins` never shows a dashboard the caller cannot view.
pub async fn pins_respect_view_permission(engine: Engine) {
    let app = TestApp::new(engine);
    let private = id_of(&create_dashboard(&app, "alice", json!({"name": "Private"})).await);
    let shared = id_of(
        &create_dashboard(
            &app,
            "alice",
            json!({"name": "Shared", "allowed_viewers": ["bob"]}),
        )
        .await,
    );
    app.post("/pins")
        .as_user("bob")
        .json(&json!({"dashboard_id": private, "context": "home"}))
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.get(&format!("/dashboards/{private}/pins"))
        .as_user("bob")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.post("/pins")
        .as_user("bob")
        .json(&json!({"dashboard_id": shared, "context": "home"}))
        .send()
        .await
        .expect(201);
    assert_eq!(
        app.get("/pins?context=home")
            .as_user("bob")
            .send()
            .await
            .expect(200)["pins"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Alice revokes Bob's access: the pin stays but is no longer shown to him.
    app.patch(&format!("/dashboards/{shared}"))
        .as_user("alice")
        .json(&json!({"allowed_viewers": []}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        app.get("/pins?context=home")
            .as_user("bob")
            .send()
            .await
            .expect(200),
        json!({"dashboards": [], "pins": []})
    );
    // Deleting the dashboard removes the pin.
    app.delete(&format!("/dashboards/{shared}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    app.patch("/dashboards/00000000-0000-0000-0000-000000000000")
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect(404);
}

/// Configured limits are 422s that name the limit.
pub async fn limits_are_enforced(engine: Engine) {
    let engine = engine
        .with_max_dashboards_per_owner(2)
        .with_max_widgets_per_dashboard(2)
        .with_max_name_length(10)
        .with_max_title_length(8);
    let app = TestApp::new(engine);
    let d = create_dashboard(
        &app,
        "alice",
        json!({"name": "One", "widgets": [widget_body("a", 0, 0)]}),
    )
    .await;
    create_dashboard(&app, "alice", json!({"name": "Two"})).await;
    app.post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Three"}))
        .send()
        .await
        .expect_detail_containing(422, "max_dashboards_per_owner");
    app.post("/dashboards/import")
        .as_user("alice")
        .json(&json!({"export_data": {"name": "Four"}}))
        .send()
        .await
        .expect_detail_containing(422, "max_dashboards_per_owner");
    create_dashboard(&app, "bob", json!({"name": "Bob's"})).await;

    let id = id_of(&d);
    app.post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("b", 4, 0))
        .send()
        .await
        .expect(201);
    app.post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("c", 8, 0))
        .send()
        .await
        .expect_detail_containing(422, "max_widgets_per_dashboard");
    let wid = id_of(&d["widgets"][0]);
    app.post(&format!("/dashboards/{id}/widgets/{wid}/duplicate"))
        .as_user("alice")
        .send()
        .await
        .expect_detail_containing(422, "max_widgets_per_dashboard");
    app.patch(&format!("/dashboards/{id}")).as_user("alice").json(&json!({"widgets": [widget_body("a", 0, 0), widget_body("b", 4, 0), widget_body("c", 8, 0)]})).send().await.expect_detail_containing(422, "max_widgets_per_dashboard");
    app.post("/dashboards")
        .as_user("carol")
        .json(&json!({"name": "A name that is too long"}))
        .send()
        .await
        .expect_detail_containing(422, "max_name_length");
    app.post("/dashboards")
        .as_user("carol")
        .json(&json!({"name": "  "}))
        .send()
        .await
        .expect_detail(422, "Dashboard name must not be empty");
    app.patch(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"title": "Too long a title"}))
        .send()
        .await
        .expect_detail_containing(422, "max_title_length");
}

/// The assistant endpoints answer "disabled".
pub async fn llm_endpoints(engine: Engine) {
    let app = TestApp::new(engine);
    assert_eq!(
        app.get("/llm/status").send().await.expect(200),
        json!({"enabled": false})
    );
    app.post("/llm/chat")
        .as_user("alice")
        .json(&json!({"message": "hi"}))
        .send()
        .await
        .expect_detail(400, "LLM agent is not enabled");
}

fn with_static_source(engine: Engine) -> Engine {
    use prismiq_axum::prismiq_core::testing::{StaticDataSource, small_schema};
    engine.with_data_source(std::sync::Arc::new(
        StaticDataSource::new("public", small_schema("public"))
            .with_schema("tenant_b", small_schema("tenant_b")),
    ))
}

/// `/schema`, `/tables` and the enhanced variants, with the tenant's schema config applied.
pub async fn schema_routes(engine: Engine) {
    let app = TestApp::new(with_static_source(engine));
    let schema = app.get("/schema").as_user("alice").send().await.expect(200);
    let tables: Vec<&str> = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["customers", "orders"]);
    assert_eq!(schema["tables"][0]["schema_name"], "public");
    assert_eq!(schema["tables"][0]["row_count"], 500);
    assert_eq!(
        schema["tables"][0]["columns"][0],
        json!({"name": "id", "data_type": "integer", "is_nullable": false, "is_primary_key": true, "default_value": null})
    );
    assert_eq!(
        schema["relationships"],
        json!([{"from_table": "orders", "from_column": "customer_id", "to_table": "customers", "to_column": "id"}])
    );
    assert_eq!(
        app.get("/tables").as_user("alice").send().await.expect(200),
        json!({"tables": ["customers", "orders"]})
    );
    let orders = app
        .get("/tables/orders")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(orders["name"], "orders");
    app.get("/tables/nope")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Table not found: nope");
    app.get("/tables/nope/enhanced")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Table 'nope' not found");

    // The schema config: admins only; it hides and describes.
    app.get("/schema/config")
        .as_user("alice")
        .send()
        .await
        .expect_detail(403, "Permission denied");
    let config = json!({"tables": {
        "customers": {"display_name": "Customers", "columns": {"email": {"hidden": true}, "region": {"display_name": "Region", "format": "plain"}}},
        "orders": {"hidden": true}
    }});
    app.put("/schema/config")
        .as_user("alice")
        .json(&config)
        .send()
        .await
        .expect_detail(403, "Permission denied");
    app.put("/schema/config")
        .as_user("root")
        .admin()
        .json(&config)
        .send()
        .await
        .expect(200);
    let (kind, _) = app
        .put("/schema/config")
        .as_user("root")
        .admin()
        .json(&json!({"tables": {"x": {"hiden": true}}}))
        .send()
        .await
        .expect_validation();
    assert_eq!(kind, "value_error", "unknown keys in a config are refused");
    let read = app
        .get("/schema/config")
        .as_user("root")
        .admin()
        .send()
        .await
        .expect(200);
    assert_eq!(read["tables"]["orders"]["hidden"], true);

    let schema = app.get("/schema").as_user("alice").send().await.expect(200);
    assert_eq!(
        schema["tables"].as_array().unwrap().len(),
        1,
        "hidden table left out"
    );
    let columns: Vec<&str> = schema["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["id", "name", "region"], "hidden column left out");
    assert_eq!(
        schema["relationships"],
        json!([]),
        "relationships to hidden tables left out"
    );
    app.get("/tables/orders")
        .as_user("alice")
        .send()
        .await
        .expect_detail(404, "Table not found: orders");
    let enhanced = app
        .get("/schema/enhanced")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(enhanced["tables"][0]["display_name"], "Customers");
    assert!(enhanced["tables"][0].get("row_count").is_none());
    let region = &enhanced["tables"][0]["columns"][2];
    assert_eq!(
        (
            region["name"].as_str(),
            region["display_name"].as_str(),
            region["format"].as_str()
        ),
        (Some("region"), Some("Region"), Some("plain"))
    );
    let table = app
        .get("/tables/customers/enhanced")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(table["display_name"], "Customers");

    // The config is per tenant.
    assert_eq!(
        app.get("/tables").tenant("t2").send().await.expect(200),
        json!({"tables": ["customers", "orders"]})
    );
}

/// A tenant schema is checked to exist; without a data source the query side is a 503.
pub async fn schema_names_and_missing_source(engine: Engine) {
    let app = TestApp::new(with_static_source(engine.clone()));
    let schema = app
        .get("/schema")
        .as_user("alice")
        .header("x-schema-name", "tenant_b")
        .send()
        .await
        .expect(200);
    assert_eq!(schema["tables"][0]["schema_name"], "tenant_b");
    app.get("/schema")
        .as_user("alice")
        .header("x-schema-name", "nope")
        .send()
        .await
        .expect_detail(404, "PostgreSQL schema 'nope' does not exist");
    let bare = TestApp::new(engine);
    bare.get("/schema")
        .as_user("alice")
        .send()
        .await
        .expect_detail_containing(503, "Engine::with_data_source");
}

/// `/transform/pivot` and `/transform/trend` reshape a result without auth.
pub async fn transform_routes(engine: Engine) {
    let app = TestApp::new(engine);
    let result = json!({
        "columns": ["region", "month", "revenue"],
        "column_types": ["text", "text", "numeric"],
        "rows": [["East", "Jan", 10], ["West", "Jan", 4], ["East", "Feb", 6]],
        "row_count": 3, "truncated": false, "execution_time_ms": 1.5
    });
    let pivoted = app.post("/transform/pivot").json(&json!({"result": result, "row_column": "region", "pivot_column": "month", "value_column": "revenue"})).send().await.expect(200);
    assert_eq!(pivoted["columns"], json!(["region", "Jan", "Feb"]));
    assert_eq!(
        pivoted["rows"],
        json!([["East", 10.0, 6.0], ["West", 4.0, null]])
    );
    app.post("/transform/pivot").json(&json!({"result": result, "row_column": "nope", "pivot_column": "month", "value_column": "revenue"})).send().await.expect_detail(400, "Column not found in result: nope");
    let trend = app.post("/transform/trend").json(&json!({"result": result, "value_column": "revenue", "order_column": "month", "group_column": "region"})).send().await.expect(200);
    assert_eq!(
        trend["columns"],
        json!([
            "region",
            "month",
            "revenue",
            "revenue_prev",
            "revenue_change",
            "revenue_pct_change"
        ])
    );
    assert_eq!(
        trend["rows"][0],
        json!(["East", "Jan", 10, 6.0, 4.0, 66.66666666666666])
    );
    app.post("/transform/trend")
        .json(&json!({"result": result, "value_column": "x", "order_column": "month"}))
        .send()
        .await
        .expect_detail(400, "Column not found: x");
}

/// A field that fails deep inside a well-formed body is a 422 whose `loc` is the path of that
/// field, on every route that takes a body; never a byte offset.
pub async fn nested_body_errors_are_located_by_field_path(engine: Engine) {
    let app = TestApp::new(engine);
    let dashboard = create_dashboard(&app, "alice", json!({"name": "Nested"})).await;
    let id = id_of(&dashboard);
    let widget = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("w", 0, 0))
        .send()
        .await
        .expect(201);
    let wid = id_of(&widget);
    let bad_query = json!({"tables": [{"id": "t1", "name": "orders"}],
                           "columns": [{"table_id": "t1", "column": "id", "aggregation": "median"}]});
    let bad_position = json!({"x": 0, "y": 0, "w": 4, "h": "tall"});
    let cases: Vec<(Method, String, Value, Value)> = vec![
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "x", "layout": {"margin": [10, 10, 10]}}),
            json!(["body", "layout", "margin"]),
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "x", "layout": {"columns": 0}}),
            json!(["body", "layout", "columns"]),
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}"),
            json!({"layout": {"row_height": 50, "margin": [1, 2, 3]}}),
            json!(["body", "layout", "margin"]),
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}"),
            json!({"widgets": [{"type": "table", "title": "t", "position": bad_position}]}),
            json!(["body", "widgets", 0, "position", "h"]),
        ),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets"),
            json!({"type": "table", "title": "t", "position": bad_position}),
            json!(["body", "position", "h"]),
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}/widgets/{wid}"),
            json!({"query": bad_query}),
            json!(["body", "query", "columns", 0, "aggregation"]),
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/widgets/{wid}"),
            json!({"config": {"fiscalYearStartMonth": "June"}}),
            json!(["body", "config", "fiscalYearStartMonth"]),
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/layout"),
            json!([{"widget_id": wid, "position": bad_position}]),
            json!(["body", 0, "position", "h"]),
        ),
        (
            Method::POST,
            "/dashboards/import".into(),
            json!({"export_data": {"name": "i", "widgets": [
                {"type": "table", "title": "t", "position": bad_position}]}}),
            json!(["body", "export_data", "widgets", 0, "position", "h"]),
        ),
        (
            Method::POST,
            "/saved-queries".into(),
            json!({"name": "q", "query": bad_query}),
            json!(["body", "query", "columns", 0, "aggregation"]),
        ),
        (
            Method::POST,
            "/pins".into(),
            json!({"dashboard_id": id, "context": "home", "position": [1]}),
            json!(["body", "position"]),
        ),
        (
            Method::PUT,
            "/pins/order".into(),
            json!({"context": "home", "dashboard_ids": [id, 7]}),
            json!(["body", "dashboard_ids", 1]),
        ),
        (
            Method::DELETE,
            "/pins".into(),
            json!({"dashboard_id": id, "context": ["home"]}),
            json!(["body", "context"]),
        ),
        (
            Method::PUT,
            "/schema/config".into(),
            json!({"tables": {"orders": {"columns": {"id": {"hidden": "yes"}}}}}),
            json!(["body", "tables", "orders", "columns", "id", "hidden"]),
        ),
        (
            Method::POST,
            "/query/execute".into(),
            json!({"query": bad_query}),
            json!(["body", "query", "columns", 0, "aggregation"]),
        ),
        (
            Method::POST,
            "/query/validate".into(),
            json!({"tables": [{"id": "t1", "name": "orders"}],
                   "columns": [{"table_id": "t1", "column": "id"}],
                   "order_by": [{"table_id": "t1", "column": "id", "direction": "down"}]}),
            json!(["body", "order_by", 0, "direction"]),
        ),
        (
            Method::POST,
            "/query/execute-sql".into(),
            json!({"sql": "select 1", "filter_values": [{"filter_id": 5}]}),
            json!(["body", "filter_values", 0, "filter_id"]),
        ),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets/{wid}/execute"),
            json!([{"filter_id": "f", "value": 1}, {"value": 2}]),
            json!(["body", 1, "filter_id"]),
        ),
    ];
    for (method, path, body, expected) in cases {
        let (_, loc) = app
            .request(method.clone(), &path)
            .as_user("alice")
            .admin()
            .json(&body)
            .send()
            .await
            .expect_validation();
        assert_eq!(loc, expected, "{method} {path} {body}");
    }
}

/// `GET /data-sources` lists the tables the caller may query as the React client reads them: a
/// bare array of `{id, table, title, subtitle}`, with the tenant's display names and
/// descriptions, hidden tables left out, and `[]` without a data source.
pub async fn data_sources_route(engine: Engine) {
    let bare = TestApp::new(engine.clone());
    assert_eq!(
        bare.get("/data-sources")
            .as_user("alice")
            .send()
            .await
            .expect(200),
        json!([])
    );
    bare.get("/data-sources").send().await.expect(400);

    let app = TestApp::new(with_static_source(engine));
    assert_eq!(
        app.get("/data-sources")
            .as_user("alice")
            .send()
            .await
            .expect(200),
        json!([
            {"id": "customers", "table": "customers", "title": "customers", "subtitle": ""},
            {"id": "orders", "table": "orders", "title": "orders", "subtitle": ""}
        ])
    );
    app.put("/schema/config")
        .as_user("root")
        .admin()
        .json(&json!({"tables": {
            "customers": {"display_name": "Customers", "description": "People who buy"},
            "orders": {"hidden": true}
        }}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        app.get("/data-sources")
            .as_user("alice")
            .send()
            .await
            .expect(200),
        json!([{"id": "customers", "table": "customers", "title": "Customers",
                "subtitle": "People who buy"}])
    );
    assert_eq!(
        app.get("/data-sources")
            .tenant("t2")
            .send()
            .await
            .expect(200)
            .as_array()
            .map(Vec::len),
        Some(2),
        "the config is the tenant's own"
    );
    app.get("/data-sources")
        .as_user("alice")
        .header("x-schema-name", "nope")
        .send()
        .await
        .expect_detail(404, "PostgreSQL schema 'nope' does not exist");
}

/// Wherever a query definition comes back (a widget, a whole dashboard, the list, pins, an
/// export, an import, saved queries), it carries every key with its default.
pub async fn queries_are_echoed_with_every_key(engine: Engine) {
    let app = TestApp::new(engine);
    let dashboard = create_dashboard(
        &app,
        "alice",
        json!({"name": "Echo", "widgets": [widget_body("In create", 0, 0)]}),
    )
    .await;
    assert_eq!(dashboard["widgets"][0]["query"], echoed_query(), "create");
    let id = id_of(&dashboard);
    let added = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("Added", 4, 0))
        .send()
        .await
        .expect(201);
    assert_eq!(added["query"], echoed_query(), "add widget");
    let wid = id_of(&added);
    let updated = app
        .put(&format!("/dashboards/{id}/widgets/{wid}"))
        .as_user("alice")
        .json(&json!({"query": query()}))
        .send()
        .await
        .expect(200);
    assert_eq!(updated["query"], echoed_query(), "update widget");
    let duplicate = app
        .post(&format!("/dashboards/{id}/widgets/{wid}/duplicate"))
        .as_user("alice")
        .send()
        .await
        .expect(201);
    assert_eq!(duplicate["query"], echoed_query(), "duplicate");
    let mut saved = dashboard.clone();
    saved["widgets"] = json!([widget_body("Saved whole", 0, 0)]);
    let saved = app
        .patch(&format!("/dashboards/{id}"))
        .as_user("alice")
        .json(&saved)
        .send()
        .await
        .expect(200);
    assert_eq!(saved["widgets"][0]["query"], echoed_query(), "whole save");
    let read = app
        .get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(read["widgets"][0]["query"], echoed_query(), "read");
    let list = app
        .get("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        list["dashboards"][0]["widgets"][0]["query"],
        echoed_query(),
        "list"
    );
    let export = app
        .get(&format!("/dashboards/{id}/export"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(export["widgets"][0]["query"], echoed_query(), "export");
    let mut export_data = export.clone();
    export_data["widgets"][0]["query"] = query();
    let imported = app
        .post("/dashboards/import")
        .as_user("alice")
        .json(&json!({"export_data": export_data, "name_override": "Imported"}))
        .send()
        .await
        .expect(201);
    assert_eq!(imported["widgets"][0]["query"], echoed_query(), "import");
    app.post("/pins")
        .as_user("alice")
        .json(&json!({"dashboard_id": id, "context": "home"}))
        .send()
        .await
        .expect(201);
    let pins = app
        .get("/pins?context=home")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        pins["dashboards"][0]["widgets"][0]["query"],
        echoed_query(),
        "pins"
    );

    let saved_query = app
        .post("/saved-queries")
        .as_user("alice")
        .json(&json!({"name": "Q", "query": query()}))
        .send()
        .await
        .expect(201);
    assert_eq!(saved_query["query"], echoed_query(), "saved query create");
    let qid = id_of(&saved_query);
    let patched = app
        .patch(&format!("/saved-queries/{qid}"))
        .as_user("alice")
        .json(&json!({"query": query()}))
        .send()
        .await
        .expect(200);
    assert_eq!(patched["query"], echoed_query(), "saved query update");
    let one = app
        .get(&format!("/saved-queries/{qid}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(one["query"], echoed_query(), "saved query read");
    let queries = app
        .get("/saved-queries")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(
        queries["queries"][0]["query"],
        echoed_query(),
        "saved query list"
    );
}

/// A NUL character (`\u0000`) in any string a client sends is a 422 located at that field, on
/// every route, before anything is stored or run: PostgreSQL cannot hold it.
pub async fn nul_characters_are_422_at_their_field(engine: Engine) {
    let app = TestApp::new(engine);
    let dashboard = create_dashboard(&app, "alice", json!({"name": "Clean"})).await;
    let id = id_of(&dashboard);
    let widget = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("w", 0, 0))
        .send()
        .await
        .expect(201);
    let wid = id_of(&widget);
    let nul = "a\u{0}b";
    let with = |mut body: Value, pointer: &str| {
        *body.pointer_mut(pointer).expect(pointer) = json!(nul);
        body
    };
    let mut query_with_filter = query();
    query_with_filter["filters"] =
        json!([{"table_id": "t1", "column": "status", "operator": "eq", "value": "x"}]);
    query_with_filter["columns"][0]["alias"] = json!("total");
    let full_widget = json!({
        "type": "text", "title": "t", "position": {"x": 0, "y": 0, "w": 4, "h": 2},
        "config": {"content": "hello", "colors": ["#fff"]}
    });
    let filter = json!({"id": "f", "type": "select", "label": "Region", "field": "region",
                        "table": "customers", "default_value": "East"});
    let cases: Vec<(Method, String, Value, &str)> = vec![
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": ""}),
            "/name",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "description": ""}),
            "/description",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "allowed_viewers": ["bob", ""]}),
            "/allowed_viewers/1",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "layout": {"compact_type": ""}}),
            "/layout/compact_type",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "filters": [filter.clone()]}),
            "/filters/0/label",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "filters": [filter.clone()]}),
            "/filters/0/default_value",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "widgets": [full_widget.clone()]}),
            "/widgets/0/title",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "widgets": [full_widget.clone()]}),
            "/widgets/0/config/content",
        ),
        (
            Method::POST,
            "/dashboards".into(),
            json!({"name": "n", "widgets": [full_widget.clone()]}),
            "/widgets/0/config/colors/0",
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}"),
            json!({"name": ""}),
            "/name",
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}"),
            json!({"description": ""}),
            "/description",
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}"),
            json!({"filters": [filter]}),
            "/filters/0/field",
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}"),
            json!({"widgets": [full_widget.clone()]}),
            "/widgets/0/config/content",
        ),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets"),
            full_widget.clone(),
            "/title",
        ),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets"),
            widget_body("w", 0, 0),
            "/config/x_axis",
        ),
        (
            Method::PATCH,
            format!("/dashboards/{id}/widgets/{wid}"),
            json!({"title": ""}),
            "/title",
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/widgets/{wid}"),
            json!({"query": query_with_filter.clone()}),
            "/query/filters/0/value",
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/widgets/{wid}"),
            json!({"query": query_with_filter.clone()}),
            "/query/columns/0/alias",
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/layout"),
            json!([{"widget_id": wid, "position": {"x": 0, "y": 0, "w": 1, "h": 1}}]),
            "/0/widget_id",
        ),
        (
            Method::POST,
            "/dashboards/import".into(),
            json!({"export_data": {"name": "i", "widgets": []}, "name_override": ""}),
            "/name_override",
        ),
        (
            Method::POST,
            "/dashboards/import".into(),
            json!({"export_data": {"name": "i", "widgets": [full_widget]}}),
            "/export_data/widgets/0/title",
        ),
        (
            Method::POST,
            "/saved-queries".into(),
            json!({"name": "", "query": query()}),
            "/name",
        ),
        (
            Method::POST,
            "/saved-queries".into(),
            json!({"name": "q", "description": "", "query": query()}),
            "/description",
        ),
        (
            Method::POST,
            "/saved-queries".into(),
            json!({"name": "q", "query": query_with_filter.clone()}),
            "/query/filters/0/value",
        ),
        (
            Method::POST,
            "/pins".into(),
            json!({"dashboard_id": id, "context": ""}),
            "/context",
        ),
        (
            Method::DELETE,
            "/pins".into(),
            json!({"dashboard_id": id, "context": ""}),
            "/context",
        ),
        (
            Method::PUT,
            "/pins/order".into(),
            json!({"context": "", "dashboard_ids": [id]}),
            "/context",
        ),
        (
            Method::PUT,
            "/schema/config".into(),
            json!({"tables": {"orders": {"display_name": ""}}}),
            "/tables/orders/display_name",
        ),
        (
            Method::POST,
            "/query/execute".into(),
            json!({"query": query_with_filter.clone()}),
            "/query/filters/0/value",
        ),
        (
            Method::POST,
            "/query/validate".into(),
            query_with_filter,
            "/filters/0/value",
        ),
        (
            Method::POST,
            "/query/validate-sql".into(),
            json!({"sql": ""}),
            "/sql",
        ),
        (
            Method::POST,
            "/query/execute-sql".into(),
            json!({"sql": ""}),
            "/sql",
        ),
        (
            Method::POST,
            "/query/execute-sql".into(),
            json!({"sql": "select 1", "params": {"p": ""}}),
            "/params/p",
        ),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets/{wid}/execute"),
            json!([{"filter_id": "f", "value": ""}]),
            "/0/value",
        ),
    ];
    for (method, path, body, pointer) in cases {
        let body = with(body, pointer);
        let response = app
            .request(method.clone(), &path)
            .as_user("alice")
            .admin()
            .json(&body)
            .send()
            .await;
        let (kind, loc) = response.expect_validation();
        let mut expected = vec![json!("body")];
        expected.extend(
            pointer
                .split('/')
                .skip(1)
                .map(|key| match key.parse::<u64>() {
                    Ok(index) => json!(index),
                    Err(_) => json!(key),
                }),
        );
        assert_eq!(
            (kind.as_str(), loc),
            ("string_nul", json!(expected)),
            "{method} {path} {body}"
        );
    }
    let (kind, loc) = app
        .get("/pins?context=a%00b")
        .as_user("alice")
        .send()
        .await
        .expect_validation();
    assert_eq!(
        (kind.as_str(), loc),
        ("string_nul", json!(["query", "context"]))
    );

    // Nothing was stored on the way.
    let read = app
        .get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(read["name"], "Clean");
    assert_eq!(read["widgets"].as_array().map(Vec::len), Some(1));
    let list = app
        .get("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(list["dashboards"].as_array().map(Vec::len), Some(1));
}

/// Every string of every write body, one at a time, carrying a NUL character: always a 422
/// located at that string (or, for a string that must be one of a fixed set of values, at the
/// object that holds it), and never a write.
pub async fn every_string_of_every_write_body_refuses_nul(engine: Engine) {
    let app = TestApp::new(engine);
    let dashboard = create_dashboard(&app, "alice", json!({"name": "Target"})).await;
    let id = id_of(&dashboard);
    let widget = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&widget_body("w", 0, 0))
        .send()
        .await
        .expect(201);
    let wid = id_of(&widget);
    let full_query = json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id", "join_type": "LEFT"}],
        "columns": [{"table_id": "t2", "column": "region", "alias": "Region",
                     "date_format": "yyyy"},
                    {"table_id": "t1", "column": "created_at", "date_trunc": "month"}],
        "filters": [{"table_id": "t1", "column": "status", "operator": "in_",
                     "value": ["paid", "open"]}],
        "group_by": [{"table_id": "t2", "column": "region"}],
        "order_by": [{"table_id": "t2", "column": "region", "direction": "DESC"}],
        "time_series": {"table_id": "t1", "date_column": "created_at", "interval": "week",
                        "alias": "wk", "fill_value": "none"},
        "calculated_fields": [{"name": "double", "expression": "[total] * 2",
                               "data_type": "number"}]
    });
    let full_config = json!({
        "x_axis": "region", "y_axis": ["total"], "series_column": "status",
        "orientation": "horizontal", "colors": ["#fff"], "valueFormat": "currency",
        "currencySymbol": "$", "compactNotation": "auto", "format": "plain",
        "trend_comparison": "previous", "trendPeriod": "month", "trendDateColumn": "created_at",
        "pivot_column": "region", "value_column": "total",
        "columnFormats": {"total": {"type": "currency"}}, "dateFormats": {"created_at": "yyyy"},
        "alignment": "left", "fontSize": "large",
        "referenceLines": [{"label": "target"}], "cross_filter": {"column": "region"},
        "hyperlink": {"url": "https://example.com/{id}", "title": "Open"}
    });
    let full_widget = json!({"type": "bar_chart", "title": "Chart", "query": full_query,
                             "position": {"x": 0, "y": 0, "w": 4, "h": 3}, "config": full_config});
    let text_widget = json!({"type": "text", "title": "Notes",
                             "position": {"x": 4, "y": 0, "w": 4, "h": 3},
                             "config": {"content": "hello", "raw_sql": "select 1"}});
    let filter = json!({"id": "f", "type": "select", "label": "Region", "field": "region",
                        "table": "customers", "default_value": "East",
                        "options": [{"value": "East", "label": "East"}],
                        "date_preset": "last_7_days"});
    let dashboard_body = json!({
        "name": "Full", "description": "d", "layout": {"compact_type": "vertical"},
        "filters": [filter], "widgets": [full_widget, text_widget],
        "allowed_viewers": ["bob"]
    });
    let bodies: Vec<(Method, String, Value)> = vec![
        (Method::POST, "/dashboards".into(), dashboard_body.clone()),
        (
            Method::POST,
            format!("/dashboards/{id}/widgets"),
            full_widget.clone(),
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/widgets/{wid}"),
            full_widget.clone(),
        ),
        (
            Method::PUT,
            format!("/dashboards/{id}/layout"),
            json!([{"widget_id": wid, "position": {"x": 0, "y": 0, "w": 1, "h": 1}}]),
        ),
        // Last of the routes on this dashboard: it replaces the widgets above.
        (Method::PATCH, format!("/dashboards/{id}"), {
            let mut renamed = dashboard_body.clone();
            renamed["name"] = json!("Full, saved whole");
            renamed
        }),
        (
            Method::POST,
            "/dashboards/import".into(),
            json!({"export_data": dashboard_body, "name_override": "Imported"}),
        ),
        (
            Method::POST,
            "/saved-queries".into(),
            json!({"name": "q", "description": "d", "query": full_query}),
        ),
        (
            Method::POST,
            "/pins".into(),
            json!({"dashboard_id": id, "context": "home"}),
        ),
        (
            Method::PUT,
            "/pins/order".into(),
            json!({"context": "home", "dashboard_ids": [id]}),
        ),
        (
            Method::PUT,
            "/schema/config".into(),
            json!({"tables": {"orders": {"display_name": "Orders", "description": "d",
                   "columns": {"id": {"display_name": "Id", "format": "plain",
                                      "date_format": "yyyy", "description": "d"}}}}}),
        ),
    ];
    let mut checked = 0;
    for (method, path, body) in bodies {
        // The clean body is accepted, so every 422 below is the NUL's doing.
        let clean = app
            .request(method.clone(), &path)
            .as_user("alice")
            .admin()
            .json(&body)
            .send()
            .await;
        assert!(
            clean.status.is_success(),
            "{method} {path}: {} {}",
            clean.status,
            clean.body
        );
        let mut strings = Vec::new();
        string_pointers(&body, String::new(), &mut strings);
        for pointer in strings {
            let mut tainted = body.clone();
            let target = tainted.pointer_mut(&pointer).expect("a string");
            *target = json!(format!("{}\u{0}", target.as_str().unwrap()));
            let (kind, loc) = app
                .request(method.clone(), &path)
                .as_user("alice")
                .admin()
                .json(&tainted)
                .send()
                .await
                .expect_validation();
            let mut field = vec![json!("body")];
            field.extend(
                pointer
                    .split('/')
                    .skip(1)
                    .map(|key| match key.parse::<u64>() {
                        Ok(index) => json!(index),
                        Err(_) => json!(key),
                    }),
            );
            let loc = loc.as_array().cloned().unwrap_or_default();
            assert!(
                (kind == "string_nul" && loc == field)
                    || (kind != "string_nul" && field.starts_with(&loc) && loc.len() > 1),
                "{method} {path} at {pointer}: {kind} {loc:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} strings checked");
    let list = app
        .get("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert!(
        !list.to_string().contains("\\u0000"),
        "no NUL was stored: {list}"
    );
}

/// JSON pointers of every string in `value` (values, not keys).
fn string_pointers(value: &Value, at: String, found: &mut Vec<String>) {
    match value {
        Value::String(_) => found.push(at),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                string_pointers(item, format!("{at}/{index}"), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                string_pointers(item, format!("{at}/{key}"), found);
            }
        }
        _ => {}
    }
}
