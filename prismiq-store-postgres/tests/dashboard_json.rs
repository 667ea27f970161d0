//! `get_dashboard_json` builds the API's JSON in PostgreSQL; it must write every timestamp as
//! `Timestamp` does, including the short form of a whole second, which writes made by `now()`
//! almost never produce, and carry the refresh interval and host widgets' configs.

use prismiq_core::permissions::Viewer;
use prismiq_core::testing::{new_dashboard, widget};
use prismiq_core::{AnyConfig, DashboardStore, Scope, WidgetContent, WidgetPosition, WidgetType};
use prismiq_store_postgres::sqlx::{self, Connection, PgConnection};
use prismiq_store_postgres::testing::fresh_database;

#[tokio::test]
async fn timestamps_are_written_as_the_api_writes_them() {
    let database = fresh_database().await;
    let store = database.store();
    let scope = Scope::new("t1");
    let created = store
        .create_dashboard(
            &scope,
            new_dashboard(
                "Times",
                Some("alice"),
                vec![widget("a", 0, 0), widget("b", 4, 0), widget("c", 8, 0)],
            ),
            None,
        )
        .await
        .unwrap();

    // Whole seconds, one microsecond, a fraction with trailing zeros, and an instant that is
    // another day in UTC than in the session's time zone.
    let mut conn = PgConnection::connect_with(database.connect_options())
        .await
        .unwrap();
    sqlx::query("set session_replication_role = replica") // no updated_at triggers
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("set time zone 'America/Los_Angeles'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "update prismiq.dashboards set created_at = '2026-01-02 03:04:05+00', \
         updated_at = '2026-01-02 03:04:05.000001+00' where id = $1",
    )
    .bind(created.id.as_uuid())
    .execute(&mut conn)
    .await
    .unwrap();
    for (title, created_at, updated_at) in [
        ("a", "2026-12-31 23:59:59+00", "2026-12-31 23:59:59.5+00"),
        (
            "b",
            "2026-02-03 04:05:06.120000+00",
            "2027-01-01 00:00:00+00",
        ),
        (
            "c",
            "1999-12-31 16:00:00-08",
            "2026-06-30 22:30:00.000010-02",
        ),
    ] {
        sqlx::query(
            "update prismiq.widgets set created_at = $2::timestamptz, \
             updated_at = $3::timestamptz where dashboard_id = $1 and title = $4",
        )
        .bind(created.id.as_uuid())
        .bind(created_at)
        .bind(updated_at)
        .bind(title)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let dashboard = store
        .get_dashboard(&scope, created.id)
        .await
        .unwrap()
        .unwrap();
    let document = store
        .get_dashboard_json(&scope, created.id)
        .await
        .unwrap()
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(document.as_str()).unwrap();
    assert_eq!(parsed, serde_json::to_value(&dashboard).unwrap());
    assert_eq!(parsed["created_at"], "2026-01-02T03:04:05Z");
    assert_eq!(parsed["updated_at"], "2026-01-02T03:04:05.000001Z");
    let times: Vec<(&str, &str)> = parsed["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["created_at"].as_str().unwrap(),
                w["updated_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        times,
        [
            ("2026-12-31T23:59:59Z", "2026-12-31T23:59:59.500000Z"),
            ("2026-02-03T04:05:06.120000Z", "2027-01-01T00:00:00Z"),
            ("2000-01-01T00:00:00Z", "2026-07-01T00:30:00.000010Z"),
        ]
    );
    database.drop_database().await;
}

#[tokio::test]
async fn documents_carry_the_refresh_interval_and_host_configs() {
    let database = fresh_database().await;
    let store = database.store();
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
    let listed = store
        .list_dashboards_json(&scope, &Viewer::Admin)
        .await
        .unwrap();
    let parsed: Vec<serde_json::Value> = listed
        .iter()
        .map(|d| serde_json::from_str(d.as_str()).unwrap())
        .collect();
    let refresh: Vec<&serde_json::Value> = parsed.iter().map(|d| &d["refresh_interval"]).collect();
    assert_eq!(
        refresh,
        [&serde_json::Value::Null, &serde_json::json!(u32::MAX)]
    );
    database.drop_database().await;
}
