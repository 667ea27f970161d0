//! The query side of the [`Engine`]: schemas, schema config, and (with the compiler) queries.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::Engine;
use crate::auth::{AuthContext, Scope};
use crate::error::EngineError;
use crate::schema::{
    DataSourceEntry, DatabaseSchema, EnhancedDatabaseSchema, EnhancedTableSchema, SchemaConfig,
    TableSchema,
};
use crate::source::DataSource;

type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Introspected schemas, reused for a time-to-live and refreshed on demand.
///
/// Keyed by PostgreSQL schema name: tenants sharing a schema share its introspection (the
/// per-tenant [`SchemaConfig`] is applied afterwards).
#[derive(Debug)]
pub(crate) struct SchemaCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Arc<DatabaseSchema>)>>,
}

impl SchemaCache {
    /// An empty cache whose entries live for `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, schema: &str) -> Option<Arc<DatabaseSchema>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(schema)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, schema)| schema.clone())
    }

    fn put(&self, name: &str, schema: Arc<DatabaseSchema>) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), (Instant::now(), schema));
    }

    /// Forgets one schema, or every schema when `None`.
    pub(crate) fn invalidate(&self, schema: Option<&str>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match schema {
            Some(name) => {
                entries.remove(name);
            }
            None => entries.clear(),
        }
    }
}

/// How long a tenant's schema config is reused before it is read from the store again.
pub(crate) const CONFIG_TTL: Duration = Duration::from_secs(30);

/// Tenants' schema configs, reused for [`CONFIG_TTL`].
#[derive(Debug, Default)]
pub(crate) struct ConfigCache {
    entries: RwLock<HashMap<String, (Instant, Arc<SchemaConfig>)>>,
}

impl ConfigCache {
    fn get(&self, tenant: &str) -> Option<Arc<SchemaConfig>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < CONFIG_TTL)
            .map(|(_, config)| config.clone())
    }

    fn put(&self, tenant: &str, config: Arc<SchemaConfig>) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tenant.to_owned(), (Instant::now(), config));
    }

    fn forget(&self, tenant: &str) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }
}

/// Per-tenant limits on queries running at once.
#[derive(Debug)]
pub(crate) struct TenantGates {
    max: Option<usize>,
    gates: RwLock<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl TenantGates {
    pub(crate) fn new(max: Option<usize>) -> Self {
        Self {
            max,
            gates: RwLock::new(HashMap::new()),
        }
    }

    /// Waits, up to `patience`, for one of the tenant's slots; `None` means no limit applies.
    pub(crate) async fn enter(
        &self,
        tenant_id: &str,
        patience: Duration,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>> {
        let Some(max) = self.max else {
            return Ok(None);
        };
        let existing = self
            .gates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant_id)
            .cloned();
        let gate = match existing {
            Some(gate) => gate,
            None => self
                .gates
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(tenant_id.to_owned())
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(max)))
                .clone(),
        };
        match tokio::time::timeout(patience, gate.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            _ => Err(EngineError::Busy(format!(
                "Too many queries are running for this tenant (at most {max} at once); retry shortly"
            ))),
        }
    }
}

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
            return Err(EngineError::NotFound(format!(
                "PostgreSQL schema '{name}' does not exist"
            )));
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
            .ok_or_else(|| EngineError::NotFound(format!("Table not found: {name}")))
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
            .ok_or_else(|| EngineError::NotFound(format!("Table '{name}' not found")))
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
