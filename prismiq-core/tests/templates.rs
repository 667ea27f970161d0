//! Dashboard templates through the Engine: host and tenant templates, dashboards made from
//! them, and a starter dashboard named by a template.

use prismiq_core::catalogue::{WidgetSizes, WidgetTypeSpec};
use prismiq_core::{
    AnyConfig, AuthContext, DashboardCreate, DashboardFromTemplate, DashboardTemplate, Engine,
    EngineError, MemoryStore, SimpleAuthContext, TemplateCreate, TemplateSource, WidgetCreate,
    WidgetPosition, WidgetType,
};
use serde_json::json;

fn alice() -> SimpleAuthContext {
    SimpleAuthContext::new("acme").with_user("alice")
}

fn from(id: &str, name: Option<&str>) -> DashboardFromTemplate {
    serde_json::from_value(json!({"from_template": id, "name": name})).unwrap()
}

fn engine() -> Engine {
    Engine::new(MemoryStore::new())
        .with_widget_type(
            WidgetTypeSpec::new("gauge", "Gauge")
                .with_sizes(WidgetSizes::new(3, 3).max(6, 6))
                .with_default_config(json!({"min": 0, "max": 100}))
                .with_config_schema(json!({
                    "type": "object",
                    "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
                    "required": ["min", "max"]
                })),
        )
        .with_template(
            DashboardTemplate::host("executive_overview", "Executive overview")
                .with_description("Revenue at a glance")
                .with_category("sales")
                .with_refresh_interval(300)
                .with_widget(WidgetCreate::placed(WidgetType::Metric, "Revenue"))
                .with_widget(WidgetCreate::placed(
                    WidgetType::Custom("gauge".into()),
                    "Load",
                )),
        )
        .with_template(DashboardTemplate::host("broken", "Broken").with_widget(
            WidgetCreate::placed(WidgetType::Custom("gauge".into()), "Too wide").sized(9, 3),
        ))
        .with_template(DashboardTemplate::host("premium", "Premium"))
        .with_template_access(|auth: &dyn AuthContext, t: &DashboardTemplate| {
            t.id != "premium" || auth.tenant_id() == "bigco"
        })
}

#[tokio::test]
async fn host_templates_make_dashboards_with_fresh_ids_owned_by_the_caller() {
    let engine = engine();
    let listed: Vec<String> = engine
        .list_templates(&alice())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(
        listed,
        ["executive_overview", "broken"],
        "premium is hidden from acme"
    );
    assert!(matches!(
        engine.get_template(&alice(), "premium").await,
        Err(EngineError::TemplateNotFound(_))
    ));
    let bigco = SimpleAuthContext::new("bigco").with_user("bo");
    assert_eq!(
        engine.get_template(&bigco, "premium").await.unwrap().name,
        "Premium"
    );

    let first = engine
        .create_dashboard_from_template(&alice(), from("executive_overview", None))
        .await
        .unwrap();
    assert_eq!(first.name, "Executive overview");
    assert_eq!(first.description.as_deref(), Some("Revenue at a glance"));
    assert_eq!(first.owner_id.as_deref(), Some("alice"));
    assert_eq!(first.refresh_interval, Some(300));
    let positions: Vec<WidgetPosition> = first.widgets.iter().map(|w| w.position).collect();
    assert_eq!(
        positions,
        [
            WidgetPosition::new(0, 0, 3, 2).unwrap(),
            WidgetPosition::new(3, 0, 3, 3).unwrap()
        ],
        "placed by the placement rule at their types' default sizes"
    );
    assert_eq!(
        first.widgets[1].config,
        AnyConfig::Json(json!({"min": 0, "max": 100}).as_object().unwrap().clone())
    );
    let second = engine
        .create_dashboard_from_template(&alice(), from("executive_overview", Some("Mine")))
        .await
        .unwrap();
    assert_eq!(second.name, "Mine");
    assert!(
        second
            .widgets
            .iter()
            .all(|w| first.widgets.iter().all(|f| f.id != w.id))
    );

    // A template whose widgets break the catalogue is refused at use, the widget named.
    let err = engine
        .create_dashboard_from_template(&alice(), from("broken", None))
        .await
        .unwrap_err();
    let EngineError::InvalidWidgets(problems) = err else {
        panic!("{err:?}")
    };
    assert!(
        problems.0[0]
            .message
            .starts_with("Template widget 'Too wide':"),
        "{}",
        problems.0[0].message
    );
    assert!(matches!(
        engine
            .create_dashboard_from_template(&alice(), from("nope", None))
            .await,
        Err(EngineError::TemplateNotFound(_))
    ));
}

#[tokio::test]
async fn tenant_templates_round_trip_and_stay_in_their_tenant() {
    let engine = engine();
    let mut create = DashboardCreate::named("Ops")
        .with_widget(WidgetCreate::new(
            WidgetType::BarChart,
            "Throughput",
            WidgetPosition::new(0, 0, 6, 4).unwrap(),
        ))
        .with_widget(WidgetCreate::new(
            WidgetType::Custom("gauge".into()),
            "Load",
            WidgetPosition::new(6, 0, 3, 3).unwrap(),
        ));
    create.refresh_interval = Some(60);
    create.filters = serde_json::from_value(json!([
        {"id": "region", "type": "select", "label": "Region", "field": "region"}
    ]))
    .unwrap();
    let original = engine.create_dashboard(&alice(), create).await.unwrap();
    let saved = engine
        .save_template(
            &alice(),
            original.id,
            serde_json::from_value::<TemplateCreate>(
                json!({"name": "Ops template", "category": "operations"}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(saved.source, TemplateSource::Tenant);
    assert_eq!(saved.created_by.as_deref(), Some("alice"));

    let bob = SimpleAuthContext::new("acme").with_user("bob");
    let made = engine
        .create_dashboard_from_template(&bob, from(&saved.id, Some("Bob's ops")))
        .await
        .unwrap();
    assert_eq!(made.owner_id.as_deref(), Some("bob"));
    assert_eq!(made.filters, original.filters);
    assert_eq!(made.layout, original.layout);
    assert_eq!(made.refresh_interval, Some(60));
    assert_eq!(made.widgets.len(), 2);
    for (made, original) in made.widgets.iter().zip(&original.widgets) {
        assert_ne!(made.id, original.id, "fresh widget ids");
        assert_eq!(
            (&made.widget_type, &made.title, &made.position, &made.config),
            (
                &original.widget_type,
                &original.title,
                &original.position,
                &original.config
            )
        );
    }

    // Another tenant sees none of it.
    let other = SimpleAuthContext::new("globex").with_user("alice");
    assert!(
        engine
            .list_templates(&other)
            .await
            .unwrap()
            .iter()
            .all(|t| t.source == TemplateSource::Host)
    );
    assert!(matches!(
        engine.get_template(&other, &saved.id).await,
        Err(EngineError::TemplateNotFound(_))
    ));
    assert!(
        engine
            .create_dashboard_from_template(&other, from(&saved.id, None))
            .await
            .is_err()
    );
    // Only the creator or an admin deletes it; host templates are not deleted.
    assert!(matches!(
        engine.delete_template(&bob, &saved.id).await,
        Err(EngineError::PermissionDenied)
    ));
    assert!(matches!(
        engine.delete_template(&alice(), "executive_overview").await,
        Err(EngineError::PermissionDenied)
    ));
    engine.delete_template(&alice(), &saved.id).await.unwrap();
    assert!(engine.get_template(&alice(), &saved.id).await.is_err());
}

#[tokio::test]
async fn a_starter_template_makes_the_first_default() {
    let engine = engine().with_starter_template("executive_overview");
    let default = engine.default_dashboard(&alice()).await.unwrap();
    assert_eq!(default.name, "Executive overview");
    assert_eq!(default.widgets.len(), 2);
    assert_eq!(
        engine.default_dashboard(&alice()).await.unwrap().id,
        default.id
    );
}
