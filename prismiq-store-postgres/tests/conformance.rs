//! The store conformance suite of `prismiq-core`, run against `PostgresStore`: one brand-new,
//! migrated database per test (needs `DATABASE_URL`).

prismiq_core::store_conformance!(prismiq_store_postgres::testing::fresh_store);
