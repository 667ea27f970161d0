//! Conformance cases of live events: an [`Engine`] over the store, with the in-process bus.
//! One concern, the event rules as every store must let them hold; long because each case
//! walks every kind of change.
//! They check what the store adds to events (the access fields of `dashboard_access`, and
//! that a failed write commits nothing and so emits nothing) together with the engine's rules.

use std::sync::Arc;

use futures_util::FutureExt;

use super::*;
use crate::auth::SimpleAuthContext;
use crate::engine::Engine;
use crate::error::{EngineError, Violation};
use crate::events::{
    Audience, EventFilter, EventKind, EventSettings, EventStream, InProcessBus, Message,
};
use crate::model::{
    DashboardCreate, DashboardUpdate, LayoutItem, PinRequest, ReorderPinsRequest, SavedQueryCreate,
    SavedQueryUpdate, ShareCreate, TemplateCreate, UnpinRequest, WidgetCreate, WidgetUpdate,
};
use crate::store::SchemaConfigStore;

/// A store an [`Engine`] runs on.
pub trait EngineStore: FullStore + SchemaConfigStore {}
impl<T: FullStore + SchemaConfigStore> EngineStore for T {}

fn engine<S: EngineStore>(store: S) -> Engine {
    Engine::new(store)
}

fn user(tenant: &str, user: &str) -> SimpleAuthContext {
    SimpleAuthContext::new(tenant).with_user(user)
}

fn admin(tenant: &str) -> SimpleAuthContext {
    SimpleAuthContext::new(tenant)
        .with_user("root")
        .with_admin(true)
}

/// The messages a subscription holds now. With the in-process bus an event is in every
/// subscription when the change that raised it returns.
fn drain(stream: &mut EventStream) -> Vec<Message> {
    let mut messages = Vec::new();
    while let Some(Some(message)) = stream.next_message().now_or_never() {
        messages.push(message);
    }
    messages
}

fn kinds(messages: &[Message]) -> Vec<EventKind> {
    messages
        .iter()
        .map(|m| match m {
            Message::Event(event) => event.kind,
            other => panic!("expected only events, got {other:?}"),
        })
        .collect()
}

async fn subscribe(engine: &Engine, auth: &SimpleAuthContext) -> EventStream {
    engine
        .subscribe(auth, EventFilter::all())
        .await
        .expect("subscribe")
}

fn widget_create(title: &str) -> WidgetCreate {
    WidgetCreate::new(
        WidgetType::Text,
        title,
        WidgetPosition::new(0, 0, 4, 2).expect("valid position"),
    )
}

/// Every kind of committed change emits exactly one event, after it commits, with its ids and
/// actor; a change that fails (a taken name, a rule broken, no permission, a missing object)
/// emits nothing.
pub async fn each_change_emits_one_event<S: EngineStore>(store: S) {
    let engine = engine(store);
    let alice = user("t1", "alice");
    let bob = user("t1", "bob");
    let mut watch = subscribe(&engine, &admin("t1")).await;

    let dashboard = engine
        .create_dashboard(&alice, DashboardCreate::named("Sales"))
        .await
        .expect("create");
    let widget = engine
        .add_widget(&alice, dashboard.id, widget_create("Notes"))
        .await
        .expect("add widget");
    let update = WidgetUpdate {
        title: Some("Notes 2".to_owned()),
        ..WidgetUpdate::default()
    };
    engine
        .update_widget(&alice, dashboard.id, widget.id, update)
        .await
        .expect("update widget");
    let copy = engine
        .duplicate_widget(&alice, dashboard.id, widget.id)
        .await
        .expect("duplicate");
    let moved = LayoutItem {
        widget_id: widget.id.to_string(),
        position: WidgetPosition::new(4, 0, 4, 2).expect("valid position"),
    };
    engine
        .update_layout(&alice, dashboard.id, vec![moved])
        .await
        .expect("layout");
    engine
        .delete_widget(&alice, dashboard.id, copy.id)
        .await
        .expect("delete widget");
    let rename = DashboardUpdate {
        name: Some("Sales 2".to_owned()),
        ..DashboardUpdate::default()
    };
    engine
        .update_dashboard(&alice, dashboard.id, rename)
        .await
        .expect("update dashboard");
    engine
        .pin_dashboard(&alice, PinRequest::new(dashboard.id.to_string(), "home"))
        .await
        .expect("pin");
    engine
        .reorder_pins(
            &alice,
            ReorderPinsRequest::new("home", vec![dashboard.id.to_string()]),
        )
        .await
        .expect("reorder");
    engine
        .unpin_dashboard(&alice, UnpinRequest::new(dashboard.id.to_string(), "home"))
        .await
        .expect("unpin");
    let query = engine
        .create_saved_query(&alice, SavedQueryCreate::new("Revenue", sample_query()))
        .await
        .expect("saved query");
    let shared = SavedQueryUpdate {
        is_shared: Some(true),
        ..SavedQueryUpdate::default()
    };
    engine
        .update_saved_query(&alice, query.id, shared)
        .await
        .expect("update saved query");
    engine
        .delete_saved_query(&alice, query.id)
        .await
        .expect("delete saved query");
    let share = engine
        .create_share(&alice, dashboard.id, ShareCreate::default())
        .await
        .expect("share");
    engine
        .revoke_share(&alice, dashboard.id, share.id)
        .await
        .expect("revoke");
    let template = TemplateCreate {
        name: "Sales template".to_owned(),
        description: None,
        category: None,
    };
    let template = engine
        .save_template(&alice, dashboard.id, template)
        .await
        .expect("template");
    engine
        .delete_template(&alice, &template.id)
        .await
        .expect("delete template");
    engine
        .delete_dashboard(&alice, dashboard.id)
        .await
        .expect("delete dashboard");

    let messages = drain(&mut watch);
    assert_eq!(
        kinds(&messages),
        [
            EventKind::DashboardCreated,
            EventKind::WidgetCreated,
            EventKind::WidgetUpdated,
            EventKind::WidgetCreated,
            EventKind::LayoutUpdated,
            EventKind::WidgetDeleted,
            EventKind::DashboardUpdated,
            EventKind::SavedQueryCreated,
            EventKind::SavedQueryUpdated,
            EventKind::SavedQueryDeleted,
            EventKind::ShareCreated,
            EventKind::ShareDeleted,
            EventKind::TemplateCreated,
            EventKind::TemplateDeleted,
            EventKind::DashboardDeleted,
        ],
        "an admin sees every change but the pins, which are Alice's own"
    );
    let events: Vec<_> = messages
        .iter()
        .map(|m| match m {
            Message::Event(event) => event.clone(),
            _ => unreachable!(),
        })
        .collect();
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids increase");
    for event in &events {
        assert_eq!(event.tenant_id, "t1");
        assert_eq!(event.actor.as_deref(), Some("alice"));
        assert!(event.payload.is_none(), "events carry ids, not documents");
    }
    assert_eq!(events[1].widget_id, Some(widget.id));
    assert_eq!(events[1].dashboard_id, Some(dashboard.id));
    assert_eq!(events[3].widget_id, Some(copy.id));
    assert_eq!(events[7].saved_query_id, Some(query.id));
    assert_eq!(events[10].share_id, Some(share.id));
    assert_eq!(
        events[12].template_id.map(|id| id.to_string()),
        Some(template.id.clone())
    );
    assert_eq!(events[14].dashboard_id, Some(dashboard.id));

    // Failed changes emit nothing.
    let kept = engine
        .create_dashboard(&alice, DashboardCreate::named("Kept"))
        .await
        .expect("create");
    drain(&mut watch);
    assert!(matches!(
        engine
            .create_dashboard(&alice, DashboardCreate::named("Kept"))
            .await,
        Err(EngineError::Conflict { .. })
    ));
    assert!(
        engine
            .update_dashboard(&bob, kept.id, DashboardUpdate::default())
            .await
            .is_err(),
        "bob may not edit it"
    );
    let too_wide = WidgetCreate::new(
        WidgetType::Text,
        "Wide",
        WidgetPosition::new(10, 0, 4, 2).expect("valid position"),
    );
    assert!(engine.add_widget(&alice, kept.id, too_wide).await.is_err());
    assert!(
        engine
            .delete_widget(&alice, kept.id, WidgetId::new())
            .await
            .is_err()
    );
    assert!(
        engine
            .delete_dashboard(&alice, DashboardId::new())
            .await
            .is_err()
    );
    let mut save = serde_json::from_value::<DashboardUpdate>(json!({
        "widgets": [
            {"type": "text", "title": "A", "position": {"x": 0, "y": 0, "w": 4, "h": 2}},
            {"type": "no_such_type", "title": "B", "position": {"x": 4, "y": 0, "w": 4, "h": 2}}
        ]
    }))
    .expect("update body");
    save.name = Some("Renamed".to_owned());
    assert!(
        engine
            .update_dashboard(&alice, kept.id, save)
            .await
            .is_err()
    );
    assert_eq!(
        drain(&mut watch),
        Vec::<Message>::new(),
        "a failed change emits nothing"
    );
    let current = engine.get_dashboard(&alice, kept.id).await.expect("get");
    assert_eq!(current.name, "Kept", "and commits nothing");
}

/// Events reach only who may see them when they are delivered: dashboard events the
/// dashboard's viewers (and admins), so a viewer added starts receiving them and a viewer
/// removed stops; pin events their user; saved-query events who may read the query; nothing
/// crosses tenants; a deleted dashboard's event goes to who could view it.
pub async fn events_reach_only_who_may_see_them<S: EngineStore>(store: S) {
    let engine = engine(store);
    let alice = user("t1", "alice");
    let bob = user("t1", "bob");
    let mut to_alice = subscribe(&engine, &alice).await;
    let mut to_bob = subscribe(&engine, &bob).await;
    let mut to_admin = subscribe(&engine, &admin("t1")).await;
    let mut to_other_tenant = subscribe(&engine, &admin("t2")).await;
    let mut anonymous = subscribe(&engine, &SimpleAuthContext::new("t1")).await;

    let private = engine
        .create_dashboard(&alice, DashboardCreate::named("Private"))
        .await
        .expect("create");
    engine
        .add_widget(&alice, private.id, widget_create("Notes"))
        .await
        .expect("add widget");
    assert_eq!(kinds(&drain(&mut to_alice)).len(), 2);
    assert_eq!(kinds(&drain(&mut to_admin)).len(), 2);
    assert!(drain(&mut to_bob).is_empty(), "bob may not view it");
    assert!(drain(&mut anonymous).is_empty());

    // Bob is added: the change that adds him is the first he sees.
    let share_with_bob = DashboardUpdate {
        allowed_viewers: Some(vec!["bob".to_owned()]),
        ..DashboardUpdate::default()
    };
    engine
        .update_dashboard(&alice, private.id, share_with_bob)
        .await
        .expect("share");
    engine
        .add_widget(&alice, private.id, widget_create("More"))
        .await
        .expect("add widget");
    assert_eq!(
        kinds(&drain(&mut to_bob)),
        [EventKind::DashboardUpdated, EventKind::WidgetCreated]
    );

    // Bob is removed: from that change on, he sees nothing of it.
    let unshare = DashboardUpdate {
        allowed_viewers: Some(Vec::new()),
        ..DashboardUpdate::default()
    };
    engine
        .update_dashboard(&alice, private.id, unshare)
        .await
        .expect("unshare");
    engine
        .add_widget(&alice, private.id, widget_create("Secret"))
        .await
        .expect("add widget");
    assert!(
        drain(&mut to_bob).is_empty(),
        "a removed viewer stops at once"
    );
    assert_eq!(kinds(&drain(&mut to_alice)).len(), 4);

    // Public dashboards reach every user of the tenant, anonymous ones included.
    let mut public = DashboardCreate::named("Public");
    public.is_public = true;
    let public = engine
        .create_dashboard(&alice, public)
        .await
        .expect("public");
    assert_eq!(kinds(&drain(&mut to_bob)), [EventKind::DashboardCreated]);
    assert_eq!(kinds(&drain(&mut anonymous)), [EventKind::DashboardCreated]);

    // Pins are the user's own, even on a public dashboard.
    engine
        .pin_dashboard(&alice, PinRequest::new(public.id.to_string(), "home"))
        .await
        .expect("pin");
    assert_eq!(
        kinds(&drain(&mut to_alice)),
        [EventKind::DashboardCreated, EventKind::PinCreated]
    );
    assert!(drain(&mut to_bob).is_empty());
    assert!(
        drain(&mut to_admin).iter().all(|m| !matches!(m,
        Message::Event(e) if e.kind == EventKind::PinCreated)),
        "pins are not the admin's"
    );

    // Saved queries: private ones reach their owner and admins, shared ones everyone.
    let query = engine
        .create_saved_query(&alice, SavedQueryCreate::new("Mine", sample_query()))
        .await
        .expect("saved query");
    assert_eq!(kinds(&drain(&mut to_alice)), [EventKind::SavedQueryCreated]);
    assert_eq!(kinds(&drain(&mut to_admin)), [EventKind::SavedQueryCreated]);
    assert!(drain(&mut to_bob).is_empty());
    let shared = SavedQueryUpdate {
        is_shared: Some(true),
        ..SavedQueryUpdate::default()
    };
    engine
        .update_saved_query(&alice, query.id, shared)
        .await
        .expect("share query");
    assert_eq!(kinds(&drain(&mut to_bob)), [EventKind::SavedQueryUpdated]);

    // A deleted dashboard's event reaches who could view it, and no one else.
    engine
        .delete_dashboard(&alice, private.id)
        .await
        .expect("delete");
    assert_eq!(
        kinds(&drain(&mut to_alice)),
        [EventKind::SavedQueryUpdated, EventKind::DashboardDeleted]
    );
    assert_eq!(
        kinds(&drain(&mut to_admin)),
        [EventKind::SavedQueryUpdated, EventKind::DashboardDeleted]
    );
    assert!(drain(&mut to_bob).is_empty());
    assert!(drain(&mut anonymous).iter().all(|m| !matches!(m,
        Message::Event(e) if e.kind == EventKind::DashboardDeleted)));

    // Share links are managed by the dashboard's editors: bob, a viewer of the public
    // dashboard, does not hear of them.
    engine
        .create_share(&alice, public.id, ShareCreate::default())
        .await
        .expect("share link");
    assert_eq!(kinds(&drain(&mut to_alice)), [EventKind::ShareCreated]);
    assert_eq!(kinds(&drain(&mut to_admin)), [EventKind::ShareCreated]);
    assert!(drain(&mut to_bob).is_empty());

    assert!(
        drain(&mut to_other_tenant).is_empty(),
        "nothing crosses tenants"
    );

    // Filters: kinds and dashboards.
    let mut layouts = engine
        .subscribe(
            &alice,
            EventFilter::all()
                .with_kinds([EventKind::WidgetCreated])
                .with_dashboards([public.id]),
        )
        .await
        .expect("subscribe");
    let other = engine
        .create_dashboard(&alice, DashboardCreate::named("Other"))
        .await
        .expect("create");
    engine
        .add_widget(&alice, other.id, widget_create("Elsewhere"))
        .await
        .expect("add");
    let added = engine
        .add_widget(&alice, public.id, widget_create("Here"))
        .await
        .expect("add");
    let messages = drain(&mut layouts);
    assert_eq!(kinds(&messages), [EventKind::WidgetCreated]);
    assert!(matches!(&messages[0], Message::Event(e) if e.widget_id == Some(added.id)));
}

/// Resume: a subscriber giving the last id it saw gets what came after it (as it may see it
/// now); from before the kept window, or an id never given, it is told to refetch.
pub async fn resume_replays_or_resets<S: EngineStore>(store: S) {
    let engine = engine(store).with_event_bus(Arc::new(InProcessBus::new().with_window(4)));
    let alice = user("t1", "alice");
    let bob = user("t1", "bob");
    let mut watch = subscribe(&engine, &alice).await;
    let dashboard = engine
        .create_dashboard(&alice, DashboardCreate::named("Resume"))
        .await
        .expect("create");
    for i in 0..5 {
        engine
            .add_widget(&alice, dashboard.id, widget_create(&format!("W{i}")))
            .await
            .expect("add");
    }
    let ids: Vec<u64> = drain(&mut watch).iter().filter_map(Message::id).collect();
    assert_eq!(ids.len(), 6);

    // Inside the window.
    let mut resumed = engine
        .subscribe(&alice, EventFilter::all().after(ids[3]))
        .await
        .expect("resume");
    let replayed: Vec<u64> = drain(&mut resumed).iter().filter_map(Message::id).collect();
    assert_eq!(replayed, ids[4..]);
    // Live events follow, without repeating the replayed ones.
    engine
        .add_widget(&alice, dashboard.id, widget_create("Live"))
        .await
        .expect("add");
    let live = drain(&mut resumed);
    assert_eq!(kinds(&live), [EventKind::WidgetCreated]);
    assert!(live[0].id() > ids.last().copied());

    // Replay applies the view rule too.
    let mut bobs = engine
        .subscribe(&bob, EventFilter::all().after(ids[3]))
        .await
        .expect("resume");
    assert!(drain(&mut bobs).is_empty());

    // Before the window, and an id never given: a reset, then live events.
    for after in [ids[0], ids[5] + 100] {
        let mut stale = engine
            .subscribe(&alice, EventFilter::all().after(after))
            .await
            .expect("resume");
        let messages = drain(&mut stale);
        assert!(
            matches!(messages.as_slice(), [Message::Reset { .. }]),
            "{after}: {messages:?}"
        );
        engine
            .add_widget(&alice, dashboard.id, widget_create("After reset"))
            .await
            .expect("add");
        assert_eq!(kinds(&drain(&mut stale)), [EventKind::WidgetCreated]);
    }
}

/// A subscriber that falls further behind than its buffer gets `lagged` and its stream ends;
/// the others are not held back. Connections beyond the limits are refused, and closing one
/// frees its place.
pub async fn slow_subscribers_are_cut_off_and_connections_limited<S: EngineStore>(store: S) {
    let settings = EventSettings::default()
        .with_buffer(4)
        .with_max_connections_per_user(2)
        .with_max_connections_per_tenant(3);
    let engine = engine(store).with_event_settings(settings);
    let alice = user("t1", "alice");
    let mut slow = subscribe(&engine, &alice).await;
    let mut fast = subscribe(&engine, &alice).await;
    let dashboard = engine
        .create_dashboard(&alice, DashboardCreate::named("Busy"))
        .await
        .expect("create");
    let mut seen = kinds(&drain(&mut fast)).len();
    for i in 0..8 {
        engine
            .add_widget(&alice, dashboard.id, widget_create(&format!("W{i}")))
            .await
            .expect("add");
        seen += kinds(&drain(&mut fast)).len();
    }
    assert_eq!(seen, 9, "a subscriber keeping up misses nothing");
    let messages = drain(&mut slow);
    assert!(
        matches!(messages.as_slice(), [Message::Lagged { skipped }] if *skipped > 0),
        "{messages:?}"
    );
    assert_eq!(
        slow.next_message().await,
        None,
        "the stream ends after lagged"
    );
    assert_eq!(slow.next_message().await, None);

    // Limits. The ended stream gave its place back: alice holds `fast` and may open one more.
    let second = subscribe(&engine, &alice).await;
    assert!(matches!(
        engine.subscribe(&alice, EventFilter::all()).await,
        Err(EngineError::TooManyConnections {
            per: "user",
            max: 2
        })
    ));
    drop(second);
    let third = subscribe(&engine, &alice).await;
    let _bob = subscribe(&engine, &user("t1", "bob")).await;
    assert!(matches!(
        engine
            .subscribe(&user("t1", "carol"), EventFilter::all())
            .await,
        Err(EngineError::TooManyConnections {
            per: "tenant",
            max: 3
        })
    ));
    let _elsewhere = subscribe(&engine, &user("t2", "carol")).await;
    drop((fast, third));
    let mut carol = subscribe(&engine, &user("t1", "carol")).await;

    // A shutdown ends every subscription; new ones may open, and one still held from before
    // gives back no place of theirs when it goes.
    let held = subscribe(&engine, &user("t1", "dave")).await;
    engine.close_subscriptions();
    assert_eq!(carol.next_message().await, None);
    let mut again = subscribe(&engine, &user("t1", "carol")).await;
    drop(held);
    engine
        .create_dashboard(&user("t1", "carol"), DashboardCreate::named("After"))
        .await
        .expect("create");
    assert_eq!(kinds(&drain(&mut again)), [EventKind::DashboardCreated]);
}

/// Host notifications reach exactly their audience: named users, users with a role, or the
/// whole tenant; never another tenant. Bad kinds, empty audiences and payloads over the limit
/// are refused.
pub async fn notifications_reach_exactly_their_audience<S: EngineStore>(store: S) {
    let engine =
        engine(store).with_event_settings(EventSettings::default().with_max_notification_bytes(64));
    let alice = user("t1", "alice").with_roles(["billing"]);
    let bob = user("t1", "bob").with_roles(["ops", "billing"]);
    let carol = user("t1", "carol");
    let mut streams = Vec::new();
    for auth in [&alice, &bob, &carol, &admin("t1"), &user("t2", "alice")] {
        streams.push(subscribe(&engine, auth).await);
    }
    let mut received = async |audience: Audience| {
        engine
            .notify("t1", audience, "payment_due", json!({"invoice": 42}))
            .await
            .expect("notify");
        streams
            .iter_mut()
            .map(|s| {
                let messages = drain(s);
                for message in &messages {
                    let Message::Event(event) = message else {
                        panic!("{message:?}")
                    };
                    assert_eq!(event.kind, EventKind::Notification);
                    assert_eq!(event.notification.as_deref(), Some("payment_due"));
                    assert_eq!(event.payload, Some(json!({"invoice": 42})));
                    assert_eq!(event.actor, None);
                }
                messages.len()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        received(Audience::users(["alice", "carol"])).await,
        [1, 0, 1, 0, 0]
    );
    assert_eq!(
        received(Audience::roles(["billing"])).await,
        [1, 1, 0, 0, 0]
    );
    assert_eq!(
        received(Audience::roles(["ops", "sales"])).await,
        [0, 1, 0, 0, 0]
    );
    assert_eq!(received(Audience::Tenant).await, [1, 1, 1, 1, 0]);

    for kind in ["", "Payment", "a b", &"x".repeat(65)] {
        assert!(
            matches!(
                engine
                    .notify("t1", Audience::Tenant, kind, json!(null))
                    .await,
                Err(EngineError::Invalid(Violation::NotificationKind(_)))
            ),
            "kind {kind:?}"
        );
    }
    assert!(matches!(
        engine
            .notify(
                "t1",
                Audience::users(Vec::<String>::new()),
                "x",
                json!(null)
            )
            .await,
        Err(EngineError::Invalid(Violation::EmptyAudience))
    ));
    let big = json!({"text": "y".repeat(64)});
    assert!(matches!(
        engine.notify("t1", Audience::Tenant, "x", big).await,
        Err(EngineError::LimitExceeded {
            limit: crate::error::Limit::NotificationBytes,
            ..
        })
    ));
}

/// `dashboard_access` answers the access fields of the dashboard as it is now, in its tenant
/// only.
pub async fn dashboard_access_is_the_access_fields<S: FullStore>(store: &S) {
    let mut new = new_dashboard("Access", Some("alice"), vec![widget("W", 0, 0)]);
    new.allowed_viewers = vec!["bob".to_owned(), "carol".to_owned()];
    let dashboard = create(store, "t1", new).await;
    let access = |tenant: &'static str, id| async move {
        store
            .dashboard_access(&scope(tenant), id)
            .await
            .expect("dashboard access")
    };
    assert_eq!(
        access("t1", dashboard.id).await,
        Some(crate::permissions::DashboardAccess::of(&dashboard))
    );
    assert_eq!(access("t2", dashboard.id).await, None, "another tenant's");
    assert_eq!(access("t1", DashboardId::new()).await, None, "missing");
    let changes = DashboardChanges {
        is_public: Some(true),
        allowed_viewers: Some(Vec::new()),
        ..DashboardChanges::default()
    };
    store
        .update_dashboard(&scope("t1"), dashboard.id, changes)
        .await
        .expect("update");
    let now = access("t1", dashboard.id).await.expect("still there");
    assert!(now.is_public && now.allowed_viewers.is_empty(), "{now:?}");
    assert_eq!(now.owner_id.as_deref(), Some("alice"));
}
