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
}
