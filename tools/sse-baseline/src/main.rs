//! The HTTP stack alone, as the demo serves it (axum 0.8 `serve` with `into_make_service`,
//! tokio's multi-threaded runtime, mimalloc): `GET /api/prismiq/events` answers a
//! server-sent-event stream that never sends anything but a heartbeat. What one idle
//! connection costs here is what any SSE route costs on this stack, Prismiq or not;
//! `scripts/bench-events.sh` measures it next to the demo's `/events`.
//!
//! ```text
//! PORT=18999 cargo run --release -p sse-baseline
//! ```

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;

async fn events() -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    Sse::new(futures_util::stream::pending())
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(18999);
    let app = axum::Router::new().route("/api/prismiq/events", get(events));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("sse-baseline listening on http://127.0.0.1:{port}/api/prismiq/events");
    axum::serve(listener, app.into_make_service()).await
}
