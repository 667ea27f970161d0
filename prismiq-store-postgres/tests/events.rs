//! `PgEventBus`: live events between instances through one PostgreSQL database. Two engines,
//! each with a pool and a bus of its own, stand for two instances of a host: every subscriber
//! receives the events of changes made on either instance exactly once and in id order, resumes
//! from either instance within the kept window, is told to refetch when its instance's
//! listening connection is lost, and receives large events intact.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use prismiq_core::events::{
    Audience, Envelope, Event, EventBus, EventFilter, EventKind, EventSettings, EventSink,
    EventStream, Message, Reach, Replay, SharedEvent,
};
use prismiq_core::{DashboardCreate, DashboardId, Engine, SimpleAuthContext};
use prismiq_store_postgres::sqlx;
use prismiq_store_postgres::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use prismiq_store_postgres::testing::{TestDatabase, fresh_database};
use prismiq_store_postgres::{
    DEFAULT_CHANNEL, LISTENER_APPLICATION_NAME, MAX_INLINE_BYTES, PgEventBus, PostgresStore,
};
use tokio::sync::mpsc;

/// How long a message the test expects may take.
const WAIT: Duration = Duration::from_secs(10);

/// How long a subscriber must stay quiet to show that nothing more comes.
const QUIET: Duration = Duration::from_millis(500);

/// One instance of a host: an engine on a pool of its own, with a bus of its own.
struct Instance {
    engine: Engine,
    bus: Arc<PgEventBus>,
}

async fn instance(database: &TestDatabase, window: usize) -> Instance {
    instance_with(database, window, EventSettings::default()).await
}

async fn instance_with(
    database: &TestDatabase,
    window: usize,
    settings: EventSettings,
) -> Instance {
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(database.connect_options().clone())
        .await
        .expect("the test database accepts connections");
    let bus = Arc::new(
        PgEventBus::connect(pool.clone())
            .await
            .expect("the bus listens")
            .with_window(window),
    );
    let engine = Engine::new(PostgresStore::new(pool))
        .with_event_bus(bus.clone())
        .with_event_settings(settings);
    Instance { engine, bus }
}

fn alice() -> SimpleAuthContext {
    SimpleAuthContext::new("acme").with_user("alice")
}

/// The next message, failing the test when none comes in time or the stream ended.
async fn next(stream: &mut EventStream) -> Message {
    tokio::time::timeout(WAIT, stream.next_message())
        .await
        .expect("a message arrives in time")
        .expect("the stream goes on")
}

async fn next_event(stream: &mut EventStream) -> SharedEvent {
    match next(stream).await {
        Message::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

async fn next_reset(stream: &mut EventStream) -> String {
    match next(stream).await {
        Message::Reset { reason } => reason,
        other => panic!("expected a reset, got {other:?}"),
    }
}

/// The ids of the next `n` events.
async fn next_ids(stream: &mut EventStream, n: usize) -> Vec<u64> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(next_event(stream).await.id);
    }
    ids
}

async fn assert_quiet(stream: &mut EventStream) {
    if let Ok(message) = tokio::time::timeout(QUIET, stream.next_message()).await {
        panic!("expected nothing more, got {message:?}");
    }
}

async fn notify(instance: &Instance, tenant: &str, kind: &str) -> u64 {
    instance
        .engine
        .notify(tenant, Audience::Tenant, kind, serde_json::json!({}))
        .await
        .expect("the notification is published")
}

/// The pids of the listening connections on the test database.
async fn listener_pids(admin: &PgPool) -> BTreeSet<i32> {
    sqlx::query_scalar(
        "select pid from pg_stat_activity \
         where datname = current_database() and application_name = $1",
    )
    .bind(LISTENER_APPLICATION_NAME)
    .fetch_all(admin)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Records what a bus delivers, as an engine's hub would receive it.
struct Recorder(mpsc::UnboundedSender<Envelope>);

#[async_trait::async_trait]
impl EventSink for Recorder {
    async fn deliver(&self, envelope: Envelope) {
        let _ = self.0.send(envelope);
    }

    fn reset(&self, _reason: &str) {}
}

async fn recorded(receiver: &mut mpsc::UnboundedReceiver<Envelope>) -> Envelope {
    tokio::time::timeout(WAIT, receiver.recv())
        .await
        .expect("an event is delivered in time")
        .expect("the recorder is attached")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_from_either_instance_reach_every_subscriber_once_in_order() {
    let database = fresh_database().await;
    let a = instance(&database, 1_000).await;
    let b = instance(&database, 1_000).await;
    let alice = alice();
    let bob = SimpleAuthContext::new("globex").with_user("bob");
    let mut on_a = a
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();
    let mut on_b = b
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();
    let mut bob_on_a = a.engine.subscribe(&bob, EventFilter::all()).await.unwrap();

    // Both instances change acme at the same time; globex changes in between.
    let changes = |instance: &Instance, prefix: &'static str| {
        let engine = instance.engine.clone();
        let alice = alice.clone();
        async move {
            let mut created = Vec::new();
            for i in 0..10 {
                let dashboard = engine
                    .create_dashboard(&alice, DashboardCreate::named(format!("{prefix}{i}")))
                    .await
                    .unwrap();
                created.push(dashboard.id);
                engine
                    .notify(
                        "acme",
                        Audience::Tenant,
                        "tick",
                        serde_json::json!({"i": i}),
                    )
                    .await
                    .unwrap();
            }
            created
        }
    };
    let globex = async {
        for i in 0..5 {
            b.engine
                .create_dashboard(&bob, DashboardCreate::named(format!("g{i}")))
                .await
                .unwrap();
        }
    };
    let (from_a, from_b, ()) = tokio::join!(changes(&a, "a"), changes(&b, "b"), globex);

    let mut seen: Vec<Vec<SharedEvent>> = Vec::new();
    for stream in [&mut on_a, &mut on_b] {
        let mut events = Vec::new();
        for _ in 0..40 {
            events.push(next_event(stream).await);
        }
        assert_quiet(stream).await;
        seen.push(events);
    }
    let ids: Vec<u64> = seen[0].iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=40).collect::<Vec<_>>(),
        "acme's ids are consecutive, received once each, in order"
    );
    assert_eq!(seen[0], seen[1], "both instances deliver the same events");
    let created: BTreeSet<DashboardId> = seen[0]
        .iter()
        .filter(|e| e.kind == EventKind::DashboardCreated)
        .filter_map(|e| e.dashboard_id)
        .collect();
    assert_eq!(created, from_a.into_iter().chain(from_b).collect());
    assert!(seen[0].iter().all(|e| e.tenant_id == "acme"));

    assert_eq!(
        next_ids(&mut bob_on_a, 5).await,
        [1, 2, 3, 4, 5],
        "globex counts on its own, and its events reach the other instance"
    );
    assert_quiet(&mut bob_on_a).await;

    drop((on_a, on_b, bob_on_a, a, b));
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_kept_events_from_either_instance_and_resets_outside_the_window() {
    let database = fresh_database().await;
    let a = instance(&database, 5).await;
    let b = instance(&database, 5).await;
    let alice = alice();

    for expected in 1..=8 {
        assert_eq!(notify(&a, "acme", "tick").await, expected);
    }
    let kept: Vec<i64> =
        sqlx::query_scalar("select id from prismiq.events where tenant_id = 'acme' order by id")
            .fetch_all(database.store().pool())
            .await
            .unwrap();
    assert_eq!(kept, [4, 5, 6, 7, 8], "the window keeps the last 5");

    let mut from_b = b
        .engine
        .subscribe(&alice, EventFilter::all().after(5))
        .await
        .unwrap();
    assert_eq!(next_ids(&mut from_b, 3).await, [6, 7, 8]);
    let mut from_a = a
        .engine
        .subscribe(&alice, EventFilter::all().after(3))
        .await
        .unwrap();
    assert_eq!(
        next_ids(&mut from_a, 5).await,
        [4, 5, 6, 7, 8],
        "all of the window"
    );
    let mut caught_up = b
        .engine
        .subscribe(&alice, EventFilter::all().after(8))
        .await
        .unwrap();
    assert_quiet(&mut caught_up).await;

    // Resumed subscribers go on with live events, from either instance, without repeats.
    assert_eq!(notify(&b, "acme", "tick").await, 9);
    for stream in [&mut from_b, &mut from_a, &mut caught_up] {
        assert_eq!(next_event(stream).await.id, 9);
        assert_quiet(stream).await;
    }

    // The window moved on to 5..=9: resuming after 3 or earlier, or after an id never given,
    // means refetching.
    for after in [2, 3, 10, u64::try_from(i64::MAX).unwrap(), u64::MAX] {
        let mut stream = a
            .engine
            .subscribe(&alice, EventFilter::all().after(after))
            .await
            .unwrap();
        next_reset(&mut stream).await;
    }
    assert_eq!(a.bus.replay("acme", 3).await.unwrap(), Replay::Gap);
    assert_eq!(b.bus.replay("acme", 10).await.unwrap(), Replay::Gap);
    let Replay::Events(events) = b.bus.replay("acme", 4).await.unwrap() else {
        panic!("events after 4 are kept");
    };
    assert_eq!(
        events.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        [5, 6, 7, 8, 9]
    );
    assert!(
        events
            .iter()
            .all(|e| e.event.kind == EventKind::Notification)
    );
    assert_eq!(
        a.bus.replay("acme", 9).await.unwrap(),
        Replay::Events(vec![])
    );

    // A tenant without events: ids start at 1.
    assert_eq!(
        a.bus.replay("initech", 0).await.unwrap(),
        Replay::Events(vec![])
    );
    assert_eq!(a.bus.replay("initech", 1).await.unwrap(), Replay::Gap);
    let initech = SimpleAuthContext::new("initech").with_user("carol");
    let mut fresh = b
        .engine
        .subscribe(&initech, EventFilter::all().after(0))
        .await
        .unwrap();
    assert_quiet(&mut fresh).await;
    assert_eq!(notify(&a, "initech", "hello").await, 1);
    assert_eq!(next_event(&mut fresh).await.id, 1);

    drop((from_a, from_b, caught_up, fresh, a, b));
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listening_connection_resets_subscribers_and_events_still_flow() {
    let database = fresh_database().await;
    let admin = database.store().pool();
    let a = instance(&database, 1_000).await;
    let b = instance(&database, 1_000).await;
    let alice = alice();
    let mut on_a = a
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();
    let mut on_b = b
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();
    assert_eq!(notify(&a, "acme", "before").await, 1);
    assert_eq!(next_event(&mut on_a).await.id, 1);
    assert_eq!(next_event(&mut on_b).await.id, 1);

    let killed = listener_pids(admin).await;
    assert_eq!(killed.len(), 2, "one listening connection per instance");
    for pid in &killed {
        let query: String = sqlx::query_scalar("select query from pg_stat_activity where pid = $1")
            .bind(pid)
            .fetch_one(admin)
            .await
            .unwrap();
        assert!(query.starts_with("LISTEN"), "{query}");
        let terminated: bool = sqlx::query_scalar("select pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(admin)
            .await
            .unwrap();
        assert!(terminated);
    }

    // Each instance tells its subscribers to refetch once it listens again.
    next_reset(&mut on_a).await;
    next_reset(&mut on_b).await;
    let replaced = async {
        loop {
            let listening = listener_pids(admin).await;
            if listening.len() == 2 && listening.is_disjoint(&killed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, replaced)
        .await
        .expect("new connections listen in place of the killed ones");

    assert_eq!(notify(&b, "acme", "after").await, 2);
    a.engine
        .create_dashboard(&alice, DashboardCreate::named("After"))
        .await
        .unwrap();
    for stream in [&mut on_a, &mut on_b] {
        assert_eq!(next_ids(stream, 2).await, [2, 3]);
        assert_quiet(stream).await;
    }

    drop((on_a, on_b, a, b));
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_events_arrive_intact() {
    let database = fresh_database().await;
    let settings = EventSettings::default().with_max_notification_bytes(64 * 1024);
    let a = instance_with(&database, 1_000, settings.clone()).await;
    let b = instance_with(&database, 1_000, settings).await;
    let (sender, mut delivered) = mpsc::unbounded_channel();
    let recorder: Arc<dyn EventSink> = Arc::new(Recorder(sender));
    b.bus.attach(Arc::downgrade(&recorder));
    let mut raw = PgListener::connect_with(database.store().pool())
        .await
        .unwrap();
    raw.listen(DEFAULT_CHANNEL).await.unwrap();

    let alice = alice();
    let last_viewer = "viewer-1999";
    let viewer = SimpleAuthContext::new("acme").with_user(last_viewer);
    let mut on_a = a
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();
    let mut viewer_on_b = b
        .engine
        .subscribe(&viewer, EventFilter::all())
        .await
        .unwrap();

    // A notification of almost 4 KB travels whole in its NOTIFY.
    let text = "é".repeat(1_000) + &"x".repeat(1_900);
    let small = serde_json::json!({"text": text, "n": [1, 2.5, -3], "nested": {"b": true}});
    assert!(serde_json::to_vec(&small).unwrap().len() > 3_900);
    let small_id = a
        .engine
        .notify("acme", Audience::Tenant, "digest", small.clone())
        .await
        .unwrap();
    // One of about 40 KB travels as a reference.
    let big =
        serde_json::json!({"rows": (0..2_000).map(|i| format!("row {i}")).collect::<Vec<_>>()});
    let big_id = b
        .engine
        .notify("acme", Audience::Tenant, "report", big.clone())
        .await
        .unwrap();
    // So does the deletion of a dashboard shared with 2,000 viewers: its reach lists them.
    let viewers: Vec<String> = (0..2_000).map(|i| format!("viewer-{i:04}")).collect();
    let mut create = DashboardCreate::named("Shared");
    create.allowed_viewers = viewers.clone();
    let shared = a.engine.create_dashboard(&alice, create).await.unwrap();
    for stream in [&mut on_a, &mut viewer_on_b] {
        let first = next_event(stream).await;
        assert_eq!((first.id, first.payload.as_ref()), (small_id, Some(&small)));
        let second = next_event(stream).await;
        assert_eq!((second.id, second.payload.as_ref()), (big_id, Some(&big)));
        // Who may see a dashboard's event is read when it is delivered: it must still exist.
        assert_eq!(next_event(stream).await.kind, EventKind::DashboardCreated);
    }
    a.engine.delete_dashboard(&alice, shared.id).await.unwrap();
    for stream in [&mut on_a, &mut viewer_on_b] {
        let deleted = next_event(stream).await;
        assert_eq!(deleted.kind, EventKind::DashboardDeleted);
        assert_eq!(deleted.dashboard_id, Some(shared.id));
        assert_quiet(stream).await;
    }

    // What the bus delivered is what was published, with its id.
    let envelopes = [
        recorded(&mut delivered).await,
        recorded(&mut delivered).await,
        recorded(&mut delivered).await,
        recorded(&mut delivered).await,
    ];
    assert_eq!(envelopes[0].event.payload.as_ref(), Some(&small));
    assert_eq!(envelopes[1].event.payload.as_ref(), Some(&big));
    assert_eq!(
        envelopes[3].reach,
        Reach::FormerViewers {
            owner_id: Some("alice".to_owned()),
            is_public: false,
            allowed_viewers: viewers,
        }
    );
    assert_eq!(
        envelopes.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    for envelope in &envelopes {
        let Replay::Events(replayed) = a.bus.replay("acme", envelope.event.id - 1).await.unwrap()
        else {
            panic!("event {} is kept", envelope.event.id);
        };
        assert_eq!(&replayed[0], envelope, "replay gives the same event");
    }

    // On the wire: the small event whole, the large ones as references.
    let payloads: Vec<serde_json::Value> = [
        raw.recv().await.unwrap(),
        raw.recv().await.unwrap(),
        raw.recv().await.unwrap(),
        raw.recv().await.unwrap(),
    ]
    .iter()
    .map(|n| {
        assert!(n.payload().len() <= MAX_INLINE_BYTES);
        serde_json::from_str(n.payload()).unwrap()
    })
    .collect();
    let whole: Envelope = serde_json::from_value(payloads[0].clone()).unwrap();
    assert_eq!(whole, envelopes[0]);
    for (payload, id) in [(&payloads[1], 2), (&payloads[3], 4)] {
        assert_eq!(payload, &serde_json::json!({"tenant_id": "acme", "id": id}));
    }
    assert!(
        payloads[2].get("event").is_some(),
        "a dashboard.created travels whole"
    );

    drop((on_a, viewer_on_b, a, b, raw));
    database.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publishers_get_consecutive_ids_received_in_order() {
    const TASKS: usize = 8;
    const EACH: usize = 25;
    let database = fresh_database().await;
    let a = instance(&database, 1_000).await;
    let b = instance(&database, 1_000).await;
    let alice = alice();
    let mut on_a = a
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();
    let mut on_b = b
        .engine
        .subscribe(&alice, EventFilter::all())
        .await
        .unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let engine = [&a, &b][task % 2].engine.clone();
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(EACH);
            for i in 0..EACH {
                let id = engine
                    .notify(
                        "acme",
                        Audience::Tenant,
                        "tick",
                        serde_json::json!({"task": task, "i": i}),
                    )
                    .await
                    .unwrap();
                ids.push(id);
            }
            ids
        });
    }
    let mut given = Vec::new();
    while let Some(ids) = tasks.join_next().await {
        let ids = ids.unwrap();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "one task's ids increase"
        );
        given.extend(ids);
    }
    given.sort_unstable();
    let all: Vec<u64> = (1..=u64::try_from(TASKS * EACH).unwrap()).collect();
    assert_eq!(given, all, "consecutive ids, none twice");

    for stream in [&mut on_a, &mut on_b] {
        assert_eq!(
            next_ids(stream, TASKS * EACH).await,
            all,
            "received in id order"
        );
        assert_quiet(stream).await;
    }
    let (last, kept): (i64, i64) = sqlx::query_as(
        "select (select last_id from prismiq.event_counters where tenant_id = 'acme'), \
                (select count(*) from prismiq.events where tenant_id = 'acme')",
    )
    .fetch_one(database.store().pool())
    .await
    .unwrap();
    assert_eq!((last, kept), (200, 200));

    drop((on_a, on_b, a, b));
    database.drop_database().await;
}

/// The bus refuses events beyond its maximum, and starts only on a channel PostgreSQL accepts.
#[tokio::test]
async fn oversized_events_and_invalid_channels_are_refused() {
    let database = fresh_database().await;
    let pool = database.store().pool().clone();
    let bus = database.store().event_bus().await.unwrap();
    let mut event = Event::new(EventKind::Notification, "acme");
    event.payload = Some(serde_json::json!("x".repeat(2 << 20)));
    let refused = bus
        .publish(Envelope {
            event,
            reach: Reach::Audience {
                audience: Audience::Tenant,
            },
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(prismiq_core::events::EventError::TooLarge { max, .. })
                if max == prismiq_store_postgres::MAX_EVENT_BYTES
        ),
        "{refused:?}"
    );
    for channel in ["", &"c".repeat(64)] {
        assert!(
            PgEventBus::connect_on_channel(pool.clone(), channel)
                .await
                .is_err()
        );
    }

    // A bus on another channel does not hear the default one; ids are the database's,
    // whatever the channel.
    let custom = PgEventBus::connect_on_channel(pool.clone(), "Custom Channel")
        .await
        .unwrap();
    assert_eq!(custom.channel(), "Custom Channel");
    let (sender, mut delivered) = mpsc::unbounded_channel();
    let recorder: Arc<dyn EventSink> = Arc::new(Recorder(sender));
    custom.attach(Arc::downgrade(&recorder));
    let envelope = || Envelope {
        event: Event::new(EventKind::Notification, "acme"),
        reach: Reach::Audience {
            audience: Audience::Tenant,
        },
    };
    assert_eq!(bus.publish(envelope()).await.unwrap(), 1);
    assert_eq!(custom.publish(envelope()).await.unwrap(), 2);
    assert_eq!(recorded(&mut delivered).await.event.id, 2);
    assert!(delivered.try_recv().is_err());

    drop((bus, custom));
    database.drop_database().await;
}
