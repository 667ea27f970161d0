//! Test support (feature `test-utils`): a brand-new, migrated database per test.
//!
//! ```no_run
//! // tests/conformance.rs of a crate with `prismiq-store-postgres/test-utils`:
//! prismiq_core::store_conformance!(prismiq_store_postgres::testing::fresh_store);
//! ```
//!
//! The server comes from `DATABASE_URL`: an admin URL of a server where the tests may
//! `create database` (for example `postgres://postgres@127.0.0.1:5432/postgres`). Without it
//! every function here panics with instructions; database tests are never skipped silently.
//! `source scripts/pg-env.sh` finds or starts a server and sets the variable.
//!
//! Each database is named `prismiq_test_<unix seconds>_<random>`. Tests may drop theirs with
//! [`TestDatabase::drop_database`]; the ones left behind are dropped by later calls once they
//! are a few minutes old and nobody is connected to them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prismiq_core::Scope;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::PostgresStore;
use crate::sql::{dynamic, quote_identifier};

/// The prefix of every test database's name.
pub const DATABASE_PREFIX: &str = "prismiq_test_";

/// How old an abandoned test database must be before a later run drops it.
const ABANDONED_AFTER: Duration = Duration::from_secs(300);

const INSTRUCTIONS: &str = "\
DATABASE_URL is not set, and the PostgreSQL store tests need a server.

Set DATABASE_URL to an admin URL of a PostgreSQL server where the tests may CREATE DATABASE,
for example:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres

or let the project find or start one:

    source scripts/pg-env.sh

(it uses a server on 127.0.0.1:5432, or starts a throwaway cluster from installed PostgreSQL
binaries).";

/// The admin URL from `DATABASE_URL`.
///
/// # Panics
///
/// When `DATABASE_URL` is unset or empty, with instructions to set it.
pub fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("{INSTRUCTIONS}"),
    }
}

/// A store on a brand-new, migrated database.
///
/// # Panics
///
/// When there is no usable server (see [`database_url`]).
pub async fn fresh_store() -> PostgresStore {
    fresh_database().await.store().clone()
}

/// A brand-new, migrated database and a store on it.
///
/// # Panics
///
/// When there is no usable server (see [`database_url`]).
pub async fn fresh_database() -> TestDatabase {
    let url = database_url();
    let admin: PgConnectOptions = url.parse().unwrap_or_else(|e| {
        panic!("DATABASE_URL is not a valid PostgreSQL URL ({e}); it was {url:?}")
    });
    let admin = admin.disable_statement_logging();
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot connect to DATABASE_URL ({url}): {e}\n\
             Is the server running? `source scripts/pg-env.sh` finds or starts one."
            )
        });
    drop_abandoned_databases(&mut conn).await;

    let name = format!(
        "{DATABASE_PREFIX}{}_{}",
        unix_seconds(),
        uuid::Uuid::now_v7().simple()
    );
    dynamic(format!("create database {}", quote_identifier(&name)))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name} via DATABASE_URL: {e}"));
    conn.close().await.ok();

    let options = admin.clone().database(&name);
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test database {name}: {e}"));
    let store = PostgresStore::new(pool);
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrating test database {name} failed: {e:?}"));
    TestDatabase {
        name,
        admin,
        options,
        store,
    }
}

/// A test database made by [`fresh_database`].
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    admin: PgConnectOptions,
    options: PgConnectOptions,
    store: PostgresStore,
}

impl TestDatabase {
    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A store on the database (its pool has 10 connections).
    pub fn store(&self) -> &PostgresStore {
        &self.store
    }

    /// Options to connect to the database, as the admin user of `DATABASE_URL`.
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.options
    }

    /// Closes the store's pool and drops the database.
    ///
    /// # Panics
    ///
    /// When the database cannot be dropped.
    pub async fn drop_database(self) {
        self.store.pool().close().await;
        let mut conn = PgConnection::connect_with(&self.admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to drop {}: {e}", self.name));
        dynamic(format!(
            "drop database if exists {} with (force)",
            quote_identifier(&self.name)
        ))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot drop test database {}: {e}", self.name));
        conn.close().await.ok();
    }
}

/// Runs `sql` inside one of the store's tenant-scoped transactions, exactly as the store runs
/// its own statements, and rolls back.
///
/// It exists to prove the row-level-security policies: a statement without any tenant filter
/// (`select count(*) from prismiq.dashboards`) must see only the scope's tenant.
pub async fn fetch_all_scoped(
    store: &PostgresStore,
    scope: &Scope,
    sql: &str,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut tx = store.begin(scope).await?;
    let rows = dynamic(sql.to_owned()).fetch_all(&mut *tx).await?;
    tx.rollback().await?;
    Ok(rows)
}

/// Runs `sql` inside the transaction in which the store finds a share link by its token's
/// hash ([`ShareStore::find_share`](prismiq_core::ShareStore::find_share)), exactly as the
/// store runs its own lookup, and rolls back.
///
/// It exists to prove the `share_lookup` policy: a statement without any filter
/// (`select count(*) from prismiq.shares`) must see only the share with that hash, and no row
/// of any other table.
pub async fn fetch_all_share_lookup(
    store: &PostgresStore,
    token_hash: &str,
    sql: &str,
) -> Result<Vec<PgRow>, sqlx::Error> {
    let mut tx = store.begin_share_lookup(token_hash).await?;
    let rows = dynamic(sql.to_owned()).fetch_all(&mut *tx).await?;
    tx.rollback().await?;
    Ok(rows)
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Drops test databases that earlier runs left behind: old enough, and with no connection.
/// Failures are ignored (another run may be dropping the same database).
async fn drop_abandoned_databases(conn: &mut PgConnection) {
    const IDLE_TEST_DATABASES: &str = "select d.datname from pg_catalog.pg_database d \
         where starts_with(d.datname, 'prismiq_test_') \
           and not exists (select from pg_catalog.pg_stat_activity a where a.datid = d.oid)";
    let Ok(names) = sqlx::query_scalar::<_, String>(IDLE_TEST_DATABASES)
        .fetch_all(&mut *conn)
        .await
    else {
        return;
    };
    let now = unix_seconds();
    for name in names {
        let created = name
            .strip_prefix(DATABASE_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) > ABANDONED_AFTER.as_secs()) {
            let _ = dynamic(format!(
                "drop database if exists {}",
                quote_identifier(&name)
            ))
            .execute(&mut *conn)
            .await;
        }
    }
}
