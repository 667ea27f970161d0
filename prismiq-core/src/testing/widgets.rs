//! Conformance cases of widgets and layouts.

use super::*;

/// Widget operations name a dashboard and never touch another dashboard's widgets.
pub async fn widget_operations_stay_within_their_dashboard<S: FullStore>(store: &S) {
    let a = create(
        store,
        "t1",
        new_dashboard("A", Some("alice"), vec![widget("a", 0, 0)]),
    )
    .await;
    let b = create(
        store,
        "t1",
        new_dashboard("B", Some("alice"), vec![widget("b", 0, 0)]),
    )
    .await;
    let s = scope("t1");
    let wb = b.widgets[0].id;

    assert_not_found(
        store.update_widget(&s, a.id, wb, widget("x", 0, 0)).await,
        "update B's widget via A",
    );
    assert_not_found(
        store.delete_widget(&s, a.id, wb).await,
        "delete B's widget via A",
    );
    let after = store
        .update_layout(&s, a.id, &[(wb, WidgetPosition::new(5, 5, 1, 1).unwrap())])
        .await
        .unwrap();
    assert_eq!(after.widgets, a.widgets, "layout of A ignores B's widget");
    assert_eq!(
        get(store, "t1", b.id).await.unwrap().widgets,
        b.widgets,
        "B untouched"
    );

    let added = store
        .add_widget(&s, a.id, WidgetId::new(), widget("added", 0, 3), None)
        .await
        .unwrap();
    assert_conflict(
        store
            .add_widget(&s, a.id, wb, widget("dup id", 0, 0), None)
            .await,
        Conflict::WidgetId,
        "add a widget with an id in use",
    );
    let updated = store
        .update_widget(&s, a.id, added.id, widget("renamed", 4, 3))
        .await
        .unwrap();
    assert_eq!(updated.id, added.id);
    assert_eq!(updated.title, "renamed");
    assert_eq!(updated.created_at, added.created_at);
    store.delete_widget(&s, a.id, added.id).await.unwrap();
    assert_not_found(
        store.delete_widget(&s, a.id, added.id).await,
        "delete a widget twice",
    );
    assert_not_found(
        store
            .add_widget(
                &s,
                DashboardId::new(),
                WidgetId::new(),
                widget("x", 0, 0),
                None,
            )
            .await,
        "add to a missing dashboard",
    );
}

/// `add_widget` with a cap refuses the widget past it.
pub async fn widget_limit_is_enforced<S: FullStore>(store: &S) {
    let d = create(
        store,
        "t1",
        new_dashboard("D", Some("alice"), vec![widget("1", 0, 0)]),
    )
    .await;
    let s = scope("t1");
    store
        .add_widget(&s, d.id, WidgetId::new(), widget("2", 0, 3), Some(2))
        .await
        .expect("second widget within the cap");
    match store
        .add_widget(&s, d.id, WidgetId::new(), widget("3", 0, 6), Some(2))
        .await
    {
        Err(StoreError::LimitReached) => {}
        other => panic!("third widget past a cap of 2: expected LimitReached, got {other:?}"),
    }
    assert_eq!(get(store, "t1", d.id).await.unwrap().widgets.len(), 2);
}

/// A layout update moves the listed widgets of the dashboard and skips unknown ids.
pub async fn layout_update_moves_known_widgets_only<S: FullStore>(store: &S) {
    let d = create(
        store,
        "t1",
        new_dashboard(
            "L",
            Some("alice"),
            vec![widget("first", 0, 0), widget("second", 4, 0)],
        ),
    )
    .await;
    tick().await;
    let first = d.widgets[0].id;
    let second = d.widgets[1].id;
    let moved = store
        .update_layout(
            &scope("t1"),
            d.id,
            &[
                (second, WidgetPosition::new(0, 0, 6, 2).unwrap()),
                (first, WidgetPosition::new(0, 2, 12, 4).unwrap()),
                (WidgetId::new(), WidgetPosition::new(0, 9, 1, 1).unwrap()),
            ],
        )
        .await
        .unwrap();
    let ids: Vec<WidgetId> = moved.widgets.iter().map(|w| w.id).collect();
    assert_eq!(
        ids,
        [second, first],
        "display order follows the new positions"
    );
    assert_eq!(
        moved.widgets[0].position,
        WidgetPosition::new(0, 0, 6, 2).unwrap()
    );
    assert_eq!(
        moved.widgets[1].position,
        WidgetPosition::new(0, 2, 12, 4).unwrap()
    );
    assert_eq!(moved.widgets[1].title, "first", "only the position changes");
    assert!(moved.updated_at > d.updated_at);
    assert_eq!(get(store, "t1", d.id).await.unwrap(), moved);
    assert_not_found(
        store
            .update_layout(&scope("t1"), DashboardId::new(), &[])
            .await,
        "layout of a missing dashboard",
    );
}

/// Adding, changing or deleting a widget sets the dashboard's `updated_at`.
pub async fn widget_changes_bump_dashboard_updated_at<S: FullStore>(store: &S) {
    let s = scope("t1");
    let d = create(store, "t1", new_dashboard("U", Some("alice"), vec![])).await;
    tick().await;
    let w = store
        .add_widget(&s, d.id, WidgetId::new(), widget("w", 0, 0), None)
        .await
        .unwrap();
    let after_add = get(store, "t1", d.id).await.unwrap().updated_at;
    assert!(after_add > d.updated_at, "add bumps");
    tick().await;
    store
        .update_widget(&s, d.id, w.id, widget("w2", 0, 0))
        .await
        .unwrap();
    let after_update = get(store, "t1", d.id).await.unwrap().updated_at;
    assert!(after_update > after_add, "update bumps");
    tick().await;
    store.delete_widget(&s, d.id, w.id).await.unwrap();
    assert!(
        get(store, "t1", d.id).await.unwrap().updated_at > after_update,
        "delete bumps"
    );
}
