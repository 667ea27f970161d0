//! [`TemplateStore`] for [`PostgresStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use prismiq_core::{
    DashboardTemplate, NewTemplate, Scope, StoreError, StoreResult, TemplateId, TemplateStore,
    Timestamp,
};
use sqlx::types::Json;

use crate::PostgresStore;
use crate::error::db;
use crate::rows::TemplateRow;
use crate::store::end_read;

/// Tenant `$1`'s templates. Names sort by code point (the column's collation is "C"), then
/// ids.
const LIST_TEMPLATES: &str = "select id, name, description, category, created_by, content, \
            created_at \
     from prismiq.templates where tenant_id = $1 \
     order by name, id";

/// Template `$2` of tenant `$1`.
const SELECT_TEMPLATE: &str = "select id, name, description, category, created_by, content, \
            created_at \
     from prismiq.templates where tenant_id = $1 and id = $2";

/// Saves template `$2` of tenant `$1`, `$7` being its content as one document; a taken name
/// breaks `templates_tenant_id_name_key`. Returns when the database saved it.
const INSERT_TEMPLATE: &str = "insert into prismiq.templates \
         (id, tenant_id, name, description, category, created_by, content) \
     values ($2, $1, $3, $4, $5, $6, $7) \
     returning created_at";

const DELETE_TEMPLATE: &str = "delete from prismiq.templates where tenant_id = $1 and id = $2";

#[async_trait]
impl TemplateStore for PostgresStore {
    async fn list_templates(&self, scope: &Scope) -> StoreResult<Vec<DashboardTemplate>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let rows: Vec<TemplateRow> = sqlx::query_as(LIST_TEMPLATES)
            .bind(scope.tenant_id())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        rows.into_iter()
            .map(|row| DashboardTemplate::try_from(row).map_err(db))
            .collect()
    }

    async fn get_template(
        &self,
        scope: &Scope,
        id: TemplateId,
    ) -> StoreResult<Option<DashboardTemplate>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let row: Option<TemplateRow> = sqlx::query_as(SELECT_TEMPLATE)
            .bind(scope.tenant_id())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        row.map(DashboardTemplate::try_from).transpose().map_err(db)
    }

    async fn create_template(
        &self,
        scope: &Scope,
        template: NewTemplate,
    ) -> StoreResult<DashboardTemplate> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let created_at: DateTime<Utc> = sqlx::query_scalar(INSERT_TEMPLATE)
            .bind(scope.tenant_id())
            .bind(template.id.as_uuid())
            .bind(&template.name)
            .bind(template.description.as_deref())
            .bind(template.category.as_deref())
            .bind(template.created_by.as_deref())
            .bind(Json(&template.content))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(template.into_template(Timestamp::from(created_at)))
    }

    async fn delete_template(&self, scope: &Scope, id: TemplateId) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let deleted = sqlx::query(DELETE_TEMPLATE)
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
