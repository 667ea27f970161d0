//! The mapping in SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prismiq_core::BoxError;
use prismiq_store_sqlite::sqlx::{self, Row, SqlitePool};
use uuid::Uuid;

use super::{MappedId, MigrationLedger, OriginalTimes, RecordKind};

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

/// A time as the SQLite store writes it: UTC, six fractional digits.
fn time_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Sets the times of a dashboard, widget or saved query: tenant, our id, created, updated
/// (each `NULL` for "keep ours").
const SQLITE_DASHBOARD_TIMES: &str = "update dashboards \
     set created_at = coalesce(?3, created_at), updated_at = coalesce(?4, updated_at) \
     where tenant_id = ?1 and id = ?2";
const SQLITE_WIDGET_TIMES: &str = "update widgets \
     set created_at = coalesce(?3, created_at), updated_at = coalesce(?4, updated_at) \
     where tenant_id = ?1 and id = ?2";
const SQLITE_SAVED_QUERY_TIMES: &str = "update saved_queries \
     set created_at = coalesce(?3, created_at), updated_at = coalesce(?4, updated_at) \
     where tenant_id = ?1 and id = ?2";
/// Tenant, our id, pinned.
const SQLITE_PIN_TIMES: &str = "update pins set pinned_at = coalesce(?3, pinned_at) \
     where tenant_id = ?1 and id = ?2";
/// The first version entry of a dashboard made when it was written: tenant, dashboard, its
/// change time.
const SQLITE_FIRST_VERSION_TIME: &str = "update dashboard_versions \
     set created_at = coalesce(?3, created_at) \
     where tenant_id = ?1 and dashboard_id = ?2 and version = 1";

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

    async fn keep_times(&self, tenant_id: &str, records: &[OriginalTimes]) -> Result<(), BoxError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for record in records {
            let update = match record.kind {
                RecordKind::Dashboard => SQLITE_DASHBOARD_TIMES,
                RecordKind::Widget => SQLITE_WIDGET_TIMES,
                RecordKind::SavedQuery => SQLITE_SAVED_QUERY_TIMES,
                RecordKind::Pin => SQLITE_PIN_TIMES,
            };
            let query = sqlx::query(update)
                .bind(tenant_id)
                .bind(record.new_id.to_string())
                .bind(record.created_at.map(time_text));
            let query = match record.kind {
                RecordKind::Pin => query,
                _ => query.bind(record.updated_at.map(time_text)),
            };
            query.execute(&mut *tx).await?;
            if record.kind == RecordKind::Dashboard {
                sqlx::query(SQLITE_FIRST_VERSION_TIME)
                    .bind(tenant_id)
                    .bind(record.new_id.to_string())
                    .bind(record.updated_at.map(time_text))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
