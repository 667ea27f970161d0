//! PostgreSQL storage for Prismiq: [`PostgresStore`] implements the store traits of
//! `prismiq-core` (dashboards and widgets, saved queries, pins, schema configs, tenant
//! dashboard templates, share links) with sqlx, and passes the same conformance suite as the
//! in-memory store. [`PgEventBus`] carries live events between the instances of a host through
//! PostgreSQL `LISTEN/NOTIFY`.
//!
//! # Quick start
//!
//! ```no_run
//! use prismiq_core::Engine;
//! use prismiq_store_postgres::PostgresStore;
//! use prismiq_store_postgres::sqlx::postgres::PgPoolOptions;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Usually the host's own pool. Give it an acquire timeout so that a database that is down
//! // turns into `StoreError::Unavailable` instead of a wait.
//! let pool = PgPoolOptions::new()
//!     .acquire_timeout(Duration::from_secs(5))
//!     .connect("postgres://app@localhost/app")
//!     .await?;
//! let store = PostgresStore::new(pool);
//! store.migrate().await?; // creates or updates prismiq's tables, in schema `prismiq`
//! let engine = Engine::new(store);
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```
//!
//! [`PostgresStore::connect`] is a shortcut that opens a pool of its own with a 5 s acquire
//! timeout, which checks a connection before handing it out only after it sat idle for
//! [`CHECK_IDLE_AFTER`] (its docs show how a host's own pool can do the same).
//!
//! # Tables and migrations
//!
//! [`PostgresStore::migrate`] applies the embedded [`MIGRATOR`]: tables `prismiq.dashboards`,
//! `prismiq.widgets`, `prismiq.dashboard_defaults`, `prismiq.starter_dashboards`,
//! `prismiq.saved_queries`, `prismiq.pins`, `prismiq.schema_configs`, `prismiq.templates`,
//! `prismiq.shares`, and the live events' `prismiq.event_counters` and `prismiq.events`,
//! recorded in `prismiq._sqlx_migrations`, so they never mix with the host's
//! own `_sqlx_migrations`. Ids are UUIDs; JSON values (layouts, filters, widget queries,
//! positions and configs, saved queries, schema configs, template contents, a share link's
//! locked filters) are `jsonb` holding the serde form of the `prismiq-core` types. A template's
//! layout, filters, widgets and refresh interval are one `jsonb` document
//! ([`TemplateContent`](prismiq_core::TemplateContent)); its name, description, category,
//! author and creation time are columns. A share link stores only its token's hash (unique
//! across tenants), and goes with its dashboard (`on delete cascade`): deleting a dashboard
//! revokes its links.
//!
//! # Live events
//!
//! An [`Engine`](prismiq_core::Engine) delivers live events to the subscribers of its own
//! process unless given a shared bus. [`PgEventBus`] shares them through the database every
//! instance already uses:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use prismiq_core::Engine;
//! # use prismiq_store_postgres::PostgresStore;
//! # async fn run(store: PostgresStore) -> Result<(), Box<dyn std::error::Error>> {
//! let bus = store.event_bus().await?; // listens before it returns
//! let engine = Engine::new(store).with_event_bus(Arc::new(bus));
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```
//!
//! Each tenant's events get consecutive ids, and its last 1,000 (by default) are kept in
//! `prismiq.events` so that a client can resume from any instance; each instance receives every
//! event, in id order per tenant, on a connection of its own. See [`PgEventBus`].
//!
//! # Guarantees
//!
//! - **One round trip per read, one transaction per write**, whatever the number of widgets:
//!   a dashboard comes with its widgets aggregated in the same query, a list of dashboards is
//!   one query, a layout save or a whole-dashboard save writes every widget in one statement.
//!   Each operation is a transaction: `BEGIN`, the tenant setup statement (see below), its
//!   statements, then `COMMIT` for a write; a read ends with a `ROLLBACK` that travels with the
//!   pool's check of the returned connection, so it costs no round trip of its own.
//! - **All or nothing**: creating a dashboard with widgets, saving a whole dashboard, deleting
//!   a dashboard (its widgets, pins, defaults and share links with it) and reordering pins are
//!   each one transaction.
//! - **Limits hold under concurrency**: the per-owner dashboard limit is counted under a
//!   transaction-scoped advisory lock, the per-dashboard widget limit under the dashboard's
//!   row lock.
//! - **One starter dashboard per user, ever**: `create_default` records the user in
//!   `prismiq.starter_dashboards` in the transaction that creates the dashboard and makes it
//!   the user's default, under a transaction-scoped advisory lock per (tenant, user): concurrent
//!   calls, from any number of processes, create one dashboard, and none is created again once
//!   the record exists, even after the dashboard was deleted. A failure records nothing.
//! - **Summaries in one statement**: a page of `list_dashboard_summaries`, the default and
//!   the widget counts included, is one query, continued by `(updated_at, id)` on the listing
//!   index.
//! - **Compact pin positions**: every list is `0..n-1`, also after a dashboard that was
//!   pinned is deleted.
//! - **Errors**: a broken uniqueness rule is a
//!   [`StoreError::Conflict`](prismiq_core::StoreError::Conflict); a database that cannot be
//!   reached is [`StoreError::Unavailable`](prismiq_core::StoreError::Unavailable); anything
//!   else is [`StoreError::Backend`](prismiq_core::StoreError::Backend) with the
//!   [`PgStoreError`] as its source.
//!
//! # Row-level security
//!
//! Every statement filters by tenant. As a second line of defence, each transaction sets the
//! tenant with `set_config('prismiq.tenant_id', …, true)` and every table of the store has
//! forced row-level security with the policy `tenant_id = current_setting('prismiq.tenant_id')`,
//! so a statement that forgot its filter would see only the current tenant's rows. The one
//! read that runs outside a transaction,
//! [`dashboard_access`](prismiq_core::DashboardStore::dashboard_access) for conditional `GET`s,
//! calls the function `prismiq.dashboard_access`, which makes the same settings and then reads
//! under the policies, in one statement. The live events' tables are the exception: the event
//! bus serves every tenant at once, outside the
//! store's transactions (see [`PgEventBus`]).
//!
//! The one exception is [`ShareStore::find_share`](prismiq_core::ShareStore::find_share): a
//! share link's token names it, whatever its tenant. Its transaction sets no tenant but
//! `set_config('prismiq.share_token_hash', …, true)`, is read-only, and `prismiq.shares` has a
//! second policy, for reads only, `token_hash = current_setting('prismiq.share_token_hash')`:
//! so the lookup sees exactly the one share whose hash it names, in any tenant, and no other
//! row of any table. Row-level security is never bypassed for it (the role switch below applies
//! as well).
//!
//! PostgreSQL exempts superusers and roles with `bypassrls` from row-level security. When the
//! store's connections use such a role, each transaction therefore switches to the role
//! `prismiq_app` (no login, no bypass, only the privileges the store needs), which the
//! migrations create when they run as a role allowed to create roles. So:
//!
//! - connected as an ordinary role, as in production, the store needs no role switch: forced
//!   row-level security applies to the tables' owner too, and the migrations need no right to
//!   create roles;
//! - connected as a superuser (typical in development and tests), the switch happens by itself;
//! - connected as a non-superuser with `bypassrls`, grant it `prismiq_app` (`grant prismiq_app
//!   to …`) so it may switch;
//! - if the switch is needed but impossible (no `prismiq_app`, or no membership), every
//!   operation fails rather than run without the policies.
//!
//! # Features
//!
//! | Feature | Default | Enables |
//! |---|---|---|
//! | `test-utils` | no | `testing`: a fresh, migrated database per test, from `DATABASE_URL` (implies `prismiq-core/test-utils`) |
//! | `migrate-sqlite` | no | `migrate::SqliteLedger`: the id mapping of a [migration](migrate) into a SQLite store (pulls in `prismiq-store-sqlite`) |

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
mod bench_sql;
mod dashboards;
mod decode;
mod error;
mod events;
pub mod migrate;
mod pins;
mod rows;
mod saved_queries;
mod schema_configs;
mod shares;
mod source;
mod sql;
mod store;
mod templates;
#[cfg(feature = "test-utils")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-utils")))]
pub mod testing;

pub use error::PgStoreError;
pub use events::{
    DEFAULT_CHANNEL, DEFAULT_WINDOW, LISTENER_APPLICATION_NAME, MAX_EVENT_BYTES, MAX_INLINE_BYTES,
    PgEventBus,
};
pub use source::PgDataSource;
pub use sqlx;
pub use store::{CHECK_IDLE_AFTER, DEFAULT_ACQUIRE_TIMEOUT, MIGRATOR, PostgresStore};
