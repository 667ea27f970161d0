//! Widgets of a dashboard: add, change, delete, duplicate, and the layout.

use super::catalogue::Draft;
use super::{Engine, Result, dashboard_not_found, find_widget, limits, widget_not_found};
use crate::auth::AuthContext;
use crate::catalogue::PathSegment;
use crate::events::EventKind;
use crate::ids::{DashboardId, WidgetId};
use crate::model::ChangeKind;
use crate::model::{
    Dashboard, LayoutItem, PositionRequest, Widget, WidgetContent, WidgetCreate, WidgetPosition,
    WidgetUpdate,
};
use crate::store::StoreError;

impl Engine {
    /// Adds a widget to a dashboard the caller may edit.
    pub async fn add_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        create: WidgetCreate,
    ) -> Result<Widget> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let placed = placed(&dashboard, None);
        let content = self
            .settle_widgets(
                auth,
                &dashboard.layout,
                &placed,
                vec![Draft::of_create(Vec::new(), create)],
            )?
            .pop()
            .expect("one widget in, one out");
        self.limits.check_widget(&dashboard.layout, &content)?;
        self.insert_widget(auth, dashboard_id, content, ChangeKind::WidgetCreated)
            .await
    }

    /// Adds a checked widget (a change of `kind`) and emits `widget.created`.
    async fn insert_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        content: WidgetContent,
        kind: ChangeKind,
    ) -> Result<Widget> {
        let widget = self
            .dashboards
            .add_widget(
                &self.change_scope(auth, kind, self.expected_version),
                dashboard_id,
                WidgetId::new(),
                content,
                self.limits.widgets_per_dashboard,
            )
            .await
            .map_err(|err| match err {
                StoreError::LimitReached => self.limits.widget_limit_error(),
                err => self.store_error(err, "", || dashboard_not_found(dashboard_id)),
            })?;
        self.emit_dashboard(
            auth,
            EventKind::WidgetCreated,
            dashboard_id,
            Some(widget.id),
        )
        .await;
        Ok(widget)
    }

    /// Changes a widget of a dashboard the caller may edit.
    pub async fn update_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        update: WidgetUpdate,
    ) -> Result<Widget> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let widget = find_widget(&dashboard, widget_id)?;
        let widget_type = update
            .widget_type
            .unwrap_or_else(|| widget.widget_type.clone());
        // Between built-in types the config carries over; to or from a host type the new
        // type's default applies unless the update brings a config.
        let config = update.config.or_else(|| {
            (widget_type == widget.widget_type
                || (widget_type.is_builtin() && widget.widget_type.is_builtin()))
            .then(|| widget.config.clone())
        });
        let mut query = widget.query.clone();
        update.query.apply(&mut query);
        let kept_type = widget_type == widget.widget_type;
        // A new type without a new position keeps the place, its size held to the new
        // type's bounds.
        let position = match (update.position, kept_type) {
            (Some(position), _) => position,
            (None, true) => widget.position,
            (None, false) => {
                let mut position = widget.position;
                if let Some(spec) = self.widget_catalogue().get(&widget_type) {
                    let sizes = spec.sizes();
                    position.w = position
                        .w
                        .max(sizes.min_w)
                        .min(sizes.max_w.unwrap_or(u32::MAX));
                    position.h = position
                        .h
                        .max(sizes.min_h)
                        .min(sizes.max_h.unwrap_or(u32::MAX));
                }
                position
            }
        };
        let moved = position != widget.position;
        let draft = Draft {
            at: Vec::new(),
            widget_type,
            title: update.title.unwrap_or_else(|| widget.title.clone()),
            query,
            position: Some(position.into()),
            config,
            kept_type,
        };
        // Overlaps are checked for a widget that moves, not one that stays where it was.
        let placed = if moved {
            placed(&dashboard, Some(widget_id))
        } else {
            Vec::new()
        };
        let content = self
            .settle_widgets(auth, &dashboard.layout, &placed, vec![draft])?
            .pop()
            .expect("one widget in, one out");
        self.limits.check_widget(&dashboard.layout, &content)?;
        let widget = self
            .dashboards
            .update_widget(
                &self.change_scope(auth, ChangeKind::WidgetUpdated, self.expected_version),
                dashboard_id,
                widget_id,
                content,
            )
            .await
            .map_err(|err| self.store_error(err, "", || widget_not_found(widget_id)))?;
        self.emit_dashboard(
            auth,
            EventKind::WidgetUpdated,
            dashboard_id,
            Some(widget_id),
        )
        .await;
        Ok(widget)
    }

    /// Deletes a widget of a dashboard the caller may edit.
    pub async fn delete_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> Result<()> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        find_widget(&dashboard, widget_id)?;
        self.dashboards
            .delete_widget(
                &self.change_scope(auth, ChangeKind::WidgetDeleted, self.expected_version),
                dashboard_id,
                widget_id,
            )
            .await
            .map_err(|err| self.store_error(err, "", || widget_not_found(widget_id)))?;
        self.emit_dashboard(
            auth,
            EventKind::WidgetDeleted,
            dashboard_id,
            Some(widget_id),
        )
        .await;
        Ok(())
    }

    /// Copies a widget of a dashboard the caller may edit, titled `"<title> (Copy)"` and placed
    /// one column to the right (or, when that leaves the grid, just below the original).
    pub async fn duplicate_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> Result<Widget> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let mut content = WidgetContent::of(find_widget(&dashboard, widget_id)?);
        content.title.push_str(" (Copy)");
        let mut moved = content.position;
        moved.x += 1;
        if moved.fits(dashboard.layout.columns) {
            content.position = moved;
        } else {
            content.position.y = content.position.y.saturating_add(content.position.h);
        }
        let draft = Draft {
            at: Vec::new(),
            widget_type: content.widget_type,
            title: content.title,
            query: content.query,
            // Where overlaps are refused, the copy takes the first free spot instead.
            position: Some(if self.widgets.refuse_overlaps {
                PositionRequest::size(content.position.w, content.position.h)
            } else {
                content.position.into()
            }),
            config: Some(content.config),
            kept_type: false,
        };
        let content = self
            .settle_widgets(
                auth,
                &dashboard.layout,
                &placed(&dashboard, None),
                vec![draft],
            )?
            .pop()
            .expect("one widget in, one out");
        self.limits.check_widget(&dashboard.layout, &content)?;
        self.insert_widget(auth, dashboard_id, content, ChangeKind::WidgetDuplicated)
            .await
    }

    /// Moves widgets of a dashboard the caller may edit; ids not on it are skipped.
    pub async fn update_layout(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        items: Vec<LayoutItem>,
    ) -> Result<Dashboard> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        // A widget listed twice goes where its last item says.
        let mut last = std::collections::HashMap::new();
        for (i, item) in items.iter().enumerate() {
            last.insert(item.widget_id.as_str(), i);
        }
        let mut positions = Vec::with_capacity(items.len());
        let mut moves = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if last.get(item.widget_id.as_str()) != Some(&i) {
                continue;
            }
            let Some(widget) = item
                .widget_id
                .parse::<WidgetId>()
                .ok()
                .and_then(|id| dashboard.widgets.iter().find(|w| w.id == id))
            else {
                continue;
            };
            limits::check_positions(&dashboard.layout, [(&widget.title, &item.position)])?;
            positions.push((widget.id, item.position));
            moves.push((
                vec![PathSegment::Index(i)],
                &widget.widget_type,
                widget.title.as_str(),
                item.position,
            ));
        }
        let unmoved: Vec<(&str, WidgetPosition)> = dashboard
            .widgets
            .iter()
            .filter(|w| !positions.iter().any(|(id, _)| *id == w.id))
            .map(|w| (w.title.as_str(), w.position))
            .collect();
        self.check_moves(auth, &unmoved, &moves)?;
        let dashboard = self
            .dashboards
            .update_layout(
                &self.change_scope(auth, ChangeKind::LayoutUpdated, self.expected_version),
                dashboard_id,
                &positions,
            )
            .await
            .map_err(|err| self.store_error(err, "", || dashboard_not_found(dashboard_id)))?;
        self.emit_version(auth, EventKind::LayoutUpdated, &dashboard)
            .await;
        Ok(dashboard)
    }
}

/// The titles and positions of a dashboard's widgets, but `except`.
fn placed(dashboard: &Dashboard, except: Option<WidgetId>) -> Vec<(&str, WidgetPosition)> {
    dashboard
        .widgets
        .iter()
        .filter(|w| Some(w.id) != except)
        .map(|w| (w.title.as_str(), w.position))
        .collect()
}
