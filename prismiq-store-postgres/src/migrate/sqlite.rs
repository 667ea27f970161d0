//! The mapping in SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prismiq_core::BoxError;
use prismiq_store_sqlite::sqlx::{self, Row, SqlitePool};
use uuid::Uuid;

use super::{MappedId, MigrationLedger, RecordKind};

/// The mapping in SQLite, table `prismiq_migrated_ids` (primary key
/// `(kind, tenant_id, old_id)`; ids and times as text), usually in the database of a
/// `SqliteStore` (`SqliteLedger::new(store.pool().clone())`).
#[derive(Debug, Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "migrate-sqlite")))]
pub struct SqliteLedger {
    pool: SqlitePool,
}

impl SqliteLedger {
    /// A ledger in the database of `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

const SQLITE_CREATE: &str = "\
create table if not exists prismiq_migrated_ids (
    kind text not null,
    tenant_id text not null,
    old_id text not null,
    new_id text not null,
    migrated_at text not null,
    primary key (kind, tenant_id, old_id)
) without rowid;";

#[async_trait]
impl MigrationLedger for SqliteLedger {
    async fn load(&self) -> Result<Vec<MappedId>, BoxError> {
        let exists: i64 = sqlx::query_scalar(
            "select count(*) from sqlite_master where type = 'table' and name = 'prismiq_migrated_ids'",
        )
        .fetch_one(&self.pool)
        .await?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "select kind, tenant_id, old_id, new_id, migrated_at from prismiq_migrated_ids \
             order by migrated_at, kind, tenant_id, old_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let new_id: String = row.try_get("new_id")?;
                let migrated_at: String = row.try_get("migrated_at")?;
                Ok(MappedId {
                    kind: RecordKind::parse(&kind)
                        .ok_or_else(|| format!("unknown kind {kind:?} in prismiq_migrated_ids"))?,
                    tenant_id: row.try_get("tenant_id")?,
                    old_id: row.try_get("old_id")?,
                    new_id: Uuid::parse_str(&new_id)?,
                    migrated_at: DateTime::parse_from_rfc3339(&migrated_at)?.with_timezone(&Utc),
                })
            })
            .collect()
    }

    async fn record(&self, entries: &[MappedId]) -> Result<(), BoxError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(SQLITE_CREATE).execute(&mut *tx).await?;
        for entry in entries {
            sqlx::query(
                "insert into prismiq_migrated_ids (kind, tenant_id, old_id, new_id, migrated_at) \
                 values (?, ?, ?, ?, ?) on conflict do nothing",
            )
            .bind(entry.kind.as_str())
            .bind(&entry.tenant_id)
            .bind(&entry.old_id)
            .bind(entry.new_id.to_string())
            .bind(
                entry
                    .migrated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
