//! Live events across instances through `RedisBus`: two engines over one shared store, each
//! with its own bus (its own Redis connections), and a fresh key prefix per test.
//!
//! These tests need a Redis server (`REDIS_URL`, which scripts/test.sh provides): without one
//! they fail, they are never skipped.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prismiq_core::events::{
    Audience, Envelope, Event, EventBus, EventFilter, EventId, EventKind, EventStream, Message,
    Reach, RedisBus, Replay, SharedEvent,
};
use prismiq_core::{DashboardCreate, DashboardUpdate, Engine, MemoryStore, SimpleAuthContext};
use serde_json::json;
use tokio::sync::RwLock;

/// Held shared by every test, and exclusively by the one that kills every pub/sub connection
/// of the server, so that it disturbs no other test.
static PUBSUB: RwLock<()> = RwLock::const_new(());

/// How long an expected message may take to arrive.
const ARRIVES: Duration = Duration::from_secs(10);
/// How long to wait before concluding that no further message comes.
const QUIET: Duration = Duration::from_millis(500);

const TENANT: &str = "acme";

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!("REDIS_URL is not set: the Redis event bus tests need a server (scripts/test.sh provides one)")
    })
}

fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("prismiq-test:{}:{nanos}:{test}", std::process::id())
}

async fn bus(prefix: &str, window: usize) -> Arc<RedisBus> {
    let bus = RedisBus::builder()
        .with_window(window)
        .with_prefix(prefix)
        .connect(&redis_url())
        .await
        .expect("connect to REDIS_URL");
    assert_eq!(bus.prefix(), prefix);
    assert_eq!(bus.window(), window);
    Arc::new(bus)
}

/// Two instances of a host: one store, one Redis, two buses, and the buses' key prefix.
async fn instances(test: &str, window: usize) -> (Engine, Engine, String) {
    let prefix = unique_prefix(test);
    let store = Arc::new(MemoryStore::new());
    let engine = |bus: Arc<RedisBus>| {
        Engine::from_stores(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
        )
        .with_event_bus(bus)
    };
    let a = engine(bus(&prefix, window).await);
    let b = engine(bus(&prefix, window).await);
    (a, b, prefix)
}

/// Deletes the keys of a test's buses.
async fn forget(prefix: &str) {
    let mut admin = admin().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut admin)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _deleted: u64 = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut admin)
            .await
            .unwrap();
    }
}

fn user(name: &str) -> SimpleAuthContext {
    SimpleAuthContext::new(TENANT).with_user(name)
}

async fn subscribe(engine: &Engine, auth: &SimpleAuthContext, filter: EventFilter) -> EventStream {
    engine.subscribe(auth, filter).await.expect("subscribe")
}

async fn next(stream: &mut EventStream) -> Message {
    tokio::time::timeout(ARRIVES, stream.next_message())
        .await
        .expect("a message within 10 s")
        .expect("the stream goes on")
}

async fn next_event(stream: &mut EventStream) -> SharedEvent {
    match next(stream).await {
        Message::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn events(stream: &mut EventStream, count: usize) -> Vec<SharedEvent> {
    let mut events = Vec::with_capacity(count);
    for _ in 0..count {
        events.push(next_event(stream).await);
    }
    events
}

async fn assert_quiet(stream: &mut EventStream) {
    if let Ok(message) = tokio::time::timeout(QUIET, stream.next_message()).await {
        panic!("expected nothing more, got {message:?}");
    }
}

/// A connection of the test's own to Redis.
async fn admin() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("connect to REDIS_URL")
}

async fn pubsub_connections(admin: &mut redis::aio::MultiplexedConnection) -> usize {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(admin)
        .await
        .unwrap();
    list.lines().count()
}

fn rename(name: &str) -> DashboardUpdate {
    let mut update = DashboardUpdate::default();
    update.name = Some(name.to_owned());
    update
}

fn ids(events: &[SharedEvent]) -> Vec<EventId> {
    events.iter().map(|event| event.id).collect()
}

#[tokio::test]
async fn each_instance_receives_every_event_once_in_id_order() {
    let _shared = PUBSUB.read().await;
    let (a, b, prefix) = instances("every-event", 1_000).await;
    let alice = user("alice");
    let mut on_a = subscribe(&a, &alice, EventFilter::all()).await;
    let mut on_b = subscribe(&b, &alice, EventFilter::all()).await;
    // Bob may not view Alice's private dashboards: the other instance decides so from the
    // shared store.
    let mut bob_on_b = subscribe(&b, &user("bob"), EventFilter::all()).await;

    let first = a
        .create_dashboard(&alice, DashboardCreate::named("On A"))
        .await
        .unwrap();
    let second = b
        .create_dashboard(&alice, DashboardCreate::named("On B"))
        .await
        .unwrap();
    // Both instances publishing at once.
    let rounds = 10;
    tokio::join!(
        async {
            for round in 0..rounds {
                a.update_dashboard(&alice, first.id, rename(&format!("A {round}")))
                    .await
                    .unwrap();
            }
        },
        async {
            for round in 0..rounds {
                b.update_dashboard(&alice, second.id, rename(&format!("B {round}")))
                    .await
                    .unwrap();
            }
        },
    );
    b.delete_dashboard(&alice, first.id).await.unwrap();
    a.notify(TENANT, Audience::Tenant, "done", json!({}))
        .await
        .unwrap();

    let count = 2 + 2 * rounds + 2;
    let seen_on_a = events(&mut on_a, count).await;
    let seen_on_b = events(&mut on_b, count).await;
    let expected: Vec<EventId> = (1..=count as EventId).collect();
    assert_eq!(ids(&seen_on_a), expected, "consecutive ids, in order, on A");
    assert_eq!(ids(&seen_on_b), expected, "consecutive ids, in order, on B");
    assert_eq!(
        seen_on_a, seen_on_b,
        "both instances deliver the same events"
    );
    assert_quiet(&mut on_a).await;
    assert_quiet(&mut on_b).await;

    let kinds = |kind| seen_on_a.iter().filter(|e| e.kind == kind).count();
    assert_eq!(kinds(EventKind::DashboardCreated), 2);
    assert_eq!(kinds(EventKind::DashboardUpdated), 2 * rounds);
    assert_eq!(kinds(EventKind::DashboardDeleted), 1);
    assert_eq!(seen_on_a[0].dashboard_id, Some(first.id));
    assert_eq!(seen_on_a[0].actor.as_deref(), Some("alice"));
    assert_eq!(seen_on_a[1].dashboard_id, Some(second.id));

    let only = next_event(&mut bob_on_b).await;
    assert_eq!(
        only.kind,
        EventKind::Notification,
        "Bob sees none of Alice's dashboards"
    );
    assert_eq!(only.id, count as EventId);
    assert_quiet(&mut bob_on_b).await;
    forget(&prefix).await;
}

#[tokio::test]
async fn resuming_on_the_other_instance_replays_what_came_after() {
    let _shared = PUBSUB.read().await;
    let (a, b, prefix) = instances("resume", 1_000).await;
    let alice = user("alice");
    let mut on_a = subscribe(&a, &alice, EventFilter::all()).await;

    let dashboard = a
        .create_dashboard(&alice, DashboardCreate::named("Sales"))
        .await
        .unwrap();
    for round in 0..4 {
        a.update_dashboard(&alice, dashboard.id, rename(&format!("Sales {round}")))
            .await
            .unwrap();
    }
    let published = events(&mut on_a, 5).await;
    let last_seen = published[1].id;

    let mut resumed = subscribe(&b, &alice, EventFilter::all().after(last_seen)).await;
    let replayed = events(&mut resumed, 3).await;
    assert_eq!(
        replayed,
        published[2..].to_vec(),
        "the same events, from Redis"
    );

    b.update_dashboard(&alice, dashboard.id, rename("Live"))
        .await
        .unwrap();
    let live = next_event(&mut resumed).await;
    assert_eq!(live.id, published[4].id + 1, "then live events, none twice");
    assert_eq!(next_event(&mut on_a).await, live);
    assert_quiet(&mut resumed).await;

    // Resuming from the last id replays nothing and continues live.
    let mut caught_up = subscribe(&a, &alice, EventFilter::all().after(live.id)).await;
    let id = a
        .notify(TENANT, Audience::Tenant, "ping", json!(null))
        .await
        .unwrap();
    assert_eq!(next_event(&mut caught_up).await.id, id);
    assert_eq!(id, live.id + 1);
    forget(&prefix).await;
}

#[tokio::test]
async fn resuming_outside_the_window_is_a_reset() {
    let _shared = PUBSUB.read().await;
    let (a, b, prefix) = instances("window", 3).await;
    let alice = user("alice");
    let mut on_a = subscribe(&a, &alice, EventFilter::all()).await;
    for name in ["One", "Two", "Three", "Four", "Five", "Six"] {
        a.create_dashboard(&alice, DashboardCreate::named(name))
            .await
            .unwrap();
    }
    let published = ids(&events(&mut on_a, 6).await);
    assert_eq!(published, vec![1, 2, 3, 4, 5, 6]);

    // Events 4 to 6 are kept: resuming after 3 is complete, after 2 is not.
    let mut kept = subscribe(&b, &alice, EventFilter::all().after(3)).await;
    assert_eq!(ids(&events(&mut kept, 3).await), vec![4, 5, 6]);
    for after in [2, 0] {
        let mut pruned = subscribe(&b, &alice, EventFilter::all().after(after)).await;
        assert!(
            matches!(next(&mut pruned).await, Message::Reset { .. }),
            "after {after}: pruned"
        );
    }
    // An id never given out.
    let mut unknown = subscribe(&b, &alice, EventFilter::all().after(7)).await;
    assert!(matches!(next(&mut unknown).await, Message::Reset { .. }));
    // After a reset, the subscription goes on live.
    a.create_dashboard(&alice, DashboardCreate::named("Seven"))
        .await
        .unwrap();
    assert_eq!(next_event(&mut unknown).await.id, 7);
    forget(&prefix).await;
}

#[tokio::test]
async fn the_bus_keeps_a_window_per_tenant() {
    let _shared = PUBSUB.read().await;
    let prefix = unique_prefix("replay");
    let bus = bus(&prefix, 3).await;
    let envelope = |tenant: &str, kind: &str| {
        let mut event = Event::new(EventKind::Notification, tenant);
        event.notification = Some(kind.to_owned());
        event.payload = Some(json!({"kind": kind}));
        // Ignored: the bus gives the id.
        event.id = 99;
        Envelope {
            event,
            reach: Reach::Audience {
                audience: Audience::users(["bob"]),
            },
        }
    };
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            bus.publish(envelope("acme", &format!("n{n}")))
                .await
                .unwrap(),
        );
    }
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    assert_eq!(bus.publish(envelope("globex", "g")).await.unwrap(), 1);

    let replayed = |replay: Replay| match replay {
        Replay::Events(events) => Some(events),
        Replay::Gap => None,
    };
    let after_2 = replayed(bus.replay("acme", 2).await.unwrap()).expect("kept");
    assert_eq!(
        after_2.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    assert_eq!(after_2[0].event.notification.as_deref(), Some("n2"));
    assert_eq!(after_2[0].event.payload, Some(json!({"kind": "n2"})));
    assert_eq!(after_2[0].reach, envelope("acme", "n2").reach);
    assert_eq!(
        replayed(bus.replay("acme", 4).await.unwrap()).map(|e| e.len()),
        Some(1)
    );
    assert_eq!(replayed(bus.replay("acme", 5).await.unwrap()), Some(vec![]));
    assert_eq!(bus.replay("acme", 1).await.unwrap(), Replay::Gap, "pruned");
    assert_eq!(
        bus.replay("acme", 6).await.unwrap(),
        Replay::Gap,
        "never given"
    );
    assert_eq!(
        replayed(bus.replay("globex", 0).await.unwrap()).map(|e| e.len()),
        Some(1)
    );
    // A tenant without events: ids start at 1.
    assert_eq!(
        replayed(bus.replay("initech", 0).await.unwrap()),
        Some(vec![])
    );
    assert_eq!(bus.replay("initech", 1).await.unwrap(), Replay::Gap);
    forget(&prefix).await;
}

#[tokio::test]
async fn notifications_reach_only_their_audience_across_instances() {
    let _shared = PUBSUB.read().await;
    let (a, b, prefix) = instances("audience", 1_000).await;
    let mut bob = subscribe(&b, &user("bob"), EventFilter::all()).await;
    let mut carol = subscribe(&b, &user("carol"), EventFilter::all()).await;
    let dave = user("dave").with_roles(["billing"]);
    let mut dave_on_a = subscribe(&a, &dave, EventFilter::all()).await;
    let other_tenant = SimpleAuthContext::new("globex").with_user("bob");
    let mut bob_elsewhere = subscribe(&b, &other_tenant, EventFilter::all()).await;

    let due = a
        .notify(
            TENANT,
            Audience::users(["bob"]),
            "payment_due",
            json!({"amount": 42}),
        )
        .await
        .unwrap();
    let billing = b
        .notify(TENANT, Audience::roles(["billing"]), "invoice", json!({}))
        .await
        .unwrap();
    let everyone = a
        .notify(TENANT, Audience::Tenant, "maintenance", json!({}))
        .await
        .unwrap();

    let received = next_event(&mut bob).await;
    assert_eq!(received.id, due);
    assert_eq!(received.notification.as_deref(), Some("payment_due"));
    assert_eq!(received.payload, Some(json!({"amount": 42})));
    assert_eq!(received.actor, None);
    assert_eq!(next_event(&mut bob).await.id, everyone);
    assert_eq!(
        next_event(&mut carol).await.id,
        everyone,
        "nothing else for Carol"
    );
    assert_eq!(
        ids(&events(&mut dave_on_a, 2).await),
        vec![billing, everyone]
    );
    for stream in [&mut bob, &mut carol, &mut dave_on_a, &mut bob_elsewhere] {
        assert_quiet(stream).await;
    }
    forget(&prefix).await;
}

#[tokio::test]
async fn a_lost_pubsub_connection_resets_subscribers_and_events_flow_again() {
    let _exclusive = PUBSUB.write().await;
    let (a, b, prefix) = instances("reconnect", 1_000).await;
    let alice = user("alice");
    let mut on_a = subscribe(&a, &alice, EventFilter::all()).await;
    let mut on_b = subscribe(&b, &alice, EventFilter::all()).await;
    let dashboard = a
        .create_dashboard(&alice, DashboardCreate::named("Sales"))
        .await
        .unwrap();
    assert_eq!(next_event(&mut on_a).await.id, 1);
    assert_eq!(next_event(&mut on_b).await.id, 1);

    let mut admin = admin().await;
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut admin)
        .await
        .unwrap();
    assert!(
        killed >= 2,
        "each bus's pub/sub connection was killed ({killed})"
    );

    // The reset comes once the bus has subscribed again: what follows arrives.
    for stream in [&mut on_a, &mut on_b] {
        match next(stream).await {
            Message::Reset { reason } => assert!(reason.contains("Redis"), "{reason}"),
            other => panic!("expected a reset, got {other:?}"),
        }
    }
    b.update_dashboard(&alice, dashboard.id, rename("After"))
        .await
        .unwrap();
    a.notify(TENANT, Audience::Tenant, "after", json!({}))
        .await
        .unwrap();
    for stream in [&mut on_a, &mut on_b] {
        assert_eq!(ids(&events(stream, 2).await), vec![2, 3]);
        assert_quiet(stream).await;
    }
    forget(&prefix).await;
}

#[tokio::test]
async fn dropping_the_bus_closes_its_subscription() {
    let _exclusive = PUBSUB.write().await;
    let mut admin = admin().await;
    let before = pubsub_connections(&mut admin).await;
    let bus = bus(&unique_prefix("drop"), 10).await;
    assert_eq!(pubsub_connections(&mut admin).await, before + 1);

    drop(bus);
    let deadline = tokio::time::Instant::now() + ARRIVES;
    while pubsub_connections(&mut admin).await != before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the pub/sub connection is still open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
