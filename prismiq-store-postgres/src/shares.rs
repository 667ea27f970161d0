//! [`ShareStore`] for [`PostgresStore`].
//!
//! Creating, listing and revoking links run in the tenant-scoped transaction like every other
//! operation. Finding a link by its token is the one lookup that knows no tenant: it runs in a
//! read-only transaction of its own ([`PostgresStore::begin_share_lookup`]) in which row-level
//! security still applies, its `share_lookup` policy letting through exactly the row whose
//! `token_hash` the transaction names.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prismiq_core::{
    DashboardId, NewShare, Scope, Share, ShareId, ShareStore, StoreError, StoreResult, StoredShare,
    Timestamp,
};
use sqlx::types::Json;

use crate::PostgresStore;
use crate::error::db;
use crate::rows::{ShareRow, StoredShareRow};
use crate::store::end_read;

/// Saves share `$2` of tenant `$1` for dashboard `$3`, with token hash `$4`, label `$5`, locked
/// filters `$6`, expiry `$7`, creator `$8`, schema `$9` and export permission `$10`. Inserts nothing when the tenant has
/// no dashboard `$3`. Returns when the database saved it.
const INSERT_SHARE: &str = "insert into prismiq.shares \
         (id, tenant_id, dashboard_id, token_hash, label, locked_filters, expires_at, \
          created_by, schema_name, allow_export) \
     select $2, $1, $3, $4, $5, $6, $7, $8, $9, $10 \
     where exists (select 1 from prismiq.dashboards where tenant_id = $1 and id = $3) \
     returning created_at";

/// The links of dashboard `$2` of tenant `$1`, oldest first.
const LIST_SHARES: &str = "select id, dashboard_id, label, locked_filters, allow_export, expires_at, \
            created_by, created_at \
     from prismiq.shares where tenant_id = $1 and dashboard_id = $2 \
     order by created_at, id";

/// Revokes link `$3` of dashboard `$2` of tenant `$1`.
const DELETE_SHARE: &str =
    "delete from prismiq.shares where tenant_id = $1 and dashboard_id = $2 and id = $3";

/// The link whose token hashes to `$1`, in whatever tenant. Run only in the lookup transaction,
/// whose setting names the same hash: the `share_lookup` policy shows no other row.
const FIND_SHARE: &str = "select id, dashboard_id, label, locked_filters, allow_export, expires_at, \
            created_by, created_at, tenant_id, schema_name, token_hash \
     from prismiq.shares where token_hash = $1";

#[async_trait]
impl ShareStore for PostgresStore {
    async fn create_share(&self, scope: &Scope, share: NewShare) -> StoreResult<Share> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let created_at: Option<DateTime<Utc>> = sqlx::query_scalar(INSERT_SHARE)
            .bind(scope.tenant_id())
            .bind(share.id.as_uuid())
            .bind(share.dashboard_id.as_uuid())
            .bind(&share.token_hash)
            .bind(share.label.as_deref())
            .bind(Json(&share.locked_filters))
            .bind(share.expires_at.map(|at| at.as_datetime()))
            .bind(share.created_by.as_deref())
            .bind(share.schema_name.as_deref())
            .bind(share.allow_export)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| match &e {
                // The dashboard was deleted by a transaction that committed after this one
                // checked that it exists.
                sqlx::Error::Database(error) if error.is_foreign_key_violation() => {
                    StoreError::NotFound
                }
                _ => db(e),
            })?;
        let created_at = created_at.ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(db)?;
        Ok(share.into_share(Timestamp::from(created_at)))
    }

    async fn list_shares(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<Share>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows: Vec<ShareRow> = sqlx::query_as(LIST_SHARES)
            .bind(scope.tenant_id())
            .bind(dashboard_id.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(rows.into_iter().map(Share::from).collect())
    }

    async fn delete_share(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        share_id: ShareId,
    ) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let deleted = sqlx::query(DELETE_SHARE)
            .bind(scope.tenant_id())
            .bind(dashboard_id.as_uuid())
            .bind(share_id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)
    }

    async fn find_share(&self, token_hash: &str) -> StoreResult<Option<StoredShare>> {
        let mut tx = self.begin_share_lookup(token_hash).await.map_err(db)?;
        let row: Option<StoredShareRow> = sqlx::query_as(FIND_SHARE)
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(row.map(StoredShare::from))
    }
}
