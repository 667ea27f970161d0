//! The store conformance suite of `prismiq-core`, each case on a fresh in-memory database.

prismiq_core::store_conformance!(prismiq_store_sqlite::testing::fresh_store);
