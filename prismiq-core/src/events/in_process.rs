//! [`InProcessBus`]: events within one process.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::{Envelope, EventBus, EventError, EventId, EventSink, Replay, Sinks};

/// The default [`EventBus`]: events reach the subscribers of this process only, and each
/// tenant's last events (1,000 by default, none older than an hour) are kept in memory for
/// resume.
///
/// Ids start, per tenant, from the microseconds since 1970 when the bus was made, so ids given
/// after a restart are above those given before it, and a client resuming from before the
/// restart is told to refetch.
#[derive(Debug)]
pub struct InProcessBus {
    window: usize,
    max_age: Duration,
    published: AtomicU64,
    start: EventId,
    tenants: Mutex<HashMap<String, Arc<tokio::sync::Mutex<TenantLog>>>>,
    sinks: Sinks,
}

#[derive(Debug)]
struct TenantLog {
    next: EventId,
    kept: VecDeque<Envelope>,
    /// When each kept event was published.
    times: VecDeque<Instant>,
}

impl TenantLog {
    fn forget_older_than(&mut self, max_age: Duration) {
        let now = Instant::now();
        while self
            .times
            .front()
            .is_some_and(|at| now.duration_since(*at) > max_age)
        {
            self.times.pop_front();
            self.kept.pop_front();
        }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessBus {
    /// A bus keeping the last 1,000 events of each tenant.
    pub fn new() -> Self {
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2));
        Self {
            window: 1_000,
            max_age: Duration::from_secs(3600),
            published: AtomicU64::new(0),
            start,
            tenants: Mutex::default(),
            sinks: Sinks::default(),
        }
    }

    /// How many events of each tenant are kept for resume (at least 1).
    pub fn with_window(mut self, events: usize) -> Self {
        self.window = events.max(1);
        self
    }

    /// How long an event is kept for resume at most (default one hour): the memory of tenants
    /// that fell quiet is given back.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Forgets expired events of every tenant (run every few thousand publications).
    async fn sweep(&self) {
        let logs: Vec<_> = {
            let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            tenants.values().cloned().collect()
        };
        for log in logs {
            log.lock().await.forget_older_than(self.max_age);
        }
    }

    fn log(&self, tenant_id: &str) -> Arc<tokio::sync::Mutex<TenantLog>> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants
            .entry(tenant_id.to_owned())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(TenantLog {
                    next: self.start + 1,
                    kept: VecDeque::new(),
                    times: VecDeque::new(),
                }))
            })
            .clone()
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, mut envelope: Envelope) -> Result<EventId, EventError> {
        if self.published.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.sweep().await;
        }
        let log = self.log(&envelope.event.tenant_id);
        // Held while delivering, so that the tenant's events reach sinks in id order.
        let mut log = log.lock().await;
        let id = log.next;
        log.next += 1;
        envelope.event.id = id;
        log.forget_older_than(self.max_age);
        if log.kept.len() == self.window {
            log.kept.pop_front();
            log.times.pop_front();
        }
        log.kept.push_back(envelope.clone());
        log.times.push_back(Instant::now());
        self.sinks.deliver(envelope).await;
        Ok(id)
    }

    async fn replay(&self, tenant_id: &str, after: EventId) -> Result<Replay, EventError> {
        let log = self.log(tenant_id);
        let mut log = log.lock().await;
        log.forget_older_than(self.max_age);
        Ok(Replay::from_window(
            &log.kept,
            log.kept.front().map(|e| e.event.id),
            log.next,
            after,
        ))
    }

    fn attach(&self, sink: Weak<dyn EventSink>) {
        self.sinks.attach(sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, EventKind, Reach};

    fn envelope(tenant: &str) -> Envelope {
        Envelope {
            event: Event::new(EventKind::DashboardCreated, tenant),
            reach: Reach::DashboardViewers,
        }
    }

    #[tokio::test]
    async fn ids_increase_per_tenant_and_the_window_is_kept() {
        let bus = InProcessBus::new().with_window(3);
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(bus.publish(envelope("acme")).await.unwrap());
        }
        let other = bus.publish(envelope("globex")).await.unwrap();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
        assert_eq!(other, ids[0], "each tenant counts on its own");

        let ids_of = |replay: Replay| match replay {
            Replay::Events(events) => Some(events.iter().map(|e| e.event.id).collect::<Vec<_>>()),
            Replay::Gap => None,
        };
        // Inside the window: what came after.
        assert_eq!(
            ids_of(bus.replay("acme", ids[2]).await.unwrap()),
            Some(vec![ids[3], ids[4]])
        );
        assert_eq!(
            ids_of(bus.replay("acme", ids[1]).await.unwrap()),
            Some(ids[2..].to_vec())
        );
        assert_eq!(
            ids_of(bus.replay("acme", ids[4]).await.unwrap()),
            Some(vec![])
        );
        // Before the window, or an id never given: a gap.
        assert_eq!(ids_of(bus.replay("acme", ids[0]).await.unwrap()), None);
        assert_eq!(ids_of(bus.replay("acme", ids[4] + 1).await.unwrap()), None);
        assert_eq!(ids_of(bus.replay("acme", 3).await.unwrap()), None);
        // A tenant with no events yet: nothing after its last id, a gap before it.
        assert_eq!(
            ids_of(bus.replay("initech", ids[0] - 1).await.unwrap()),
            Some(vec![])
        );
        assert_eq!(ids_of(bus.replay("initech", 1).await.unwrap()), None);
    }

    #[tokio::test]
    async fn events_older_than_the_maximum_age_are_forgotten() {
        let bus = InProcessBus::new().with_max_age(Duration::from_millis(30));
        let first = bus.publish(envelope("acme")).await.unwrap();
        let second = bus.publish(envelope("acme")).await.unwrap();
        match bus.replay("acme", first).await.unwrap() {
            Replay::Events(events) => assert_eq!(events[0].event.id, second),
            Replay::Gap => panic!("kept while young"),
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(bus.replay("acme", first).await.unwrap(), Replay::Gap);
        assert_eq!(
            bus.replay("acme", second).await.unwrap(),
            Replay::Events(vec![])
        );
        let third = bus.publish(envelope("acme")).await.unwrap();
        assert_eq!(third, second + 1, "ids go on");
    }
}
