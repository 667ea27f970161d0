//! Host data providers: widgets whose data the host computes.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use serde_json::Value;

use crate::auth::AuthContext;
use crate::ids::DashboardId;
use crate::model::{DashboardFilter, Widget};
use crate::source::{BoxError, QueryResult};

/// Computes the data of the widgets of a [`DataKind::Provider`](super::DataKind) type, in the
/// shape a query returns.
///
/// The [`Engine`](crate::Engine) calls it from `POST /dashboards/{id}/widgets/{wid}/execute`
/// after checking that the caller may view the dashboard, under the same rules as a query: the
/// tenant's concurrency limit, the query timeout (a 504), the result cache when the type
/// declares a TTL, and metrics. A panic inside it is contained: the caller gets a 500 with a
/// generic message and the cause is logged.
#[async_trait]
pub trait WidgetDataProvider: Send + Sync + 'static {
    /// The data of `request.widget`.
    async fn fetch(&self, request: ProviderRequest<'_>) -> Result<QueryResult, ProviderError>;
}

/// What a [`WidgetDataProvider`] is asked for.
#[non_exhaustive]
pub struct ProviderRequest<'a> {
    /// The caller, as the host's extractor made it: tenant, user, roles.
    pub auth: &'a dyn AuthContext,
    /// The dashboard the widget is on.
    pub dashboard_id: DashboardId,
    /// The widget: its type, title and config (validated against the type's schema).
    pub widget: &'a Widget,
    /// The dashboard's filters that have a value, with it: the caller's value, else the
    /// filter's default.
    pub filters: &'a [ResolvedFilter<'a>],
}

impl std::fmt::Debug for ProviderRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRequest")
            .field("tenant_id", &self.auth.tenant_id())
            .field("user_id", &self.auth.user_id())
            .field("dashboard_id", &self.dashboard_id)
            .field("widget", &self.widget)
            .field("filters", &self.filters)
            .finish()
    }
}

/// A dashboard filter with the value that applies to one request.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedFilter<'a> {
    /// The filter.
    pub filter: &'a DashboardFilter,
    /// Its value.
    pub value: &'a Value,
}

/// Why a provider could not answer. Each maps to an HTTP status, and its message reaches the
/// caller (except [`Failed`](Self::Failed)'s cause, which is only logged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// 400: the widget's config or the filter values do not allow an answer.
    #[error("{0}")]
    BadRequest(String),
    /// 404: what the widget points at does not exist (for this caller).
    #[error("{0}")]
    NotFound(String),
    /// 403: the caller may not see this data.
    #[error("{0}")]
    Forbidden(String),
    /// 503: a service the provider needs is down; worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else; the cause is logged, the caller sees a generic message.
    #[error("widget data provider failed")]
    Failed(#[source] BoxError),
}

/// A future that turns a panic while it is polled into `Err(message)`.
pub(crate) struct CatchPanic<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic_message(panic.as_ref()))),
        }
    }
}

/// The message a panic carried.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
