//! The result cache: what a cache backend must do, the cache key, and the in-process backend.
//!
//! Keys are made of the tenant, the PostgreSQL schema, the row-filter scope (the host's key
//! *and* the predicates themselves) and the normalised query, so nothing cached for one caller
//! can be served to a caller who would not get exactly the same rows.

#[cfg(feature = "memory-cache")]
mod memory;
#[cfg(feature = "redis-cache")]
mod redis;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::source::BoxError;
use crate::source::QueryResult;

#[cfg(feature = "memory-cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-cache")))]
pub use memory::MemoryCache;
#[cfg(feature = "redis-cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis-cache")))]
pub use redis::RedisCache;

/// A cached query result and what it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedResult {
    /// The result.
    pub result: QueryResult,
    /// When it was stored, in Unix seconds.
    pub cached_at: f64,
    /// The tenant whose query produced it.
    pub tenant_id: String,
    /// The tables the query read, for invalidation by table.
    pub tables: Vec<String>,
}

/// Where query results are kept between requests.
///
/// Failures are the backend's to log: a cache that does not answer behaves as a miss, and the
/// query runs against the database.
#[async_trait]
pub trait ResultCache: Debug + Send + Sync + 'static {
    /// The entry under `key`, if present and fresh.
    async fn get(&self, key: &CacheKey) -> Option<Arc<CachedResult>>;

    /// Stores `entry` under `key` for `ttl`.
    async fn put(&self, key: &CacheKey, entry: Arc<CachedResult>, ttl: Duration);

    /// Drops every entry of `tenant_id`, or only those that read `table`.
    async fn invalidate(&self, tenant_id: &str, table: Option<&str>);

    /// Checks that the backend answers (a value written can be read back).
    async fn ping(&self) -> Result<(), BoxError>;

    /// A name for health checks and logs (`memory`, `redis`).
    fn name(&self) -> &'static str;
}

/// A cache key: the tenant in clear (for invalidation), the rest hashed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    tenant_id: String,
    digest: String,
}

impl CacheKey {
    /// The key of a query: `parts` must hold everything the result depends on besides the
    /// tenant (schema, row-filter scope and predicates, the normalised query, settings such as
    /// the row cap and "today").
    pub fn new(tenant_id: &str, parts: &[&str]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(tenant_id.as_bytes());
        for part in parts {
            // Length-prefixed, so that parts cannot run into each other.
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            tenant_id: tenant_id.to_owned(),
            digest,
        }
    }

    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The key as one string (`<tenant length>:<tenant>:<sha-256>`).
    pub fn as_string(&self) -> String {
        format!(
            "{}:{}:{}",
            self.tenant_id.len(),
            self.tenant_id,
            self.digest
        )
    }
}

/// Roughly the bytes a result takes, without serializing it.
pub(crate) fn approximate_size(result: &QueryResult) -> usize {
    let cells: usize = result
        .rows
        .iter()
        .flatten()
        .map(|v| match v {
            serde_json::Value::String(s) => s.len() + 16,
            serde_json::Value::Array(items) => items.len() * 16 + 16,
            serde_json::Value::Object(map) => map.len() * 32 + 16,
            _ => 16,
        })
        .sum();
    cells + result.columns.iter().map(|c| c.len() + 16).sum::<usize>() + 128
}

/// The current time in Unix seconds.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Identical queries in flight at once run once: the first caller runs it, the others wait
/// for its result.
#[derive(Debug)]
pub(crate) struct SingleFlight<T> {
    flights: Mutex<HashMap<CacheKey, Arc<OnceCell<T>>>>,
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Runs `work` for `key`, unless a run for `key` is already under way, in which case its
    /// result is shared. A failed run is not shared: the next waiter runs again.
    pub(crate) async fn run<E, F, Fut>(&self, key: &CacheKey, work: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let cell = self
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        let outcome = cell.get_or_try_init(work).await.cloned();
        // The first to finish removes the flight; later calls start a new one (and find the
        // result in the cache, when it was stored).
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if flights.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) && cell.initialized() {
            flights.remove(key);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn keys_separate_tenants_and_parts() {
        let a = CacheKey::new("a", &["public", "q"]);
        assert_eq!(a, CacheKey::new("a", &["public", "q"]));
        assert_ne!(a, CacheKey::new("b", &["public", "q"]));
        assert_ne!(a, CacheKey::new("a", &["other", "q"]));
        assert_ne!(
            CacheKey::new("a", &["ab", "c"]),
            CacheKey::new("a", &["a", "bc"])
        );
        assert!(a.as_string().starts_with("1:a:"));
    }

    #[tokio::test]
    async fn concurrent_runs_of_one_key_execute_once() {
        let flights: Arc<SingleFlight<u32>> = Arc::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let key = CacheKey::new("t", &["q"]);
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (flights, runs, key) = (flights.clone(), runs.clone(), key.clone());
                tokio::spawn(async move {
                    flights
                        .run(&key, || async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(7)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(7));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(flights.flights.lock().unwrap().is_empty());
    }
}
