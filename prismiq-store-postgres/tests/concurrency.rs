//! Limits and invariants hold when many calls race: 50 concurrent creations against a
//! per-owner limit, 50 concurrent widget additions against a per-dashboard limit, 50 concurrent
//! layout saves, concurrent pin changes, and 50 concurrent first visits creating a starter
//! dashboard from two instances (once per user, ever, and never on a failure).

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::{new_dashboard, widget};
use prismiq_core::{
    Conflict, DashboardId, DashboardStore, DefaultFor, Defaults, PinId, PinStore, Scope,
    StoreError, WidgetId, WidgetPosition,
};
use prismiq_store_postgres::PostgresStore;
use prismiq_store_postgres::sqlx::Row;
use prismiq_store_postgres::sqlx::postgres::PgPoolOptions;
use prismiq_store_postgres::testing::{fetch_all_scoped, fresh_database};
use tokio::task::JoinSet;

const CALLS: usize = 50;

/// Awaits every task; returns how many succeeded, and fails on any error but `LimitReached`.
async fn successes<T: 'static>(mut tasks: JoinSet<Result<T, StoreError>>) -> usize {
    let mut ok = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task panicked") {
            Ok(_) => ok += 1,
            Err(StoreError::LimitReached) => {}
            Err(other) => panic!("unexpected error under concurrency: {other:?}"),
        }
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_limit_holds_under_concurrent_creates() {
    let database = fresh_database().await;
    let store = database.store().clone();
    let mut tasks = JoinSet::new();
    for i in 0..CALLS {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .create_dashboard(
                    &Scope::new("t1"),
                    new_dashboard(&format!("d{i}"), Some("alice"), vec![widget("w", 0, 0)]),
                    Some(5),
                )
                .await
        });
    }
    assert_eq!(successes(tasks).await, 5, "exactly the limit succeeds");
    let list = store
        .list_dashboards(&Scope::new("t1"), &Viewer::Admin)
        .await
        .unwrap();
    assert_eq!(list.len(), 5, "never more than the limit");
    assert!(list.iter().all(|d| d.widgets.len() == 1), "all or nothing");
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_limit_holds_under_concurrent_adds() {
    let database = fresh_database().await;
    let store = database.store().clone();
    let scope = Scope::new("t1");
    let dashboard = store
        .create_dashboard(&scope, new_dashboard("D", Some("alice"), vec![]), None)
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for i in 0..CALLS {
        let (store, scope) = (store.clone(), scope.clone());
        tasks.spawn(async move {
            let y = u32::try_from(i).unwrap();
            store
                .add_widget(
                    &scope,
                    dashboard.id,
                    WidgetId::new(),
                    widget("w", 0, y),
                    Some(10),
                )
                .await
        });
    }
    assert_eq!(successes(tasks).await, 10, "exactly the limit succeeds");
    let stored = store
        .get_dashboard(&scope, dashboard.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.widgets.len(), 10, "never more than the limit");
    database.drop_database().await;
}

/// Save `n` puts every widget in row `n * 100 + k`: after the race, every widget must come
/// from the same save.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_layout_saves_are_all_or_nothing() {
    let database = fresh_database().await;
    let store = database.store().clone();
    let scope = Scope::new("t1");
    let widgets = (0..10).map(|k| widget(&format!("w{k}"), 0, k)).collect();
    let dashboard = store
        .create_dashboard(&scope, new_dashboard("L", Some("alice"), widgets), None)
        .await
        .unwrap();
    let ids: Vec<WidgetId> = dashboard.widgets.iter().map(|w| w.id).collect();

    let mut tasks = JoinSet::new();
    for save in 0..u32::try_from(CALLS).unwrap() {
        let (store, scope, ids) = (store.clone(), scope.clone(), ids.clone());
        tasks.spawn(async move {
            let positions: Vec<(WidgetId, WidgetPosition)> = (0u32..)
                .zip(&ids)
                .map(|(k, id)| {
                    (
                        *id,
                        WidgetPosition::new(k % 3, save * 100 + k, 4, 1).unwrap(),
                    )
                })
                .collect();
            store.update_layout(&scope, dashboard.id, &positions).await
        });
    }
    assert_eq!(successes(tasks).await, CALLS, "every save succeeds");

    let stored = store
        .get_dashboard(&scope, dashboard.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.widgets.len(), ids.len());
    let save = stored.widgets[0].position.y / 100;
    for (k, id) in (0u32..).zip(&ids) {
        let widget = stored.widgets.iter().find(|w| w.id == *id).unwrap();
        assert_eq!(
            widget.position,
            WidgetPosition::new(k % 3, save * 100 + k, 4, 1).unwrap(),
            "every widget comes from save {save}"
        );
    }
    let rows: Vec<u32> = stored.widgets.iter().map(|w| w.position.y).collect();
    assert!(rows.is_sorted(), "widgets in display order");
    database.drop_database().await;
}

/// Pins, unpins, reorders and dashboard deletions race in one list; the positions stay
/// `0..n-1` throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_positions_stay_compact_under_concurrency() {
    let database = fresh_database().await;
    let store = database.store().clone();
    let scope = Scope::new("t1");
    let mut dashboards: Vec<DashboardId> = Vec::new();
    for i in 0..CALLS {
        let d = store
            .create_dashboard(
                &scope,
                new_dashboard(&format!("p{i}"), Some("alice"), vec![]),
                None,
            )
            .await
            .unwrap();
        dashboards.push(d.id);
    }
    // Half of them pinned up front, so there is something to unpin, reorder and delete.
    for id in &dashboards[..CALLS / 2] {
        store
            .pin(&scope, "alice", PinId::new(), *id, "home", None)
            .await
            .unwrap();
    }

    let mut tasks = JoinSet::new();
    for (i, id) in dashboards.iter().copied().enumerate() {
        let (store, scope, all) = (store.clone(), scope.clone(), dashboards.clone());
        tasks.spawn(async move {
            let result = match (i < CALLS / 2, i % 5) {
                (true, 0) => store.unpin(&scope, "alice", id, "home").await,
                (true, 1) => store.delete_dashboard(&scope, id).await,
                (true, _) => {
                    let order: Vec<DashboardId> = all.iter().rev().copied().collect();
                    store.reorder_pins(&scope, "alice", "home", &order).await
                }
                (false, _) => {
                    let at = u32::try_from(i % 7).unwrap();
                    store
                        .pin(&scope, "alice", PinId::new(), id, "home", Some(at))
                        .await
                        .map(drop)
                }
            };
            result.map_err(|e| format!("call {i}: {e:?}"))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task panicked").expect("no call fails");
    }

    let pins = store.list_pins(&scope, "alice", "home").await.unwrap();
    let positions: Vec<u32> = pins.iter().map(|(pin, _)| pin.position).collect();
    let expected: Vec<u32> = (0..u32::try_from(pins.len()).unwrap()).collect();
    assert_eq!(positions, expected, "positions are 0..n-1");
    // 25 pinned up front, 5 unpinned, 5 deleted with their dashboard, 25 pinned meanwhile.
    assert_eq!(pins.len(), CALLS / 2 - 5 - 5 + CALLS / 2);
    database.drop_database().await;
}

/// Two stores on pools of their own, as two instances of a host would be, race to create
/// bob's starter dashboard: one is created, exactly one caller gets its id and it is bob's
/// default. Once bob deleted it and cleared his default, a later call creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_default_creates_once_across_instances() {
    let database = fresh_database().await;
    let other_pool = PgPoolOptions::new()
        .max_connections(10)
        .connect_with(database.connect_options().clone())
        .await
        .unwrap();
    let instances = [database.store().clone(), PostgresStore::new(other_pool)];
    let scope = Scope::new("t1");
    let mut tasks = JoinSet::new();
    for i in 0..CALLS {
        let (store, scope) = (instances[i % 2].clone(), scope.clone());
        tasks.spawn(async move {
            store
                .create_default(
                    &scope,
                    "bob",
                    new_dashboard(&format!("start {i}"), Some("bob"), vec![widget("w", 0, 0)]),
                    Some(u32::try_from(CALLS).unwrap()),
                )
                .await
        });
    }
    let mut created = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Some(id) = joined.expect("task panicked").expect("create_default") {
            created.push(id);
        }
    }
    assert_eq!(created.len(), 1, "exactly one call creates: {created:?}");
    let first = created[0];
    let list = instances[1]
        .list_dashboards(&scope, &Viewer::Admin)
        .await
        .unwrap();
    assert_eq!(list.len(), 1, "one dashboard created");
    assert_eq!(list[0].id, first);
    assert_eq!(list[0].widgets.len(), 1);
    assert_eq!(
        instances[0]
            .defaults(&scope, Some("bob"))
            .await
            .unwrap()
            .user,
        Some(first)
    );
    assert_eq!(starter_records(&instances[0], &scope, "bob").await, 1);

    // Bob deletes his starter and clears his default: it does not come back.
    instances[0]
        .clear_default(&scope, DefaultFor::User("bob"))
        .await
        .unwrap();
    instances[0].delete_dashboard(&scope, first).await.unwrap();
    for store in &instances {
        let again = store
            .create_default(
                &scope,
                "bob",
                new_dashboard("start again", Some("bob"), vec![widget("w", 0, 0)]),
                None,
            )
            .await
            .unwrap();
        assert_eq!(again, None, "a starter is created once per user, ever");
    }
    assert!(
        instances[1]
            .list_dashboards(&scope, &Viewer::Admin)
            .await
            .unwrap()
            .is_empty(),
        "nothing created"
    );
    assert_eq!(
        instances[1].defaults(&scope, Some("bob")).await.unwrap(),
        Defaults::default()
    );
    // The record is per tenant: bob of another tenant still gets his.
    let elsewhere = instances[1]
        .create_default(
            &Scope::new("t2"),
            "bob",
            new_dashboard("start", Some("bob"), vec![]),
            None,
        )
        .await
        .unwrap();
    assert!(elsewhere.is_some(), "another tenant's bob is another user");
    instances[1].pool().close().await;
    database.drop_database().await;
}

/// A name or limit failure creates nothing and records nothing, so a retry that can succeed
/// does; the starter replaces the user's earlier default.
#[tokio::test]
async fn create_default_failures_record_nothing() {
    let database = fresh_database().await;
    let store = database.store();
    let scope = Scope::new("t1");
    let taken = store
        .create_dashboard(&scope, new_dashboard("Taken", Some("carol"), vec![]), None)
        .await
        .unwrap();
    store
        .set_default(&scope, DefaultFor::User("carol"), taken.id)
        .await
        .unwrap();

    let conflict = store
        .create_default(
            &scope,
            "carol",
            new_dashboard("Taken", Some("carol"), vec![widget("w", 0, 0)]),
            None,
        )
        .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict(Conflict::DashboardName))),
        "{conflict:?}"
    );
    let limit = store
        .create_default(
            &scope,
            "carol",
            new_dashboard("Mine", Some("carol"), vec![widget("w", 0, 0)]),
            Some(1),
        )
        .await;
    assert!(matches!(limit, Err(StoreError::LimitReached)), "{limit:?}");
    assert_eq!(starter_records(store, &scope, "carol").await, 0);
    assert_eq!(
        store
            .list_dashboards(&scope, &Viewer::Admin)
            .await
            .unwrap()
            .len(),
        1,
        "nothing created"
    );
    assert_eq!(
        store.defaults(&scope, Some("carol")).await.unwrap().user,
        Some(taken.id),
        "the default is unchanged"
    );

    let id = store
        .create_default(
            &scope,
            "carol",
            new_dashboard("Mine", Some("carol"), vec![widget("w", 0, 0)]),
            None,
        )
        .await
        .unwrap()
        .expect("a retry with another name creates the starter");
    assert_eq!(
        store.defaults(&scope, Some("carol")).await.unwrap().user,
        Some(id),
        "the starter replaces the earlier default"
    );
    assert_eq!(starter_records(store, &scope, "carol").await, 1);
    let dashboard = store.get_dashboard(&scope, id).await.unwrap().unwrap();
    assert_eq!(dashboard.name, "Mine");
    assert_eq!(dashboard.widgets.len(), 1);
    database.drop_database().await;
}

/// How many starter records `user` has in the scope's tenant.
async fn starter_records(store: &PostgresStore, scope: &Scope, user: &str) -> i64 {
    let sql = format!(
        "select count(*) from prismiq.starter_dashboards where user_id = '{}'",
        user.replace('\'', "''")
    );
    fetch_all_scoped(store, scope, &sql).await.unwrap()[0].get(0)
}
