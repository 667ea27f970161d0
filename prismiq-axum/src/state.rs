//! [`PrismiqState`]: what the Prismiq routes need from the host's state.

use std::sync::Arc;
use std::time::Instant;

use prismiq_core::Engine;

/// The state the Prismiq router needs: the [`Engine`] and a little bookkeeping.
///
/// The host keeps it inside its own state and lets axum find it with `FromRef`:
///
/// ```
/// use axum::extract::FromRef;
/// use prismiq_axum::PrismiqState;
///
/// #[derive(Clone, FromRef)]
/// struct AppState {
///     prismiq: PrismiqState,
///     // ... the host's own fields
/// }
/// ```
///
/// Cloning is cheap: the engine is shared.
#[derive(Debug, Clone)]
pub struct PrismiqState {
    engine: Arc<Engine>,
    started_at: Instant,
}

impl PrismiqState {
    /// State around a configured engine.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine: Arc::new(engine),
            started_at: Instant::now(),
        }
    }

    /// The engine, for hosts that also call it directly.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Seconds since this state was created.
    pub fn uptime_seconds(&self) -> f64 {
        self.started_at.elapsed().as_secs_f64()
    }
}
