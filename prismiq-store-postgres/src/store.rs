//! [`PostgresStore`]: construction, migrations, and the tenant-scoped transaction every
//! operation runs in.

use std::time::Duration;

use prismiq_core::Scope;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

use crate::PgStoreError;

/// prismiq's migrations (`sql/migrations`), embedded at build time.
///
/// They create schema `prismiq` and record themselves in `prismiq._sqlx_migrations`, apart
/// from the host application's own migrations. [`PostgresStore::migrate`] runs them.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// How long [`PostgresStore::connect`]'s pool waits for a connection before failing.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// [`PostgresStore::connect`]'s pool checks that a connection still works before handing it
/// out only when it has been idle this long. A connection in steady use needs no check (the
/// pool checks every connection it gets back, and a failed statement closes it), which saves a
/// round trip per operation; one that sat idle may have been cut by a server restart.
pub const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

/// A select-list item that, when the connection's role would bypass row-level security (a
/// superuser or a role with `bypassrls`), drops to `prismiq_app` for the rest of the
/// transaction.
///
/// The role check is a scalar subquery so it is evaluated once, before the role changes.
macro_rules! drop_rls_bypass {
    () => {
        "case when (select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles r \
                    where r.rolname = current_user) \
              then set_config('role', 'prismiq_app', true) end"
    };
}

/// Starts every tenant-scoped transaction: sets the tenant `$1` that row-level security
/// confines the transaction to and, when the connection's role would bypass row-level security,
/// drops to `prismiq_app`. Both settings end with the transaction, so pooled connections carry
/// nothing over.
pub(crate) const BEGIN_SCOPE: &str = concat!(
    "select set_config('prismiq.tenant_id', $1, true), ",
    drop_rls_bypass!()
);

/// Starts the one transaction that knows no tenant, the lookup of a share link by its token's
/// hash `$1`: sets `prismiq.share_token_hash`, which the `share_lookup` policy of
/// `prismiq.shares` reads, and no tenant, so that row-level security lets the transaction see
/// exactly that share and no other row of any table; makes the transaction read-only; and
/// drops to `prismiq_app` as [`BEGIN_SCOPE`] does, so the policies apply to a superuser too.
pub(crate) const BEGIN_SHARE_LOOKUP: &str = concat!(
    "select set_config('prismiq.share_token_hash', $1, true), \
            set_config('transaction_read_only', 'on', true), ",
    drop_rls_bypass!()
);

/// A [`DashboardStore`](prismiq_core::DashboardStore),
/// [`SavedQueryStore`](prismiq_core::SavedQueryStore), [`PinStore`](prismiq_core::PinStore),
/// [`SchemaConfigStore`](prismiq_core::SchemaConfigStore),
/// [`TemplateStore`](prismiq_core::TemplateStore) and
/// [`ShareStore`](prismiq_core::ShareStore) in PostgreSQL.
///
/// Cloning it is cheap and shares the pool. Every operation is one transaction on one
/// connection of the pool; see the [crate docs](crate) for what it guarantees.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// A store over the host's pool. Run [`migrate`](Self::migrate) once before using it.
    ///
    /// Give the pool an `acquire_timeout` so that a database that is down turns into
    /// [`StoreError::Unavailable`](prismiq_core::StoreError::Unavailable) rather than a wait.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Connects a pool of its own to `url`, waiting at most [`DEFAULT_ACQUIRE_TIMEOUT`] for a
    /// connection, and checks that the database answers.
    ///
    /// The pool checks a connection before handing it out only when it has been idle for
    /// [`CHECK_IDLE_AFTER`] or more, rather than every time (sqlx's default, one more round
    /// trip per operation). A host that builds its own pool can do the same:
    ///
    /// ```no_run
    /// use prismiq_store_postgres::sqlx::Connection;
    /// use prismiq_store_postgres::sqlx::postgres::PgPoolOptions;
    /// use prismiq_store_postgres::{CHECK_IDLE_AFTER, DEFAULT_ACQUIRE_TIMEOUT};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = PgPoolOptions::new()
    ///     .acquire_timeout(DEFAULT_ACQUIRE_TIMEOUT)
    ///     .test_before_acquire(false)
    ///     .before_acquire(|conn, meta| {
    ///         Box::pin(async move {
    ///             if meta.idle_for >= CHECK_IDLE_AFTER {
    ///                 conn.ping().await?;
    ///             }
    ///             Ok(true)
    ///         })
    ///     })
    ///     .connect("postgres://app@localhost/app")
    ///     .await?;
    /// # let _ = pool;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, PgStoreError> {
        let pool = PgPoolOptions::new()
            .acquire_timeout(DEFAULT_ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await?;
        Ok(Self::new(pool))
    }

    /// Creates or updates prismiq's tables. Idempotent, and safe to run from several processes
    /// at once (sqlx serialises them with an advisory lock).
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// The pool the store uses.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A transaction confined to the scope's tenant: every statement in it sees and writes only
    /// that tenant's rows, even one that forgets its `tenant_id` filter.
    pub(crate) async fn begin(
        &self,
        scope: &Scope,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(BEGIN_SCOPE)
            .bind(scope.tenant_id())
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A read-only transaction with no tenant, in which row-level security lets through the one
    /// share whose token hashes to `token_hash`, whatever its tenant, and nothing else.
    pub(crate) async fn begin_share_lookup(
        &self,
        token_hash: &str,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(BEGIN_SHARE_LOOKUP)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// Ends a transaction that only read: there is nothing to commit, so it is rolled back, which
/// ends the tenant setting and the role switch just the same.
///
/// Dropping the transaction queues the `ROLLBACK`; sqlx sends it together with the check the
/// pool runs on every connection it gets back (after the caller has its result), and the
/// connection is reused only once both are done. So a read costs no round trip for ending its
/// transaction, where `COMMIT` would cost one while the caller waits.
pub(crate) fn end_read(tx: Transaction<'static, Postgres>) {
    drop(tx);
}
