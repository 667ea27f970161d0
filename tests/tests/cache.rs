//! The result cache over HTTP: tenant, schema and row-filter isolation, true cache facts,
//! bypass, single flight, size limit and invalidation — on the in-process cache and on Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use prismiq_axum::prismiq_core::cache::{MemoryCache, RedisCache, ResultCache};
use prismiq_axum::prismiq_core::{
    AuthContext, CompiledQuery, DataSource, DatabaseSchema, Engine, ExecutionContext, MemoryStore,
    QueryResult, RowFilter, RowPredicate, SourceError,
};
use prismiq_store_postgres::PgDataSource;
use prismiq_tests::{TestApp, sample};
use serde_json::{Value, json};

/// A data source that counts executions and makes each take a while.
#[derive(Debug)]
struct Counting {
    inner: PgDataSource,
    executions: AtomicUsize,
}

#[async_trait]
impl DataSource for Counting {
    async fn introspect(&self, schema: &str) -> Result<DatabaseSchema, SourceError> {
        self.inner.introspect(schema).await
    }
    async fn schema_exists(&self, schema: &str) -> Result<bool, SourceError> {
        self.inner.schema_exists(schema).await
    }
    async fn execute(
        &self,
        context: &ExecutionContext,
        query: &CompiledQuery,
    ) -> Result<QueryResult, SourceError> {
        self.executions.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.inner.execute(context, query).await
    }
    async fn ping(&self) -> Result<(), SourceError> {
        self.inner.ping().await
    }
}

/// Tenants see the customers of their own region; user `viewer-*` sees only gold tier.
#[derive(Debug)]
struct ByTenant;

impl RowFilter for ByTenant {
    fn predicates(&self, auth: &dyn AuthContext, table: &str) -> Vec<RowPredicate> {
        if table != "customers" {
            return Vec::new();
        }
        let mut predicates = vec![RowPredicate::eq("region", auth.tenant_id())];
        if auth.user_id().is_some_and(|u| u.starts_with("viewer")) {
            predicates.push(RowPredicate::eq("tier", "gold"));
        }
        predicates
    }

    fn scope_key(&self, auth: &dyn AuthContext) -> String {
        let viewer = auth.user_id().is_some_and(|u| u.starts_with("viewer"));
        format!("{}:{viewer}", auth.tenant_id())
    }
}

async fn setup(cache: Arc<dyn ResultCache>) -> (TestApp, Arc<Counting>) {
    let source = Arc::new(Counting {
        inner: PgDataSource::new(sample::pool().await),
        executions: AtomicUsize::new(0),
    });
    let engine = Engine::new(MemoryStore::new())
        .with_data_source(source.clone())
        .with_row_filter(Arc::new(ByTenant))
        .with_result_cache(cache);
    (TestApp::new(engine), source)
}

fn count_customers() -> Value {
    json!({"tables": [{"id": "c", "name": "customers"}],
           "columns": [{"table_id": "c", "column": "region"}, {"table_id": "c", "column": "*", "aggregation": "count", "alias": "n"}]})
}

fn count_orders() -> Value {
    json!({"tables": [{"id": "o", "name": "orders"}], "columns": [{"table_id": "o", "column": "*", "aggregation": "count"}]})
}

async fn execute(app: &TestApp, tenant: &str, user: &str, query: Value, bypass: bool) -> Value {
    app.post("/query/execute")
        .tenant(tenant)
        .header("x-user-id", user)
        .json(&json!({"query": query, "bypass_cache": bypass}))
        .send()
        .await
        .expect(200)
}

async fn isolation_and_facts(cache: Arc<dyn ResultCache>) {
    let (app, source) = setup(cache).await;
    let first = execute(&app, "East", "alice", count_customers(), false).await;
    assert_eq!(first["is_from_cache"], false);
    assert!(first["cached_at"].is_number(), "stored on a miss: {first}");
    assert_eq!(first["rows"][0][0], "East");
    let second = execute(&app, "East", "alice", count_customers(), false).await;
    assert_eq!(second["is_from_cache"], true);
    assert_eq!(second["cached_at"], first["cached_at"]);
    assert_eq!(second["rows"], first["rows"]);
    assert_eq!(source.executions.load(Ordering::SeqCst), 1);

    // Another tenant, same query: never A's result.
    let west = execute(&app, "West", "alice", count_customers(), false).await;
    assert_eq!(west["is_from_cache"], false);
    assert_eq!(west["rows"][0][0], "West");
    // Same tenant, another row-filter scope.
    let viewer = execute(&app, "East", "viewer-1", count_customers(), false).await;
    assert_eq!(viewer["is_from_cache"], false);
    assert_ne!(viewer["rows"], first["rows"]);
    // Same tenant, another schema.
    sample::run(
        "create schema if not exists cache_s; \
         create table if not exists cache_s.customers (id int, region text, tier text); \
         insert into cache_s.customers select 1, 'East', 'gold' where not exists (select 1 from cache_s.customers)",
    )
    .await;
    let other_schema = app
        .post("/query/execute")
        .tenant("East")
        .header("x-user-id", "alice")
        .header("x-schema-name", "cache_s")
        .json(&json!({"query": count_customers()}))
        .send()
        .await
        .expect(200);
    assert_eq!(other_schema["is_from_cache"], false);
    assert_eq!(other_schema["rows"], json!([["East", 1]]));
    assert_eq!(
        execute(&app, "East", "alice", count_customers(), false).await["rows"],
        first["rows"]
    );

    // Bypass runs again and refreshes the entry.
    let executions = source.executions.load(Ordering::SeqCst);
    let bypassed = execute(&app, "East", "alice", count_customers(), true).await;
    assert_eq!(bypassed["is_from_cache"], false);
    assert_eq!(source.executions.load(Ordering::SeqCst), executions + 1);
    let refreshed = execute(&app, "East", "alice", count_customers(), false).await;
    assert_eq!(refreshed["is_from_cache"], true);
    assert!(refreshed["cached_at"].as_f64() > first["cached_at"].as_f64());
}

async fn single_flight_and_invalidation(cache: Arc<dyn ResultCache>) {
    let (app, source) = setup(cache).await;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { execute(&app, "South", "bob", count_orders(), false).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap()["rows"][0][0], 3000);
    }
    assert_eq!(
        source.executions.load(Ordering::SeqCst),
        1,
        "identical queries in flight run once"
    );

    execute(&app, "South", "bob", count_customers(), false).await;
    assert_eq!(
        execute(&app, "South", "bob", count_customers(), false).await["is_from_cache"],
        true
    );
    app.post("/cache/invalidate")
        .tenant("South")
        .header("x-user-id", "bob")
        .json(&json!({"table": "orders"}))
        .send()
        .await
        .expect_detail(403, "Permission denied");
    let done = app
        .post("/cache/invalidate")
        .tenant("South")
        .header("x-user-id", "root")
        .admin()
        .json(&json!({"table": "orders"}))
        .send()
        .await
        .expect(200);
    assert_eq!(
        done,
        json!({"success": true, "message": "Cached results of table 'orders' invalidated"})
    );
    assert_eq!(
        execute(&app, "South", "bob", count_orders(), false).await["is_from_cache"],
        false,
        "orders entry dropped"
    );
    assert_eq!(
        execute(&app, "South", "bob", count_customers(), false).await["is_from_cache"],
        true,
        "customers entry kept"
    );
    app.post("/cache/invalidate")
        .tenant("South")
        .header("x-user-id", "root")
        .admin()
        .send()
        .await
        .expect(200);
    assert_eq!(
        execute(&app, "South", "bob", count_customers(), false).await["is_from_cache"],
        false,
        "whole tenant dropped"
    );
}

#[tokio::test]
async fn memory_cache_isolates_and_tells_the_truth() {
    isolation_and_facts(Arc::new(MemoryCache::default())).await;
}

#[tokio::test]
async fn memory_cache_single_flight_and_invalidation() {
    single_flight_and_invalidation(Arc::new(MemoryCache::default())).await;
}

#[tokio::test]
async fn large_results_are_not_cached() {
    let source = Arc::new(Counting {
        inner: PgDataSource::new(sample::pool().await),
        executions: AtomicUsize::new(0),
    });
    let engine = Engine::new(MemoryStore::new())
        .with_data_source(source.clone())
        .with_max_cached_result_bytes(1_000);
    let app = TestApp::new(engine);
    let big = json!({"tables": [{"id": "o", "name": "orders"}], "columns": [{"table_id": "o", "column": "id"}]});
    for _ in 0..2 {
        let result = execute(&app, "t", "u", big.clone(), false).await;
        assert_eq!(result["is_from_cache"], false);
        assert_eq!(result["cached_at"], Value::Null);
    }
    assert_eq!(source.executions.load(Ordering::SeqCst), 2);
}

async fn redis_cache() -> Arc<dyn ResultCache> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!("REDIS_URL is not set: the Redis cache tests need a server (scripts/test.sh provides one)")
    });
    let prefix = format!("prismiq-test-{}-{}:", std::process::id(), rand_suffix());
    Arc::new(
        RedisCache::connect(&url)
            .await
            .expect("connect to REDIS_URL")
            .with_prefix(prefix),
    )
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test]
async fn redis_cache_isolates_and_tells_the_truth() {
    isolation_and_facts(redis_cache().await).await;
}

#[tokio::test]
async fn redis_cache_single_flight_and_invalidation() {
    single_flight_and_invalidation(redis_cache().await).await;
}
