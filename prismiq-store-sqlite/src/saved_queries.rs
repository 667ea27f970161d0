//! [`SavedQueryStore`] for [`SqliteStore`].

use async_trait::async_trait;
use prismiq_core::permissions::Viewer;
use prismiq_core::{
    NewSavedQuery, SavedQuery, SavedQueryChanges, SavedQueryId, SavedQueryStore, Scope, StoreError,
    StoreResult, Timestamp,
};
use sqlx::SqliteConnection;

use crate::SqliteStore;
use crate::error::db;
use crate::rows::{saved_query, time_text, to_json, viewer_binds};

/// [`Viewer::can_read_saved_query`], with `?1` the tenant, `?2` the viewer's kind and `?3` the
/// user id (null unless a user): admins read everything; others shared and ownerless queries,
/// and users also their own. Ordered by name (code points), then id.
const LIST_SAVED_QUERIES: &str = "select id, name, description, query, tenant_id, owner_id, \
     is_shared, created_at, updated_at from saved_queries \
     where tenant_id = ?1 and (?2 = 'admin' or is_shared = 1 or owner_id is null \
     or owner_id = ?3) \
     order by name, id";

const GET_SAVED_QUERY: &str = "select id, name, description, query, tenant_id, owner_id, \
     is_shared, created_at, updated_at from saved_queries where tenant_id = ?1 and id = ?2";

const INSERT_SAVED_QUERY: &str = "insert into saved_queries (tenant_id, id, name, description, \
     query, owner_id, is_shared, created_at, updated_at) \
     values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)";

const UPDATE_SAVED_QUERY: &str = "update saved_queries set name = ?3, description = ?4, \
     query = ?5, is_shared = ?6, updated_at = ?7 where tenant_id = ?1 and id = ?2";

const DELETE_SAVED_QUERY: &str = "delete from saved_queries where tenant_id = ?1 and id = ?2";

async fn load(
    conn: &mut SqliteConnection,
    scope: &Scope,
    id: SavedQueryId,
) -> StoreResult<Option<SavedQuery>> {
    sqlx::query(GET_SAVED_QUERY)
        .bind(scope.tenant_id())
        .bind(id.to_string())
        .fetch_optional(conn)
        .await
        .map_err(db)?
        .as_ref()
        .map(saved_query)
        .transpose()
}

#[async_trait]
impl SavedQueryStore for SqliteStore {
    async fn list_saved_queries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<SavedQuery>> {
        let (kind, user) = viewer_binds(viewer);
        sqlx::query(LIST_SAVED_QUERIES)
            .bind(scope.tenant_id())
            .bind(kind)
            .bind(user)
            .fetch_all(self.pool())
            .await
            .map_err(db)?
            .iter()
            .map(saved_query)
            .collect()
    }

    async fn get_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
    ) -> StoreResult<Option<SavedQuery>> {
        let mut conn = self.pool().acquire().await.map_err(db)?;
        load(&mut conn, scope, id).await
    }

    async fn create_saved_query(
        &self,
        scope: &Scope,
        new: NewSavedQuery,
    ) -> StoreResult<SavedQuery> {
        let now = Timestamp::now();
        sqlx::query(INSERT_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(new.id.to_string())
            .bind(&new.name)
            .bind(&new.description)
            .bind(to_json(&new.query)?)
            .bind(&new.owner_id)
            .bind(new.is_shared)
            .bind(time_text(now))
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(SavedQuery {
            id: new.id,
            name: new.name,
            description: new.description,
            query: new.query,
            tenant_id: scope.tenant_id().to_owned(),
            owner_id: new.owner_id,
            is_shared: new.is_shared,
            created_at: now,
            updated_at: now,
        })
    }

    async fn update_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
        changes: SavedQueryChanges,
    ) -> StoreResult<SavedQuery> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let mut query = load(&mut tx, scope, id)
            .await?
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
        sqlx::query(UPDATE_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .bind(&query.name)
            .bind(&query.description)
            .bind(to_json(&query.query)?)
            .bind(query.is_shared)
            .bind(time_text(query.updated_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(query)
    }

    async fn delete_saved_query(&self, scope: &Scope, id: SavedQueryId) -> StoreResult<()> {
        let deleted = sqlx::query(DELETE_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .execute(self.pool())
            .await
            .map_err(db)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
