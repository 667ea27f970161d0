//! [`SchemaConfigStore`] for [`SqliteStore`].

use async_trait::async_trait;
use prismiq_core::{SchemaConfig, SchemaConfigStore, Scope, StoreResult};

use crate::SqliteStore;
use crate::error::{db, json};
use crate::rows::to_json;

const SELECT_SCHEMA_CONFIG: &str = "select config from schema_configs where tenant_id = ?1";

const PUT_SCHEMA_CONFIG: &str = "insert into schema_configs (tenant_id, config) values (?1, ?2) \
     on conflict (tenant_id) do update set config = excluded.config";

#[async_trait]
impl SchemaConfigStore for SqliteStore {
    async fn get_schema_config(&self, scope: &Scope) -> StoreResult<Option<SchemaConfig>> {
        let config: Option<String> = sqlx::query_scalar(SELECT_SCHEMA_CONFIG)
            .bind(scope.tenant_id())
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        config
            .map(|config| serde_json::from_str(&config).map_err(json))
            .transpose()
    }

    async fn put_schema_config(&self, scope: &Scope, config: SchemaConfig) -> StoreResult<()> {
        sqlx::query(PUT_SCHEMA_CONFIG)
            .bind(scope.tenant_id())
            .bind(to_json(&config)?)
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }
}
