//! Migration from the original Python server: its four tables, created from its documented DDL
//! in a schema of a throwaway database, with rows covering its quirks, migrated into a
//! PostgreSQL store and into a SQLite store.

use chrono::{DateTime, Utc};
use prismiq_core::{
    DashboardStore, Engine, PinStore, SavedQueryStore, Scope, SimpleAuthContext,
    permissions::Viewer,
};
use prismiq_store_postgres::PostgresStore;
use prismiq_store_postgres::migrate::{
    MigrateError, MigrationLedger, MigrationReport, Migrator, PgLedger, RecordKind, SqliteLedger,
};
use prismiq_store_postgres::sqlx::{self, PgPool};
use prismiq_store_postgres::testing::{TestDatabase, fresh_database};
use prismiq_store_sqlite::SqliteStore;
use serde_json::{Value, json};

/// The original's tables, as its `schema.sql` creates them (wire contract §4), in `legacy`.
const ORIGINAL_DDL: &str = r#"
create schema legacy;
set search_path = legacy;
create table prismiq_dashboards (
    id serial primary key,
    tenant_id varchar(255) not null,
    name varchar(255) not null,
    description text,
    layout jsonb not null default '{"columns": 12, "rowHeight": 50, "margin": [10, 10]}',
    filters jsonb not null default '[]',
    owner_id varchar(255),
    is_public boolean not null default false,
    allowed_viewers text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint unique_dashboard_name_per_tenant unique (tenant_id, name)
);
create index idx_dashboards_tenant_id on prismiq_dashboards (tenant_id);
create index idx_dashboards_owner_id on prismiq_dashboards (tenant_id, owner_id);
create table prismiq_widgets (
    id serial primary key,
    dashboard_id integer not null references prismiq_dashboards (id) on delete cascade,
    type varchar(50),
    title varchar(255),
    query jsonb,
    position jsonb not null,
    config jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index idx_widgets_dashboard_id on prismiq_widgets (dashboard_id);
create table prismiq_saved_queries (
    id serial primary key,
    tenant_id varchar(255) not null,
    name varchar(255) not null,
    description text,
    query jsonb not null,
    owner_id varchar(255),
    is_shared boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint unique_query_name_per_tenant unique (tenant_id, name)
);
create index idx_saved_queries_tenant on prismiq_saved_queries (tenant_id);
create table prismiq_pinned_dashboards (
    id serial primary key,
    tenant_id varchar(255) not null,
    user_id varchar(255) not null,
    dashboard_id integer not null references prismiq_dashboards (id) on delete cascade,
    context varchar(100) not null,
    position integer not null default 0,
    pinned_at timestamptz not null default now(),
    constraint unique_pin_per_context unique (tenant_id, user_id, dashboard_id, context)
);
create index idx_pins_tenant_user_context on prismiq_pinned_dashboards (tenant_id, user_id, context);
create index idx_pins_dashboard on prismiq_pinned_dashboards (dashboard_id);
reset search_path;
"#;

/// A query as the original stored it: the full model dump.
fn query(table: &str) -> Value {
    json!({
        "tables": [{"id": "t1", "name": table, "alias": null}],
        "joins": [],
        "columns": [
            {"table_id": "t1", "column": "region", "aggregation": "none", "alias": null,
             "date_trunc": null, "date_format": null, "sql_expression": null},
            {"table_id": "t1", "column": "total", "aggregation": "sum", "alias": "total",
             "date_trunc": null, "date_format": null, "sql_expression": null}
        ],
        "filters": [],
        "group_by": [],
        "order_by": [],
        "limit": null,
        "offset": null,
        "time_series": null,
        "calculated_fields": []
    })
}

/// The filter of dashboard 1, as the original stored and served it.
fn date_filter() -> Value {
    json!({"id": "f1", "type": "date_range", "label": "Date", "field": "created_at",
           "table": "orders", "default_value": null, "options": null,
           "date_preset": "last_30_days", "dynamic": null})
}

/// A widget config as the original served it: all 34 keys, `null` unless set.
fn full_config(set: &Value) -> Value {
    let mut config = serde_json::Map::new();
    for key in [
        "x_axis",
        "y_axis",
        "series_column",
        "max_series",
        "orientation",
        "stacked",
        "show_legend",
        "show_data_labels",
        "colors",
        "valueFormat",
        "currencySymbol",
        "compactNotation",
        "decimalDigits",
        "referenceLines",
        "cross_filter",
        "format",
        "trend_comparison",
        "trendPeriod",
        "trendDateColumn",
        "page_size",
        "sortable",
        "pivot_column",
        "value_column",
        "columnFormats",
        "dateFormats",
        "fiscalYearStartMonth",
        "content",
        "markdown",
        "alignment",
        "fontSize",
        "raw_sql",
        "data_source_mode",
        "hyperlink",
        "showTrend",
    ] {
        config.insert(key.to_owned(), set.get(key).cloned().unwrap_or(Value::Null));
    }
    Value::Object(config)
}

/// Dashboard 1's widgets: (id, type, title, query, position, stored config).
fn sales_widgets() -> Vec<(i32, &'static str, &'static str, Value, Value, Value)> {
    vec![
        (
            1,
            "bar_chart",
            "By region",
            query("orders"),
            // The client keeps minW in position; the original dropped it when serving.
            json!({"x": 0, "y": 0, "w": 6, "h": 4, "minW": 2}),
            json!({"x_axis": "region", "y_axis": ["total"], "valueFormat": "currency",
                   "legacyColor": "red"}),
        ),
        (
            2,
            "text",
            "Notes",
            Value::Null,
            json!({"x": 6, "y": 0, "w": 6, "h": 2}),
            json!({"content": "Hello", "markdown": true}),
        ),
        (
            3,
            "metric",
            "Custom SQL",
            Value::Null,
            json!({"x": 0, "y": 4, "w": 3, "h": 2}),
            json!({"data_source_mode": "sql", "raw_sql": "select count(*) from orders"}),
        ),
    ]
}

/// Fills the original's tables: two tenants, every quirk the migration handles.
async fn seed(pool: &PgPool) {
    sqlx::raw_sql(ORIGINAL_DDL).execute(pool).await.unwrap();
    let layout =
        json!({"columns": 12, "row_height": 60, "margin": [16, 16], "compact_type": "vertical"});
    let insert_dashboard = "insert into legacy.prismiq_dashboards \
        (id, tenant_id, name, description, layout, filters, owner_id, is_public, allowed_viewers) \
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    for (id, tenant, name, description, layout, filters, owner, public, viewers) in [
        (
            1,
            "acme",
            "Sales",
            Some("Revenue by region"),
            layout.clone(),
            json!([date_filter()]),
            Some("alice"),
            false,
            vec!["bob"],
        ),
        // Bad widget: the whole dashboard is skipped.
        (
            3,
            "acme",
            "Broken",
            None,
            layout.clone(),
            json!([]),
            Some("alice"),
            false,
            vec![],
        ),
        // Layout edited with the column default's camelCase key, which the original ignored.
        (
            4,
            "acme",
            "Camel",
            None,
            json!({"columns": 12, "rowHeight": 80}),
            json!([]),
            Some("alice"),
            false,
            vec![],
        ),
        // Same name as acme's: tenants are separate.
        (
            5,
            "globex",
            "Sales",
            None,
            layout.clone(),
            json!([]),
            Some("carol"),
            false,
            vec![],
        ),
    ] {
        sqlx::query(insert_dashboard)
            .bind(id)
            .bind(tenant)
            .bind(name)
            .bind(description)
            .bind(layout)
            .bind(filters)
            .bind(owner)
            .bind(public)
            .bind(viewers)
            .execute(pool)
            .await
            .unwrap();
    }
    // The column defaults: layout with `rowHeight`, no owner, public.
    sqlx::query(
        "insert into legacy.prismiq_dashboards (id, tenant_id, name, is_public) \
         values (2, 'acme', 'Ops', true)",
    )
    .execute(pool)
    .await
    .unwrap();
    let insert_widget = "insert into legacy.prismiq_widgets \
        (id, dashboard_id, type, title, query, position, config) values ($1, $2, $3, $4, $5, $6, $7)";
    let mut widgets: Vec<(i32, i32, &str, &str, Value, Value, Value)> = sales_widgets()
        .into_iter()
        .map(|(id, t, title, q, p, c)| (id, 1, t, title, q, p, c))
        .collect();
    widgets.extend([
        (
            4,
            3,
            "text",
            "Fine",
            Value::Null,
            json!({"x": 0, "y": 0, "w": 4, "h": 2}),
            json!({"content": "ok"}),
        ),
        (
            5,
            3,
            "bar_chart",
            "Bad month",
            query("orders"),
            json!({"x": 4, "y": 0, "w": 6, "h": 4}),
            json!({"fiscalYearStartMonth": 13}),
        ),
        (
            6,
            5,
            "table",
            "Orders",
            query("orders"),
            json!({"x": 0, "y": 0, "w": 12, "h": 4}),
            json!({"page_size": 25}),
        ),
    ]);
    for (id, dashboard, widget_type, title, q, position, config) in widgets {
        sqlx::query(insert_widget)
            .bind(id)
            .bind(dashboard)
            .bind(widget_type)
            .bind(title)
            .bind(if q.is_null() { None } else { Some(q) })
            .bind(position)
            .bind(config)
            .execute(pool)
            .await
            .unwrap();
    }
    // A widget whose dashboard is gone (a damaged database, without its foreign key).
    sqlx::raw_sql(
        "alter table legacy.prismiq_widgets drop constraint prismiq_widgets_dashboard_id_fkey;
         insert into legacy.prismiq_widgets (id, dashboard_id, type, title, position)
         values (7, 999, 'text', 'Orphan', '{\"x\":0,\"y\":0,\"w\":4,\"h\":2}');",
    )
    .execute(pool)
    .await
    .unwrap();
    let insert_query = "insert into legacy.prismiq_saved_queries \
        (id, tenant_id, name, description, query, owner_id, is_shared) values ($1, $2, $3, $4, $5, $6, $7)";
    for (id, tenant, name, description, q, owner, shared) in [
        (
            1,
            "acme",
            "Top regions",
            Some("Best first"),
            query("orders"),
            Some("alice"),
            true,
        ),
        (
            2,
            "globex",
            "Top regions",
            None,
            query("orders"),
            Some("carol"),
            false,
        ),
        (
            3,
            "acme",
            "Malformed",
            None,
            json!({"columns": "nope"}),
            Some("alice"),
            false,
        ),
    ] {
        sqlx::query(insert_query)
            .bind(id)
            .bind(tenant)
            .bind(name)
            .bind(description)
            .bind(q)
            .bind(owner)
            .bind(shared)
            .execute(pool)
            .await
            .unwrap();
    }
    // alice's "home" list is Sales, Ops (positions 0, 1, inserted in the other order), then the
    // broken dashboard; the original allowed gaps.
    for (id, tenant, user, dashboard, position) in [
        (1, "acme", "alice", 2, 5),
        (2, "acme", "alice", 1, 0),
        (3, "acme", "alice", 3, 9),
        (4, "globex", "carol", 5, 0),
    ] {
        sqlx::query(
            "insert into legacy.prismiq_pinned_dashboards \
             (id, tenant_id, user_id, dashboard_id, context, position) values ($1, $2, $3, $4, 'home', $5)",
        )
        .bind(id)
        .bind(tenant)
        .bind(user)
        .bind(dashboard)
        .bind(position)
        .execute(pool)
        .await
        .unwrap();
    }
    // Times from long before the migration, with microseconds, different for every row.
    sqlx::raw_sql(
        "update legacy.prismiq_dashboards set
             created_at = timestamptz '2024-01-02 03:04:05.123456+00'
                 + id * interval '1 day' + id * interval '11 microseconds',
             updated_at = timestamptz '2024-06-07 08:09:10.654321+00'
                 + id * interval '1 hour' + id * interval '13 microseconds';
         update legacy.prismiq_widgets set
             created_at = timestamptz '2024-02-03 04:05:06.234567+00'
                 + id * interval '1 minute' + id * interval '17 microseconds',
             updated_at = timestamptz '2024-07-08 09:10:11.765432+00'
                 + id * interval '1 second' + id * interval '19 microseconds';
         update legacy.prismiq_saved_queries set
             created_at = timestamptz '2024-03-04 05:06:07.345678+00' + id * interval '1 day',
             updated_at = timestamptz '2024-08-09 10:11:12.876543+00' + id * interval '1 day';
         update legacy.prismiq_pinned_dashboards set
             pinned_at = timestamptz '2024-04-05 06:07:08.456789+00' + id * interval '1 day';",
    )
    .execute(pool)
    .await
    .unwrap();
}

async fn seeded() -> (TestDatabase, PgPool) {
    let database = fresh_database().await;
    let source = PgPool::connect_with(database.connect_options().clone())
        .await
        .unwrap();
    seed(&source).await;
    (database, source)
}

fn counts(report: &MigrationReport, kind: RecordKind) -> (u64, u64, u64) {
    let c = report.counts(kind);
    (c.migrated, c.skipped, c.already_migrated)
}

fn skipped(report: &MigrationReport, kind: RecordKind, old_id: &str) -> String {
    report
        .problems
        .iter()
        .find(|p| p.kind == kind && p.old_id.as_deref() == Some(old_id) && p.skipped)
        .unwrap_or_else(|| panic!("no skip of {kind} {old_id} in {report}"))
        .reason
        .clone()
}

/// The first run's report, the same whatever the target.
fn check_first_report(report: &MigrationReport) {
    assert_eq!(counts(report, RecordKind::Dashboard), (4, 1, 0), "{report}");
    assert_eq!(counts(report, RecordKind::Widget), (4, 3, 0), "{report}");
    assert_eq!(
        counts(report, RecordKind::SavedQuery),
        (2, 1, 0),
        "{report}"
    );
    assert_eq!(counts(report, RecordKind::Pin), (3, 1, 0), "{report}");
    assert!(skipped(report, RecordKind::Widget, "5").contains("fiscalYearStartMonth"));
    assert!(skipped(report, RecordKind::Dashboard, "3").contains("1 of its 2 widgets"));
    assert!(skipped(report, RecordKind::Widget, "4").contains("dashboard was skipped"));
    assert!(skipped(report, RecordKind::Widget, "7").contains("dashboard 999 does not exist"));
    assert!(skipped(report, RecordKind::SavedQuery, "3").starts_with("query:"));
    assert!(skipped(report, RecordKind::Pin, "3").contains("dashboard 3 was not migrated"));
    // Notes: what the original itself dropped.
    let note = |kind: RecordKind, id: &str| {
        report
            .problems
            .iter()
            .find(|p| p.kind == kind && p.old_id.as_deref() == Some(id) && !p.skipped)
            .unwrap_or_else(|| panic!("no note on {kind} {id} in {report}"))
            .reason
            .clone()
    };
    assert!(note(RecordKind::Widget, "1").contains("legacyColor"));
    assert!(note(RecordKind::Dashboard, "4").contains("rowHeight"));
    assert_eq!(
        report.problems.iter().filter(|p| !p.skipped).count(),
        2,
        "{report}"
    );
}

/// Runs twice: the second run writes nothing and finds everything migrated.
async fn check_second_run(migrator: &Migrator, source: &PgPool) {
    let again = migrator.migrate(source, "legacy").await.unwrap();
    assert_eq!(counts(&again, RecordKind::Dashboard), (0, 1, 4), "{again}");
    assert_eq!(counts(&again, RecordKind::Widget), (0, 3, 4), "{again}");
    assert_eq!(counts(&again, RecordKind::SavedQuery), (0, 1, 2), "{again}");
    assert_eq!(counts(&again, RecordKind::Pin), (0, 1, 3), "{again}");
}

/// A time in one form whatever the server's (`…T03:04:05.123456Z`), to compare instants.
fn same_form(at: DateTime<Utc>) -> Value {
    json!(at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

/// A time of the source: the first row of `select`, one timestamptz column.
async fn source_time(source: &PgPool, select: &'static str) -> DateTime<Utc> {
    sqlx::query_scalar(select).fetch_one(source).await.unwrap()
}

/// `(created_at, updated_at)` of a row of `table` in the source.
async fn source_times(source: &PgPool, table: &str, id: i32) -> (Value, Value) {
    let (created, updated): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(sqlx::AssertSqlSafe(
        format!("select created_at, updated_at from legacy.{table} where id = $1"),
    ))
    .bind(id)
    .fetch_one(source)
    .await
    .unwrap();
    (same_form(created), same_form(updated))
}

/// What the original served for dashboard 1 (`GET /dashboards/1`), ids aside, its times read
/// from `source`.
async fn original_sales_json(source: &PgPool) -> Value {
    let mut widgets = Vec::new();
    for (id, widget_type, title, query, position, config) in sales_widgets() {
        let mut config = full_config(&config);
        config.as_object_mut().unwrap().remove("legacyColor");
        let (created_at, updated_at) = source_times(source, "prismiq_widgets", id).await;
        widgets.push(json!({
            "type": widget_type,
            "title": title,
            "query": query,
            "position": {"x": position["x"], "y": position["y"], "w": position["w"], "h": position["h"]},
            "config": config,
            "created_at": created_at,
            "updated_at": updated_at,
        }));
    }
    widgets.sort_by_key(|w| (w["position"]["y"].as_u64(), w["position"]["x"].as_u64()));
    let (created_at, updated_at) = source_times(source, "prismiq_dashboards", 1).await;
    json!({
        "name": "Sales",
        "description": "Revenue by region",
        "layout": {"columns": 12, "row_height": 60, "margin": [16, 16], "compact_type": "vertical"},
        "widgets": widgets,
        "filters": [date_filter()],
        "owner_id": "alice",
        "is_public": false,
        "allowed_viewers": ["bob"],
        "created_at": created_at,
        "updated_at": updated_at,
    })
}

/// `served` without ids and without the fields the original did not have, its times in
/// [`same_form`].
fn comparable(mut served: Value) -> Value {
    fn same_time(object: &mut serde_json::Map<String, Value>, key: &str) {
        let text = object[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {object:?}"));
        let at = DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc);
        object.insert(key.to_owned(), same_form(at));
    }
    let object = served.as_object_mut().unwrap();
    for key in ["id", "refresh_interval", "version"] {
        assert!(object.remove(key).is_some(), "no {key} in {object:?}");
    }
    same_time(object, "created_at");
    same_time(object, "updated_at");
    for widget in object["widgets"].as_array_mut().unwrap() {
        let widget = widget.as_object_mut().unwrap();
        assert!(widget.remove("id").is_some(), "no id in a widget");
        same_time(widget, "created_at");
        same_time(widget, "updated_at");
    }
    served
}

async fn new_id(
    ledger: &dyn MigrationLedger,
    kind: RecordKind,
    tenant: &str,
    old: &str,
) -> uuid::Uuid {
    ledger
        .lookup(kind, tenant, old)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{kind} {old} of {tenant} is not in the mapping"))
}

/// Everything a target must hold after the first run.
async fn check_target<S>(store: S, ledger: &dyn MigrationLedger, source: &PgPool)
where
    S: DashboardStore
        + SavedQueryStore
        + PinStore
        + Clone
        + prismiq_core::SchemaConfigStore
        + prismiq_core::TemplateStore
        + prismiq_core::ShareStore,
{
    let acme = Scope::new("acme");
    // The mapping: every migrated record, with its tenant.
    let all = ledger.load().await.unwrap();
    assert_eq!(all.len(), 4 + 4 + 2 + 3, "{all:?}");
    let sales = new_id(ledger, RecordKind::Dashboard, "acme", "1").await;
    let ops = new_id(ledger, RecordKind::Dashboard, "acme", "2").await;
    let globex_sales = new_id(ledger, RecordKind::Dashboard, "globex", "5").await;
    assert_ne!(sales, globex_sales);
    assert!(
        ledger
            .lookup(RecordKind::Dashboard, "acme", "3")
            .await
            .unwrap()
            .is_none()
    );

    // The dashboard as our Engine serves it equals what the original served, field by field.
    let engine = Engine::new(store.clone());
    let alice = SimpleAuthContext::new("acme").with_user("alice");
    let served = engine
        .get_dashboard_json(&alice, sales.into())
        .await
        .unwrap();
    let served: Value = serde_json::from_str(served.as_str()).unwrap();
    assert_eq!(served["id"], json!(sales.to_string()));
    let widget_ids: Vec<Value> = served["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].clone())
        .collect();
    let mut expected_ids = Vec::new();
    for old in ["1", "2", "3"] {
        expected_ids.push(json!(
            new_id(ledger, RecordKind::Widget, "acme", old)
                .await
                .to_string()
        ));
    }
    assert_eq!(
        widget_ids, expected_ids,
        "widgets in the original's order (row, column)"
    );
    let served = comparable(served);
    let expected = original_sales_json(source).await;
    for key in expected.as_object().unwrap().keys() {
        assert_eq!(served[key], expected[key], "field {key}");
    }
    assert_eq!(served, expected);
    // Its first version entry dates from its last change in the original.
    let first = store
        .get_version(&acme, sales.into(), 1)
        .await
        .unwrap()
        .expect("version 1 of the migrated dashboard");
    assert_eq!(
        same_form(first.entry.created_at.as_datetime()),
        expected["updated_at"]
    );

    // The column default's layout is served as the original served it.
    let ops_dashboard = store
        .get_dashboard(&acme, ops.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::to_value(&ops_dashboard.layout).unwrap(),
        json!({"columns": 12, "row_height": 50, "margin": [10, 10], "compact_type": "vertical"})
    );
    assert!(ops_dashboard.is_public && ops_dashboard.owner_id.is_none());

    // Nothing of the skipped dashboard: no half dashboard.
    let everything = store.list_dashboards(&acme, &Viewer::Admin).await.unwrap();
    let mut names: Vec<&str> = everything.iter().map(|d| d.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Camel", "Ops", "Sales"]);
    assert!(
        everything
            .iter()
            .all(|d| d.widgets.iter().all(|w| w.title != "Fine"))
    );

    // Pins in the original's order, compacted.
    let pins = store.list_pins(&acme, "alice", "home").await.unwrap();
    let order: Vec<(u32, uuid::Uuid)> = pins
        .iter()
        .map(|(p, d)| (p.position, d.id.into()))
        .collect();
    assert_eq!(order, [(0, sales), (1, ops)]);
    assert_eq!(
        pins[0].0.pinned_at.as_datetime(),
        source_time(
            source,
            "select pinned_at from legacy.prismiq_pinned_dashboards where id = 2"
        )
        .await,
        "the pin's time is the original's"
    );
    let globex_pins = store
        .list_pins(&Scope::new("globex"), "carol", "home")
        .await
        .unwrap();
    assert_eq!(globex_pins.len(), 1);

    // Saved queries, with their sharing flag, per tenant.
    let queries = store
        .list_saved_queries(&acme, &Viewer::Admin)
        .await
        .unwrap();
    assert_eq!(queries.len(), 1);
    assert_eq!(queries[0].name, "Top regions");
    assert!(queries[0].is_shared);
    assert_eq!(queries[0].owner_id.as_deref(), Some("alice"));
    assert_eq!(queries[0].description.as_deref(), Some("Best first"));
    assert_eq!(
        (
            same_form(queries[0].created_at.as_datetime()),
            same_form(queries[0].updated_at.as_datetime())
        ),
        source_times(source, "prismiq_saved_queries", 1).await,
        "the saved query's times are the original's"
    );
    assert_eq!(
        serde_json::to_value(&queries[0].query).unwrap(),
        query("orders"),
        "the saved query as the original served it"
    );
    let globex = store
        .list_saved_queries(&Scope::new("globex"), &Viewer::Admin)
        .await
        .unwrap();
    assert_eq!(globex.len(), 1);
    assert!(!globex[0].is_shared);
}

#[tokio::test]
async fn migrates_into_postgres_once() {
    let (database, source) = seeded().await;
    let store = database.store().clone();
    let ledger = PgLedger::new(store.pool().clone());
    let migrator = Migrator::new(store.clone(), ledger.clone());
    let report = migrator.migrate(&source, "legacy").await.unwrap();
    check_first_report(&report);
    check_target(store.clone(), &ledger, &source).await;
    check_second_run(&migrator, &source).await;
    database.drop_database().await;
}

#[tokio::test]
async fn migrates_into_sqlite_once() {
    let (database, source) = seeded().await;
    let store = SqliteStore::in_memory().await.unwrap();
    let ledger = SqliteLedger::new(store.pool().clone());
    let migrator = Migrator::new(store.clone(), ledger.clone());
    let report = migrator.migrate(&source, "legacy").await.unwrap();
    check_first_report(&report);
    check_target(store.clone(), &ledger, &source).await;
    check_second_run(&migrator, &source).await;
    database.drop_database().await;
}

#[tokio::test]
async fn a_dry_run_reports_everything_and_writes_nothing() {
    let (database, source) = seeded().await;
    let store = database.store().clone();
    let ledger = PgLedger::new(store.pool().clone());
    let report = Migrator::new(store.clone(), ledger.clone())
        .with_dry_run(true)
        .migrate(&source, "legacy")
        .await
        .unwrap();
    assert!(report.dry_run);
    check_first_report(&report);
    for tenant in ["acme", "globex"] {
        let scope = Scope::new(tenant);
        assert!(
            store
                .list_dashboards(&scope, &Viewer::Admin)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .list_saved_queries(&scope, &Viewer::Admin)
                .await
                .unwrap()
                .is_empty()
        );
    }
    let ledger_table: bool =
        sqlx::query_scalar("select to_regclass('prismiq.migrated_ids') is not null")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(!ledger_table, "a dry run creates no table");
    // The report serializes, with the counts and problems.
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(
        json["dashboards"],
        json!({"migrated": 4, "skipped": 1, "already_migrated": 0})
    );
    assert_eq!(json["problems"][0]["kind"], json!("widget"));
    assert!(report.to_string().contains("dashboards"));
    database.drop_database().await;
}

#[tokio::test]
async fn a_later_run_adds_only_what_is_new() {
    let (database, source) = seeded().await;
    let store = database.store().clone();
    let ledger = PgLedger::new(store.pool().clone());
    let migrator = Migrator::new(store.clone(), ledger.clone());
    migrator.migrate(&source, "legacy").await.unwrap();
    // The original kept working: a new widget on Sales, a new dashboard, the broken one fixed.
    sqlx::raw_sql(
        "insert into legacy.prismiq_widgets (id, dashboard_id, type, title, position, config)
             values (8, 1, 'text', 'Later', '{\"x\":6,\"y\":2,\"w\":6,\"h\":2}', '{}');
         insert into legacy.prismiq_dashboards (id, tenant_id, name, owner_id, layout)
             values (6, 'acme', 'New', 'alice', '{\"columns\":12,\"row_height\":50,\"margin\":[10,10],\"compact_type\":\"vertical\"}');
         update legacy.prismiq_widgets set config = '{\"fiscalYearStartMonth\": 4}' where id = 5;",
    )
    .execute(&source)
    .await
    .unwrap();
    let report = migrator.migrate(&source, "legacy").await.unwrap();
    assert_eq!(
        counts(&report, RecordKind::Dashboard),
        (2, 0, 4),
        "{report}"
    );
    // Widgets 4 and 5 with their fixed dashboard, 8 on Sales; 7 is still an orphan.
    assert_eq!(counts(&report, RecordKind::Widget), (3, 1, 4), "{report}");
    // The broken dashboard's pin now has its dashboard, and goes last in alice's list.
    assert_eq!(counts(&report, RecordKind::Pin), (1, 0, 3), "{report}");
    let sales = new_id(&ledger, RecordKind::Dashboard, "acme", "1").await;
    let broken = new_id(&ledger, RecordKind::Dashboard, "acme", "3").await;
    let dashboard = store
        .get_dashboard(&Scope::new("acme"), sales.into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dashboard.widgets.len(), 4);
    // Adding widget 8 changed nothing the original served: the dashboard keeps its times.
    let (created_at, updated_at) = source_times(&source, "prismiq_dashboards", 1).await;
    assert_eq!(same_form(dashboard.created_at.as_datetime()), created_at);
    assert_eq!(same_form(dashboard.updated_at.as_datetime()), updated_at);
    let later = new_id(&ledger, RecordKind::Widget, "acme", "8").await;
    let later = dashboard
        .widgets
        .iter()
        .find(|w| uuid::Uuid::from(w.id) == later)
        .unwrap();
    let (created_at, updated_at) = source_times(&source, "prismiq_widgets", 8).await;
    assert_eq!(same_form(later.created_at.as_datetime()), created_at);
    assert_eq!(same_form(later.updated_at.as_datetime()), updated_at);
    let pins = store
        .list_pins(&Scope::new("acme"), "alice", "home")
        .await
        .unwrap();
    assert_eq!(pins.len(), 3);
    assert_eq!(uuid::Uuid::from(pins[2].1.id), broken);
    database.drop_database().await;
}

#[tokio::test]
async fn keeping_valid_widgets_writes_the_dashboard_without_the_bad_one() {
    let (database, source) = seeded().await;
    let store = database.store().clone();
    let ledger = PgLedger::new(store.pool().clone());
    let report = Migrator::new(store.clone(), ledger.clone())
        .keeping_valid_widgets(true)
        .migrate(&source, "legacy")
        .await
        .unwrap();
    assert_eq!(
        counts(&report, RecordKind::Dashboard),
        (5, 0, 0),
        "{report}"
    );
    assert_eq!(counts(&report, RecordKind::Widget), (5, 2, 0), "{report}");
    let broken = new_id(&ledger, RecordKind::Dashboard, "acme", "3").await;
    let dashboard = store
        .get_dashboard(&Scope::new("acme"), broken.into())
        .await
        .unwrap()
        .unwrap();
    let titles: Vec<&str> = dashboard.widgets.iter().map(|w| w.title.as_str()).collect();
    assert_eq!(titles, ["Fine"]);
    database.drop_database().await;
}

#[tokio::test]
async fn wrong_source_schemas_are_clear_errors() {
    let (database, source) = seeded().await;
    let store = database.store().clone();
    let migrator = Migrator::new(store.clone(), PgLedger::new(store.pool().clone()));
    let err = migrator
        .migrate(&source, "legacy; drop table x")
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::InvalidSchema(_)), "{err}");
    let err = migrator.migrate(&source, "public").await.unwrap_err();
    assert!(
        matches!(&err, MigrateError::MissingTables { tables, .. } if tables.len() == 4),
        "{err}"
    );
    assert!(err.to_string().contains("--source-schema"));
    database.drop_database().await;
}

#[tokio::test]
async fn export_files_import_through_the_same_checks() {
    let database = fresh_database().await;
    let store: PostgresStore = database.store().clone();
    let migrator = Migrator::new(store.clone(), PgLedger::new(store.pool().clone()));
    let (_, widget_type, title, q, position, config) = sales_widgets().remove(0);
    let export = json!({
        "version": "1.0",
        "name": "Imported",
        "description": null,
        "layout": {"columns": 12, "row_height": 50, "margin": [10, 10], "compact_type": "vertical"},
        "widgets": [
            {"type": widget_type, "title": title, "query": q, "position": position, "config": config},
            {"type": "pie_chart", "title": "Bad", "query": null,
             "position": {"x": 0, "y": 4, "w": 4, "h": 3}, "config": {"data_source_mode": "nope"}}
        ],
        "filters": [date_filter()]
    });
    let report = migrator
        .import_export(&export, "acme", Some("dave"))
        .await
        .unwrap();
    assert_eq!(
        counts(&report, RecordKind::Dashboard),
        (0, 1, 0),
        "{report}"
    );
    let reason = skipped(&report, RecordKind::Widget, "widgets[1]");
    assert!(reason.contains("nope"), "{reason}");

    let report = migrator
        .keeping_valid_widgets(true)
        .import_export(&export, "acme", Some("dave"))
        .await
        .unwrap();
    assert_eq!(
        counts(&report, RecordKind::Dashboard),
        (1, 0, 0),
        "{report}"
    );
    assert_eq!(counts(&report, RecordKind::Widget), (1, 1, 0), "{report}");
    let listed = store
        .list_dashboards(&Scope::new("acme"), &Viewer::Admin)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].owner_id.as_deref(), Some("dave"));
    assert_eq!(listed[0].filters.len(), 1);
    assert!(!listed[0].is_public);

    // Importing it again: the name is taken, reported, nothing written.
    let migrator = Migrator::new(store.clone(), PgLedger::new(store.pool().clone()))
        .keeping_valid_widgets(true);
    let report = migrator
        .import_export(&export, "acme", Some("dave"))
        .await
        .unwrap();
    assert_eq!(
        counts(&report, RecordKind::Dashboard),
        (0, 1, 0),
        "{report}"
    );
    let err = migrator
        .import_export(&json!({"version": "2.0", "name": "x"}), "acme", None)
        .await
        .unwrap_err();
    assert!(matches!(err, MigrateError::InvalidExport(_)), "{err}");
    database.drop_database().await;
}
