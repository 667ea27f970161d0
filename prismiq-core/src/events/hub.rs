//! The subscriptions of one instance: the [`Hub`] a bus delivers to, the [`EventStream`] of
//! each subscriber, and the limits on both.

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use serde::Serialize;
use tokio::sync::broadcast;

use super::{
    Audience, Envelope, Event, EventBus, EventError, EventId, EventKind, EventSink, Reach, Replay,
};
use crate::auth::{AuthContext, Scope};
use crate::error::EngineError;
use crate::ids::DashboardId;
use crate::permissions::{self, DashboardAccess, Viewer};
use crate::store::DashboardStore;

/// The live-event settings of an [`Engine`](crate::Engine)
/// ([`with_event_settings`](crate::Engine::with_event_settings)).
///
/// ```
/// use std::time::Duration;
/// use prismiq_core::events::EventSettings;
///
/// let settings = EventSettings::default()
///     .with_buffer(512)
///     .with_max_connections_per_user(8)
///     .with_heartbeat(Duration::from_secs(20));
/// assert_eq!(settings.buffer(), 512);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSettings {
    buffer: usize,
    max_connections_per_user: usize,
    max_connections_per_tenant: usize,
    heartbeat: Duration,
    max_notification_bytes: usize,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            buffer: 256,
            max_connections_per_user: 16,
            max_connections_per_tenant: 10_000,
            heartbeat: Duration::from_secs(15),
            max_notification_bytes: 4_096,
        }
    }
}

impl EventSettings {
    /// How many events a subscriber may fall behind (default 256, at least 1): one further
    /// behind is sent [`Message::Lagged`] and its stream ends.
    pub fn with_buffer(mut self, events: usize) -> Self {
        self.buffer = events.max(1);
        self
    }

    /// How many live connections one user may hold (default 16); more are refused with
    /// [`EngineError::TooManyConnections`] (429).
    pub fn with_max_connections_per_user(mut self, max: usize) -> Self {
        self.max_connections_per_user = max;
        self
    }

    /// How many live connections one tenant may hold on this instance (default 10,000).
    pub fn with_max_connections_per_tenant(mut self, max: usize) -> Self {
        self.max_connections_per_tenant = max;
        self
    }

    /// How often an idle connection is sent a heartbeat (default 15 s).
    pub fn with_heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = every;
        self
    }

    /// The largest notification payload, in bytes of JSON (default 4,096).
    pub fn with_max_notification_bytes(mut self, bytes: usize) -> Self {
        self.max_notification_bytes = bytes;
        self
    }

    /// See [`with_buffer`](Self::with_buffer).
    pub fn buffer(&self) -> usize {
        self.buffer
    }

    /// See [`with_heartbeat`](Self::with_heartbeat).
    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// See [`with_max_notification_bytes`](Self::with_max_notification_bytes).
    pub fn max_notification_bytes(&self) -> usize {
        self.max_notification_bytes
    }
}

/// What a subscriber wants: some kinds, some dashboards, and where to resume.
///
/// ```
/// use prismiq_core::events::{EventFilter, EventKind};
///
/// let filter = EventFilter::all()
///     .with_kinds([EventKind::LayoutUpdated, EventKind::WidgetUpdated])
///     .after(1_764_000_000_000_042);
/// # let _ = filter;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    kinds: BTreeSet<EventKind>,
    dashboards: BTreeSet<DashboardId>,
    after: Option<EventId>,
}

impl EventFilter {
    /// Every event the subscriber may see, from now on.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these kinds (added to any given before).
    pub fn with_kinds(mut self, kinds: impl IntoIterator<Item = EventKind>) -> Self {
        self.kinds.extend(kinds);
        self
    }

    /// Only events about these dashboards (added to any given before); events about no
    /// dashboard (saved queries, templates, notifications) are then left out.
    pub fn with_dashboards(mut self, ids: impl IntoIterator<Item = DashboardId>) -> Self {
        self.dashboards.extend(ids);
        self
    }

    /// Resume: first the kept events after `id` (the last one the subscriber saw), or a
    /// [`Message::Reset`] when they are no longer kept.
    pub fn after(mut self, id: EventId) -> Self {
        self.after = Some(id);
        self
    }
}

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// An event the subscriber may see.
    Event(SharedEvent),
    /// Events may have been missed (resume from before the kept window, a bus that lost its
    /// connection): refetch whatever is shown.
    Reset {
        /// Why.
        reason: String,
    },
    /// The subscriber fell too far behind and its stream ends here; reconnect and resume.
    Lagged {
        /// How many events it missed.
        skipped: u64,
    },
}

impl Message {
    /// The message as the JSON the live routes send: the event itself, or
    /// `{"type":"reset","reason":…}` / `{"type":"lagged","skipped":…}`.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Control<'a> {
            Reset { reason: &'a str },
            Lagged { skipped: u64 },
        }
        let json = match self {
            Self::Event(event) => return event.json().to_owned(),
            Self::Reset { reason } => serde_json::to_string(&Control::Reset { reason }),
            Self::Lagged { skipped } => {
                serde_json::to_string(&Control::Lagged { skipped: *skipped })
            }
        };
        json.unwrap_or_else(|_| r#"{"type":"reset","reason":"encoding"}"#.to_owned())
    }

    /// The event's id, for events.
    pub fn id(&self) -> Option<EventId> {
        match self {
            Self::Event(event) => Some(event.id),
            _ => None,
        }
    }
}

/// An event as subscriptions share it: one copy, and its JSON encoded once for every
/// subscriber it is sent to. Dereferences to the [`Event`].
#[derive(Clone)]
pub struct SharedEvent(Arc<SharedInner>);

struct SharedInner {
    event: Event,
    json: std::sync::OnceLock<String>,
}

impl SharedEvent {
    /// Shares `event`.
    pub fn new(event: Event) -> Self {
        Self(Arc::new(SharedInner {
            event,
            json: std::sync::OnceLock::new(),
        }))
    }

    /// The event as JSON, encoded on first use.
    pub fn json(&self) -> &str {
        self.0.json.get_or_init(|| {
            serde_json::to_string(&self.0.event)
                .unwrap_or_else(|_| r#"{"type":"reset","reason":"encoding"}"#.to_owned())
        })
    }
}

impl std::ops::Deref for SharedEvent {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.0.event
    }
}

impl std::fmt::Debug for SharedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.event.fmt(f)
    }
}

impl PartialEq for SharedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.0.event == other.0.event
    }
}

/// A live subscription ([`Engine::subscribe`](crate::Engine::subscribe)): a [`Stream`] of
/// [`Message`]s that ends after [`Message::Lagged`]. Dropping it closes the subscription.
pub struct EventStream {
    inner: Pin<Box<dyn Stream<Item = Message> + Send>>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl EventStream {
    pub(crate) fn new(stream: impl Stream<Item = Message> + Send + 'static) -> Self {
        Self {
            inner: Box::pin(futures_util::StreamExt::fuse(stream)),
        }
    }

    /// The next message, or `None` once the stream has ended.
    pub async fn next_message(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.inner.as_mut().poll_next(cx)).await
    }
}

impl Stream for EventStream {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.inner.as_mut().poll_next(cx)
    }
}

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
            } => {
                admin
                    || *is_shared
                    || owner_id.is_none()
                    || (self.user.is_some() && self.user == *owner_id)
            }
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
