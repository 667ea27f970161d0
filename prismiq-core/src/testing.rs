//! The store conformance suite: every rule a store must keep, as async functions any store can
//! run, and [`store_conformance!`](crate::store_conformance) to stamp them out as tests.
//!
//! ```ignore
//! // tests/conformance.rs of a store crate (needs tokio with `macros` and `rt`):
//! async fn store() -> MyStore { MyStore::connect_to_fresh_database().await }
//! prismiq_core::store_conformance!(store);
//! ```
//!
//! Each case takes a fresh, empty store. The cases panic with a message naming the broken rule.

use std::time::Duration;

use serde_json::json;

use crate::auth::Scope;
use crate::ids::{DashboardId, PinId, SavedQueryId, WidgetId};
use crate::model::{
    Dashboard, DashboardFilter, DashboardJson, DashboardLayout, FilterType, Patch, QueryDefinition,
    WidgetConfig, WidgetContent, WidgetPosition, WidgetType,
};
use crate::permissions::Viewer;
use crate::store::{
    Conflict, DashboardChanges, DashboardStore, NewDashboard, NewSavedQuery, PinStore,
    SavedQueryChanges, SavedQueryStore, StoreError,
};

/// A store implementing every store trait.
pub trait FullStore: DashboardStore + SavedQueryStore + PinStore {}
impl<T: DashboardStore + SavedQueryStore + PinStore> FullStore for T {}

/// Stamps one `#[tokio::test]` per conformance case, each on a fresh store made by the given
/// async function (`async fn() -> impl FullStore`).
#[macro_export]
macro_rules! store_conformance {
    ($make:path) => {
        $crate::store_conformance!(@cases $make;
            dashboard_round_trip,
            dashboard_json_is_the_serialized_dashboard,
            dashboard_list_filters_by_viewer_and_orders_by_update,
            tenants_are_isolated,
            dashboard_names_are_unique_per_tenant,
            dashboard_update_applies_only_given_fields,
            whole_dashboard_save_keeps_ids_and_is_atomic,
            delete_dashboard_cascades_to_widgets_and_pins,
            widget_operations_stay_within_their_dashboard,
            widget_limit_is_enforced,
            dashboard_limit_per_owner_is_enforced,
            layout_update_moves_known_widgets_only,
            widget_changes_bump_dashboard_updated_at,
            saved_query_round_trip_and_visibility,
            saved_query_names_are_unique_per_tenant,
            pin_positions_stay_compact,
            pins_are_scoped_per_user_and_context,
            reorder_pins_puts_listed_first,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make().await;
                $crate::testing::$case(&store).await;
            }
        )*
    };
}

fn scope(tenant: &str) -> Scope {
    Scope::new(tenant)
}

/// A valid query definition over table `orders`.
pub fn sample_query() -> QueryDefinition {
    QueryDefinition::from_value(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "total", "aggregation": "sum"}]
    }))
    .expect("valid query")
}

/// Widget content of the given type and position.
pub fn widget(title: &str, x: u32, y: u32) -> WidgetContent {
    WidgetContent {
        widget_type: WidgetType::BarChart,
        title: title.to_owned(),
        query: Some(sample_query()),
        position: WidgetPosition::new(x, y, 4, 3).expect("valid position"),
        config: WidgetConfig {
            x_axis: Some("region".to_owned()),
            fiscal_year_start_month: Some(4),
            ..WidgetConfig::default()
        },
    }
}

/// A new dashboard named `name`, owned by `owner`, with the given widgets.
pub fn new_dashboard(name: &str, owner: Option<&str>, widgets: Vec<WidgetContent>) -> NewDashboard {
    NewDashboard {
        id: DashboardId::new(),
        name: name.to_owned(),
        description: Some(format!("{name} description")),
        layout: DashboardLayout::default(),
        filters: vec![DashboardFilter {
            id: "f1".to_owned(),
            filter_type: FilterType::Select,
            label: "Region".to_owned(),
            field: "region".to_owned(),
            table: Some("customers".to_owned()),
            default_value: Some(json!("East")),
            options: None,
            date_preset: None,
            dynamic: Some(false),
        }],
        owner_id: owner.map(str::to_owned),
        is_public: false,
        allowed_viewers: Vec::new(),
        widgets: widgets.into_iter().map(|w| (WidgetId::new(), w)).collect(),
    }
}

async fn create<S: FullStore>(store: &S, tenant: &str, new: NewDashboard) -> Dashboard {
    store
        .create_dashboard(&scope(tenant), new, None)
        .await
        .expect("create dashboard")
}

/// Reads a dashboard both ways, checking that its JSON document is the dashboard serialized.
async fn get<S: FullStore>(store: &S, tenant: &str, id: DashboardId) -> Option<Dashboard> {
    let dashboard = store
        .get_dashboard(&scope(tenant), id)
        .await
        .expect("get dashboard");
    let document = store
        .get_dashboard_json(&scope(tenant), id)
        .await
        .expect("get dashboard as JSON");
    match (&dashboard, &document) {
        (Some(dashboard), Some(document)) => assert_document_matches(dashboard, document),
        (None, None) => {}
        _ => panic!(
            "get_dashboard and get_dashboard_json disagree on whether dashboard {id} exists \
             (typed: {}, JSON: {})",
            dashboard.is_some(),
            document.is_some()
        ),
    }
    dashboard
}

/// Lists dashboards both ways, checking that the JSON documents are the dashboards serialized.
async fn list<S: FullStore>(store: &S, scope: &Scope, viewer: &Viewer) -> Vec<Dashboard> {
    let dashboards = store
        .list_dashboards(scope, viewer)
        .await
        .expect("list dashboards");
    let documents = store
        .list_dashboards_json(scope, viewer)
        .await
        .expect("list dashboards as JSON");
    assert_eq!(
        documents.len(),
        dashboards.len(),
        "list_dashboards_json must list what list_dashboards lists"
    );
    for (dashboard, document) in dashboards.iter().zip(&documents) {
        assert_document_matches(dashboard, document);
    }
    dashboards
}

/// Panics unless `document` is `dashboard` as the API returns it.
fn assert_document_matches(dashboard: &Dashboard, document: &DashboardJson) {
    let parsed: serde_json::Value = serde_json::from_str(document.as_str())
        .unwrap_or_else(|e| panic!("get_dashboard_json gave invalid JSON ({e}): {document:?}"));
    let expected = serde_json::to_value(dashboard).expect("serialize dashboard");
    assert_eq!(
        parsed, expected,
        "get_dashboard_json must be the serialized dashboard get_dashboard returns"
    );
    assert_eq!(
        (
            &document.owner_id,
            document.is_public,
            &document.allowed_viewers
        ),
        (
            &dashboard.owner_id,
            dashboard.is_public,
            &dashboard.allowed_viewers
        ),
        "get_dashboard_json's access fields must be the dashboard's"
    );
}

/// Timestamps have microsecond precision; wait so that the next write gets a later one.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(2)).await;
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, kind: Conflict, what: &str) {
    match result {
        Err(StoreError::Conflict(found)) if found == kind => {}
        other => panic!("{what}: expected Conflict({kind:?}), got {other:?}"),
    }
}

/// Create, then read back: every field survives, widgets come in row-then-column order.
pub async fn dashboard_round_trip<S: FullStore>(store: &S) {
    let mut new = new_dashboard(
        "Sales",
        Some("alice"),
        vec![
            widget("bottom", 0, 5),
            widget("top right", 6, 0),
            widget("top left", 0, 0),
        ],
    );
    new.is_public = true;
    new.allowed_viewers = vec!["bob".to_owned()];
    new.layout.columns = 24;
    let expected_ids: Vec<WidgetId> = new.widgets.iter().map(|(id, _)| *id).collect();
    let created = create(store, "t1", new.clone()).await;

    assert_eq!(created.id, new.id);
    assert_eq!(created.name, "Sales");
    assert_eq!(created.description, new.description);
    assert_eq!(created.layout, new.layout);
    assert_eq!(created.filters, new.filters);
    assert_eq!(created.owner_id.as_deref(), Some("alice"));
    assert!(created.is_public);
    assert_eq!(created.allowed_viewers, vec!["bob".to_owned()]);
    assert_eq!(created.created_at, created.updated_at);
    let titles: Vec<&str> = created.widgets.iter().map(|w| w.title.as_str()).collect();
    assert_eq!(titles, ["top left", "top right", "bottom"], "widget order");
    for id in expected_ids {
        assert!(created.widgets.iter().any(|w| w.id == id), "widget id kept");
    }
    let w = created
        .widgets
        .iter()
        .find(|w| w.title == "top right")
        .unwrap();
    assert_eq!(w.query, Some(sample_query()));
    assert_eq!(w.config.fiscal_year_start_month, Some(4));
    assert_eq!(w.position, WidgetPosition::new(6, 0, 4, 3).unwrap());

    let loaded = get(store, "t1", created.id)
        .await
        .expect("dashboard exists");
    assert_eq!(loaded, created, "read back equals what create returned");
    assert!(get(store, "t1", DashboardId::new()).await.is_none());
}

/// The JSON document of a dashboard is the dashboard serialized, whatever it holds: no
/// owner or description, text widgets without a query, every kind of display setting, text
/// that needs escaping, numbers that are not integers.
pub async fn dashboard_json_is_the_serialized_dashboard<S: FullStore>(store: &S) {
    let mut empty = new_dashboard("Empty \"quoted\" \\ back\tslash", None, Vec::new());
    empty.description = None;
    empty.filters = Vec::new();
    empty.layout.compact_type = None;
    let empty = create(store, "t1", empty).await;
    get(store, "t1", empty.id).await.expect("empty dashboard");

    let text = WidgetContent {
        widget_type: WidgetType::Text,
        title: "Notes — ünïcode ✓ \u{1F600}".to_owned(),
        query: None,
        position: WidgetPosition::new(0, 7, 12, 2).expect("valid position"),
        config: WidgetConfig {
            content: Some("# Heading\n\nline \"two\"\r\n</script>".to_owned()),
            markdown: Some(true),
            alignment: Some("center".to_owned()),
            ..WidgetConfig::default()
        },
    };
    let mut chart = widget("chart", 0, 0);
    chart.config = serde_json::from_value(json!({
        "x_axis": "region",
        "y_axis": ["revenue", "cost"],
        "colors": ["#ff0000", "#00ff00"],
        "stacked": false,
        "max_series": 5,
        "decimalDigits": 2,
        "valueFormat": "currency",
        "referenceLines": [{"value": 1.5, "label": "target", "nested": {"a": [1, 2.25, null]}}],
        "columnFormats": {"revenue": {"type": "currency", "scale": 0.001}},
        "dateFormats": {"day": "yyyy-MM-dd"},
        "data_source_mode": "sql",
        "raw_sql": "select 1",
        "hyperlink": {"url": "https://example.com/?a=1&b=2", "title": "More", "target": "_blank"},
        "showTrend": true,
        "fiscalYearStartMonth": 10,
        "fontSize": "large"
    }))
    .expect("valid config");
    let mut table = widget("table", 6, 0);
    table.widget_type = WidgetType::Table;
    table.query = Some(
        QueryDefinition::from_value(json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "status"}, {"table_id": "t1", "column": "total"}],
            "filters": [
                {"table_id": "t1", "column": "total", "operator": "between", "value": [10.5, 99.25]},
                {"table_id": "t1", "column": "status", "operator": "in_", "value": ["a'b", "c\"d"]}
            ],
            "order_by": [{"table_id": "t1", "column": "total", "direction": "DESC"}],
            "limit": 50
        }))
        .expect("valid query"),
    );
    let mut full = new_dashboard("Full", Some("alice"), vec![text, chart, table]);
    full.is_public = true;
    full.allowed_viewers = vec!["bob".to_owned(), "carol".to_owned()];
    full.filters.push(DashboardFilter {
        id: "f2".to_owned(),
        filter_type: FilterType::DateRange,
        label: "When".to_owned(),
        field: "created_at".to_owned(),
        table: None,
        default_value: Some(json!({"start": "2026-01-01", "end": "2026-12-31"})),
        options: None,
        date_preset: Some("last_30_days".to_owned()),
        dynamic: None,
    });
    let full = create(store, "t1", full).await;
    let read = get(store, "t1", full.id).await.expect("full dashboard");
    assert_eq!(read, full, "read back equals what create returned");
    assert!(
        store
            .get_dashboard_json(&scope("t2"), full.id)
            .await
            .expect("get dashboard as JSON")
            .is_none(),
        "another tenant's dashboard is not found as JSON either"
    );
    for viewer in [
        Viewer::Admin,
        Viewer::User("bob".to_owned()),
        Viewer::Anonymous,
    ] {
        list(store, &scope("t1"), &viewer).await;
    }
}

/// Listing returns exactly what the viewer may view, most recently updated first.
pub async fn dashboard_list_filters_by_viewer_and_orders_by_update<S: FullStore>(store: &S) {
    let own = create(
        store,
        "t1",
        new_dashboard("alice private", Some("alice"), vec![]),
    )
    .await;
    tick().await;
    let mut public = new_dashboard("bob public", Some("bob"), vec![]);
    public.is_public = true;
    let public = create(store, "t1", public).await;
    tick().await;
    let mut shared = new_dashboard("bob shared", Some("bob"), vec![]);
    shared.allowed_viewers = vec!["alice".to_owned()];
    let shared = create(store, "t1", shared).await;
    tick().await;
    let hidden = create(
        store,
        "t1",
        new_dashboard("bob private", Some("bob"), vec![]),
    )
    .await;
    tick().await;
    let ownerless = create(store, "t1", new_dashboard("nobody's", None, vec![])).await;

    let ids = |list: Vec<Dashboard>| list.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let list = |viewer: Viewer| async move { list(store, &scope("t1"), &viewer).await };
    assert_eq!(
        ids(list(Viewer::User("alice".to_owned())).await),
        [shared.id, public.id, own.id]
    );
    assert_eq!(ids(list(Viewer::Anonymous).await), [public.id]);
    assert_eq!(
        ids(list(Viewer::Admin).await),
        [ownerless.id, hidden.id, shared.id, public.id, own.id]
    );

    tick().await;
    store
        .update_dashboard(
            &scope("t1"),
            own.id,
            DashboardChanges {
                description: Patch::Null,
                ..DashboardChanges::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(
        ids(list(Viewer::User("alice".to_owned())).await),
        [own.id, shared.id, public.id],
        "an update moves the dashboard to the front"
    );
}

/// Nothing of one tenant is visible to or changeable by another.
pub async fn tenants_are_isolated<S: FullStore>(store: &S) {
    let mut new = new_dashboard("Shared name", Some("alice"), vec![widget("w", 0, 0)]);
    new.is_public = true;
    let a = create(store, "tenant-a", new).await;
    let wid = a.widgets[0].id;
    let b = scope("tenant-b");

    assert!(get(store, "tenant-b", a.id).await.is_none());
    assert!(list(store, &b, &Viewer::Admin).await.is_empty());
    assert_not_found(
        store
            .update_dashboard(
                &b,
                a.id,
                DashboardChanges {
                    name: Some("stolen".to_owned()),
                    ..DashboardChanges::default()
                },
            )
            .await,
        "update another tenant's dashboard",
    );
    assert_not_found(
        store.delete_dashboard(&b, a.id).await,
        "delete another tenant's dashboard",
    );
    assert_not_found(
        store
            .add_widget(&b, a.id, WidgetId::new(), widget("x", 0, 0), None)
            .await,
        "add a widget to another tenant's dashboard",
    );
    assert_not_found(
        store.update_widget(&b, a.id, wid, widget("x", 0, 0)).await,
        "update another tenant's widget",
    );
    assert_not_found(
        store.delete_widget(&b, a.id, wid).await,
        "delete another tenant's widget",
    );
    assert_not_found(
        store
            .update_layout(&b, a.id, &[(wid, WidgetPosition::new(1, 1, 1, 1).unwrap())])
            .await,
        "layout of another tenant's dashboard",
    );
    assert_not_found(
        store
            .pin(&b, "alice", PinId::new(), a.id, "home", None)
            .await,
        "pin another tenant's dashboard",
    );

    // The same name is free in another tenant.
    create(
        store,
        "tenant-b",
        new_dashboard("Shared name", Some("alice"), vec![]),
    )
    .await;

    let q = store
        .create_saved_query(
            &scope("tenant-a"),
            new_saved_query("q", Some("alice"), true),
        )
        .await
        .unwrap();
    assert!(store.get_saved_query(&b, q.id).await.unwrap().is_none());
    assert!(
        store
            .list_saved_queries(&b, &Viewer::Admin)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(
        store
            .update_saved_query(
                &b,
                q.id,
                SavedQueryChanges {
                    is_shared: Some(false),
                    ..SavedQueryChanges::default()
                },
            )
            .await,
        "update another tenant's saved query",
    );
    assert_not_found(
        store.delete_saved_query(&b, q.id).await,
        "delete another tenant's saved query",
    );

    // Tenant A is untouched.
    let still = get(store, "tenant-a", a.id).await.expect("still there");
    assert_eq!(still, a);
    assert!(
        store
            .get_saved_query(&scope("tenant-a"), q.id)
            .await
            .unwrap()
            .is_some()
    );
}

/// Dashboard names are unique per tenant, on create and on rename.
pub async fn dashboard_names_are_unique_per_tenant<S: FullStore>(store: &S) {
    create(store, "t1", new_dashboard("Sales", Some("alice"), vec![])).await;
    let other = create(store, "t1", new_dashboard("Costs", Some("bob"), vec![])).await;
    assert_conflict(
        store
            .create_dashboard(
                &scope("t1"),
                new_dashboard("Sales", Some("bob"), vec![]),
                None,
            )
            .await,
        Conflict::DashboardName,
        "create with a taken name",
    );
    assert_conflict(
        store
            .update_dashboard(
                &scope("t1"),
                other.id,
                DashboardChanges {
                    name: Some("Sales".to_owned()),
                    ..DashboardChanges::default()
                },
            )
            .await,
        Conflict::DashboardName,
        "rename to a taken name",
    );
    // Renaming to its own name is fine.
    store
        .update_dashboard(
            &scope("t1"),
            other.id,
            DashboardChanges {
                name: Some("Costs".to_owned()),
                ..DashboardChanges::default()
            },
        )
        .await
        .expect("rename to own name");
    let listed = list(store, &scope("t1"), &Viewer::Admin).await;
    assert_eq!(listed.len(), 2, "the failed create left nothing behind");
}

/// Absent fields stay, given fields change, `Patch::Null` clears.
pub async fn dashboard_update_applies_only_given_fields<S: FullStore>(store: &S) {
    let created = create(
        store,
        "t1",
        new_dashboard("Ops", Some("alice"), vec![widget("w", 0, 0)]),
    )
    .await;
    tick().await;
    let unchanged = store
        .update_dashboard(&scope("t1"), created.id, DashboardChanges::default())
        .await
        .unwrap();
    assert_eq!(unchanged.name, created.name);
    assert_eq!(unchanged.description, created.description);
    assert_eq!(
        unchanged.widgets, created.widgets,
        "no widgets change without `widgets`"
    );

    let layout = DashboardLayout {
        columns: 24,
        row_height: 60,
        margin: [16, 16],
        compact_type: None,
    };
    let updated = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                name: Some("Operations".to_owned()),
                description: Patch::Null,
                layout: Some(layout.clone()),
                filters: Some(Vec::new()),
                is_public: Some(true),
                allowed_viewers: Some(vec!["carol".to_owned()]),
                widgets: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Operations");
    assert_eq!(updated.description, None);
    assert_eq!(updated.layout, layout);
    assert!(updated.filters.is_empty());
    assert!(updated.is_public);
    assert_eq!(updated.allowed_viewers, vec!["carol".to_owned()]);
    assert_eq!(updated.owner_id, created.owner_id);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
    assert_eq!(get(store, "t1", created.id).await.unwrap(), updated);

    let described = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                description: Patch::Value("back".to_owned()),
                ..DashboardChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(described.description.as_deref(), Some("back"));
    assert_not_found(
        store
            .update_dashboard(
                &scope("t1"),
                DashboardId::new(),
                DashboardChanges::default(),
            )
            .await,
        "update a missing dashboard",
    );
}

/// A whole-dashboard save keeps existing ids, keeps given ids for new widgets, deletes the
/// rest, and changes nothing at all when it fails.
pub async fn whole_dashboard_save_keeps_ids_and_is_atomic<S: FullStore>(store: &S) {
    let created = create(
        store,
        "t1",
        new_dashboard(
            "Board",
            Some("alice"),
            vec![widget("keep", 0, 0), widget("drop", 4, 0)],
        ),
    )
    .await;
    let other = create(
        store,
        "t1",
        new_dashboard("Other", Some("alice"), vec![widget("o", 0, 0)]),
    )
    .await;
    let keep = created
        .widgets
        .iter()
        .find(|w| w.title == "keep")
        .unwrap()
        .clone();
    let drop = created
        .widgets
        .iter()
        .find(|w| w.title == "drop")
        .unwrap()
        .clone();
    tick().await;

    let new_id = WidgetId::new();
    let mut kept = widget("kept and renamed", 2, 1);
    kept.widget_type = WidgetType::Table;
    kept.query = None;
    let saved = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                name: Some("Board v2".to_owned()),
                widgets: Some(vec![(keep.id, kept), (new_id, widget("new", 0, 0))]),
                ..DashboardChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(saved.name, "Board v2");
    let ids: Vec<WidgetId> = saved.widgets.iter().map(|w| w.id).collect();
    assert_eq!(ids, [new_id, keep.id], "kept and new ids, in display order");
    let updated = &saved.widgets[1];
    assert_eq!(updated.title, "kept and renamed");
    assert_eq!(updated.widget_type, WidgetType::Table);
    assert_eq!(updated.query, None);
    assert_eq!(
        updated.created_at, keep.created_at,
        "an updated widget keeps its created_at"
    );
    assert!(updated.updated_at > keep.updated_at);
    assert!(
        !saved.widgets.iter().any(|w| w.id == drop.id),
        "unlisted widget deleted"
    );
    assert_eq!(get(store, "t1", created.id).await.unwrap(), saved);

    // A save that would steal another dashboard's widget id fails and changes nothing.
    let stolen = other.widgets[0].id;
    assert_conflict(
        store
            .update_dashboard(
                &scope("t1"),
                created.id,
                DashboardChanges {
                    name: Some("Board v3".to_owned()),
                    widgets: Some(vec![(stolen, widget("thief", 0, 0))]),
                    ..DashboardChanges::default()
                },
            )
            .await,
        Conflict::WidgetId,
        "save with another dashboard's widget id",
    );
    assert_eq!(
        get(store, "t1", created.id).await.unwrap(),
        saved,
        "failed save changed nothing"
    );
    assert_eq!(get(store, "t1", other.id).await.unwrap(), other);

    // A save whose rename conflicts also leaves the widgets alone.
    assert_conflict(
        store
            .update_dashboard(
                &scope("t1"),
                created.id,
                DashboardChanges {
                    name: Some("Other".to_owned()),
                    widgets: Some(Vec::new()),
                    ..DashboardChanges::default()
                },
            )
            .await,
        Conflict::DashboardName,
        "save with a taken name",
    );
    assert_eq!(
        get(store, "t1", created.id).await.unwrap(),
        saved,
        "failed save changed nothing"
    );

    let emptied = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                widgets: Some(Vec::new()),
                ..DashboardChanges::default()
            },
        )
        .await
        .unwrap();
    assert!(emptied.widgets.is_empty());
}

/// Deleting a dashboard deletes its widgets and every user's pins of it.
pub async fn delete_dashboard_cascades_to_widgets_and_pins<S: FullStore>(store: &S) {
    let doomed = create(
        store,
        "t1",
        new_dashboard("Doomed", Some("alice"), vec![widget("w", 0, 0)]),
    )
    .await;
    let kept = create(store, "t1", new_dashboard("Kept", Some("alice"), vec![])).await;
    let s = scope("t1");
    for user in ["alice", "bob"] {
        store
            .pin(&s, user, PinId::new(), doomed.id, "home", None)
            .await
            .unwrap();
        store
            .pin(&s, user, PinId::new(), kept.id, "home", None)
            .await
            .unwrap();
    }
    store.delete_dashboard(&s, doomed.id).await.expect("delete");
    assert!(get(store, "t1", doomed.id).await.is_none());
    assert_not_found(store.delete_dashboard(&s, doomed.id).await, "delete twice");
    for user in ["alice", "bob"] {
        let pins = store.list_pins(&s, user, "home").await.unwrap();
        assert_eq!(pins.len(), 1, "the deleted dashboard's pin is gone");
        assert_eq!(pins[0].0.dashboard_id, kept.id);
        assert_eq!(
            pins[0].0.position, 0,
            "positions compacted after the cascade"
        );
        assert!(
            store
                .pin_contexts(&s, user, doomed.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
    // The deleted widget's id is free again.
    let reused = store
        .add_widget(
            &s,
            kept.id,
            doomed.widgets[0].id,
            widget("reused", 0, 0),
            None,
        )
        .await
        .expect("a deleted widget's id can be used again");
    assert_eq!(reused.id, doomed.widgets[0].id);
}

/// Widget operations name a dashboard and never touch another dashboard's widgets.
pub async fn widget_operations_stay_within_their_dashboard<S: FullStore>(store: &S) {
    let a = create(
        store,
        "t1",
        new_dashboard("A", Some("alice"), vec![widget("a", 0, 0)]),
    )
    .await;
    let b = create(
        store,
        "t1",
        new_dashboard("B", Some("alice"), vec![widget("b", 0, 0)]),
    )
    .await;
    let s = scope("t1");
    let wb = b.widgets[0].id;

    assert_not_found(
        store.update_widget(&s, a.id, wb, widget("x", 0, 0)).await,
        "update B's widget via A",
    );
    assert_not_found(
        store.delete_widget(&s, a.id, wb).await,
        "delete B's widget via A",
    );
    let after = store
        .update_layout(&s, a.id, &[(wb, WidgetPosition::new(5, 5, 1, 1).unwrap())])
        .await
        .unwrap();
    assert_eq!(after.widgets, a.widgets, "layout of A ignores B's widget");
    assert_eq!(
        get(store, "t1", b.id).await.unwrap().widgets,
        b.widgets,
        "B untouched"
    );

    let added = store
        .add_widget(&s, a.id, WidgetId::new(), widget("added", 0, 3), None)
        .await
        .unwrap();
    assert_conflict(
        store
            .add_widget(&s, a.id, wb, widget("dup id", 0, 0), None)
            .await,
        Conflict::WidgetId,
        "add a widget with an id in use",
    );
    let updated = store
        .update_widget(&s, a.id, added.id, widget("renamed", 4, 3))
        .await
        .unwrap();
    assert_eq!(updated.id, added.id);
    assert_eq!(updated.title, "renamed");
    assert_eq!(updated.created_at, added.created_at);
    store.delete_widget(&s, a.id, added.id).await.unwrap();
    assert_not_found(
        store.delete_widget(&s, a.id, added.id).await,
        "delete a widget twice",
    );
    assert_not_found(
        store
            .add_widget(
                &s,
                DashboardId::new(),
                WidgetId::new(),
                widget("x", 0, 0),
                None,
            )
            .await,
        "add to a missing dashboard",
    );
}

/// `add_widget` with a cap refuses the widget past it.
pub async fn widget_limit_is_enforced<S: FullStore>(store: &S) {
    let d = create(
        store,
        "t1",
        new_dashboard("D", Some("alice"), vec![widget("1", 0, 0)]),
    )
    .await;
    let s = scope("t1");
    store
        .add_widget(&s, d.id, WidgetId::new(), widget("2", 0, 3), Some(2))
        .await
        .expect("second widget within the cap");
    match store
        .add_widget(&s, d.id, WidgetId::new(), widget("3", 0, 6), Some(2))
        .await
    {
        Err(StoreError::LimitReached) => {}
        other => panic!("third widget past a cap of 2: expected LimitReached, got {other:?}"),
    }
    assert_eq!(get(store, "t1", d.id).await.unwrap().widgets.len(), 2);
}

/// `create_dashboard` with a cap counts the owner's dashboards only.
pub async fn dashboard_limit_per_owner_is_enforced<S: FullStore>(store: &S) {
    let s = scope("t1");
    for name in ["a1", "a2"] {
        store
            .create_dashboard(&s, new_dashboard(name, Some("alice"), vec![]), Some(2))
            .await
            .expect("within the cap");
    }
    match store
        .create_dashboard(&s, new_dashboard("a3", Some("alice"), vec![]), Some(2))
        .await
    {
        Err(StoreError::LimitReached) => {}
        other => panic!("third dashboard past a cap of 2: expected LimitReached, got {other:?}"),
    }
    store
        .create_dashboard(&s, new_dashboard("b1", Some("bob"), vec![]), Some(2))
        .await
        .expect("another owner has their own count");
    store
        .create_dashboard(
            &scope("t2"),
            new_dashboard("a1", Some("alice"), vec![]),
            Some(2),
        )
        .await
        .expect("another tenant has its own count");
    assert_eq!(
        store
            .list_dashboards(&s, &Viewer::Admin)
            .await
            .unwrap()
            .len(),
        3
    );
}

/// A layout update moves the listed widgets of the dashboard and skips unknown ids.
pub async fn layout_update_moves_known_widgets_only<S: FullStore>(store: &S) {
    let d = create(
        store,
        "t1",
        new_dashboard(
            "L",
            Some("alice"),
            vec![widget("first", 0, 0), widget("second", 4, 0)],
        ),
    )
    .await;
    tick().await;
    let first = d.widgets[0].id;
    let second = d.widgets[1].id;
    let moved = store
        .update_layout(
            &scope("t1"),
            d.id,
            &[
                (second, WidgetPosition::new(0, 0, 6, 2).unwrap()),
                (first, WidgetPosition::new(0, 2, 12, 4).unwrap()),
                (WidgetId::new(), WidgetPosition::new(0, 9, 1, 1).unwrap()),
            ],
        )
        .await
        .unwrap();
    let ids: Vec<WidgetId> = moved.widgets.iter().map(|w| w.id).collect();
    assert_eq!(
        ids,
        [second, first],
        "display order follows the new positions"
    );
    assert_eq!(
        moved.widgets[0].position,
        WidgetPosition::new(0, 0, 6, 2).unwrap()
    );
    assert_eq!(
        moved.widgets[1].position,
        WidgetPosition::new(0, 2, 12, 4).unwrap()
    );
    assert_eq!(moved.widgets[1].title, "first", "only the position changes");
    assert!(moved.updated_at > d.updated_at);
    assert_eq!(get(store, "t1", d.id).await.unwrap(), moved);
    assert_not_found(
        store
            .update_layout(&scope("t1"), DashboardId::new(), &[])
            .await,
        "layout of a missing dashboard",
    );
}

/// Adding, changing or deleting a widget sets the dashboard's `updated_at`.
pub async fn widget_changes_bump_dashboard_updated_at<S: FullStore>(store: &S) {
    let s = scope("t1");
    let d = create(store, "t1", new_dashboard("U", Some("alice"), vec![])).await;
    tick().await;
    let w = store
        .add_widget(&s, d.id, WidgetId::new(), widget("w", 0, 0), None)
        .await
        .unwrap();
    let after_add = get(store, "t1", d.id).await.unwrap().updated_at;
    assert!(after_add > d.updated_at, "add bumps");
    tick().await;
    store
        .update_widget(&s, d.id, w.id, widget("w2", 0, 0))
        .await
        .unwrap();
    let after_update = get(store, "t1", d.id).await.unwrap().updated_at;
    assert!(after_update > after_add, "update bumps");
    tick().await;
    store.delete_widget(&s, d.id, w.id).await.unwrap();
    assert!(
        get(store, "t1", d.id).await.unwrap().updated_at > after_update,
        "delete bumps"
    );
}

fn new_saved_query(name: &str, owner: Option<&str>, shared: bool) -> NewSavedQuery {
    NewSavedQuery {
        id: SavedQueryId::new(),
        name: name.to_owned(),
        description: Some("about".to_owned()),
        query: sample_query(),
        owner_id: owner.map(str::to_owned),
        is_shared: shared,
    }
}

/// Saved queries round-trip, list by name filtered by viewer, and update and delete.
pub async fn saved_query_round_trip_and_visibility<S: FullStore>(store: &S) {
    let s = scope("t1");
    let mine = store
        .create_saved_query(&s, new_saved_query("b mine", Some("alice"), false))
        .await
        .unwrap();
    let shared = store
        .create_saved_query(&s, new_saved_query("a shared", Some("bob"), true))
        .await
        .unwrap();
    let private = store
        .create_saved_query(&s, new_saved_query("c private", Some("bob"), false))
        .await
        .unwrap();
    let ownerless = store
        .create_saved_query(&s, new_saved_query("d nobody", None, false))
        .await
        .unwrap();

    assert_eq!(mine.tenant_id, "t1");
    assert_eq!(mine.owner_id.as_deref(), Some("alice"));
    assert_eq!(mine.query, sample_query());
    assert_eq!(mine.created_at, mine.updated_at);
    assert_eq!(
        store.get_saved_query(&s, mine.id).await.unwrap(),
        Some(mine.clone())
    );

    let names =
        |list: Vec<crate::model::SavedQuery>| list.into_iter().map(|q| q.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            store
                .list_saved_queries(&s, &Viewer::User("alice".to_owned()))
                .await
                .unwrap()
        ),
        ["a shared", "b mine", "d nobody"]
    );
    assert_eq!(
        names(
            store
                .list_saved_queries(&s, &Viewer::Anonymous)
                .await
                .unwrap()
        ),
        ["a shared", "d nobody"]
    );
    assert_eq!(
        store
            .list_saved_queries(&s, &Viewer::Admin)
            .await
            .unwrap()
            .len(),
        4
    );
    let _ = (private, ownerless, shared);

    tick().await;
    let updated = store
        .update_saved_query(
            &s,
            mine.id,
            SavedQueryChanges {
                name: Some("b renamed".to_owned()),
                description: Patch::Null,
                query: None,
                is_shared: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "b renamed");
    assert_eq!(updated.description, None);
    assert_eq!(updated.query, mine.query, "absent query unchanged");
    assert!(updated.is_shared);
    assert_eq!(updated.created_at, mine.created_at);
    assert!(updated.updated_at > mine.updated_at);

    store.delete_saved_query(&s, mine.id).await.unwrap();
    assert!(store.get_saved_query(&s, mine.id).await.unwrap().is_none());
    assert_not_found(store.delete_saved_query(&s, mine.id).await, "delete twice");
    assert_not_found(
        store
            .update_saved_query(&s, mine.id, SavedQueryChanges::default())
            .await,
        "update a deleted saved query",
    );
}

/// Saved-query names are unique per tenant.
pub async fn saved_query_names_are_unique_per_tenant<S: FullStore>(store: &S) {
    let s = scope("t1");
    store
        .create_saved_query(&s, new_saved_query("Revenue", Some("alice"), false))
        .await
        .unwrap();
    let other = store
        .create_saved_query(&s, new_saved_query("Costs", Some("alice"), false))
        .await
        .unwrap();
    assert_conflict(
        store
            .create_saved_query(&s, new_saved_query("Revenue", Some("bob"), false))
            .await,
        Conflict::SavedQueryName,
        "create with a taken name",
    );
    assert_conflict(
        store
            .update_saved_query(
                &s,
                other.id,
                SavedQueryChanges {
                    name: Some("Revenue".to_owned()),
                    ..SavedQueryChanges::default()
                },
            )
            .await,
        Conflict::SavedQueryName,
        "rename to a taken name",
    );
    store
        .create_saved_query(
            &scope("t2"),
            new_saved_query("Revenue", Some("alice"), false),
        )
        .await
        .expect("the name is free in another tenant");
}

async fn pinned_order<S: FullStore>(
    store: &S,
    user: &str,
    context: &str,
) -> Vec<(DashboardId, u32)> {
    store
        .list_pins(&scope("t1"), user, context)
        .await
        .unwrap()
        .into_iter()
        .map(|(pin, dashboard)| {
            assert_eq!(
                pin.dashboard_id, dashboard.id,
                "each pin comes with its dashboard"
            );
            (pin.dashboard_id, pin.position)
        })
        .collect()
}

/// Pin positions are always `0..n-1`: append, insert, clamp, compact on unpin.
pub async fn pin_positions_stay_compact<S: FullStore>(store: &S) {
    let s = scope("t1");
    let mut ids = Vec::new();
    for name in ["p0", "p1", "p2", "p3"] {
        ids.push(
            create(store, "t1", new_dashboard(name, Some("alice"), vec![]))
                .await
                .id,
        );
    }
    let first = store
        .pin(&s, "alice", PinId::new(), ids[0], "home", None)
        .await
        .unwrap();
    assert_eq!(
        (first.dashboard_id, first.context.as_str(), first.position),
        (ids[0], "home", 0)
    );
    store
        .pin(&s, "alice", PinId::new(), ids[1], "home", None)
        .await
        .unwrap();
    let inserted = store
        .pin(&s, "alice", PinId::new(), ids[2], "home", Some(0))
        .await
        .unwrap();
    assert_eq!(inserted.position, 0, "explicit position honoured");
    let clamped = store
        .pin(&s, "alice", PinId::new(), ids[3], "home", Some(99))
        .await
        .unwrap();
    assert_eq!(clamped.position, 3, "a position past the end is clamped");
    assert_eq!(
        pinned_order(store, "alice", "home").await,
        [(ids[2], 0), (ids[0], 1), (ids[1], 2), (ids[3], 3)]
    );

    assert_conflict(
        store
            .pin(&s, "alice", PinId::new(), ids[0], "home", None)
            .await,
        Conflict::Pin,
        "pin twice",
    );
    assert_not_found(
        store
            .pin(&s, "alice", PinId::new(), DashboardId::new(), "home", None)
            .await,
        "pin a missing dashboard",
    );

    store.unpin(&s, "alice", ids[0], "home").await.unwrap();
    assert_eq!(
        pinned_order(store, "alice", "home").await,
        [(ids[2], 0), (ids[1], 1), (ids[3], 2)],
        "unpin closes the gap"
    );
    assert_not_found(
        store.unpin(&s, "alice", ids[0], "home").await,
        "unpin twice",
    );
}

/// Pins belong to one user and one context.
pub async fn pins_are_scoped_per_user_and_context<S: FullStore>(store: &S) {
    let s = scope("t1");
    let d = create(store, "t1", new_dashboard("D", Some("alice"), vec![])).await;
    let e = create(store, "t1", new_dashboard("E", Some("alice"), vec![])).await;
    store
        .pin(&s, "alice", PinId::new(), d.id, "home", None)
        .await
        .unwrap();
    store
        .pin(&s, "alice", PinId::new(), d.id, "accounts", None)
        .await
        .unwrap();
    store
        .pin(&s, "bob", PinId::new(), e.id, "home", None)
        .await
        .unwrap();

    assert_eq!(pinned_order(store, "alice", "home").await, [(d.id, 0)]);
    assert_eq!(pinned_order(store, "bob", "home").await, [(e.id, 0)]);
    assert!(pinned_order(store, "carol", "home").await.is_empty());
    assert_eq!(
        store.pin_contexts(&s, "alice", d.id).await.unwrap(),
        ["accounts".to_owned(), "home".to_owned()]
    );
    assert!(
        store
            .pin_contexts(&s, "bob", d.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(
        store.unpin(&s, "bob", d.id, "home").await,
        "unpin another user's pin",
    );
    assert!(
        store
            .list_pins(&scope("t2"), "alice", "home")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Reordering gives the listed dashboards the first positions, keeps the others in order after
/// them, and ignores ids that are not pinned there.
pub async fn reorder_pins_puts_listed_first<S: FullStore>(store: &S) {
    let s = scope("t1");
    let mut ids = Vec::new();
    for name in ["r0", "r1", "r2", "r3"] {
        let id = create(store, "t1", new_dashboard(name, Some("alice"), vec![]))
            .await
            .id;
        store
            .pin(&s, "alice", PinId::new(), id, "home", None)
            .await
            .unwrap();
        ids.push(id);
    }
    store
        .reorder_pins(&s, "alice", "home", &[ids[3], DashboardId::new(), ids[1]])
        .await
        .unwrap();
    assert_eq!(
        pinned_order(store, "alice", "home").await,
        [(ids[3], 0), (ids[1], 1), (ids[0], 2), (ids[2], 3)]
    );
    store
        .reorder_pins(&s, "alice", "empty", &[ids[0]])
        .await
        .expect("reorder an empty context");
    store
        .reorder_pins(&s, "bob", "home", &[ids[0]])
        .await
        .unwrap();
    assert_eq!(
        pinned_order(store, "alice", "home").await[0],
        (ids[3], 0),
        "bob's reorder touches only bob"
    );
}

/// A [`DataSource`](crate::DataSource) with a fixed schema, for testing the schema operations
/// without a database. It knows the schemas it was given; executing anything fails.
#[derive(Debug, Clone, Default)]
pub struct StaticDataSource {
    schemas: std::collections::BTreeMap<String, crate::schema::DatabaseSchema>,
}

impl StaticDataSource {
    /// A source with one schema.
    pub fn new(name: &str, schema: crate::schema::DatabaseSchema) -> Self {
        Self::default().with_schema(name, schema)
    }

    /// Adds a schema.
    pub fn with_schema(mut self, name: &str, schema: crate::schema::DatabaseSchema) -> Self {
        self.schemas.insert(name.to_owned(), schema);
        self
    }
}

#[async_trait::async_trait]
impl crate::source::DataSource for StaticDataSource {
    async fn introspect(
        &self,
        schema: &str,
    ) -> Result<crate::schema::DatabaseSchema, crate::source::SourceError> {
        Ok(self.schemas.get(schema).cloned().unwrap_or_default())
    }

    async fn schema_exists(&self, schema: &str) -> Result<bool, crate::source::SourceError> {
        Ok(self.schemas.contains_key(schema))
    }

    async fn execute(
        &self,
        _context: &crate::source::ExecutionContext,
        _query: &crate::source::CompiledQuery,
    ) -> Result<crate::source::QueryResult, crate::source::SourceError> {
        Err(crate::source::SourceError::Rejected(
            "StaticDataSource does not execute queries".to_owned(),
        ))
    }

    async fn ping(&self) -> Result<(), crate::source::SourceError> {
        Ok(())
    }
}

/// A small two-table schema (`customers`, `orders` with a foreign key) in schema `schema`.
pub fn small_schema(schema: &str) -> crate::schema::DatabaseSchema {
    use crate::schema::{ColumnSchema, DatabaseSchema, Relationship, TableSchema};
    let column = |name: &str, data_type: &str, pk: bool| ColumnSchema {
        name: name.to_owned(),
        data_type: data_type.to_owned(),
        is_nullable: !pk,
        is_primary_key: pk,
        default_value: None,
    };
    DatabaseSchema {
        tables: vec![
            TableSchema {
                name: "customers".to_owned(),
                schema_name: schema.to_owned(),
                columns: vec![
                    column("id", "integer", true),
                    column("name", "character varying", false),
                    column("email", "character varying", false),
                    column("region", "character varying", false),
                ],
                row_count: Some(500),
            },
            TableSchema {
                name: "orders".to_owned(),
                schema_name: schema.to_owned(),
                columns: vec![
                    column("id", "integer", true),
                    column("customer_id", "integer", false),
                    column("order_date", "date", false),
                    column("total_amount", "numeric", false),
                ],
                row_count: Some(3000),
            },
        ],
        relationships: vec![Relationship {
            from_table: "orders".to_owned(),
            from_column: "customer_id".to_owned(),
            to_table: "customers".to_owned(),
            to_column: "id".to_owned(),
        }],
    }
}
