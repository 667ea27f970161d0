//! Test support (feature `test-utils`): a fresh, migrated store per test.
//!
//! Each store is a private in-memory database, so tests need no setup, leave no files behind
//! and never see each other's data:
//!
//! ```
//! # async fn run() {
//! let store = prismiq_store_sqlite::testing::fresh_store().await;
//! # let _ = store;
//! # }
//! ```
//!
//! The store conformance suite of `prismiq-core` runs on it:
//!
//! ```ignore
//! prismiq_core::store_conformance!(prismiq_store_sqlite::testing::fresh_store);
//! ```

use crate::SqliteStore;

/// A store on a new, empty, migrated in-memory database ([`SqliteStore::in_memory`]).
///
/// # Panics
///
/// If the database cannot be opened or migrated.
pub async fn fresh_store() -> SqliteStore {
    SqliteStore::in_memory()
        .await
        .expect("opening and migrating an in-memory SQLite database")
}
