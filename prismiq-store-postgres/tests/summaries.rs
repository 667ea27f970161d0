//! Summaries page by `(updated_at, id)` exactly: dashboards updated in the same microsecond
//! come by id, one microsecond apart by time, and none is skipped or repeated across pages.

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::new_dashboard;
use prismiq_core::{DashboardId, DashboardStore, DefaultFor, Scope, SummaryPage};
use prismiq_store_postgres::sqlx::{self, Connection, PgConnection};
use prismiq_store_postgres::testing::fresh_database;

#[tokio::test]
async fn summaries_page_exactly_through_equal_and_adjacent_times() {
    let database = fresh_database().await;
    let store = database.store();
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
    let mut conn = PgConnection::connect_with(database.connect_options())
        .await
        .unwrap();
    sqlx::query("set session_replication_role = replica") // no updated_at triggers
        .execute(&mut conn)
        .await
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        let at = match i {
            0 => "2026-01-02 03:04:05.123455+00",
            6 => "2026-01-02 03:04:05.123457+00",
            _ => "2026-01-02 03:04:05.123456+00",
        };
        sqlx::query("update prismiq.dashboards set updated_at = $2::timestamptz where id = $1")
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();

    let mut tied: Vec<DashboardId> = ids[1..6].to_vec();
    tied.sort_unstable_by(|a, b| b.cmp(a));
    let mut expected = vec![ids[6]];
    expected.extend(&tied);
    expected.push(ids[0]);
    let alice = Viewer::User("alice".to_owned());
    assert_eq!(pages(store, &scope, &alice, 2).await, expected);

    // The default leads page one and is left out of every page after it.
    store
        .set_default(&scope, DefaultFor::User("alice"), tied[2])
        .await
        .unwrap();
    let mut with_default = vec![tied[2]];
    with_default.extend(expected.iter().filter(|id| **id != tied[2]));
    for limit in [1, 2, 3, 10] {
        assert_eq!(
            pages(store, &scope, &alice, limit).await,
            with_default,
            "page size {limit}"
        );
    }
    database.drop_database().await;
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
