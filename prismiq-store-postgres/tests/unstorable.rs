//! Values PostgreSQL cannot hold (text with U+0000, in `text` or `jsonb` columns) are the
//! caller's to fix: the engine refuses them in names and titles, the store maps the rest to
//! `StoreError::Rejected`, a 422 either way, and nothing is written.

use prismiq_core::permissions::Viewer;
use prismiq_core::{
    DashboardCreate, DashboardStore, Engine, EngineError, Scope, SimpleAuthContext, StoreError,
    Violation, WidgetConfig, WidgetCreate, WidgetPosition, WidgetType,
};
use prismiq_store_postgres::testing::fresh_database;

#[tokio::test]
async fn text_with_nul_is_rejected_not_a_server_error() {
    let database = fresh_database().await;
    let store = database.store().clone();
    let engine = Engine::new(store.clone());
    let alice = SimpleAuthContext::new("acme").with_user("alice");

    // Names, descriptions and titles are checked by the engine itself.
    let err = engine
        .create_dashboard(&alice, DashboardCreate::named("a\u{0}b"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Invalid(Violation::NulCharacter { .. })),
        "{err:?}"
    );

    // Anything else the store refuses, as the client's mistake.
    let mut create = DashboardCreate::named("With a filter");
    create.filters.push(
        serde_json::from_value(serde_json::json!({
            "id": "f", "type": "select", "label": "Region \u{0}", "field": "region"
        }))
        .unwrap(),
    );
    let err = engine.create_dashboard(&alice, create).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Store(StoreError::Rejected(_))),
        "{err:?}"
    );
    assert!(!err.is_server_error());

    let config = WidgetConfig {
        content: Some("notes \u{0}".to_owned()),
        ..WidgetConfig::default()
    };
    let mut create = DashboardCreate::named("With widget");
    create.widgets.push(
        WidgetCreate::new(
            WidgetType::Text,
            "Notes",
            WidgetPosition::new(0, 0, 4, 2).unwrap(),
        )
        .with_config(config),
    );
    let err = engine.create_dashboard(&alice, create).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Store(StoreError::Rejected(_))),
        "{err:?}"
    );

    let stored = store
        .list_dashboards(&Scope::new("acme"), &Viewer::of(&alice))
        .await
        .expect("the store still answers");
    assert!(stored.is_empty(), "nothing half-written: {stored:?}");
    database.drop_database().await;
}
