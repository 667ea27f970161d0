//! Request hygiene: body size limit, request timeout, and the per-tenant limit on queries
//! running at once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use prismiq_axum::RouterOptions;
use prismiq_axum::prismiq_core::testing::small_schema;
use prismiq_axum::prismiq_core::{
    CompiledQuery, DataSource, DatabaseSchema, Engine, ExecutionContext, MemoryStore, QueryResult,
    SourceError,
};
use prismiq_tests::TestApp;
use serde_json::json;

/// A data source whose queries take `delay`.
#[derive(Debug)]
struct Slow {
    delay: Duration,
}

#[async_trait]
impl DataSource for Slow {
    async fn introspect(&self, schema: &str) -> Result<DatabaseSchema, SourceError> {
        Ok(small_schema(schema))
    }
    async fn schema_exists(&self, _schema: &str) -> Result<bool, SourceError> {
        Ok(true)
    }
    async fn execute(
        &self,
        _context: &ExecutionContext,
        _query: &CompiledQuery,
    ) -> Result<QueryResult, SourceError> {
        tokio::time::sleep(self.delay).await;
        Ok(QueryResult::empty(
            vec!["n".to_owned()],
            vec!["int8".to_owned()],
        ))
    }
    async fn ping(&self) -> Result<(), SourceError> {
        Ok(())
    }
}

fn slow_engine(delay: Duration) -> Engine {
    Engine::new(MemoryStore::new())
        .with_data_source(Arc::new(Slow { delay }))
        .without_result_cache()
}

fn count_orders() -> serde_json::Value {
    json!({"query": {"tables": [{"id": "o", "name": "orders"}], "columns": [{"table_id": "o", "column": "id", "aggregation": "count", "alias": "n"}]}})
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::with_options(
        Engine::new(MemoryStore::new()),
        RouterOptions::default().with_body_limit(64),
    );
    app.post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "small"}))
        .send()
        .await
        .expect(201);
    app.post("/dashboards")
        .as_user("alice")
        .json(&json!({"name": "x".repeat(100)}))
        .send()
        .await
        .expect_detail(413, "Request body is larger than the router's body limit");
}

#[tokio::test]
async fn slow_requests_time_out_with_504() {
    let app = TestApp::with_options(
        slow_engine(Duration::from_secs(2)),
        RouterOptions::default().with_request_timeout(Duration::from_millis(200)),
    );
    app.post("/query/execute")
        .as_user("alice")
        .json(&count_orders())
        .send()
        .await
        .expect_detail(504, "Request timed out after 0.2 seconds");
    app.get("/dashboards")
        .as_user("alice")
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn one_tenant_cannot_take_every_query_slot() {
    let engine = slow_engine(Duration::from_millis(600))
        .with_max_concurrent_queries_per_tenant(1)
        .with_query_timeout(Duration::from_millis(200));
    let app = TestApp::new(engine);
    let busy = {
        let app = app.clone();
        tokio::spawn(async move {
            app.post("/query/execute")
                .tenant("a")
                .json(&count_orders())
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Tenant a's second query waits for the slot, then gives up with 429.
    app.post("/query/execute")
        .tenant("a")
        .json(&count_orders())
        .send()
        .await
        .expect_detail(
            429,
            "Too many queries are running for this tenant (at most 1 at once); retry shortly",
        );
    // Tenant b is not held up by tenant a.
    app.post("/query/execute")
        .tenant("b")
        .json(&count_orders())
        .send()
        .await
        .expect(200);
    busy.await.unwrap().expect(200);
}
