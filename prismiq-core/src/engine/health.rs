//! Backend health: the store, the data source and the result cache.

use std::time::{Duration, Instant};

use super::Engine;

/// The outcome of one backend check (see [`Engine::health_checks`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct HealthCheck {
    /// What was checked: the store's name (`database`, `store`), `data_source` or `cache`.
    pub name: &'static str,
    /// Whether requests fail without it (the cache is not critical).
    pub critical: bool,
    /// The latency, or what went wrong.
    pub outcome: Result<Duration, String>,
}

/// The overall state of the backends: the rule over every [`HealthCheck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HealthStatus {
    /// Every check passed.
    Healthy,
    /// Only checks that are not critical failed (the result cache): requests are served, more
    /// slowly.
    Degraded,
    /// A critical check failed (the store or the data source): requests fail.
    Unhealthy,
}

impl HealthStatus {
    /// The status of a set of checks: unhealthy if a critical one failed, degraded if another
    /// one did, else healthy.
    pub fn of(checks: &[HealthCheck]) -> Self {
        let failed = |critical: bool| {
            checks
                .iter()
                .any(|c| c.critical == critical && c.outcome.is_err())
        };
        if failed(true) {
            Self::Unhealthy
        } else if failed(false) {
            Self::Degraded
        } else {
            Self::Healthy
        }
    }

    /// The wire name: `healthy`, `degraded` or `unhealthy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Unhealthy => "unhealthy",
        }
    }
}

/// Every backend check and the status they add up to (see [`Engine::health`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct HealthReport {
    /// The overall status.
    pub status: HealthStatus,
    /// Each check, store first.
    pub checks: Vec<HealthCheck>,
}

impl HealthReport {
    /// The first critical check that failed, with its error: why the engine is not ready.
    pub fn not_ready(&self) -> Option<(&'static str, &str)> {
        self.checks.iter().find_map(|check| match &check.outcome {
            Err(message) if check.critical => Some((check.name, message.as_str())),
            _ => None,
        })
    }
}

impl Engine {
    /// Checks every backend and applies the health rule (see [`HealthStatus::of`]).
    pub async fn health(&self) -> HealthReport {
        let checks = self.health_checks().await;
        HealthReport {
            status: HealthStatus::of(&checks),
            checks,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &'static str, critical: bool, ok: bool) -> HealthCheck {
        HealthCheck {
            name,
            critical,
            outcome: if ok {
                Ok(Duration::from_millis(1))
            } else {
                Err(format!("{name} is down"))
            },
        }
    }

    #[test]
    fn the_status_follows_the_failed_checks() {
        let cases = [
            (vec![], HealthStatus::Healthy, None),
            (
                vec![check("database", true, true), check("cache", false, true)],
                HealthStatus::Healthy,
                None,
            ),
            (
                vec![check("database", true, true), check("cache", false, false)],
                HealthStatus::Degraded,
                None,
            ),
            (
                vec![check("database", true, false), check("cache", false, true)],
                HealthStatus::Unhealthy,
                Some(("database", "database is down")),
            ),
            (
                vec![
                    check("database", true, true),
                    check("data_source", true, false),
                    check("cache", false, false),
                ],
                HealthStatus::Unhealthy,
                Some(("data_source", "data_source is down")),
            ),
        ];
        for (checks, status, not_ready) in cases {
            assert_eq!(HealthStatus::of(&checks), status, "{checks:?}");
            let report = HealthReport { status, checks };
            assert_eq!(report.not_ready(), not_ready);
        }
        assert_eq!(HealthStatus::Degraded.as_str(), "degraded");
    }
}
