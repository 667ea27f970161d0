//! The store conformance suite, run against `MemoryStore`.

use prismiq_core::MemoryStore;

async fn store() -> MemoryStore {
    MemoryStore::new()
}

prismiq_core::store_conformance!(store);
