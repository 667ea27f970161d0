//! [`TemplateStore`] for [`SqliteStore`].

use async_trait::async_trait;
use prismiq_core::{
    DashboardTemplate, NewTemplate, Scope, StoreError, StoreResult, TemplateId, TemplateStore,
    Timestamp,
};

use crate::SqliteStore;
use crate::error::db;
use crate::rows::{template, time_text, to_json};

/// Tenant `?1`'s templates, ordered by name (code points), then id.
const LIST_TEMPLATES: &str = "select id, name, description, category, created_by, content, \
     created_at from templates where tenant_id = ?1 order by name, id";

/// Template `?2` of tenant `?1`.
const GET_TEMPLATE: &str = "select id, name, description, category, created_by, content, \
     created_at from templates where tenant_id = ?1 and id = ?2";

/// Saves template `?2` of tenant `?1`, `?7` being its content as one JSON document; a taken
/// name breaks the unique `(tenant_id, name)`.
const INSERT_TEMPLATE: &str = "insert into templates (tenant_id, id, name, description, \
     category, created_by, content, created_at) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

const DELETE_TEMPLATE: &str = "delete from templates where tenant_id = ?1 and id = ?2";

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn list_templates(&self, scope: &Scope) -> StoreResult<Vec<DashboardTemplate>> {
        sqlx::query(LIST_TEMPLATES)
            .bind(scope.tenant_id())
            .fetch_all(self.pool())
            .await
            .map_err(db)?
            .iter()
            .map(template)
            .collect()
    }

    async fn get_template(
        &self,
        scope: &Scope,
        id: TemplateId,
    ) -> StoreResult<Option<DashboardTemplate>> {
        sqlx::query(GET_TEMPLATE)
            .bind(scope.tenant_id())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(db)?
            .as_ref()
            .map(template)
            .transpose()
    }

    async fn create_template(
        &self,
        scope: &Scope,
        new: NewTemplate,
    ) -> StoreResult<DashboardTemplate> {
        let now = Timestamp::now();
        sqlx::query(INSERT_TEMPLATE)
            .bind(scope.tenant_id())
            .bind(new.id.to_string())
            .bind(&new.name)
            .bind(&new.description)
            .bind(&new.category)
            .bind(&new.created_by)
            .bind(to_json(&new.content)?)
            .bind(time_text(now))
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(new.into_template(now))
    }

    async fn delete_template(&self, scope: &Scope, id: TemplateId) -> StoreResult<()> {
        let deleted = sqlx::query(DELETE_TEMPLATE)
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
