//! The widget catalogue through the Engine: open types, validation on every write path,
//! entitlements, placement, providers, default dashboards, summaries and refresh intervals.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use prismiq_core::catalogue::{
    Category, ProviderError, ProviderRequest, WidgetDataProvider, WidgetProblemKind, WidgetSizes,
    WidgetTypeSpec,
};
use prismiq_core::{
    AnyConfig, AuthContext, DashboardCreate, DashboardExport, DashboardImport, DashboardUpdate,
    Engine, EngineError, FilterValue, LayoutItem, MemoryStore, Patch, QueryResult,
    SimpleAuthContext, Violation, WidgetConfig, WidgetCreate, WidgetPosition, WidgetType,
    WidgetUpdate,
};
use serde_json::{Map, Value, json};

fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn gauge_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "min": {"type": "number"},
            "max": {"type": "number"},
            "unit": {"type": "string", "maxLength": 8},
            "thresholds": {
                "type": "array",
                "maxItems": 5,
                "items": {
                    "type": "object",
                    "properties": {
                        "value": {"type": "number"},
                        "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}
                    },
                    "required": ["value", "color"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["min", "max"],
        "additionalProperties": false
    })
}

fn gauge() -> WidgetTypeSpec {
    WidgetTypeSpec::new("gauge", "Gauge")
        .with_category(Category::Stats)
        .with_sizes(WidgetSizes::new(3, 3).min(2, 2).max(6, 6))
        .with_default_config(json!({"min": 0, "max": 100}))
        .with_config_schema(gauge_schema())
}

fn gauge_type() -> WidgetType {
    WidgetType::Custom("gauge".to_owned())
}

/// A provider answering with the caller's tenant, user, the widget's config and the filters.
struct Echo {
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl WidgetDataProvider for Echo {
    async fn fetch(&self, request: ProviderRequest<'_>) -> Result<QueryResult, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let config = request.widget.config.to_value();
        match config.get("mode").and_then(Value::as_str) {
            Some("bad") => return Err(ProviderError::BadRequest("mode 'bad' is bad".to_owned())),
            Some("fail") => return Err(ProviderError::Failed("the ledger is down".into())),
            Some("panic") => panic!("provider bug"),
            Some("slow") => tokio::time::sleep(Duration::from_secs(5)).await,
            _ => {}
        }
        let filters: Vec<Value> = request
            .filters
            .iter()
            .map(|f| json!([f.filter.id, f.value]))
            .collect();
        Ok(QueryResult {
            columns: vec!["tenant".into(), "user".into(), "filters".into()],
            column_types: vec!["text".into(), "text".into(), "json".into()],
            rows: vec![vec![
                json!(request.auth.tenant_id()),
                json!(request.auth.user_id()),
                json!(filters),
            ]],
            row_count: 1,
            truncated: false,
            execution_time_ms: 0.0,
        })
    }
}

fn engine() -> (Engine, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let engine = Engine::new(MemoryStore::new())
        .with_widget_type(gauge())
        .with_widget_type(
            WidgetTypeSpec::new("ledger", "Ledger")
                .with_category(Category::List)
                .with_provider(Echo {
                    calls: calls.clone(),
                })
                .with_cache_ttl(Duration::from_secs(60)),
        )
        .with_widget_type(
            WidgetTypeSpec::new("live_ledger", "Live ledger").with_provider(Echo {
                calls: calls.clone(),
            }),
        )
        .with_widget_type(
            WidgetTypeSpec::new("notes", "Notes")
                .with_category(Category::Info)
                .with_static_content(),
        )
        // Tenant "free" may not use gauges.
        .with_widget_type_access(|auth: &dyn AuthContext, t: &WidgetType| {
            !(auth.tenant_id() == "free" && t.as_str() == "gauge")
        })
        .with_query_timeout(Duration::from_millis(300));
    (engine, calls)
}

fn alice() -> SimpleAuthContext {
    SimpleAuthContext::new("acme").with_user("alice")
}

fn problems(err: EngineError) -> Vec<(String, WidgetProblemKind, String)> {
    match err {
        EngineError::InvalidWidgets(problems) => problems
            .0
            .into_iter()
            .map(|p| {
                let loc = serde_json::to_string(&p.loc).unwrap();
                (loc, p.kind, p.message)
            })
            .collect(),
        other => panic!("expected InvalidWidgets, got {other:?}"),
    }
}

#[tokio::test]
async fn widget_types_lists_builtins_and_host_types_the_caller_may_use() {
    let (engine, _) = engine();
    let listed: Vec<Value> = engine
        .widget_types(&alice())
        .into_iter()
        .map(|info| serde_json::to_value(info).unwrap())
        .collect();
    let keys: Vec<&str> = listed.iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "metric",
            "bar_chart",
            "line_chart",
            "area_chart",
            "pie_chart",
            "scatter_chart",
            "table",
            "text",
            "gauge",
            "ledger",
            "live_ledger",
            "notes"
        ]
    );
    let gauge = &listed[8];
    assert_eq!(gauge["category"], "stats");
    assert_eq!(gauge["data"], "query");
    assert_eq!(
        (&gauge["default_w"], &gauge["min_w"], &gauge["max_h"]),
        (&json!(3), &json!(2), &json!(6))
    );
    assert_eq!(gauge["default_config"], json!({"min": 0, "max": 100}));
    assert_eq!(gauge["config_schema"], gauge_schema());
    let bar = &listed[1];
    assert_eq!(bar["builtin"], true);
    assert_eq!(bar["default_config"].as_object().unwrap().len(), 34);
    assert_eq!(bar["max_w"], Value::Null);
    assert_eq!(listed[9]["data"], "provider");
    assert_eq!(listed[11]["data"], "none");

    let free = SimpleAuthContext::new("free").with_user("bob");
    let keys: Vec<String> = engine
        .widget_types(&free)
        .into_iter()
        .map(|t| t.widget_type.to_owned())
        .collect();
    assert!(
        !keys.iter().any(|k| k == "gauge"),
        "a hidden type is not listed"
    );
}

#[tokio::test]
async fn a_type_the_caller_may_not_use_is_refused_with_the_allowed_list() {
    let (engine, _) = engine();
    let free = SimpleAuthContext::new("free").with_user("bob");
    let d = engine
        .create_dashboard(&free, DashboardCreate::named("D"))
        .await
        .unwrap();
    let err = engine
        .add_widget(&free, d.id, WidgetCreate::placed(gauge_type(), "G"))
        .await
        .unwrap_err();
    let found = problems(err);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, r#"["type"]"#);
    let WidgetProblemKind::Type { allowed } = &found[0].1 else {
        panic!("{found:?}")
    };
    assert!(allowed.contains(&"ledger".to_owned()) && !allowed.contains(&"gauge".to_owned()));
    assert!(found[0].2.contains("allowed types: metric, bar_chart"));

    let unknown = WidgetType::parse("sparkline").unwrap();
    let err = engine
        .create_dashboard(
            &alice(),
            DashboardCreate::named("X").with_widget(WidgetCreate::placed(unknown, "S")),
        )
        .await
        .unwrap_err();
    assert_eq!(problems(err)[0].0, r#"["widgets",0,"type"]"#);
    assert!(WidgetType::parse("Bad Key").is_err());
}

#[tokio::test]
async fn configs_are_checked_against_the_schema_with_pointers() {
    let (engine, _) = engine();
    let d = engine
        .create_dashboard(&alice(), DashboardCreate::named("D"))
        .await
        .unwrap();
    let cases = [
        (
            json!({"min": "zero", "max": 1}),
            r#"["config","min"]"#,
            "/min",
        ),
        (json!({"max": 1}), r#"["config"]"#, ""),
        (
            json!({"min": 0, "max": 1, "colour": "red"}),
            r#"["config"]"#,
            "",
        ),
        (
            json!({"min": 0, "max": 1, "unit": "kilowatt-hours"}),
            r#"["config","unit"]"#,
            "/unit",
        ),
        (
            json!({"min": 0, "max": 1, "thresholds": [{"value": 1, "color": "red"}]}),
            r#"["config","thresholds",0,"color"]"#,
            "/thresholds/0/color",
        ),
        (
            json!({"min": 0, "max": 1, "thresholds": [{"value": 1}]}),
            r#"["config","thresholds",0]"#,
            "/thresholds/0",
        ),
        (
            json!({"min": 0, "max": 1, "thresholds": vec![json!({"value": 1, "color": "#000000"}); 6]}),
            r#"["config","thresholds"]"#,
            "/thresholds",
        ),
    ];
    for (config, loc, expected_pointer) in cases {
        let err = engine
            .add_widget(
                &alice(),
                d.id,
                WidgetCreate::placed(gauge_type(), "G").with_config(obj(config.clone())),
            )
            .await
            .unwrap_err();
        let found = problems(err);
        assert_eq!(found[0].0, loc, "{config}");
        let WidgetProblemKind::Config { pointer, .. } = &found[0].1 else {
            panic!("{found:?}")
        };
        assert_eq!(pointer, expected_pointer, "{config}");
    }
    // Several violations are all listed.
    let err = engine
        .add_widget(
            &alice(),
            d.id,
            WidgetCreate::placed(gauge_type(), "G")
                .with_config(obj(json!({"min": "a", "max": "b"}))),
        )
        .await
        .unwrap_err();
    assert_eq!(problems(err).len(), 2);

    // A valid config is stored as it came; no config means the default.
    let config = obj(json!({"min": 0, "max": 10, "unit": "°C",
        "thresholds": [{"value": 8, "color": "#ff0000"}]}));
    let w = engine
        .add_widget(
            &alice(),
            d.id,
            WidgetCreate::placed(gauge_type(), "G").with_config(config.clone()),
        )
        .await
        .unwrap();
    assert_eq!(w.config, AnyConfig::Json(config));
    let w = engine
        .add_widget(&alice(), d.id, WidgetCreate::placed(gauge_type(), "G2"))
        .await
        .unwrap();
    assert_eq!(
        w.config,
        AnyConfig::Json(obj(json!({"min": 0, "max": 100})))
    );

    // A built-in config keeps the 34 keys; a bad value is located within it.
    let err = engine
        .add_widget(
            &alice(),
            d.id,
            WidgetCreate::placed(WidgetType::BarChart, "B")
                .with_config(obj(json!({"fiscalYearStartMonth": 13}))),
        )
        .await
        .unwrap_err();
    assert_eq!(problems(err)[0].0, r#"["config","fiscalYearStartMonth"]"#);
    let w = engine
        .add_widget(
            &alice(),
            d.id,
            WidgetCreate::placed(WidgetType::BarChart, "B"),
        )
        .await
        .unwrap();
    assert_eq!(w.config, AnyConfig::from(WidgetConfig::default()));
}

#[tokio::test]
async fn sizes_are_bounded_on_every_write_path() {
    let (engine, _) = engine();
    let at = |x, y, w, h| WidgetPosition::new(x, y, w, h).unwrap();
    let too_wide = WidgetCreate::new(gauge_type(), "G", at(0, 0, 7, 3));
    let expect_bound = |err: EngineError, loc: &str, bound: &str| {
        let found = problems(err);
        assert_eq!(found[0].0, loc);
        assert!(
            matches!(&found[0].1, WidgetProblemKind::Size { bound: b, .. } if *b == bound),
            "{found:?}"
        );
        assert!(found[0].2.contains(bound), "{}", found[0].2);
    };
    // Create.
    let err = engine
        .create_dashboard(
            &alice(),
            DashboardCreate::named("D").with_widget(too_wide.clone()),
        )
        .await
        .unwrap_err();
    expect_bound(err, r#"["widgets",0,"position","w"]"#, "max_w");
    let d = engine
        .create_dashboard(
            &alice(),
            DashboardCreate::named("D").with_widget(WidgetCreate::new(
                gauge_type(),
                "G",
                at(0, 0, 3, 3),
            )),
        )
        .await
        .unwrap();
    let g = d.widgets[0].id;
    // Add.
    let small = WidgetCreate::placed(gauge_type(), "S").sized(1, 2);
    expect_bound(
        engine.add_widget(&alice(), d.id, small).await.unwrap_err(),
        r#"["position","w"]"#,
        "min_w",
    );
    // Update.
    let mut update = WidgetUpdate::default();
    update.position = Some(at(0, 0, 3, 7));
    expect_bound(
        engine
            .update_widget(&alice(), d.id, g, update)
            .await
            .unwrap_err(),
        r#"["position","h"]"#,
        "max_h",
    );
    // Whole save.
    let mut save = DashboardUpdate::default();
    save.widgets = Some(vec![
        serde_json::from_value(json!({"id": g.to_string(), "type": "gauge", "title": "G",
            "position": {"x": 0, "y": 0, "w": 1, "h": 3}}))
        .unwrap(),
    ]);
    expect_bound(
        engine
            .update_dashboard(&alice(), d.id, save)
            .await
            .unwrap_err(),
        r#"["widgets",0,"position","w"]"#,
        "min_w",
    );
    // Layout.
    let items: Vec<LayoutItem> = serde_json::from_value(
        json!([{"widget_id": g.to_string(), "position": {"x": 0, "y": 0, "w": 6, "h": 1}}]),
    )
    .unwrap();
    expect_bound(
        engine
            .update_layout(&alice(), d.id, items)
            .await
            .unwrap_err(),
        r#"[0,"position","h"]"#,
        "min_h",
    );
    // Import.
    let mut export = DashboardExport::of(&engine.get_dashboard(&alice(), d.id).await.unwrap());
    export.widgets[0].position = Some(at(0, 0, 9, 3).into());
    let import = DashboardImport {
        export_data: export,
        name_override: Some("Imported".to_owned()),
    };
    expect_bound(
        engine.import_dashboard(&alice(), import).await.unwrap_err(),
        r#"["export_data","widgets",0,"position","w"]"#,
        "max_w",
    );
    // Nothing was written by any refused request.
    let d = engine.get_dashboard(&alice(), d.id).await.unwrap();
    assert_eq!(d.widgets.len(), 1);
    assert_eq!(d.widgets[0].position, at(0, 0, 3, 3));
    assert_eq!(engine.list_dashboards(&alice()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn widgets_without_positions_are_placed_in_free_spots() {
    let (engine, _) = engine();
    let at = |x, y, w, h| WidgetPosition::new(x, y, w, h).unwrap();
    let d = engine
        .create_dashboard(
            &alice(),
            DashboardCreate::named("D")
                .with_widget(WidgetCreate::new(
                    WidgetType::BarChart,
                    "left",
                    at(0, 0, 6, 4),
                ))
                .with_widget(WidgetCreate::new(
                    WidgetType::Table,
                    "below",
                    at(0, 4, 12, 5),
                ))
                .with_widget(WidgetCreate::placed(gauge_type(), "placed")),
        )
        .await
        .unwrap();
    let placed = d.widgets.iter().find(|w| w.title == "placed").unwrap();
    assert_eq!(
        placed.position,
        at(6, 0, 3, 3),
        "the hole beside 'left', default size"
    );
    let w = engine
        .add_widget(
            &alice(),
            d.id,
            WidgetCreate::placed(WidgetType::Metric, "m").sized(3, 2),
        )
        .await
        .unwrap();
    assert_eq!(w.position, at(9, 0, 3, 2));
    let w = engine
        .add_widget(&alice(), d.id, WidgetCreate::placed(WidgetType::Table, "t"))
        .await
        .unwrap();
    assert_eq!(
        w.position,
        at(0, 9, 6, 5),
        "below everything when no hole fits"
    );
}

#[tokio::test]
async fn overlaps_are_refused_only_when_configured() {
    let at = |x, y, w, h| WidgetPosition::new(x, y, w, h).unwrap();
    let create = DashboardCreate::named("D")
        .with_widget(WidgetCreate::new(WidgetType::BarChart, "A", at(0, 0, 6, 4)))
        .with_widget(WidgetCreate::new(WidgetType::BarChart, "B", at(4, 2, 6, 4)));
    let (engine, _) = engine();
    engine
        .create_dashboard(&alice(), create.clone())
        .await
        .expect("overlaps are allowed by default");
    let engine = engine.with_overlapping_widgets(false);
    let mut named = create.clone();
    named.name = "E".to_owned();
    let found = problems(engine.create_dashboard(&alice(), named).await.unwrap_err());
    assert_eq!(found[0].2, "Widget 'B' overlaps widget 'A'");
    let d = engine
        .create_dashboard(
            &alice(),
            DashboardCreate::named("F").with_widget(WidgetCreate::new(
                WidgetType::BarChart,
                "A",
                at(0, 0, 6, 4),
            )),
        )
        .await
        .unwrap();
    // A duplicate finds a free spot instead of overlapping its original.
    let copy = engine
        .duplicate_widget(&alice(), d.id, d.widgets[0].id)
        .await
        .unwrap();
    assert_eq!(copy.position, at(6, 0, 6, 4));
}

#[tokio::test]
async fn providers_answer_under_the_query_rules() {
    let (engine, calls) = engine();
    let mut create = DashboardCreate::named("D")
        .with_widget(WidgetCreate::placed(
            WidgetType::Custom("ledger".into()),
            "cached",
        ))
        .with_widget(
            WidgetCreate::placed(WidgetType::Custom("live_ledger".into()), "bad")
                .with_config(obj(json!({"mode": "bad"}))),
        )
        .with_widget(
            WidgetCreate::placed(WidgetType::Custom("live_ledger".into()), "fail")
                .with_config(obj(json!({"mode": "fail"}))),
        )
        .with_widget(
            WidgetCreate::placed(WidgetType::Custom("live_ledger".into()), "panic")
                .with_config(obj(json!({"mode": "panic"}))),
        )
        .with_widget(
            WidgetCreate::placed(WidgetType::Custom("live_ledger".into()), "slow")
                .with_config(obj(json!({"mode": "slow"}))),
        )
        .with_widget(WidgetCreate::placed(
            WidgetType::Custom("notes".into()),
            "notes",
        ));
    create.filters = serde_json::from_value(json!([
        {"id": "region", "type": "select", "label": "Region", "field": "region",
         "default_value": "East"},
        {"id": "year", "type": "select", "label": "Year", "field": "year"}
    ]))
    .unwrap();
    let d = engine.create_dashboard(&alice(), create).await.unwrap();
    let id = |title: &str| d.widgets.iter().find(|w| w.title == title).unwrap().id;

    let values = vec![FilterValue {
        filter_id: "year".to_owned(),
        value: json!(2026),
    }];
    let result = engine
        .execute_widget(&alice(), d.id, id("cached"), &values)
        .await
        .unwrap();
    assert_eq!(
        result.rows[0],
        vec![
            json!("acme"),
            json!("alice"),
            json!([["region", "East"], ["year", 2026]])
        ]
    );
    // Cached per tenant and user for the type's TTL.
    engine
        .execute_widget(&alice(), d.id, id("cached"), &values)
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let admin = SimpleAuthContext::new("acme")
        .with_user("root")
        .with_admin(true);
    let result = engine
        .execute_widget(&admin, d.id, id("cached"), &values)
        .await
        .unwrap();
    assert_eq!(result.rows[0][1], json!("root"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // A caller without a user id is never served from the cache.
    let service = SimpleAuthContext::new("acme").with_admin(true);
    for _ in 0..2 {
        engine
            .execute_widget(&service, d.id, id("cached"), &values)
            .await
            .unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 4);

    let err = engine
        .execute_widget(&alice(), d.id, id("bad"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Provider(ProviderError::BadRequest(ref m)) if m == "mode 'bad' is bad")
    );
    let err = engine
        .execute_widget(&alice(), d.id, id("fail"), &[])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Provider(ProviderError::Failed(_))
    ));
    assert!(err.is_server_error());
    let err = engine
        .execute_widget(&alice(), d.id, id("panic"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Provider(ProviderError::Failed(_))),
        "{err:?}"
    );
    let err = engine
        .execute_widget(&alice(), d.id, id("slow"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Source(prismiq_core::SourceError::Timeout(_))
        ),
        "{err:?}"
    );
    let err = engine
        .execute_widget(&alice(), d.id, id("notes"), &[])
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::BadRequest(_)), "{err:?}");
    // The engine still answers after a panic.
    engine
        .execute_widget(&alice(), d.id, id("cached"), &values)
        .await
        .unwrap();
    // Another tenant cannot reach the widget.
    let other = SimpleAuthContext::new("globex").with_user("alice");
    assert!(matches!(
        engine
            .execute_widget(&other, d.id, id("cached"), &values)
            .await,
        Err(EngineError::DashboardNotFound(_))
    ));
}

#[tokio::test]
async fn default_dashboard_resolution_order() {
    let engine = Engine::new(MemoryStore::new());
    let bob = SimpleAuthContext::new("acme").with_user("bob");
    let admin = SimpleAuthContext::new("acme")
        .with_user("root")
        .with_admin(true);
    assert!(matches!(
        engine.default_dashboard(&alice()).await,
        Err(EngineError::DashboardNotFound(_))
    ));
    let mut shared = DashboardCreate::named("Team");
    shared.is_public = true;
    let team = engine.create_dashboard(&bob, shared).await.unwrap();
    let private = engine
        .create_dashboard(&bob, DashboardCreate::named("Bob only"))
        .await
        .unwrap();
    let mine = engine
        .create_dashboard(&alice(), DashboardCreate::named("Mine"))
        .await
        .unwrap();

    // Only what the caller may view can be their default; only admins set the tenant's.
    assert!(matches!(
        engine
            .set_default_dashboard(&alice(), private.id, false)
            .await,
        Err(EngineError::PermissionDenied)
    ));
    assert!(matches!(
        engine.set_default_dashboard(&alice(), team.id, true).await,
        Err(EngineError::PermissionDenied)
    ));
    engine
        .set_default_dashboard(&admin, team.id, true)
        .await
        .unwrap();
    assert_eq!(
        engine.default_dashboard(&alice()).await.unwrap().id,
        team.id
    );
    engine
        .set_default_dashboard(&alice(), mine.id, false)
        .await
        .unwrap();
    assert_eq!(
        engine.default_dashboard(&alice()).await.unwrap().id,
        mine.id
    );
    assert_eq!(engine.default_dashboard(&bob).await.unwrap().id, team.id);
    engine
        .clear_default_dashboard(&alice(), false)
        .await
        .unwrap();
    assert_eq!(
        engine.default_dashboard(&alice()).await.unwrap().id,
        team.id
    );

    // A default the caller can no longer view is skipped.
    engine
        .set_default_dashboard(&alice(), team.id, false)
        .await
        .unwrap();
    let mut hide = DashboardUpdate::default();
    hide.is_public = Some(false);
    engine.update_dashboard(&bob, team.id, hide).await.unwrap();
    assert!(matches!(
        engine.default_dashboard(&alice()).await,
        Err(EngineError::DashboardNotFound(_))
    ));
    // Deleting a dashboard clears it as anyone's default.
    engine.delete_dashboard(&bob, team.id).await.unwrap();
    assert!(engine.default_dashboard(&bob).await.is_err());
    let anonymous = SimpleAuthContext::new("acme");
    assert!(matches!(
        engine
            .set_default_dashboard(&anonymous, mine.id, false)
            .await,
        Err(EngineError::UserRequired | EngineError::PermissionDenied)
    ));
}

#[tokio::test]
async fn a_starter_dashboard_is_created_once_under_concurrent_first_visits() {
    let engine = Engine::new(MemoryStore::new())
        .with_widget_type(gauge())
        .with_starter_dashboard(|auth: &dyn AuthContext| {
            let name = format!("{}'s dashboard", auth.user_id()?);
            Some(
                DashboardCreate::named(name)
                    .with_widget(WidgetCreate::placed(WidgetType::Metric, "Revenue"))
                    .with_widget(WidgetCreate::placed(
                        WidgetType::Custom("gauge".into()),
                        "Load",
                    )),
            )
        });
    let visits = (0..20).map(|_| {
        let engine = engine.clone();
        tokio::spawn(async move { engine.default_dashboard(&alice()).await.map(|d| d.id) })
    });
    let mut ids = Vec::new();
    for visit in visits {
        ids.push(visit.await.unwrap().unwrap());
    }
    assert!(ids.iter().all(|id| *id == ids[0]));
    let listed = engine.list_dashboards(&alice()).await.unwrap();
    assert_eq!(listed.len(), 1, "exactly one starter dashboard");
    assert_eq!(listed[0].widgets.len(), 2);
    assert_eq!(listed[0].owner_id.as_deref(), Some("alice"));
    // Without a user there is nobody to create it for.
    assert!(
        engine
            .default_dashboard(&SimpleAuthContext::new("acme"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn summaries_paginate_without_duplicates_or_gaps_while_dashboards_are_created() {
    let engine = Engine::new(MemoryStore::new());
    let mut before = Vec::new();
    for i in 0..45 {
        before.push(
            engine
                .create_dashboard(&alice(), DashboardCreate::named(format!("d{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    engine
        .set_default_dashboard(&alice(), before[10], false)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = engine
            .dashboard_summaries(&alice(), Some(7), cursor.as_deref())
            .await
            .unwrap();
        if pages == 0 {
            assert!(page.dashboards[0].is_default && page.dashboards[0].id == before[10]);
        }
        assert!(page.dashboards.iter().all(|s| s.is_owner));
        seen.extend(page.dashboards.iter().map(|s| s.id));
        // Someone creates a dashboard between every two pages, and once the default changes.
        engine
            .create_dashboard(&alice(), DashboardCreate::named(format!("new{pages}")))
            .await
            .unwrap();
        if pages == 1 {
            engine
                .set_default_dashboard(&alice(), before[0], false)
                .await
                .unwrap();
        }
        pages += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    for id in &before {
        assert!(seen.contains(id), "no gaps: {id} missing");
    }
    assert!(matches!(
        engine.dashboard_summaries(&alice(), Some(0), None).await,
        Err(EngineError::BadRequest(_))
    ));
    assert!(matches!(
        engine
            .dashboard_summaries(&alice(), None, Some("garbage"))
            .await,
        Err(EngineError::BadRequest(_))
    ));
}

#[tokio::test]
async fn refresh_intervals_have_a_minimum_and_survive_export_and_import() {
    let engine = Engine::new(MemoryStore::new()).with_min_refresh_interval(30);
    let mut create = DashboardCreate::named("D");
    create.refresh_interval = Some(10);
    assert!(matches!(
        engine.create_dashboard(&alice(), create.clone()).await,
        Err(EngineError::Invalid(Violation::RefreshInterval { min: 30 }))
    ));
    create.refresh_interval = Some(60);
    let d = engine.create_dashboard(&alice(), create).await.unwrap();
    assert_eq!(d.refresh_interval, Some(60));
    let export = engine.export_dashboard(&alice(), d.id).await.unwrap();
    assert_eq!(export.refresh_interval, Some(60));
    let imported = engine
        .import_dashboard(
            &alice(),
            DashboardImport {
                export_data: export,
                name_override: Some("Copy".to_owned()),
            },
        )
        .await
        .unwrap();
    assert_eq!(imported.refresh_interval, Some(60));
    let mut update = DashboardUpdate::default();
    update.refresh_interval = Patch::Value(5);
    assert!(
        engine
            .update_dashboard(&alice(), d.id, update)
            .await
            .is_err()
    );
    let mut update = DashboardUpdate::default();
    update.refresh_interval = Patch::Null;
    let d = engine
        .update_dashboard(&alice(), d.id, update)
        .await
        .unwrap();
    assert_eq!(d.refresh_interval, None);
}

#[tokio::test]
async fn a_starter_is_never_created_twice_and_adapts_to_the_caller() {
    let engine = Engine::new(MemoryStore::new())
        .with_widget_type(gauge())
        .with_widget_type_access(|auth: &dyn AuthContext, t: &WidgetType| {
            !(auth.user_id() == Some("bob") && t.as_str() == "gauge")
        })
        .with_starter_dashboard(|auth: &dyn AuthContext| {
            Some(
                DashboardCreate::named(format!("{}'s dashboard", auth.user_id()?))
                    .with_widget(WidgetCreate::placed(WidgetType::Metric, "Revenue"))
                    .with_widget(WidgetCreate::placed(gauge_type(), "Load")),
            )
        });
    // Someone took the name first: the starter gets a number, not a 409.
    let carol = SimpleAuthContext::new("acme").with_user("carol");
    let mut squatter = DashboardCreate::named("alice's dashboard");
    squatter.is_public = false;
    engine.create_dashboard(&carol, squatter).await.unwrap();
    let starter = engine.default_dashboard(&alice()).await.unwrap();
    assert_eq!(starter.name, "alice's dashboard (2)");
    assert_eq!(starter.widgets.len(), 2);
    // Deleted, it is not created again.
    engine.delete_dashboard(&alice(), starter.id).await.unwrap();
    assert!(matches!(
        engine.default_dashboard(&alice()).await,
        Err(EngineError::DashboardNotFound(_))
    ));
    assert!(engine.list_dashboards(&alice()).await.unwrap().is_empty());
    // A type the caller may not use is left out of their starter.
    let bob = SimpleAuthContext::new("acme").with_user("bob");
    let starter = engine.default_dashboard(&bob).await.unwrap();
    let types: Vec<&WidgetType> = starter.widgets.iter().map(|w| &w.widget_type).collect();
    assert_eq!(types, [&WidgetType::Metric]);
}

#[tokio::test]
async fn kept_widgets_keep_what_a_write_leaves_out() {
    let allowed = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let gate = allowed.clone();
    let engine = Engine::new(MemoryStore::new())
        .with_widget_type(gauge())
        .with_widget_type_access(move |_: &dyn AuthContext, t: &WidgetType| {
            t.is_builtin() || gate.load(Ordering::SeqCst)
        })
        .with_overlapping_widgets(false);
    let at = |x, y, w, h| WidgetPosition::new(x, y, w, h).unwrap();
    let config = obj(json!({"min": 1, "max": 9}));
    let d = engine
        .create_dashboard(
            &alice(),
            DashboardCreate::named("D")
                .with_widget(
                    WidgetCreate::new(gauge_type(), "G", at(0, 0, 3, 3))
                        .with_config(config.clone()),
                )
                .with_widget(WidgetCreate::new(WidgetType::BarChart, "B", at(3, 0, 6, 4))),
        )
        .await
        .unwrap();
    let g = d.widgets.iter().find(|w| w.title == "G").unwrap().id;
    let b = d.widgets.iter().find(|w| w.title == "B").unwrap().id;

    // A whole save that sends a kept widget without config and with only a new width.
    let mut save = DashboardUpdate::default();
    save.widgets = Some(vec![
        serde_json::from_value(json!({"id": g.to_string(), "type": "gauge", "title": "G",
            "position": {"w": 2}}))
        .unwrap(),
        serde_json::from_value(
            json!({"id": b.to_string(), "type": "bar_chart", "title": "B",
            "position": {"x": 3, "y": 0, "w": 6, "h": 4}}),
        )
        .unwrap(),
    ]);
    let saved = engine.update_dashboard(&alice(), d.id, save).await.unwrap();
    let kept = saved.widgets.iter().find(|w| w.id == g).unwrap();
    assert_eq!(kept.config, AnyConfig::Json(config.clone()), "config kept");
    assert_eq!(kept.position, at(0, 0, 2, 3), "place kept, width changed");

    // The plan loses gauges: existing ones can still be renamed and moved, not added.
    allowed.store(false, Ordering::SeqCst);
    let mut rename = WidgetUpdate::default();
    rename.title = Some("Gauge".to_owned());
    engine
        .update_widget(&alice(), d.id, g, rename)
        .await
        .unwrap();
    assert!(
        engine
            .add_widget(&alice(), d.id, WidgetCreate::placed(gauge_type(), "G2"))
            .await
            .is_err()
    );
    allowed.store(true, Ordering::SeqCst);

    // A type change without a position keeps the place, held to the new type's bounds.
    let mut retype = WidgetUpdate::default();
    retype.widget_type = Some(gauge_type());
    let retyped = engine
        .update_widget(&alice(), d.id, b, retype)
        .await
        .unwrap();
    assert_eq!(retyped.position, at(3, 0, 6, 4));
    assert_eq!(
        retyped.config,
        AnyConfig::Json(obj(json!({"min": 0, "max": 100})))
    );

    // A layout that lists a widget twice: the last item wins, no overlap with itself.
    let items: Vec<LayoutItem> = serde_json::from_value(json!([
        {"widget_id": g.to_string(), "position": {"x": 3, "y": 0, "w": 2, "h": 3}},
        {"widget_id": g.to_string(), "position": {"x": 0, "y": 6, "w": 2, "h": 3}}
    ]))
    .unwrap();
    let moved = engine.update_layout(&alice(), d.id, items).await.unwrap();
    assert_eq!(
        moved.widgets.iter().find(|w| w.id == g).unwrap().position,
        at(0, 6, 2, 3)
    );

    // An export without configs imports with each type's default.
    let mut export = DashboardExport::of(&moved);
    for widget in &mut export.widgets {
        widget.config = None;
    }
    let imported = engine
        .import_dashboard(
            &alice(),
            DashboardImport {
                export_data: export,
                name_override: Some("Copy".to_owned()),
            },
        )
        .await
        .unwrap();
    assert!(
        imported
            .widgets
            .iter()
            .all(|w| w.config == AnyConfig::Json(obj(json!({"min": 0, "max": 100}))))
    );

    // A host type's data is for callers who may use the type.
    allowed.store(false, Ordering::SeqCst);
    assert!(matches!(
        engine.execute_widget(&alice(), d.id, g, &[]).await,
        Err(EngineError::PermissionDenied)
    ));
}
