//! Backend health: the store, the data source and the result cache.

use std::time::{Duration, Instant};

use super::Engine;

/// The outcome of one backend check (see [`Engine::health_checks`]).
#[derive(Debug)]
pub struct HealthCheck {
    /// What was checked: the store's name (`database`, `store`), `data_source` or `cache`.
    pub name: &'static str,
    /// Whether requests fail without it (the cache is not critical).
    pub critical: bool,
    /// The latency, or what went wrong.
    pub outcome: Result<Duration, String>,
}

impl Engine {
    /// Checks every backend: the store (named by it, e.g. `database`), the data source
    /// (`data_source`) and the result cache (`cache`), each with its latency or its error.
    /// A check is `critical` when the engine cannot serve requests without it.
    pub async fn health_checks(&self) -> Vec<HealthCheck> {
        let timed = |name: &'static str,
                     critical: bool,
                     started: Instant,
                     outcome: Result<(), String>| HealthCheck {
            name,
            critical,
            outcome: outcome.map(|()| started.elapsed()),
        };
        let mut checks = Vec::with_capacity(3);
        let started = Instant::now();
        let store = self
            .dashboards
            .ping()
            .await
            .map_err(|e| crate::error::error_chain(&e));
        checks.push(timed(
            self.dashboards.health_check_name(),
            true,
            started,
            store,
        ));
        if let Some(source) = &self.analytics.source {
            let started = Instant::now();
            let outcome = source
                .ping()
                .await
                .map_err(|e| crate::error::error_chain(&e));
            checks.push(timed("data_source", true, started, outcome));
        }
        if let Some(cache) = &self.analytics.cache {
            let started = Instant::now();
            let outcome = cache
                .ping()
                .await
                .map_err(|e| crate::error::error_chain(&*e));
            checks.push(timed("cache", false, started, outcome));
        }
        checks
    }
}
