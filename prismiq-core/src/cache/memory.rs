//! [`MemoryCache`]: results in process memory (moka), bounded by size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;

use super::{CacheKey, CachedResult, ResultCache, approximate_size};
use crate::source::BoxError;

/// Query results in process memory, each for its own time-to-live, evicted least-recently-used
/// beyond a total size. For one instance; hosts running several use a shared backend.
#[derive(Debug, Clone)]
pub struct MemoryCache {
    entries: Cache<CacheKey, (Arc<CachedResult>, Duration)>,
}

struct PerEntryTtl;

impl Expiry<CacheKey, (Arc<CachedResult>, Duration)> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &(Arc<CachedResult>, Duration),
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.1)
    }
}

impl MemoryCache {
    /// A cache holding at most about `max_bytes` of results (by their JSON size).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_key, (entry, _): &(Arc<CachedResult>, Duration)| {
                    u32::try_from(approximate_size(&entry.result)).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntryTtl)
                .support_invalidation_closures()
                .build(),
        }
    }
}

impl Default for MemoryCache {
    /// 256 MiB.
    fn default() -> Self {
        Self::new(256 * 1024 * 1024)
    }
}

#[async_trait]
impl ResultCache for MemoryCache {
    async fn get(&self, key: &CacheKey) -> Option<Arc<CachedResult>> {
        self.entries.get(key).await.map(|(entry, _)| entry)
    }

    async fn put(&self, key: &CacheKey, entry: Arc<CachedResult>, ttl: Duration) {
        self.entries.insert(key.clone(), (entry, ttl)).await;
    }

    async fn invalidate(&self, tenant_id: &str, table: Option<&str>) {
        let tenant = tenant_id.to_owned();
        let table = table.map(str::to_owned);
        let outcome = self.entries.invalidate_entries_if(move |key, (entry, _)| {
            key.tenant_id() == tenant
                && table
                    .as_ref()
                    .is_none_or(|t| entry.tables.iter().any(|read| read == t))
        });
        if let Err(err) = outcome {
            tracing::warn!(error = %err, "result cache invalidation failed; clearing it all");
            self.entries.invalidate_all();
        }
        self.entries.run_pending_tasks().await;
    }

    async fn ping(&self) -> Result<(), BoxError> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
