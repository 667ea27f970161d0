//! [`SavedQueryStore`] for [`MemoryStore`].

use async_trait::async_trait;

use super::MemoryStore;
use crate::auth::Scope;
use crate::ids::SavedQueryId;
use crate::model::{SavedQuery, Timestamp};
use crate::permissions::Viewer;
use crate::store::{
    Conflict, NewSavedQuery, SavedQueryChanges, SavedQueryStore, StoreError, StoreResult,
};

#[async_trait]
impl SavedQueryStore for MemoryStore {
    async fn list_saved_queries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<SavedQuery>> {
        let state = self.read();
        let mut list: Vec<SavedQuery> = state
            .tenant(scope)
            .map(|t| {
                t.saved_queries
                    .values()
                    .filter(|q| viewer.can_read_saved_query(q))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(list)
    }

    async fn get_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
    ) -> StoreResult<Option<SavedQuery>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.saved_queries.get(&id))
            .cloned())
    }

    async fn create_saved_query(
        &self,
        scope: &Scope,
        new: NewSavedQuery,
    ) -> StoreResult<SavedQuery> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if tenant.saved_queries.values().any(|q| q.name == new.name) {
            return Err(StoreError::Conflict(Conflict::SavedQueryName));
        }
        let now = Timestamp::now();
        let query = SavedQuery {
            id: new.id,
            name: new.name,
            description: new.description,
            query: new.query,
            tenant_id: scope.tenant_id().to_owned(),
            owner_id: new.owner_id,
            is_shared: new.is_shared,
            created_at: now,
            updated_at: now,
        };
        tenant.saved_queries.insert(query.id, query.clone());
        Ok(query)
    }

    async fn update_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
        changes: SavedQueryChanges,
    ) -> StoreResult<SavedQuery> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if !tenant.saved_queries.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        if let Some(name) = &changes.name
            && tenant
                .saved_queries
                .values()
                .any(|q| &q.name == name && q.id != id)
        {
            return Err(StoreError::Conflict(Conflict::SavedQueryName));
        }
        let query = tenant
            .saved_queries
            .get_mut(&id)
            .ok_or(StoreError::NotFound)?;
        if let Some(name) = changes.name {
            query.name = name;
        }
        changes.description.apply(&mut query.description);
        if let Some(definition) = changes.query {
            query.query = definition;
        }
        if let Some(is_shared) = changes.is_shared {
            query.is_shared = is_shared;
        }
        query.updated_at = Timestamp::now();
        Ok(query.clone())
    }

    async fn delete_saved_query(&self, scope: &Scope, id: SavedQueryId) -> StoreResult<()> {
        self.write()
            .tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.saved_queries.remove(&id))
            .map(drop)
            .ok_or(StoreError::NotFound)
    }
}
