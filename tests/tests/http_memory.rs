//! The HTTP suite over `MemoryStore`.

use prismiq_axum::prismiq_core::{Engine, MemoryStore};

async fn engine() -> Engine {
    Engine::new(MemoryStore::new())
}

prismiq_tests::http_suite!(engine);
