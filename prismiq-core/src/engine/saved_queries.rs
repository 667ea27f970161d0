//! Saved queries: list, read, create, change and delete.

use super::{Engine, Result, ensure, saved_query_not_found};
use crate::auth::{AuthContext, Scope};
use crate::error::EngineError;
use crate::events::{EventKind, Reach};
use crate::ids::SavedQueryId;
use crate::model::{SavedQuery, SavedQueryCreate, SavedQueryUpdate};
use crate::permissions::{self, Viewer};
use crate::store::{NewSavedQuery, SavedQueryChanges, StoreError};

impl Engine {
    /// The saved queries the caller may read, by name.
    pub async fn list_saved_queries(&self, auth: &dyn AuthContext) -> Result<Vec<SavedQuery>> {
        let viewer = Viewer::of(auth);
        let mut list = self
            .saved_queries
            .list_saved_queries(&Scope::of(auth), &viewer)
            .await
            .map_err(EngineError::Store)?;
        list.retain(|q| viewer.can_read_saved_query(q));
        Ok(list)
    }

    /// One saved query the caller may read.
    pub async fn get_saved_query(
        &self,
        auth: &dyn AuthContext,
        id: SavedQueryId,
    ) -> Result<SavedQuery> {
        self.saved_queries
            .get_saved_query(&Scope::of(auth), id)
            .await
            .map_err(EngineError::Store)?
            .filter(|q| permissions::can_read_saved_query(auth, q))
            .ok_or_else(|| saved_query_not_found(id))
    }

    /// Saves a query owned by the caller.
    pub async fn create_saved_query(
        &self,
        auth: &dyn AuthContext,
        create: SavedQueryCreate,
    ) -> Result<SavedQuery> {
        self.limits.check_name("Saved query name", &create.name)?;
        self.limits
            .check_description(create.description.as_deref())?;
        let name = create.name.clone();
        let new = NewSavedQuery {
            id: SavedQueryId::new(),
            name: create.name,
            description: create.description,
            query: create.query,
            owner_id: permissions::user(auth).map(str::to_owned),
            is_shared: create.is_shared,
        };
        let query = self
            .saved_queries
            .create_saved_query(&Scope::of(auth), new)
            .await
            .map_err(|err| {
                self.store_error(err, &name, || EngineError::Store(StoreError::NotFound))
            })?;
        self.emit_saved_query(auth, EventKind::SavedQueryCreated, &query)
            .await;
        Ok(query)
    }

    /// Changes a saved query the caller owns (or any, for an admin). An empty update just
    /// returns the query, if the caller may read it.
    pub async fn update_saved_query(
        &self,
        auth: &dyn AuthContext,
        id: SavedQueryId,
        update: SavedQueryUpdate,
    ) -> Result<SavedQuery> {
        let current = self.get_saved_query(auth, id).await?;
        if update.is_empty() {
            return Ok(current);
        }
        ensure(permissions::can_write_saved_query(auth, &current))?;
        if let Some(name) = &update.name {
            self.limits.check_name("Saved query name", name)?;
        }
        if let Some(description) = update.description.as_value() {
            self.limits.check_description(Some(description))?;
        }
        let name = update.name.clone().unwrap_or_default();
        let changes = SavedQueryChanges {
            name: update.name,
            description: update.description,
            query: update.query,
            is_shared: update.is_shared,
        };
        let query = self
            .saved_queries
            .update_saved_query(&Scope::of(auth), id, changes)
            .await
            .map_err(|err| self.store_error(err, &name, || saved_query_not_found(id)))?;
        self.emit_saved_query(auth, EventKind::SavedQueryUpdated, &query)
            .await;
        Ok(query)
    }

    /// Deletes a saved query the caller owns (or any, for an admin).
    pub async fn delete_saved_query(&self, auth: &dyn AuthContext, id: SavedQueryId) -> Result<()> {
        let current = self.get_saved_query(auth, id).await?;
        ensure(permissions::can_write_saved_query(auth, &current))?;
        self.saved_queries
            .delete_saved_query(&Scope::of(auth), id)
            .await
            .map_err(|err| self.store_error(err, "", || saved_query_not_found(id)))?;
        self.emit_saved_query(auth, EventKind::SavedQueryDeleted, &current)
            .await;
        Ok(())
    }

    /// Publishes a saved-query event for those who may read the query as it is now (for a
    /// deleted one, as it was).
    async fn emit_saved_query(&self, auth: &dyn AuthContext, kind: EventKind, query: &SavedQuery) {
        let reach = Reach::SavedQueryReaders {
            owner_id: query.owner_id.clone(),
            is_shared: query.is_shared,
        };
        self.emit(auth, kind, reach, |event| {
            event.saved_query_id = Some(query.id)
        })
        .await;
    }
}
