//! [`PgEventBus`]: live events between the instances of a host through PostgreSQL
//! `LISTEN/NOTIFY`, with each tenant's recent events kept in `prismiq.events` for resume.
//!
//! Publishing is one autocommit statement: it takes the tenant's next id from
//! `prismiq.event_counters`, stores the event, prunes the tenant's events older than the window
//! and sends a notification. The counter's row lock is held until that statement commits, so a
//! tenant's events commit in id order, and PostgreSQL delivers notifications in commit order:
//! every listener sees each tenant's events in id order. Each instance listens on a connection
//! of its own and hands the events it is notified of, its own included, to its sinks.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use prismiq_core::events::{Envelope, EventBus, EventError, EventId, EventSink, Replay, Sinks};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::types::Json;

use crate::{PgStoreError, PostgresStore};

/// The channel [`PgEventBus::connect`] notifies and listens on.
pub const DEFAULT_CHANNEL: &str = "prismiq_events";

/// How many events of each tenant a [`PgEventBus`] keeps for resume unless told otherwise
/// ([`PgEventBus::with_window`]).
pub const DEFAULT_WINDOW: usize = 1_000;

/// The largest event a [`PgEventBus`] publishes, in bytes of JSON; a larger one is refused with
/// [`EventError::TooLarge`].
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// Events whose JSON, as PostgreSQL writes it, is at most this many bytes travel whole in their
/// notification; larger ones travel as a reference (`{"tenant_id":…,"id":…}`) that listeners
/// read from `prismiq.events`. PostgreSQL refuses notification payloads of 8,000 bytes or more.
pub const MAX_INLINE_BYTES: usize = 7_000;

/// The `application_name` of the connection each [`PgEventBus`] listens on, which tells it
/// apart in `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "prismiq-event-listener";

/// The longest channel name PostgreSQL accepts, in bytes.
const MAX_CHANNEL_BYTES: usize = 63;

/// How often a publish is retried after a serialization failure, which only a connection whose
/// transactions default to `repeatable read` or `serializable` can meet.
const PUBLISH_ATTEMPTS: u32 = 5;

/// The first and the longest wait between attempts to listen again after a failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Publishes the event `$2` (envelope JSON) of tenant `$1`: gives it the tenant's next id,
/// keeps it, deletes the tenant's events that fall out of a window of `$3`, and notifies
/// channel `$4` with the event (its id set) when its JSON is at most `$5` bytes, else with a
/// reference to it. Returns the id.
///
/// The counter's row lock makes a tenant's publishers wait for each other until commit, so ids
/// commit, and are notified, in order. The prune reads the statement's snapshot, so it may
/// leave an event more than the window behind a concurrent publish; the next publish takes it.
const PUBLISH: &str = "with counter as ( \
         insert into prismiq.event_counters as c (tenant_id, last_id) values ($1, 1) \
         on conflict (tenant_id) do update set last_id = c.last_id + 1 \
         returning c.last_id \
     ), event as ( \
         insert into prismiq.events (tenant_id, id, body) \
         select $1, counter.last_id, \
                jsonb_set($2::jsonb, '{event,id}', to_jsonb(counter.last_id)) \
         from counter \
         returning id, body::text as body \
     ), pruned as ( \
         delete from prismiq.events e using counter \
         where e.tenant_id = $1 and e.id <= counter.last_id - $3 \
     ) \
     select event.id, pg_notify($4, \
         case when octet_length(event.body) <= $5 then event.body \
              else json_build_object('tenant_id', $1::text, 'id', event.id)::text end)::text \
     from event";

/// Tenant `$1`'s last id (0 before its first event), its first kept id, and its kept events
/// after `$2` in id order (left out when `$2` is outside the kept window).
const REPLAY: &str = "with bounds as ( \
         select coalesce((select c.last_id from prismiq.event_counters c \
                          where c.tenant_id = $1), 0) as last_id, \
                (select min(e.id) from prismiq.events e where e.tenant_id = $1) as first_id \
     ) \
     select b.last_id, b.first_id, \
            (select jsonb_agg(e.body order by e.id) from prismiq.events e \
             where e.tenant_id = $1 and e.id > $2 \
               and $2 <= b.last_id and $2 >= coalesce(b.first_id, b.last_id + 1) - 1) \
     from bounds b";

/// Event `$2` of tenant `$1`, for a notification that carried only a reference.
const SELECT_EVENT: &str = "select body from prismiq.events where tenant_id = $1 and id = $2";

/// What [`Sinks::reset`] tells subscribers when the listener may have missed notifications.
const LOST_CONNECTION: &str = "the event bus lost its database connection";

/// An [`EventBus`] on PostgreSQL: events published on any instance connected to the same
/// database reach the subscribers of every instance, in id order per tenant, exactly once.
///
/// ```no_run
/// use std::sync::Arc;
/// use prismiq_core::Engine;
/// use prismiq_store_postgres::PostgresStore;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::connect("postgres://app@localhost/app").await?;
/// store.migrate().await?;
/// let bus = store.event_bus().await?.with_window(5_000);
/// let engine = Engine::new(store).with_event_bus(Arc::new(bus));
/// # let _ = engine;
/// # Ok(())
/// # }
/// ```
///
/// - **Ids** are consecutive per tenant (1, 2, 3, …), counted in `prismiq.event_counters`, so
///   a client can resume from the last id it saw on any instance.
/// - **Resume**: each tenant's last [`window`](Self::with_window) events are kept in
///   `prismiq.events` ([`DEFAULT_WINDOW`] by default); [`replay`](EventBus::replay) answers
///   from there, with [`Replay::Gap`] for an id before them or never given.
/// - **Delivery**: publishing is one autocommit statement that also sends a `NOTIFY` on the
///   bus's channel ([`DEFAULT_CHANNEL`] by default). The notification carries the event itself
///   when its JSON is at most [`MAX_INLINE_BYTES`], else a reference that listeners read from
///   `prismiq.events`. Each bus listens on one connection of its own (opened with the pool's
///   connect options, named [`LISTENER_APPLICATION_NAME`]) and hands every event, its own
///   included, to the attached sinks one after the other.
/// - **Lost connection**: when the listening connection is lost, sinks are told to reset
///   ([`EventSink::reset`]: subscribers refetch), and the bus listens again, retrying with a
///   backoff of up to 5 s while the database cannot be reached.
/// - **Errors**: an event larger than [`MAX_EVENT_BYTES`] is [`EventError::TooLarge`]; a failed
///   statement is [`EventError::Unavailable`] with the [`PgStoreError`] as its source.
///
/// Event bodies are `jsonb`: objects come back with `jsonb`'s key order, and an event with
/// U+0000 in a string (a host's notification payload) cannot be stored, so publishing it fails.
///
/// `prismiq.events` and `prismiq.event_counters` come with [`PostgresStore::migrate`]. They are
/// not confined by row-level security as the store's tables are: the bus serves every tenant
/// at once (see the migration `0008_events.sql`). Dropping the bus stops its listener.
#[derive(Debug)]
pub struct PgEventBus {
    shared: Arc<Shared>,
    channel: String,
    window: i64,
    listener: tokio::task::JoinHandle<()>,
}

/// What the bus and its listener task share.
#[derive(Debug)]
struct Shared {
    pool: PgPool,
    sinks: Sinks,
}

impl PgEventBus {
    /// A bus on the host's pool, notifying and listening on [`DEFAULT_CHANNEL`]. It starts
    /// listening before it returns, so no event published after that is missed.
    ///
    /// Run [`PostgresStore::migrate`] once before using it. Needs a Tokio runtime: the
    /// listener is a task of its own.
    pub async fn connect(pool: PgPool) -> Result<Self, PgStoreError> {
        Self::connect_on_channel(pool, DEFAULT_CHANNEL).await
    }

    /// A bus on `channel` (1 to 63 bytes), for a host whose database already uses
    /// [`DEFAULT_CHANNEL`] for something else. Every instance on the database must use the same
    /// channel: buses hear each other only on the same channel, while ids and kept events are
    /// the database's, whatever the channel.
    pub async fn connect_on_channel(pool: PgPool, channel: &str) -> Result<Self, PgStoreError> {
        if channel.is_empty() || channel.len() > MAX_CHANNEL_BYTES || channel.contains('\0') {
            return Err(PgStoreError::Database(sqlx::Error::Configuration(
                format!("event channel {channel:?} is not 1 to {MAX_CHANNEL_BYTES} bytes").into(),
            )));
        }
        let listening = Listening::new(&pool, channel);
        let listener = listening.listen().await?;
        let shared = Arc::new(Shared {
            pool,
            sinks: Sinks::default(),
        });
        let task = tokio::spawn(listening.run(shared.clone(), listener));
        Ok(Self {
            shared,
            channel: channel.to_owned(),
            window: i64::try_from(DEFAULT_WINDOW).unwrap_or(i64::MAX),
            listener: task,
        })
    }

    /// Keeps the last `events` events of each tenant for resume (at least 1; default
    /// [`DEFAULT_WINDOW`]). Events beyond it are deleted as new ones are published.
    pub fn with_window(mut self, events: usize) -> Self {
        self.window = i64::try_from(events.max(1)).unwrap_or(i64::MAX);
        self
    }

    /// The channel the bus notifies and listens on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// How many events of each tenant are kept for resume.
    pub fn window(&self) -> usize {
        usize::try_from(self.window).unwrap_or(usize::MAX)
    }
}

impl Drop for PgEventBus {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl PostgresStore {
    /// A [`PgEventBus`] on the store's pool, on [`DEFAULT_CHANNEL`]: what an
    /// [`Engine`](prismiq_core::Engine) on this store takes to share live events with the
    /// other instances using the database.
    pub async fn event_bus(&self) -> Result<PgEventBus, PgStoreError> {
        PgEventBus::connect(self.pool().clone()).await
    }
}

#[async_trait]
impl EventBus for PgEventBus {
    async fn publish(&self, envelope: Envelope) -> Result<EventId, EventError> {
        let body = serde_json::to_string(&envelope)
            .map_err(|err| EventError::Unavailable(Box::new(PgStoreError::from(err))))?;
        if body.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge {
                bytes: body.len(),
                max: MAX_EVENT_BYTES,
            });
        }
        let mut attempt = 1;
        loop {
            let published = sqlx::query_scalar::<_, i64>(PUBLISH)
                .bind(&envelope.event.tenant_id)
                .bind(&body)
                .bind(self.window)
                .bind(&self.channel)
                .bind(i32::try_from(MAX_INLINE_BYTES).unwrap_or(i32::MAX))
                .fetch_one(&self.shared.pool)
                .await;
            match published {
                Ok(id) => return Ok(id.unsigned_abs()),
                Err(err) if attempt < PUBLISH_ATTEMPTS && serialization_failure(&err) => {
                    attempt += 1;
                }
                Err(err) => return Err(unavailable(err)),
            }
        }
    }

    async fn replay(&self, tenant_id: &str, after: EventId) -> Result<Replay, EventError> {
        // No id that large was ever given.
        let Ok(after_param) = i64::try_from(after) else {
            return Ok(Replay::Gap);
        };
        let (last, first, kept): (i64, Option<i64>, Option<Json<Vec<Envelope>>>) =
            sqlx::query_as(REPLAY)
                .bind(tenant_id)
                .bind(after_param)
                .fetch_one(&self.shared.pool)
                .await
                .map_err(unavailable)?;
        let kept = kept.map(|Json(kept)| kept).unwrap_or_default();
        Ok(Replay::from_window(
            &kept,
            first.map(i64::unsigned_abs),
            last.unsigned_abs() + 1,
            after,
        ))
    }

    fn attach(&self, sink: Weak<dyn EventSink>) {
        self.shared.sinks.attach(sink);
    }
}

impl Shared {
    /// Hands the event of one notification to the sinks, reading it first when the
    /// notification carries only a reference. An event that cannot be had resets the sinks.
    async fn receive(&self, payload: &str) {
        let envelope = match Notified::decode(payload) {
            Ok(Notified::Event(envelope)) => *envelope,
            Ok(Notified::Reference { tenant_id, id }) => {
                match sqlx::query_scalar::<_, Json<Envelope>>(SELECT_EVENT)
                    .bind(&tenant_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                {
                    Ok(Some(Json(envelope))) => envelope,
                    Ok(None) => {
                        tracing::warn!(tenant_id, id, "notified event no longer kept");
                        self.sinks
                            .reset("an event was no longer kept when it was delivered");
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, tenant_id, id, "notified event not read");
                        self.sinks
                            .reset("an event could not be read when it was delivered");
                        return;
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "event notification not decoded");
                self.sinks.reset("an event could not be decoded");
                return;
            }
        };
        self.sinks.deliver(envelope).await;
    }
}

/// What a notification carries.
#[derive(Debug)]
enum Notified {
    /// The event itself, its id set.
    Event(Box<Envelope>),
    /// Where to read an event too large for a notification.
    Reference { tenant_id: String, id: i64 },
}

impl Notified {
    fn decode(payload: &str) -> Result<Self, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(payload)?;
        if value.get("event").is_none()
            && let Some(tenant_id) = value.get("tenant_id").and_then(|v| v.as_str())
            && let Some(id) = value.get("id").and_then(|v| v.as_i64())
        {
            return Ok(Self::Reference {
                tenant_id: tenant_id.to_owned(),
                id,
            });
        }
        serde_json::from_value(value).map(|envelope| Self::Event(Box::new(envelope)))
    }
}

/// How the listener task (re)connects: a pool of one connection of its own, so that the
/// connection it holds for good is not taken from the host's pool.
#[derive(Debug)]
struct Listening {
    pool: PgPool,
    channel: String,
}

impl Listening {
    fn new(host: &PgPool, channel: &str) -> Self {
        let options = (*host.connect_options())
            .clone()
            .application_name(LISTENER_APPLICATION_NAME);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(host.options().get_acquire_timeout())
            .connect_lazy_with(options);
        Self {
            pool,
            channel: channel.to_owned(),
        }
    }

    /// A connection listening on the channel.
    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(&self.channel).await?;
        Ok(listener)
    }

    /// Listens again, waiting longer after each failure, until it succeeds.
    async fn listen_again(&self) -> PgListener {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.listen().await {
                Ok(listener) => return listener,
                Err(err) => {
                    tracing::warn!(error = %err, retry_in = ?backoff,
                        "event bus cannot listen on its channel");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// The listener task: hands each notification to the sinks in the order PostgreSQL
    /// delivers them. When the connection is lost, notifications may have been missed: the
    /// sinks are reset once the task listens again, so that whatever subscribers refetch then
    /// is followed by every later event; when listening again takes more than one attempt, they
    /// are also reset at once, so that they know while it lasts.
    async fn run(self, shared: Arc<Shared>, mut listener: PgListener) {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => shared.receive(notification.payload()).await,
                // sqlx has connected and listens again already.
                Ok(None) => {
                    tracing::warn!("event bus lost its listening connection and listens again");
                    shared.sinks.reset(LOST_CONNECTION);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "event bus lost its listening connection");
                    shared.sinks.reset(LOST_CONNECTION);
                    drop(listener);
                    listener = self.listen_again().await;
                    tracing::info!("event bus listens again");
                    shared.sinks.reset(LOST_CONNECTION);
                }
            }
        }
    }
}

/// A publish that a retry may get through: a serialization failure.
fn serialization_failure(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("40001"))
}

fn unavailable(err: sqlx::Error) -> EventError {
    EventError::Unavailable(Box::new(PgStoreError::from(err)))
}

#[cfg(test)]
mod tests {
    use prismiq_core::events::{Audience, Event, EventKind, Reach};

    use super::*;

    #[test]
    fn notifications_decode_as_events_or_references() {
        let mut event = Event::new(EventKind::Notification, "acme");
        event.id = 7;
        event.payload = Some(serde_json::json!({"tenant_id": "x", "id": 1}));
        let envelope = Envelope {
            event,
            reach: Reach::Audience {
                audience: Audience::Tenant,
            },
        };
        let json = serde_json::to_string(&envelope).unwrap();
        assert!(matches!(Notified::decode(&json), Ok(Notified::Event(e)) if *e == envelope));

        let reference = r#"{"tenant_id" : "acme", "id" : 42}"#;
        assert!(matches!(
            Notified::decode(reference),
            Ok(Notified::Reference { tenant_id, id: 42 }) if tenant_id == "acme"
        ));
        assert!(Notified::decode(r#"{"id": 1}"#).is_err());
        assert!(Notified::decode("not json").is_err());
    }
}
