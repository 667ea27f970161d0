//! Conformance cases of share links.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};

use super::*;
use crate::ids::ShareId;
use crate::model::Timestamp;
use crate::store::NewShare;

fn new_share(dashboard_id: DashboardId, hash: &str) -> NewShare {
    let mut locked = BTreeMap::new();
    locked.insert("f1".to_owned(), json!("East"));
    NewShare {
        id: ShareId::new(),
        dashboard_id,
        token_hash: hash.to_owned(),
        label: Some("board pack".to_owned()),
        locked_filters: locked,
        allow_export: true,
        expires_at: Some(Timestamp::from_datetime(
            chrono::Utc::now() + chrono::Duration::days(7),
        )),
        created_by: Some("alice".to_owned()),
        schema_name: Some("tenant_one".to_owned()),
    }
}

/// Share links: every field survives; found by their hash in any tenant and by nothing else;
/// listed and revoked within their tenant only; deleting the dashboard revokes them.
pub async fn shares_round_trip<S: FullStore>(store: &S) {
    let dashboard = create(
        store,
        "t1",
        new_dashboard("Shared", Some("alice"), Vec::new()),
    )
    .await;
    let other = create(store, "t2", new_dashboard("Other", Some("bob"), Vec::new())).await;
    let hash = "a".repeat(64);
    let new = new_share(dashboard.id, &hash);
    let created = store
        .create_share(&scope("t1"), new.clone())
        .await
        .expect("create a share");
    assert_eq!(created.id, new.id);
    assert_eq!(created.locked_filters, new.locked_filters);
    assert!(created.allow_export, "allow_export is kept");
    assert_eq!(
        created.expires_at, new.expires_at,
        "expires_at to the microsecond"
    );
    assert_not_found(
        store
            .create_share(&scope("t2"), new_share(dashboard.id, &"b".repeat(64)))
            .await,
        "a share of another tenant's dashboard",
    );

    let found = store
        .find_share(&hash)
        .await
        .expect("find a share")
        .expect("the share exists");
    assert_eq!(found.share, created);
    assert_eq!(found.tenant_id, "t1");
    assert_eq!(found.schema_name.as_deref(), Some("tenant_one"));
    assert_eq!(found.token_hash, hash);
    assert!(store.find_share(&"c".repeat(64)).await.unwrap().is_none());

    let listed = store.list_shares(&scope("t1"), dashboard.id).await.unwrap();
    assert_eq!(listed, vec![created.clone()]);
    assert!(
        store
            .list_shares(&scope("t2"), dashboard.id)
            .await
            .unwrap()
            .is_empty(),
        "another tenant lists nothing"
    );
    assert_not_found(
        store
            .delete_share(&scope("t2"), dashboard.id, created.id)
            .await,
        "revoking another tenant's share",
    );
    assert_not_found(
        store.delete_share(&scope("t1"), other.id, created.id).await,
        "revoking through another dashboard",
    );
    store
        .delete_share(&scope("t1"), dashboard.id, created.id)
        .await
        .expect("revoke");
    assert!(
        store.find_share(&hash).await.unwrap().is_none(),
        "revoked at once"
    );

    let second = store
        .create_share(&scope("t1"), new_share(dashboard.id, &"d".repeat(64)))
        .await
        .unwrap();
    store
        .delete_dashboard(&scope("t1"), dashboard.id)
        .await
        .unwrap();
    assert!(
        store.find_share(&"d".repeat(64)).await.unwrap().is_none(),
        "deleting the dashboard revokes its shares ({})",
        second.id
    );
}

/// A token hash (64 hex digits) made from `name`.
fn hash(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{hex:0>64}")
}

fn bare_share(dashboard_id: DashboardId, name: &str) -> NewShare {
    NewShare {
        id: ShareId::new(),
        dashboard_id,
        token_hash: hash(name),
        label: None,
        locked_filters: BTreeMap::new(),
        allow_export: false,
        expires_at: None,
        created_by: None,
        schema_name: None,
    }
}

async fn dashboard_of<S: FullStore>(store: &S, scope: &Scope, name: &str) -> DashboardId {
    store
        .create_dashboard(scope, new_dashboard(name, Some("alice"), vec![]), None)
        .await
        .unwrap()
        .id
}

/// Every field of a link survives storing exactly (microseconds of the expiry, nested locked
/// values, empty values), read by listing and by its hash.
pub async fn share_fields_round_trip_exactly<S: FullStore>(store: &S) {
    let a = Scope::new("a");
    let sales = dashboard_of(store, &a, "Sales").await;
    let expires_at = Timestamp::from(
        Utc.with_ymd_and_hms(2031, 2, 3, 4, 5, 6).unwrap()
            + chrono::Duration::microseconds(123_457),
    );
    let mut new = bare_share(sales, "full");
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
        .create_share(&a, bare_share(sales, "bare"))
        .await
        .unwrap();
    let found = store.find_share(&hash("bare")).await.unwrap().unwrap();
    assert_eq!(found.share, bare);
    assert_eq!(found.schema_name, None);
    assert!(found.share.locked_filters.is_empty());
}

/// A link belongs to a dashboard of its tenant: refused for another tenant's or a missing
/// dashboard, listed oldest first per dashboard, revoked only in its tenant under its
/// dashboard, and gone with its dashboard.
pub async fn shares_belong_to_a_dashboard_of_the_tenant<S: FullStore>(store: &S) {
    let a = Scope::new("a");
    let b = Scope::new("b");
    let sales = dashboard_of(store, &a, "Sales").await;
    let costs = dashboard_of(store, &a, "Costs").await;
    let theirs = dashboard_of(store, &b, "Sales").await;

    for (scope, dashboard_id) in [(&a, theirs), (&b, sales), (&a, DashboardId::new())] {
        let refused = store
            .create_share(scope, bare_share(dashboard_id, "nope"))
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
                .create_share(&a, bare_share(sales, name))
                .await
                .unwrap(),
        );
    }
    let other = store
        .create_share(&a, bare_share(costs, "other"))
        .await
        .unwrap();
    let b_share = store
        .create_share(&b, bare_share(theirs, "b"))
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
