//! Share links: created, listed and revoked by a dashboard's owner; read by anyone holding the
//! token, for that one dashboard only, with the creator's tenant, schema and row filters.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Engine, Result, dashboard_not_found, widget_not_found};
use crate::auth::{AuthContext, Scope};
use crate::error::{EngineError, Violation};
use crate::events::{EventKind, Reach};
use crate::ids::{DashboardId, ShareId, WidgetId};
use crate::model::{
    CreatedShare, Dashboard, DashboardFilter, DashboardLayout, FilterValue, Share, ShareCreate,
    Timestamp, Widget,
};
use crate::permissions;
use crate::source::QueryResult;
use crate::store::{NewShare, StoreError, StoredShare};

/// How share links are served.
#[derive(Debug)]
pub(super) struct ShareSettings {
    pub(super) url_base: String,
    pub(super) limit: Option<(u32, Duration)>,
    limiter: Mutex<HashMap<ShareId, (Instant, u32)>>,
}

impl Clone for ShareSettings {
    /// The same settings, with counts of their own.
    fn clone(&self) -> Self {
        Self {
            url_base: self.url_base.clone(),
            limit: self.limit,
            limiter: Mutex::default(),
        }
    }
}

impl Default for ShareSettings {
    fn default() -> Self {
        Self {
            url_base: "/api/prismiq/shared".to_owned(),
            limit: Some((120, Duration::from_secs(60))),
            limiter: Mutex::default(),
        }
    }
}

impl ShareSettings {
    /// Counts one request through `share`: `Err(retry after)` beyond the limit.
    fn admit(&self, share: ShareId) -> std::result::Result<(), Duration> {
        let Some((max, window)) = self.limit else {
            return Ok(());
        };
        let now = Instant::now();
        let mut windows = self.limiter.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let (start, count) = windows.entry(share).or_insert((now, 0));
        if now.duration_since(*start) >= window {
            *start = now;
            *count = 0;
        }
        if *count >= max {
            return Err(window.saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }
}

/// The caller behind a share link: the link's tenant and schema, and its creator as the user,
/// so that the host's row filter gives the viewer at most the rows the creator gets. Never an
/// admin. [`AuthContext::shared_via`] names the link, for row filters that treat viewers of
/// links differently.
#[derive(Debug, Clone)]
pub struct ShareViewer {
    tenant_id: String,
    creator: Option<String>,
    schema_name: Option<String>,
    share: ShareId,
}

impl AuthContext for ShareViewer {
    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    fn user_id(&self) -> Option<&str> {
        self.creator.as_deref()
    }
    fn schema_name(&self) -> Option<&str> {
        self.schema_name.as_deref()
    }
    fn shared_via(&self) -> Option<ShareId> {
        Some(self.share)
    }
}

/// A dashboard as a share link shows it: no owner, no viewers, nothing about other dashboards;
/// the link's locked filter values beside the filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedDashboard {
    /// Id.
    pub id: DashboardId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Grid settings.
    pub layout: DashboardLayout,
    /// Widgets.
    pub widgets: Vec<Widget>,
    /// Dashboard-level filters.
    pub filters: Vec<DashboardFilter>,
    /// The values the link always applies, by filter id: shown, not editable.
    pub locked_filters: BTreeMap<String, Value>,
    /// Seconds between automatic refreshes.
    pub refresh_interval: Option<u32>,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Engine {
    /// Where share links point: `url` of a new link is this, `/`, and the token (default
    /// `/api/prismiq/shared`, the demo's mount point of `prismiq_axum::shared_router`).
    pub fn with_share_url_base(mut self, base: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.shares).url_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// At most `requests` reads through one link per `window` (default 120 a minute), on each
    /// instance; beyond, a 429 with the time to wait.
    pub fn with_share_rate_limit(mut self, requests: u32, window: Duration) -> Self {
        Arc::make_mut(&mut self.shares).limit = Some((requests, window));
        self
    }

    /// No limit on reads through a link.
    pub fn without_share_rate_limit(mut self) -> Self {
        Arc::make_mut(&mut self.shares).limit = None;
        self
    }

    /// Creates a share link of a dashboard the caller may edit. The token is in the answer and
    /// nowhere else: it is stored as a hash.
    pub async fn create_share(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        create: ShareCreate,
    ) -> Result<CreatedShare> {
        let dashboard = self.editable_dashboard(auth, dashboard_id).await?;
        if let Some(unknown) = create
            .locked_filters
            .keys()
            .find(|id| !dashboard.filters.iter().any(|f| &f.id == *id))
        {
            return Err(EngineError::Invalid(Violation::UnknownFilter(
                unknown.clone(),
            )));
        }
        if create.expires_at.is_some_and(|at| at <= Timestamp::now()) {
            return Err(EngineError::Invalid(Violation::ExpiryInThePast));
        }
        let token = new_token()?;
        let new = NewShare {
            id: ShareId::new(),
            dashboard_id,
            token_hash: token_hash(&token),
            label: create.label,
            locked_filters: create.locked_filters,
            allow_export: create.allow_export,
            expires_at: create.expires_at,
            created_by: permissions::user(auth).map(str::to_owned),
            schema_name: auth.schema_name().map(str::to_owned),
        };
        let share = self
            .share_store
            .create_share(&Scope::of(auth), new)
            .await
            .map_err(|err| self.store_error(err, "", || dashboard_not_found(dashboard_id)))?;
        self.emit_share(auth, EventKind::ShareCreated, dashboard_id, share.id)
            .await;
        Ok(CreatedShare {
            url: format!("{}/{token}", self.shares.url_base),
            token,
            id: share.id,
            expires_at: share.expires_at,
            locked_filters: share.locked_filters,
            label: share.label,
            allow_export: share.allow_export,
            created_at: share.created_at,
        })
    }

    /// The links of a dashboard the caller may edit, without their tokens.
    pub async fn list_shares(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
    ) -> Result<Vec<Share>> {
        self.editable_dashboard(auth, dashboard_id).await?;
        self.share_store
            .list_shares(&Scope::of(auth), dashboard_id)
            .await
            .map_err(EngineError::Store)
    }

    /// Revokes a link of a dashboard the caller may edit, at once for every instance.
    pub async fn revoke_share(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        share_id: ShareId,
    ) -> Result<()> {
        self.editable_dashboard(auth, dashboard_id).await?;
        self.share_store
            .delete_share(&Scope::of(auth), dashboard_id, share_id)
            .await
            .map_err(|err| self.store_error(err, "", share_not_found))?;
        self.emit_share(auth, EventKind::ShareDeleted, dashboard_id, share_id)
            .await;
        Ok(())
    }

    /// Publishes a share event for those who may edit the dashboard (who manage its links).
    async fn emit_share(
        &self,
        auth: &dyn AuthContext,
        kind: EventKind,
        dashboard_id: DashboardId,
        share_id: ShareId,
    ) {
        self.emit(auth, kind, Reach::DashboardEditors, |event| {
            event.dashboard_id = Some(dashboard_id);
            event.share_id = Some(share_id);
        })
        .await;
    }

    /// The dashboard of a link, read-only.
    pub async fn shared_dashboard(&self, token: &str) -> Result<SharedDashboard> {
        let outcome = async {
            let (stored, _viewer) = self.open_share(token).await?;
            let dashboard = self.shared_dashboard_of(&stored).await?;
            Ok(SharedDashboard {
                id: dashboard.id,
                name: dashboard.name,
                description: dashboard.description,
                layout: dashboard.layout,
                widgets: dashboard.widgets,
                filters: dashboard.filters,
                locked_filters: stored.share.locked_filters,
                refresh_interval: dashboard.refresh_interval,
                updated_at: dashboard.updated_at,
            })
        }
        .await;
        record_share("view", &outcome);
        outcome
    }

    /// Runs one widget of a link's dashboard with the viewer's filter values — only for
    /// filters the dashboard defines; the link's locked filters always take its own values.
    pub async fn execute_shared_widget(
        &self,
        token: &str,
        widget_id: WidgetId,
        values: &[FilterValue],
    ) -> Result<QueryResult> {
        let outcome = async {
            let (stored, viewer) = self.open_share(token).await?;
            let dashboard = self.shared_dashboard_of(&stored).await?;
            let widget = dashboard
                .widgets
                .iter()
                .find(|w| w.id == widget_id)
                .ok_or_else(|| widget_not_found(widget_id))?;
            let values = share_values(&dashboard, &stored.share.locked_filters, values);
            self.run_widget(&viewer, &dashboard, widget, &values).await
        }
        .await;
        record_share("execute", &outcome);
        outcome
    }

    /// The link a token names, if it works now, and the caller it makes.
    pub(super) async fn open_share(&self, token: &str) -> Result<(StoredShare, ShareViewer)> {
        // Every token is looked up the same way, whether it exists or not; an absurdly long
        // one cannot be a token.
        if token.len() > 256 {
            return Err(share_not_found());
        }
        let hash = token_hash(token);
        let stored = self
            .share_store
            .find_share(&hash)
            .await
            .map_err(EngineError::Store)?
            .filter(|stored| constant_time_eq(stored.token_hash.as_bytes(), hash.as_bytes()))
            .ok_or_else(share_not_found)?;
        if stored
            .share
            .expires_at
            .is_some_and(|at| at <= Timestamp::now())
        {
            return Err(EngineError::ShareExpired);
        }
        self.shares
            .admit(stored.share.id)
            .map_err(|retry_after| EngineError::RateLimited { retry_after })?;
        let viewer = ShareViewer {
            tenant_id: stored.tenant_id.clone(),
            creator: stored.share.created_by.clone(),
            schema_name: stored.schema_name.clone(),
            share: stored.share.id,
        };
        Ok((stored, viewer))
    }

    pub(super) async fn shared_dashboard_of(&self, stored: &StoredShare) -> Result<Dashboard> {
        self.dashboards
            .get_dashboard(&Scope::new(&stored.tenant_id), stored.share.dashboard_id)
            .await
            .map_err(|err| match err {
                StoreError::NotFound => share_not_found(),
                err => EngineError::Store(err),
            })?
            .ok_or_else(share_not_found)
    }
}

/// The filter values of a shared widget run: the viewer's for the dashboard's own filters
/// (the last value of a filter sent twice), never for a locked one, then the locked values.
pub(super) fn share_values(
    dashboard: &Dashboard,
    locked: &BTreeMap<String, Value>,
    values: &[FilterValue],
) -> Vec<FilterValue> {
    let mut merged: Vec<FilterValue> = Vec::new();
    for value in values {
        let defined = dashboard.filters.iter().any(|f| f.id == value.filter_id);
        if !defined || locked.contains_key(&value.filter_id) {
            continue;
        }
        merged.retain(|v| v.filter_id != value.filter_id);
        merged.push(value.clone());
    }
    merged.extend(locked.iter().map(|(id, value)| FilterValue {
        filter_id: id.clone(),
        value: value.clone(),
    }));
    merged
}

/// 32 bytes from the operating system's random source, as `psh_` and 64 hex digits.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| {
        EngineError::Store(StoreError::Backend(
            format!("the operating system's random source failed: {err}").into(),
        ))
    })?;
    let mut token = String::with_capacity(4 + 64);
    token.push_str("psh_");
    for byte in bytes {
        token.push_str(&format!("{byte:02x}"));
    }
    Ok(token)
}

/// SHA-256 of a token, in lower-case hex: what stores keep.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn share_not_found() -> EngineError {
    EngineError::ShareNotFound
}

pub(super) fn record_share<T>(route: &'static str, outcome: &Result<T>) {
    let result = match outcome {
        Ok(_) => "ok",
        Err(EngineError::ShareNotFound) => "not_found",
        Err(EngineError::ShareExpired) => "expired",
        Err(EngineError::RateLimited { .. }) => "limited",
        Err(_) => "error",
    };
    metrics::counter!("prismiq_share_requests_total", "route" => route, "result" => result)
        .increment(1);
}

/// The kinds a share link's subscribers receive: what changes how its dashboard looks.
const SHARED_KINDS: [EventKind; 6] = [
    EventKind::DashboardUpdated,
    EventKind::DashboardDeleted,
    EventKind::WidgetCreated,
    EventKind::WidgetUpdated,
    EventKind::WidgetDeleted,
    EventKind::LayoutUpdated,
];

/// Who subscribes through a link: sees its dashboard's events (the link grants viewing it,
/// whoever created it), counted against the connection limits as one user per link.
struct LinkSubscriber {
    tenant_id: String,
    key: String,
}

impl AuthContext for LinkSubscriber {
    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }
    fn user_id(&self) -> Option<&str> {
        Some(&self.key)
    }
    fn is_admin(&self) -> bool {
        true
    }
}

impl Engine {
    /// Live events of a link's dashboard, for a page open on the link: its changes (fields,
    /// widgets, layout, deletion), without the tenant or the acting user. The stream ends when
    /// the link is revoked or expires, or the dashboard is deleted (after its
    /// `dashboard.deleted`). Opening one counts as a read of the link (its rate limit); each
    /// link may hold as many connections as one user.
    pub async fn subscribe_shared(
        &self,
        token: &str,
        after: Option<crate::events::EventId>,
    ) -> Result<crate::events::EventStream> {
        use crate::events::{EventFilter, EventStream, Message, SharedEvent};

        let (stored, _viewer) = self.open_share(token).await?;
        let share_id = stored.share.id;
        let expires_at = stored.share.expires_at;
        let subscriber = LinkSubscriber {
            key: format!("share:{share_id}"),
            tenant_id: stored.tenant_id,
        };
        // Share events are asked for only to see the link's own revocation; none is passed on.
        let mut filter = EventFilter::all()
            .with_dashboards([stored.share.dashboard_id])
            .with_kinds(SHARED_KINDS)
            .with_kinds([EventKind::ShareDeleted]);
        if let Some(after) = after {
            filter = filter.after(after);
        }
        let inner = self.hub.subscribe(&subscriber, filter).await?;
        let stream = futures_util::stream::unfold(Some(inner), move |state| async move {
            let mut inner = state?;
            loop {
                let message = match expires_at {
                    Some(at) => {
                        let left = (at.as_datetime() - chrono::Utc::now()).to_std().ok()?;
                        let next = std::pin::pin!(inner.next_message());
                        let expiry = std::pin::pin!(tokio::time::sleep(left));
                        match futures_util::future::select(next, expiry).await {
                            futures_util::future::Either::Left((message, _)) => message?,
                            futures_util::future::Either::Right(_) => return None,
                        }
                    }
                    None => inner.next_message().await?,
                };
                let Message::Event(event) = message else {
                    return Some((message, Some(inner)));
                };
                match event.kind {
                    EventKind::ShareDeleted if event.share_id == Some(share_id) => return None,
                    EventKind::ShareDeleted => continue,
                    _ => {}
                }
                let last = event.kind == EventKind::DashboardDeleted;
                let mut event = (*event).clone();
                event.tenant_id.clear();
                event.actor = None;
                let next = (!last).then_some(inner);
                return Some((Message::Event(SharedEvent::new(event)), next));
            }
        });
        Ok(EventStream::new(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("psh_") && a.len() == 68);
        let hash = token_hash(&a);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a[4..]));
        assert!(constant_time_eq(hash.as_bytes(), token_hash(&a).as_bytes()));
        assert!(!constant_time_eq(
            hash.as_bytes(),
            token_hash(&b).as_bytes()
        ));
    }

    #[test]
    fn the_rate_limit_counts_per_link_and_window() {
        let settings = ShareSettings {
            limit: Some((2, Duration::from_secs(60))),
            ..ShareSettings::default()
        };
        let (one, two) = (ShareId::new(), ShareId::new());
        assert!(settings.admit(one).is_ok() && settings.admit(one).is_ok());
        let wait = settings.admit(one).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        assert!(settings.admit(two).is_ok(), "per link");
    }
}
