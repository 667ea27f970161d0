//! [`SqliteStore`]: construction, migrations, and the transactions every operation runs in.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::SqliteStoreError;

/// prismiq's SQLite migrations (`sql/sqlite`), embedded at build time.
///
/// They record themselves in the table `_prismiq_migrations`, apart from the host
/// application's own `_sqlx_migrations`. [`SqliteStore::migrate`] runs them.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// How long a statement waits for another connection's write lock before failing with
/// [`StoreError::Unavailable`](prismiq_core::StoreError::Unavailable).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`DashboardStore`](prismiq_core::DashboardStore),
/// [`SavedQueryStore`](prismiq_core::SavedQueryStore), [`PinStore`](prismiq_core::PinStore),
/// [`SchemaConfigStore`](prismiq_core::SchemaConfigStore),
/// [`TemplateStore`](prismiq_core::TemplateStore) and
/// [`ShareStore`](prismiq_core::ShareStore) in SQLite.
///
/// Cloning it is cheap and shares the pool. Every operation is one transaction on one
/// connection of the pool; see the [crate docs](crate) for what it guarantees.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// A store over the host's pool. Run [`migrate`](Self::migrate) once before using it.
    ///
    /// The pool's connections need `foreign_keys = ON` (sqlx's default) for widgets, pins,
    /// defaults and share links to follow their dashboard; [`options`](Self::options) gives the settings
    /// [`connect`](Self::connect) uses.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The connection settings [`connect`](Self::connect) uses for `url` (`sqlite://path.db`,
    /// `sqlite:path.db` or a plain path): create the file if missing, WAL journal,
    /// `synchronous = NORMAL`, `foreign_keys = ON`, a [`DEFAULT_BUSY_TIMEOUT`] busy timeout.
    pub fn options(url: &str) -> Result<SqliteConnectOptions, SqliteStoreError> {
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        Ok(options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(DEFAULT_BUSY_TIMEOUT))
    }

    /// Opens a pool of its own on the database file at `url` with [`options`](Self::options),
    /// creating the file if it does not exist.
    ///
    /// For a database in memory use [`in_memory`](Self::in_memory) instead: with
    /// `sqlite::memory:`, each connection of the pool would open a database of its own.
    pub async fn connect(url: &str) -> Result<Self, SqliteStoreError> {
        let pool = SqlitePoolOptions::new()
            .connect_with(Self::options(url)?)
            .await?;
        Ok(Self::new(pool))
    }

    /// A store in a private in-memory database, already migrated: for tests and demos.
    ///
    /// The database lives as long as the store's one connection, which is never closed for
    /// being idle or old; operations take turns on it.
    pub async fn in_memory() -> Result<Self, SqliteStoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?
            .foreign_keys(true)
            .busy_timeout(DEFAULT_BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        let store = Self::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Creates or updates prismiq's tables. Idempotent.
    pub async fn migrate(&self) -> Result<(), SqliteStoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The pool the store uses.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A transaction that only reads: it sees one snapshot of the database.
    pub(crate) async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin().await
    }

    /// A transaction that writes. It takes the write lock at `BEGIN` (waiting up to the busy
    /// timeout), so checks made in it (limits, existence) hold until it commits, and it never
    /// fails midway for a lock another writer took after it started reading.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}
