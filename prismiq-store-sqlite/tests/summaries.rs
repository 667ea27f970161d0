//! Summaries page by `(updated_at, id)` exactly: dashboards updated in the same microsecond
//! come by id, one microsecond apart by time, and none is skipped or repeated across pages.
//! Documents carry the refresh interval and host widgets' configs.

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::{new_dashboard, widget};
use prismiq_core::{
    AnyConfig, DashboardId, DashboardStore, DefaultFor, Scope, SummaryPage, WidgetContent,
    WidgetPosition, WidgetType,
};
use prismiq_store_sqlite::testing::fresh_store;

#[tokio::test]
async fn summaries_page_exactly_through_equal_and_adjacent_times() {
    let store = fresh_store().await;
    let scope = Scope::new("t1");
    let mut ids = Vec::new();
    for i in 0..7 {
        let created = store
            .create_dashboard(
                &scope,
                new_dashboard(&format!("d{i}"), Some("alice"), Vec::new()),
                None,
            )
            .await
            .unwrap();
        ids.push(created.id);
    }
    // d0 one microsecond before the others, d6 one after, d1..d5 in the same microsecond.
    for (i, id) in ids.iter().enumerate() {
        let at = match i {
            0 => "2026-01-02T03:04:05.123455Z",
            6 => "2026-01-02T03:04:05.123457Z",
            _ => "2026-01-02T03:04:05.123456Z",
        };
        sqlx::query("update dashboards set updated_at = ?2 where id = ?1")
            .bind(id.to_string())
            .bind(at)
            .execute(store.pool())
            .await
            .unwrap();
    }

    let mut tied: Vec<DashboardId> = ids[1..6].to_vec();
    tied.sort_unstable_by(|a, b| b.cmp(a));
    let mut expected = vec![ids[6]];
    expected.extend(&tied);
    expected.push(ids[0]);
    let alice = Viewer::User("alice".to_owned());
    assert_eq!(pages(&store, &scope, &alice, 2).await, expected);

    // The default leads page one and is left out of every page after it.
    store
        .set_default(&scope, DefaultFor::User("alice"), tied[2])
        .await
        .unwrap();
    let mut with_default = vec![tied[2]];
    with_default.extend(expected.iter().filter(|id| **id != tied[2]));
    for limit in [1, 2, 3, 10] {
        assert_eq!(
            pages(&store, &scope, &alice, limit).await,
            with_default,
            "page size {limit}"
        );
    }
}

/// Every summary `viewer` gets, page by page, as the Engine asks for them.
async fn pages(
    store: &impl DashboardStore,
    scope: &Scope,
    viewer: &Viewer,
    limit: usize,
) -> Vec<DashboardId> {
    let mut page = SummaryPage {
        user_id: Some("alice".to_owned()),
        with_default: true,
        after: None,
        shown_default: None,
        limit,
    };
    let mut all = Vec::new();
    loop {
        let got = store
            .list_dashboard_summaries(scope, viewer, &page)
            .await
            .unwrap();
        assert!(got.len() <= limit);
        all.extend(got.iter().map(|s| s.id));
        if page.with_default {
            page.shown_default = got.iter().find(|s| s.is_default).map(|s| s.id);
        }
        let Some(last) = got.iter().rev().find(|s| !s.is_default) else {
            if got.len() < limit {
                return all;
            }
            page.with_default = false;
            continue;
        };
        if got.len() < limit {
            return all;
        }
        page.with_default = false;
        page.after = Some((last.updated_at, last.id));
    }
}

#[tokio::test]
async fn documents_carry_the_refresh_interval_and_host_configs() {
    let store = fresh_store().await;
    let scope = Scope::new("t1");
    let serde_json::Value::Object(config) = serde_json::json!({
        "max": 100.5, "bands": [{"to": 50, "color": "#0f0"}], "x_axis": 5, "label": "ünï"
    }) else {
        unreachable!()
    };
    let gauge = WidgetContent {
        widget_type: WidgetType::Custom("gauge".to_owned()),
        title: "Load".to_owned(),
        query: None,
        position: WidgetPosition::new(4, 0, 3, 3).unwrap(),
        config: AnyConfig::Json(config),
    };
    let mut refreshing = new_dashboard("Refreshing", Some("alice"), vec![widget("a", 0, 0), gauge]);
    refreshing.refresh_interval = Some(u32::MAX);
    let refreshing = store
        .create_dashboard(&scope, refreshing, None)
        .await
        .unwrap();
    let still = store
        .create_dashboard(
            &scope,
            new_dashboard("Still", Some("alice"), Vec::new()),
            None,
        )
        .await
        .unwrap();

    for created in [&refreshing, &still] {
        let dashboard = store
            .get_dashboard(&scope, created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&dashboard, created);
        let document = store
            .get_dashboard_json(&scope, created.id)
            .await
            .unwrap()
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(document.as_str()).unwrap();
        assert_eq!(parsed, serde_json::to_value(&dashboard).unwrap());
    }
}
