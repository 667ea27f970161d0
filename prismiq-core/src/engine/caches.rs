//! The query side's shared state: introspected schemas, tenants' schema configs, and the
//! per-tenant gates that bound concurrent queries.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::error::EngineError;
use crate::schema::{DatabaseSchema, SchemaConfig};

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

    pub(super) fn get(&self, schema: &str) -> Option<Arc<DatabaseSchema>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(schema)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, schema)| schema.clone())
    }

    pub(super) fn put(&self, name: &str, schema: Arc<DatabaseSchema>) {
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
    pub(super) fn get(&self, tenant: &str) -> Option<Arc<SchemaConfig>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < CONFIG_TTL)
            .map(|(_, config)| config.clone())
    }

    pub(super) fn put(&self, tenant: &str, config: Arc<SchemaConfig>) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tenant.to_owned(), (Instant::now(), config));
    }

    pub(super) fn forget(&self, tenant: &str) {
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
            _ => Err(EngineError::Busy {
                max_concurrent: max,
            }),
        }
    }
}
