//! The HTTP suite over `PostgresStore`, each test on a brand-new database (needs
//! `DATABASE_URL`; `scripts/test.sh` provides it).

use prismiq_axum::prismiq_core::Engine;

async fn engine() -> Engine {
    Engine::new(prismiq_store_postgres::testing::fresh_store().await)
}

prismiq_tests::http_suite!(engine);
