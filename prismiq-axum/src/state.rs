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
    #[cfg(feature = "render")]
    renderer: Arc<prismiq_render::Renderer>,
}

impl PrismiqState {
    /// State around a configured engine.
    pub fn new(engine: Engine) -> Self {
        #[cfg(feature = "render")]
        let renderer = labelled(&engine, prismiq_render::Renderer::new());
        Self {
            engine: Arc::new(engine),
            started_at: Instant::now(),
            #[cfg(feature = "render")]
            renderer: Arc::new(renderer),
        }
    }

    /// With `renderer` drawing pictures and pages (feature `render`): a host's
    /// [`WidgetPainter`](prismiq_render::WidgetPainter)s for its own widget types. Host types
    /// it gives no label get the catalogue's.
    #[cfg(feature = "render")]
    pub fn with_renderer(mut self, renderer: prismiq_render::Renderer) -> Self {
        self.renderer = Arc::new(labelled(&self.engine, renderer));
        self
    }

    /// The renderer of pictures and pages (feature `render`).
    #[cfg(feature = "render")]
    pub fn renderer(&self) -> &prismiq_render::Renderer {
        &self.renderer
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

/// `renderer`, naming the host types it has no label for as the engine's catalogue names them
/// (on their neutral cards).
#[cfg(feature = "render")]
fn labelled(engine: &Engine, renderer: prismiq_render::Renderer) -> prismiq_render::Renderer {
    engine
        .widget_catalogue()
        .types()
        .filter(|spec| !spec.widget_type().is_builtin())
        .fold(renderer, |renderer, spec| {
            let key = spec.widget_type().as_str();
            if renderer.has_label(key) {
                renderer
            } else {
                renderer.with_label(key, spec.label())
            }
        })
}
