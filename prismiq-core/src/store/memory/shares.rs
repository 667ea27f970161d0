//! [`ShareStore`] for [`MemoryStore`].

use async_trait::async_trait;

use super::MemoryStore;
use crate::auth::Scope;
use crate::ids::{DashboardId, ShareId};
use crate::model::{Share, Timestamp};
use crate::store::{NewShare, ShareStore, StoreError, StoreResult, StoredShare};

#[async_trait]
impl ShareStore for MemoryStore {
    async fn create_share(&self, scope: &Scope, share: NewShare) -> StoreResult<Share> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if !tenant.dashboards.contains_key(&share.dashboard_id) {
            return Err(StoreError::NotFound);
        }
        let stored = StoredShare {
            tenant_id: scope.tenant_id().to_owned(),
            schema_name: share.schema_name.clone(),
            token_hash: share.token_hash.clone(),
            share: share.into_share(Timestamp::now()),
        };
        let created = stored.share.clone();
        state.shares.push(stored);
        Ok(created)
    }

    async fn list_shares(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<Share>> {
        Ok(self
            .read()
            .shares
            .iter()
            .filter(|s| s.tenant_id == scope.tenant_id() && s.share.dashboard_id == dashboard_id)
            .map(|s| s.share.clone())
            .collect())
    }

    async fn delete_share(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        share_id: ShareId,
    ) -> StoreResult<()> {
        let mut state = self.write();
        let before = state.shares.len();
        state.shares.retain(|s| {
            !(s.tenant_id == scope.tenant_id()
                && s.share.dashboard_id == dashboard_id
                && s.share.id == share_id)
        });
        if state.shares.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_share(&self, token_hash: &str) -> StoreResult<Option<StoredShare>> {
        Ok(self
            .read()
            .shares
            .iter()
            .find(|s| s.token_hash == token_hash)
            .cloned())
    }
}
