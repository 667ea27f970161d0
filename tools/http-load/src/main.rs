//! `http-load`: a small HTTP/1.1 load generator for the benchmarks in `scripts/bench-store.sh`.
//!
//! It keeps `-c` keep-alive connections busy for `-d` seconds, each sending the same request
//! again as soon as the previous answer is read, and prints one line:
//!
//! ```text
//! requests=41234 errors=0 seconds=10.000 rps=4123.4 mean_ms=1.934 p50_ms=1.812 p99_ms=4.210
//! ```
//!
//! Requests of the warm-up period (`--warmup`) are sent but not counted. A request counts when
//! it starts after the warm-up and its whole response arrives before the end; its latency is
//! from writing the request to reading the last byte of the response. Any response whose
//! status is not the expected one (`--expect`, 200 by default) or any connection failure is an
//! error: the first is printed on stderr and the exit status is 1.
//!
//! ```text
//! http-load -c 8 -d 10 -H 'X-Tenant-ID: acme' http://127.0.0.1:8080/api/prismiq/dashboards
//! http-load -X PUT --body-file layout.json -H 'Content-Type: application/json' URL
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use load_tally::Tally;
use tokio::net::TcpStream;
use tokio::time::Instant;

const USAGE: &str = "\
usage: http-load [OPTIONS] URL

  -X, --method METHOD       request method (GET)
  -H, --header 'NAME: VALUE' a request header; repeat for more
      --body-file PATH      send the file's contents as the body of every request
  -c, --connections N       concurrent keep-alive connections (8)
  -d, --duration SECONDS    how long to measure (10)
      --warmup SECONDS      load before measuring, not counted (1)
      --threads N           threads of the load generator itself (1)
      --expect STATUS       the status every response must have (200)

Prints: requests=N errors=N seconds=S rps=R mean_ms=M p50_ms=P p99_ms=Q";

/// What to send, how hard and for how long.
#[derive(Debug)]
struct Options {
    method: Method,
    uri: Uri,
    host: String,
    port: u16,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    threads: usize,
    expect: StatusCode,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut method = Method::GET;
        let mut url = None;
        let mut headers = Vec::new();
        let mut body = Bytes::new();
        let mut connections = 8;
        let mut duration: f64 = 10.0;
        let mut warmup: f64 = 1.0;
        let mut threads = 1;
        let mut expect = StatusCode::OK;
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "-X" | "--method" => {
                    method = value()?.parse().map_err(|e| format!("bad method: {e}"))?;
                }
                "-H" | "--header" => {
                    let header = value()?;
                    let (name, value) = header
                        .split_once(':')
                        .ok_or_else(|| format!("a header is 'NAME: VALUE', got {header:?}"))?;
                    headers.push((
                        name.trim()
                            .parse()
                            .map_err(|e| format!("bad header name {name:?}: {e}"))?,
                        value
                            .trim()
                            .parse()
                            .map_err(|e| format!("bad header value {value:?}: {e}"))?,
                    ));
                }
                "--body-file" => {
                    let path = value()?;
                    body = std::fs::read(&path)
                        .map_err(|e| format!("cannot read {path}: {e}"))?
                        .into();
                }
                "-c" | "--connections" => connections = number(&arg, &value()?)?,
                "-d" | "--duration" => duration = number(&arg, &value()?)?,
                "--warmup" => warmup = number(&arg, &value()?)?,
                "--threads" => threads = number(&arg, &value()?)?,
                "--expect" => {
                    expect = StatusCode::from_u16(number(&arg, &value()?)?)
                        .map_err(|e| format!("bad status: {e}"))?;
                }
                "-h" | "--help" => return Err(String::new()),
                _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
                _ if url.is_none() => url = Some(arg),
                _ => return Err(format!("unexpected argument {arg}")),
            }
        }
        let url = url.ok_or("no URL given")?;
        let uri: Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("only http:// URLs are supported, got {url:?}"));
        }
        let host = uri.host().ok_or("the URL has no host")?.to_owned();
        let port = uri.port_u16().unwrap_or(80);
        if connections == 0 || threads == 0 {
            return Err("connections and threads must be at least 1".to_owned());
        }
        if !(duration > 0.0 && duration.is_finite() && warmup >= 0.0 && warmup.is_finite()) {
            return Err("the duration must be positive, the warm-up not negative".to_owned());
        }
        Ok(Self {
            method,
            uri,
            host,
            port,
            headers,
            body,
            connections,
            duration: Duration::from_secs_f64(duration),
            warmup: Duration::from_secs_f64(warmup),
            threads,
            expect,
        })
    }

    /// The request, in origin form with a `Host` header, as every connection sends it.
    fn request(&self) -> Request<Full<Bytes>> {
        let path = self.uri.path_and_query().map_or("/", |path| path.as_str());
        let mut request = Request::builder()
            .method(self.method.clone())
            .uri(path)
            .header(HOST, format!("{}:{}", self.host, self.port));
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
            .body(Full::new(self.body.clone()))
            .expect("the parts were validated when parsed")
    }
}

fn number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{option} needs a number, got {value:?}"))
}

async fn connect(options: &Options) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect((options.host.as_str(), options.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", options.host, options.port))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    tokio::spawn(async move {
        // Errors surface on the sender too.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole response.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), hyper::Error> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// One connection's loop: send, read, repeat until `until`, reconnecting after a failure.
async fn drive(options: Arc<Options>, measure_from: Instant, until: Instant) -> Tally {
    let mut tally = Tally::default();
    'connections: while Instant::now() < until {
        let mut sender = match tokio::time::timeout_at(until, connect(&options)).await {
            Ok(Ok(sender)) => sender,
            Ok(Err(message)) => {
                tally.error(message);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Err(_) => break,
        };
        loop {
            let started = Instant::now();
            if started >= until {
                break 'connections;
            }
            let request = options.request();
            let Ok(result) = tokio::time::timeout_at(until, exchange(&mut sender, request)).await
            else {
                // Still in flight at the end: not counted.
                break 'connections;
            };
            match result {
                Ok((status, _)) if status == options.expect => {
                    if started >= measure_from {
                        tally.record(started.elapsed().as_micros());
                    }
                }
                Ok((status, body)) => {
                    let body = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                    tally.error(format!(
                        "{} {}: status {status} (expected {}): {body}",
                        options.method, options.uri, options.expect
                    ));
                }
                Err(error) => {
                    tally.error(format!("{} {}: {error}", options.method, options.uri));
                    continue 'connections;
                }
            }
        }
    }
    tally
}

async fn run(options: Arc<Options>) -> Tally {
    let measure_from = Instant::now() + options.warmup;
    let until = measure_from + options.duration;
    let tasks: Vec<_> = (0..options.connections)
        .map(|_| tokio::spawn(drive(options.clone(), measure_from, until)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        match task.await {
            Ok(tally) => total.merge(tally),
            Err(error) => total.error(format!("a connection task failed: {error}")),
        }
    }
    total
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => Arc::new(options),
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("http-load: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = if options.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(options.threads);
        builder
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("http-load: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime
        .block_on(run(options.clone()))
        .report("http-load", "request", options.duration)
}
