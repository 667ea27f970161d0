//! Live events inside one process, without HTTP: what a subscription costs in memory, and how
//! long one change takes to reach 10,000 subscribers of its tenant (publish on the in-process
//! bus, the dashboard's access read once, each subscriber's check, its JSON encoded once and
//! taken by every subscriber).
//!
//! `cargo bench -p prismiq-core --bench events`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use prismiq_core::events::{EventFilter, EventSettings, EventStream, Message};
use prismiq_core::{DashboardCreate, DashboardUpdate, Engine, MemoryStore, SimpleAuthContext};

const SUBSCRIBERS: usize = 10_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn engine() -> Engine {
    Engine::new(MemoryStore::new()).with_event_settings(
        EventSettings::default()
            .with_max_connections_per_tenant(SUBSCRIBERS * 2)
            .with_max_connections_per_user(SUBSCRIBERS * 2),
    )
}

async fn subscribers(engine: &Engine, count: usize) -> Vec<EventStream> {
    let mut streams = Vec::with_capacity(count);
    for i in 0..count {
        let user = SimpleAuthContext::new("acme").with_user(format!("u{i}"));
        streams.push(
            engine
                .subscribe(&user, EventFilter::all())
                .await
                .expect("subscribe"),
        );
    }
    streams
}

/// The resident memory of this process, in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn memory_per_subscription() {
    let rt = runtime();
    let engine = engine();
    let before = rss_kib();
    let streams = rt.block_on(subscribers(&engine, SUBSCRIBERS));
    let after = rss_kib();
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "events/memory: {:.2} KiB per idle subscription ({SUBSCRIBERS} subscriptions, \
             VmRSS {before} -> {after} KiB)",
            (after.saturating_sub(before)) as f64 / SUBSCRIBERS as f64
        );
    }
    drop(streams);
}

fn fan_out(c: &mut Criterion) {
    memory_per_subscription();
    let rt = runtime();
    let mut group = c.benchmark_group("events/fan_out");
    group.sample_size(20);
    for count in [1_000, SUBSCRIBERS] {
        let engine = engine();
        let owner = SimpleAuthContext::new("acme").with_user("owner");
        let mut create = DashboardCreate::named("Wall");
        create.is_public = true;
        let dashboard = rt
            .block_on(engine.create_dashboard(&owner, create))
            .expect("create");
        let mut streams = rt.block_on(subscribers(&engine, count));
        let mut round = 0u64;
        group.bench_with_input(BenchmarkId::from_parameter(count), &count, |b, _| {
            b.iter(|| {
                round += 1;
                let update: DashboardUpdate = serde_json::from_value(
                    serde_json::json!({"description": format!("round {round}")}),
                )
                .expect("update body");
                rt.block_on(engine.update_dashboard(&owner, dashboard.id, update))
                    .expect("update");
                // Every subscriber takes the event and its JSON, as the SSE route does.
                let mut bytes = 0;
                for stream in &mut streams {
                    match stream.next_message().now_or_never() {
                        Some(Some(message @ Message::Event(_))) => bytes += message.to_json().len(),
                        other => panic!("expected the event, got {other:?}"),
                    }
                }
                bytes
            });
        });
    }
    group.finish();
}

criterion_group!(benches, fan_out);
criterion_main!(benches);
