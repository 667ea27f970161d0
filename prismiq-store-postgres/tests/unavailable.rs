//! A database that cannot be reached gives `StoreError::Unavailable`, quickly, instead of a
//! hang or a generic backend error. Needs no database.

use std::error::Error as _;
use std::time::{Duration, Instant};

use prismiq_core::{DashboardId, DashboardStore, PinStore, SavedQueryStore, Scope, StoreError};
use prismiq_store_postgres::sqlx::postgres::PgPoolOptions;
use prismiq_store_postgres::{DEFAULT_ACQUIRE_TIMEOUT, PgStoreError, PostgresStore};

/// Nothing listens on port 1.
const DEAD_URL: &str = "postgres://postgres@127.0.0.1:1/postgres";

fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Unavailable(source)) => {
            let cause = source
                .downcast_ref::<PgStoreError>()
                .unwrap_or_else(|| panic!("{what}: the source is the PgStoreError"));
            assert!(cause.source().is_some(), "{what}: the sqlx error is kept");
        }
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn store_operations_on_an_unreachable_database_are_unavailable() {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy(DEAD_URL)
        .expect("a well-formed URL");
    let store = PostgresStore::new(pool);
    let scope = Scope::new("t1");

    let started = Instant::now();
    assert_unavailable(store.ping().await, "ping");
    assert_unavailable(
        store.get_dashboard(&scope, DashboardId::new()).await,
        "get_dashboard",
    );
    assert_unavailable(
        store
            .list_saved_queries(&scope, &prismiq_core::permissions::Viewer::Admin)
            .await,
        "list_saved_queries",
    );
    assert_unavailable(store.list_pins(&scope, "alice", "home").await, "list_pins");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "four operations fail within their acquire timeouts, took {:?}",
        started.elapsed()
    );
    assert_eq!(store.health_check_name(), "database");
}

#[tokio::test]
async fn connecting_to_an_unreachable_database_fails_as_unavailable() {
    let started = Instant::now();
    let error = PostgresStore::connect(DEAD_URL)
        .await
        .expect_err("nothing listens there");
    assert!(
        started.elapsed() < DEFAULT_ACQUIRE_TIMEOUT + Duration::from_secs(5),
        "gave up after the acquire timeout, took {:?}",
        started.elapsed()
    );
    assert!(error.is_unavailable(), "{error:?}");
    assert_unavailable(Err::<(), _>(StoreError::from(error)), "connect");
}
