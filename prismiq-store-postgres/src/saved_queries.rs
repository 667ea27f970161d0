//! [`SavedQueryStore`] for [`PostgresStore`].

use async_trait::async_trait;
use prismiq_core::permissions::Viewer;
use prismiq_core::{
    NewSavedQuery, Patch, SavedQuery, SavedQueryChanges, SavedQueryId, SavedQueryStore, Scope,
    StoreError, StoreResult,
};
use sqlx::types::Json;

use crate::PostgresStore;
use crate::error::db;
use crate::rows::{SavedQueryRow, viewer_params};
use crate::store::end_read;

/// The rule of `Viewer::can_read_saved_query`: `$2` is "admin", `$3` the user (null when
/// anonymous). Names sort by code point (the column's collation is "C").
const LIST_SAVED_QUERIES: &str = "select id, tenant_id, name, description, query, owner_id, \
            is_shared, created_at, updated_at \
     from prismiq.saved_queries \
     where tenant_id = $1 and ($2 or is_shared or owner_id is null or owner_id = $3) \
     order by name, id";

const SELECT_SAVED_QUERY: &str = "select id, tenant_id, name, description, query, owner_id, \
            is_shared, created_at, updated_at \
     from prismiq.saved_queries where tenant_id = $1 and id = $2";

const INSERT_SAVED_QUERY: &str = "insert into prismiq.saved_queries \
         (id, tenant_id, name, description, query, owner_id, is_shared) \
     values ($2, $1, $3, $4, $5, $6, $7) \
     returning id, tenant_id, name, description, query, owner_id, is_shared, created_at, \
               updated_at";

/// Null parameters leave a field alone; `$4` says whether to set the description to `$5`.
const UPDATE_SAVED_QUERY: &str = "update prismiq.saved_queries set \
         name = coalesce($3, name), \
         description = case when $4 then $5 else description end, \
         query = coalesce($6, query), \
         is_shared = coalesce($7, is_shared), \
         updated_at = now() \
     where tenant_id = $1 and id = $2 \
     returning id, tenant_id, name, description, query, owner_id, is_shared, created_at, \
               updated_at";

const DELETE_SAVED_QUERY: &str =
    "delete from prismiq.saved_queries where tenant_id = $1 and id = $2";

#[async_trait]
impl SavedQueryStore for PostgresStore {
    async fn list_saved_queries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<SavedQuery>> {
        let (admin, user) = viewer_params(viewer);
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows: Vec<SavedQueryRow> = sqlx::query_as(LIST_SAVED_QUERIES)
            .bind(scope.tenant_id())
            .bind(admin)
            .bind(user)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(rows.into_iter().map(SavedQuery::from).collect())
    }

    async fn get_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
    ) -> StoreResult<Option<SavedQuery>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let row: Option<SavedQueryRow> = sqlx::query_as(SELECT_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(row.map(SavedQuery::from))
    }

    async fn create_saved_query(
        &self,
        scope: &Scope,
        new: NewSavedQuery,
    ) -> StoreResult<SavedQuery> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let row: SavedQueryRow = sqlx::query_as(INSERT_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(new.id.as_uuid())
            .bind(&new.name)
            .bind(new.description.as_deref())
            .bind(Json(&new.query))
            .bind(new.owner_id.as_deref())
            .bind(new.is_shared)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(row.into())
    }

    async fn update_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
        changes: SavedQueryChanges,
    ) -> StoreResult<SavedQuery> {
        let (set_description, description) = match changes.description {
            Patch::Absent => (false, None),
            Patch::Null => (true, None),
            Patch::Value(description) => (true, Some(description)),
        };
        let mut tx = self.begin(scope).await.map_err(db)?;
        let row: SavedQueryRow = sqlx::query_as(UPDATE_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .bind(changes.name)
            .bind(set_description)
            .bind(description)
            .bind(changes.query.map(Json))
            .bind(changes.is_shared)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(db)?;
        Ok(row.into())
    }

    async fn delete_saved_query(&self, scope: &Scope, id: SavedQueryId) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let deleted = sqlx::query(DELETE_SAVED_QUERY)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db)
    }
}
