//! The HTTP suite over `SqliteStore`, each test on a fresh in-memory database.

use prismiq_axum::prismiq_core::Engine;

async fn engine() -> Engine {
    Engine::new(prismiq_store_sqlite::testing::fresh_store().await)
}

prismiq_tests::http_suite!(engine);
