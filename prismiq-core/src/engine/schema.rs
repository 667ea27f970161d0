//! The caller's schema: introspection through the cache, the tenant's schema config (display
//! names, hidden tables and columns), and the listings built from them.

use std::sync::Arc;

use super::{Engine, Result};
use crate::Dialect;
use crate::auth::{AuthContext, Scope};
use crate::error::{EngineError, Missing};
use crate::schema::{
    DataSourceEntry, DatabaseSchema, EnhancedDatabaseSchema, EnhancedTableSchema, SchemaConfig,
    TableSchema,
};
use crate::source::DataSource;

impl Engine {
    pub(super) fn source(&self) -> Result<&Arc<dyn DataSource>> {
        self.analytics
            .source
            .as_ref()
            .ok_or(EngineError::NoDataSource)
    }

    /// The PostgreSQL schema holding the caller's data.
    pub fn schema_name_of(&self, auth: &dyn AuthContext) -> String {
        auth.schema_name()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.analytics.default_schema)
            .to_owned()
    }

    /// The caller's schema as introspected (hidden parts included), from the cache when fresh.
    pub(super) async fn raw_schema(
        &self,
        auth: &dyn AuthContext,
    ) -> Result<(String, Arc<DatabaseSchema>)> {
        let name = self.schema_name_of(auth);
        if let Some(schema) = self.analytics.schema_cache.get(&name) {
            return Ok((name, schema));
        }
        let source = self.source()?;
        if name != self.analytics.default_schema
            && !source
                .schema_exists(&name)
                .await
                .map_err(EngineError::Source)?
        {
            return Err(EngineError::NotFound {
                message: match source.dialect() {
                    Dialect::Sqlite => format!("SQLite database '{name}' does not exist"),
                    _ => format!("PostgreSQL schema '{name}' does not exist"),
                },
                missing: Missing::Schema(name),
            });
        }
        let schema = Arc::new(
            source
                .introspect(&name)
                .await
                .map_err(EngineError::Source)?,
        );
        self.analytics.schema_cache.put(&name, schema.clone());
        Ok((name, schema))
    }

    /// The tenant's schema config (empty when none was saved).
    ///
    /// Kept in memory for [`CONFIG_TTL`], so queries do not read the store each time; a
    /// change made through this engine applies at once, one made through another instance
    /// within the TTL.
    pub(super) async fn config_of(&self, auth: &dyn AuthContext) -> Result<Arc<SchemaConfig>> {
        let tenant = auth.tenant_id();
        if let Some(config) = self.analytics.configs.get(tenant) {
            return Ok(config);
        }
        let config = Arc::new(
            self.schema_configs
                .get_schema_config(&Scope::of(auth))
                .await
                .map_err(EngineError::Store)?
                .unwrap_or_default(),
        );
        self.analytics.configs.put(tenant, config.clone());
        Ok(config)
    }

    /// The caller's schema without the parts the tenant's config hides: what queries may use.
    pub async fn schema(&self, auth: &dyn AuthContext) -> Result<DatabaseSchema> {
        Ok(DatabaseSchema::clone(&*self.visible_schema(auth).await?))
    }

    /// The caller's visible schema, shared rather than copied when the tenant hides nothing.
    pub(super) async fn visible_schema(
        &self,
        auth: &dyn AuthContext,
    ) -> Result<Arc<DatabaseSchema>> {
        let (_, raw) = self.raw_schema(auth).await?;
        let config = self.config_of(auth).await?;
        Ok(if config.tables.is_empty() {
            raw
        } else {
            Arc::new(raw.visible(&config))
        })
    }

    /// The caller's schema with the tenant's display names, descriptions and formats.
    pub async fn enhanced_schema(&self, auth: &dyn AuthContext) -> Result<EnhancedDatabaseSchema> {
        let (_, raw) = self.raw_schema(auth).await?;
        Ok(raw.enhance(&*self.config_of(auth).await?))
    }

    /// The tables the caller may query, one entry each with the tenant's display name and
    /// description (hidden tables left out); empty when the engine has no data source.
    pub async fn data_sources(&self, auth: &dyn AuthContext) -> Result<Vec<DataSourceEntry>> {
        if self.analytics.source.is_none() {
            return Ok(Vec::new());
        }
        Ok(self
            .enhanced_schema(auth)
            .await?
            .tables
            .iter()
            .map(DataSourceEntry::of)
            .collect())
    }

    /// The names of the tables and views the caller may query, sorted.
    pub async fn table_names(&self, auth: &dyn AuthContext) -> Result<Vec<String>> {
        Ok(self
            .schema(auth)
            .await?
            .tables
            .into_iter()
            .map(|t| t.name)
            .collect())
    }

    /// One table the caller may query.
    pub async fn table(&self, auth: &dyn AuthContext, name: &str) -> Result<TableSchema> {
        self.schema(auth)
            .await?
            .tables
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| EngineError::NotFound {
                missing: Missing::Table(name.to_owned()),
                message: format!("Table not found: {name}"),
            })
    }

    /// One table the caller may query, with the tenant's presentation settings.
    pub async fn enhanced_table(
        &self,
        auth: &dyn AuthContext,
        name: &str,
    ) -> Result<EnhancedTableSchema> {
        self.enhanced_schema(auth)
            .await?
            .tables
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| EngineError::NotFound {
                missing: Missing::Table(name.to_owned()),
                message: format!("Table '{name}' not found"),
            })
    }

    /// Forgets cached introspections (of one schema, or all), so the next call sees DDL changes.
    pub fn refresh_schema(&self, schema: Option<&str>) {
        self.analytics.schema_cache.invalidate(schema);
    }

    /// The tenant's schema config. Admins only.
    pub async fn schema_config(&self, auth: &dyn AuthContext) -> Result<SchemaConfig> {
        ensure_admin(auth)?;
        Ok(SchemaConfig::clone(&*self.config_of(auth).await?))
    }

    /// Replaces the tenant's schema config. Admins only.
    pub async fn set_schema_config(
        &self,
        auth: &dyn AuthContext,
        config: SchemaConfig,
    ) -> Result<SchemaConfig> {
        ensure_admin(auth)?;
        self.schema_configs
            .put_schema_config(&Scope::of(auth), config.clone())
            .await
            .map_err(EngineError::Store)?;
        self.analytics.configs.forget(auth.tenant_id());
        Ok(config)
    }
}

fn ensure_admin(auth: &dyn AuthContext) -> Result<()> {
    if auth.is_admin() {
        Ok(())
    } else {
        Err(EngineError::PermissionDenied)
    }
}
