//! A small Chrome DevTools Protocol client: just enough of the protocol to drive one tab of
//! headless Chromium from a test, without a CDP crate.
//!
//! [`Browser`] starts Chromium on a fresh profile and learns the browser's DevTools websocket from
//! the `DevTools listening on ws://…` line Chromium prints on stderr. [`Page`] connects to that
//! websocket, opens a tab (`Target.createTarget`) and attaches to it with a flat session
//! (`Target.attachToTarget {flatten: true}`). Commands go out as
//! `{id, method, params, sessionId}`; a reader task routes what comes back: a message with an `id`
//! answers the command waiting on that id, anything else is an event and is queued for the page.
//! The page reads the queue whenever it waits (for a load, or for the tab to settle) and keeps
//! every sign of trouble it sees: console errors, uncaught exceptions, error log entries (where
//! Content-Security-Policy violations and failed resource loads show up), failed requests and
//! HTTP statuses of 400 and above (but for the browser's own probe of `/favicon.ico`).
//!
//! Everything waits with a timeout, so a browser that hangs fails the test instead of hanging CI.
//!
//! It also holds the two process helpers the test needs for the demo as well as for Chromium: a
//! temporary directory removed on drop, and a reader of a child's output line by line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long Chromium may take to start and print its DevTools address.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a command may wait for its answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a navigation may take until the page's `load` event.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// A tab with no event for this long is taken to have settled.
const QUIET: Duration = Duration::from_millis(300);
/// The longest a tab is given to settle.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest message taken from the browser: full-page screenshots come as one base64 string.
const MAX_MESSAGE: usize = 256 << 20;

// ---------------------------------------------------------------------------------------------
// Process helpers
// ---------------------------------------------------------------------------------------------

/// A fresh directory under the system's temporary directory, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(prefix: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The lines of a child's output, read on a thread of their own until the output ends.
///
/// The thread keeps reading after the receiver is dropped: a pipe nobody empties would
/// eventually block the child on its next write.
pub(crate) fn lines_of(output: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut output = BufReader::new(output);
        let mut line = Vec::new();
        loop {
            line.clear();
            match output.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let _ = tx.send(String::from_utf8_lossy(&line).trim_end().to_owned());
                }
            }
        }
    });
    rx
}

/// Waits up to `within` for a line that `wanted` accepts and returns what `wanted` made of it.
/// Panics, with the lines seen so far, if none comes in time or the output ends first.
pub(crate) fn wait_for_line<T>(
    lines: &Receiver<String>,
    within: Duration,
    what: &str,
    mut wanted: impl FnMut(&str) -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            Ok(line) => match wanted(&line) {
                Some(found) => return found,
                None => seen.push(line),
            },
            Err(RecvTimeoutError::Timeout) => panic!(
                "no {what} within {within:?}; the output so far:\n{}",
                seen.join("\n")
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "the output ended before {what}; it was:\n{}",
                seen.join("\n")
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The browser process
// ---------------------------------------------------------------------------------------------

/// Headless Chromium on a profile of its own, killed (and the profile removed) on drop.
pub(crate) struct Browser {
    child: Child,
    /// The browser's DevTools websocket, `ws://127.0.0.1:…/devtools/browser/…`.
    websocket: String,
    /// Dropped after the process is killed (fields drop after `Drop::drop`).
    _profile: TempDir,
}

impl Browser {
    /// Starts Chromium and waits for its DevTools websocket. Panics, saying how to install it,
    /// when no Chromium is found: the test must not pass by testing nothing.
    pub(crate) fn launch() -> Self {
        let binary = find_chromium();
        let profile = TempDir::new("prismiq-chromium");
        let mut child = Command::new(&binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-port=0",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}. {INSTALL}", binary.display()));
        let stderr = child.stderr.take().expect("Chromium's stderr is piped");
        // Owned before waiting, so that a Chromium that never gets ready is killed all the same.
        let mut browser = Self {
            child,
            websocket: String::new(),
            _profile: profile,
        };
        browser.websocket = wait_for_line(
            &lines_of(stderr),
            LAUNCH_TIMEOUT,
            &format!("`DevTools listening on ws://…` from {}", binary.display()),
            |line| {
                line.split_once("DevTools listening on ")
                    .map(|(_, url)| url.trim().to_owned())
            },
        );
        browser
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$CHROMIUM`, else `chromium` on the `PATH`, else `/usr/bin/chromium`, else `chromium-browser`
/// or `google-chrome` on the `PATH`.
fn find_chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let on_path = |name: &str| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    };
    on_path("chromium")
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|path| path.is_file()))
        .or_else(|| on_path("chromium-browser"))
        .or_else(|| on_path("google-chrome"))
        .unwrap_or_else(|| {
            panic!(
                "this test drives headless Chromium, and none was found (looked at $CHROMIUM, \
                 `chromium` on the PATH, /usr/bin/chromium, `chromium-browser` and \
                 `google-chrome` on the PATH). {INSTALL}"
            )
        })
}

/// How to get a Chromium, for the messages of a test that cannot find or start one.
const INSTALL: &str = "The browser test needs Chromium: install it, e.g. `sudo apt-get install \
                       chromium` on Debian or Ubuntu (.ci/run does so on CI), or set CHROMIUM to \
                       the path of a Chromium or Chrome binary.";

// ---------------------------------------------------------------------------------------------
// The protocol
// ---------------------------------------------------------------------------------------------

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// The commands sent and not answered yet, by id.
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// One tab of the browser, attached over the browser's DevTools websocket, and what it reported.
pub(crate) struct Page {
    sink: SplitSink<Socket, Message>,
    pending: Pending,
    /// The events, in the order the browser sent them.
    events: mpsc::UnboundedReceiver<Value>,
    /// Routes the browser's messages to `pending` and `events`.
    reader: JoinHandle<()>,
    next_id: u64,
    /// The tab's session id, sent with every command meant for the tab.
    session: String,
    /// How many `load` events the tab has fired.
    loads: u64,
    /// The URL of each request the tab made, by request id (failures only carry the id).
    requests: HashMap<String, String>,
    /// Everything that went wrong, in words.
    problems: Vec<String>,
}

impl Page {
    /// Opens a blank tab in `browser`, with the `Page`, `Runtime`, `Log` and `Network` domains
    /// reporting.
    pub(crate) async fn open(browser: &Browser) -> Self {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let connecting = tokio_tungstenite::connect_async_with_config(
            browser.websocket.as_str(),
            Some(config),
            true,
        );
        let (socket, _) = timeout(COMMAND_TIMEOUT, connecting)
            .await
            .unwrap_or_else(|_| panic!("no connection to {} in time", browser.websocket))
            .unwrap_or_else(|e| panic!("connect to {}: {e}", browser.websocket));
        let (sink, mut stream) = socket.split();
        let pending = Pending::default();
        let (event_tx, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn({
            let pending = Arc::clone(&pending);
            async move {
                while let Some(Ok(message)) = stream.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let Ok(message) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    match message.get("id").and_then(Value::as_u64) {
                        Some(id) => {
                            let waiting = lock(&pending).remove(&id);
                            if let Some(waiting) = waiting {
                                let _ = waiting.send(message);
                            }
                        }
                        None => {
                            let _ = event_tx.send(message);
                        }
                    }
                }
                // The browser is gone: the commands still waiting fail now rather than time out.
                lock(&pending).clear();
            }
        });
        let mut page = Self {
            sink,
            pending,
            events,
            reader,
            next_id: 0,
            session: String::new(),
            loads: 0,
            requests: HashMap::new(),
            problems: Vec::new(),
        };

        let target = page
            .send("Target.createTarget", json!({"url": "about:blank"}), false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let target_id = target["targetId"]
            .as_str()
            .unwrap_or_else(|| panic!("Target.createTarget answered {target}"))
            .to_owned();
        let attached = page
            .send(
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
                false,
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        page.session = attached["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Target.attachToTarget answered {attached}"))
            .to_owned();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            page.call(&format!("{domain}.enable"), json!({})).await;
        }
        page
    }

    /// Goes to `url` and waits for the page's `load` event (redirects are followed).
    pub(crate) async fn navigate(&mut self, url: &str) {
        let loads = self.loads;
        let navigated = self.call("Page.navigate", json!({"url": url})).await;
        if let Some(error) = navigated["errorText"].as_str() {
            panic!("navigating to {url} failed: {error}");
        }
        self.wait_for_load(loads, &format!("navigating to {url}"))
            .await;
    }

    /// Evaluates `expression`, which navigates (a form's submission, say), and waits for the
    /// next page's `load` event.
    pub(crate) async fn evaluate_and_wait_for_load(&mut self, expression: &str) {
        let loads = self.loads;
        self.evaluate::<Value>(expression).await;
        self.wait_for_load(loads, &format!("evaluating `{expression}`"))
            .await;
    }

    /// Evaluates `expression` in the page and returns its value, converted to `T`.
    pub(crate) async fn evaluate<T: DeserializeOwned>(&mut self, expression: &str) -> T {
        let evaluated = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        if let Some(details) = evaluated.get("exceptionDetails") {
            let error = details["exception"]["description"]
                .as_str()
                .or_else(|| details["text"].as_str())
                .unwrap_or("an exception");
            panic!("evaluating `{expression}` threw {error}");
        }
        let value = evaluated["result"]
            .get("value")
            .cloned()
            .unwrap_or(Value::Null);
        serde_json::from_value(value.clone()).unwrap_or_else(|e| {
            panic!(
                "`{expression}` gave {value}, not a {}: {e}",
                std::any::type_name::<T>()
            )
        })
    }

    /// Saves a PNG of the whole page (beyond the viewport too) at `path`, making its directory.
    pub(crate) async fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("a screenshot's data"))
            .expect("a screenshot in base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Lets the tab settle (reads events until none comes for a moment), then panics with
    /// everything that went wrong since the tab was opened, if anything did.
    pub(crate) async fn assert_no_problems(&mut self, doing: &str) {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let quiet = (Instant::now() + QUIET).min(deadline);
            match timeout_at(quiet, self.events.recv()).await {
                Ok(Some(event)) => self.observe(&event),
                Ok(None) | Err(_) => break,
            }
        }
        assert!(
            self.problems.is_empty(),
            "the browser reported problems by the end of {doing}:\n  {}",
            self.problems.join("\n  ")
        );
    }

    /// Asks the browser to quit and waits a little for it to close the connection. Best effort:
    /// [`Browser`] kills the process on drop anyway.
    pub(crate) async fn close(mut self) {
        let closing = self.send("Browser.close", json!({}), false);
        let _ = timeout(Duration::from_secs(5), closing).await;
        let _ = timeout(Duration::from_secs(5), &mut self.reader).await;
    }

    /// Sends a command to the tab and returns its result; panics if it fails.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, true)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends a command, to the tab's session or else to the browser, and waits for its answer.
    async fn send(&mut self, method: &str, params: Value, to_tab: bool) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if to_tab {
            command["sessionId"] = Value::from(self.session.as_str());
        }
        let (answer_tx, answer) = oneshot::channel();
        lock(&self.pending).insert(id, answer_tx);
        let sending = self.sink.send(Message::Text(command.to_string().into()));
        let sent = match timeout(COMMAND_TIMEOUT, sending).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("sending {method}: {e}")),
            Err(_) => Err(format!("sending {method} took over {COMMAND_TIMEOUT:?}")),
        };
        if let Err(e) = sent {
            lock(&self.pending).remove(&id);
            return Err(e);
        }
        let answer = match timeout(COMMAND_TIMEOUT, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => return Err(format!("the browser went away before answering {method}")),
            Err(_) => return Err(format!("no answer to {method} within {COMMAND_TIMEOUT:?}")),
        };
        match answer.get("error") {
            Some(error) => Err(format!("{method} failed: {error}")),
            None => Ok(answer["result"].clone()),
        }
    }

    /// Reads events until the tab has fired more than `loads` `load` events.
    async fn wait_for_load(&mut self, loads: u64, doing: &str) {
        let deadline = Instant::now() + LOAD_TIMEOUT;
        while self.loads <= loads {
            match timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => self.observe(&event),
                Ok(None) => panic!("the browser went away while {doing}"),
                Err(_) => panic!(
                    "the page did not finish loading within {LOAD_TIMEOUT:?} of {doing}; \
                     problems so far: {:?}",
                    self.problems
                ),
            }
        }
    }

    /// Takes in one event of the browser's: counts loads, keeps request URLs and notes problems.
    fn observe(&mut self, event: &Value) {
        if event["sessionId"].as_str() != Some(self.session.as_str()) {
            return;
        }
        let params = &event["params"];
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let problem = match event["method"].as_str().unwrap_or_default() {
            "Page.loadEventFired" => {
                self.loads += 1;
                None
            }
            "Runtime.consoleAPICalled" => {
                let kind = text(&params["type"]);
                matches!(kind.as_str(), "error" | "assert").then(|| {
                    let args = params["args"].as_array().map_or(&[][..], Vec::as_slice);
                    let args: Vec<String> = args.iter().map(describe).collect();
                    format!("console.{kind}: {}", args.join(" "))
                })
            }
            "Runtime.exceptionThrown" => {
                let details = &params["exceptionDetails"];
                let error = details["exception"]["description"]
                    .as_str()
                    .or_else(|| details["text"].as_str())
                    .unwrap_or("?");
                Some(format!(
                    "uncaught exception: {error} ({}:{})",
                    text(&details["url"]),
                    details["lineNumber"]
                ))
            }
            "Log.entryAdded" => {
                let entry = &params["entry"];
                let wrong = entry["level"] == "error" && !is_favicon_probe(&text(&entry["url"]));
                wrong.then(|| {
                    format!(
                        "{} error: {} {}",
                        text(&entry["source"]),
                        text(&entry["text"]),
                        text(&entry["url"])
                    )
                })
            }
            "Network.requestWillBeSent" => {
                self.requests
                    .insert(text(&params["requestId"]), text(&params["request"]["url"]));
                None
            }
            "Network.loadingFailed" => {
                let url = self
                    .requests
                    .get(params["requestId"].as_str().unwrap_or_default())
                    .map_or("?", String::as_str);
                if is_favicon_probe(url) {
                    return;
                }
                let mut failure = format!("request failed: {url}: {}", text(&params["errorText"]));
                if params["canceled"] == true {
                    failure.push_str(" (canceled)");
                }
                if let Some(reason) = params["blockedReason"].as_str() {
                    failure.push_str(&format!(" (blocked: {reason})"));
                }
                Some(failure)
            }
            "Network.responseReceived" => {
                let response = &params["response"];
                let status = response["status"].as_u64().unwrap_or_default();
                let wrong = status >= 400 && !is_favicon_probe(&text(&response["url"]));
                wrong.then(|| {
                    format!(
                        "HTTP {status} {} for {}",
                        text(&response["statusText"]),
                        text(&response["url"])
                    )
                })
            }
            _ => None,
        };
        self.problems.extend(problem);
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Whether `url` is `/favicon.ico` at the root of a site: the browser asks for it by itself when
/// a page names no icon. A 404 there says nothing of the page under test, so it is no problem;
/// an icon the page does name and that fails to load still is.
fn is_favicon_probe(url: &str) -> bool {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|slash| &rest[slash..]))
        .is_some_and(|path| path == "/favicon.ico")
}

/// A console call's argument in words: its value, else its description, else its type.
fn describe(arg: &Value) -> String {
    match (&arg["value"], arg["description"].as_str()) {
        (Value::String(value), _) => value.clone(),
        (Value::Null, Some(description)) => description.to_owned(),
        (Value::Null, None) => arg["type"].as_str().unwrap_or("?").to_owned(),
        (value, _) => value.to_string(),
    }
}

/// The pending commands, even if a panic poisoned the lock (the map is still consistent).
fn lock(pending: &Pending) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Value>>> {
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}
