//! Live events over HTTP: `/events` (server-sent events) and `/ws` (WebSocket) as a browser or
//! a curl user meets them — framing, ids and resume, heartbeats, filters, permissions, limits,
//! ping/pong and close codes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use prismiq_axum::prismiq_core::events::{Audience, EventSettings};
use prismiq_axum::prismiq_core::{Engine, MemoryStore};
use prismiq_tests::TestApp;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tower::ServiceExt;

fn app(settings: EventSettings) -> TestApp {
    TestApp::new(Engine::new(MemoryStore::new()).with_event_settings(settings))
}

/// An open `/events` response, read frame by frame.
struct Sse {
    body: Body,
    buffered: String,
}

impl Sse {
    async fn open(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> (StatusCode, Self) {
        Self::open_at(app, &format!("/api/prismiq/events{query}"), headers).await
    }

    async fn open_at(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, Self) {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = app
            .router()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        if status == StatusCode::OK {
            assert_eq!(
                response.headers()["content-type"],
                "text/event-stream",
                "SSE content type"
            );
        }
        (
            status,
            Self {
                body: response.into_body(),
                buffered: String::new(),
            },
        )
    }

    /// The next SSE block (lines up to a blank line), within a second.
    async fn block(&mut self) -> String {
        loop {
            if let Some(end) = self.buffered.find("\n\n") {
                let block = self.buffered[..end].to_owned();
                self.buffered.drain(..end + 2);
                return block;
            }
            let frame = tokio::time::timeout(Duration::from_secs(2), self.body.frame())
                .await
                .expect("an SSE block within 2 s")
                .expect("the stream is open")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.buffered.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }

    /// The next event block: its id (if any) and JSON data, skipping heartbeats.
    async fn event(&mut self) -> (Option<u64>, Value) {
        loop {
            let block = self.block().await;
            let mut id = None;
            let mut data = None;
            for line in block.lines() {
                if let Some(rest) = line.strip_prefix("id: ").or(line.strip_prefix("id:")) {
                    id = Some(rest.trim().parse().unwrap());
                } else if let Some(rest) =
                    line.strip_prefix("data: ").or(line.strip_prefix("data:"))
                {
                    data = Some(serde_json::from_str(rest).unwrap());
                }
            }
            if let Some(data) = data {
                return (id, data);
            }
        }
    }

    /// Whether the stream ends (within 2 s), heartbeats aside.
    async fn ends(&mut self) -> bool {
        tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                match self.body.frame().await {
                    None => return true,
                    Some(Ok(frame)) => {
                        let data = frame.into_data().unwrap_or_default();
                        let text = String::from_utf8_lossy(&data).into_owned();
                        if !text.lines().all(|l| l.is_empty() || l.starts_with(':')) {
                            panic!("expected the end, got {text:?}");
                        }
                    }
                    Some(Err(_)) => return true,
                }
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Nothing but heartbeats for a short while.
    async fn quiet(&mut self) {
        let waited = tokio::time::timeout(Duration::from_millis(200), async {
            loop {
                let block = self.block().await;
                if !block.lines().all(|l| l.starts_with(':')) {
                    return block;
                }
            }
        })
        .await;
        if let Ok(block) = waited {
            panic!("expected no event, got {block:?}");
        }
    }
}

async fn dashboard(app: &TestApp, user: &str, body: Value) -> String {
    app.post("/dashboards")
        .tenant("t1")
        .as_user(user)
        .json(&body)
        .send()
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn add_widget(app: &TestApp, user: &str, dashboard: &str) -> String {
    app.post(&format!("/dashboards/{dashboard}/widgets"))
        .tenant("t1")
        .as_user(user)
        .json(
            &json!({"type": "text", "title": "Note", "position": {"x": 0, "y": 0, "w": 4, "h": 2}}),
        )
        .send()
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn sse_streams_events_with_ids_heartbeats_and_resume() {
    let app = app(EventSettings::default().with_heartbeat(Duration::from_millis(50)));
    let (status, mut sse) =
        Sse::open(&app, "", &[("x-tenant-id", "t1"), ("x-user-id", "alice")]).await;
    assert_eq!(status, StatusCode::OK);

    // Idle: a heartbeat comment.
    let heartbeat = sse.block().await;
    assert_eq!(heartbeat, ": heartbeat");

    let id = dashboard(&app, "alice", json!({"name": "Sales"})).await;
    let widget = add_widget(&app, "alice", &id).await;
    app.post(&format!("/dashboards/{id}/layout"))
        .tenant("t1")
        .as_user("alice")
        .json(&json!({"positions": [{"widget_id": widget, "x": 4, "y": 0, "w": 4, "h": 2}]}))
        .send()
        .await;
    let (first, created) = sse.event().await;
    assert_eq!(created["type"], "dashboard.created");
    assert_eq!(created["dashboard_id"], id.as_str());
    assert_eq!(created["tenant_id"], "t1");
    assert_eq!(created["actor"], "alice");
    assert!(created["at"].is_string());
    assert_eq!(created["id"].as_u64(), first);
    let (second, added) = sse.event().await;
    assert_eq!(added["type"], "widget.created");
    assert_eq!(added["widget_id"], widget.as_str());
    assert!(second > first);

    // Resume with Last-Event-ID (what EventSource sends on reconnect): what came after it.
    let first = first.unwrap().to_string();
    let (_, mut resumed) = Sse::open(
        &app,
        "",
        &[
            ("x-tenant-id", "t1"),
            ("x-user-id", "alice"),
            ("last-event-id", &first),
        ],
    )
    .await;
    let (again, replayed) = resumed.event().await;
    assert_eq!(
        (again, replayed["type"].clone()),
        (second, json!("widget.created"))
    );
    // ?last_event_id= does the same for clients that cannot set headers.
    let (_, mut resumed) = Sse::open(
        &app,
        &format!("?last_event_id={first}"),
        &[("x-tenant-id", "t1"), ("x-user-id", "alice")],
    )
    .await;
    assert_eq!(resumed.event().await.0, second);

    // From an id never given: a reset without an id, telling the client to refetch.
    let (_, mut stale) = Sse::open(
        &app,
        "",
        &[
            ("x-tenant-id", "t1"),
            ("x-user-id", "alice"),
            ("last-event-id", "3"),
        ],
    )
    .await;
    let (id, reset) = stale.event().await;
    assert_eq!(id, None);
    assert_eq!(reset["type"], "reset");
}

#[tokio::test]
async fn sse_delivers_only_what_the_caller_may_see_and_what_it_asked_for() {
    let app = app(EventSettings::default());
    let (_, mut bob) = Sse::open(&app, "", &[("x-tenant-id", "t1"), ("x-user-id", "bob")]).await;
    let (_, mut other_tenant) =
        Sse::open(&app, "", &[("x-tenant-id", "t2"), ("x-test-admin", "true")]).await;
    let private = dashboard(&app, "alice", json!({"name": "Private"})).await;
    add_widget(&app, "alice", &private).await;
    bob.quiet().await;
    let public = dashboard(&app, "alice", json!({"name": "Public", "is_public": true})).await;
    let (_, event) = bob.event().await;
    assert_eq!(
        event["dashboard_id"],
        public.as_str(),
        "bob's first event is the public one"
    );
    other_tenant.quiet().await;

    // Filters.
    let (_, mut narrow) = Sse::open(
        &app,
        &format!("?kinds=widget.created&dashboard_id={public}"),
        &[("x-tenant-id", "t1"), ("x-user-id", "alice")],
    )
    .await;
    add_widget(&app, "alice", &private).await;
    let widget = add_widget(&app, "alice", &public).await;
    let (_, event) = narrow.event().await;
    assert_eq!(
        (event["type"].as_str(), event["widget_id"].as_str()),
        (Some("widget.created"), Some(widget.as_str()))
    );

    // Notifications reach their audience through the same stream.
    let (_, mut billing) = Sse::open(
        &app,
        "?kinds=notification",
        &[
            ("x-tenant-id", "t1"),
            ("x-user-id", "carol"),
            ("x-test-roles", "billing"),
        ],
    )
    .await;
    let (_, mut sales) = Sse::open(
        &app,
        "?kinds=notification",
        &[
            ("x-tenant-id", "t1"),
            ("x-user-id", "dave"),
            ("x-test-roles", "sales"),
        ],
    )
    .await;
    app.engine()
        .notify(
            "t1",
            Audience::roles(["billing"]),
            "payment_due",
            json!({"invoice": 7}),
        )
        .await
        .unwrap();
    let (_, event) = billing.event().await;
    assert_eq!(event["type"], "notification");
    assert_eq!(event["kind"], "payment_due");
    assert_eq!(event["payload"], json!({"invoice": 7}));
    sales.quiet().await;
}

#[tokio::test]
async fn bad_subscriptions_are_refused_with_reasons() {
    let app = app(EventSettings::default().with_max_connections_per_user(1));
    let headers = [("x-tenant-id", "t1"), ("x-user-id", "alice")];
    let uuid = || "01a24eed-430e-7700-9ef4-ecf3c20fbe1b".to_owned();
    for (query, field) in [
        ("?kinds=widget.moved".to_owned(), "kinds"),
        ("?dashboard_id=nope".to_owned(), "dashboard_id"),
        ("?last_event_id=x".to_owned(), "last_event_id"),
        (
            "?last_event_id=18446744073709551616".to_owned(),
            "last_event_id",
        ),
        (
            format!("?dashboard_id={}", vec![uuid(); 101].join(",")),
            "dashboard_id",
        ),
    ] {
        let (status, mut sse) = Sse::open(&app, &query, &headers).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body = sse.body.collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"][0]["loc"][1], field, "{body}");
        sse.buffered.clear();
    }
    let (status, _) = Sse::open(&app, "", &[("x-user-id", "alice")]).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the host's auth runs first"
    );

    let (status, _held) = Sse::open(&app, "", &headers).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = Sse::open(&app, "", &headers).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let body = refused.body.collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("live-event connections"));

    // /ws without an upgrade: a JSON 400 pointing to /events.
    let response = app.get("/ws").tenant("t1").as_user("bob").send().await;
    response.expect_detail_containing(400, "WebSocket upgrade");
}

async fn ws(
    address: std::net::SocketAddr,
    user: &str,
    query: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://{address}/api/prismiq/ws{query}")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("x-tenant-id", "t1".parse().unwrap());
    request
        .headers_mut()
        .insert("x-user-id", user.parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    socket
}

async fn next_text(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> WsMessage {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(2), socket.next())
            .await
            .expect("a message within 2 s")
            .expect("open")
            .expect("readable");
        if !matches!(message, WsMessage::Ping(_) | WsMessage::Pong(_)) {
            return message;
        }
    }
}

#[tokio::test]
async fn websocket_sends_events_answers_pings_and_closes_with_reasons() {
    let app = app(EventSettings::default().with_heartbeat(Duration::from_millis(50)));
    let address = app.serve().await;
    let mut socket = ws(address, "alice", "").await;

    socket
        .send(WsMessage::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut socket).await,
        WsMessage::Text(r#"{"type":"pong"}"#.into())
    );

    // Heartbeats are protocol pings.
    let ping = tokio::time::timeout(Duration::from_secs(2), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(matches!(ping, WsMessage::Ping(_)), "{ping:?}");

    let id = dashboard(&app, "alice", json!({"name": "Live"})).await;
    let WsMessage::Text(text) = next_text(&mut socket).await else {
        panic!()
    };
    let event: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(event["type"], "dashboard.created");
    assert_eq!(event["dashboard_id"], id.as_str());

    // Resume over a WebSocket: ?last_event_id=.
    let after = event["id"].as_u64().unwrap() - 1;
    let mut resumed = ws(address, "alice", &format!("?last_event_id={after}")).await;
    let WsMessage::Text(text) = next_text(&mut resumed).await else {
        panic!()
    };
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["id"],
        event["id"]
    );

    // A graceful shutdown closes the connections with 1001.
    app.engine().close_subscriptions();
    match next_text(&mut resumed).await {
        WsMessage::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001, "{frame:?}"),
        other => panic!("expected a close frame, got {other:?}"),
    }

    for (message, code) in [
        (WsMessage::Binary(vec![1, 2, 3].into()), 1003),
        (WsMessage::Text("not json".into()), 1007),
        (WsMessage::Text(r#"{"type":"subscribe"}"#.into()), 1008),
        (WsMessage::Text("x".repeat(5000).into()), 1009),
    ] {
        let mut socket = ws(address, "bob", "").await;
        socket.send(message).await.unwrap();
        match next_text(&mut socket).await {
            WsMessage::Close(Some(frame)) => assert_eq!(u16::from(frame.code), code, "{frame:?}"),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn share_links_stream_their_dashboard_only_until_revoked() {
    let app = app(EventSettings::default());
    let shared = dashboard(&app, "alice", json!({"name": "Wall screen"})).await;
    let other = dashboard(&app, "alice", json!({"name": "Other"})).await;
    let link = app
        .post(&format!("/dashboards/{shared}/shares"))
        .tenant("t1")
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let token = link["token"].as_str().unwrap();
    let at = |token: &str| format!("/api/prismiq/shared/{token}/events");
    let (status, mut wall) = Sse::open_at(&app, &at(token), &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "no host auth: the token is the credential"
    );

    add_widget(&app, "alice", &other).await;
    let widget = add_widget(&app, "alice", &shared).await;
    let (id, event) = wall.event().await;
    assert!(id.is_some());
    assert_eq!(event["type"], "widget.created");
    assert_eq!(event["widget_id"], widget.as_str());
    assert_eq!(event["dashboard_id"], shared.as_str());
    assert!(
        event.get("tenant_id").is_none(),
        "no tenant through a link: {event}"
    );
    assert_eq!(event["actor"], Value::Null, "no user ids through a link");

    // Other links' events are not passed on; revoking this one ends the stream.
    let second = app
        .post(&format!("/dashboards/{shared}/shares"))
        .tenant("t1")
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    app.delete(&format!(
        "/dashboards/{shared}/shares/{}",
        second["id"].as_str().unwrap()
    ))
    .tenant("t1")
    .as_user("alice")
    .send()
    .await
    .expect(200);
    wall.quiet().await;
    app.delete(&format!(
        "/dashboards/{shared}/shares/{}",
        link["id"].as_str().unwrap()
    ))
    .tenant("t1")
    .as_user("alice")
    .send()
    .await
    .expect(200);
    assert!(wall.ends().await, "a revoked link's stream ends");
    let (status, _) = Sse::open_at(&app, &at(token), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = Sse::open_at(&app, &at("not-a-token"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An expiring link's stream ends when it expires; a deleted dashboard ends it too.
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(600)).to_rfc3339();
    let expiring = app
        .post(&format!("/dashboards/{shared}/shares"))
        .tenant("t1")
        .as_user("alice")
        .json(&json!({"expires_at": soon}))
        .send()
        .await
        .expect(201);
    let (status, mut expiring) =
        Sse::open_at(&app, &at(expiring["token"].as_str().unwrap()), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(expiring.ends().await, "an expired link's stream ends");

    let lasting = app
        .post(&format!("/dashboards/{shared}/shares"))
        .tenant("t1")
        .as_user("alice")
        .json(&json!({}))
        .send()
        .await
        .expect(201);
    let (_, mut lasting) = Sse::open_at(&app, &at(lasting["token"].as_str().unwrap()), &[]).await;
    app.delete(&format!("/dashboards/{shared}"))
        .tenant("t1")
        .as_user("alice")
        .send()
        .await
        .expect(200);
    let (_, event) = lasting.event().await;
    assert_eq!(event["type"], "dashboard.deleted");
    assert!(lasting.ends().await);
}
