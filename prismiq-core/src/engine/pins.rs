//! Pins: a user's dashboards pinned per context.

use serde::Serialize;

use super::{Engine, Result, dashboard_not_found};
use crate::auth::{AuthContext, Scope};
use crate::error::{EngineError, Violation};
use crate::events::{EventKind, Reach};
use crate::ids::{DashboardId, PinId};
use crate::model::{
    Dashboard, PinRequest, PinnedDashboard, ReorderPinsRequest, UnpinRequest, check_context,
};
use crate::permissions::{self, Viewer};
use crate::store::{Conflict, StoreError};

/// The user's pins in one context, with their dashboards (`GET /pins`): two parallel lists in
/// position order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinnedDashboards {
    /// The pinned dashboards, with their widgets.
    pub dashboards: Vec<Dashboard>,
    /// The pins, `pins[i]` being the pin of `dashboards[i]`.
    pub pins: Vec<PinnedDashboard>,
}

impl Engine {
    /// Pins a dashboard the caller may view, for the caller, in a context.
    pub async fn pin_dashboard(
        &self,
        auth: &dyn AuthContext,
        request: PinRequest,
    ) -> Result<PinnedDashboard> {
        valid_context(&request.context)?;
        let user = pin_user(auth)?;
        let dashboard_id = request
            .dashboard_id
            .parse::<DashboardId>()
            .map_err(|_| EngineError::DashboardNotFound(request.dashboard_id.clone()))?;
        self.get_dashboard(auth, dashboard_id).await?;
        let pin = self
            .pins
            .pin(
                &Scope::of(auth),
                user,
                PinId::new(),
                dashboard_id,
                &request.context,
                request.position,
            )
            .await
            .map_err(|err| match err {
                StoreError::Conflict(Conflict::Pin) => EngineError::Conflict {
                    conflict: Conflict::Pin,
                    message: format!(
                        "Dashboard '{dashboard_id}' already pinned to context '{}'",
                        request.context
                    ),
                },
                err => self.store_error(err, "", || dashboard_not_found(dashboard_id)),
            })?;
        self.emit_pin(
            auth,
            EventKind::PinCreated,
            user,
            &request.context,
            Some(dashboard_id),
        )
        .await;
        Ok(pin)
    }

    /// Removes one of the caller's pins.
    pub async fn unpin_dashboard(
        &self,
        auth: &dyn AuthContext,
        request: UnpinRequest,
    ) -> Result<()> {
        valid_context(&request.context)?;
        let user = pin_user(auth)?;
        let not_found = || EngineError::PinNotFound {
            dashboard_id: request.dashboard_id.clone(),
            context: request.context.clone(),
        };
        let dashboard_id = request
            .dashboard_id
            .parse::<DashboardId>()
            .map_err(|_| not_found())?;
        self.pins
            .unpin(&Scope::of(auth), user, dashboard_id, &request.context)
            .await
            .map_err(|err| self.store_error(err, "", not_found))?;
        self.emit_pin(
            auth,
            EventKind::PinDeleted,
            user,
            &request.context,
            Some(dashboard_id),
        )
        .await;
        Ok(())
    }

    /// The caller's pins in a context, with their dashboards, leaving out dashboards the caller
    /// may no longer view.
    pub async fn list_pins(
        &self,
        auth: &dyn AuthContext,
        context: &str,
    ) -> Result<PinnedDashboards> {
        valid_context(context)?;
        let user = pin_user(auth)?;
        let viewer = Viewer::of(auth);
        let pairs = self
            .pins
            .list_pins(&Scope::of(auth), user, context)
            .await
            .map_err(EngineError::Store)?;
        let (pins, dashboards) = pairs
            .into_iter()
            .filter(|(_, dashboard)| viewer.can_view_dashboard(dashboard))
            .unzip();
        Ok(PinnedDashboards { dashboards, pins })
    }

    /// The contexts in which the caller pinned a dashboard the caller may view.
    pub async fn dashboard_pin_contexts(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
    ) -> Result<Vec<String>> {
        let user = pin_user(auth)?;
        self.get_dashboard(auth, dashboard_id).await?;
        self.pins
            .pin_contexts(&Scope::of(auth), user, dashboard_id)
            .await
            .map_err(EngineError::Store)
    }

    /// Reorders the caller's pins in a context; ids not pinned there are ignored.
    pub async fn reorder_pins(
        &self,
        auth: &dyn AuthContext,
        request: ReorderPinsRequest,
    ) -> Result<()> {
        valid_context(&request.context)?;
        let user = pin_user(auth)?;
        let ids: Vec<DashboardId> = request
            .dashboard_ids
            .iter()
            .filter_map(|raw| raw.parse().ok())
            .collect();
        self.pins
            .reorder_pins(&Scope::of(auth), user, &request.context, &ids)
            .await
            .map_err(EngineError::Store)?;
        self.emit_pin(auth, EventKind::PinReordered, user, &request.context, None)
            .await;
        Ok(())
    }

    /// Publishes a pin event for the pin's user only.
    async fn emit_pin(
        &self,
        auth: &dyn AuthContext,
        kind: EventKind,
        user: &str,
        context: &str,
        dashboard_id: Option<DashboardId>,
    ) {
        let reach = Reach::User {
            user_id: user.to_owned(),
        };
        self.emit(auth, kind, reach, |event| {
            event.dashboard_id = dashboard_id;
            event.context = Some(context.to_owned());
        })
        .await;
    }
}

/// A pin context is 1 to `MAX_CONTEXT_LEN` characters.
fn valid_context(context: &str) -> Result<()> {
    check_context(context).map_err(|message| EngineError::Invalid(Violation::PinContext(message)))
}

fn pin_user(auth: &dyn AuthContext) -> Result<&str> {
    permissions::user(auth).ok_or(EngineError::UserRequired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::SimpleAuthContext;
    use crate::store::MemoryStore;

    /// The engine checks the context itself, so a Rust caller cannot store one the HTTP API
    /// would refuse, and checks it before asking for a user.
    #[tokio::test]
    async fn pin_contexts_are_checked_by_the_engine() {
        let engine = Engine::new(MemoryStore::new());
        let alice = SimpleAuthContext::new("acme").with_user("alice");
        let long = "x".repeat(101);
        for context in ["", long.as_str()] {
            let err = engine.list_pins(&alice, context).await.unwrap_err();
            assert!(
                matches!(err, EngineError::Invalid(Violation::PinContext(_))),
                "{err:?}"
            );
            let anonymous = SimpleAuthContext::new("acme");
            assert!(matches!(
                engine.list_pins(&anonymous, context).await,
                Err(EngineError::Invalid(Violation::PinContext(_)))
            ));
            let err = engine
                .reorder_pins(
                    &alice,
                    ReorderPinsRequest {
                        context: context.to_owned(),
                        dashboard_ids: vec!["x".to_owned()],
                    },
                )
                .await
                .unwrap_err();
            assert!(
                matches!(err, EngineError::Invalid(Violation::PinContext(_))),
                "{err:?}"
            );
        }
        assert!(engine.list_pins(&alice, &"x".repeat(100)).await.is_ok());
        assert!(matches!(
            engine.list_pins(&alice, "a\0b").await,
            Err(EngineError::Invalid(Violation::PinContext(_)))
        ));
    }
}
