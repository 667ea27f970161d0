//! [`SchemaConfigStore`] for [`PostgresStore`].

use async_trait::async_trait;
use prismiq_core::{SchemaConfig, SchemaConfigStore, Scope, StoreResult};
use sqlx::types::Json;

use crate::PostgresStore;
use crate::error::db;
use crate::store::end_read;

const SELECT_SCHEMA_CONFIG: &str = "select config from prismiq.schema_configs where tenant_id = $1";

const PUT_SCHEMA_CONFIG: &str = "insert into prismiq.schema_configs (tenant_id, config) \
     values ($1, $2) \
     on conflict (tenant_id) do update set config = excluded.config";

#[async_trait]
impl SchemaConfigStore for PostgresStore {
    async fn get_schema_config(&self, scope: &Scope) -> StoreResult<Option<SchemaConfig>> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        let config: Option<Json<SchemaConfig>> = sqlx::query_scalar(SELECT_SCHEMA_CONFIG)
            .bind(scope.tenant_id())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        end_read(tx);
        Ok(config.map(|config| config.0))
    }

    async fn put_schema_config(&self, scope: &Scope, config: SchemaConfig) -> StoreResult<()> {
        let mut tx = self.begin(scope).await.map_err(db)?;
        sqlx::query(PUT_SCHEMA_CONFIG)
            .bind(scope.tenant_id())
            .bind(Json(&config))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }
}
