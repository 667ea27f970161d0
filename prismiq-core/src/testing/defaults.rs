//! Conformance cases of host widget configs, refresh intervals, default dashboards and
//! dashboard summaries.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use serde_json::Map;

use super::*;
use crate::model::{AnyConfig, DashboardSummary};
use crate::store::{DefaultFor, Defaults, SummaryPage};

/// Runs futures concurrently on the current task, returning their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(done) => *output = Some(done),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

fn host_config() -> AnyConfig {
    let json = json!({
        "min": 0,
        "max": 100.5,
        "thresholds": [{"value": 50, "color": "#f00"}, {"value": 80, "color": "#0f0"}],
        // A key a built-in config has, with a value a built-in config would refuse: a host
        // type's config is kept as it is, not read as the 34 keys.
        "x_axis": 5,
        "label": "Load — ünïcode ✓",
    });
    let serde_json::Value::Object(map) = json else {
        unreachable!()
    };
    AnyConfig::Json(map)
}

fn host_widget(title: &str, x: u32, y: u32) -> WidgetContent {
    WidgetContent {
        widget_type: WidgetType::Custom("gauge".to_owned()),
        title: title.to_owned(),
        query: Some(sample_query()),
        position: WidgetPosition::new(x, y, 3, 3).expect("valid position"),
        config: host_config(),
    }
}

/// A host type's widget keeps its key and its config exactly; the refresh interval is kept,
/// changed and cleared.
pub async fn host_widgets_and_refresh_interval_round_trip<S: FullStore>(store: &S) {
    let mut new = new_dashboard(
        "Plant",
        Some("alice"),
        vec![host_widget("gauge", 0, 0), widget("chart", 3, 0)],
    );
    new.refresh_interval = Some(60);
    let created = create(store, "t1", new).await;
    assert_eq!(created.refresh_interval, Some(60));
    let loaded = get(store, "t1", created.id)
        .await
        .expect("dashboard exists");
    assert_eq!(
        loaded.refresh_interval,
        Some(60),
        "refresh_interval must be stored"
    );
    let gauge = loaded
        .widgets
        .iter()
        .find(|w| w.title == "gauge")
        .expect("the host widget is there");
    assert_eq!(gauge.widget_type, WidgetType::Custom("gauge".to_owned()));
    assert_eq!(
        gauge.config,
        host_config(),
        "a host config comes back exactly"
    );
    let chart = loaded.widgets.iter().find(|w| w.title == "chart").unwrap();
    assert!(
        chart.config.builtin().is_some(),
        "a built-in type's config reads as the 34 keys"
    );

    let mut changed = WidgetContent::of(gauge);
    changed.widget_type = WidgetType::Custom("alert_feed".to_owned());
    let mut config = Map::new();
    config.insert("max_items".to_owned(), json!(7));
    changed.config = AnyConfig::Json(config.clone());
    let updated = store
        .update_widget(&scope("t1"), created.id, gauge.id, changed)
        .await
        .expect("update the host widget");
    assert_eq!(updated.config, AnyConfig::Json(config));

    for (patch, expected) in [
        (Patch::Value(15), Some(15)),
        (Patch::Absent, Some(15)),
        (Patch::Null, None),
    ] {
        let changes = DashboardChanges {
            refresh_interval: patch,
            ..DashboardChanges::default()
        };
        let updated = store
            .update_dashboard(&scope("t1"), created.id, changes)
            .await
            .expect("update the dashboard");
        assert_eq!(updated.refresh_interval, expected);
        let loaded = get(store, "t1", created.id).await.unwrap();
        assert_eq!(loaded.refresh_interval, expected);
    }
    let listed = list(store, &scope("t1"), &Viewer::Admin).await;
    assert_eq!(listed.len(), 1);
}

/// Defaults are per user and per tenant, replaced by a later set, cleared by a clear or by
/// deleting the dashboard, and invisible to other tenants.
pub async fn defaults_are_per_user_and_tenant<S: FullStore>(store: &S) {
    let mine = create(
        store,
        "t1",
        new_dashboard("Mine", Some("alice"), Vec::new()),
    )
    .await;
    let team = create(store, "t1", new_dashboard("Team", Some("bob"), Vec::new())).await;
    let other = create(
        store,
        "t2",
        new_dashboard("Other", Some("alice"), Vec::new()),
    )
    .await;
    let none = Defaults::default();
    assert_eq!(
        store.defaults(&scope("t1"), Some("alice")).await.unwrap(),
        none
    );

    store
        .set_default(&scope("t1"), DefaultFor::User("alice"), team.id)
        .await
        .expect("set alice's default");
    store
        .set_default(&scope("t1"), DefaultFor::User("alice"), mine.id)
        .await
        .expect("replace alice's default");
    store
        .set_default(&scope("t1"), DefaultFor::Tenant, team.id)
        .await
        .expect("set the tenant default");
    let both = Defaults {
        user: Some(mine.id),
        tenant: Some(team.id),
    };
    assert_eq!(
        store.defaults(&scope("t1"), Some("alice")).await.unwrap(),
        both
    );
    assert_eq!(
        store.defaults(&scope("t1"), Some("bob")).await.unwrap(),
        Defaults {
            user: None,
            tenant: Some(team.id)
        }
    );
    assert_eq!(
        store.defaults(&scope("t1"), None).await.unwrap().tenant,
        Some(team.id)
    );
    assert_eq!(
        store.defaults(&scope("t2"), Some("alice")).await.unwrap(),
        none,
        "defaults are per tenant"
    );
    assert_not_found(
        store
            .set_default(&scope("t1"), DefaultFor::User("alice"), other.id)
            .await,
        "another tenant's dashboard cannot be a default",
    );
    assert_not_found(
        store
            .set_default(&scope("t1"), DefaultFor::Tenant, DashboardId::new())
            .await,
        "a missing dashboard cannot be a default",
    );

    store
        .clear_default(&scope("t1"), DefaultFor::User("alice"))
        .await
        .expect("clear alice's default");
    assert_eq!(
        store
            .defaults(&scope("t1"), Some("alice"))
            .await
            .unwrap()
            .user,
        None
    );
    store
        .set_default(&scope("t1"), DefaultFor::User("alice"), team.id)
        .await
        .unwrap();
    store.delete_dashboard(&scope("t1"), team.id).await.unwrap();
    assert_eq!(
        store.defaults(&scope("t1"), Some("alice")).await.unwrap(),
        none,
        "deleting a dashboard clears it as anyone's default"
    );
}

/// `create_default` creates a user's starter once, ever: not again after it is deleted, not
/// twice however many ask at the same time; a failed attempt records nothing.
pub async fn create_default_creates_once<S: FullStore>(store: &S) {
    let first = store
        .create_default(
            &scope("t1"),
            "alice",
            new_dashboard("Start", Some("alice"), vec![widget("w", 0, 0)]),
            None,
        )
        .await
        .expect("create alice's starter")
        .expect("created");
    assert_eq!(
        store
            .defaults(&scope("t1"), Some("alice"))
            .await
            .unwrap()
            .user,
        Some(first),
        "the starter is the user's default"
    );
    let again = store
        .create_default(
            &scope("t1"),
            "alice",
            new_dashboard("Start again", Some("alice"), Vec::new()),
            None,
        )
        .await
        .expect("a second create_default");
    assert_eq!(again, None, "a second starter is not created");
    store.delete_dashboard(&scope("t1"), first).await.unwrap();
    let after_delete = store
        .create_default(
            &scope("t1"),
            "alice",
            new_dashboard("Start anew", Some("alice"), Vec::new()),
            None,
        )
        .await
        .expect("create_default after the starter was deleted");
    assert_eq!(after_delete, None, "not even after the starter was deleted");
    assert!(list(store, &scope("t1"), &Viewer::Admin).await.is_empty());
    // Per tenant: the same user elsewhere gets their own.
    assert!(
        store
            .create_default(
                &scope("t2"),
                "alice",
                new_dashboard("Start", Some("alice"), Vec::new()),
                None
            )
            .await
            .unwrap()
            .is_some()
    );

    // A failure records nothing: a taken name, then a free one.
    create(
        store,
        "t1",
        new_dashboard("Taken", Some("carol"), Vec::new()),
    )
    .await;
    assert_conflict(
        store
            .create_default(
                &scope("t1"),
                "carol",
                new_dashboard("Taken", Some("carol"), Vec::new()),
                None,
            )
            .await,
        Conflict::DashboardName,
        "a starter with a taken name",
    );
    assert!(
        store
            .create_default(
                &scope("t1"),
                "carol",
                new_dashboard("Taken (2)", Some("carol"), Vec::new()),
                None,
            )
            .await
            .unwrap()
            .is_some(),
        "a failed attempt records no starter"
    );

    let t1 = scope("t1");
    let results = join_all(
        (0..20)
            .map(|i| {
                store.create_default(
                    &t1,
                    "bob",
                    new_dashboard(&format!("Bob's start {i}"), Some("bob"), Vec::new()),
                    None,
                )
            })
            .collect(),
    )
    .await;
    let created: Vec<DashboardId> = results
        .into_iter()
        .filter_map(|r| r.expect("create_default"))
        .collect();
    assert_eq!(
        created.len(),
        1,
        "20 concurrent first visits create one dashboard"
    );
    assert_eq!(
        store
            .defaults(&scope("t1"), Some("bob"))
            .await
            .unwrap()
            .user,
        Some(created[0])
    );
    let bobs = list(store, &scope("t1"), &Viewer::Admin)
        .await
        .into_iter()
        .filter(|d| d.owner_id.as_deref() == Some("bob"))
        .count();
    assert_eq!(bobs, 1);
}

async fn summaries<S: FullStore>(
    store: &S,
    viewer: &Viewer,
    user: Option<&str>,
    limit: usize,
) -> Vec<DashboardSummary> {
    let mut all = Vec::new();
    let mut page = SummaryPage {
        user_id: user.map(str::to_owned),
        with_default: true,
        after: None,
        shown_default: None,
        limit,
    };
    loop {
        let got = store
            .list_dashboard_summaries(&scope("t1"), viewer, &page)
            .await
            .expect("list summaries");
        assert!(got.len() <= limit, "a page holds at most `limit` summaries");
        if got.is_empty() {
            return all;
        }
        if page.with_default {
            assert!(
                got.iter().skip(1).all(|s| !s.is_default),
                "only the first summary may be the default"
            );
        } else {
            assert!(
                got.iter().all(|s| !s.is_default),
                "the default leads page one only"
            );
        }
        let last = got.iter().rev().find(|s| !s.is_default);
        if page.with_default {
            page.shown_default = got.iter().find(|s| s.is_default).map(|s| s.id);
        }
        page.with_default = false;
        match last {
            Some(last) => page.after = Some((last.updated_at, last.id)),
            None if got.len() < limit => {
                all.extend(got);
                return all;
            }
            None => page.after = None,
        }
        all.extend(got);
        assert!(all.len() <= 1000, "pagination must end");
    }
}

/// Summaries: the caller's visible default first, then by `updated_at` newest first, each
/// visible dashboard once across pages, with its widget count.
pub async fn summaries_page_through_what_the_viewer_sees<S: FullStore>(store: &S) {
    let mut ids = Vec::new();
    for (name, owner, public, viewers, widgets) in [
        ("a1", "alice", false, vec![], 0),
        ("a2", "alice", false, vec![], 2),
        ("b-public", "bob", true, vec![], 1),
        ("b-private", "bob", false, vec![], 0),
        ("b-shared", "bob", false, vec!["alice"], 3),
        ("a3", "alice", false, vec![], 0),
        ("a4", "alice", false, vec![], 1),
    ] {
        let mut new = new_dashboard(
            name,
            Some(owner),
            (0..widgets)
                .map(|i| widget(&format!("w{i}"), 0, i * 3))
                .collect(),
        );
        new.is_public = public;
        new.allowed_viewers = viewers.into_iter().map(str::to_owned).collect();
        ids.push(create(store, "t1", new).await.id);
        tick().await;
    }
    create(
        store,
        "t2",
        new_dashboard("elsewhere", Some("alice"), Vec::new()),
    )
    .await;
    let alice = Viewer::User("alice".to_owned());
    let expected_order: Vec<DashboardId> = [6, 5, 4, 2, 1, 0].map(|i| ids[i]).to_vec();

    // No default: newest first, every visible dashboard once, whatever the page size.
    for limit in [1, 2, 3, 10] {
        let got = summaries(store, &alice, Some("alice"), limit).await;
        let got_ids: Vec<DashboardId> = got.iter().map(|s| s.id).collect();
        assert_eq!(got_ids, expected_order, "page size {limit}");
    }
    let all = summaries(store, &alice, Some("alice"), 50).await;
    let count = |id: DashboardId| all.iter().find(|s| s.id == id).unwrap().widget_count;
    assert_eq!(
        (count(ids[1]), count(ids[4]), count(ids[0])),
        (2, 3, 0),
        "widget counts"
    );
    let shared = all.iter().find(|s| s.id == ids[4]).unwrap();
    assert_eq!(
        (
            shared.name.as_str(),
            shared.owner_id.as_deref(),
            shared.is_public
        ),
        ("b-shared", Some("bob"), false)
    );
    assert!(
        all.iter().all(|s| !s.is_owner),
        "stores leave is_owner to the Engine"
    );

    // Alice's own default leads, once.
    store
        .set_default(&scope("t1"), DefaultFor::User("alice"), ids[1])
        .await
        .unwrap();
    for limit in [1, 2, 4, 50] {
        let got = summaries(store, &alice, Some("alice"), limit).await;
        let got_ids: Vec<DashboardId> = got.iter().map(|s| s.id).collect();
        let mut expected = vec![ids[1]];
        expected.extend(expected_order.iter().filter(|id| **id != ids[1]));
        assert_eq!(got_ids, expected, "default first, page size {limit}");
        assert!(got[0].is_default);
    }

    // A tenant default the viewer cannot see does not lead; one they can see does, when
    // they have none of their own.
    store
        .set_default(&scope("t1"), DefaultFor::Tenant, ids[3])
        .await
        .unwrap();
    let carol = Viewer::User("carol".to_owned());
    let got = summaries(store, &carol, Some("carol"), 50).await;
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[2]]);
    assert!(!got[0].is_default);
    store
        .set_default(&scope("t1"), DefaultFor::Tenant, ids[2])
        .await
        .unwrap();
    let got = summaries(store, &carol, Some("carol"), 50).await;
    assert!(got[0].is_default && got[0].id == ids[2]);
    // Admins see everything; their own default counts.
    let got = summaries(store, &Viewer::Admin, Some("alice"), 3).await;
    assert_eq!(got.len(), 7);
    assert_eq!(got[0].id, ids[1]);
}
