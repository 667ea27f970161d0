//! [`MemoryStore`]: every store trait, in process memory.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use super::{
    Conflict, DashboardChanges, DashboardStore, NewDashboard, NewSavedQuery, PinStore,
    SavedQueryChanges, SavedQueryStore, SchemaConfigStore, StoreError, StoreResult,
};
use crate::auth::Scope;
use crate::ids::{DashboardId, PinId, SavedQueryId, WidgetId};
use crate::model::{
    Dashboard, PinnedDashboard, SavedQuery, Timestamp, Widget, WidgetContent, WidgetPosition,
};
use crate::permissions::Viewer;
use crate::schema::SchemaConfig;

/// A store keeping everything in process memory: for tests, demos and single-process hosts
/// that do not need durability. Cloning it shares the same data.
///
/// It follows the same rules as the database store (tenant isolation, unique names, cascades,
/// compact pin positions), proven by the same conformance suite.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
}

#[derive(Debug, Default)]
struct State {
    tenants: HashMap<String, Tenant>,
    /// Widget ids are unique across tenants, as a database primary key makes them.
    widget_dashboards: HashMap<WidgetId, DashboardId>,
}

#[derive(Debug, Default)]
struct Tenant {
    dashboards: HashMap<DashboardId, Dashboard>,
    saved_queries: HashMap<SavedQueryId, SavedQuery>,
    /// Pins per (user, context), in position order.
    pins: HashMap<(String, String), Vec<PinnedDashboard>>,
    schema_config: Option<SchemaConfig>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change: every mutation
        // below validates first and writes last.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn tenant(&self, scope: &Scope) -> Option<&Tenant> {
        self.tenants.get(scope.tenant_id())
    }

    fn tenant_mut(&mut self, scope: &Scope) -> &mut Tenant {
        self.tenants
            .entry(scope.tenant_id().to_owned())
            .or_default()
    }

    fn dashboard_mut(&mut self, scope: &Scope, id: DashboardId) -> StoreResult<&mut Dashboard> {
        self.tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.dashboards.get_mut(&id))
            .ok_or(StoreError::NotFound)
    }
}

fn new_widget(id: WidgetId, content: WidgetContent, now: Timestamp) -> Widget {
    Widget {
        id,
        widget_type: content.widget_type,
        title: content.title,
        query: content.query,
        position: content.position,
        config: content.config,
        created_at: now,
        updated_at: now,
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
        if let Some(t) = state.tenant(scope) {
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
            if state.widget_dashboards.contains_key(id) || !widget_ids.insert(*id) {
                return Err(StoreError::Conflict(Conflict::WidgetId));
            }
        }
        let now = Timestamp::now();
        let mut dashboard = Dashboard {
            id: new.id,
            name: new.name,
            description: new.description,
            layout: new.layout,
            widgets: new
                .widgets
                .into_iter()
                .map(|(id, content)| new_widget(id, content, now))
                .collect(),
            filters: new.filters,
            owner_id: new.owner_id,
            created_at: now,
            updated_at: now,
            is_public: new.is_public,
            allowed_viewers: new.allowed_viewers,
        };
        dashboard.sort_widgets();
        for widget in &dashboard.widgets {
            state.widget_dashboards.insert(widget.id, dashboard.id);
        }
        state
            .tenant_mut(scope)
            .dashboards
            .insert(dashboard.id, dashboard.clone());
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
        if !tenant.dashboards.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
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
        let State {
            tenants,
            widget_dashboards,
        } = &mut *state;
        let dashboard = tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.dashboards.get_mut(&id))
            .ok_or(StoreError::NotFound)?;
        if let Some(name) = changes.name {
            dashboard.name = name;
        }
        changes.description.apply(&mut dashboard.description);
        if let Some(layout) = changes.layout {
            dashboard.layout = layout;
        }
        if let Some(filters) = changes.filters {
            dashboard.filters = filters;
        }
        if let Some(is_public) = changes.is_public {
            dashboard.is_public = is_public;
        }
        if let Some(viewers) = changes.allowed_viewers {
            dashboard.allowed_viewers = viewers;
        }
        if let Some(widgets) = changes.widgets {
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
                        new_widget(widget_id, content, now)
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
        Ok(dashboard.clone())
    }

    async fn delete_dashboard(&self, scope: &Scope, id: DashboardId) -> StoreResult<()> {
        let mut state = self.write();
        let State {
            tenants,
            widget_dashboards,
        } = &mut *state;
        let tenant = tenants
            .get_mut(scope.tenant_id())
            .ok_or(StoreError::NotFound)?;
        let dashboard = tenant.dashboards.remove(&id).ok_or(StoreError::NotFound)?;
        for widget in &dashboard.widgets {
            widget_dashboards.remove(&widget.id);
        }
        for pins in tenant.pins.values_mut() {
            pins.retain(|p| p.dashboard_id != id);
            renumber(pins);
        }
        tenant.pins.retain(|_, pins| !pins.is_empty());
        Ok(())
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
        let widget = new_widget(widget_id, content, now);
        dashboard.widgets.push(widget.clone());
        dashboard.sort_widgets();
        dashboard.updated_at = now;
        state.widget_dashboards.insert(widget_id, dashboard_id);
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
        Ok(dashboard.clone())
    }
}

#[async_trait]
impl SavedQueryStore for MemoryStore {
    async fn list_saved_queries(
        &self,
        scope: &Scope,
        viewer: &Viewer,
    ) -> StoreResult<Vec<SavedQuery>> {
        let state = self.read();
        let mut list: Vec<SavedQuery> = state
            .tenant(scope)
            .map(|t| {
                t.saved_queries
                    .values()
                    .filter(|q| viewer.can_read_saved_query(q))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        list.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(list)
    }

    async fn get_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
    ) -> StoreResult<Option<SavedQuery>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.saved_queries.get(&id))
            .cloned())
    }

    async fn create_saved_query(
        &self,
        scope: &Scope,
        new: NewSavedQuery,
    ) -> StoreResult<SavedQuery> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if tenant.saved_queries.values().any(|q| q.name == new.name) {
            return Err(StoreError::Conflict(Conflict::SavedQueryName));
        }
        let now = Timestamp::now();
        let query = SavedQuery {
            id: new.id,
            name: new.name,
            description: new.description,
            query: new.query,
            tenant_id: scope.tenant_id().to_owned(),
            owner_id: new.owner_id,
            is_shared: new.is_shared,
            created_at: now,
            updated_at: now,
        };
        tenant.saved_queries.insert(query.id, query.clone());
        Ok(query)
    }

    async fn update_saved_query(
        &self,
        scope: &Scope,
        id: SavedQueryId,
        changes: SavedQueryChanges,
    ) -> StoreResult<SavedQuery> {
        let mut state = self.write();
        let tenant = state.tenant_mut(scope);
        if !tenant.saved_queries.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        if let Some(name) = &changes.name
            && tenant
                .saved_queries
                .values()
                .any(|q| &q.name == name && q.id != id)
        {
            return Err(StoreError::Conflict(Conflict::SavedQueryName));
        }
        let query = tenant
            .saved_queries
            .get_mut(&id)
            .ok_or(StoreError::NotFound)?;
        if let Some(name) = changes.name {
            query.name = name;
        }
        changes.description.apply(&mut query.description);
        if let Some(definition) = changes.query {
            query.query = definition;
        }
        if let Some(is_shared) = changes.is_shared {
            query.is_shared = is_shared;
        }
        query.updated_at = Timestamp::now();
        Ok(query.clone())
    }

    async fn delete_saved_query(&self, scope: &Scope, id: SavedQueryId) -> StoreResult<()> {
        self.write()
            .tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.saved_queries.remove(&id))
            .map(drop)
            .ok_or(StoreError::NotFound)
    }
}

fn renumber(pins: &mut [PinnedDashboard]) {
    for (position, pin) in (0u32..).zip(pins.iter_mut()) {
        pin.position = position;
    }
}

fn pin_key(user_id: &str, context: &str) -> (String, String) {
    (user_id.to_owned(), context.to_owned())
}

#[async_trait]
impl PinStore for MemoryStore {
    async fn pin(
        &self,
        scope: &Scope,
        user_id: &str,
        pin_id: PinId,
        dashboard_id: DashboardId,
        context: &str,
        position: Option<u32>,
    ) -> StoreResult<PinnedDashboard> {
        let mut state = self.write();
        let tenant = state
            .tenants
            .get_mut(scope.tenant_id())
            .filter(|t| t.dashboards.contains_key(&dashboard_id))
            .ok_or(StoreError::NotFound)?;
        let pins = tenant.pins.entry(pin_key(user_id, context)).or_default();
        if pins.iter().any(|p| p.dashboard_id == dashboard_id) {
            return Err(StoreError::Conflict(Conflict::Pin));
        }
        let at = position.map_or(pins.len(), |p| (p as usize).min(pins.len()));
        pins.insert(
            at,
            PinnedDashboard {
                id: pin_id,
                dashboard_id,
                context: context.to_owned(),
                position: 0,
                pinned_at: Timestamp::now(),
            },
        );
        renumber(pins);
        Ok(pins[at].clone())
    }

    async fn unpin(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
        context: &str,
    ) -> StoreResult<()> {
        let mut state = self.write();
        let key = pin_key(user_id, context);
        let tenant = state
            .tenants
            .get_mut(scope.tenant_id())
            .ok_or(StoreError::NotFound)?;
        let pins = tenant.pins.get_mut(&key).ok_or(StoreError::NotFound)?;
        let index = pins
            .iter()
            .position(|p| p.dashboard_id == dashboard_id)
            .ok_or(StoreError::NotFound)?;
        pins.remove(index);
        renumber(pins);
        if pins.is_empty() {
            tenant.pins.remove(&key);
        }
        Ok(())
    }

    async fn list_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
    ) -> StoreResult<Vec<(PinnedDashboard, Dashboard)>> {
        let state = self.read();
        let Some(tenant) = state.tenant(scope) else {
            return Ok(Vec::new());
        };
        Ok(tenant
            .pins
            .get(&pin_key(user_id, context))
            .into_iter()
            .flatten()
            .filter_map(|pin| {
                let dashboard = tenant.dashboards.get(&pin.dashboard_id)?;
                Some((pin.clone(), dashboard.clone()))
            })
            .collect())
    }

    async fn pin_contexts(
        &self,
        scope: &Scope,
        user_id: &str,
        dashboard_id: DashboardId,
    ) -> StoreResult<Vec<String>> {
        let state = self.read();
        let mut contexts: Vec<String> = state
            .tenant(scope)
            .into_iter()
            .flat_map(|t| t.pins.iter())
            .filter(|((user, _), pins)| {
                user == user_id && pins.iter().any(|p| p.dashboard_id == dashboard_id)
            })
            .map(|((_, context), _)| context.clone())
            .collect();
        contexts.sort();
        Ok(contexts)
    }

    async fn reorder_pins(
        &self,
        scope: &Scope,
        user_id: &str,
        context: &str,
        dashboard_ids: &[DashboardId],
    ) -> StoreResult<()> {
        let mut state = self.write();
        let Some(pins) = state
            .tenants
            .get_mut(scope.tenant_id())
            .and_then(|t| t.pins.get_mut(&pin_key(user_id, context)))
        else {
            return Ok(());
        };
        let rank = |pin: &PinnedDashboard| {
            dashboard_ids
                .iter()
                .position(|id| *id == pin.dashboard_id)
                .unwrap_or(usize::MAX)
        };
        // A stable sort keeps unlisted pins in their previous order after the listed ones.
        pins.sort_by_key(rank);
        renumber(pins);
        Ok(())
    }
}

#[async_trait]
impl SchemaConfigStore for MemoryStore {
    async fn get_schema_config(&self, scope: &Scope) -> StoreResult<Option<SchemaConfig>> {
        Ok(self
            .read()
            .tenant(scope)
            .and_then(|t| t.schema_config.clone()))
    }

    async fn put_schema_config(&self, scope: &Scope, config: SchemaConfig) -> StoreResult<()> {
        self.write().tenant_mut(scope).schema_config = Some(config);
        Ok(())
    }
}
