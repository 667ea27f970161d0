//! Property cases: randomised inputs, run against every store.
//!
//! - The view rule: whatever dashboards and saved queries exist (owners, viewers, public and
//!   shared flags, several tenants), what a store lists for a caller is exactly what
//!   [`permissions`](crate::permissions) allows that caller, in the caller's tenant only.
//! - The wire shape: whatever a dashboard holds (every widget type, nulls, unicode and escapes,
//!   any subset of the config keys), the JSON document a store serves for it is the typed
//!   dashboard serialized.
//!
//! The inputs come from a seeded generator: `PRISMIQ_PROPERTY_SEED` replays a failing run
//! (every failure names its seed), `PRISMIQ_PROPERTY_ROUNDS` runs more rounds.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::auth::SimpleAuthContext;
use crate::model::SavedQuery;
use crate::permissions;

/// A small, seeded pseudo-random generator (xorshift64*): reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn from_env() -> (Self, u64) {
        let seed = std::env::var("PRISMIQ_PROPERTY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        (Self(seed | 1), seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

fn rounds() -> usize {
    std::env::var("PRISMIQ_PROPERTY_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// Who asks: users, a user of another tenant's name, no user, an empty user id, admins.
fn callers(tenant: &str) -> Vec<SimpleAuthContext> {
    let mut callers: Vec<SimpleAuthContext> = USERS
        .iter()
        .map(|user| SimpleAuthContext::new(tenant).with_user(*user))
        .collect();
    callers.push(SimpleAuthContext::new(tenant));
    callers.push(SimpleAuthContext::new(tenant).with_user(""));
    callers.push(SimpleAuthContext::new(tenant).with_admin(true));
    callers.push(
        SimpleAuthContext::new(tenant)
            .with_user("erin")
            .with_admin(true),
    );
    callers
}

/// Listing dashboards and saved queries gives each caller exactly what the permission rules
/// allow, in its own tenant, for random owners, viewers and flags.
pub async fn listings_are_exactly_the_view_rule<S: FullStore>(store: &S) {
    let (mut rng, seed) = Rng::from_env();
    for round in 0..rounds() {
        let tenants = [format!("view-{round}-a"), format!("view-{round}-b")];
        let mut dashboards: Vec<(String, Dashboard)> = Vec::new();
        let mut queries: Vec<(String, SavedQuery)> = Vec::new();
        for i in 0..10 {
            let tenant = rng.pick(&tenants);
            let owner = rng.chance(80).then(|| rng.pick(&USERS));
            let mut new = new_dashboard(&format!("d{i}"), owner, Vec::new());
            new.is_public = rng.chance(25);
            new.allowed_viewers = USERS
                .iter()
                .filter(|_| rng.chance(30))
                .map(|user| (*user).to_owned())
                .collect();
            if rng.chance(10) {
                new.allowed_viewers.push(String::new());
            }
            dashboards.push((tenant.clone(), create(store, &tenant, new).await));

            let tenant = rng.pick(&tenants);
            let owner = rng.chance(80).then(|| rng.pick(&USERS));
            let query = store
                .create_saved_query(
                    &scope(&tenant),
                    new_saved_query(&format!("q{i}"), owner, rng.chance(40)),
                )
                .await
                .expect("create saved query");
            queries.push((tenant, query));
        }
        for tenant in &tenants {
            for caller in callers(tenant) {
                let viewer = Viewer::of(&caller);
                let expected: BTreeSet<DashboardId> = dashboards
                    .iter()
                    .filter(|(t, d)| t == tenant && permissions::can_view_dashboard(&caller, d))
                    .map(|(_, d)| d.id)
                    .collect();
                let listed: Vec<DashboardId> = list(store, &scope(tenant), &viewer)
                    .await
                    .iter()
                    .map(|d| d.id)
                    .collect();
                assert_eq!(
                    listed.iter().copied().collect::<BTreeSet<_>>(),
                    expected,
                    "dashboards listed for {caller:?} (seed {seed})"
                );
                assert_eq!(listed.len(), expected.len(), "no duplicates (seed {seed})");

                let expected: BTreeSet<SavedQueryId> = queries
                    .iter()
                    .filter(|(t, q)| t == tenant && permissions::can_read_saved_query(&caller, q))
                    .map(|(_, q)| q.id)
                    .collect();
                let listed: BTreeSet<SavedQueryId> = store
                    .list_saved_queries(&scope(tenant), &viewer)
                    .await
                    .expect("list saved queries")
                    .iter()
                    .map(|q| q.id)
                    .collect();
                assert_eq!(
                    listed, expected,
                    "saved queries listed for {caller:?} (seed {seed})"
                );
            }
        }
    }
}

/// Strings that JSON and SQL each treat specially, and text outside ASCII.
const TEXTS: [&str; 10] = [
    "Sales",
    "Ventes – été",
    "売上 📈",
    "quote \" and backslash \\",
    "new\nline\ttab",
    "<script>alert(1)</script>",
    "'; drop table dashboards; --",
    "\u{7f}\u{1b}[0m control",
    "",
    "%_ wildcards",
];

fn text(rng: &mut Rng) -> String {
    rng.pick(&TEXTS).to_owned()
}

fn maybe_text(rng: &mut Rng) -> Value {
    if rng.chance(30) {
        Value::Null
    } else {
        json!(text(rng))
    }
}

/// A config with a random subset of the 34 keys, each with a value of its type.
fn config(rng: &mut Rng, with_query: bool) -> WidgetConfig {
    let mut keys = serde_json::Map::new();
    let mut set = |rng: &mut Rng, key: &str, value: Value| {
        if rng.chance(40) {
            keys.insert(key.to_owned(), value);
        }
    };
    for key in [
        "x_axis",
        "series_column",
        "orientation",
        "valueFormat",
        "currencySymbol",
        "compactNotation",
        "format",
        "trend_comparison",
        "trendPeriod",
        "trendDateColumn",
        "pivot_column",
        "value_column",
        "content",
        "alignment",
        "fontSize",
    ] {
        let value = json!(text(rng));
        set(rng, key, value);
    }
    for key in [
        "stacked",
        "show_legend",
        "show_data_labels",
        "sortable",
        "markdown",
        "showTrend",
    ] {
        let value = json!(rng.chance(50));
        set(rng, key, value);
    }
    for key in ["max_series", "decimalDigits", "page_size"] {
        let value = json!(rng.below(1000));
        set(rng, key, value);
    }
    let value = json!([text(rng), text(rng)]);
    set(rng, "y_axis", value);
    let value = json!(["#ff0000", text(rng)]);
    set(rng, "colors", value);
    let value = json!([{"value": rng.below(100), "label": text(rng), "color": null}]);
    set(rng, "referenceLines", value);
    let value = json!({"column": text(rng), "enabled": true});
    set(rng, "cross_filter", value);
    let value = json!({"total": {"type": "currency", "decimals": 2, "label": text(rng)}});
    set(rng, "columnFormats", value);
    let value = json!({"created_at": text(rng)});
    set(rng, "dateFormats", value);
    let value = json!(1 + rng.below(12));
    set(rng, "fiscalYearStartMonth", value);
    let value = json!(rng.pick(&["guided", "advanced", "saved", "sql"]));
    set(rng, "data_source_mode", value);
    let value = json!({"url": format!("https://example.com/{}", rng.below(9)),
                       "title": maybe_text(rng),
                       "target": rng.pick(&[json!("_blank"), json!("_self"), Value::Null])});
    set(rng, "hyperlink", value);
    if !with_query {
        let value = json!(format!("select 1 -- {}", text(rng)));
        set(rng, "raw_sql", value);
    }
    serde_json::from_value(Value::Object(keys)).expect("a valid widget config")
}

fn random_query(rng: &mut Rng) -> QueryDefinition {
    let mut query = json!({
        "tables": [{"id": "t1", "name": "orders", "alias": rng.pick(&[Value::Null, json!("o")])}],
        "columns": [{"table_id": "t1", "column": "total_amount",
                     "aggregation": rng.pick(&["none", "sum", "count"]),
                     "alias": maybe_text(rng)}]
    });
    if rng.chance(50) {
        query["filters"] = json!([{"table_id": "t1", "column": "status", "operator": "in_",
                                   "value": [text(rng), null, 1.5]}]);
    }
    if rng.chance(30) {
        query["time_series"] = json!({"table_id": "t1", "date_column": "order_date",
                                      "interval": "month", "fill_value": null});
    }
    if rng.chance(30) {
        query["calculated_fields"] =
            json!([{"name": text(rng) + "x", "expression": "[total_amount] * 2"}]);
        query["limit"] = json!(rng.below(100));
    }
    serde_json::from_value(query).expect("a valid query")
}

fn random_dashboard(rng: &mut Rng, name: String) -> NewDashboard {
    let columns = 1 + rng.below(24) as u32;
    let widget_types = [
        WidgetType::Metric,
        WidgetType::BarChart,
        WidgetType::LineChart,
        WidgetType::AreaChart,
        WidgetType::PieChart,
        WidgetType::ScatterChart,
        WidgetType::Table,
        WidgetType::Text,
    ];
    let widgets = (0..rng.below(6))
        .map(|_| {
            let with_query = rng.chance(60);
            let w = 1 + rng.below(columns as usize) as u32;
            let x = rng.below((columns - w + 1) as usize) as u32;
            WidgetContent {
                widget_type: rng.pick(&widget_types),
                title: text(rng),
                query: with_query.then(|| random_query(rng)),
                position: WidgetPosition::new(x, rng.below(40) as u32, w, 1 + rng.below(8) as u32)
                    .expect("a valid position"),
                config: config(rng, with_query).into(),
            }
        })
        .collect();
    let mut filters = Vec::new();
    for i in 0..rng.below(3) {
        let defaults = [
            Value::Null,
            json!(text(rng)),
            json!([1, "two"]),
            json!({"start": "2024-01-01"}),
        ];
        let options = [
            Value::Null,
            json!([{"value": text(rng), "label": text(rng)}]),
        ];
        let filter = json!({
            "id": format!("f{i}"),
            "type": rng.pick(&["date_range", "select", "multi_select", "text", "number_range"]),
            "label": text(rng),
            "field": text(rng),
            "table": maybe_text(rng),
            "default_value": rng.pick(&defaults),
            "options": rng.pick(&options),
            "date_preset": maybe_text(rng),
            "dynamic": rng.pick(&[Value::Null, json!(true), json!(false)]),
        });
        filters.push(serde_json::from_value(filter).expect("a valid filter"));
    }
    let mut new = new_dashboard(&name, rng.chance(80).then(|| rng.pick(&USERS)), widgets);
    new.description = rng.chance(60).then(|| text(rng));
    new.layout = DashboardLayout {
        columns,
        row_height: 1 + rng.below(200) as u32,
        margin: [rng.below(30) as u32, rng.below(30) as u32],
        compact_type: {
            let choices = [None, Some("vertical".to_owned()), Some(text(rng))];
            rng.pick(&choices)
        },
    };
    new.filters = filters;
    new.is_public = rng.chance(30);
    new.allowed_viewers = Vec::new();
    for user in USERS {
        if rng.chance(30) {
            new.allowed_viewers.push(format!("{user} {}", text(rng)));
        }
    }
    new
}

/// The JSON document a store serves for a dashboard, alone and in the list, is the typed
/// dashboard serialized, for random dashboards.
pub async fn documents_are_the_serialized_dashboards<S: FullStore>(store: &S) {
    let (mut rng, seed) = Rng::from_env();
    let tenant = "documents";
    for round in 0..rounds() * 4 {
        let name = format!("{round} {}", text(&mut rng));
        let new = random_dashboard(&mut rng, name);
        let created = create(store, tenant, new).await;
        let document = store
            .get_dashboard_json(&scope(tenant), created.id)
            .await
            .expect("get dashboard as JSON")
            .expect("the dashboard exists");
        let served: Value = serde_json::from_str(document.as_str())
            .unwrap_or_else(|e| panic!("the document is JSON (seed {seed}): {e}"));
        let typed = get(store, tenant, created.id).await.expect("it exists");
        assert_eq!(
            served,
            serde_json::to_value(&typed).expect("a dashboard serializes"),
            "dashboard document (seed {seed})"
        );
        assert_eq!(typed, created, "read back as created (seed {seed})");
    }
    // The list serves the same documents (checked by `list` against the typed list).
    let listed = list(store, &scope(tenant), &Viewer::Admin).await;
    assert_eq!(listed.len(), rounds() * 4, "seed {seed}");
}
