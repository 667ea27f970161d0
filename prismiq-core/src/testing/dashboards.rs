//! Conformance cases of dashboards and their widgets.

use super::*;

/// Create, then read back: every field survives, widgets come in row-then-column order.
pub async fn dashboard_round_trip<S: FullStore>(store: &S) {
    let mut new = new_dashboard(
        "Sales",
        Some("alice"),
        vec![
            widget("bottom", 0, 5),
            widget("top right", 6, 0),
            widget("top left", 0, 0),
        ],
    );
    new.is_public = true;
    new.allowed_viewers = vec!["bob".to_owned()];
    new.layout.columns = 24;
    let expected_ids: Vec<WidgetId> = new.widgets.iter().map(|(id, _)| *id).collect();
    let created = create(store, "t1", new.clone()).await;

    assert_eq!(created.id, new.id);
    assert_eq!(created.name, "Sales");
    assert_eq!(created.description, new.description);
    assert_eq!(created.layout, new.layout);
    assert_eq!(created.filters, new.filters);
    assert_eq!(created.owner_id.as_deref(), Some("alice"));
    assert!(created.is_public);
    assert_eq!(created.allowed_viewers, vec!["bob".to_owned()]);
    assert_eq!(created.created_at, created.updated_at);
    let titles: Vec<&str> = created.widgets.iter().map(|w| w.title.as_str()).collect();
    assert_eq!(titles, ["top left", "top right", "bottom"], "widget order");
    for id in expected_ids {
        assert!(created.widgets.iter().any(|w| w.id == id), "widget id kept");
    }
    let w = created
        .widgets
        .iter()
        .find(|w| w.title == "top right")
        .unwrap();
    assert_eq!(w.query, Some(sample_query()));
    assert_eq!(
        w.config.builtin().and_then(|c| c.fiscal_year_start_month),
        Some(4)
    );
    assert_eq!(w.position, WidgetPosition::new(6, 0, 4, 3).unwrap());

    let loaded = get(store, "t1", created.id)
        .await
        .expect("dashboard exists");
    assert_eq!(loaded, created, "read back equals what create returned");
    assert!(get(store, "t1", DashboardId::new()).await.is_none());
}

/// Listing returns exactly what the viewer may view, most recently updated first.
pub async fn dashboard_list_filters_by_viewer_and_orders_by_update<S: FullStore>(store: &S) {
    let own = create(
        store,
        "t1",
        new_dashboard("alice private", Some("alice"), vec![]),
    )
    .await;
    tick().await;
    let mut public = new_dashboard("bob public", Some("bob"), vec![]);
    public.is_public = true;
    let public = create(store, "t1", public).await;
    tick().await;
    let mut shared = new_dashboard("bob shared", Some("bob"), vec![]);
    shared.allowed_viewers = vec!["alice".to_owned()];
    let shared = create(store, "t1", shared).await;
    tick().await;
    let hidden = create(
        store,
        "t1",
        new_dashboard("bob private", Some("bob"), vec![]),
    )
    .await;
    tick().await;
    let ownerless = create(store, "t1", new_dashboard("nobody's", None, vec![])).await;

    let ids = |list: Vec<Dashboard>| list.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let list = |viewer: Viewer| async move { list(store, &scope("t1"), &viewer).await };
    assert_eq!(
        ids(list(Viewer::User("alice".to_owned())).await),
        [shared.id, public.id, own.id]
    );
    assert_eq!(ids(list(Viewer::Anonymous).await), [public.id]);
    assert_eq!(
        ids(list(Viewer::Admin).await),
        [ownerless.id, hidden.id, shared.id, public.id, own.id]
    );

    tick().await;
    store
        .update_dashboard(
            &scope("t1"),
            own.id,
            DashboardChanges {
                description: Patch::Null,
                ..DashboardChanges::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(
        ids(list(Viewer::User("alice".to_owned())).await),
        [own.id, shared.id, public.id],
        "an update moves the dashboard to the front"
    );
}

/// Nothing of one tenant is visible to or changeable by another.
pub async fn tenants_are_isolated<S: FullStore>(store: &S) {
    let mut new = new_dashboard("Shared name", Some("alice"), vec![widget("w", 0, 0)]);
    new.is_public = true;
    let a = create(store, "tenant-a", new).await;
    let wid = a.widgets[0].id;
    let b = scope("tenant-b");

    assert!(get(store, "tenant-b", a.id).await.is_none());
    assert!(list(store, &b, &Viewer::Admin).await.is_empty());
    assert_not_found(
        store
            .update_dashboard(
                &b,
                a.id,
                DashboardChanges {
                    name: Some("stolen".to_owned()),
                    ..DashboardChanges::default()
                },
            )
            .await,
        "update another tenant's dashboard",
    );
    assert_not_found(
        store.delete_dashboard(&b, a.id).await,
        "delete another tenant's dashboard",
    );
    assert_not_found(
        store
            .add_widget(&b, a.id, WidgetId::new(), widget("x", 0, 0), None)
            .await,
        "add a widget to another tenant's dashboard",
    );
    assert_not_found(
        store.update_widget(&b, a.id, wid, widget("x", 0, 0)).await,
        "update another tenant's widget",
    );
    assert_not_found(
        store.delete_widget(&b, a.id, wid).await,
        "delete another tenant's widget",
    );
    assert_not_found(
        store
            .update_layout(&b, a.id, &[(wid, WidgetPosition::new(1, 1, 1, 1).unwrap())])
            .await,
        "layout of another tenant's dashboard",
    );
    assert_not_found(
        store
            .pin(&b, "alice", PinId::new(), a.id, "home", None)
            .await,
        "pin another tenant's dashboard",
    );

    // The same name is free in another tenant.
    create(
        store,
        "tenant-b",
        new_dashboard("Shared name", Some("alice"), vec![]),
    )
    .await;

    let q = store
        .create_saved_query(
            &scope("tenant-a"),
            new_saved_query("q", Some("alice"), true),
        )
        .await
        .unwrap();
    assert!(store.get_saved_query(&b, q.id).await.unwrap().is_none());
    assert!(
        store
            .list_saved_queries(&b, &Viewer::Admin)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(
        store
            .update_saved_query(
                &b,
                q.id,
                SavedQueryChanges {
                    is_shared: Some(false),
                    ..SavedQueryChanges::default()
                },
            )
            .await,
        "update another tenant's saved query",
    );
    assert_not_found(
        store.delete_saved_query(&b, q.id).await,
        "delete another tenant's saved query",
    );

    // Tenant A is untouched.
    let still = get(store, "tenant-a", a.id).await.expect("still there");
    assert_eq!(still, a);
    assert!(
        store
            .get_saved_query(&scope("tenant-a"), q.id)
            .await
            .unwrap()
            .is_some()
    );
}

/// Dashboard names are unique per tenant, on create and on rename.
pub async fn dashboard_names_are_unique_per_tenant<S: FullStore>(store: &S) {
    create(store, "t1", new_dashboard("Sales", Some("alice"), vec![])).await;
    let other = create(store, "t1", new_dashboard("Costs", Some("bob"), vec![])).await;
    assert_conflict(
        store
            .create_dashboard(
                &scope("t1"),
                new_dashboard("Sales", Some("bob"), vec![]),
                None,
            )
            .await,
        Conflict::DashboardName,
        "create with a taken name",
    );
    assert_conflict(
        store
            .update_dashboard(
                &scope("t1"),
                other.id,
                DashboardChanges {
                    name: Some("Sales".to_owned()),
                    ..DashboardChanges::default()
                },
            )
            .await,
        Conflict::DashboardName,
        "rename to a taken name",
    );
    // Renaming to its own name is fine.
    store
        .update_dashboard(
            &scope("t1"),
            other.id,
            DashboardChanges {
                name: Some("Costs".to_owned()),
                ..DashboardChanges::default()
            },
        )
        .await
        .expect("rename to own name");
    let listed = list(store, &scope("t1"), &Viewer::Admin).await;
    assert_eq!(listed.len(), 2, "the failed create left nothing behind");
}

/// Absent fields stay, given fields change, `Patch::Null` clears.
pub async fn dashboard_update_applies_only_given_fields<S: FullStore>(store: &S) {
    let created = create(
        store,
        "t1",
        new_dashboard("Ops", Some("alice"), vec![widget("w", 0, 0)]),
    )
    .await;
    tick().await;
    let unchanged = store
        .update_dashboard(&scope("t1"), created.id, DashboardChanges::default())
        .await
        .unwrap();
    assert_eq!(unchanged.name, created.name);
    assert_eq!(unchanged.description, created.description);
    assert_eq!(
        unchanged.widgets, created.widgets,
        "no widgets change without `widgets`"
    );

    let layout = DashboardLayout {
        columns: 24,
        row_height: 60,
        margin: [16, 16],
        compact_type: None,
    };
    let updated = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                name: Some("Operations".to_owned()),
                description: Patch::Null,
                layout: Some(layout.clone()),
                filters: Some(Vec::new()),
                is_public: Some(true),
                allowed_viewers: Some(vec!["carol".to_owned()]),
                refresh_interval: Patch::Value(30),
                widgets: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Operations");
    assert_eq!(updated.description, None);
    assert_eq!(updated.layout, layout);
    assert!(updated.filters.is_empty());
    assert!(updated.is_public);
    assert_eq!(updated.allowed_viewers, vec!["carol".to_owned()]);
    assert_eq!(updated.owner_id, created.owner_id);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
    assert_eq!(get(store, "t1", created.id).await.unwrap(), updated);

    let described = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                description: Patch::Value("back".to_owned()),
                ..DashboardChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(described.description.as_deref(), Some("back"));
    assert_not_found(
        store
            .update_dashboard(
                &scope("t1"),
                DashboardId::new(),
                DashboardChanges::default(),
            )
            .await,
        "update a missing dashboard",
    );
}

/// A whole-dashboard save keeps existing ids, keeps given ids for new widgets, deletes the
/// rest, and changes nothing at all when it fails.
pub async fn whole_dashboard_save_keeps_ids_and_is_atomic<S: FullStore>(store: &S) {
    let created = create(
        store,
        "t1",
        new_dashboard(
            "Board",
            Some("alice"),
            vec![widget("keep", 0, 0), widget("drop", 4, 0)],
        ),
    )
    .await;
    let other = create(
        store,
        "t1",
        new_dashboard("Other", Some("alice"), vec![widget("o", 0, 0)]),
    )
    .await;
    let keep = created
        .widgets
        .iter()
        .find(|w| w.title == "keep")
        .unwrap()
        .clone();
    let drop = created
        .widgets
        .iter()
        .find(|w| w.title == "drop")
        .unwrap()
        .clone();
    tick().await;

    let new_id = WidgetId::new();
    let mut kept = widget("kept and renamed", 2, 1);
    kept.widget_type = WidgetType::Table;
    kept.query = None;
    let saved = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                name: Some("Board v2".to_owned()),
                widgets: Some(vec![(keep.id, kept), (new_id, widget("new", 0, 0))]),
                ..DashboardChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(saved.name, "Board v2");
    let ids: Vec<WidgetId> = saved.widgets.iter().map(|w| w.id).collect();
    assert_eq!(ids, [new_id, keep.id], "kept and new ids, in display order");
    let updated = &saved.widgets[1];
    assert_eq!(updated.title, "kept and renamed");
    assert_eq!(updated.widget_type, WidgetType::Table);
    assert_eq!(updated.query, None);
    assert_eq!(
        updated.created_at, keep.created_at,
        "an updated widget keeps its created_at"
    );
    assert!(updated.updated_at > keep.updated_at);
    assert!(
        !saved.widgets.iter().any(|w| w.id == drop.id),
        "unlisted widget deleted"
    );
    assert_eq!(get(store, "t1", created.id).await.unwrap(), saved);

    // A save that would steal another dashboard's widget id fails and changes nothing.
    let stolen = other.widgets[0].id;
    assert_conflict(
        store
            .update_dashboard(
                &scope("t1"),
                created.id,
                DashboardChanges {
                    name: Some("Board v3".to_owned()),
                    widgets: Some(vec![(stolen, widget("thief", 0, 0))]),
                    ..DashboardChanges::default()
                },
            )
            .await,
        Conflict::WidgetId,
        "save with another dashboard's widget id",
    );
    assert_eq!(
        get(store, "t1", created.id).await.unwrap(),
        saved,
        "failed save changed nothing"
    );
    assert_eq!(get(store, "t1", other.id).await.unwrap(), other);

    // A save whose rename conflicts also leaves the widgets alone.
    assert_conflict(
        store
            .update_dashboard(
                &scope("t1"),
                created.id,
                DashboardChanges {
                    name: Some("Other".to_owned()),
                    widgets: Some(Vec::new()),
                    ..DashboardChanges::default()
                },
            )
            .await,
        Conflict::DashboardName,
        "save with a taken name",
    );
    assert_eq!(
        get(store, "t1", created.id).await.unwrap(),
        saved,
        "failed save changed nothing"
    );

    let emptied = store
        .update_dashboard(
            &scope("t1"),
            created.id,
            DashboardChanges {
                widgets: Some(Vec::new()),
                ..DashboardChanges::default()
            },
        )
        .await
        .unwrap();
    assert!(emptied.widgets.is_empty());
}

/// Deleting a dashboard deletes its widgets and every user's pins of it.
pub async fn delete_dashboard_cascades_to_widgets_and_pins<S: FullStore>(store: &S) {
    let doomed = create(
        store,
        "t1",
        new_dashboard("Doomed", Some("alice"), vec![widget("w", 0, 0)]),
    )
    .await;
    let kept = create(store, "t1", new_dashboard("Kept", Some("alice"), vec![])).await;
    let s = scope("t1");
    for user in ["alice", "bob"] {
        store
            .pin(&s, user, PinId::new(), doomed.id, "home", None)
            .await
            .unwrap();
        store
            .pin(&s, user, PinId::new(), kept.id, "home", None)
            .await
            .unwrap();
    }
    store.delete_dashboard(&s, doomed.id).await.expect("delete");
    assert!(get(store, "t1", doomed.id).await.is_none());
    assert_not_found(store.delete_dashboard(&s, doomed.id).await, "delete twice");
    for user in ["alice", "bob"] {
        let pins = store.list_pins(&s, user, "home").await.unwrap();
        assert_eq!(pins.len(), 1, "the deleted dashboard's pin is gone");
        assert_eq!(pins[0].0.dashboard_id, kept.id);
        assert_eq!(
            pins[0].0.position, 0,
            "positions compacted after the cascade"
        );
        assert!(
            store
                .pin_contexts(&s, user, doomed.id)
                .await
                .unwrap()
                .is_empty()
        );
    }
    // The deleted widget's id is free again.
    let reused = store
        .add_widget(
            &s,
            kept.id,
            doomed.widgets[0].id,
            widget("reused", 0, 0),
            None,
        )
        .await
        .expect("a deleted widget's id can be used again");
    assert_eq!(reused.id, doomed.widgets[0].id);
}

/// `create_dashboard` with a cap counts the owner's dashboards only.
pub async fn dashboard_limit_per_owner_is_enforced<S: FullStore>(store: &S) {
    let s = scope("t1");
    for name in ["a1", "a2"] {
        store
            .create_dashboard(&s, new_dashboard(name, Some("alice"), vec![]), Some(2))
            .await
            .expect("within the cap");
    }
    match store
        .create_dashboard(&s, new_dashboard("a3", Some("alice"), vec![]), Some(2))
        .await
    {
        Err(StoreError::LimitReached) => {}
        other => panic!("third dashboard past a cap of 2: expected LimitReached, got {other:?}"),
    }
    store
        .create_dashboard(&s, new_dashboard("b1", Some("bob"), vec![]), Some(2))
        .await
        .expect("another owner has their own count");
    store
        .create_dashboard(
            &scope("t2"),
            new_dashboard("a1", Some("alice"), vec![]),
            Some(2),
        )
        .await
        .expect("another tenant has its own count");
    assert_eq!(
        store
            .list_dashboards(&s, &Viewer::Admin)
            .await
            .unwrap()
            .len(),
        3
    );
}
