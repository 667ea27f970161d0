//! HTTP cases of the widget catalogue, default dashboards, summaries and refresh intervals.

use std::time::Duration;

use async_trait::async_trait;
use prismiq_axum::prismiq_core::catalogue::{
    Category, ProviderError, ProviderRequest, WidgetDataProvider, WidgetSizes, WidgetTypeSpec,
};
use prismiq_axum::prismiq_core::{
    AuthContext, DashboardCreate, Engine, QueryResult, WidgetCreate, WidgetType,
};
use serde_json::{Value, json};

use crate::TestApp;

/// The demo's gauge: a schema with required keys, numbers, a pattern and bounded arrays.
pub fn gauge() -> WidgetTypeSpec {
    WidgetTypeSpec::new("gauge", "Gauge")
        .with_category(Category::Stats)
        .with_sizes(WidgetSizes::new(3, 3).min(2, 2).max(6, 6))
        .with_default_config(json!({"min": 0, "max": 100}))
        .with_config_schema(json!({
            "type": "object",
            "properties": {
                "min": {"type": "number"},
                "max": {"type": "number"},
                "thresholds": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "number"},
                            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
                        },
                        "required": ["value", "color"]
                    }
                }
            },
            "required": ["min", "max"],
            "additionalProperties": false
        }))
}

/// A provider whose answer depends on its config's `mode`.
struct Modes;

#[async_trait]
impl WidgetDataProvider for Modes {
    async fn fetch(&self, request: ProviderRequest<'_>) -> Result<QueryResult, ProviderError> {
        match request.widget.config.to_value()["mode"].as_str() {
            Some("bad") => Err(ProviderError::BadRequest("unknown account".to_owned())),
            Some("fail") => Err(ProviderError::Failed("connection refused".into())),
            Some("panic") => panic!("bug in the host's provider"),
            Some("slow") => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                unreachable!("the timeout comes first")
            }
            _ => Ok(QueryResult {
                columns: vec!["tenant".to_owned(), "n".to_owned()],
                column_types: vec!["text".to_owned(), "int8".to_owned()],
                rows: vec![vec![json!(request.auth.tenant_id()), json!(42)]],
                row_count: 1,
                truncated: false,
                execution_time_ms: 0.0,
            }),
        }
    }
}

fn with_catalogue(engine: Engine) -> Engine {
    engine
        .with_widget_type(gauge())
        .with_widget_type(WidgetTypeSpec::new("bot_stats", "Bot statistics").with_provider(Modes))
        .with_widget_type_access(|auth: &dyn AuthContext, t: &WidgetType| {
            auth.tenant_id() != "free" || t.is_builtin()
        })
        .with_query_timeout(Duration::from_millis(300))
}

/// `GET /widget-types`, and the catalogue's rules on widget writes: 422 lists that locate
/// each problem, default configs, automatic placement, entitlements.
pub async fn widget_catalogue_over_http(engine: Engine) {
    let app = TestApp::new(with_catalogue(engine));
    let types = app
        .get("/widget-types")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    let keys: Vec<&str> = types["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 10);
    assert_eq!(&keys[8..], ["gauge", "bot_stats"]);
    let gauge = &types["types"][8];
    assert_eq!(
        (&gauge["min_w"], &gauge["max_w"], &gauge["default_w"]),
        (&json!(2), &json!(6), &json!(3))
    );
    assert_eq!(gauge["config_schema"]["required"], json!(["min", "max"]));
    let free = app
        .get("/widget-types")
        .tenant("free")
        .send()
        .await
        .expect(200);
    assert_eq!(
        free["types"].as_array().unwrap().len(),
        8,
        "host types hidden from 'free'"
    );

    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Plant", "widgets": [
            {"type": "bar_chart", "title": "Output", "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
            {"type": "gauge", "title": "Load"}
        ]}))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap().to_owned();
    let load = &dashboard["widgets"][1];
    assert_eq!(load["position"], json!({"x": 6, "y": 0, "w": 3, "h": 3}));
    assert_eq!(load["config"], json!({"min": 0, "max": 100}));
    assert_eq!(
        dashboard["widgets"][0]["config"].as_object().unwrap().len(),
        34,
        "built-in configs keep their 34 keys"
    );

    // Schema violations, each located by its JSON pointer.
    let body = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&json!({"type": "gauge", "title": "G", "config": {
            "min": "low", "max": 1, "extra": true,
            "thresholds": [{"value": 1, "color": "red"}]
        }}))
        .send()
        .await
        .expect(422);
    let issues = body["detail"].as_array().unwrap();
    let locs: Vec<&Value> = issues.iter().map(|i| &i["loc"]).collect();
    assert!(locs.contains(&&json!(["body", "config", "min"])), "{body}");
    assert!(
        locs.contains(&&json!(["body", "config", "thresholds", 0, "color"])),
        "{body}"
    );
    assert!(locs.contains(&&json!(["body", "config"])), "{body}");
    assert!(issues.iter().all(|i| i["type"] == "widget_config"));
    assert!(
        issues
            .iter()
            .any(|i| i["ctx"]["pointer"] == "/thresholds/0/color")
    );

    // A size outside the type's bounds names the bound.
    let body = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&json!({"type": "gauge", "title": "G", "position": {"w": 8}}))
        .send()
        .await
        .expect(422);
    assert_eq!(body["detail"][0]["loc"], json!(["body", "position", "w"]));
    assert_eq!(
        body["detail"][0]["ctx"],
        json!({"bound": "max_w", "limit": 6})
    );
    let load_id = load["id"].as_str().unwrap();
    let body = app
        .put(&format!("/dashboards/{id}/layout"))
        .as_user("alice")
        .json(&json!([{"widget_id": load_id, "position": {"x": 0, "y": 9, "w": 1, "h": 3}}]))
        .send()
        .await
        .expect(422);
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["body", 0, "position", "w"])
    );

    // An unknown type lists the allowed ones; a type the tenant may not use is unknown to it.
    let body = app
        .post(&format!("/dashboards/{id}/widgets"))
        .as_user("alice")
        .json(&json!({"type": "sparkline", "title": "S"}))
        .send()
        .await
        .expect(422);
    assert_eq!(body["detail"][0]["type"], "enum");
    assert!(
        body["detail"][0]["ctx"]["allowed"]
            .as_array()
            .unwrap()
            .contains(&json!("gauge"))
    );
    let free_dashboard = app
        .post("/dashboards")
        .tenant("free")
        .header("x-user-id", "fran")
        .json(&json!({"name": "F"}))
        .send()
        .await
        .expect(201);
    let body = app
        .post(&format!(
            "/dashboards/{}/widgets",
            free_dashboard["id"].as_str().unwrap()
        ))
        .tenant("free")
        .header("x-user-id", "fran")
        .json(&json!({"type": "gauge", "title": "G"}))
        .send()
        .await
        .expect(422);
    assert!(
        !body["detail"][0]["ctx"]["allowed"]
            .as_array()
            .unwrap()
            .contains(&json!("gauge"))
    );

    // A valid host config comes back exactly, through reads and export/import.
    let config = json!({"min": -5, "max": 5.5, "thresholds": [{"value": 0, "color": "#00ff00"}]});
    app.patch(&format!("/dashboards/{id}/widgets/{load_id}"))
        .as_user("alice")
        .json(&json!({"config": config}))
        .send()
        .await
        .expect(200);
    let read = app
        .get(&format!("/dashboards/{id}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    assert_eq!(read["widgets"][1]["config"], config);
    let export = app
        .get(&format!("/dashboards/{id}/export"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    let imported = app
        .post("/dashboards/import")
        .as_user("alice")
        .json(&json!({"export_data": export, "name_override": "Plant 2"}))
        .send()
        .await
        .expect(201);
    assert_eq!(imported["widgets"][1]["config"], config);
    assert_eq!(imported["widgets"][1]["type"], "gauge");
}

/// `POST /dashboards/{id}/widgets/{wid}/execute` of a provider type: its data, its errors
/// as statuses, a timeout as 504, a panic as a generic 500 after which the server still works.
pub async fn widget_providers_over_http(engine: Engine) {
    let app = TestApp::new(with_catalogue(engine));
    let widgets: Vec<Value> = ["ok", "bad", "fail", "panic", "slow"]
        .iter()
        .map(|mode| json!({"type": "bot_stats", "title": mode, "config": {"mode": mode}}))
        .collect();
    let dashboard = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Bots", "widgets": widgets}))
        .send()
        .await
        .expect(201);
    let id = dashboard["id"].as_str().unwrap();
    let execute = |title: &str| {
        let widget = dashboard["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["title"] == title)
            .unwrap();
        app.post(&format!(
            "/dashboards/{id}/widgets/{}/execute",
            widget["id"].as_str().unwrap()
        ))
        .as_user("alice")
    };
    let ok = execute("ok").send().await.expect(200);
    assert_eq!(ok["rows"], json!([["t1", 42]]));
    assert_eq!(ok["columns"], json!(["tenant", "n"]));
    execute("bad")
        .send()
        .await
        .expect_detail(400, "unknown account");
    let detail = execute("fail")
        .send()
        .await
        .expect_detail_containing(500, "Internal server error");
    assert!(
        !detail.contains("connection refused"),
        "causes stay in the log"
    );
    let detail = execute("panic")
        .send()
        .await
        .expect_detail_containing(500, "Internal server error");
    assert!(!detail.contains("bug"), "panics stay in the log");
    execute("slow").send().await.expect(504);
    execute("ok").send().await.expect(200);
    // Another tenant cannot reach it.
    let widget = dashboard["widgets"][0]["id"].as_str().unwrap();
    app.post(&format!("/dashboards/{id}/widgets/{widget}/execute"))
        .tenant("t2")
        .header("x-user-id", "alice")
        .send()
        .await
        .expect(404);
}

/// Default dashboards: set, read, clear, the tenant's (admins only), and a starter created
/// once however many first visits race.
pub async fn default_dashboards_over_http(engine: Engine) {
    let engine = engine.with_starter_dashboard(|auth: &dyn AuthContext| {
        let user = auth.user_id()?;
        Some(
            DashboardCreate::named(format!("Welcome, {user}"))
                .with_widget(WidgetCreate::placed(WidgetType::Metric, "Revenue"))
                .with_widget(WidgetCreate::placed(WidgetType::Text, "Read me")),
        )
    });
    let app = TestApp::new(engine);
    let visits: Vec<_> = (0..20)
        .map(|_| tokio::spawn(app.get("/dashboards/default").as_user("carol").send()))
        .collect();
    let mut ids = Vec::new();
    for visit in visits {
        ids.push(visit.await.unwrap().expect(200)["id"].clone());
    }
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one starter for everyone: {ids:?}"
    );
    let listed = app
        .get("/dashboards")
        .as_user("carol")
        .send()
        .await
        .expect(200);
    assert_eq!(listed["dashboards"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["dashboards"][0]["widgets"].as_array().unwrap().len(),
        2
    );

    let mut public = json!({"name": "Team", "is_public": true});
    let team = app
        .post("/dashboards")
        .as_user("bob")
        .json(&public)
        .send()
        .await
        .expect(201);
    let team_id = team["id"].as_str().unwrap();
    public["name"] = json!("Private");
    public["is_public"] = json!(false);
    let private = app
        .post("/dashboards")
        .as_user("bob")
        .json(&public)
        .send()
        .await
        .expect(201);
    app.put(&format!(
        "/dashboards/{}/default",
        private["id"].as_str().unwrap()
    ))
    .as_user("carol")
    .send()
    .await
    .expect(403);
    app.put(&format!("/dashboards/{team_id}/default"))
        .as_user("carol")
        .send()
        .await
        .expect(200);
    let default = app
        .get("/dashboards/default")
        .as_user("carol")
        .send()
        .await
        .expect(200);
    assert_eq!(default["id"], team["id"]);
    app.put(&format!("/dashboards/{team_id}/default?scope=tenant"))
        .as_user("carol")
        .send()
        .await
        .expect(403);
    app.put(&format!("/dashboards/{team_id}/default?scope=tenant"))
        .as_user("root")
        .admin()
        .send()
        .await
        .expect(200);
    app.put(&format!("/dashboards/{team_id}/default?scope=everyone"))
        .as_user("root")
        .admin()
        .send()
        .await
        .expect(422);
    app.delete("/dashboards/default")
        .as_user("carol")
        .send()
        .await
        .expect(200);
    // Carol's own default is gone; the tenant's applies.
    let default = app
        .get("/dashboards/default")
        .as_user("carol")
        .send()
        .await
        .expect(200);
    assert_eq!(default["id"], team["id"]);
    // Deleting the dashboard clears it as anyone's default; dave has nothing and no user
    // to create a starter for without one.
    app.delete(&format!("/dashboards/{team_id}"))
        .as_user("bob")
        .send()
        .await
        .expect(200);
    app.get("/dashboards/default")
        .tenant("t1")
        .send()
        .await
        .expect(404);
}

/// `GET /dashboards/summaries`: the default first, pages by cursor, no duplicates or gaps.
pub async fn dashboard_summaries_over_http(engine: Engine) {
    let app = TestApp::new(engine);
    let mut created = Vec::new();
    for i in 0..12 {
        let body = json!({"name": format!("d{i}"), "refresh_interval": 30,
            "widgets": [{"type": "metric", "title": "m"}]});
        let d = app
            .post("/dashboards")
            .as_user("alice")
            .json(&body)
            .send()
            .await
            .expect(201);
        assert_eq!(d["refresh_interval"], 30);
        created.push(d["id"].clone());
    }
    app.put(&format!(
        "/dashboards/{}/default",
        created[3].as_str().unwrap()
    ))
    .as_user("alice")
    .send()
    .await
    .expect(200);
    let mut seen = Vec::new();
    let mut path = "/dashboards/summaries?limit=5".to_owned();
    for page in 0.. {
        let body = app.get(&path).as_user("alice").send().await.expect(200);
        let items = body["dashboards"].as_array().unwrap();
        if page == 0 {
            assert_eq!(items[0]["id"], created[3]);
            assert_eq!(items[0]["is_default"], true);
            assert_eq!(items[1]["id"], created[11], "then newest first");
        }
        for item in items {
            assert_eq!(item["is_owner"], true);
            assert_eq!(item["widget_count"], 1);
            assert!(item["updated_at"].is_string());
            seen.push(item["id"].clone());
        }
        app.post("/dashboards")
            .as_user("alice")
            .json(&json!({"name": format!("late{page}")}))
            .send()
            .await
            .expect(201);
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/dashboards/summaries?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    for id in &created {
        assert_eq!(seen.iter().filter(|s| *s == id).count(), 1, "{id} once");
    }
    app.get("/dashboards/summaries?limit=0")
        .as_user("alice")
        .send()
        .await
        .expect(400);
    app.get("/dashboards/summaries?cursor=nope")
        .as_user("alice")
        .send()
        .await
        .expect(400);
    let bob = app
        .get("/dashboards/summaries")
        .as_user("bob")
        .send()
        .await
        .expect(200);
    assert_eq!(
        bob["dashboards"],
        json!([]),
        "private dashboards are not listed"
    );
    // Refresh intervals below the minimum are refused; null turns refreshing off.
    let id = created[0].as_str().unwrap();
    app.patch(&format!("/dashboards/{id}"))
        .as_user("alice")
        .json(&json!({"refresh_interval": 5}))
        .send()
        .await
        .expect_detail_containing(422, "refresh_interval must be at least 10 seconds");
    let d = app
        .patch(&format!("/dashboards/{id}"))
        .as_user("alice")
        .json(&json!({"refresh_interval": null}))
        .send()
        .await
        .expect(200);
    assert_eq!(d["refresh_interval"], Value::Null);
}

/// Templates over HTTP: a host template and a tenant one, dashboards made from both, tenant
/// isolation, deletion rules.
pub async fn templates_over_http(engine: Engine) {
    use prismiq_axum::prismiq_core::DashboardTemplate;
    let engine = with_catalogue(engine).with_template(
        DashboardTemplate::host("cash_flow", "Cash flow")
            .with_category("finance")
            .with_widget(WidgetCreate::placed(WidgetType::Metric, "Balance"))
            .with_widget(WidgetCreate::placed(
                WidgetType::Custom("gauge".into()),
                "Runway",
            )),
    );
    let app = TestApp::new(engine);
    let source = app
        .post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "Ops", "refresh_interval": 60, "widgets": [
            {"type": "bar_chart", "title": "Output", "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
            {"type": "gauge", "title": "Load", "config": {"min": 1, "max": 2}}
        ]}))
        .send()
        .await
        .expect(201);
    let id = source["id"].as_str().unwrap();
    let template = app
        .post(&format!("/dashboards/{id}/template"))
        .as_user("alice")
        .json(&json!({"name": "Ops template", "description": "Ours", "category": "ops"}))
        .send()
        .await
        .expect(201);
    assert_eq!(template["source"], "tenant");
    assert_eq!(template["widgets"].as_array().unwrap().len(), 2);
    app.post(&format!("/dashboards/{id}/template"))
        .as_user("alice")
        .json(&json!({"name": "Ops template"}))
        .send()
        .await
        .expect(409);
    let listed = app
        .get("/templates")
        .as_user("bob")
        .send()
        .await
        .expect(200);
    let ids: Vec<&str> = listed["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["cash_flow", template["id"].as_str().unwrap()]);

    let made = app
        .post("/dashboards")
        .as_user("bob")
        .json(&json!({"from_template": template["id"], "name": "Bob's ops"}))
        .send()
        .await
        .expect(201);
    assert_eq!(made["owner_id"], "bob");
    assert_eq!(made["refresh_interval"], 60);
    assert_eq!(made["widgets"][1]["config"], json!({"min": 1, "max": 2}));
    assert_ne!(made["widgets"][0]["id"], source["widgets"][0]["id"]);
    let cash = app
        .post("/dashboards")
        .as_user("bob")
        .json(&json!({"from_template": "cash_flow"}))
        .send()
        .await
        .expect(201);
    assert_eq!(cash["name"], "Cash flow");
    assert_eq!(
        cash["widgets"][1]["position"],
        json!({"x": 3, "y": 0, "w": 3, "h": 3})
    );
    app.post("/dashboards")
        .as_user("bob")
        .json(&json!({"from_template": "nope"}))
        .send()
        .await
        .expect_detail(404, "Template 'nope' not found");

    // Another tenant: no such template.
    let tid = template["id"].as_str().unwrap();
    app.get(&format!("/templates/{tid}"))
        .tenant("t2")
        .send()
        .await
        .expect(404);
    app.post("/dashboards")
        .tenant("t2")
        .header("x-user-id", "eve")
        .json(&json!({"from_template": tid}))
        .send()
        .await
        .expect(404);
    // Deletion: not by someone else, never a host template; by the creator.
    app.delete(&format!("/templates/{tid}"))
        .as_user("bob")
        .send()
        .await
        .expect(403);
    app.delete("/templates/cash_flow")
        .as_user("alice")
        .admin()
        .send()
        .await
        .expect(403);
    app.delete(&format!("/templates/{tid}"))
        .as_user("alice")
        .send()
        .await
        .expect(200);
    app.get(&format!("/templates/{tid}"))
        .as_user("alice")
        .send()
        .await
        .expect(404);
}
