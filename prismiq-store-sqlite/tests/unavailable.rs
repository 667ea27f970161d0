//! A database that cannot be used is `Unavailable` (a 503), never a conflict or a 500.

use prismiq_core::permissions::Viewer;
use prismiq_core::{DashboardStore, Scope, StoreError};
use prismiq_store_sqlite::SqliteStore;

#[tokio::test]
async fn a_file_that_cannot_be_opened_is_unavailable() {
    let missing_dir = std::env::temp_dir()
        .join(format!(
            "prismiq-no-such-dir-{}",
            prismiq_core::DashboardId::new()
        ))
        .join("prismiq.db");
    let error = SqliteStore::connect(&format!("sqlite://{}", missing_dir.display()))
        .await
        .expect_err("no directory to create the file in");
    assert!(error.is_unavailable(), "{error:?}");
    assert!(matches!(
        StoreError::from(error),
        StoreError::Unavailable(_)
    ));
}

#[tokio::test]
async fn a_closed_pool_is_unavailable() {
    let store = prismiq_store_sqlite::testing::fresh_store().await;
    store.pool().close().await;
    let result = store
        .list_dashboards(&Scope::new("t1"), &Viewer::Admin)
        .await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}
