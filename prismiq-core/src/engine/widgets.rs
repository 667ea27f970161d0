//! Widgets of a dashboard: add, change, delete, duplicate, and the layout.

use super::{Engine, Result, dashboard_not_found, find_widget, limits, widget_not_found};
use crate::auth::{AuthContext, Scope};
use crate::ids::{DashboardId, WidgetId};
use crate::model::{Dashboard, LayoutItem, Widget, WidgetContent, WidgetCreate, WidgetUpdate};
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
        let content = WidgetContent::from(create);
        self.limits.check_widget(&dashboard.layout, &content)?;
        self.insert_widget(auth, dashboard_id, content).await
    }

    async fn insert_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        content: WidgetContent,
    ) -> Result<Widget> {
        self.dashboards
            .add_widget(
                &Scope::of(auth),
                dashboard_id,
                WidgetId::new(),
                content,
                self.limits.widgets_per_dashboard,
            )
            .await
            .map_err(|err| match err {
                StoreError::LimitReached => self.limits.widget_limit_error(),
                err => self.store_error(err, "", || dashboard_not_found(dashboard_id)),
            })
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
        let mut content = WidgetContent::of(widget);
        if let Some(widget_type) = update.widget_type {
            content.widget_type = widget_type;
        }
        if let Some(title) = update.title {
            content.title = title;
        }
        update.query.apply(&mut content.query);
        if let Some(position) = update.position {
            content.position = position;
        }
        if let Some(config) = update.config {
            content.config = config;
        }
        self.limits.check_widget(&dashboard.layout, &content)?;
        self.dashboards
            .update_widget(&Scope::of(auth), dashboard_id, widget_id, content)
            .await
            .map_err(|err| self.store_error(err, "", || widget_not_found(widget_id)))
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
            .delete_widget(&Scope::of(auth), dashboard_id, widget_id)
            .await
            .map_err(|err| self.store_error(err, "", || widget_not_found(widget_id)))
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
        self.limits.check_widget(&dashboard.layout, &content)?;
        self.insert_widget(auth, dashboard_id, content).await
    }

    /// Moves widgets of a dashboard the caller may edit; ids not on it are skipped.
    pub async fn update_layout(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        items: Vec<LayoutItem>,
    ) -> Result<Dashboard> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        let mut positions = Vec::with_capacity(items.len());
        for item in items {
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
        }
        self.dashboards
            .update_layout(&Scope::of(auth), dashboard_id, &positions)
            .await
            .map_err(|err| self.store_error(err, "", || dashboard_not_found(dashboard_id)))
    }
}
