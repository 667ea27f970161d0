//! What a run measured, the events matched to the changes that raised them, and the figures
//! printed (a table and a `result:` line) and written as JSON.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::sse::Outcome;
use crate::stats::{Summary, ms, signed_micros};

/// A change as its writer saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Change {
    /// The tenant changed, by index.
    pub(crate) tenant: usize,
    /// The group it belongs to (its round, or 0 for changes made one after another).
    pub(crate) group: usize,
    /// Just before the request was written.
    pub(crate) sent: Instant,
    /// When the read completing the response returned.
    pub(crate) responded: Instant,
}

/// Resident memory at one moment, in KiB: the server's (when its pid was given) and the
/// client's own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memory {
    /// The server's `VmRSS`.
    pub(crate) server_kib: Option<u64>,
    /// This process's `VmRSS`.
    pub(crate) client_kib: u64,
}

/// Changes reported together: a round, or all of a paced run.
#[derive(Debug)]
pub(crate) struct Group {
    /// Its name in the table.
    pub(crate) name: String,
    /// Its changes, in the order made.
    pub(crate) changes: Vec<Change>,
    /// CPU time the server spent from the first change until every event arrived.
    pub(crate) server_cpu_ms: Option<u128>,
    /// CPU time this process spent meanwhile.
    pub(crate) client_cpu_ms: u128,
    /// From the first request sent until every event arrived (or the wait timed out).
    pub(crate) span: Duration,
}

/// Everything a run measured.
#[derive(Debug)]
pub(crate) struct Measured {
    /// Subscriptions whose head arrived.
    pub(crate) connected: usize,
    /// From the first subscription opened until the last one was ready (or failed).
    pub(crate) connect_time: Duration,
    /// The first subscription failure, if any.
    pub(crate) first_failure: Option<String>,
    /// Before any subscription was opened.
    pub(crate) before: Memory,
    /// With all open and idle.
    pub(crate) idle: Memory,
    /// After the changes.
    pub(crate) after: Memory,
    /// The changes.
    pub(crate) groups: Vec<Group>,
    /// What each subscriber saw, with its tenant's index.
    pub(crate) outcomes: Vec<(usize, Outcome)>,
}

/// How the run was set up, as the report describes it.
#[derive(Debug)]
pub(crate) struct Setup {
    /// The run's name, if given.
    pub(crate) label: Option<String>,
    /// Tenants, and users (subscribers) per tenant.
    pub(crate) tenants: usize,
    /// Subscribers per tenant.
    pub(crate) users: usize,
    /// Where subscribers connected.
    pub(crate) base: String,
    /// Where changes were made.
    pub(crate) write: String,
    /// What a change was.
    pub(crate) trigger: String,
    /// When changes were made.
    pub(crate) schedule: String,
    /// The server's pid, when its memory was read.
    pub(crate) server_pid: Option<u32>,
    /// Idle time before memory was read.
    pub(crate) settle: Duration,
}

/// Latencies of one group, in microseconds.
#[derive(Debug, Default)]
struct Latencies {
    /// Per subscriber and change, from the request sent.
    from_sent: Vec<i64>,
    /// Per subscriber and change, from the response received.
    from_response: Vec<i64>,
    /// Per change, from the request sent to the response received.
    write: Vec<i64>,
    /// Subscriber and change pairs without an event.
    missing: usize,
}

/// Summaries of one group's latencies.
#[derive(Debug, Clone, Copy)]
struct Figures {
    from_sent: Option<Summary>,
    from_response: Option<Summary>,
    write: Option<Summary>,
    missing: usize,
}

impl Latencies {
    fn extend(&mut self, other: &Self) {
        self.from_sent.extend_from_slice(&other.from_sent);
        self.from_response.extend_from_slice(&other.from_response);
        self.write.extend_from_slice(&other.write);
        self.missing += other.missing;
    }

    fn figures(mut self) -> Figures {
        Figures {
            from_sent: Summary::of(&mut self.from_sent),
            from_response: Summary::of(&mut self.from_response),
            write: Summary::of(&mut self.write),
            missing: self.missing,
        }
    }
}

impl Figures {
    fn deliveries(&self) -> usize {
        self.from_sent.map_or(0, |s| s.count)
    }
}

/// The events matched to changes, and what did not fit.
#[derive(Debug, Default)]
struct Matched {
    groups: Vec<Latencies>,
    /// Measured events beyond a subscriber's tenant's changes.
    extra: usize,
    /// Events whose id differed from the one other subscribers of the tenant saw for the
    /// same change.
    id_mismatches: usize,
    /// Subscriptions that were ready and failed later.
    ended_early: usize,
    heartbeats: u64,
    other: u64,
    /// The first `reset` or `lagged` message.
    control: Option<String>,
}

/// Matches each ready subscriber's n-th event to its tenant's n-th change.
fn match_events(measured: &Measured, tenants: usize) -> Matched {
    let mut by_tenant: Vec<Vec<Change>> = vec![Vec::new(); tenants];
    let mut matched = Matched::default();
    for group in &measured.groups {
        let mut latencies = Latencies::default();
        for change in &group.changes {
            by_tenant[change.tenant].push(*change);
            latencies
                .write
                .push(signed_micros(change.responded, change.sent));
        }
        matched.groups.push(latencies);
    }
    // The id the first subscriber of a tenant saw for each of its changes.
    let mut ids: Vec<Vec<Option<u64>>> = by_tenant.iter().map(|c| vec![None; c.len()]).collect();
    for (tenant, outcome) in &measured.outcomes {
        if !outcome.ready {
            continue;
        }
        if outcome.failure.is_some() {
            matched.ended_early += 1;
        }
        matched.heartbeats += u64::from(outcome.heartbeats);
        matched.other += u64::from(outcome.other);
        if matched.control.is_none() {
            matched.control.clone_from(&outcome.control);
        }
        let changes = &by_tenant[*tenant];
        for (n, received) in outcome.received.iter().enumerate() {
            let Some(change) = changes.get(n) else {
                matched.extra += 1;
                continue;
            };
            if *ids[*tenant][n].get_or_insert(received.id) != received.id {
                matched.id_mismatches += 1;
            }
            let group = &mut matched.groups[change.group];
            group
                .from_sent
                .push(signed_micros(received.at, change.sent));
            group
                .from_response
                .push(signed_micros(received.at, change.responded));
        }
        for change in changes.iter().skip(outcome.received.len()) {
            matched.groups[change.group].missing += 1;
        }
    }
    matched
}

/// The report: text for the terminal, JSON, and whether every subscription opened and every
/// event arrived.
#[derive(Debug)]
pub(crate) struct Report {
    /// The table and the `result:` line.
    pub(crate) text: String,
    /// The same figures, and each group's.
    pub(crate) json: Value,
    /// Whether every subscription opened and every event arrived.
    pub(crate) complete: bool,
}

/// `(to - from) / n`, when both were read.
fn per(from: Option<u64>, to: Option<u64>, n: usize) -> Option<f64> {
    match (from, to) {
        (Some(from), Some(to)) if n > 0 => Some((to as f64 - from as f64) / n as f64),
        _ => None,
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn kib(value: Option<f64>) -> String {
    value.map_or("nan".to_owned(), |v| format!("{v:.2}"))
}

fn cell(summary: Option<Summary>, pick: fn(&Summary) -> i64) -> String {
    summary.map_or("-".to_owned(), |s| ms(pick(&s)))
}

fn cpu(value: Option<u128>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v} ms"))
}

fn table_row(cells: &[String]) -> String {
    const WIDTHS: [usize; 13] = [5, 7, 10, 7, 9, 9, 9, 9, 9, 9, 9, 10, 10];
    let mut row = String::from("|");
    for (cell, width) in cells.iter().zip(WIDTHS) {
        let _ = write!(row, " {cell:>width$} |");
    }
    row.push('\n');
    row
}

fn group_row(
    name: &str,
    changes: usize,
    f: &Figures,
    server: Option<u128>,
    client: u128,
) -> String {
    table_row(&[
        name.to_owned(),
        changes.to_string(),
        f.deliveries().to_string(),
        f.missing.to_string(),
        cell(f.from_sent, |s| s.p50),
        cell(f.from_sent, |s| s.p99),
        cell(f.from_sent, |s| s.max),
        cell(f.from_response, |s| s.p50),
        cell(f.from_response, |s| s.p99),
        cell(f.from_response, |s| s.max),
        cell(f.write, |s| s.p50),
        cpu(server),
        cpu(Some(client)),
    ])
}

fn summary_json(summary: Option<Summary>) -> Value {
    summary.map_or(
        Value::Null,
        |s| json!({ "count": s.count, "min": s.min, "p50": s.p50, "p99": s.p99, "max": s.max }),
    )
}

fn figures_json(f: &Figures) -> Value {
    json!({
        "deliveries": f.deliveries(),
        "missing": f.missing,
        "from_sent_us": summary_json(f.from_sent),
        "from_response_us": summary_json(f.from_response),
        "write_us": summary_json(f.write),
    })
}

/// Matches the events to the changes and writes the figures.
pub(crate) fn report(setup: &Setup, measured: &Measured) -> Report {
    let matched = match_events(measured, setup.tenants);
    let total = setup.tenants * setup.users;
    let changes: usize = measured.groups.iter().map(|g| g.changes.len()).sum();
    let server_cpu: Option<u128> = measured.groups.iter().map(|g| g.server_cpu_ms).sum();
    let client_cpu: u128 = measured.groups.iter().map(|g| g.client_cpu_ms).sum();
    let mut all = Latencies::default();
    let mut figures = Vec::new();
    for latencies in matched.groups {
        all.extend(&latencies);
        figures.push(latencies.figures());
    }
    let all = all.figures();
    let per_subscriber = per(
        measured.before.server_kib,
        measured.idle.server_kib,
        measured.connected,
    );
    let per_subscriber_after = per(
        measured.before.server_kib,
        measured.after.server_kib,
        measured.connected,
    );
    let client_per = per(
        Some(measured.before.client_kib),
        Some(measured.idle.client_kib),
        measured.connected,
    );

    let mut text = String::new();
    let label = setup
        .label
        .as_deref()
        .map_or(String::new(), |l| format!("{l}: "));
    let _ = writeln!(
        text,
        "{label}{} tenants × {} users = {total} subscribers on {}; changes on {}: {}; {}",
        setup.tenants, setup.users, setup.base, setup.write, setup.trigger, setup.schedule,
    );
    let _ = writeln!(
        text,
        "connected: {} of {total} in {:.2} s ({} failed{})",
        measured.connected,
        measured.connect_time.as_secs_f64(),
        total - measured.connected,
        measured
            .first_failure
            .as_deref()
            .map_or(String::new(), |f| format!("; first failure: {f}")),
    );
    if let (Some(pid), Some(before), Some(idle), Some(after)) = (
        setup.server_pid,
        measured.before.server_kib,
        measured.idle.server_kib,
        measured.after.server_kib,
    ) {
        let _ = writeln!(
            text,
            "server VmRSS (pid {pid}): {} before connecting, {} connected and idle ({} ms after \
             the last was ready), {} after the changes",
            mib(before),
            mib(idle),
            setup.settle.as_millis(),
            mib(after),
        );
        let _ = writeln!(
            text,
            "per idle subscriber: {} KiB (after the changes: {} KiB)",
            kib(per_subscriber),
            kib(per_subscriber_after),
        );
    }
    let _ = writeln!(
        text,
        "client VmRSS: {} idle ({} KiB per subscription)",
        mib(measured.idle.client_kib),
        kib(client_per),
    );
    let _ = writeln!(
        text,
        "\nms per subscriber and change: 'sent' from the change's request written (an upper \
         bound), 'resp' from its response read (close to the commit; negative when the event \
         came first); 'write' from request to response; CPU in 10 ms ticks"
    );
    let header = [
        "round",
        "changes",
        "deliveries",
        "missing",
        "sent p50",
        "sent p99",
        "sent max",
        "resp p50",
        "resp p99",
        "resp max",
        "write p50",
        "server CPU",
        "client CPU",
    ];
    text.push_str(&table_row(&header.map(str::to_owned)));
    text.push_str(&table_row(
        &header.map(|h| format!("{}:", "-".repeat(h.len() - 1))),
    ));
    let mut groups_json = Vec::new();
    for (group, f) in measured.groups.iter().zip(&figures) {
        text.push_str(&group_row(
            &group.name,
            group.changes.len(),
            f,
            group.server_cpu_ms,
            group.client_cpu_ms,
        ));
        let mut json = figures_json(f);
        json["round"] = json!(group.name);
        json["changes"] = json!(group.changes.len());
        json["server_cpu_ms"] = json!(group.server_cpu_ms);
        json["client_cpu_ms"] = json!(group.client_cpu_ms);
        json["span_ms"] = json!(group.span.as_millis());
        groups_json.push(json);
    }
    if measured.groups.len() > 1 {
        text.push_str(&group_row("all", changes, &all, server_cpu, client_cpu));
    }
    let _ = writeln!(
        text,
        "\nother events {}, heartbeats {}, events beyond the changes {}, events whose id \
         disagreed {}, streams ended early {}{}",
        matched.other,
        matched.heartbeats,
        matched.extra,
        matched.id_mismatches,
        matched.ended_early,
        matched
            .control
            .as_deref()
            .map_or(String::new(), |c| format!(", first reset/lagged: {c}")),
    );
    let opt = |v: Option<u64>| v.map_or("nan".to_owned(), |v| v.to_string());
    let field = |name: &str, s: Option<Summary>, pick: fn(&Summary) -> i64| {
        format!(" {name}={}", s.map_or("nan".to_owned(), |s| ms(pick(&s))))
    };
    let _ = writeln!(
        text,
        "result: subscribers={total} connected={} connect_s={:.2} rss_before_kib={} \
         rss_idle_kib={} rss_after_kib={} per_subscriber_kib={} per_subscriber_after_kib={} \
         client_per_subscriber_kib={} changes={changes} deliveries={} missing={} extra={} \
         id_mismatches={}{}{}{}{}{}{}{}",
        measured.connected,
        measured.connect_time.as_secs_f64(),
        opt(measured.before.server_kib),
        opt(measured.idle.server_kib),
        opt(measured.after.server_kib),
        kib(per_subscriber),
        kib(per_subscriber_after),
        kib(client_per),
        all.deliveries(),
        all.missing,
        matched.extra,
        matched.id_mismatches,
        field("sent_p50_ms", all.from_sent, |s| s.p50),
        field("sent_p99_ms", all.from_sent, |s| s.p99),
        field("sent_max_ms", all.from_sent, |s| s.max),
        field("resp_p50_ms", all.from_response, |s| s.p50),
        field("resp_p99_ms", all.from_response, |s| s.p99),
        field("resp_max_ms", all.from_response, |s| s.max),
        field("write_p50_ms", all.write, |s| s.p50),
    );

    let complete = measured.connected == total && all.missing == 0 && matched.ended_early == 0;
    let mut all_json = figures_json(&all);
    all_json["changes"] = json!(changes);
    all_json["extra"] = json!(matched.extra);
    all_json["id_mismatches"] = json!(matched.id_mismatches);
    all_json["streams_ended_early"] = json!(matched.ended_early);
    all_json["server_cpu_ms"] = json!(server_cpu);
    all_json["client_cpu_ms"] = json!(client_cpu);
    let json = json!({
        "label": setup.label,
        "base": setup.base,
        "write": setup.write,
        "trigger": setup.trigger,
        "schedule": setup.schedule,
        "tenants": setup.tenants,
        "users_per_tenant": setup.users,
        "subscribers": total,
        "connected": measured.connected,
        "connect_s": measured.connect_time.as_secs_f64(),
        "first_failure": measured.first_failure,
        "server_pid": setup.server_pid,
        "server_rss_kib": {
            "before": measured.before.server_kib,
            "idle": measured.idle.server_kib,
            "after": measured.after.server_kib,
        },
        "per_subscriber_kib": per_subscriber,
        "per_subscriber_after_kib": per_subscriber_after,
        "client_rss_kib": {
            "before": measured.before.client_kib,
            "idle": measured.idle.client_kib,
        },
        "rounds": groups_json,
        "all": all_json,
        "complete": complete,
    });
    Report {
        text,
        json,
        complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::Received;

    fn outcome(ready: bool, received: &[(Instant, u64)]) -> Outcome {
        Outcome {
            ready,
            received: received
                .iter()
                .map(|&(at, id)| Received { at, id })
                .collect(),
            ..Outcome::default()
        }
    }

    #[test]
    fn events_match_their_tenants_changes_in_order() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let change = |tenant, group, sent, responded| Change {
            tenant,
            group,
            sent: at(sent),
            responded: at(responded),
        };
        let group = |name: &str, changes| Group {
            name: name.to_owned(),
            changes,
            server_cpu_ms: None,
            client_cpu_ms: 0,
            span: Duration::ZERO,
        };
        let memory = Memory {
            server_kib: Some(1000),
            client_kib: 10,
        };
        let measured = Measured {
            connected: 3,
            connect_time: Duration::from_secs(1),
            first_failure: None,
            before: memory,
            idle: Memory {
                server_kib: Some(1030),
                client_kib: 13,
            },
            after: memory,
            groups: vec![
                group("1", vec![change(0, 0, 10, 12), change(1, 0, 10, 13)]),
                group("2", vec![change(0, 1, 100, 102), change(1, 1, 100, 103)]),
            ],
            outcomes: vec![
                (0, outcome(true, &[(at(15), 1), (at(101), 2)])),
                (0, outcome(true, &[(at(16), 1)])),
                (1, outcome(true, &[(at(11), 5), (at(110), 7)])),
                (1, outcome(false, &[])),
            ],
        };
        let matched = match_events(&measured, 2);
        assert_eq!(matched.groups[0].from_sent, [5_000, 6_000, 1_000]);
        assert_eq!(matched.groups[0].from_response, [3_000, 4_000, -2_000]);
        assert_eq!(matched.groups[1].from_sent, [1_000, 10_000]);
        assert_eq!(matched.groups[1].missing, 1);
        assert_eq!(matched.groups[0].write, [2_000, 3_000]);
        assert_eq!((matched.extra, matched.id_mismatches), (0, 0));

        let setup = Setup {
            label: None,
            tenants: 2,
            users: 2,
            base: "b".to_owned(),
            write: "w".to_owned(),
            trigger: "patch".to_owned(),
            schedule: "together".to_owned(),
            server_pid: Some(1),
            settle: Duration::ZERO,
        };
        let report = report(&setup, &measured);
        assert!(!report.complete);
        let result = report.text.lines().last().unwrap();
        assert!(result.contains(" per_subscriber_kib=10.00 "), "{result}");
        assert!(result.contains(" deliveries=5 missing=1 "), "{result}");
        assert!(result.contains(" resp_p50_ms=3.000 "), "{result}");
        assert_eq!(report.json["all"]["from_response_us"]["min"], -2_000);
    }
}
