//! The embedded migrations: recorded in prismiq's own table, idempotent, and a file database
//! opened by `connect` has WAL, foreign keys and a working store.

use std::path::PathBuf;

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::{new_dashboard, widget};
use prismiq_core::{DashboardStore, Scope};
use prismiq_store_sqlite::{MIGRATOR, SqliteStore};

/// A database file path no other test uses, removed (with its WAL files) on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let unique = format!(
            "prismiq-sqlite-{name}-{}-{}.db",
            std::process::id(),
            prismiq_core::DashboardId::new()
        );
        Self(std::env::temp_dir().join(unique))
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn tables(store: &SqliteStore) -> Vec<String> {
    sqlx::query_scalar("select name from sqlite_master where type = 'table' order by name")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn migrations_are_recorded_in_their_own_table_and_rerun_as_no_op() {
    let file = TempFile::new("migrations");
    let store = SqliteStore::connect(&file.url()).await.unwrap();
    // The host's own migrations table, which prismiq must leave alone.
    sqlx::query("create table _sqlx_migrations (version bigint primary key, note text)")
        .execute(store.pool())
        .await
        .unwrap();
    store.migrate().await.unwrap();

    let recorded: Vec<i64> =
        sqlx::query_scalar("select version from _prismiq_migrations order by version")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let embedded: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(recorded, embedded, "every embedded migration is recorded");
    let host_rows: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(host_rows, 0, "the host's migrations table is untouched");
    for table in [
        "dashboard_defaults",
        "dashboards",
        "pins",
        "saved_queries",
        "schema_configs",
        "shares",
        "starter_dashboards",
        "templates",
        "widgets",
    ] {
        assert!(
            tables(&store).await.iter().any(|t| t == table),
            "{table} exists"
        );
    }

    let before = tables(&store).await;
    store.migrate().await.unwrap();
    let again: i64 = sqlx::query_scalar("select count(*) from _prismiq_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        again,
        i64::try_from(embedded.len()).unwrap(),
        "re-running adds nothing"
    );
    assert_eq!(tables(&store).await, before, "re-running changes no table");
    store.pool().close().await;
}

#[tokio::test]
async fn connect_opens_a_wal_database_with_foreign_keys_that_keeps_data() {
    let file = TempFile::new("connect");
    let scope = Scope::new("t1");
    let id = {
        let store = SqliteStore::connect(&file.url()).await.unwrap();
        store.migrate().await.unwrap();
        let mode: String = sqlx::query_scalar("pragma journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let foreign_keys: i64 = sqlx::query_scalar("pragma foreign_keys")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
        let dashboard = store
            .create_dashboard(
                &scope,
                new_dashboard("Sales", Some("alice"), vec![widget("w", 0, 0)]),
                None,
            )
            .await
            .unwrap();
        store.pool().close().await;
        dashboard.id
    };
    let store = SqliteStore::connect(&file.url()).await.unwrap();
    store.migrate().await.unwrap();
    let list = store.list_dashboards(&scope, &Viewer::Admin).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].widgets.len(), 1);
    store.pool().close().await;
}
