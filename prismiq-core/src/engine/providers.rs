//! Host data providers: a provider widget's data, under the rules of a query.

use std::time::Instant;

use super::Engine;
use super::queries::Caching;
use crate::auth::AuthContext;
use crate::cache::CacheKey;
use crate::catalogue::{
    CatchPanic, ProviderError, ProviderRequest, ResolvedFilter, WidgetDataProvider, WidgetTypeSpec,
};
use crate::error::EngineError;
use crate::model::{Dashboard, FilterValue, Widget};
use crate::source::{QueryResult, SourceError};

type Result<T, E = EngineError> = std::result::Result<T, E>;

impl Engine {
    /// The data of a provider widget, under the rules of a query: the tenant's concurrency
    /// limit, the query timeout, the result cache when the type has a TTL, metrics; a panic
    /// is contained.
    pub(super) async fn provide(
        &self,
        auth: &dyn AuthContext,
        dashboard: &Dashboard,
        widget: &Widget,
        spec: &WidgetTypeSpec,
        provider: &dyn WidgetDataProvider,
        values: &[FilterValue],
    ) -> Result<QueryResult> {
        let filters: Vec<ResolvedFilter<'_>> = dashboard
            .filters
            .iter()
            .filter_map(|filter| {
                let given = values
                    .iter()
                    .find(|v| v.filter_id == filter.id)
                    .map(|v| &v.value)
                    .filter(|v| !v.is_null());
                given
                    .or(filter.default_value.as_ref())
                    .map(|value| ResolvedFilter { filter, value })
            })
            .collect();
        let timeout = self.analytics.query_timeout;
        let run = || async {
            let _slot = self
                .analytics
                .tenant_gates
                .enter(auth.tenant_id(), timeout)
                .await?;
            let started = Instant::now();
            let request = ProviderRequest {
                auth,
                dashboard_id: dashboard.id,
                widget,
                filters: &filters,
            };
            // A panic while making the future or while polling it is contained alike.
            let fetch =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| provider.fetch(request)));
            let outcome = match fetch {
                Ok(fetch) => tokio::time::timeout(timeout, CatchPanic(fetch)).await,
                Err(panic) => Ok(Err(crate::catalogue::panic_message(panic.as_ref()))),
            };
            let outcome = match outcome {
                Err(_) => Err(EngineError::Source(SourceError::Timeout(timeout))),
                Ok(Err(panic)) => {
                    tracing::error!(
                        widget_type = %widget.widget_type,
                        widget_id = %widget.id,
                        "widget data provider panicked: {panic}"
                    );
                    Err(EngineError::Provider(ProviderError::Failed(
                        format!("the provider panicked: {panic}").into(),
                    )))
                }
                Ok(Ok(Err(err))) => {
                    if let ProviderError::Failed(cause) = &err {
                        tracing::error!(
                            widget_type = %widget.widget_type,
                            widget_id = %widget.id,
                            "widget data provider failed: {}",
                            crate::error::error_chain(cause.as_ref())
                        );
                    }
                    Err(EngineError::Provider(err))
                }
                Ok(Ok(Ok(result))) => Ok(result),
            };
            metrics::counter!(
                "prismiq_provider_total",
                "result" => if outcome.is_ok() { "ok" } else { "error" }
            )
            .increment(1);
            metrics::histogram!("prismiq_provider_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            outcome
        };
        // Per user (a provider sees the whole caller, so its answer may depend on who asks):
        // a caller without a user id is never served from the cache.
        let (Some(ttl), Some(user)) = (spec.cache_ttl(), crate::permissions::user(auth)) else {
            return run().await;
        };
        let config = serde_json::to_string(&widget.config).unwrap_or_default();
        let filter_values = serde_json::to_string(
            &filters
                .iter()
                .map(|f| (&f.filter.id, f.value))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        let key = CacheKey::new(
            auth.tenant_id(),
            &[
                "provider",
                widget.widget_type.as_str(),
                user,
                if auth.is_admin() { "admin" } else { "" },
                &dashboard.id.to_string(),
                &widget.id.to_string(),
                &config,
                &filter_values,
            ],
        );
        Ok(self
            .through_cache(auth, key, Vec::new(), Caching::Use, ttl, run)
            .await?
            .result)
    }
}
