//! Dashboard versions on a store, through the Engine: one version per committed change with
//! its author and kind, none for a failed change, restore as a new version, retention, the
//! version a write expects, and diffs that turn one version into another.

use std::time::Duration;

use super::events::EngineStore;
use crate::auth::SimpleAuthContext;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::model::{
    ChangeKind, DashboardCreate, DashboardUpdate, LayoutItem, WidgetCreate, WidgetPosition,
    WidgetType, WidgetUpdate,
};

fn user(tenant: &str, user: &str) -> SimpleAuthContext {
    SimpleAuthContext::new(tenant).with_user(user)
}

fn text_widget(title: &str, x: u32) -> WidgetCreate {
    WidgetCreate::new(
        WidgetType::Text,
        title,
        WidgetPosition::new(x, 0, 2, 2).expect("valid position"),
    )
}

async fn kinds(
    engine: &Engine,
    auth: &SimpleAuthContext,
    id: crate::DashboardId,
) -> Vec<(u64, ChangeKind, Option<String>)> {
    engine
        .list_versions(auth, id, 100, None)
        .await
        .expect("list versions")
        .versions
        .into_iter()
        .map(|v| (v.version, v.kind, v.author))
        .collect()
}

/// Each kind of change makes exactly one version, numbered in order, with the right author
/// and kind, and the document of each is the dashboard as that change left it; a failed
/// change (a taken name, a missing widget, no permission) makes none.
pub async fn every_change_makes_one_version<S: EngineStore>(store: S) {
    let engine = Engine::new(store);
    let alice = user("t1", "alice");
    let bob = user("t1", "bob");
    let admin = SimpleAuthContext::new("t1")
        .with_user("root")
        .with_admin(true);
    let board = engine
        .create_dashboard(&alice, DashboardCreate::named("Versions"))
        .await
        .expect("create");
    assert_eq!(board.version, 1);
    engine
        .create_dashboard(&alice, DashboardCreate::named("Taken"))
        .await
        .expect("create another");
    let widget = engine
        .add_widget(&alice, board.id, text_widget("Notes", 0))
        .await
        .expect("add widget");
    let update = WidgetUpdate {
        title: Some("Notes 2".to_owned()),
        ..WidgetUpdate::default()
    };
    engine
        .update_widget(&admin, board.id, widget.id, update)
        .await
        .expect("update widget");
    let copy = engine
        .duplicate_widget(&alice, board.id, widget.id)
        .await
        .expect("duplicate");
    let moved = LayoutItem {
        widget_id: widget.id.to_string(),
        position: WidgetPosition::new(4, 2, 2, 2).expect("valid position"),
    };
    engine
        .update_layout(&alice, board.id, vec![moved])
        .await
        .expect("layout");
    engine
        .delete_widget(&alice, board.id, copy.id)
        .await
        .expect("delete widget");
    let renamed = engine
        .update_dashboard(
            &alice,
            board.id,
            DashboardUpdate::default().with_name("Versions 2"),
        )
        .await
        .expect("rename");
    assert_eq!(renamed.version, 7);

    // Failures make no version.
    let taken = engine
        .update_dashboard(
            &alice,
            board.id,
            DashboardUpdate::default().with_name("Taken"),
        )
        .await;
    assert!(
        matches!(taken, Err(EngineError::Conflict { .. })),
        "{taken:?}"
    );
    let missing = engine.delete_widget(&alice, board.id, copy.id).await;
    assert!(missing.is_err());
    let forbidden = engine
        .update_dashboard(
            &bob,
            board.id,
            DashboardUpdate::default().with_name("Bob's"),
        )
        .await;
    assert!(forbidden.is_err());

    let history = kinds(&engine, &alice, board.id).await;
    let author = |who: &str| Some(who.to_owned());
    assert_eq!(
        history,
        vec![
            (7, ChangeKind::Updated, author("alice")),
            (6, ChangeKind::WidgetDeleted, author("alice")),
            (5, ChangeKind::LayoutUpdated, author("alice")),
            (4, ChangeKind::WidgetDuplicated, author("alice")),
            (3, ChangeKind::WidgetUpdated, author("root")),
            (2, ChangeKind::WidgetCreated, author("alice")),
            (1, ChangeKind::Created, author("alice")),
        ],
        "one version per change, newest first"
    );
    let now = engine.get_dashboard(&alice, board.id).await.expect("get");
    let last = engine
        .get_version(&alice, board.id, now.version)
        .await
        .expect("latest version");
    assert_eq!(
        last.document, now,
        "the latest version's document is the dashboard"
    );
    let first = engine
        .get_version(&alice, board.id, 1)
        .await
        .expect("first version");
    assert!(first.document.widgets.is_empty());
    assert_eq!(first.document.name, "Versions");

    // A whole save is `saved`; an import starts a dashboard of its own at version 1, `imported`.
    let export = engine
        .export_dashboard(&alice, board.id)
        .await
        .expect("export");
    let saves: Vec<crate::model::WidgetSave> = serde_json::from_value(serde_json::json!([
        {"id": widget.id.to_string(), "type": "text", "title": "Saved",
         "position": {"x": 0, "y": 0, "w": 2, "h": 2}}
    ]))
    .expect("widget saves");
    let save = DashboardUpdate {
        widgets: Some(saves),
        ..DashboardUpdate::default()
    };
    let saved = engine
        .update_dashboard(&alice, board.id, save)
        .await
        .expect("whole save");
    assert_eq!(saved.version, 8);
    assert_eq!(
        kinds(&engine, &alice, board.id).await[0].1,
        ChangeKind::Saved
    );
    let import: crate::model::DashboardImport = serde_json::from_value(serde_json::json!({
        "export_data": export, "name_override": "Imported"
    }))
    .expect("an import");
    let imported = engine
        .import_dashboard(&alice, import)
        .await
        .expect("import");
    assert_eq!(imported.version, 1);
    assert_eq!(
        kinds(&engine, &alice, imported.id).await,
        vec![(1, ChangeKind::Imported, Some("alice".to_owned()))]
    );

    // A diff says what changed, in a patch and in words.
    let diff = engine
        .diff_versions(&alice, board.id, 4, 6)
        .await
        .expect("diff");
    assert_eq!(
        diff.summary.widgets_removed,
        vec!["Notes 2 (Copy)".to_owned()]
    );
    assert_eq!(
        diff.summary.widgets_changed,
        vec!["Notes 2".to_owned()],
        "moved"
    );
    assert!(diff.summary.widgets_added.is_empty() && diff.summary.fields_changed.is_empty());

    // Another tenant sees none of it.
    let stranger = user("t2", "alice");
    assert!(
        engine
            .list_versions(&stranger, board.id, 10, None)
            .await
            .is_err()
    );
    assert!(engine.get_version(&stranger, board.id, 1).await.is_err());

    // Paging: newest first, a cursor to continue below.
    let page = engine
        .list_versions(&alice, board.id, 3, None)
        .await
        .expect("page");
    assert_eq!(page.versions.len(), 3);
    let rest = engine
        .list_versions(&alice, board.id, 100, page.next_cursor)
        .await
        .expect("rest");
    assert_eq!(
        page.versions.len() + rest.versions.len(),
        kinds(&engine, &alice, board.id).await.len()
    );
    assert!(rest.next_cursor.is_none());

    // Deleting the dashboard deletes its versions.
    engine
        .delete_dashboard(&alice, board.id)
        .await
        .expect("delete");
    assert!(engine.get_version(&admin, board.id, 1).await.is_err());
}

/// A restore makes a new version whose content is the old one's, widgets keeping their ids;
/// a write expecting another version changes nothing; retention keeps the newest.
pub async fn restore_expected_versions_and_retention<S: EngineStore>(store: S) {
    let engine = Engine::new(store).with_version_retention(3, None::<Duration>);
    let alice = user("t1", "alice");
    let board = engine
        .create_dashboard(&alice, DashboardCreate::named("Restore"))
        .await
        .expect("create");
    let kept = engine
        .add_widget(&alice, board.id, text_widget("Kept", 0))
        .await
        .expect("add");
    let v2 = engine.get_dashboard(&alice, board.id).await.expect("get");
    engine
        .add_widget(&alice, board.id, text_widget("Added later", 4))
        .await
        .expect("add another");
    engine
        .update_dashboard(
            &alice,
            board.id,
            DashboardUpdate::default().with_name("Renamed"),
        )
        .await
        .expect("rename");

    let restored = engine
        .restore_version(&alice, board.id, 2)
        .await
        .expect("restore");
    assert_eq!(restored.version, 5);
    assert_eq!(restored.name, "Restore");
    assert_eq!(
        restored
            .widgets
            .iter()
            .map(|w| (w.id, w.title.as_str()))
            .collect::<Vec<_>>(),
        vec![(kept.id, "Kept")],
        "the widgets are version 2's, with their ids"
    );
    assert_eq!(restored.widgets[0].config, v2.widgets[0].config);
    let history = engine
        .list_versions(&alice, board.id, 100, None)
        .await
        .expect("list");
    assert_eq!(history.versions[0].kind, ChangeKind::Restored);
    assert_eq!(
        history
            .versions
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        vec![5, 4, 3],
        "retention keeps the newest three"
    );
    assert!(
        engine.get_version(&alice, board.id, 1).await.is_err(),
        "pruned"
    );

    // Expected versions: a stale one changes nothing, the current one goes ahead.
    let stale = engine
        .at_version(4)
        .update_dashboard(
            &alice,
            board.id,
            DashboardUpdate::default().with_name("Stale"),
        )
        .await;
    assert!(
        matches!(stale, Err(EngineError::VersionMismatch { current: 5 })),
        "{stale:?}"
    );
    let stale_widget = engine
        .at_version(3)
        .add_widget(&alice, board.id, text_widget("Stale", 8))
        .await;
    assert!(matches!(
        stale_widget,
        Err(EngineError::VersionMismatch { current: 5 })
    ));
    let now = engine.get_dashboard(&alice, board.id).await.expect("get");
    assert_eq!(
        (now.version, now.name.as_str(), now.widgets.len()),
        (5, "Restore", 1)
    );
    let mut watch = engine
        .subscribe(&alice, crate::events::EventFilter::all())
        .await
        .expect("subscribe");
    let fresh = engine
        .at_version(5)
        .update_dashboard(
            &alice,
            board.id,
            DashboardUpdate::default().with_name("Fresh"),
        )
        .await
        .expect("expected version");
    assert_eq!(fresh.version, 6);
    // The event of the change carries the new version.
    use futures_util::FutureExt;
    match watch.next_message().now_or_never() {
        Some(Some(crate::events::Message::Event(event))) => {
            assert_eq!(event.kind, crate::events::EventKind::DashboardUpdated);
            assert_eq!(event.version, Some(6));
        }
        other => panic!("expected the update's event, got {other:?}"),
    }

    // Two writers racing with the same expected version: exactly one wins.
    let (first, second) = (engine.at_version(6), engine.at_version(6));
    let (a, b) = futures_util::future::join(
        first.update_dashboard(&alice, board.id, DashboardUpdate::default().with_name("A")),
        second.update_dashboard(&alice, board.id, DashboardUpdate::default().with_name("B")),
    )
    .await;
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} / {b:?}"
    );

    // The diff of two versions applied to the first gives the second.
    let diff = engine
        .diff_versions(&alice, board.id, 5, 7)
        .await
        .expect("diff");
    let mut doc = serde_json::to_value(
        engine
            .get_version(&alice, board.id, 5)
            .await
            .unwrap()
            .document,
    )
    .unwrap();
    let patch: json_patch::Patch =
        serde_json::from_value(diff.patch.clone()).expect("a JSON Patch");
    json_patch::patch(&mut doc, &patch).expect("the patch applies");
    let target = serde_json::to_value(
        engine
            .get_version(&alice, board.id, 7)
            .await
            .unwrap()
            .document,
    )
    .unwrap();
    assert_eq!(doc, target);
    assert!(diff.summary.widgets_removed.is_empty());
    assert_eq!(diff.summary.fields_changed, vec!["name".to_owned()]);
}
