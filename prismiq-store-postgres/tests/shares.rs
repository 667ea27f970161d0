//! Share links in PostgreSQL, beyond the conformance suite: every field round-trips exactly,
//! links belong to a dashboard of the tenant, and go with it.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use prismiq_core::permissions::Viewer;
use prismiq_core::testing::new_dashboard;
use prismiq_core::{
    DashboardId, DashboardStore, NewShare, Scope, ShareId, ShareStore, StoreError, Timestamp,
};
use serde_json::json;

fn hash(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0>64}")
}

fn new_share(dashboard_id: DashboardId, name: &str) -> NewShare {
    NewShare {
        id: ShareId::new(),
        dashboard_id,
        token_hash: hash(name),
        label: None,
        locked_filters: BTreeMap::new(),
        expires_at: None,
        created_by: None,
        schema_name: None,
    }
}

async fn dashboard<S: DashboardStore>(store: &S, scope: &Scope, name: &str) -> DashboardId {
    store
        .create_dashboard(scope, new_dashboard(name, Some("alice"), vec![]), None)
        .await
        .unwrap()
        .id
}

async fn every_field_round_trips<S: DashboardStore + ShareStore>(store: S) {
    let a = Scope::new("a");
    let sales = dashboard(&store, &a, "Sales").await;
    let expires_at = Timestamp::from(
        Utc.with_ymd_and_hms(2031, 2, 3, 4, 5, 6).unwrap()
            + chrono::Duration::microseconds(123_457),
    );
    let mut new = new_share(sales, "full");
    new.label = Some("Board pack — Q3".to_owned());
    new.locked_filters = BTreeMap::from([
        ("region".to_owned(), json!("North")),
        (
            "range".to_owned(),
            json!({"from": "2024-01-01", "to": null, "n": [1, 2.5]}),
        ),
    ]);
    new.expires_at = Some(expires_at);
    new.created_by = Some("alice".to_owned());
    new.schema_name = Some("acme".to_owned());
    let created = store.create_share(&a, new.clone()).await.unwrap();
    assert_eq!(created, new.clone().into_share(created.created_at));
    assert_eq!(created.expires_at, Some(expires_at), "microseconds kept");

    assert_eq!(
        store.list_shares(&a, sales).await.unwrap(),
        std::slice::from_ref(&created)
    );
    let found = store.find_share(&hash("full")).await.unwrap().unwrap();
    assert_eq!(found.share, created);
    assert_eq!(found.tenant_id, "a");
    assert_eq!(found.schema_name.as_deref(), Some("acme"));
    assert_eq!(found.token_hash, hash("full"));

    // The empty values too.
    let bare = store
        .create_share(&a, new_share(sales, "bare"))
        .await
        .unwrap();
    let found = store.find_share(&hash("bare")).await.unwrap().unwrap();
    assert_eq!(found.share, bare);
    assert_eq!(found.schema_name, None);
    assert!(found.share.locked_filters.is_empty());
}

async fn shares_belong_to_a_dashboard_of_the_tenant<S: DashboardStore + ShareStore>(store: S) {
    let a = Scope::new("a");
    let b = Scope::new("b");
    let sales = dashboard(&store, &a, "Sales").await;
    let costs = dashboard(&store, &a, "Costs").await;
    let theirs = dashboard(&store, &b, "Sales").await;

    for (scope, dashboard_id) in [(&a, theirs), (&b, sales), (&a, DashboardId::new())] {
        let refused = store
            .create_share(scope, new_share(dashboard_id, "nope"))
            .await;
        assert!(
            matches!(refused, Err(StoreError::NotFound)),
            "no such dashboard in the tenant: {refused:?}"
        );
    }
    assert_eq!(store.find_share(&hash("nope")).await.unwrap(), None);

    let mut made = Vec::new();
    for name in ["first", "second", "third"] {
        made.push(
            store
                .create_share(&a, new_share(sales, name))
                .await
                .unwrap(),
        );
    }
    let other = store
        .create_share(&a, new_share(costs, "other"))
        .await
        .unwrap();
    let b_share = store
        .create_share(&b, new_share(theirs, "b"))
        .await
        .unwrap();
    assert_eq!(
        store.list_shares(&a, sales).await.unwrap(),
        made,
        "oldest first"
    );
    assert_eq!(
        store.list_shares(&a, costs).await.unwrap(),
        std::slice::from_ref(&other)
    );
    assert_eq!(store.list_shares(&b, sales).await.unwrap(), []);
    assert_eq!(store.list_shares(&b, theirs).await.unwrap(), [b_share]);
    assert_eq!(
        store
            .find_share(&hash("b"))
            .await
            .unwrap()
            .unwrap()
            .tenant_id,
        "b",
        "found whatever the tenant"
    );

    // Revoking: only in its tenant and under its dashboard.
    for (scope, dashboard_id, share_id) in [
        (&b, sales, made[1].id),
        (&a, costs, made[1].id),
        (&a, sales, ShareId::new()),
    ] {
        assert!(matches!(
            store.delete_share(scope, dashboard_id, share_id).await,
            Err(StoreError::NotFound)
        ));
    }
    store.delete_share(&a, sales, made[1].id).await.unwrap();
    assert_eq!(store.find_share(&hash("second")).await.unwrap(), None);
    assert!(matches!(
        store.delete_share(&a, sales, made[1].id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.list_shares(&a, sales).await.unwrap(),
        [made[0].clone(), made[2].clone()]
    );

    // Deleting a dashboard revokes its links, and only its.
    store.delete_dashboard(&a, sales).await.unwrap();
    assert_eq!(store.list_shares(&a, sales).await.unwrap(), []);
    for name in ["first", "third"] {
        assert_eq!(store.find_share(&hash(name)).await.unwrap(), None, "{name}");
    }
    assert!(store.find_share(&hash("other")).await.unwrap().is_some());
    assert_eq!(store.list_shares(&a, costs).await.unwrap(), [other]);
    assert_eq!(
        store
            .list_dashboards(&a, &Viewer::Admin)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn every_share_field_round_trips() {
    let database = prismiq_store_postgres::testing::fresh_database().await;
    every_field_round_trips(database.store().clone()).await;
    database.drop_database().await;
}

#[tokio::test]
async fn shares_belong_to_a_dashboard_of_their_tenant_and_go_with_it() {
    let database = prismiq_store_postgres::testing::fresh_database().await;
    shares_belong_to_a_dashboard_of_the_tenant(database.store().clone()).await;
    database.drop_database().await;
}
