//! The widget catalogue's side of the Engine: its settings, `GET /widget-types`, and the one
//! check every widget write goes through (type, config, size, placement, overlaps).

use std::sync::Arc;

use super::{Engine, Result};
use crate::auth::AuthContext;
use crate::catalogue::{
    Checker, PathSegment, WidgetCatalogue, WidgetTypeAccess, WidgetTypeInfo, WidgetTypeSpec,
};
use crate::error::{EngineError, Violation};
use crate::model::{
    AnyConfig, DashboardCreate, DashboardLayout, PositionRequest, QueryDefinition, WidgetContent,
    WidgetPosition, WidgetType,
};
use crate::placement::Grid;

/// Produces the dashboard a user gets on their first visit when no default applies (see
/// [`Engine::default_dashboard`]); `None` for no starter dashboard for this caller.
///
/// Any `Fn(&dyn AuthContext) -> Option<DashboardCreate>` is one.
pub trait StarterDashboard: Send + Sync + 'static {
    /// The starter dashboard of `auth`, if any.
    fn starter(&self, auth: &dyn AuthContext) -> Option<DashboardCreate>;
}

impl<F> StarterDashboard for F
where
    F: Fn(&dyn AuthContext) -> Option<DashboardCreate> + Send + Sync + 'static,
{
    fn starter(&self, auth: &dyn AuthContext) -> Option<DashboardCreate> {
        self(auth)
    }
}

/// The widget side's settings.
#[derive(Clone)]
pub(super) struct WidgetRules {
    pub(super) catalogue: Arc<WidgetCatalogue>,
    pub(super) starter: Option<Arc<dyn StarterDashboard>>,
    pub(super) min_refresh_interval: u32,
    pub(super) refuse_overlaps: bool,
}

impl Default for WidgetRules {
    fn default() -> Self {
        Self {
            catalogue: Arc::new(WidgetCatalogue::new()),
            starter: None,
            min_refresh_interval: 10,
            refuse_overlaps: false,
        }
    }
}

impl std::fmt::Debug for WidgetRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetRules")
            .field("catalogue", &self.catalogue)
            .field("starter", &self.starter.as_ref().map(|_| "<hook>"))
            .field("min_refresh_interval", &self.min_refresh_interval)
            .field("refuse_overlaps", &self.refuse_overlaps)
            .finish()
    }
}

/// A widget as a write asks for it, before the catalogue settles its config and place.
pub(super) struct Draft {
    /// Where it is in the request body.
    pub(super) at: Vec<PathSegment>,
    pub(super) widget_type: WidgetType,
    pub(super) title: String,
    pub(super) query: Option<QueryDefinition>,
    pub(super) position: Option<PositionRequest>,
    pub(super) config: Option<AnyConfig>,
    /// Whether the widget already has this type: the access hook is not asked again (a plan
    /// downgrade must not lock a dashboard), and a type the catalogue no longer has keeps its
    /// stored config unchecked.
    pub(super) kept_type: bool,
}

impl Draft {
    /// The draft of a widget of a create body, at `at`.
    pub(super) fn of_create(at: Vec<PathSegment>, create: crate::model::WidgetCreate) -> Self {
        Self {
            at,
            widget_type: create.widget_type,
            title: create.title,
            query: create.query,
            position: create.position,
            config: create.config,
            kept_type: false,
        }
    }
}

/// `at` followed by `widgets`, `index`: where widget `index` of a body at `at` is.
pub(super) fn within(at: &[PathSegment], index: usize) -> Vec<PathSegment> {
    let mut path = at.to_vec();
    path.push("widgets".into());
    path.push(index.into());
    path
}

impl Engine {
    /// The engine with `catalogue` as its widget types (default: the eight built-in types).
    pub fn with_widget_catalogue(mut self, catalogue: WidgetCatalogue) -> Self {
        self.widgets.catalogue = Arc::new(catalogue);
        self
    }

    /// The engine with one more widget type (or a built-in type's sizes, label and default
    /// config replaced).
    ///
    /// # Panics
    /// When the spec is wrong (a malformed or repeated key, contradictory sizes, a schema that
    /// does not compile, a default config it refuses): a mistake in the host's code, named in
    /// the message. [`WidgetCatalogue::with_type`] returns the error instead.
    pub fn with_widget_type(mut self, spec: WidgetTypeSpec) -> Self {
        if let Err(err) = Arc::make_mut(&mut self.widgets.catalogue).add(spec) {
            panic!("Engine::with_widget_type: {err}");
        }
        self
    }

    /// The engine with `access` deciding which widget types each caller may use.
    pub fn with_widget_type_access(mut self, access: impl WidgetTypeAccess) -> Self {
        Arc::make_mut(&mut self.widgets.catalogue).set_access(access);
        self
    }

    /// The engine creating `starter`'s dashboard for a user on their first visit to
    /// `GET /dashboards/default` when no default applies to them.
    pub fn with_starter_dashboard(mut self, starter: impl StarterDashboard) -> Self {
        self.widgets.starter = Some(Arc::new(starter));
        self
    }

    /// The shortest refresh interval a dashboard may have, in seconds (default 10).
    pub fn with_min_refresh_interval(mut self, seconds: u32) -> Self {
        self.widgets.min_refresh_interval = seconds;
        self
    }

    /// Whether widgets of a dashboard may cover the same cells (default: they may, as in the
    /// original server). When refused, a write that makes two overlap is a 422 naming both.
    pub fn with_overlapping_widgets(mut self, allowed: bool) -> Self {
        self.widgets.refuse_overlaps = !allowed;
        self
    }

    /// The widget catalogue.
    pub fn widget_catalogue(&self) -> &WidgetCatalogue {
        &self.widgets.catalogue
    }

    /// The widget types the caller may use, with sizes, default config and schema
    /// (`GET /widget-types`).
    pub fn widget_types<'a>(&'a self, auth: &'a dyn AuthContext) -> Vec<WidgetTypeInfo<'a>> {
        self.widgets
            .catalogue
            .usable_types(auth)
            .map(WidgetTypeSpec::info)
            .collect()
    }

    pub(super) fn check_refresh_interval(&self, interval: Option<u32>) -> Result<()> {
        let min = self.widgets.min_refresh_interval;
        match interval {
            Some(seconds) if seconds < min => {
                Err(EngineError::Invalid(Violation::RefreshInterval { min }))
            }
            _ => Ok(()),
        }
    }

    /// Settles widgets a write asks for: each type usable by the caller, each config in its
    /// type's shape and valid (the default config when absent), each size within its type's
    /// bounds, widgets without a position placed at the first free spot around `placed` (the
    /// dashboard's other widgets) and, when overlaps are refused, no two overlapping. Every
    /// problem is reported at once.
    pub(super) fn settle_widgets(
        &self,
        auth: &dyn AuthContext,
        layout: &DashboardLayout,
        placed: &[(&str, WidgetPosition)],
        drafts: Vec<Draft>,
    ) -> Result<Vec<WidgetContent>> {
        let mut checker = Checker::new(&self.widgets.catalogue, Some(auth));
        let mut settled = Vec::with_capacity(drafts.len());
        for mut draft in drafts {
            let spec = if draft.kept_type {
                self.widgets.catalogue.get(&draft.widget_type)
            } else {
                checker.spec(&draft.at, &draft.widget_type)
            };
            let config = match spec {
                Some(spec) => checker.config(&draft.at, spec, draft.config.take()),
                // A kept type the catalogue no longer has: its config stays as stored.
                None if draft.kept_type => Some(draft.config.take().unwrap_or_default()),
                None => None,
            };
            settled.push((draft, spec, config));
        }
        // Widgets with a point go where they say; the others fill the holes left, in order.
        let mut grid = Grid::new(layout.columns, placed.iter().map(|(_, p)| *p));
        let mut positions = vec![None; settled.len()];
        let default_size = |spec: Option<&WidgetTypeSpec>| {
            spec.map_or((4, 3), |s| (s.sizes().default_w, s.sizes().default_h))
        };
        for (i, (draft, spec, _)) in settled.iter().enumerate() {
            if let Some((x, y)) = draft.position.and_then(|p| p.point()) {
                let (w, h) = default_size(*spec);
                let request = draft.position.unwrap_or_default();
                let position = WidgetPosition {
                    x,
                    y,
                    w: request.w.unwrap_or(w),
                    h: request.h.unwrap_or(h),
                };
                grid.occupy(position);
                positions[i] = Some(position);
            }
        }
        for (i, (draft, spec, _)) in settled.iter().enumerate() {
            if positions[i].is_none() {
                let (w, h) = default_size(*spec);
                let request = draft.position.unwrap_or_default();
                positions[i] = Some(grid.place(request.w.unwrap_or(w), request.h.unwrap_or(h)));
            }
        }
        let positions: Vec<WidgetPosition> = positions.into_iter().flatten().collect();
        for ((draft, spec, _), position) in settled.iter().zip(&positions) {
            if let Some(spec) = spec {
                checker.size(&draft.at, spec, position);
            }
        }
        if self.widgets.refuse_overlaps {
            for (i, ((draft, _, _), position)) in settled.iter().zip(&positions).enumerate() {
                let earlier = settled[..i]
                    .iter()
                    .zip(&positions)
                    .map(|((d, _, _), p)| (d.title.as_str(), *p));
                if let Some((other, _)) = placed
                    .iter()
                    .copied()
                    .chain(earlier)
                    .find(|(_, p)| crate::catalogue::overlaps(p, position))
                {
                    checker.overlap(&draft.at, &draft.title, other, position);
                }
            }
        }
        checker.finish().map_err(EngineError::InvalidWidgets)?;
        Ok(settled
            .into_iter()
            .zip(positions)
            .map(|((draft, _, config), position)| WidgetContent {
                widget_type: draft.widget_type,
                title: draft.title,
                query: draft.query,
                position,
                config: config.expect("a widget without problems has a config"),
            })
            .collect())
    }

    /// Checks moved or resized widgets against their types' bounds and, when overlaps are
    /// refused, against each other and `others`. Types the catalogue no longer has are not
    /// held to bounds, so a dashboard holding one can still be rearranged.
    pub(super) fn check_moves(
        &self,
        auth: &dyn AuthContext,
        others: &[(&str, WidgetPosition)],
        moves: &[(Vec<PathSegment>, &WidgetType, &str, WidgetPosition)],
    ) -> Result<()> {
        let mut checker = Checker::new(&self.widgets.catalogue, Some(auth));
        for (at, widget_type, _, position) in moves {
            if let Some(spec) = self.widgets.catalogue.get(widget_type) {
                checker.size(at, spec, position);
            }
        }
        if self.widgets.refuse_overlaps {
            for (i, (at, _, title, position)) in moves.iter().enumerate() {
                let earlier = moves[..i].iter().map(|(_, _, t, p)| (*t, *p));
                if let Some((other, _)) = others
                    .iter()
                    .copied()
                    .chain(earlier)
                    .find(|(_, p)| crate::catalogue::overlaps(p, position))
                {
                    checker.overlap(at, title, other, position);
                }
            }
        }
        checker.finish().map_err(EngineError::InvalidWidgets)
    }
}
