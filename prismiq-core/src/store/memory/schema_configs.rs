//! [`SchemaConfigStore`] for [`MemoryStore`].

use async_trait::async_trait;

use super::MemoryStore;
use crate::auth::Scope;
use crate::schema::SchemaConfig;
use crate::store::{SchemaConfigStore, StoreResult};

#[async_trait]
impl SchemaConfigStore for MemoryStore {
    async fn get_schema_config(&self, scope: &Scope) -> StoreResult<Option<SchemaConfig>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.schema_config.clone()))
    }

    async fn put_schema_config(&self, scope: &Scope, config: SchemaConfig) -> StoreResult<()> {
        self.write().tenant_mut(scope).schema_config = Some(config);
        Ok(())
    }
}
