//! Limits and pin positions hold when calls race on a file database with several connections,
//! and concurrent first visits from two stores on the same file create one default dashboard.

use std::path::PathBuf;

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::{new_dashboard, widget};
use prismiq_core::{DashboardStore, PinId, PinStore, Scope, StoreError, WidgetId};
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
/// bob's default dashboard: one is created and every caller gets it.
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
                    None,
                    new_dashboard(&format!("start {i}"), Some("bob"), vec![widget("w", 0, 0)]),
                    Some(u32::try_from(CALLS).unwrap()),
                )
                .await
        });
    }
    let mut defaults = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        defaults.push(joined.expect("task panicked").expect("create_default"));
    }
    let first = defaults[0].expect("a default");
    assert!(
        defaults.iter().all(|d| *d == Some(first)),
        "one default for all"
    );
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
    for store in &instances {
        store.pool().close().await;
    }
}
