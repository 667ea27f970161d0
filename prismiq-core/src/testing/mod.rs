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

mod dashboards;
mod defaults;
mod documents;
mod events;
mod pins;
mod properties;
mod saved_queries;
mod shares;
mod source;
mod templates;
mod versions;
mod widgets;

pub use dashboards::{
    dashboard_limit_per_owner_is_enforced, dashboard_list_filters_by_viewer_and_orders_by_update,
    dashboard_names_are_unique_per_tenant, dashboard_round_trip,
    dashboard_update_applies_only_given_fields, delete_dashboard_cascades_to_widgets_and_pins,
    tenants_are_isolated, whole_dashboard_save_keeps_ids_and_is_atomic,
};
pub use defaults::{
    create_default_creates_once, defaults_are_per_user_and_tenant,
    host_widgets_and_refresh_interval_round_trip, summaries_page_through_what_the_viewer_sees,
};
pub use documents::dashboard_json_is_the_serialized_dashboard;
pub use events::{
    EngineStore, dashboard_access_is_the_access_fields, each_change_emits_one_event,
    events_reach_only_who_may_see_them, notifications_reach_exactly_their_audience,
    resume_replays_or_resets, slow_subscribers_are_cut_off_and_connections_limited,
};
pub use pins::{
    pin_positions_stay_compact, pins_are_scoped_per_user_and_context,
    reorder_pins_puts_listed_first,
};
pub use properties::{documents_are_the_serialized_dashboards, listings_are_exactly_the_view_rule};
pub use saved_queries::{
    saved_query_names_are_unique_per_tenant, saved_query_round_trip_and_visibility,
};
pub use shares::{
    share_fields_round_trip_exactly, shares_belong_to_a_dashboard_of_the_tenant, shares_round_trip,
};
pub use source::{StaticDataSource, small_schema};
pub use templates::templates_round_trip_per_tenant;
pub use versions::{every_change_makes_one_version, restore_expected_versions_and_retention};
pub use widgets::{
    layout_update_moves_known_widgets_only, widget_changes_bump_dashboard_updated_at,
    widget_limit_is_enforced, widget_operations_stay_within_their_dashboard,
};

/// A store implementing every store trait.
pub trait FullStore:
    DashboardStore + SavedQueryStore + PinStore + crate::store::TemplateStore + crate::store::ShareStore
{
}
impl<T> FullStore for T where
    T: DashboardStore
        + SavedQueryStore
        + PinStore
        + crate::store::TemplateStore
        + crate::store::ShareStore
{
}

/// Stamps one `#[tokio::test]` per conformance case, each on a fresh store made by the given
/// async function (`async fn() -> impl FullStore + SchemaConfigStore`). The live-event cases
/// run an [`Engine`](crate::Engine) over the store.
#[macro_export]
#[cfg_attr(docsrs, doc(cfg(feature = "test-utils")))]
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
            listings_are_exactly_the_view_rule,
            documents_are_the_serialized_dashboards,
            host_widgets_and_refresh_interval_round_trip,
            defaults_are_per_user_and_tenant,
            create_default_creates_once,
            summaries_page_through_what_the_viewer_sees,
            templates_round_trip_per_tenant,
            shares_round_trip,
            share_fields_round_trip_exactly,
            shares_belong_to_a_dashboard_of_the_tenant,
            dashboard_access_is_the_access_fields,
        );
        $crate::store_conformance!(@engine_cases $make;
            each_change_emits_one_event,
            events_reach_only_who_may_see_them,
            resume_replays_or_resets,
            slow_subscribers_are_cut_off_and_connections_limited,
            notifications_reach_exactly_their_audience,
            every_change_makes_one_version,
            restore_expected_versions_and_retention,
        );
    };
    (@engine_cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                $crate::testing::$case($make().await).await;
            }
        )*
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
        }
        .into(),
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
        refresh_interval: None,
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
    let body: serde_json::Value =
        serde_json::from_str(&DashboardJson::list_body(&documents)).expect("the list body is JSON");
    assert_eq!(
        body,
        json!({ "dashboards": dashboards }),
        "the list body is the listed dashboards, serialized"
    );
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
