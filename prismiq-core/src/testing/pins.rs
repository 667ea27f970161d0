//! Conformance cases of pins.

use super::*;

async fn pinned_order<S: FullStore>(
    store: &S,
    user: &str,
    context: &str,
) -> Vec<(DashboardId, u32)> {
    store
        .list_pins(&scope("t1"), user, context)
        .await
        .unwrap()
        .into_iter()
        .map(|(pin, dashboard)| {
            assert_eq!(
                pin.dashboard_id, dashboard.id,
                "each pin comes with its dashboard"
            );
            (pin.dashboard_id, pin.position)
        })
        .collect()
}

/// Pin positions are always `0..n-1`: append, insert, clamp, compact on unpin.
pub async fn pin_positions_stay_compact<S: FullStore>(store: &S) {
    let s = scope("t1");
    let mut ids = Vec::new();
    for name in ["p0", "p1", "p2", "p3"] {
        ids.push(
            create(store, "t1", new_dashboard(name, Some("alice"), vec![]))
                .await
                .id,
        );
    }
    let first = store
        .pin(&s, "alice", PinId::new(), ids[0], "home", None)
        .await
        .unwrap();
    assert_eq!(
        (first.dashboard_id, first.context.as_str(), first.position),
        (ids[0], "home", 0)
    );
    store
        .pin(&s, "alice", PinId::new(), ids[1], "home", None)
        .await
        .unwrap();
    let inserted = store
        .pin(&s, "alice", PinId::new(), ids[2], "home", Some(0))
        .await
        .unwrap();
    assert_eq!(inserted.position, 0, "explicit position honoured");
    let clamped = store
        .pin(&s, "alice", PinId::new(), ids[3], "home", Some(99))
        .await
        .unwrap();
    assert_eq!(clamped.position, 3, "a position past the end is clamped");
    assert_eq!(
        pinned_order(store, "alice", "home").await,
        [(ids[2], 0), (ids[0], 1), (ids[1], 2), (ids[3], 3)]
    );

    assert_conflict(
        store
            .pin(&s, "alice", PinId::new(), ids[0], "home", None)
            .await,
        Conflict::Pin,
        "pin twice",
    );
    assert_not_found(
        store
            .pin(&s, "alice", PinId::new(), DashboardId::new(), "home", None)
            .await,
        "pin a missing dashboard",
    );

    store.unpin(&s, "alice", ids[0], "home").await.unwrap();
    assert_eq!(
        pinned_order(store, "alice", "home").await,
        [(ids[2], 0), (ids[1], 1), (ids[3], 2)],
        "unpin closes the gap"
    );
    assert_not_found(
        store.unpin(&s, "alice", ids[0], "home").await,
        "unpin twice",
    );
}

/// Pins belong to one user and one context.
pub async fn pins_are_scoped_per_user_and_context<S: FullStore>(store: &S) {
    let s = scope("t1");
    let d = create(store, "t1", new_dashboard("D", Some("alice"), vec![])).await;
    let e = create(store, "t1", new_dashboard("E", Some("alice"), vec![])).await;
    store
        .pin(&s, "alice", PinId::new(), d.id, "home", None)
        .await
        .unwrap();
    store
        .pin(&s, "alice", PinId::new(), d.id, "accounts", None)
        .await
        .unwrap();
    store
        .pin(&s, "bob", PinId::new(), e.id, "home", None)
        .await
        .unwrap();

    assert_eq!(pinned_order(store, "alice", "home").await, [(d.id, 0)]);
    assert_eq!(pinned_order(store, "bob", "home").await, [(e.id, 0)]);
    assert!(pinned_order(store, "carol", "home").await.is_empty());
    assert_eq!(
        store.pin_contexts(&s, "alice", d.id).await.unwrap(),
        ["accounts".to_owned(), "home".to_owned()]
    );
    assert!(
        store
            .pin_contexts(&s, "bob", d.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(
        store.unpin(&s, "bob", d.id, "home").await,
        "unpin another user's pin",
    );
    assert!(
        store
            .list_pins(&scope("t2"), "alice", "home")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Reordering gives the listed dashboards the first positions, keeps the others in order after
/// them, and ignores ids that are not pinned there.
pub async fn reorder_pins_puts_listed_first<S: FullStore>(store: &S) {
    let s = scope("t1");
    let mut ids = Vec::new();
    for name in ["r0", "r1", "r2", "r3"] {
        let id = create(store, "t1", new_dashboard(name, Some("alice"), vec![]))
            .await
            .id;
        store
            .pin(&s, "alice", PinId::new(), id, "home", None)
            .await
            .unwrap();
        ids.push(id);
    }
    store
        .reorder_pins(&s, "alice", "home", &[ids[3], DashboardId::new(), ids[1]])
        .await
        .unwrap();
    assert_eq!(
        pinned_order(store, "alice", "home").await,
        [(ids[3], 0), (ids[1], 1), (ids[0], 2), (ids[2], 3)]
    );
    store
        .reorder_pins(&s, "alice", "empty", &[ids[0]])
        .await
        .expect("reorder an empty context");
    store
        .reorder_pins(&s, "bob", "home", &[ids[0]])
        .await
        .unwrap();
    assert_eq!(
        pinned_order(store, "alice", "home").await[0],
        (ids[3], 0),
        "bob's reorder touches only bob"
    );
}
