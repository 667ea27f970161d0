//! [`PinStore`] for [`MemoryStore`].

use async_trait::async_trait;

use super::{MemoryStore, renumber};
use crate::auth::Scope;
use crate::ids::{DashboardId, PinId};
use crate::model::{Dashboard, PinnedDashboard, Timestamp};
use crate::store::{Conflict, PinStore, StoreError, StoreResult};

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
