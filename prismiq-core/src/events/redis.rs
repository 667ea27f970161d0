//! [`RedisBus`]: live events shared by every instance of the host through Redis.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, PubSubSink, PubSubStream};

use super::{Envelope, EventBus, EventError, EventId, EventSink, Replay, Sinks};

/// Gives the event its tenant's next id, keeps it in the tenant's window and publishes it, in
/// one step: ids are consecutive per tenant and published in id order, whichever instance
/// publishes. The stored and published message is the id, a newline, and the envelope's JSON.
///
/// KEYS: the tenant's counter, the tenant's window (a sorted set scored by id).
/// ARGV: the envelope's JSON, the window's size, the channel.
const PUBLISH: &str = r"
local id = redis.call('INCR', KEYS[1])
local text = string.format('%d', id)
local message = text .. '\n' .. ARGV[1]
redis.call('ZADD', KEYS[2], text, message)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -1 - tonumber(ARGV[2]))
redis.call('PUBLISH', ARGV[3], message)
return id
";

/// How long the pub/sub connection may stay silent before it is checked with a `PING`.
const IDLE: Duration = Duration::from_secs(30);
/// How long connecting and subscribing, or answering a `PING`, may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The first and the longest wait between attempts to subscribe again.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Live events shared by every instance of the host through Redis (feature `redis`).
///
/// Publishing runs one Lua script that gives the event its tenant's next id (an `INCR`
/// counter, so ids start at 1 and are consecutive per tenant), keeps it in the tenant's window
/// (a sorted set scored by id, trimmed to the last 1,000 events by default) and publishes it
/// on the bus's channel. Each instance holds one dedicated pub/sub connection subscribed to
/// that channel and delivers every event it carries to its sinks, one at a time and in the
/// order Redis published them: each instance receives every event once, in id order per
/// tenant, its own events included.
///
/// When the pub/sub connection is lost, the bus subscribes again (waiting a little longer
/// after each failed attempt) and then resets every sink, as events published meanwhile may
/// have been missed. The connection is checked with a `PING` after 30 s without messages, so a silent
/// network failure is noticed too.
///
/// Keys start with the prefix (`prismiq:events` by default): `{prefix}:next:{n}:{tenant}` is a
/// tenant's counter and `{prefix}:log:{n}:{tenant}` its window, `n` being the length of the
/// tenant id. Neither expires: a counter that disappeared would give ids out again. Events are
/// published on the channel named by the prefix itself. Instances share events exactly when
/// they use the same Redis server and the same prefix.
///
/// ```no_run
/// # async fn run() -> Result<(), prismiq_core::events::EventError> {
/// use std::sync::Arc;
/// use prismiq_core::events::RedisBus;
/// use prismiq_core::{Engine, MemoryStore};
///
/// let bus = RedisBus::builder()
///     .with_window(500)
///     .connect("redis://127.0.0.1:6379")
///     .await?;
/// let engine = Engine::new(MemoryStore::new()).with_event_bus(Arc::new(bus));
/// # let _ = engine;
/// # Ok(())
/// # }
/// ```
pub struct RedisBus {
    connection: ConnectionManager,
    publish: redis::Script,
    prefix: String,
    window: usize,
    sinks: Arc<Sinks>,
    listener: tokio::task::AbortHandle,
}

/// The settings of a [`RedisBus`] before it connects ([`RedisBus::builder`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisBusBuilder {
    window: usize,
    prefix: String,
}

impl Default for RedisBusBuilder {
    fn default() -> Self {
        Self {
            window: 1_000,
            prefix: "prismiq:events".to_owned(),
        }
    }
}

impl RedisBusBuilder {
    /// How many events of each tenant are kept for resume (default 1,000, at least 1).
    pub fn with_window(mut self, events: usize) -> Self {
        self.window = events.max(1);
        self
    }

    /// Starts every key with `prefix` and publishes on the channel `prefix` (default
    /// `prismiq:events`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Connects to `url` (`redis://127.0.0.1:6379`) and subscribes to the bus's channel.
    ///
    /// Must be called within a Tokio runtime, which runs the subscription from then on.
    pub async fn connect(self, url: &str) -> Result<RedisBus, EventError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        self.connect_client(client).await
    }

    /// Connects with `client` (for settings a URL does not carry) and subscribes to the bus's
    /// channel.
    ///
    /// Must be called within a Tokio runtime, which runs the subscription from then on.
    pub async fn connect_client(self, client: redis::Client) -> Result<RedisBus, EventError> {
        let connection = client.get_connection_manager().await.map_err(unavailable)?;
        let subscription = Subscription::open(&client, &self.prefix)
            .await
            .map_err(unavailable)?;
        let sinks = Arc::new(Sinks::default());
        let listener = tokio::spawn(listen(
            client,
            self.prefix.clone(),
            subscription,
            sinks.clone(),
        ))
        .abort_handle();
        Ok(RedisBus {
            connection,
            publish: redis::Script::new(PUBLISH),
            prefix: self.prefix,
            window: self.window,
            sinks,
            listener,
        })
    }
}

impl RedisBus {
    /// Settings to change before connecting: the window and the prefix.
    pub fn builder() -> RedisBusBuilder {
        RedisBusBuilder::default()
    }

    /// Connects to `url` (`redis://127.0.0.1:6379`) with the default settings: a window of
    /// 1,000 events per tenant, the prefix `prismiq:events`.
    ///
    /// Must be called within a Tokio runtime, which runs the subscription from then on.
    pub async fn connect(url: &str) -> Result<Self, EventError> {
        Self::builder().connect(url).await
    }

    /// How many events of each tenant are kept for resume.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The prefix of the keys, and the channel.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, kind: &str, tenant_id: &str) -> String {
        format!("{}:{kind}:{}:{tenant_id}", self.prefix, tenant_id.len())
    }
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("prefix", &self.prefix)
            .field("window", &self.window)
            .field("sinks", &self.sinks)
            .finish_non_exhaustive()
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, mut envelope: Envelope) -> Result<EventId, EventError> {
        envelope.event.id = 0;
        let json = serde_json::to_vec(&envelope).map_err(EventError::Decode)?;
        let tenant_id = &envelope.event.tenant_id;
        let mut connection = self.connection.clone();
        self.publish
            .key(self.key("next", tenant_id))
            .key(self.key("log", tenant_id))
            .arg(json)
            .arg(self.window)
            .arg(&self.prefix)
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)
    }

    async fn replay(&self, tenant_id: &str, after: EventId) -> Result<Replay, EventError> {
        let log = self.key("log", tenant_id);
        let mut connection = self.connection.clone();
        let (last, first, messages): (Option<EventId>, Vec<Vec<u8>>, Vec<Vec<u8>>) = redis::pipe()
            .atomic()
            .get(self.key("next", tenant_id))
            .zrange(&log, 0, 0)
            .zrangebyscore(&log, format!("({after}"), "+inf")
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let first_kept = match first.first() {
            Some(message) => Some(split(message)?.0),
            None => None,
        };
        let kept = messages
            .iter()
            .map(|message| decode(message))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Replay::from_window(
            &kept,
            first_kept,
            last.unwrap_or(0) + 1,
            after,
        ))
    }

    fn attach(&self, sink: Weak<dyn EventSink>) {
        self.sinks.attach(sink);
    }
}

/// The bus's pub/sub connection, subscribed to its channel.
struct Subscription {
    sink: PubSubSink,
    stream: PubSubStream,
}

impl Subscription {
    async fn open(client: &redis::Client, channel: &str) -> redis::RedisResult<Self> {
        let open = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            let (sink, stream) = pubsub.split();
            Ok(Self { sink, stream })
        };
        tokio::time::timeout(TIMEOUT, open)
            .await
            .unwrap_or_else(|_| Err(timed_out("subscribing")))
    }

    /// Delivers every message to `sinks` until the connection is lost.
    async fn forward(&mut self, sinks: &Sinks) -> redis::RedisError {
        loop {
            match tokio::time::timeout(IDLE, self.stream.next()).await {
                Ok(Some(message)) => match decode(message.get_payload_bytes()) {
                    Ok(envelope) => sinks.deliver(envelope).await,
                    Err(err) => {
                        tracing::warn!(error = %crate::error::error_chain(&err),
                            "an event from Redis could not be decoded");
                        sinks.reset("an event could not be decoded: events were missed");
                    }
                },
                Ok(None) => return closed(),
                Err(_idle) => {
                    match tokio::time::timeout(TIMEOUT, self.sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(err)) => return err,
                        Err(_) => return timed_out("PING"),
                    }
                }
            }
        }
    }
}

/// Delivers the bus's events to `sinks` until the bus is dropped, subscribing again whenever
/// the connection is lost.
async fn listen(
    client: redis::Client,
    channel: String,
    mut subscription: Subscription,
    sinks: Arc<Sinks>,
) {
    loop {
        let err = subscription.forward(&sinks).await;
        tracing::warn!(error = %err, channel = %channel, "event bus lost its Redis pub/sub connection");
        let mut wait = BACKOFF.0;
        subscription = loop {
            match Subscription::open(&client, &channel).await {
                Ok(subscription) => break subscription,
                Err(err) => {
                    tracing::warn!(error = %err, channel = %channel, retry_in = ?wait,
                        "event bus could not subscribe to Redis again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(BACKOFF.1);
                }
            }
        };
        tracing::info!(channel = %channel, "event bus subscribed to Redis again");
        sinks.reset("the event bus lost its connection to Redis: events may have been missed");
    }
}

/// The id and the envelope's JSON of a stored or published message.
fn split(message: &[u8]) -> Result<(EventId, &[u8]), EventError> {
    let malformed = || {
        EventError::Decode(<serde_json::Error as serde::de::Error>::custom(
            "an event message must start with its id and a newline",
        ))
    };
    let newline = message
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(malformed)?;
    let id = std::str::from_utf8(&message[..newline])
        .ok()
        .and_then(|id| id.parse().ok())
        .ok_or_else(malformed)?;
    Ok((id, &message[newline + 1..]))
}

/// The envelope of a stored or published message, with its id.
fn decode(message: &[u8]) -> Result<Envelope, EventError> {
    let (id, json) = split(message)?;
    let mut envelope: Envelope = serde_json::from_slice(json).map_err(EventError::Decode)?;
    envelope.event.id = id;
    Ok(envelope)
}

fn unavailable(err: redis::RedisError) -> EventError {
    EventError::Unavailable(Box::new(err))
}

fn timed_out(what: &str) -> redis::RedisError {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("{what} took longer than {TIMEOUT:?}"),
    )
    .into()
}

fn closed() -> redis::RedisError {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "the pub/sub connection was closed",
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, EventKind, Reach};

    #[test]
    fn messages_carry_the_id_before_the_json() {
        let envelope = Envelope {
            event: Event::new(EventKind::DashboardCreated, "acme"),
            reach: Reach::DashboardViewers,
        };
        let mut message = b"42\n".to_vec();
        message.extend(serde_json::to_vec(&envelope).unwrap());
        let decoded = decode(&message).unwrap();
        assert_eq!(decoded.event.id, 42);
        assert_eq!(decoded.reach, envelope.reach);

        for malformed in [&b"{}"[..], b"x\n{}", b"\n{}", b"7\nnot json"] {
            assert!(
                matches!(decode(malformed), Err(EventError::Decode(_))),
                "{malformed:?}"
            );
        }
    }
}
