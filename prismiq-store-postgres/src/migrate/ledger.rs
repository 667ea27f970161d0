//! The mapping from the original's integer ids to ours, kept in the target database.

use std::fmt::Debug;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prismiq_core::BoxError;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::RecordKind;

/// One migrated record: which original row became which of ours, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedId {
    /// What kind of record.
    pub kind: RecordKind,
    /// Its tenant.
    pub tenant_id: String,
    /// The original's id, as the original served it (the integer in decimal, `"12"`).
    pub old_id: String,
    /// Our id.
    pub new_id: Uuid,
    /// When it was migrated.
    pub migrated_at: DateTime<Utc>,
}

/// The original's times of one migrated record, to set on ours: what makes the record served
/// by our API carry the times the original served. A time the original did not have (`NULL`)
/// leaves ours as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalTimes {
    /// What kind of record.
    pub kind: RecordKind,
    /// Our id.
    pub new_id: Uuid,
    /// When it was created (`created_at`; for a pin, `pinned_at`).
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed (`updated_at`; none for a pin).
    pub updated_at: Option<DateTime<Utc>>,
}

/// Where a migration keeps its [`MappedId`]s: what makes a second run add only what is new,
/// and what lets a host redirect the original's links to ours.
///
/// [`PgLedger`] keeps them in `prismiq.migrated_ids`; `SqliteLedger` (feature
/// `migrate-sqlite`) in `prismiq_migrated_ids`. Each creates its table when it first records.
#[async_trait]
pub trait MigrationLedger: Debug + Send + Sync + 'static {
    /// Every recorded mapping; none when the table does not exist yet (reading never creates
    /// it, so that a dry run writes nothing).
    async fn load(&self) -> Result<Vec<MappedId>, BoxError>;

    /// Records `entries`, creating the table if missing. An entry whose (kind, tenant, old id)
    /// is already recorded keeps its first new id.
    async fn record(&self, entries: &[MappedId]) -> Result<(), BoxError>;

    /// Sets the creation and change times of records of `tenant_id` just written to the
    /// original's, all in one transaction; for a dashboard also the time of its first version
    /// entry (version 1), to its change time. The ledger has the target's connection, which
    /// the store traits do not expose: they set the times themselves, to the time of writing.
    async fn keep_times(&self, tenant_id: &str, records: &[OriginalTimes]) -> Result<(), BoxError>;

    /// The new id of one original record, if it was migrated.
    async fn lookup(
        &self,
        kind: RecordKind,
        tenant_id: &str,
        old_id: &str,
    ) -> Result<Option<Uuid>, BoxError> {
        Ok(self
            .load()
            .await?
            .into_iter()
            .find(|m| m.kind == kind && m.tenant_id == tenant_id && m.old_id == old_id)
            .map(|m| m.new_id))
    }
}

/// The mapping in PostgreSQL, table `prismiq.migrated_ids` (primary key
/// `(kind, tenant_id, old_id)`), usually in the database of a [`PostgresStore`](crate::PostgresStore).
#[derive(Debug, Clone)]
pub struct PgLedger {
    pool: PgPool,
}

impl PgLedger {
    /// A ledger in the database of `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

const PG_CREATE: &str = "\
create schema if not exists prismiq;
create table if not exists prismiq.migrated_ids (
    kind text not null,
    tenant_id text not null,
    old_id text not null,
    new_id uuid not null,
    migrated_at timestamptz not null default now(),
    primary key (kind, tenant_id, old_id)
);
create index if not exists migrated_ids_new_id_idx on prismiq.migrated_ids (new_id);";

/// Sets the times of a dashboard, widget or saved query: `$1` tenant, `$2` our id, `$3`
/// created, `$4` updated (each `NULL` for "keep ours").
const PG_DASHBOARD_TIMES: &str = "update prismiq.dashboards \
     set created_at = coalesce($3, created_at), updated_at = coalesce($4, updated_at) \
     where tenant_id = $1 and id = $2";
const PG_WIDGET_TIMES: &str = "update prismiq.widgets \
     set created_at = coalesce($3, created_at), updated_at = coalesce($4, updated_at) \
     where tenant_id = $1 and id = $2";
const PG_SAVED_QUERY_TIMES: &str = "update prismiq.saved_queries \
     set created_at = coalesce($3, created_at), updated_at = coalesce($4, updated_at) \
     where tenant_id = $1 and id = $2";
/// `$3` pinned.
const PG_PIN_TIMES: &str = "update prismiq.pins set pinned_at = coalesce($3, pinned_at) \
     where tenant_id = $1 and id = $2";
/// The first version entry of dashboard `$2` made when it was written: `$3` its change time.
const PG_FIRST_VERSION_TIME: &str = "update prismiq.dashboard_versions \
     set created_at = coalesce($3, created_at) \
     where tenant_id = $1 and dashboard_id = $2 and version = 1";

/// Why the original's times could not be set in PostgreSQL: the role cannot disable the
/// `updated_at` triggers.
#[derive(Debug, thiserror::Error)]
#[error(
    "setting the original's times: disabling the trigger that sets updated_at needs the owner \
     of prismiq's tables (the role that ran PostgresStore::migrate) or a superuser"
)]
struct TriggerNotOwned(#[source] sqlx::Error);

/// The `before update` trigger that sets `updated_at` to now on every update, per kind (pins
/// have none), as `(disable, enable)`: off for the transaction that sets the original's times.
fn pg_trigger(kind: RecordKind) -> Option<(&'static str, &'static str)> {
    match kind {
        RecordKind::Dashboard => Some((
            "alter table prismiq.dashboards disable trigger dashboards_set_updated_at",
            "alter table prismiq.dashboards enable trigger dashboards_set_updated_at",
        )),
        RecordKind::Widget => Some((
            "alter table prismiq.widgets disable trigger widgets_set_updated_at",
            "alter table prismiq.widgets enable trigger widgets_set_updated_at",
        )),
        RecordKind::SavedQuery => Some((
            "alter table prismiq.saved_queries disable trigger saved_queries_set_updated_at",
            "alter table prismiq.saved_queries enable trigger saved_queries_set_updated_at",
        )),
        RecordKind::Pin => None,
    }
}

#[async_trait]
impl MigrationLedger for PgLedger {
    async fn load(&self) -> Result<Vec<MappedId>, BoxError> {
        let exists: bool =
            sqlx::query_scalar("select to_regclass('prismiq.migrated_ids') is not null")
                .fetch_one(&self.pool)
                .await?;
        if !exists {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "select kind, tenant_id, old_id, new_id, migrated_at from prismiq.migrated_ids \
             order by migrated_at, kind, tenant_id, old_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(MappedId {
                    kind: RecordKind::parse(&kind)
                        .ok_or_else(|| format!("unknown kind {kind:?} in prismiq.migrated_ids"))?,
                    tenant_id: row.try_get("tenant_id")?,
                    old_id: row.try_get("old_id")?,
                    new_id: row.try_get("new_id")?,
                    migrated_at: row.try_get("migrated_at")?,
                })
            })
            .collect()
    }

    async fn record(&self, entries: &[MappedId]) -> Result<(), BoxError> {
        let mut tx = self.pool.begin().await?;
        sqlx::raw_sql(PG_CREATE).execute(&mut *tx).await?;
        for entry in entries {
            sqlx::query(
                "insert into prismiq.migrated_ids (kind, tenant_id, old_id, new_id, migrated_at) \
                 values ($1, $2, $3, $4, $5) on conflict do nothing",
            )
            .bind(entry.kind.as_str())
            .bind(&entry.tenant_id)
            .bind(&entry.old_id)
            .bind(entry.new_id)
            .bind(entry.migrated_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs as the owner of prismiq's tables (the role that ran
    /// [`PostgresStore::migrate`](crate::PostgresStore::migrate)): the triggers that set
    /// `updated_at` to now on every update are disabled for the one transaction, which
    /// `alter table` allows only the owner. The change is transactional, so no other
    /// transaction ever sees them off; concurrent writes to those tables wait for it.
    async fn keep_times(&self, tenant_id: &str, records: &[OriginalTimes]) -> Result<(), BoxError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut triggers: Vec<RecordKind> = records.iter().map(|r| r.kind).collect();
        // In kind order, so that concurrent runs lock the tables in the same order.
        triggers.sort();
        triggers.dedup();
        let triggers: Vec<_> = triggers.into_iter().filter_map(pg_trigger).collect();
        let mut tx = self.pool.begin().await?;
        // Row-level security applies to the owner too (the tables force it).
        sqlx::query("select set_config('prismiq.tenant_id', $1, true)")
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
        for (disable, _) in &triggers {
            sqlx::query(*disable)
                .execute(&mut *tx)
                .await
                .map_err(TriggerNotOwned)?;
        }
        for record in records {
            let update = match record.kind {
                RecordKind::Dashboard => PG_DASHBOARD_TIMES,
                RecordKind::Widget => PG_WIDGET_TIMES,
                RecordKind::SavedQuery => PG_SAVED_QUERY_TIMES,
                RecordKind::Pin => PG_PIN_TIMES,
            };
            let query = sqlx::query(update)
                .bind(tenant_id)
                .bind(record.new_id)
                .bind(record.created_at);
            let query = match record.kind {
                RecordKind::Pin => query,
                _ => query.bind(record.updated_at),
            };
            query.execute(&mut *tx).await?;
            if record.kind == RecordKind::Dashboard {
                sqlx::query(PG_FIRST_VERSION_TIME)
                    .bind(tenant_id)
                    .bind(record.new_id)
                    .bind(record.updated_at)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (_, enable) in &triggers {
            sqlx::query(*enable).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
