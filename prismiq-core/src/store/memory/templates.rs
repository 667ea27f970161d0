//! [`TemplateStore`] for [`MemoryStore`].

use async_trait::async_trait;

use super::MemoryStore;
use crate::auth::Scope;
use crate::ids::TemplateId;
use crate::model::{DashboardTemplate, Timestamp};
use crate::store::{Conflict, NewTemplate, StoreError, StoreResult, TemplateStore};

#[async_trait]
impl TemplateStore for MemoryStore {
    async fn list_templates(&self, scope: &Scope) -> StoreResult<Vec<DashboardTemplate>> {
        let state = self.read();
        let mut list: Vec<DashboardTemplate> = state
            .tenant(scope)
            .map(|t| t.templates.values().cloned().collect())
            .unwrap_or_default();
        list.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(list)
    }

    async fn get_template(
        &self,
        scope: &Scope,
        id: TemplateId,
    ) -> StoreResult<Option<DashboardTemplate>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.templates.get(&id))
            .cloned())
    }

    async fn create_template(
        &self,
        scope: &Scope,
        template: NewTemplate,
    ) -> StoreResult<DashboardTemplate> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if tenant.templates.values().any(|t| t.name == template.name) {
            return Err(StoreError::Conflict(Conflict::TemplateName));
        }
        let id = template.id;
        let template = template.into_template(Timestamp::now());
        tenant.templates.insert(id, template.clone());
        Ok(template)
    }

    async fn delete_template(&self, scope: &Scope, id: TemplateId) -> StoreResult<()> {
        let mut state = self.write();
        state
            .tenant_mut(scope)
            .templates
            .remove(&id)
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}
