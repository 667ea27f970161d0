//! One subscriber: a connection to `GET /api/prismiq/events`, read as cheaply as can be. The
//! task holds no read buffer between reads (bytes are read into a stack array only once the
//! socket is readable), just the parser's state and the times of the events it received.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, watch};

use crate::http::{Chunked, Head, head_end};

/// What all subscribers report as they go, for the coordinator to wait on.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Subscribers whose `200` response head has arrived.
    pub(crate) ready: AtomicUsize,
    /// The same, per tenant (by index).
    pub(crate) ready_by_tenant: Vec<AtomicUsize>,
    /// Subscribers that failed (before or after their head arrived).
    pub(crate) failed: AtomicUsize,
    /// Measured events received, over all subscribers.
    pub(crate) received: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl Progress {
    /// Nothing yet, for subscribers of `tenants` tenants.
    pub(crate) fn new(tenants: usize) -> Self {
        Self {
            ready_by_tenant: (0..tenants).map(|_| AtomicUsize::new(0)).collect(),
            ..Self::default()
        }
    }

    fn fail(&self, message: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_failure.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert_with(|| message.to_owned());
    }

    /// The first failure any subscriber met.
    pub(crate) fn first_failure(&self) -> Option<String> {
        self.first_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// How to open one subscription.
#[derive(Debug)]
pub(crate) struct Subscription {
    /// The subscriber's tenant, by index.
    pub(crate) tenant: usize,
    /// The server's address.
    pub(crate) target: SocketAddr,
    /// The local address to bind to, if any (port chosen by the kernel).
    pub(crate) source: Option<IpAddr>,
    /// The whole `GET` request.
    pub(crate) request: Vec<u8>,
    /// What the `data:` line of a measured event contains (`"type":"dashboard.updated"`).
    pub(crate) marker: &'static [u8],
    /// How long the response head may take.
    pub(crate) head_timeout: Duration,
}

/// A measured event as one subscriber received it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received {
    /// When the read that completed the event (its blank line) returned.
    pub(crate) at: Instant,
    /// Its `id:` (0 when it had none).
    pub(crate) id: u64,
}

/// What one subscriber saw, handed back when it stops.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Whether its `200` response head arrived.
    pub(crate) ready: bool,
    /// The measured events, in the order received.
    pub(crate) received: Vec<Received>,
    /// Why the subscription failed, if it did.
    pub(crate) failure: Option<String>,
    /// `: heartbeat` comments.
    pub(crate) heartbeats: u32,
    /// Events of other kinds.
    pub(crate) other: u32,
    /// The first `reset` or `lagged` message, if any came.
    pub(crate) control: Option<String>,
}

/// Opens the subscription, reports it ready, and records measured events until `stop`
/// changes. `permit` (a place among the connections being opened) is released once the head
/// has arrived or the attempt failed.
pub(crate) async fn subscribe(
    subscription: Subscription,
    progress: std::sync::Arc<Progress>,
    permit: OwnedSemaphorePermit,
    mut stop: watch::Receiver<bool>,
) -> Outcome {
    let mut parser = Parser::new(subscription.marker);
    let timeout = subscription.head_timeout;
    let tenant = subscription.tenant;
    let opened = tokio::select! {
        biased;
        _ = stop.changed() => Err("stopped before the response head arrived".to_owned()),
        opened = tokio::time::timeout(timeout, open(&subscription, &mut parser, &progress)) => {
            opened.unwrap_or_else(|_| Err(format!("no response head within {timeout:?}")))
        }
    };
    drop(permit);
    drop(subscription);
    let stream = match opened {
        Ok(stream) => stream,
        Err(message) => return parser.failed(message, &progress),
    };
    parser.outcome.ready = true;
    progress.ready.fetch_add(1, Ordering::Relaxed);
    if let Some(ready) = progress.ready_by_tenant.get(tenant) {
        ready.fetch_add(1, Ordering::Relaxed);
    }
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            readable = stream.readable() => {
                if let Err(error) = readable {
                    return parser.failed(format!("cannot read the stream: {error}"), &progress);
                }
                match read_once(&stream, &mut parser, &progress) {
                    Ok(true) => {}
                    Ok(false) => {
                        return parser.failed("the server ended the stream".to_owned(), &progress);
                    }
                    Err(message) => return parser.failed(message, &progress),
                }
            }
        }
    }
    parser.outcome
}

/// Connects, sends the request and reads the head (and whatever followed it).
async fn open(
    subscription: &Subscription,
    parser: &mut Parser,
    progress: &Progress,
) -> Result<TcpStream, String> {
    let socket = match subscription.target {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| format!("cannot make a socket: {e}"))?;
    if let Some(source) = subscription.source {
        socket
            .bind(SocketAddr::new(source, 0))
            .map_err(|e| format!("cannot bind to {source}: {e}"))?;
    }
    let mut stream = socket
        .connect(subscription.target)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", subscription.target))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
    stream
        .write_all(&subscription.request)
        .await
        .map_err(|e| format!("cannot send the request: {e}"))?;
    while !parser.has_head() {
        stream
            .readable()
            .await
            .map_err(|e| format!("cannot read the response: {e}"))?;
        if !read_once(&stream, parser, progress)? {
            return Err("the server closed the connection before its response head".to_owned());
        }
    }
    Ok(stream)
}

/// One non-blocking read into a stack buffer, fed to the parser; false at end of stream.
fn read_once(stream: &TcpStream, parser: &mut Parser, progress: &Progress) -> Result<bool, String> {
    let mut bytes = [0; 4096];
    match stream.try_read(&mut bytes) {
        Ok(0) => Ok(false),
        Ok(n) => {
            parser.feed(&bytes[..n], Instant::now(), progress)?;
            Ok(true)
        }
        Err(error) if error.kind() == ErrorKind::WouldBlock => Ok(true),
        Err(error) => Err(format!("cannot read the stream: {error}")),
    }
}

/// The response as it arrives: the head, then the body (de-chunked) split into events.
#[derive(Debug)]
struct Parser {
    marker: &'static [u8],
    stage: Stage,
    /// Body text not yet ended by a blank line.
    pending: Vec<u8>,
    outcome: Outcome,
}

/// Where in the response the parser is.
#[derive(Debug)]
enum Stage {
    /// Reading the head: what came so far.
    Head(Vec<u8>),
    /// Reading a chunked body.
    Chunked(Chunked),
    /// Reading a body delimited by the end of the connection.
    Plain,
}

impl Parser {
    fn new(marker: &'static [u8]) -> Self {
        Self {
            marker,
            stage: Stage::Head(Vec::new()),
            pending: Vec::new(),
            outcome: Outcome::default(),
        }
    }

    fn has_head(&self) -> bool {
        !matches!(self.stage, Stage::Head(_))
    }

    fn failed(mut self, message: String, progress: &Progress) -> Outcome {
        progress.fail(&message);
        self.outcome.failure = Some(message);
        self.outcome
    }

    /// Takes bytes read at `at`.
    fn feed(&mut self, bytes: &[u8], at: Instant, progress: &Progress) -> Result<(), String> {
        match &mut self.stage {
            Stage::Head(head) => {
                head.extend_from_slice(bytes);
                let Some(end) = head_end(head) else {
                    return Ok(());
                };
                let parsed = Head::parse(&head[..end])?;
                let rest = head.split_off(end);
                if parsed.status != 200 {
                    let body = String::from_utf8_lossy(&rest);
                    return Err(format!(
                        "status {}: {}",
                        parsed.status,
                        body.chars().take(300).collect::<String>()
                    ));
                }
                self.stage = if parsed.chunked {
                    Stage::Chunked(Chunked::default())
                } else {
                    Stage::Plain
                };
                return if rest.is_empty() {
                    Ok(())
                } else {
                    self.feed(&rest, at, progress)
                };
            }
            Stage::Chunked(decoder) => {
                if decoder.decode(bytes, &mut self.pending)? {
                    return Err("the server ended the stream".to_owned());
                }
            }
            Stage::Plain => self.pending.extend_from_slice(bytes),
        }
        let mut start = 0;
        while let Some(end) = find(&self.pending[start..], b"\n\n") {
            let block = start..start + end;
            start += end + 2;
            self.block(block, at, progress);
        }
        self.pending.drain(..start);
        if self.pending.is_empty() && self.pending.capacity() > 1024 {
            self.pending = Vec::new();
        }
        Ok(())
    }

    /// One event (or comment) ended by a blank line: `self.pending[range]`.
    fn block(&mut self, range: std::ops::Range<usize>, at: Instant, progress: &Progress) {
        let block = &self.pending[range];
        let mut data: Option<&[u8]> = None;
        let mut id = 0;
        let mut comment = false;
        for line in block.split(|&b| b == b'\n') {
            if let Some(rest) = line.strip_prefix(b"data:") {
                data = Some(rest);
            } else if let Some(rest) = line.strip_prefix(b"id:") {
                id = std::str::from_utf8(rest)
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                    .unwrap_or(0);
            } else if line.starts_with(b":") {
                comment = true;
            }
        }
        match data {
            None if comment => self.outcome.heartbeats += 1,
            None => {}
            Some(data) if find(data, self.marker).is_some() => {
                self.outcome.received.push(Received { at, id });
                progress.received.fetch_add(1, Ordering::Relaxed);
            }
            Some(data)
                if find(data, br#""type":"reset""#).is_some()
                    || find(data, br#""type":"lagged""#).is_some() =>
            {
                self.outcome
                    .control
                    .get_or_insert_with(|| String::from_utf8_lossy(data).trim().to_owned());
            }
            Some(_) => self.outcome.other += 1,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: &[u8] = br#""type":"dashboard.updated""#;

    fn chunk(text: &str) -> String {
        format!("{:x}\r\n{text}\r\n", text.len())
    }

    #[test]
    fn events_are_counted_in_any_pieces() {
        let wire = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n{}{}{}{}",
            chunk(": heartbeat\n\n"),
            chunk("data: {\"id\":7,\"type\":\"dashboard.updated\"}\nid: 7\n\n"),
            chunk("data: {\"id\":8,\"type\":\"widget.updated\"}\nid: 8\n\ndata: {\"id\":9,"),
            chunk(
                "\"type\":\"dashboard.updated\"}\nid: 9\n\ndata: {\"type\":\"lagged\",\"skipped\":3}\n\n"
            ),
        );
        let wire = wire.as_bytes();
        for split in 1..wire.len() {
            let progress = Progress::default();
            let mut parser = Parser::new(MARKER);
            let now = Instant::now();
            parser.feed(&wire[..split], now, &progress).unwrap();
            parser.feed(&wire[split..], now, &progress).unwrap();
            assert!(parser.has_head());
            let ids: Vec<_> = parser.outcome.received.iter().map(|r| r.id).collect();
            assert_eq!(ids, [7, 9], "split at {split}");
            assert_eq!(progress.received.load(Ordering::Relaxed), 2);
            assert_eq!(parser.outcome.heartbeats, 1);
            assert_eq!(parser.outcome.other, 1);
            assert_eq!(
                parser.outcome.control.as_deref(),
                Some(r#"{"type":"lagged","skipped":3}"#)
            );
            assert!(parser.pending.is_empty());
        }
    }

    #[test]
    fn a_refusal_is_an_error() {
        let progress = Progress::default();
        let mut parser = Parser::new(MARKER);
        let wire = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 9\r\n\r\ntoo many!";
        let error = parser.feed(wire, Instant::now(), &progress).unwrap_err();
        assert_eq!(error, "status 429: too many!");
    }
}
