//! [`RedisCache`]: results in Redis, shared by every instance of the host.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{CacheKey, CachedResult, ResultCache};
use crate::source::BoxError;

/// Query results in Redis (as JSON, with `SET … EX`), for hosts running several instances.
/// Each tenant, and each (tenant, table), has a set of its keys for invalidation.
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Connects to `url` (`redis://127.0.0.1:6379`), reconnecting by itself when the
    /// connection drops. Keys start with `prismiq:`.
    pub async fn connect(url: &str) -> Result<Self, BoxError> {
        let client = redis::Client::open(url)?;
        let connection = client.get_connection_manager().await?;
        Ok(Self {
            connection,
            prefix: "prismiq:".to_owned(),
        })
    }

    /// Starts every key with `prefix` instead of `prismiq:`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn entry_key(&self, key: &CacheKey) -> String {
        format!("{}q:{}", self.prefix, key.as_string())
    }

    fn tenant_tag(&self, tenant_id: &str) -> String {
        format!("{}tag:{}:{tenant_id}", self.prefix, tenant_id.len())
    }

    fn table_tag(&self, tenant_id: &str, table: &str) -> String {
        format!("{}tag:{}:{tenant_id}:{table}", self.prefix, tenant_id.len())
    }
}

#[async_trait]
impl ResultCache for RedisCache {
    async fn get(&self, key: &CacheKey) -> Option<Arc<CachedResult>> {
        let mut connection = self.connection.clone();
        let raw: Option<Vec<u8>> = match connection.get(self.entry_key(key)).await {
            Ok(raw) => raw,
            Err(err) => {
                tracing::warn!(error = %err, "redis cache read failed; treating as a miss");
                return None;
            }
        };
        raw.and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .map(Arc::new)
    }

    async fn put(&self, key: &CacheKey, entry: Arc<CachedResult>, ttl: Duration) {
        let Ok(bytes) = serde_json::to_vec(&*entry) else {
            return;
        };
        let entry_key = self.entry_key(key);
        let seconds = ttl.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic().set_ex(&entry_key, bytes, seconds).ignore();
        let mut tags = vec![self.tenant_tag(&entry.tenant_id)];
        tags.extend(
            entry
                .tables
                .iter()
                .map(|t| self.table_tag(&entry.tenant_id, t)),
        );
        for tag in &tags {
            pipe.sadd(tag, &entry_key).ignore();
            // Tags outlive their entries a little; stale members are harmless.
            pipe.expire(tag, i64::try_from(seconds * 2).unwrap_or(i64::MAX))
                .ignore();
        }
        let mut connection = self.connection.clone();
        if let Err(err) = pipe.query_async::<()>(&mut connection).await {
            tracing::warn!(error = %err, "redis cache write failed");
        }
    }

    async fn invalidate(&self, tenant_id: &str, table: Option<&str>) {
        let tag = match table {
            Some(table) => self.table_tag(tenant_id, table),
            None => self.tenant_tag(tenant_id),
        };
        let mut connection = self.connection.clone();
        let keys: Vec<String> = match connection.smembers(&tag).await {
            Ok(keys) => keys,
            Err(err) => {
                tracing::warn!(error = %err, "redis cache invalidation failed");
                return;
            }
        };
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.del(key).ignore();
        }
        pipe.del(&tag).ignore();
        if let Err(err) = pipe.query_async::<()>(&mut connection).await {
            tracing::warn!(error = %err, "redis cache invalidation failed");
        }
    }

    async fn ping(&self) -> Result<(), BoxError> {
        let mut connection = self.connection.clone();
        let key = format!("{}health_check", self.prefix);
        let () = connection.set_ex(&key, "ok", 1).await?;
        let value: Option<String> = connection.get(&key).await?;
        if value.as_deref() == Some("ok") {
            Ok(())
        } else {
            Err("Cache read/write verification failed".into())
        }
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
