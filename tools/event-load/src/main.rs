//! `event-load`: the load run of live events, for `scripts/bench-events.sh`.
//!
//! It opens one server-sent-event subscription (`GET /api/prismiq/events`) per user of each
//! tenant, paced so that the server's accept backlog is never overrun, waits until every one
//! has its response head (so the server has registered it), lets them idle, and reads the
//! server's resident memory (`VmRSS` of `/proc/<pid>/status`) before and after. Then it makes
//! changes over HTTP, possibly on another instance, and reports per subscriber and change how
//! long the change's event took to arrive:
//!
//! - **from the request sent**: from just before the change's request is written to the read
//!   that completed the event (its blank line). The change commits after the request is sent,
//!   so this is an upper bound of commit-to-receipt.
//! - **from the response received**: from the read that completed the change's response. The
//!   server publishes the event after the commit and answers after publishing, so this is
//!   close to commit-to-receipt, and can be negative: an event may arrive before the response.
//!
//! Writers and readers run in one process, so both kinds of time come from one monotonic clock.
//! The readers run on a runtime of their own (`--threads` workers), the writers and the
//! coordinator on the main thread, so that a change's send and response times are not held
//! up behind thousands of readers being woken.
//!
//! Changes (`--trigger`):
//! - `patch`: `PATCH /api/prismiq/dashboards/{id}` `{"description": …}` of a public dashboard
//!   that the tool creates in each tenant first (as `--writer`, its owner): a
//!   `dashboard.updated` event to every user of the tenant;
//! - `notify`: `POST /api/demo/notify` `{"kind":"load",…}` as `--writer`, who must be an
//!   admin: a notification to the whole tenant.
//!
//! Schedules (`--schedule`):
//! - `together`: `--rounds` rounds, each changing every tenant at once (one request per
//!   tenant, on connections of their own, sent back to back), then waiting until every
//!   subscriber has the round's event, then `--pause`;
//! - `each`: `--changes` changes one after another, tenants in turn, one every `--interval`.
//!
//! Events are matched to changes by order: a subscriber's n-th measured event is its tenant's
//! n-th change (changes of one tenant are made one after another, each after the previous one's
//! response). The tool checks that every subscriber of a tenant saw the same event id for the
//! same change.
//!
//! ```text
//! event-load --tenants 4 --users 2500 --server-pid 1234 http://127.0.0.1:8080
//! event-load --tenants 4 --users 250 --schedule each --changes 200 --interval-ms 50 \
//!     --write-url http://127.0.0.1:8081 --server-pid 1235 http://127.0.0.1:8082
//! ```
//!
//! It prints a table and a last line of `key=value` figures (`result: …`), and with `--json`
//! writes everything to a file. The exit status is 1 when a subscription failed or an event
//! did not arrive, after printing what was measured.

mod http;
mod procfs;
mod report;
mod sse;
mod stats;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use crate::http::{Connection, Origin};
use crate::procfs::Process;
use crate::report::{Change, Group, Measured, Memory, Setup};
use crate::sse::{Outcome, Progress, Subscription};

const USAGE: &str = "\
usage: event-load [OPTIONS] URL

  URL                        the instance subscribers connect to: http://HOST:PORT
      --write-url URL        the instance changes are made on (URL)
      --tenants N            tenants PREFIX0..PREFIX{N-1} (4)
      --users N              users u0..u{N-1} per tenant, one subscription each (2500)
      --tenant-prefix TEXT   (load-t)
      --writer USER          who creates the dashboards and makes the changes (load-writer)
      --trigger KIND         patch | notify (patch)
      --schedule KIND        together | each (together)
      --rounds N             together: rounds of one change per tenant (5)
      --pause-ms MS          together: pause after each round (1000)
      --changes N            each: changes, tenants in turn (200)
      --interval-ms MS       each: one change every MS (50)
      --connect-rate N       subscriptions opened per second, at most (2000)
      --pending N            subscriptions awaiting their response head at once, at most (256)
      --source-addrs A,B     local addresses to bind subscriptions to, in turn (none)
      --server-pid PID       read this process's VmRSS and CPU time
      --settle-ms MS         idle time after all are connected, before reading VmRSS (3000)
      --timeout-s S          longest wait for a response head or for a change's events (30)
      --threads N            worker threads reading the subscriptions (1)
      --json PATH            also write the figures as JSON
      --label TEXT           a name for the run, printed with its figures

Prints a table and a line `result: subscribers=N … sent_p99_ms=… resp_p99_ms=…`.";

const EVENTS_PATH: &str = "/api/prismiq/events";
const DASHBOARDS_PATH: &str = "/api/prismiq/dashboards";
const NOTIFY_PATH: &str = "/api/demo/notify";

/// What a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// `PATCH` a public dashboard: `dashboard.updated`.
    Patch,
    /// `POST /api/demo/notify` to the tenant: `notification`.
    Notify,
}

impl Trigger {
    /// What the `data:` line of the event a change raises contains.
    fn marker(self) -> &'static [u8] {
        match self {
            Self::Patch => br#""type":"dashboard.updated""#,
            Self::Notify => br#""type":"notification""#,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Patch => "PATCH of a public dashboard (dashboard.updated)",
            Self::Notify => "POST /api/demo/notify to the tenant (notification)",
        }
    }
}

/// When changes are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schedule {
    /// Rounds of one change in every tenant at once.
    Together,
    /// One change at a time, tenants in turn, paced.
    Each,
}

/// The run, as the command line asks for it.
#[derive(Debug)]
struct Options {
    base: Origin,
    write: Origin,
    tenants: usize,
    users: usize,
    tenant_prefix: String,
    writer: String,
    trigger: Trigger,
    schedule: Schedule,
    rounds: usize,
    pause: Duration,
    changes: usize,
    interval: Duration,
    connect_rate: usize,
    pending: usize,
    sources: Vec<IpAddr>,
    server_pid: Option<u32>,
    settle: Duration,
    timeout: Duration,
    threads: usize,
    json: Option<PathBuf>,
    label: Option<String>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut url = None;
        let mut write_url = None;
        let mut tenants = 4;
        let mut users = 2500;
        let mut tenant_prefix = "load-t".to_owned();
        let mut writer = "load-writer".to_owned();
        let mut trigger = Trigger::Patch;
        let mut schedule = Schedule::Together;
        let mut rounds = 5;
        let mut pause_ms = 1000;
        let mut changes = 200;
        let mut interval_ms = 50;
        let mut connect_rate = 2000;
        let mut pending = 256;
        let mut sources = Vec::new();
        let mut server_pid = None;
        let mut settle_ms = 3000;
        let mut timeout_s = 30;
        let mut threads = 1;
        let mut json = None;
        let mut label = None;
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--write-url" => write_url = Some(value()?),
                "--tenants" => tenants = number(&arg, &value()?)?,
                "--users" => users = number(&arg, &value()?)?,
                "--tenant-prefix" => tenant_prefix = value()?,
                "--writer" => writer = value()?,
                "--trigger" => {
                    trigger = match value()?.as_str() {
                        "patch" => Trigger::Patch,
                        "notify" => Trigger::Notify,
                        other => return Err(format!("--trigger is patch or notify, not {other}")),
                    };
                }
                "--schedule" => {
                    schedule = match value()?.as_str() {
                        "together" => Schedule::Together,
                        "each" => Schedule::Each,
                        other => {
                            return Err(format!("--schedule is together or each, not {other}"));
                        }
                    };
                }
                "--rounds" => rounds = number(&arg, &value()?)?,
                "--pause-ms" => pause_ms = number(&arg, &value()?)?,
                "--changes" => changes = number(&arg, &value()?)?,
                "--interval-ms" => interval_ms = number(&arg, &value()?)?,
                "--connect-rate" => connect_rate = number(&arg, &value()?)?,
                "--pending" => pending = number(&arg, &value()?)?,
                "--source-addrs" => {
                    sources = value()?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| s.trim().parse().map_err(|_| format!("bad address {s:?}")))
                        .collect::<Result<_, _>>()?;
                }
                "--server-pid" => server_pid = Some(number(&arg, &value()?)?),
                "--settle-ms" => settle_ms = number(&arg, &value()?)?,
                "--timeout-s" => timeout_s = number(&arg, &value()?)?,
                "--threads" => threads = number(&arg, &value()?)?,
                "--json" => json = Some(PathBuf::from(value()?)),
                "--label" => label = Some(value()?),
                "-h" | "--help" => return Err(String::new()),
                _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
                _ if url.is_none() => url = Some(arg),
                _ => return Err(format!("unexpected argument {arg}")),
            }
        }
        let url = url.ok_or("no URL given")?;
        let base = Origin::parse(&url)?;
        let write = match write_url {
            Some(url) => Origin::parse(&url)?,
            None => base.clone(),
        };
        let positive = [
            ("--tenants", tenants),
            ("--users", users),
            ("--connect-rate", connect_rate),
            ("--pending", pending),
            ("--threads", threads),
            ("--timeout-s", timeout_s as usize),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        let changes_made = match schedule {
            Schedule::Together => rounds,
            Schedule::Each => changes,
        };
        if changes_made == 0 {
            return Err("make at least one change (--rounds, --changes)".to_owned());
        }
        Ok(Self {
            base,
            write,
            tenants,
            users,
            tenant_prefix,
            writer,
            trigger,
            schedule,
            rounds,
            pause: Duration::from_millis(pause_ms),
            changes,
            interval: Duration::from_millis(interval_ms),
            connect_rate,
            pending,
            sources,
            server_pid,
            settle: Duration::from_millis(settle_ms),
            timeout: Duration::from_secs(timeout_s),
            threads,
            json,
            label,
        })
    }

    fn subscribers(&self) -> usize {
        self.tenants * self.users
    }

    fn tenant(&self, index: usize) -> String {
        format!("{}{index}", self.tenant_prefix)
    }

    /// The run as the report describes it.
    fn setup(&self) -> Setup {
        let schedule = match self.schedule {
            Schedule::Together => format!(
                "{} rounds, each changing all {} tenants at once",
                self.rounds, self.tenants
            ),
            Schedule::Each => format!(
                "{} changes one after another, tenants in turn, one every {} ms",
                self.changes,
                self.interval.as_millis()
            ),
        };
        Setup {
            label: self.label.clone(),
            tenants: self.tenants,
            users: self.users,
            base: self.base.authority.clone(),
            write: self.write.authority.clone(),
            trigger: self.trigger.describe().to_owned(),
            schedule,
            server_pid: self.server_pid,
            settle: self.settle,
        }
    }
}

fn number<T: std::str::FromStr>(option: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{option} needs a number, got {value:?}"))
}

/// One tenant's keep-alive connection for its changes, and what it changes.
#[derive(Debug)]
struct Writer {
    tenant: usize,
    tenant_id: String,
    connection: Connection,
    /// The public dashboard a `patch` change updates.
    dashboard: Option<String>,
}

impl Writer {
    async fn open(options: &Options, tenant: usize) -> Result<Self, String> {
        let connection = Connection::open(&options.write).await?;
        let mut writer = Self {
            tenant,
            tenant_id: options.tenant(tenant),
            connection,
            dashboard: None,
        };
        if options.trigger == Trigger::Patch {
            let body = json!({
                "name": "event-load",
                "description": "receives the changes of tools/event-load",
                "is_public": true,
            });
            let request = writer.request(options, "POST", DASHBOARDS_PATH, &body);
            let response = writer.connection.exchange(&request).await?;
            if response.status != 201 {
                return Err(format!(
                    "POST {DASHBOARDS_PATH} in tenant {}: status {}: {}",
                    writer.tenant_id,
                    response.status,
                    response.body_text(300)
                ));
            }
            let created: Value = serde_json::from_slice(&response.body)
                .map_err(|e| format!("POST {DASHBOARDS_PATH}: the response is not JSON: {e}"))?;
            let id = created["id"]
                .as_str()
                .ok_or_else(|| format!("POST {DASHBOARDS_PATH}: no id in the response"))?;
            writer.dashboard = Some(id.to_owned());
        }
        Ok(writer)
    }

    fn request(&self, options: &Options, method: &str, path: &str, body: &Value) -> Vec<u8> {
        http::request(
            method,
            &options.write,
            path,
            &[
                ("X-Tenant-ID", &self.tenant_id),
                ("X-User-ID", &options.writer),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// Makes change number `seq` and times it.
    async fn change(
        &mut self,
        options: &Options,
        seq: usize,
        group: usize,
    ) -> Result<Change, String> {
        let (method, path, body, expect) = match (options.trigger, &self.dashboard) {
            (Trigger::Patch, Some(id)) => (
                "PATCH",
                format!("{DASHBOARDS_PATH}/{id}"),
                json!({ "description": format!("event-load change {seq}") }),
                200,
            ),
            (Trigger::Patch, None) => return Err("no dashboard to change".to_owned()),
            (Trigger::Notify, _) => (
                "POST",
                NOTIFY_PATH.to_owned(),
                json!({ "kind": "load", "payload": { "change": seq } }),
                202,
            ),
        };
        let request = self.request(options, method, &path, &body);
        let sent = Instant::now();
        let response = self.connection.exchange(&request).await?;
        let responded = Instant::now();
        if response.status != expect {
            return Err(format!(
                "{method} {path} in tenant {}: status {} (expected {expect}): {}",
                self.tenant_id,
                response.status,
                response.body_text(300)
            ));
        }
        Ok(Change {
            tenant: self.tenant,
            group,
            sent,
            responded,
        })
    }
}

/// Reads the server's (if a pid was given) and this process's resident memory.
fn memory(server: Option<Process>) -> Result<Memory, String> {
    Ok(Memory {
        server_kib: server.map(Process::rss_kib).transpose()?,
        client_kib: Process::This.rss_kib()?,
    })
}

/// The CPU time of the server (if a pid was given) and of this process.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    server: Option<Duration>,
    client: Duration,
}

impl Cpu {
    fn read(server: Option<Process>) -> Result<Self, String> {
        Ok(Self {
            server: server.map(Process::cpu_time).transpose()?,
            client: Process::This.cpu_time()?,
        })
    }

    /// Milliseconds used since `earlier`: (server, client).
    fn since(&self, earlier: &Self) -> (Option<u128>, u128) {
        let server = match (self.server, earlier.server) {
            (Some(now), Some(then)) => Some(now.saturating_sub(then).as_millis()),
            _ => None,
        };
        (
            server,
            self.client.saturating_sub(earlier.client).as_millis(),
        )
    }
}

async fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

/// Opens the subscriptions, paced, on the readers' runtime.
async fn connect(
    options: &Options,
    readers: &Handle,
    progress: &Arc<Progress>,
    stop: &watch::Receiver<bool>,
) -> Vec<(usize, JoinHandle<Outcome>)> {
    let pending = Arc::new(Semaphore::new(options.pending));
    // A batch every 10 ms.
    let per_tick = options.connect_rate.div_ceil(100).max(1);
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut handles = Vec::with_capacity(options.subscribers());
    for i in 0..options.subscribers() {
        if i % per_tick == 0 {
            ticker.tick().await;
        }
        let permit = pending
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let tenant = i % options.tenants;
        let user = format!("u{}", i / options.tenants);
        let tenant_id = options.tenant(tenant);
        let request = http::request(
            "GET",
            &options.base,
            EVENTS_PATH,
            &[
                ("X-Tenant-ID", &tenant_id),
                ("X-User-ID", &user),
                ("Accept", "text/event-stream"),
            ],
            b"",
        );
        let subscription = Subscription {
            tenant,
            target: options.base.addr,
            source: (!options.sources.is_empty())
                .then(|| options.sources[i % options.sources.len()]),
            request,
            marker: options.trigger.marker(),
            head_timeout: options.timeout,
        };
        let task = sse::subscribe(subscription, progress.clone(), permit, stop.clone());
        handles.push((tenant, readers.spawn(task)));
    }
    handles
}

/// Waits until every ready subscriber of the changes' tenants has `expected` more events than
/// at `from` (or the time-out).
async fn await_delivery(options: &Options, progress: &Progress, from: u64, expected: u64) -> bool {
    let deadline = Instant::now() + options.timeout;
    wait_until(deadline, || {
        progress.received.load(Ordering::Relaxed) >= from + expected
    })
    .await
}

fn ready_in(progress: &Progress, tenant: usize) -> u64 {
    progress.ready_by_tenant[tenant].load(Ordering::Relaxed) as u64
}

/// Makes the changes the schedule asks for.
async fn make_changes(
    options: &Arc<Options>,
    writers: &mut Vec<Writer>,
    progress: &Progress,
    server: Option<Process>,
) -> Result<Vec<Group>, String> {
    let mut groups = Vec::new();
    match options.schedule {
        Schedule::Together => {
            for round in 0..options.rounds {
                let from = progress.received.load(Ordering::Relaxed);
                let expected: u64 = (0..options.tenants).map(|t| ready_in(progress, t)).sum();
                let cpu = Cpu::read(server)?;
                let started = Instant::now();
                let tasks: Vec<_> = writers
                    .drain(..)
                    .map(|mut writer| {
                        let options = options.clone();
                        tokio::spawn(async move {
                            let change = writer.change(&options, round, round).await;
                            (writer, change)
                        })
                    })
                    .collect();
                let mut changes = Vec::new();
                for task in tasks {
                    let (writer, change) =
                        task.await.map_err(|e| format!("a writer failed: {e}"))?;
                    writers.push(writer);
                    changes.push(change?);
                }
                let delivered = await_delivery(options, progress, from, expected).await;
                let span = started.elapsed();
                let (server_cpu_ms, client_cpu_ms) = Cpu::read(server)?.since(&cpu);
                if !delivered {
                    eprintln!(
                        "event-load: round {}: not every event arrived within {:?}",
                        round + 1,
                        options.timeout
                    );
                }
                groups.push(Group {
                    name: format!("{}", round + 1),
                    changes,
                    server_cpu_ms,
                    client_cpu_ms,
                    span,
                });
                tokio::time::sleep(options.pause).await;
            }
        }
        Schedule::Each => {
            let from = progress.received.load(Ordering::Relaxed);
            let mut expected = 0;
            let cpu = Cpu::read(server)?;
            let started = Instant::now();
            let mut changes = Vec::with_capacity(options.changes);
            for seq in 0..options.changes {
                let tenant = seq % options.tenants;
                let at = started + options.interval * u32::try_from(seq).unwrap_or(u32::MAX);
                tokio::time::sleep_until(at.into()).await;
                changes.push(writers[tenant].change(options, seq, 0).await?);
                expected += ready_in(progress, tenant);
            }
            if !await_delivery(options, progress, from, expected).await {
                eprintln!(
                    "event-load: not every event arrived within {:?} of the last change",
                    options.timeout
                );
            }
            let span = started.elapsed();
            let (server_cpu_ms, client_cpu_ms) = Cpu::read(server)?.since(&cpu);
            groups.push(Group {
                name: "all".to_owned(),
                changes,
                server_cpu_ms,
                client_cpu_ms,
                span,
            });
        }
    }
    Ok(groups)
}

async fn run(options: Arc<Options>, readers: Handle) -> Result<Measured, String> {
    let server = options.server_pid.map(Process::Pid);
    let mut writers = Vec::with_capacity(options.tenants);
    for tenant in 0..options.tenants {
        writers.push(Writer::open(&options, tenant).await?);
    }
    let before = memory(server)?;

    let progress = Arc::new(Progress::new(options.tenants));
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let handles = connect(&options, &readers, &progress, &stopped).await;
    let total = options.subscribers();
    // Every subscription ends up ready or failed: each waits for its head at most --timeout-s.
    wait_until(Instant::now() + options.timeout * 2, || {
        progress.ready.load(Ordering::Relaxed) + progress.failed.load(Ordering::Relaxed) >= total
    })
    .await;
    let connect_time = started.elapsed();
    let connected = progress.ready.load(Ordering::Relaxed);
    eprintln!(
        "event-load: {connected} of {total} subscriptions open in {:.2} s; idling {:?}",
        connect_time.as_secs_f64(),
        options.settle
    );
    tokio::time::sleep(options.settle).await;
    let idle = memory(server)?;

    let changed = make_changes(&options, &mut writers, &progress, server).await;
    let after = memory(server)?;
    let _ = stop.send(true);
    let mut outcomes = Vec::with_capacity(handles.len());
    for (tenant, handle) in handles {
        let outcome = handle.await.unwrap_or_else(|e| Outcome {
            failure: Some(format!("the subscriber's task failed: {e}")),
            ..Outcome::default()
        });
        outcomes.push((tenant, outcome));
    }
    Ok(Measured {
        connected,
        connect_time,
        first_failure: progress.first_failure(),
        before,
        idle,
        after,
        groups: changed?,
        outcomes,
    })
}

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => Arc::new(options),
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("event-load: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // One descriptor per subscription, plus the writers and the runtime's own.
    let needed = options.subscribers() as u64 + options.tenants as u64 + 64;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit >= needed => {}
        Ok(limit) => {
            eprintln!(
                "event-load: {} subscriptions need about {needed} file descriptors; the hard \
                 limit (ulimit -Hn) allows {limit}",
                options.subscribers()
            );
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("event-load: cannot raise the file descriptor limit: {error}");
            return ExitCode::FAILURE;
        }
    }
    let readers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .thread_name("event-load-reader")
        .enable_all()
        .build();
    let main = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let (readers, main) = match (readers, main) {
        (Ok(readers), Ok(main)) => (readers, main),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("event-load: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let measured = match main.block_on(run(options.clone(), readers.handle().clone())) {
        Ok(measured) => measured,
        Err(message) => {
            eprintln!("event-load: {message}");
            return ExitCode::FAILURE;
        }
    };
    let report = report::report(&options.setup(), &measured);
    print!("{}", report.text);
    if let Some(path) = &options.json {
        let written = serde_json::to_string_pretty(&report.json)
            .map_err(|e| e.to_string())
            .and_then(|json| std::fs::write(path, json + "\n").map_err(|e| e.to_string()));
        if let Err(error) = written {
            eprintln!("event-load: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    // Ten thousand sockets close faster without waiting for each task to be dropped in turn.
    readers.shutdown_background();
    if report.complete {
        ExitCode::SUCCESS
    } else {
        eprintln!("event-load: not every subscription was open, or not every event arrived");
        ExitCode::FAILURE
    }
}
