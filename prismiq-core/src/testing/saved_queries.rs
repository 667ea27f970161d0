//! Conformance cases of saved queries.

use super::*;

/// Saved queries round-trip, list by name filtered by viewer, and update and delete.
pub async fn saved_query_round_trip_and_visibility<S: FullStore>(store: &S) {
    let s = scope("t1");
    let mine = store
        .create_saved_query(&s, new_saved_query("b mine", Some("alice"), false))
        .await
        .unwrap();
    let shared = store
        .create_saved_query(&s, new_saved_query("a shared", Some("bob"), true))
        .await
        .unwrap();
    let private = store
        .create_saved_query(&s, new_saved_query("c private", Some("bob"), false))
        .await
        .unwrap();
    let ownerless = store
        .create_saved_query(&s, new_saved_query("d nobody", None, false))
        .await
        .unwrap();

    assert_eq!(mine.tenant_id, "t1");
    assert_eq!(mine.owner_id.as_deref(), Some("alice"));
    assert_eq!(mine.query, sample_query());
    assert_eq!(mine.created_at, mine.updated_at);
    assert_eq!(
        store.get_saved_query(&s, mine.id).await.unwrap(),
        Some(mine.clone())
    );

    let names =
        |list: Vec<crate::model::SavedQuery>| list.into_iter().map(|q| q.name).collect::<Vec<_>>();
    assert_eq!(
        names(
            store
                .list_saved_queries(&s, &Viewer::User("alice".to_owned()))
                .await
                .unwrap()
        ),
        ["a shared", "b mine", "d nobody"]
    );
    assert_eq!(
        names(
            store
                .list_saved_queries(&s, &Viewer::Anonymous)
                .await
                .unwrap()
        ),
        ["a shared", "d nobody"]
    );
    assert_eq!(
        store
            .list_saved_queries(&s, &Viewer::Admin)
            .await
            .unwrap()
            .len(),
        4
    );
    let _ = (private, ownerless, shared);

    tick().await;
    let updated = store
        .update_saved_query(
            &s,
            mine.id,
            SavedQueryChanges {
                name: Some("b renamed".to_owned()),
                description: Patch::Null,
                query: None,
                is_shared: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "b renamed");
    assert_eq!(updated.description, None);
    assert_eq!(updated.query, mine.query, "absent query unchanged");
    assert!(updated.is_shared);
    assert_eq!(updated.created_at, mine.created_at);
    assert!(updated.updated_at > mine.updated_at);

    store.delete_saved_query(&s, mine.id).await.unwrap();
    assert!(store.get_saved_query(&s, mine.id).await.unwrap().is_none());
    assert_not_found(store.delete_saved_query(&s, mine.id).await, "delete twice");
    assert_not_found(
        store
            .update_saved_query(&s, mine.id, SavedQueryChanges::default())
            .await,
        "update a deleted saved query",
    );
}

/// Saved-query names are unique per tenant.
pub async fn saved_query_names_are_unique_per_tenant<S: FullStore>(store: &S) {
    let s = scope("t1");
    store
        .create_saved_query(&s, new_saved_query("Revenue", Some("alice"), false))
        .await
        .unwrap();
    let other = store
        .create_saved_query(&s, new_saved_query("Costs", Some("alice"), false))
        .await
        .unwrap();
    assert_conflict(
        store
            .create_saved_query(&s, new_saved_query("Revenue", Some("bob"), false))
            .await,
        Conflict::SavedQueryName,
        "create with a taken name",
    );
    assert_conflict(
        store
            .update_saved_query(
                &s,
                other.id,
                SavedQueryChanges {
                    name: Some("Revenue".to_owned()),
                    ..SavedQueryChanges::default()
                },
            )
            .await,
        Conflict::SavedQueryName,
        "rename to a taken name",
    );
    store
        .create_saved_query(
            &scope("t2"),
            new_saved_query("Revenue", Some("alice"), false),
        )
        .await
        .expect("the name is free in another tenant");
}
