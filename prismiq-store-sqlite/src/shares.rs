//! [`ShareStore`] for [`SqliteStore`].
//!
//! Each operation is one statement, so it needs no transaction of its own. Finding a link by
//! its token is the one lookup that does not filter by tenant: the token names the link.

use async_trait::async_trait;
use prismiq_core::{
    DashboardId, NewShare, Scope, Share, ShareId, ShareStore, StoreError, StoreResult, StoredShare,
    Timestamp,
};

use crate::SqliteStore;
use crate::error::db;
use crate::rows::{share, share_columns, stored_share, time_text, to_json};

/// Saves share `?2` of tenant `?1` for dashboard `?3`, with token hash `?4`, label `?5`, locked
/// filters `?6` (JSON text), expiry `?7`, creator `?8`, schema `?9`, creation time `?10` and
/// export permission `?11`.
/// Inserts nothing when the tenant has no dashboard `?3`.
const INSERT_SHARE: &str = "insert into shares (tenant_id, id, dashboard_id, token_hash, \
         label, locked_filters, expires_at, created_by, schema_name, created_at, allow_export) \
     select ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 \
     where exists (select 1 from dashboards where tenant_id = ?1 and id = ?3)";

/// The links of dashboard `?2` of tenant `?1`, oldest first.
const LIST_SHARES: &str = concat!(
    "select ",
    share_columns!(),
    " from shares where tenant_id = ?1 and dashboard_id = ?2 order by created_at, id"
);

/// Revokes link `?3` of dashboard `?2` of tenant `?1`.
const DELETE_SHARE: &str =
    "delete from shares where tenant_id = ?1 and dashboard_id = ?2 and id = ?3";

/// The link whose token hashes to `?1`, in whatever tenant (on the unique index).
const FIND_SHARE: &str = concat!(
    "select ",
    share_columns!(),
    ", tenant_id, schema_name, token_hash from shares where token_hash = ?1"
);

#[async_trait]
impl ShareStore for SqliteStore {
    async fn create_share(&self, scope: &Scope, new: NewShare) -> StoreResult<Share> {
        let now = Timestamp::now();
        let inserted = sqlx::query(INSERT_SHARE)
            .bind(scope.tenant_id())
            .bind(new.id.to_string())
            .bind(new.dashboard_id.to_string())
            .bind(&new.token_hash)
            .bind(&new.label)
            .bind(to_json(&new.locked_filters)?)
            .bind(new.expires_at.map(time_text))
            .bind(&new.created_by)
            .bind(&new.schema_name)
            .bind(time_text(now))
            .bind(new.allow_export)
            .execute(self.pool())
            .await
            .map_err(db)?
            .rows_affected();
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(new.into_share(now))
    }

    async fn list_shares(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<Share>> {
        sqlx::query(LIST_SHARES)
            .bind(scope.tenant_id())
            .bind(dashboard_id.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(db)?
            .iter()
            .map(share)
            .collect()
    }

    async fn delete_share(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        share_id: ShareId,
    ) -> StoreResult<()> {
        let deleted = sqlx::query(DELETE_SHARE)
            .bind(scope.tenant_id())
            .bind(dashboard_id.to_string())
            .bind(share_id.to_string())
            .execute(self.pool())
            .await
            .map_err(db)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_share(&self, token_hash: &str) -> StoreResult<Option<StoredShare>> {
        sqlx::query(FIND_SHARE)
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(db)?
            .as_ref()
            .map(stored_share)
            .transpose()
    }
}
