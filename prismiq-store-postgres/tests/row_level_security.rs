//! Row-level security as a second line of defence: statements run through the store's
//! tenant-scoped transaction see and change only the current tenant's rows even when they
//! carry no tenant filter at all.

use prismiq_core::testing::{new_dashboard, sample_query, widget};
use prismiq_core::{
    DashboardId, DashboardStore, DefaultFor, NewSavedQuery, NewShare, NewTemplate, PinId, PinStore,
    SavedQueryId, SavedQueryStore, SchemaConfig, SchemaConfigStore, Scope, ShareId, ShareStore,
    TemplateContent, TemplateId, TemplateStore,
};
use prismiq_store_postgres::PostgresStore;
use prismiq_store_postgres::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use prismiq_store_postgres::sqlx::{self, AssertSqlSafe, Connection, PgConnection, Row};
use prismiq_store_postgres::testing::{fetch_all_scoped, fetch_all_share_lookup, fresh_database};

const TABLES: [&str; 9] = [
    "dashboards",
    "widgets",
    "saved_queries",
    "pins",
    "schema_configs",
    "dashboard_defaults",
    "starter_dashboards",
    "templates",
    "shares",
];

/// Tenant `a` gets 2 dashboards (3 widgets), 1 saved query, 2 pins, a schema config, 2
/// defaults (the tenant's and alice's), 1 starter record (alice's), 1 template and 2 share
/// links; tenant `b` gets 1 dashboard (1 widget), 2 saved queries, 1 pin, a schema config, 1
/// default (bob's), 1 starter record (bob's), 1 template and 1 share link. The links' token
/// hashes are the [`share_hash`]es of `a1`, `a2` and `b1`.
async fn populate(store: &PostgresStore) {
    let a = Scope::new("a");
    let b = Scope::new("b");
    let a1 = store
        .create_dashboard(
            &a,
            new_dashboard(
                "a1",
                Some("alice"),
                vec![widget("1", 0, 0), widget("2", 4, 0)],
            ),
            None,
        )
        .await
        .unwrap();
    // Alice's and bob's starters: each also becomes its user's default.
    let a2 = store
        .create_default(
            &a,
            "alice",
            new_dashboard("a2", Some("alice"), vec![widget("3", 0, 0)]),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    let b1 = store
        .create_default(
            &b,
            "bob",
            new_dashboard("b1", Some("bob"), vec![widget("4", 0, 0)]),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    for (scope, name) in [(&a, "qa"), (&b, "qb1"), (&b, "qb2")] {
        store
            .create_saved_query(
                scope,
                NewSavedQuery {
                    id: SavedQueryId::new(),
                    name: name.to_owned(),
                    description: None,
                    query: sample_query(),
                    owner_id: None,
                    is_shared: true,
                },
            )
            .await
            .unwrap();
    }
    for (scope, dashboard) in [(&a, a1.id), (&a, a2), (&b, b1)] {
        store
            .pin(scope, "alice", PinId::new(), dashboard, "home", None)
            .await
            .unwrap();
    }
    for scope in [&a, &b] {
        store
            .put_schema_config(scope, SchemaConfig::default())
            .await
            .unwrap();
    }
    for (scope, whose, dashboard) in [
        (&a, DefaultFor::Tenant, a1.id),
        (&a, DefaultFor::User("alice"), a2),
        (&b, DefaultFor::User("bob"), b1),
    ] {
        store.set_default(scope, whose, dashboard).await.unwrap();
    }
    // The same name in both tenants: names are unique per tenant only.
    for scope in [&a, &b] {
        store
            .create_template(
                scope,
                NewTemplate {
                    id: TemplateId::new(),
                    name: "Overview".to_owned(),
                    description: None,
                    category: None,
                    created_by: None,
                    content: TemplateContent {
                        layout: Default::default(),
                        filters: Vec::new(),
                        widgets: Vec::new(),
                        refresh_interval: None,
                    },
                },
            )
            .await
            .unwrap();
    }
    for (scope, dashboard, name) in [(&a, a1.id, "a1"), (&a, a2, "a2"), (&b, b1, "b1")] {
        store
            .create_share(scope, new_share(dashboard, name))
            .await
            .unwrap();
    }
}

/// The token hash of the test share link called `name`: 64 hex digits, as a SHA-256 is.
fn share_hash(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0>64}")
}

fn new_share(dashboard_id: DashboardId, name: &str) -> NewShare {
    NewShare {
        id: ShareId::new(),
        dashboard_id,
        token_hash: share_hash(name),
        label: Some(name.to_owned()),
        locked_filters: Default::default(),
        allow_export: false,
        expires_at: None,
        created_by: None,
        schema_name: None,
    }
}

async fn scoped_count(store: &PostgresStore, tenant: &str, sql: &str) -> i64 {
    let rows = fetch_all_scoped(store, &Scope::new(tenant), sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows[0].get(0)
}

async fn assert_unfiltered_statements_see_one_tenant(store: &PostgresStore) {
    for (table, in_a, in_b) in [
        ("dashboards", 2, 1),
        ("widgets", 3, 1),
        ("saved_queries", 1, 2),
        ("pins", 2, 1),
        ("schema_configs", 1, 1),
        ("dashboard_defaults", 2, 1),
        ("starter_dashboards", 1, 1),
        ("templates", 1, 1),
        ("shares", 2, 1),
    ] {
        let select = format!("select count(*) from prismiq.{table}");
        assert_eq!(
            scoped_count(store, "a", &select).await,
            in_a,
            "{select} as a"
        );
        assert_eq!(
            scoped_count(store, "b", &select).await,
            in_b,
            "{select} as b"
        );
        assert_eq!(
            scoped_count(store, "nobody", &select).await,
            0,
            "{select} as a tenant with no rows"
        );
        let delete = format!(
            "with gone as (delete from prismiq.{table} returning 1) select count(*) from gone"
        );
        assert_eq!(
            scoped_count(store, "a", &delete).await,
            in_a,
            "an unfiltered delete as a reaches a's rows only"
        );
        let update = format!(
            "with changed as (update prismiq.{table} set tenant_id = tenant_id returning 1) \
             select count(*) from changed"
        );
        assert_eq!(
            scoped_count(store, "b", &update).await,
            in_b,
            "an unfiltered update as b reaches b's rows only"
        );
    }

    // Rows cannot be written into, or moved to, another tenant.
    let insert = "insert into prismiq.saved_queries (id, tenant_id, name, query) \
                  values (gen_random_uuid(), 'b', 'smuggled', '{}') returning 1";
    let refused = fetch_all_scoped(store, &Scope::new("a"), insert).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("row-level security")),
        "inserting a row of tenant b as a must be refused, got {refused:?}"
    );
    let moved = fetch_all_scoped(
        store,
        &Scope::new("a"),
        "update prismiq.dashboards set tenant_id = 'b' returning 1",
    )
    .await;
    assert!(
        moved.is_err(),
        "moving a row to tenant b as a must be refused, got {moved:?}"
    );
}

/// The lookup of a share link by its token, the one that knows no tenant, sees exactly the row
/// whose hash it names, in any tenant, and nothing else; with a tenant setting, a share of
/// another tenant is invisible.
async fn assert_share_lookup_sees_one_share(store: &PostgresStore) {
    for (name, tenant) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
        let found = store
            .find_share(&share_hash(name))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("share {name} is found by its hash"));
        assert_eq!(found.tenant_id, tenant);
        assert_eq!(found.token_hash, share_hash(name));
        assert_eq!(found.share.label.as_deref(), Some(name));
    }
    for wrong in [
        share_hash("a3"),
        // A hash that only starts like one that exists.
        share_hash("a1")[..32].to_owned(),
        String::new(),
    ] {
        assert_eq!(
            store.find_share(&wrong).await.unwrap(),
            None,
            "no share has hash {wrong:?}"
        );
    }

    // With the tenant setting of another tenant, the row is invisible even to a statement that
    // names its hash.
    let by_hash = format!(
        "select count(*) from prismiq.shares where token_hash = '{}'",
        share_hash("a1")
    );
    assert_eq!(scoped_count(store, "a", &by_hash).await, 1);
    assert_eq!(
        scoped_count(store, "b", &by_hash).await,
        0,
        "{by_hash} as b"
    );

    // In the lookup transaction, unfiltered statements see the named share and nothing else.
    let lookup_count = |hash: String, sql: String| async move {
        let rows = fetch_all_share_lookup(store, &hash, &sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows[0].get::<i64, _>(0)
    };
    for name in ["a1", "b1"] {
        let rows = fetch_all_share_lookup(
            store,
            &share_hash(name),
            "select tenant_id, label from prismiq.shares",
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 1, "the lookup for {name} sees one share");
        assert_eq!(rows[0].get::<String, _>(1), name);
    }
    assert_eq!(
        lookup_count(
            share_hash("a3"),
            "select count(*) from prismiq.shares".into()
        )
        .await,
        0,
        "a lookup for a hash no share has sees no share"
    );
    assert_eq!(
        lookup_count(String::new(), "select count(*) from prismiq.shares".into()).await,
        0,
        "a lookup for an empty hash sees no share"
    );
    for table in TABLES.iter().filter(|t| **t != "shares") {
        assert_eq!(
            lookup_count(
                share_hash("a1"),
                format!("select count(*) from prismiq.{table}")
            )
            .await,
            0,
            "the lookup sees no row of {table}"
        );
    }
    for write in [
        "delete from prismiq.shares returning 1",
        "update prismiq.shares set label = 'changed' returning 1",
    ] {
        let refused = fetch_all_share_lookup(store, &share_hash("a1"), write).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("read-only transaction")),
            "the lookup transaction is read-only: {write} got {refused:?}"
        );
    }
}

#[tokio::test]
async fn unfiltered_statements_in_the_store_transaction_see_only_the_current_tenant() {
    let database = fresh_database().await;
    let store = database.store();
    populate(store).await;

    assert_unfiltered_statements_see_one_tenant(store).await;
    assert_share_lookup_sees_one_share(store).await;

    // DATABASE_URL normally names a superuser, whom row-level security exempts: the store
    // switches to `prismiq_app` for its transactions.
    let role = fetch_all_scoped(
        store,
        &Scope::new("a"),
        "select current_user::text, current_setting('is_superuser')",
    )
    .await
    .unwrap();
    let superuser: bool = sqlx::query_scalar(
        "select rolsuper or rolbypassrls from pg_roles where rolname = current_user",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    if superuser {
        assert_eq!(role[0].get::<String, _>(0), "prismiq_app");
    }
    assert_eq!(role[0].get::<String, _>(1), "off", "never a superuser");
    let lookup_role = fetch_all_share_lookup(
        store,
        &share_hash("a1"),
        "select current_user::text, current_setting('is_superuser')",
    )
    .await
    .unwrap();
    if superuser {
        assert_eq!(lookup_role[0].get::<String, _>(0), "prismiq_app");
    }
    assert_eq!(
        lookup_role[0].get::<String, _>(1),
        "off",
        "the share lookup is never a superuser either"
    );

    // Outside the store's transactions the admin connection sees every row: the counts above
    // come from the policies, not from missing data.
    if superuser {
        let all: i64 = sqlx::query_scalar("select count(*) from prismiq.widgets")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(all, 4);
    }
    database.drop_database().await;
}

/// In production the store connects as an ordinary role that owns prismiq's tables: no role
/// switch, and forced row-level security applies to the owner.
#[tokio::test]
async fn row_level_security_binds_a_non_superuser_owner_too() {
    let admin_db = fresh_database().await;
    let admin = admin_db.connect_options().clone();
    let suffix = uuid_suffix(admin_db.name());
    let role = format!("prismiq_test_owner_{suffix}");
    let database = format!("{}_owned", admin_db.name());
    let password = format!("pw{suffix}");

    let mut conn = PgConnection::connect_with(&admin).await.unwrap();
    for statement in [
        format!(
            "create role {role} login nosuperuser nocreaterole nobypassrls password '{password}'"
        ),
        format!("create database {database} owner {role}"),
    ] {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    let owner: PgConnectOptions = admin
        .clone()
        .database(&database)
        .username(&role)
        .password(&password);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(owner)
        .await
        .unwrap();
    let store = PostgresStore::new(pool);
    store
        .migrate()
        .await
        .expect("an ordinary role that owns the database can run the migrations");
    populate(&store).await;
    let role_in_tx = fetch_all_scoped(&store, &Scope::new("a"), "select current_user::text")
        .await
        .unwrap();
    assert_eq!(
        role_in_tx[0].get::<String, _>(0),
        role,
        "no role switch needed"
    );
    assert_unfiltered_statements_see_one_tenant(&store).await;
    assert_share_lookup_sees_one_share(&store).await;

    let unscoped: i64 = sqlx::query_scalar("select count(*) from prismiq.dashboards")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(unscoped, 0, "without a tenant the owner sees no row at all");

    store.pool().close().await;
    for statement in [
        format!("drop database {database} with (force)"),
        format!("drop role {role}"),
    ] {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
    admin_db.drop_database().await;
}

/// A store on a pool of one connection, so that its operations all use the same one.
async fn one_connection_store(options: &PgConnectOptions) -> PostgresStore {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap();
    PostgresStore::new(pool)
}

/// Once a connection has run a share lookup, `prismiq.share_token_hash` reads as '' (no longer
/// null) in its later transactions: a share whose hash were '' must still be invisible to them.
#[tokio::test]
async fn a_connection_that_looked_up_a_share_shows_no_share_to_other_tenants_later() {
    let database = fresh_database().await;
    let store = one_connection_store(database.connect_options()).await;
    let a = Scope::new("a");
    let dashboard = store
        .create_dashboard(&a, new_dashboard("a1", None, vec![]), None)
        .await
        .unwrap();
    let mut empty = new_share(dashboard.id, "empty");
    empty.token_hash = String::new();
    store.create_share(&a, empty).await.unwrap();
    store
        .create_share(&a, new_share(dashboard.id, "a1"))
        .await
        .unwrap();

    assert!(store.find_share(&share_hash("a1")).await.unwrap().is_some());
    let setting = fetch_all_scoped(
        &store,
        &Scope::new("b"),
        "select current_setting('prismiq.share_token_hash', true)",
    )
    .await
    .unwrap();
    assert_eq!(
        setting[0].get::<Option<String>, _>(0).as_deref(),
        Some(""),
        "the one connection ran the lookup before"
    );
    assert_eq!(
        scoped_count(&store, "b", "select count(*) from prismiq.shares").await,
        0,
        "b sees no share of a, not even the one with an empty hash"
    );
    assert_eq!(store.find_share("").await.unwrap(), None);
    store.pool().close().await;
    database.drop_database().await;
}

/// The random end of a test database's name, to name the role and database of one test.
fn uuid_suffix(name: &str) -> String {
    name[name.len() - 12..].to_owned()
}

#[tokio::test]
async fn every_prismiq_table_forces_row_level_security() {
    let database = fresh_database().await;
    for table in TABLES {
        let (enabled, forced): (bool, bool) = sqlx::query_as(
            "select relrowsecurity, relforcerowsecurity from pg_class \
             where oid = ('prismiq.' || $1)::regclass",
        )
        .bind(table)
        .fetch_one(database.store().pool())
        .await
        .unwrap();
        assert!(
            enabled && forced,
            "{table}: row-level security enabled and forced"
        );
        let has_tenant: bool = sqlx::query_scalar(
            "select exists (select from information_schema.columns \
             where table_schema = 'prismiq' and table_name = $1 and column_name = 'tenant_id')",
        )
        .bind(table)
        .fetch_one(database.store().pool())
        .await
        .unwrap();
        assert!(has_tenant, "{table} has tenant_id");
    }
    database.drop_database().await;
}

/// The conditional GET's read of who may view a dashboard is one statement outside any
/// transaction: it still runs under the policies (as `prismiq_app` when connected as a
/// superuser), and leaves neither the tenant nor the role on its connection.
#[tokio::test]
async fn the_access_statement_runs_under_the_policies_and_leaves_nothing_behind() {
    let database = fresh_database().await;
    let store = one_connection_store(database.connect_options()).await;
    let a = Scope::new("a");
    let dashboard = store
        .create_dashboard(&a, new_dashboard("a1", Some("alice"), vec![]), None)
        .await
        .unwrap();
    let access = store
        .dashboard_access(&a, dashboard.id)
        .await
        .unwrap()
        .expect("a sees its dashboard");
    assert_eq!(access.version, dashboard.version);
    assert_eq!(access.owner_id.as_deref(), Some("alice"));
    assert!(
        store
            .dashboard_access(&Scope::new("b"), dashboard.id)
            .await
            .unwrap()
            .is_none(),
        "b does not see a's dashboard"
    );

    let (user, tenant): (String, Option<String>) =
        sqlx::query_as("select current_user::text, current_setting('prismiq.tenant_id', true)")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_ne!(
        user, "prismiq_app",
        "the role switch ended with the statement"
    );
    assert_eq!(
        tenant.unwrap_or_default(),
        "",
        "the tenant ended with the statement"
    );

    // With a policy that lets nothing through, the read finds nothing: it ran under row-level
    // security, even on a superuser's connection.
    sqlx::raw_sql(
        "drop policy tenant_isolation on prismiq.dashboards; \
         create policy nothing on prismiq.dashboards using (false)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    assert!(
        store
            .dashboard_access(&a, dashboard.id)
            .await
            .unwrap()
            .is_none(),
        "the policies apply to the access statement"
    );
    store.pool().close().await;
    database.drop_database().await;
}
