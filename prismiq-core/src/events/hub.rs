//! The subscriptions of one instance: the [`Hub`] a bus delivers to, who among its
//! subscribers receives each event, their streams, and the connection limits.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::{
    Audience, Envelope, Event, EventBus, EventError, EventFilter, EventId, EventKind,
    EventSettings, EventSink, EventStream, Message, Reach, Replay, SharedEvent,
};
use crate::auth::{AuthContext, Scope};
use crate::error::EngineError;
use crate::ids::DashboardId;
use crate::permissions::{self, DashboardAccess, Viewer};
use crate::store::DashboardStore;

/// One published event as this instance delivers it: with the dashboard's access fields, read
/// once for every subscriber.
#[derive(Debug)]
enum Delivery {
    Event {
        event: SharedEvent,
        reach: Reach,
        access: Option<DashboardAccess>,
    },
    Reset(String),
}

/// The live subscriptions of one instance, per tenant.
#[derive(Debug)]
pub(crate) struct Hub {
    bus: Arc<dyn EventBus>,
    dashboards: Arc<dyn DashboardStore>,
    settings: EventSettings,
    tenants: Mutex<Channels>,
}

/// The channels of the tenants with subscribers here, and how many times they were all closed
/// (a connection opened before the last close has nothing left to release).
#[derive(Debug, Default)]
struct Channels {
    by_tenant: HashMap<String, TenantChannel>,
    closes: u64,
}

#[derive(Debug)]
struct TenantChannel {
    sender: broadcast::Sender<Arc<Delivery>>,
    connections: usize,
    per_user: HashMap<String, usize>,
}

impl Hub {
    /// A hub attached to `bus`.
    pub(crate) fn attach(
        bus: Arc<dyn EventBus>,
        dashboards: Arc<dyn DashboardStore>,
        settings: EventSettings,
    ) -> Arc<Self> {
        let hub = Arc::new(Self {
            bus,
            dashboards,
            settings,
            tenants: Mutex::default(),
        });
        let sink: Arc<dyn EventSink> = hub.clone();
        hub.bus.attach(Arc::downgrade(&sink));
        hub
    }

    pub(crate) fn bus(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    pub(crate) fn settings(&self) -> &EventSettings {
        &self.settings
    }

    /// Publishes a committed change; a bus failure is logged, not returned, as the change
    /// itself is done.
    pub(crate) async fn publish(&self, envelope: Envelope) {
        let kind = envelope.event.kind;
        let tenant_id = envelope.event.tenant_id.clone();
        if let Err(err) = self.bus.publish(envelope).await {
            metrics::counter!("prismiq_events_failed_total").increment(1);
            tracing::warn!(error = %crate::error::error_chain(&err), kind = %kind,
                "event not published");
            // The change is made but its event is lost: this instance's subscribers of the
            // tenant are told to refetch.
            if let Some(sender) = self.sender(&tenant_id) {
                let reason = format!("a {kind} event could not be published");
                let _ = sender.send(Arc::new(Delivery::Reset(reason)));
            }
        }
    }

    async fn access(&self, event: &Event, reach: &Reach) -> Option<DashboardAccess> {
        if !matches!(reach, Reach::DashboardViewers | Reach::DashboardEditors) {
            return None;
        }
        let id = event.dashboard_id?;
        match self
            .dashboards
            .dashboard_access(&Scope::new(event.tenant_id.as_str()), id)
            .await
        {
            Ok(access) => access,
            Err(err) => {
                tracing::warn!(error = %crate::error::error_chain(&err),
                    "dashboard access not read: the event goes to admins only");
                None
            }
        }
    }

    fn sender(&self, tenant_id: &str) -> Option<broadcast::Sender<Arc<Delivery>>> {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants.by_tenant.get(tenant_id).map(|t| t.sender.clone())
    }

    /// Opens a subscription for `auth`, within the connection limits.
    pub(crate) async fn subscribe(
        self: &Arc<Self>,
        auth: &dyn AuthContext,
        filter: EventFilter,
    ) -> Result<EventStream, EngineError> {
        let subscriber = Subscriber::of(auth, &filter);
        let (receiver, guard) = self.open(auth.tenant_id(), subscriber.user.as_deref())?;
        let mut pending = std::collections::VecDeque::new();
        let mut last = 0;
        if let Some(after) = filter.after {
            match self
                .bus
                .replay(auth.tenant_id(), after)
                .await
                .map_err(EngineError::Events)?
            {
                Replay::Events(envelopes) => {
                    last = after;
                    let mut known: HashMap<DashboardId, Option<DashboardAccess>> = HashMap::new();
                    for Envelope { event, reach } in envelopes {
                        last = last.max(event.id);
                        let access = match (event.dashboard_id, &reach) {
                            (Some(id), Reach::DashboardViewers | Reach::DashboardEditors) => {
                                match known.get(&id) {
                                    Some(access) => access.clone(),
                                    None => {
                                        let access = self.access(&event, &reach).await;
                                        known.insert(id, access.clone());
                                        access
                                    }
                                }
                            }
                            _ => None,
                        };
                        if subscriber.admits(&event, &reach, access.as_ref()) {
                            pending.push_back(Message::Event(SharedEvent::new(event)));
                        }
                    }
                }
                Replay::Gap => pending.push_back(Message::Reset {
                    reason: format!("events after {after} are no longer kept"),
                }),
            }
        }
        let state = StreamState {
            receiver,
            subscriber,
            pending,
            last,
            ended: false,
            _guard: guard,
        };
        let stream = futures_util::stream::unfold(state, |mut state| async move {
            let message = state.next().await?;
            Some((message, state))
        });
        Ok(EventStream::new(stream))
    }

    fn open(
        self: &Arc<Self>,
        tenant_id: &str,
        user: Option<&str>,
    ) -> Result<(broadcast::Receiver<Arc<Delivery>>, Guard), EngineError> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let closes = tenants.closes;
        let held = tenants
            .by_tenant
            .get(tenant_id)
            .map_or(0, |c| c.connections);
        if held >= self.settings.max_connections_per_tenant {
            return Err(EngineError::TooManyConnections {
                per: "tenant",
                max: self.settings.max_connections_per_tenant,
            });
        }
        let held_by_user = match (user, tenants.by_tenant.get(tenant_id)) {
            (Some(user), Some(channel)) => channel.per_user.get(user).copied().unwrap_or(0),
            _ => 0,
        };
        if user.is_some() && held_by_user >= self.settings.max_connections_per_user {
            return Err(EngineError::TooManyConnections {
                per: "user",
                max: self.settings.max_connections_per_user,
            });
        }
        let channel = tenants
            .by_tenant
            .entry(tenant_id.to_owned())
            .or_insert_with(|| TenantChannel {
                sender: broadcast::channel(self.settings.buffer).0,
                connections: 0,
                per_user: HashMap::new(),
            });
        if let Some(user) = user {
            channel.per_user.insert(user.to_owned(), held_by_user + 1);
        }
        channel.connections += 1;
        metrics::gauge!("prismiq_event_connections").increment(1.0);
        Ok((
            channel.sender.subscribe(),
            Guard {
                hub: self.clone(),
                tenant_id: tenant_id.to_owned(),
                user: user.map(str::to_owned),
                closes,
            },
        ))
    }

    /// Ends every subscription of this instance: their streams end once they have read what
    /// they were sent.
    pub(crate) fn close_all(&self) {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        // Dropping a tenant's sender closes its channel; the connections' guards find nothing
        // left to release.
        tenants.by_tenant.clear();
        tenants.closes += 1;
    }

    fn close(&self, tenant_id: &str, user: Option<&str>, closes: u64) {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        metrics::gauge!("prismiq_event_connections").decrement(1.0);
        if tenants.closes != closes {
            return;
        }
        let Some(channel) = tenants.by_tenant.get_mut(tenant_id) else {
            return;
        };
        if let Some(user) = user
            && let Some(held) = channel.per_user.get_mut(user)
        {
            *held -= 1;
            if *held == 0 {
                channel.per_user.remove(user);
            }
        }
        channel.connections -= 1;
        if channel.connections == 0 {
            tenants.by_tenant.remove(tenant_id);
        }
    }
}

#[async_trait::async_trait]
impl EventSink for Hub {
    async fn deliver(&self, envelope: Envelope) {
        // Nobody listening in the tenant here: nothing to read or send.
        let Some(sender) = self.sender(&envelope.event.tenant_id) else {
            return;
        };
        let Envelope { event, reach } = envelope;
        let access = self.access(&event, &reach).await;
        metrics::counter!("prismiq_events_delivered_total").increment(1);
        // No receiver left is not an error: the last one just closed.
        let _ = sender.send(Arc::new(Delivery::Event {
            event: SharedEvent::new(event),
            reach,
            access,
        }));
    }

    fn reset(&self, reason: &str) {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let delivery = Arc::new(Delivery::Reset(reason.to_owned()));
        for channel in tenants.by_tenant.values() {
            let _ = channel.sender.send(delivery.clone());
        }
    }
}

/// Releases a connection's place in the limits when its stream is dropped.
struct Guard {
    hub: Arc<Hub>,
    tenant_id: String,
    user: Option<String>,
    /// The hub's count of closes when the connection opened.
    closes: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.hub
            .close(&self.tenant_id, self.user.as_deref(), self.closes);
    }
}

/// Who subscribes and what they asked for.
#[derive(Debug)]
struct Subscriber {
    viewer: Viewer,
    user: Option<String>,
    roles: BTreeSet<String>,
    kinds: BTreeSet<EventKind>,
    dashboards: BTreeSet<DashboardId>,
}

impl Subscriber {
    fn of(auth: &dyn AuthContext, filter: &EventFilter) -> Self {
        Self {
            viewer: Viewer::of(auth),
            user: permissions::user(auth).map(str::to_owned),
            roles: auth.roles().iter().cloned().collect(),
            kinds: filter.kinds.clone(),
            dashboards: filter.dashboards.clone(),
        }
    }

    /// Whether the subscriber receives `event`: it asked for it, and may see it now.
    fn admits(&self, event: &Event, reach: &Reach, access: Option<&DashboardAccess>) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&event.kind) {
            return false;
        }
        if !self.dashboards.is_empty()
            && !event
                .dashboard_id
                .is_some_and(|id| self.dashboards.contains(&id))
        {
            return false;
        }
        let admin = self.viewer == Viewer::Admin;
        match reach {
            Reach::DashboardViewers => {
                access.map_or(admin, |access| self.viewer.can_view_access(access))
            }
            Reach::DashboardEditors => {
                access.map_or(admin, |access| self.viewer.can_edit_access(access))
            }
            Reach::FormerViewers {
                owner_id,
                is_public,
                allowed_viewers,
            } => self
                .viewer
                .can_view(*is_public, owner_id.as_deref(), allowed_viewers),
            Reach::User { user_id } => self.user.as_deref() == Some(user_id.as_str()),
            Reach::SavedQueryReaders {
                owner_id,
                is_shared,
            } => self
                .viewer
                .can_read_saved_query_of(owner_id.as_deref(), *is_shared),
            Reach::Audience { audience } => match audience {
                Audience::Users(users) => self.user.as_ref().is_some_and(|u| users.contains(u)),
                Audience::Roles(roles) => !self.roles.is_disjoint(roles),
                Audience::Tenant => true,
            },
        }
    }
}

struct StreamState {
    receiver: broadcast::Receiver<Arc<Delivery>>,
    subscriber: Subscriber,
    pending: std::collections::VecDeque<Message>,
    /// The last event id passed on (or skipped as not for this subscriber): live events up to
    /// it were already replayed.
    last: EventId,
    ended: bool,
    _guard: Guard,
}

impl StreamState {
    async fn next(&mut self) -> Option<Message> {
        if let Some(message) = self.pending.pop_front() {
            return Some(message);
        }
        if self.ended {
            return None;
        }
        loop {
            match self.receiver.recv().await {
                Ok(delivery) => match &*delivery {
                    Delivery::Event {
                        event,
                        reach,
                        access,
                    } => {
                        if event.id <= self.last {
                            continue;
                        }
                        self.last = event.id;
                        if self.subscriber.admits(event, reach, access.as_ref()) {
                            return Some(Message::Event(event.clone()));
                        }
                    }
                    Delivery::Reset(reason) => {
                        return Some(Message::Reset {
                            reason: reason.clone(),
                        });
                    }
                },
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    self.ended = true;
                    metrics::counter!("prismiq_event_subscribers_lagged_total").increment(1);
                    return Some(Message::Lagged { skipped });
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl From<EventError> for EngineError {
    fn from(err: EventError) -> Self {
        EngineError::Events(err)
    }
}
