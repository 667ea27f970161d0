//! [`MemoryStore`]: every store trait, in process memory.
//!
//! The state they share is here; each trait's implementation has its own file, as in the
//! PostgreSQL store.

mod dashboards;
mod pins;
mod saved_queries;
mod schema_configs;
mod shares;
mod templates;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::auth::Scope;
use crate::ids::{DashboardId, SavedQueryId, WidgetId};
use crate::model::{Dashboard, PinnedDashboard, SavedQuery};
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
    /// Share links of every tenant, found by their token's hash.
    shares: Vec<crate::store::StoredShare>,
}

#[derive(Debug, Default)]
struct Tenant {
    dashboards: HashMap<DashboardId, Dashboard>,
    saved_queries: HashMap<SavedQueryId, SavedQuery>,
    /// Pins per (user, context), in position order.
    pins: HashMap<(String, String), Vec<PinnedDashboard>>,
    schema_config: Option<SchemaConfig>,
    /// Default dashboards: the tenant's under `None`, each user's under their id.
    defaults: HashMap<Option<String>, DashboardId>,
    /// Dashboard templates saved by the tenant.
    templates: HashMap<crate::ids::TemplateId, crate::model::DashboardTemplate>,
    /// The users a starter dashboard was created for.
    starters: std::collections::HashSet<String>,
    /// Each dashboard's kept versions, oldest first.
    versions: HashMap<DashboardId, Vec<crate::DashboardVersion>>,
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
}

/// Numbers `pins` `0..n-1` in their order.
fn renumber(pins: &mut [PinnedDashboard]) {
    for (position, pin) in (0u32..).zip(pins.iter_mut()) {
        pin.position = position;
    }
}
