//! What subscribers ask for and get: [`EventSettings`], [`EventFilter`], the [`Message`]s of an
//! [`EventStream`], and the [`SharedEvent`] every subscriber of one event shares.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use serde::Serialize;

use super::{Event, EventId, EventKind};
use crate::ids::DashboardId;

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
    pub(super) buffer: usize,
    pub(super) max_connections_per_user: usize,
    pub(super) max_connections_per_tenant: usize,
    pub(super) heartbeat: Duration,
    pub(super) max_notification_bytes: usize,
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
    /// [`EngineError::TooManyConnections`](crate::EngineError::TooManyConnections) (429).
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
    pub(super) kinds: BTreeSet<EventKind>,
    pub(super) dashboards: BTreeSet<DashboardId>,
    pub(super) after: Option<EventId>,
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
