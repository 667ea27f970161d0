//! SQLite for Prismiq: [`SqliteStore`] implements the store traits of `prismiq-core`
//! (dashboards and widgets, saved queries, pins, schema configs, tenant dashboard templates,
//! share links) with sqlx, and passes the same conformance suite as the in-memory and PostgreSQL stores;
//! [`SqliteDataSource`] is a [`DataSource`](prismiq_core::DataSource) that runs analytics
//! queries on SQLite files.
//!
//! SQLite is compiled into the crate (sqlx's `sqlite-bundled`), so a host needs no system
//! library: a single file, or memory, holds prismiq's tables.
//!
//! # Quick start
//!
//! ```no_run
//! use prismiq_core::Engine;
//! use prismiq_store_sqlite::SqliteStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Creates the file if it does not exist; WAL journal, foreign keys on, 5 s busy timeout.
//! let store = SqliteStore::connect("sqlite://prismiq.db").await?;
//! store.migrate().await?; // creates or updates prismiq's tables
//! let engine = Engine::new(store);
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```
//!
//! A host with a pool of its own passes it to [`SqliteStore::new`] (its connections need
//! `foreign_keys = ON`, sqlx's default; [`SqliteStore::options`] gives the settings `connect`
//! uses). [`SqliteStore::in_memory`] opens a private, migrated in-memory database for tests
//! and demos.
//!
//! # Analytics data
//!
//! [`SqliteDataSource`] reads the host's data, read-only: one file that every tenant reads
//! ([`SqliteDataSource::open`]), or a file per tenant in a directory
//! ([`SqliteDataSource::per_tenant_directory`], schema `acme` is `acme.db`). It speaks
//! [`Dialect::Sqlite`](prismiq_core::Dialect::Sqlite), so the engine compiles queries for it.
//!
//! ```no_run
//! use std::sync::Arc;
//! use prismiq_core::Engine;
//! use prismiq_store_sqlite::{SqliteDataSource, SqliteStore};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::connect("sqlite://prismiq.db").await?;
//! store.migrate().await?;
//! let source = SqliteDataSource::per_tenant_directory("/var/lib/analytics");
//! let engine = Engine::new(store).with_data_source(Arc::new(source));
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```
//!
//! # Tables and migrations
//!
//! [`SqliteStore::migrate`] applies the embedded [`MIGRATOR`] (`sql/sqlite` in the repository):
//! tables `dashboards`, `widgets`, `dashboard_defaults`, `starter_dashboards`, `saved_queries`,
//! `pins`, `schema_configs`, `templates`, `shares` and `dashboard_versions`, recorded in
//! `_prismiq_migrations`, so they
//! never mix with the host's own `_sqlx_migrations`. Ids are UUIDs as text; timestamps are UTC
//! text with six fractional digits (`2026-11-21T21:35:40.181441Z`), which sorts as the instants
//! do and keeps every [`Timestamp`](prismiq_core::Timestamp) exactly; JSON values (layouts,
//! filters, viewers, widget queries, positions and configs, saved queries, schema configs,
//! template contents, a share link's locked filters) are text holding the serde form of the
//! `prismiq-core` types. A template's layout, filters, widgets and refresh interval are one JSON
//! document ([`TemplateContent`](prismiq_core::TemplateContent)); its name, description,
//! category, author and creation time are columns. A share link stores only its token's hash
//! (unique across tenants), and goes with its dashboard (`on delete cascade`): deleting a
//! dashboard revokes its links.
//!
//! # Guarantees
//!
//! - **Tenants apart**: every table carries `tenant_id` and every statement filters by it
//!   (SQLite has no row-level security, so this is the only line of defence, and the
//!   conformance suite's isolation case checks it). The one exception is
//!   [`ShareStore::find_share`](prismiq_core::ShareStore::find_share), which finds a share
//!   link by its token's hash in whatever tenant: the token is what names the link.
//! - **One transaction per operation**: a read sees one snapshot; a write takes SQLite's write
//!   lock when it begins (`BEGIN IMMEDIATE`), so the per-owner dashboard limit and the
//!   per-dashboard widget limit are counted and enforced atomically with the insert, and
//!   `create_default` checks and writes the user's record in `starter_dashboards`, creates the
//!   dashboard and sets the default as one step: concurrent first visits, from any number of
//!   connections or processes, create one starter dashboard, and none is created again once
//!   the record exists, even after the dashboard was deleted. A failure records nothing.
//! - **All or nothing**: creating a dashboard with widgets, saving a whole dashboard (widget
//!   ids kept), deleting a dashboard (its widgets, pins, defaults and share links go by
//!   `on delete cascade`) and
//!   reordering pins are each one transaction.
//! - **Compact pin positions**: every list is `0..n-1`, also after a dashboard that was
//!   pinned is deleted.
//! - **The view rule in SQL**: listings implement exactly
//!   [`Viewer::can_view_dashboard`](prismiq_core::permissions::Viewer::can_view_dashboard)
//!   (viewers are a JSON array read with `json_each`) and
//!   [`Viewer::can_read_saved_query`](prismiq_core::permissions::Viewer::can_read_saved_query).
//! - **Errors**: a broken uniqueness rule is a
//!   [`StoreError::Conflict`](prismiq_core::StoreError::Conflict); a database that is busy
//!   past the timeout, locked, or cannot be read or written is
//!   [`StoreError::Unavailable`](prismiq_core::StoreError::Unavailable); anything else is
//!   [`StoreError::Backend`](prismiq_core::StoreError::Backend) with the [`SqliteStoreError`]
//!   as its source.
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---|---|---|
//! | `test-utils` | no | `testing`: a fresh, migrated in-memory store per test (implies `prismiq-core/test-utils`) |

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
mod bench_sql;
mod dashboards;
mod decode;
mod error;
mod pins;
mod rows;
mod saved_queries;
mod schema_configs;
mod shares;
mod source;
mod store;
mod templates;
#[cfg(feature = "test-utils")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-utils")))]
pub mod testing;

pub use error::SqliteStoreError;
pub use source::SqliteDataSource;
pub use sqlx;
pub use store::{DEFAULT_BUSY_TIMEOUT, MIGRATOR, SqliteStore};
