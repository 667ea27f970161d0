//! Live events: what the [`Engine`](crate::Engine) emits after every committed change, the
//! host's own notifications, the [`EventBus`] that carries both between instances, and the
//! subscriptions that deliver them.
//!
//! An [`Event`] names what changed (its [`EventKind`], tenant, object ids, acting user, time)
//! and never carries the object: a client that needs it fetches it with its own permissions.
//! Each event travels in an [`Envelope`] with its [`Reach`], the rule deciding who may receive
//! it. The rule is applied when the event is delivered, not when it is raised, so a viewer
//! removed from a dashboard stops receiving its events at once.
//!
//! Event ids increase per tenant, whichever instance raised the event, so a client can resume
//! from the last id it saw on any instance (`Last-Event-ID`). Buses keep a window of recent
//! events per tenant for that; a client asking from before the window is told to refetch
//! ([`Message::Reset`]).
//!
//! Three buses exist: [`InProcessBus`] (the default: one instance), the PostgreSQL
//! `LISTEN/NOTIFY` bus of `prismiq-store-postgres`, and `RedisBus` (feature `redis`).

mod hub;
mod in_process;
#[cfg(feature = "redis")]
mod redis;
mod subscription;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Weak;

use serde::{Deserialize, Serialize};

use crate::ids::{DashboardId, SavedQueryId, ShareId, TemplateId, WidgetId};
use crate::model::Timestamp;

pub(crate) use hub::Hub;
pub use in_process::InProcessBus;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{RedisBus, RedisBusBuilder};
pub use subscription::{EventFilter, EventSettings, EventStream, Message, SharedEvent};

/// An event's id: increasing per tenant, across instances.
pub type EventId = u64;

macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// What happened.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[non_exhaustive]
        pub enum EventKind {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl EventKind {
            /// Every kind.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The kind's name on the wire (`"widget.updated"`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)*
                }
            }
        }

        impl std::str::FromStr for EventKind {
            type Err = UnknownEventKind;

            fn from_str(name: &str) -> Result<Self, Self::Err> {
                match name {
                    $($name => Ok(EventKind::$variant),)*
                    _ => Err(UnknownEventKind(name.to_owned())),
                }
            }
        }
    };
}

event_kinds! {
    /// A dashboard was created (also from a template, an import or as a starter).
    DashboardCreated => "dashboard.created",
    /// A dashboard's fields changed, or the whole dashboard was saved.
    DashboardUpdated => "dashboard.updated",
    /// A dashboard was deleted.
    DashboardDeleted => "dashboard.deleted",
    /// A widget was added (or duplicated).
    WidgetCreated => "widget.created",
    /// A widget changed.
    WidgetUpdated => "widget.updated",
    /// A widget was deleted.
    WidgetDeleted => "widget.deleted",
    /// A dashboard's widgets moved or were resized.
    LayoutUpdated => "layout.updated",
    /// The user pinned a dashboard.
    PinCreated => "pin.created",
    /// The user unpinned a dashboard.
    PinDeleted => "pin.deleted",
    /// The user reordered the pins of a context.
    PinReordered => "pin.reordered",
    /// A saved query was created.
    SavedQueryCreated => "saved_query.created",
    /// A saved query changed.
    SavedQueryUpdated => "saved_query.updated",
    /// A saved query was deleted.
    SavedQueryDeleted => "saved_query.deleted",
    /// A share link to a dashboard was created.
    ShareCreated => "share.created",
    /// A share link was revoked.
    ShareDeleted => "share.deleted",
    /// A dashboard template was saved.
    TemplateCreated => "template.created",
    /// A dashboard template was deleted.
    TemplateDeleted => "template.deleted",
    /// A notification from the host ([`Engine::notify`](crate::Engine::notify)).
    Notification => "notification",
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`EventKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind '{0}'")]
pub struct UnknownEventKind(pub String);

/// Something that happened in a tenant, as subscribers receive it.
///
/// ```json
/// {"id":1764,"type":"widget.updated","tenant_id":"acme","dashboard_id":"…","widget_id":"…",
///  "actor":"alice","at":"2026-12-07T10:00:00.000000Z"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Increasing per tenant; `0` until a bus publishes the event.
    pub id: EventId,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The tenant it happened in (left out of events sent through a share link).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant_id: String,
    /// The dashboard concerned (dashboard, widget, layout, pin and share events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub dashboard_id: Option<DashboardId>,
    /// The widget concerned (widget events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub widget_id: Option<WidgetId>,
    /// The saved query concerned (saved-query events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub saved_query_id: Option<SavedQueryId>,
    /// The share link concerned (share events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub share_id: Option<ShareId>,
    /// The template concerned (template events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub template_id: Option<TemplateId>,
    /// The pin context (pin events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The host's kind of notification (`"payment_due"`; notifications only).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "kind")]
    pub notification: Option<String>,
    /// The host's payload (notifications only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// The dashboard's version after the change (`dashboard.created`, `dashboard.updated`,
    /// `layout.updated`): a client holding that version has nothing to fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The user who made the change (`null` for anonymous callers, host notifications and
    /// events sent through a share link).
    pub actor: Option<String>,
    /// When it happened.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub at: Timestamp,
}

impl Event {
    /// An event of `kind` in `tenant_id`, now, with no ids yet.
    pub fn new(kind: EventKind, tenant_id: impl Into<String>) -> Self {
        Self {
            id: 0,
            kind,
            tenant_id: tenant_id.into(),
            dashboard_id: None,
            widget_id: None,
            saved_query_id: None,
            share_id: None,
            template_id: None,
            context: None,
            notification: None,
            payload: None,
            version: None,
            actor: None,
            at: Timestamp::now(),
        }
    }
}

/// Who may receive an event, decided when it is delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reach {
    /// Whoever may view the event's dashboard at delivery time (admins when it is gone).
    DashboardViewers,
    /// Whoever may edit the event's dashboard at delivery time (admins when it is gone).
    DashboardEditors,
    /// Whoever could view a dashboard that no longer exists, as it was when deleted.
    FormerViewers {
        /// Its owner.
        owner_id: Option<String>,
        /// Whether it was public.
        is_public: bool,
        /// Its listed viewers.
        allowed_viewers: Vec<String>,
    },
    /// One user (pins are personal).
    User {
        /// The user.
        user_id: String,
    },
    /// Whoever may read a saved query with this owner and sharing.
    SavedQueryReaders {
        /// Its owner.
        owner_id: Option<String>,
        /// Whether it is shared.
        is_shared: bool,
    },
    /// Everyone in an audience: of a host notification, or the whole tenant for what belongs
    /// to it (templates).
    Audience {
        /// The audience.
        audience: Audience,
    },
}

/// Who a host notification is for ([`Engine::notify`](crate::Engine::notify)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Audience {
    /// These users of the tenant.
    Users(BTreeSet<String>),
    /// Users with any of these roles ([`AuthContext::roles`](crate::AuthContext::roles)).
    Roles(BTreeSet<String>),
    /// Everyone subscribed in the tenant.
    Tenant,
}

impl Audience {
    /// These users.
    pub fn users<T: Into<String>>(users: impl IntoIterator<Item = T>) -> Self {
        Self::Users(users.into_iter().map(Into::into).collect())
    }

    /// Users with any of these roles.
    pub fn roles<T: Into<String>>(roles: impl IntoIterator<Item = T>) -> Self {
        Self::Roles(roles.into_iter().map(Into::into).collect())
    }
}

/// An event with its [`Reach`]: what buses carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The event.
    pub event: Event,
    /// Who may receive it.
    pub reach: Reach,
}

/// What a bus has kept of a tenant's events after a given id.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// Every event after the id, oldest first (possibly none).
    Events(Vec<Envelope>),
    /// Events after the id are no longer kept, or the id was never given out: the subscriber
    /// must refetch what it shows.
    Gap,
}

impl Replay {
    /// The replay of a window holding `kept` (ascending ids) whose next id is `next`, after
    /// `after`: [`Replay::Gap`] when `after` is older than the window's first event or newer
    /// than its last id.
    pub fn from_window<'a>(
        kept: impl IntoIterator<Item = &'a Envelope>,
        first_kept: Option<EventId>,
        next: EventId,
        after: EventId,
    ) -> Self {
        let last = next.saturating_sub(1);
        let first = first_kept.unwrap_or(next);
        if after > last || after.saturating_add(1) < first {
            return Self::Gap;
        }
        Self::Events(
            kept.into_iter()
                .filter(|envelope| envelope.event.id > after)
                .cloned()
                .collect(),
        )
    }
}

/// Why a bus could not publish or replay.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The bus's backend (database, Redis) did not answer.
    #[error("event bus unavailable: {0}")]
    Unavailable(#[source] crate::source::BoxError),
    /// The event is larger than the bus carries.
    #[error("event of {bytes} bytes is larger than the bus carries ({max} bytes)")]
    TooLarge {
        /// Its size, encoded.
        bytes: usize,
        /// The bus's limit.
        max: usize,
    },
    /// An event read back from the backend could not be decoded.
    #[error("event could not be decoded: {0}")]
    Decode(#[source] serde_json::Error),
}

/// Carries events between the instances of a host.
///
/// `publish` gives the event the tenant's next id, keeps it in the tenant's replay window and
/// has it delivered, in id order per tenant, to every [`EventSink`] attached on any instance
/// sharing the bus (the publishing one included), exactly once.
#[async_trait::async_trait]
pub trait EventBus: Debug + Send + Sync + 'static {
    /// Publishes an event, returning the id it was given (the envelope's own id is ignored).
    async fn publish(&self, envelope: Envelope) -> Result<EventId, EventError>;

    /// The tenant's kept events after `after`, or [`Replay::Gap`].
    async fn replay(&self, tenant_id: &str, after: EventId) -> Result<Replay, EventError>;

    /// From now on, `sink` receives every event published on the bus, and is told when events
    /// may have been missed (a lost connection to the backend). Dropped sinks are forgotten.
    fn attach(&self, sink: Weak<dyn EventSink>);
}

/// What a bus delivers events to: the engine's subscriptions of one instance.
#[async_trait::async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Delivers one published event.
    async fn deliver(&self, envelope: Envelope);

    /// Events may have been missed: every subscriber is told to refetch.
    fn reset(&self, reason: &str);
}

/// The sinks attached to a bus, for bus implementations.
#[derive(Default)]
pub struct Sinks(std::sync::RwLock<Vec<Weak<dyn EventSink>>>);

impl Debug for Sinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Sinks").field(&self.live().len()).finish()
    }
}

impl Sinks {
    /// Adds a sink.
    pub fn attach(&self, sink: Weak<dyn EventSink>) {
        let mut sinks = self.0.write().unwrap_or_else(|e| e.into_inner());
        sinks.retain(|s| s.strong_count() > 0);
        sinks.push(sink);
    }

    /// The sinks still alive.
    pub fn live(&self) -> Vec<std::sync::Arc<dyn EventSink>> {
        let sinks = self.0.read().unwrap_or_else(|e| e.into_inner());
        sinks.iter().filter_map(Weak::upgrade).collect()
    }

    /// Delivers `envelope` to every live sink, one after the other.
    pub async fn deliver(&self, envelope: Envelope) {
        let sinks = self.live();
        if let Some((last, rest)) = sinks.split_last() {
            for sink in rest {
                sink.deliver(envelope.clone()).await;
            }
            last.deliver(envelope).await;
        }
    }

    /// Tells every live sink that events may have been missed.
    pub fn reset(&self, reason: &str) {
        for sink in self.live() {
            sink.reset(reason);
        }
    }
}
