//! Conformance cases of share links.

use std::collections::BTreeMap;

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
