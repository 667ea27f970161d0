//! [`DashboardStore`] for [`MemoryStore`].

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, State, renumber};
use crate::auth::{Change, Retention, Scope};
use crate::ids::{DashboardId, WidgetId};
use crate::model::{
    ChangeKind, Dashboard, DashboardSummary, DashboardVersion, Timestamp, VersionEntry, Widget,
    WidgetContent, WidgetPosition,
};
use crate::permissions::Viewer;
use crate::store::{
    Conflict, DashboardChanges, DashboardStore, DefaultFor, Defaults, NewDashboard, StoreError,
    StoreResult, SummaryPage,
};

impl State {
    /// The dashboard a change is about to write, at the version the change expects.
    fn dashboard_mut(&mut self, scope: &Scope, id: DashboardId) -> StoreResult<&mut Dashboard> {
        let dashboard = self
            .tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.dashboards.get_mut(&id))
            .ok_or(StoreError::NotFound)?;
        expect_version(scope, dashboard)?;
        Ok(dashboard)
    }

    /// Records the change just made to dashboard `id`: one more version, its entry with the
    /// dashboard as it now is, and what the retention no longer keeps deleted. A new dashboard
    /// (`created`) keeps version 1.
    fn record(&mut self, scope: &Scope, id: DashboardId, kind: ChangeKind, created: bool) {
        let Some(tenant) = self.tenants.get_mut(scope.tenant_id()) else {
            return;
        };
        let Some(dashboard) = tenant.dashboards.get_mut(&id) else {
            return;
        };
        if !created {
            dashboard.version += 1;
        }
        let change = scope
            .change()
            .cloned()
            .unwrap_or_else(|| Change::default_for(kind));
        let entry = VersionEntry {
            version: dashboard.version,
            author: change.author.clone(),
            kind: change.kind,
            created_at: dashboard.updated_at,
        };
        let versions = tenant.versions.entry(id).or_default();
        versions.push(DashboardVersion {
            entry,
            document: dashboard.clone(),
        });
        prune(versions, &change.retention, Timestamp::now());
    }

    fn insert_dashboard(
        &mut self,
        scope: &Scope,
        new: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Dashboard> {
        if let Some(t) = self.tenant(scope) {
            if name_taken(t.dashboards.values(), &new.name, None) {
                return Err(StoreError::Conflict(Conflict::DashboardName));
            }
            if let Some(max) = max_per_owner {
                let owned = t
                    .dashboards
                    .values()
                    .filter(|d| d.owner_id == new.owner_id)
                    .count();
                if owned >= max as usize {
                    return Err(StoreError::LimitReached);
                }
            }
        }
        let mut widget_ids = std::collections::HashSet::new();
        for (id, _) in &new.widgets {
            if self.widget_dashboards.contains_key(id) || !widget_ids.insert(*id) {
                return Err(StoreError::Conflict(Conflict::WidgetId));
            }
        }
        let now = Timestamp::now();
        let dashboard = new.into_dashboard(now);
        for widget in &dashboard.widgets {
            self.widget_dashboards.insert(widget.id, dashboard.id);
        }
        self.tenant_mut(scope)
            .dashboards
            .insert(dashboard.id, dashboard.clone());
        Ok(dashboard)
    }
}

/// Fails with [`StoreError::Stale`] when the scope's change expects another version.
fn expect_version(scope: &Scope, dashboard: &Dashboard) -> StoreResult<()> {
    match scope.change().and_then(|c| c.expected_version) {
        Some(expected) if expected != dashboard.version => Err(StoreError::Stale {
            current: dashboard.version,
        }),
        _ => Ok(()),
    }
}

/// Keeps the newest `retention.keep` versions, and of those none older than its `max_age` but
/// the newest.
fn prune(versions: &mut Vec<DashboardVersion>, retention: &Retention, now: Timestamp) {
    let keep = retention.keep.max(1) as usize;
    if versions.len() > keep {
        versions.drain(..versions.len() - keep);
    }
    if let Some(max_age) = retention.max_age {
        let newest = versions.len().saturating_sub(1);
        let mut index = 0;
        versions.retain(|v| {
            let young = now.age_of(v.entry.created_at) <= max_age;
            index += 1;
            young || index - 1 == newest
        });
    }
}

fn default_key(whose: DefaultFor<'_>) -> Option<String> {
    match whose {
        DefaultFor::User(user) => Some(user.to_owned()),
        DefaultFor::Tenant => None,
    }
}

fn set_content(widget: &mut Widget, content: WidgetContent, now: Timestamp) {
    widget.widget_type = content.widget_type;
    widget.title = content.title;
    widget.query = content.query;
    widget.position = content.position;
    widget.config = content.config;
    widget.updated_at = now;
}

fn name_taken<'a>(
    mut dashboards: impl Iterator<Item = &'a Dashboard>,
    name: &str,
    except: Option<DashboardId>,
) -> bool {
    dashboards.any(|d| d.name == name && Some(d.id) != except)
}

#[async_trait]
impl DashboardStore for MemoryStore {
    async fn list_dashboards(&self, scope: &Scope, viewer: &Viewer) -> StoreResult<Vec<Dashboard>> {
        let state = self.read();
        let mut list: Vec<Dashboard> = state
            .tenant(scope)
            .map(|t| {
                t.dashboards
                    .values()
                    .filter(|d| viewer.can_view_dashboard(d))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by_key(|d| std::cmp::Reverse((d.updated_at, d.id)));
        Ok(list)
    }

    async fn get_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
    ) -> StoreResult<Option<Dashboard>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.dashboards.get(&id))
            .cloned())
    }

    async fn create_dashboard(
        &self,
        scope: &Scope,
        new: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Dashboard> {
        let mut state = self.write();
        let dashboard = state.insert_dashboard(scope, new, max_per_owner)?;
        state.record(scope, dashboard.id, ChangeKind::Created, true);
        Ok(dashboard)
    }

    async fn update_dashboard(
        &self,
        scope: &Scope,
        id: DashboardId,
        changes: DashboardChanges,
    ) -> StoreResult<Dashboard> {
        let mut state = self.write();
        let tenant = state.tenant(scope).ok_or(StoreError::NotFound)?;
        expect_version(
            scope,
            tenant.dashboards.get(&id).ok_or(StoreError::NotFound)?,
        )?;
        if let Some(name) = &changes.name
            && name_taken(tenant.dashboards.values(), name, Some(id))
        {
            return Err(StoreError::Conflict(Conflict::DashboardName));
        }
        if let Some(widgets) = &changes.widgets {
            let mut seen = std::collections::HashSet::new();
            for (widget_id, _) in widgets {
                let elsewhere = state
                    .widget_dashboards
                    .get(widget_id)
                    .is_some_and(|owner| *owner != id);
                if elsewhere || !seen.insert(*widget_id) {
                    return Err(StoreError::Conflict(Conflict::WidgetId));
                }
            }
        }

        let now = Timestamp::now();
        let saved = changes.widgets.is_some();
        let State {
            tenants,
            widget_dashboards,
            shares,
        } = &mut *state;
        shares.retain(|s| !(s.tenant_id == scope.tenant_id() && s.share.dashboard_id == id));
        let dashboard = tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.dashboards.get_mut(&id))
            .ok_or(StoreError::NotFound)?;
        if let Some(widgets) = changes.apply_to(dashboard) {
            let mut old: HashMap<WidgetId, Widget> =
                dashboard.widgets.drain(..).map(|w| (w.id, w)).collect();
            for (widget_id, content) in widgets {
                let widget = match old.remove(&widget_id) {
                    Some(mut existing) => {
                        set_content(&mut existing, content, now);
                        existing
                    }
                    None => {
                        widget_dashboards.insert(widget_id, id);
                        content.into_widget(widget_id, now, now)
                    }
                };
                dashboard.widgets.push(widget);
            }
            for removed in old.keys() {
                widget_dashboards.remove(removed);
            }
            dashboard.sort_widgets();
        }
        dashboard.updated_at = now;
        let kind = if saved {
            ChangeKind::Saved
        } else {
            ChangeKind::Updated
        };
        state.record(scope, id, kind, false);
        Ok(state
            .tenant(scope)
            .and_then(|t| t.dashboards.get(&id))
            .cloned()
            .expect("the dashboard just changed"))
    }

    async fn delete_dashboard(&self, scope: &Scope, id: DashboardId) -> StoreResult<()> {
        let mut state = self.write();
        let State {
            tenants,
            widget_dashboards,
            shares,
        } = &mut *state;
        let tenant = tenants
            .get_mut(scope.tenant_id())
            .ok_or(StoreError::NotFound)?;
        let dashboard = tenant.dashboards.remove(&id).ok_or(StoreError::NotFound)?;
        shares.retain(|s| !(s.tenant_id == scope.tenant_id() && s.share.dashboard_id == id));
        for widget in &dashboard.widgets {
            widget_dashboards.remove(&widget.id);
        }
        for pins in tenant.pins.values_mut() {
            pins.retain(|p| p.dashboard_id != id);
            renumber(pins);
        }
        tenant.pins.retain(|_, pins| !pins.is_empty());
        tenant.defaults.retain(|_, default| *default != id);
        tenant.versions.remove(&id);
        Ok(())
    }

    async fn defaults(&self, scope: &Scope, user_id: Option<&str>) -> StoreResult<Defaults> {
        let state = self.read();
        let Some(tenant) = state.tenant(scope) else {
            return Ok(Defaults::default());
        };
        Ok(Defaults {
            user: user_id.and_then(|u| tenant.defaults.get(&Some(u.to_owned())).copied()),
            tenant: tenant.defaults.get(&None).copied(),
        })
    }

    async fn set_default(
        &self,
        scope: &Scope,
        whose: DefaultFor<'_>,
        id: DashboardId,
    ) -> StoreResult<()> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if !tenant.dashboards.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        tenant.defaults.insert(default_key(whose), id);
        Ok(())
    }

    async fn clear_default(&self, scope: &Scope, whose: DefaultFor<'_>) -> StoreResult<()> {
        let mut state = self.write();
        state.tenant_mut(scope).defaults.remove(&default_key(whose));
        Ok(())
    }

    async fn create_default(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard: NewDashboard,
        max_per_owner: Option<u32>,
    ) -> StoreResult<Option<DashboardId>> {
        let mut state = self.write();
        if state
            .tenant(scope)
            .is_some_and(|t| t.starters.contains(user_id))
        {
            return Ok(None);
        }
        let created = state.insert_dashboard(scope, dashboard, max_per_owner)?;
        state.record(scope, created.id, ChangeKind::Created, true);
        let tenant = state.tenant_mut(scope);
        tenant.defaults.insert(Some(user_id.to_owned()), created.id);
        tenant.starters.insert(user_id.to_owned());
        Ok(Some(created.id))
    }

    async fn list_dashboard_summaries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
        page: &SummaryPage,
    ) -> StoreResult<Vec<DashboardSummary>> {
        let state = self.read();
        let Some(tenant) = state.tenant(scope) else {
            return Ok(Vec::new());
        };
        let visible = |id: Option<&DashboardId>| {
            id.and_then(|id| tenant.dashboards.get(id))
                .filter(|d| viewer.can_view_dashboard(d))
        };
        let default = page
            .user_id
            .as_ref()
            .and_then(|user| visible(tenant.defaults.get(&Some(user.clone()))))
            .or_else(|| visible(tenant.defaults.get(&None)));
        let mut summaries = Vec::with_capacity(page.limit.min(tenant.dashboards.len()));
        if page.with_default
            && let Some(default) = default
        {
            let mut summary = DashboardSummary::of(default);
            summary.is_default = true;
            summaries.push(summary);
        }
        let default_id = if page.with_default {
            default.map(|d| d.id)
        } else {
            page.shown_default
        };
        let mut rest: Vec<&Dashboard> = tenant
            .dashboards
            .values()
            .filter(|d| Some(d.id) != default_id && viewer.can_view_dashboard(d))
            .filter(|d| page.after.is_none_or(|after| (d.updated_at, d.id) < after))
            .collect();
        rest.sort_by_key(|d| std::cmp::Reverse((d.updated_at, d.id)));
        let room = page.limit.saturating_sub(summaries.len());
        summaries.extend(rest.into_iter().take(room).map(DashboardSummary::of));
        Ok(summaries)
    }

    async fn add_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
        max_widgets: Option<u32>,
    ) -> StoreResult<Widget> {
        let mut state = self.write();
        if state.widget_dashboards.contains_key(&widget_id) {
            return Err(StoreError::Conflict(Conflict::WidgetId));
        }
        let dashboard = state.dashboard_mut(scope, dashboard_id)?;
        if max_widgets.is_some_and(|max| dashboard.widgets.len() >= max as usize) {
            return Err(StoreError::LimitReached);
        }
        let now = Timestamp::now();
        let widget = content.into_widget(widget_id, now, now);
        dashboard.widgets.push(widget.clone());
        dashboard.sort_widgets();
        dashboard.updated_at = now;
        state.widget_dashboards.insert(widget_id, dashboard_id);
        state.record(scope, dashboard_id, ChangeKind::WidgetCreated, false);
        Ok(widget)
    }

    async fn update_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        content: WidgetContent,
    ) -> StoreResult<Widget> {
        let mut state = self.write();
        let dashboard = state.dashboard_mut(scope, dashboard_id)?;
        let now = Timestamp::now();
        let widget = dashboard
            .widgets
            .iter_mut()
            .find(|w| w.id == widget_id)
            .ok_or(StoreError::NotFound)?;
        set_content(widget, content, now);
        let widget = widget.clone();
        dashboard.sort_widgets();
        dashboard.updated_at = now;
        state.record(scope, dashboard_id, ChangeKind::WidgetUpdated, false);
        Ok(widget)
    }

    async fn delete_widget(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
    ) -> StoreResult<()> {
        let mut state = self.write();
        let dashboard = state.dashboard_mut(scope, dashboard_id)?;
        let before = dashboard.widgets.len();
        dashboard.widgets.retain(|w| w.id != widget_id);
        if dashboard.widgets.len() == before {
            return Err(StoreError::NotFound);
        }
        dashboard.updated_at = Timestamp::now();
        state.widget_dashboards.remove(&widget_id);
        state.record(scope, dashboard_id, ChangeKind::WidgetDeleted, false);
        Ok(())
    }

    async fn update_layout(
        &self,
        scope: &Scope,
        dashboard_id: DashboardId,
        positions: &[(WidgetId, WidgetPosition)],
    ) -> StoreResult<Dashboard> {
        let mut state = self.write();
        let dashboard = state.dashboard_mut(scope, dashboard_id)?;
        let now = Timestamp::now();
        for (widget_id, position) in positions {
            if let Some(widget) = dashboard.widgets.iter_mut().find(|w| w.id == *widget_id) {
                widget.position = *position;
                widget.updated_at = now;
            }
        }
        dashboard.sort_widgets();
        dashboard.updated_at = now;
        state.record(scope, dashboard_id, ChangeKind::LayoutUpdated, false);
        Ok(state
            .tenant(scope)
            .and_then(|t| t.dashboards.get(&dashboard_id))
            .cloned()
            .expect("the dashboard just changed"))
    }

    async fn list_versions(
        &self,
        scope: &Scope,
        id: DashboardId,
        limit: u32,
        before: Option<u64>,
    ) -> StoreResult<Option<Vec<VersionEntry>>> {
        let state = self.read();
        let Some(tenant) = state
            .tenant(scope)
            .filter(|t| t.dashboards.contains_key(&id))
        else {
            return Ok(None);
        };
        Ok(Some(
            tenant
                .versions
                .get(&id)
                .into_iter()
                .flatten()
                .rev()
                .filter(|v| before.is_none_or(|b| v.entry.version < b))
                .take(limit as usize)
                .map(|v| v.entry.clone())
                .collect(),
        ))
    }

    async fn get_version(
        &self,
        scope: &Scope,
        id: DashboardId,
        version: u64,
    ) -> StoreResult<Option<DashboardVersion>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.versions.get(&id))
            .and_then(|versions| versions.iter().find(|v| v.entry.version == version))
            .cloned())
    }
}
