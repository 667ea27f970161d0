//! `/events` (server-sent events) and `/ws` (WebSocket): the live events a caller may see.
//!
//! Both take the same query parameters: `dashboard_id` (repeated or comma-separated) and
//! `kinds` (comma-separated event kinds) to narrow what is sent, and `last_event_id` to resume
//! (for `/events`, the `Last-Event-ID` header that browsers send on reconnect wins over it).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use prismiq_core::AuthContext;
use prismiq_core::events::{EventFilter, EventKind, EventStream, Message};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::PrismiqState;

/// The close codes `/ws` ends a connection with, besides the standard ones.
pub mod close_code {
    /// The server is shutting down or its event bus closed (standard: going away).
    pub const GOING_AWAY: u16 = 1001;
    /// The client sent a binary message; only text (JSON) is read (standard: unsupported
    /// data).
    pub const BINARY: u16 = 1003;
    /// The client sent text that is not JSON (standard: invalid payload).
    pub const NOT_JSON: u16 = 1007;
    /// The client sent JSON that is not `{"type":"ping"}` (standard: policy violation).
    pub const UNKNOWN_MESSAGE: u16 = 1008;
    /// The client sent a message over 4 KiB (standard: message too big).
    pub const TOO_BIG: u16 = 1009;
    /// The client fell too far behind: a `lagged` message was sent before closing.
    /// Reconnect with `last_event_id` to resume.
    pub const LAGGED: u16 = 4008;
}

/// The most dashboards one subscription may name.
const MAX_DASHBOARDS: usize = 100;

/// The largest message a client may send on `/ws`, in bytes.
const MAX_CLIENT_MESSAGE: usize = 4 * 1024;

pub(crate) fn routes<S, A>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PrismiqState: axum::extract::FromRef<S>,
    A: FromRequestParts<S> + AuthContext + Send + 'static,
{
    Router::new()
        .route("/events", get(events::<A>))
        .route("/ws", get(websocket::<A>))
}

/// Live events as server-sent events: one `data:` line of JSON per event, with its `id:`
/// (resume with `Last-Event-ID`), a heartbeat comment when idle, and `reset` / `lagged`
/// messages without an id.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/events",
    tag = "events",
    operation_id = "stream_events",
    params(EventsQuery),
    responses(
        (status = 200, description = "`text/event-stream`: each `data:` line is an `Event` (or `{\"type\":\"reset\",\"reason\":…}` / `{\"type\":\"lagged\",\"skipped\":…}`)", body = prismiq_core::events::Event, content_type = "text/event-stream"),
        (status = 422, response = crate::error_responses::Unprocessable),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
async fn events<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let filter = filter(query.as_deref(), &headers)?;
    let stream = state.engine().subscribe(&auth, filter).await?;
    Ok(sse(stream, state.engine().event_settings().heartbeat()))
}

/// An event stream as a `text/event-stream` response.
pub(crate) fn sse(stream: EventStream, heartbeat: Duration) -> Response {
    let body = stream.map(|message| Ok::<_, Infallible>(sse_event(&message)));
    let mut response = Sse::new(body)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response();
    // Proxies that buffer responses (nginx) would hold events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn sse_event(message: &Message) -> SseEvent {
    let event = SseEvent::default().data(message.to_json());
    match message.id() {
        Some(id) => event.id(id.to_string()),
        None => event,
    }
}

/// Live events over a WebSocket: one JSON text message per event (as `/events` sends them);
/// `{"type":"ping"}` is answered `{"type":"pong"}`. Close codes: 1001 server going away,
/// 1003 binary message, 1007 text that is not JSON, 1008 JSON that is not a ping, 1009 a
/// message over 4 KiB, 4008 lagged (after a `lagged` message).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/ws",
    tag = "events",
    operation_id = "websocket_events",
    params(EventsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, response = crate::error_responses::BadRequest),
        (status = 422, response = crate::error_responses::Unprocessable),
        (status = 429, response = crate::error_responses::TooManyRequests),
    ),
    security(("tenant_header" = [])),
))]
async fn websocket<A: AuthContext>(
    State(state): State<PrismiqState>,
    auth: A,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::BadRequest(format!(
            "GET /ws expects a WebSocket upgrade ({}); for server-sent events use GET /events",
            rejection.body_text()
        ))
    })?;
    let filter = filter(query.as_deref(), &headers)?;
    let stream = state.engine().subscribe(&auth, filter).await?;
    let heartbeat = state.engine().event_settings().heartbeat();
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, stream, heartbeat)))
}

async fn serve(mut socket: WebSocket, mut events: EventStream, heartbeat: Duration) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let close = loop {
        tokio::select! {
            message = events.next_message() => match message {
                Some(message) => {
                    let lagged = matches!(message, Message::Lagged { .. });
                    if socket.send(WsMessage::Text(message.to_json().into())).await.is_err() {
                        return;
                    }
                    if lagged {
                        break (close_code::LAGGED, "lagged: too far behind; reconnect with last_event_id");
                    }
                }
                None => break (close_code::GOING_AWAY, "the event stream closed"),
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<Value>(&text) {
                    Ok(value) if value == json!({"type": "ping"}) => {
                        let pong = WsMessage::Text(r#"{"type":"pong"}"#.into());
                        if socket.send(pong).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => break (close_code::UNKNOWN_MESSAGE, r#"the only message understood is {"type":"ping"}"#),
                    Err(_) => break (close_code::NOT_JSON, "messages must be JSON"),
                },
                Some(Ok(WsMessage::Binary(_))) => break (close_code::BINARY, "binary messages are not accepted"),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                // Over `MAX_CLIENT_MESSAGE`, the socket refuses to read the message.
                Some(Err(err)) if err.to_string().contains("too long") => {
                    break (close_code::TOO_BIG, "messages must be at most 4 KiB")
                }
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return,
            },
            _ = ticker.tick() => {
                if socket.send(WsMessage::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    let (code, reason) = close;
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// The query parameters of `/events` and `/ws`.
#[cfg(feature = "openapi")]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct EventsQuery {
    /// Only events of these dashboards (repeat the parameter, or separate ids with commas).
    dashboard_id: Option<Vec<String>>,
    /// Only these kinds, comma-separated (`layout.updated,widget.updated`).
    kinds: Option<String>,
    /// Resume after this event id (`/events` prefers the `Last-Event-ID` header).
    last_event_id: Option<u64>,
}

/// The subscription a request asks for.
fn filter(query: Option<&str>, headers: &HeaderMap) -> Result<EventFilter, ApiError> {
    let pairs = query_pairs(query)?;
    let invalid = |field: &str, message: String, input: &str| {
        ApiError::validation(
            "value_error",
            vec![json!("query"), json!(field)],
            message,
            json!(input),
        )
    };
    let mut filter = EventFilter::all();
    let mut dashboards = 0;
    for (key, value) in &pairs {
        match key.as_str() {
            "dashboard_id" => {
                for raw in value.split(',').filter(|s| !s.is_empty()) {
                    let id = raw.trim().parse().map_err(|_| {
                        invalid(
                            "dashboard_id",
                            format!("'{raw}' is not a dashboard id"),
                            raw,
                        )
                    })?;
                    dashboards += 1;
                    if dashboards > MAX_DASHBOARDS {
                        return Err(invalid(
                            "dashboard_id",
                            format!("at most {MAX_DASHBOARDS} dashboards per subscription"),
                            raw,
                        ));
                    }
                    filter = filter.with_dashboards([id]);
                }
            }
            "kinds" => {
                for raw in value.split(',').filter(|s| !s.is_empty()) {
                    let kind: EventKind = raw.trim().parse().map_err(|_| {
                        let known: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                        invalid(
                            "kinds",
                            format!(
                                "'{raw}' is not an event kind; kinds are {}",
                                known.join(", ")
                            ),
                            raw,
                        )
                    })?;
                    filter = filter.with_kinds([kind]);
                }
            }
            _ => {}
        }
    }
    Ok(match resume_after(&pairs, headers)? {
        Some(after) => filter.after(after),
        None => filter,
    })
}

/// Where a subscription resumes: the `Last-Event-ID` header, else `?last_event_id=`.
pub(crate) fn resume_after(
    pairs: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Option<u64>, ApiError> {
    if let Some(header) = headers.get("last-event-id") {
        let value = header.to_str().unwrap_or_default();
        return event_id("Last-Event-ID", value).map(Some);
    }
    match pairs.iter().rev().find(|(key, _)| key == "last_event_id") {
        Some((_, value)) => event_id("last_event_id", value).map(Some),
        None => Ok(None),
    }
}

/// The pairs of a query string.
pub(crate) fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|err| ApiError::BadRequest(format!("query string could not be read: {err}")))
}

fn event_id(field: &str, value: &str) -> Result<u64, ApiError> {
    value.trim().parse().map_err(|_| {
        ApiError::validation(
            "int_parsing",
            vec![
                json!(if field == "Last-Event-ID" {
                    "header"
                } else {
                    "query"
                }),
                json!(field),
            ],
            format!("{field} must be an event id (a whole number), not '{value}'"),
            json!(value),
        )
    })
}
