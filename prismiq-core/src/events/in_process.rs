//! [`InProcessBus`]: events within one process.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use super::{Envelope, EventBus, EventError, EventId, EventSink, Replay, Sinks};

/// The default [`EventBus`]: events reach the subscribers of this process only, and each
/// tenant's last events (1,000 by default) are kept in memory for resume.
///
/// Ids start, per tenant, from the microseconds since 1970 when the bus was made, so ids given
/// after a restart are above those given before it, and a client resuming from before the
/// restart is told to refetch.
#[derive(Debug)]
pub struct InProcessBus {
    window: usize,
    start: EventId,
    tenants: Mutex<HashMap<String, Arc<tokio::sync::Mutex<TenantLog>>>>,
    sinks: Sinks,
}

#[derive(Debug)]
struct TenantLog {
    next: EventId,
    kept: VecDeque<Envelope>,
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

    fn log(&self, tenant_id: &str) -> Arc<tokio::sync::Mutex<TenantLog>> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants
            .entry(tenant_id.to_owned())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(TenantLog {
                    next: self.start + 1,
                    kept: VecDeque::new(),
                }))
            })
            .clone()
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, mut envelope: Envelope) -> Result<EventId, EventError> {
        let log = self.log(&envelope.event.tenant_id);
        // Held while delivering, so that the tenant's events reach sinks in id order.
        let mut log = log.lock().await;
        let id = log.next;
        log.next += 1;
        envelope.event.id = id;
        if log.kept.len() == self.window {
            log.kept.pop_front();
        }
        log.kept.push_back(envelope.clone());
        self.sinks.deliver(envelope).await;
        Ok(id)
    }

    async fn replay(&self, tenant_id: &str, after: EventId) -> Result<Replay, EventError> {
        let log = self.log(tenant_id);
        let log = log.lock().await;
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
}
