//! Limits and pin positions hold when calls race on a file database with several connections,
//! and concurrent first visits from two stores on the same file create one starter dashboard
//! (once per user, ever, and never on a failure).

use std::path::PathBuf;

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::{new_dashboard, widget};
use prismiq_core::{
    Conflict, DashboardStore, DefaultFor, Defaults, PinId, PinStore, Scope, StoreError, WidgetId,
};
use prismiq_store_sqlite::SqliteStore;
use tokio::task::JoinSet;

const CALLS: usize = 30;

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn file_store(name: &str) -> (SqliteStore, TempFile) {
    let file = TempFile(std::env::temp_dir().join(format!(
        "prismiq-sqlite-{name}-{}-{}.db",
        std::process::id(),
        prismiq_core::DashboardId::new()
    )));
    let store = SqliteStore::connect(&format!("sqlite://{}", file.0.display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    (store, file)
}

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
async fn limits_hold_under_concurrent_writes() {
    let (store, _file) = file_store("limits").await;
    let scope = Scope::new("t1");
    let mut tasks = JoinSet::new();
    for i in 0..CALLS {
        let (store, scope) = (store.clone(), scope.clone());
        tasks.spawn(async move {
            store
                .create_dashboard(
                    &scope,
                    new_dashboard(&format!("d{i}"), Some("alice"), vec![widget("w", 0, 0)]),
                    Some(5),
                )
                .await
        });
    }
    assert_eq!(
        successes(tasks).await,
        5,
        "exactly the dashboard limit succeeds"
    );
    let list = store.list_dashboards(&scope, &Viewer::Admin).await.unwrap();
    assert_eq!(list.len(), 5);

    let dashboard = list[0].id;
    let mut tasks = JoinSet::new();
    for i in 0..CALLS {
        let (store, scope) = (store.clone(), scope.clone());
        tasks.spawn(async move {
            let y = u32::try_from(i).unwrap();
            store
                .add_widget(
                    &scope,
                    dashboard,
                    WidgetId::new(),
                    widget("w", 0, y),
                    Some(10),
                )
                .await
        });
    }
    assert_eq!(
        successes(tasks).await,
        9,
        "the widget limit counts the existing widget"
    );

    let mut tasks = JoinSet::new();
    for d in &list {
        let (store, scope, id) = (store.clone(), scope.clone(), d.id);
        tasks.spawn(async move {
            store
                .pin(&scope, "alice", PinId::new(), id, "home", Some(0))
                .await
        });
    }
    assert_eq!(successes(tasks).await, 5);
    let pins = store.list_pins(&scope, "alice", "home").await.unwrap();
    let positions: Vec<u32> = pins.iter().map(|(p, _)| p.position).collect();
    assert_eq!(positions, vec![0, 1, 2, 3, 4], "positions stay compact");
    store.pool().close().await;
}

/// Two stores with pools of their own on one file, as two processes would be, race to create
/// bob's starter dashboard: one is created, exactly one caller gets its id and it is bob's
/// default. Once bob deleted it and cleared his default, a later call creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_default_creates_once_across_stores() {
    let (store, file) = file_store("defaults").await;
    let other = SqliteStore::connect(&format!("sqlite://{}", file.0.display()))
        .await
        .unwrap();
    let instances = [store, other];
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
    for store in &instances {
        store.pool().close().await;
    }
}

/// A name or limit failure creates nothing and records nothing, so a retry that can succeed
/// does; the starter replaces the user's earlier default.
#[tokio::test]
async fn create_default_failures_record_nothing() {
    let (store, _file) = file_store("default-failures").await;
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
    assert_eq!(starter_records(&store, &scope, "carol").await, 0);
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
    assert_eq!(starter_records(&store, &scope, "carol").await, 1);
    let dashboard = store.get_dashboard(&scope, id).await.unwrap().unwrap();
    assert_eq!(dashboard.name, "Mine");
    assert_eq!(dashboard.widgets.len(), 1);
    store.pool().close().await;
}

/// How many starter records `user` has in the scope's tenant.
async fn starter_records(store: &SqliteStore, scope: &Scope, user: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from starter_dashboards where tenant_id = ?1 and user_id = ?2",
    )
    .bind(scope.tenant_id())
    .bind(user)
    .fetch_one(store.pool())
    .await
    .unwrap()
}
