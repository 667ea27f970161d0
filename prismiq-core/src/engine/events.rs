//! Live events: the engine's bus and subscriptions, host notifications, and the events every
//! committed change emits (`emit`).

use std::sync::Arc;

use super::{Engine, Result};
use crate::auth::AuthContext;
use crate::error::{EngineError, Limit, Violation};
use crate::events::{
    Audience, Envelope, Event, EventBus, EventFilter, EventId, EventKind, EventSettings,
    EventStream, Hub, Reach,
};
use crate::permissions;

impl Engine {
    /// The bus events travel on (default: an [`InProcessBus`](crate::events::InProcessBus),
    /// which reaches this process only). Hosts running several instances give each the same
    /// shared bus: PostgreSQL `LISTEN/NOTIFY` (`prismiq-store-postgres`) or Redis
    /// ([`RedisBus`](crate::events), feature `redis`).
    pub fn with_event_bus(mut self, bus: Arc<dyn EventBus>) -> Self {
        self.hub = Hub::attach(bus, self.dashboards.clone(), self.hub.settings().clone());
        self
    }

    /// Buffers, connection limits, heartbeat and notification size of live events.
    pub fn with_event_settings(mut self, settings: EventSettings) -> Self {
        self.hub = Hub::attach(self.hub.bus().clone(), self.dashboards.clone(), settings);
        self
    }

    /// The live-event settings.
    pub fn event_settings(&self) -> &EventSettings {
        self.hub.settings()
    }

    /// Subscribes to the events the caller may see, as they happen on any instance sharing
    /// the bus: dashboard, widget, layout and share events of dashboards the caller may view
    /// (checked when each event is delivered), the caller's own pin events, saved-query events
    /// of queries the caller may read, template events, and notifications for the caller.
    ///
    /// Fails with [`EngineError::TooManyConnections`] beyond the connection limits, and with
    /// [`EngineError::Events`] when resuming and the bus cannot be read.
    ///
    /// ```
    /// # tokio_test_block(async {
    /// use prismiq_core::events::{EventFilter, EventKind, Message};
    /// use prismiq_core::{DashboardCreate, Engine, MemoryStore, SimpleAuthContext};
    ///
    /// let engine = Engine::new(MemoryStore::new());
    /// let alice = SimpleAuthContext::new("acme").with_user("alice");
    /// let mut events = engine.subscribe(&alice, EventFilter::all()).await?;
    ///
    /// let created = engine.create_dashboard(&alice, DashboardCreate::named("Sales")).await?;
    /// let Some(Message::Event(event)) = events.next_message().await else { panic!() };
    /// assert_eq!(event.kind, EventKind::DashboardCreated);
    /// assert_eq!(event.dashboard_id, Some(created.id));
    /// assert_eq!(event.actor.as_deref(), Some("alice"));
    /// # Ok::<(), prismiq_core::EngineError>(())
    /// # });
    /// # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn subscribe(
        &self,
        auth: &dyn AuthContext,
        filter: EventFilter,
    ) -> Result<EventStream> {
        self.hub.subscribe(auth, filter).await
    }

    /// Ends every live subscription of this instance (`/events` streams end, WebSockets close
    /// with 1001), for a graceful shutdown that would otherwise wait for their clients to
    /// leave. Clients reconnect, to another instance or to this one restarted, and resume. New
    /// subscriptions may still open.
    pub fn close_subscriptions(&self) {
        self.hub.close_all();
    }

    /// Sends the host's own notification to an audience of a tenant: some users, the users
    /// with some roles ([`AuthContext::roles`]), or everyone. `kind` is the host's name for it
    /// (`"payment_due"`: 1 to 64 lowercase letters, digits, `_`, `-`, `.`, `:`), `payload` any
    /// JSON up to [`EventSettings::with_max_notification_bytes`]. Returns the event's id.
    pub async fn notify(
        &self,
        tenant_id: &str,
        audience: Audience,
        kind: &str,
        payload: serde_json::Value,
    ) -> Result<EventId> {
        let valid_kind = (1..=64).contains(&kind.len())
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.:".contains(&b));
        if !valid_kind {
            return Err(EngineError::Invalid(Violation::NotificationKind(
                kind.to_owned(),
            )));
        }
        if matches!(&audience, Audience::Users(set) | Audience::Roles(set) if set.is_empty()) {
            return Err(EngineError::Invalid(Violation::EmptyAudience));
        }
        let max = self.hub.settings().max_notification_bytes();
        let bytes = serde_json::to_vec(&payload).map_or(usize::MAX, |json| json.len());
        if bytes > max {
            return Err(EngineError::LimitExceeded {
                limit: Limit::NotificationBytes,
                message: format!(
                    "Notification payload is {bytes} bytes; max_notification_bytes is {max}"
                ),
            });
        }
        let mut event = Event::new(EventKind::Notification, tenant_id);
        event.notification = Some(kind.to_owned());
        event.payload = Some(payload);
        self.hub
            .bus()
            .publish(Envelope {
                event,
                reach: Reach::Audience { audience },
            })
            .await
            .map_err(EngineError::Events)
    }

    /// Publishes the event of a committed change made by `auth`; `fill` sets its ids.
    pub(super) async fn emit(
        &self,
        auth: &dyn AuthContext,
        kind: EventKind,
        reach: Reach,
        fill: impl FnOnce(&mut Event),
    ) {
        let mut event = Event::new(kind, auth.tenant_id());
        event.actor = permissions::user(auth).map(str::to_owned);
        fill(&mut event);
        self.hub.publish(Envelope { event, reach }).await;
    }

    /// Publishes a dashboard, widget or layout event for the viewers of the dashboard.
    pub(super) async fn emit_dashboard(
        &self,
        auth: &dyn AuthContext,
        kind: EventKind,
        dashboard_id: crate::ids::DashboardId,
        widget_id: Option<crate::ids::WidgetId>,
    ) {
        self.emit(auth, kind, Reach::DashboardViewers, |event| {
            event.dashboard_id = Some(dashboard_id);
            event.widget_id = widget_id;
        })
        .await;
    }

    /// Emits `kind` for a dashboard change whose result is `dashboard`, with its new version.
    pub(super) async fn emit_version(
        &self,
        auth: &dyn AuthContext,
        kind: EventKind,
        dashboard: &crate::model::Dashboard,
    ) {
        let (id, version) = (dashboard.id, dashboard.version);
        self.emit(auth, kind, Reach::DashboardViewers, |event| {
            event.dashboard_id = Some(id);
            event.version = Some(version);
        })
        .await;
    }
}
