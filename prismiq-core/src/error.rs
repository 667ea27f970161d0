//! [`EngineError`]: why an [`Engine`](crate::Engine) operation did not happen.

use crate::query::QueryError;
use crate::source::SourceError;
use crate::store::StoreError;

/// Why an [`Engine`](crate::Engine) operation did not happen.
///
/// Every variant but [`EngineError::Store`] is the caller's to fix, and its message says how.
/// The HTTP status each maps to is given on the variant.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// 404: no such dashboard in the caller's tenant (or a malformed id).
    #[error("Dashboard '{0}' not found")]
    DashboardNotFound(String),
    /// 404: no such widget on that dashboard.
    #[error("Widget '{0}' not found")]
    WidgetNotFound(String),
    /// 404: no such saved query the caller may read.
    #[error("Saved query '{0}' not found")]
    SavedQueryNotFound(String),
    /// 404: the caller has not pinned that dashboard in that context.
    #[error("Pin not found for dashboard '{dashboard_id}' in context '{context}'")]
    PinNotFound {
        /// The dashboard named in the request.
        dashboard_id: String,
        /// The context named in the request.
        context: String,
    },
    /// 403: the object exists but the caller may not do this to it.
    #[error("Permission denied")]
    PermissionDenied,
    /// 401: the operation is per user, and the caller has no user id.
    #[error("User ID required for pin operations")]
    UserRequired,
    /// 409: a name or pin is already taken.
    #[error("{0}")]
    Conflict(String),
    /// 422: the input is well-formed JSON but breaks a rule (the message names it).
    #[error("{0}")]
    Invalid(String),
    /// 422: a configured limit would be exceeded (the message names it).
    #[error("{0}")]
    LimitExceeded(String),
    /// 404: a table, column or PostgreSQL schema the caller asked for does not exist (or is
    /// hidden).
    #[error("{0}")]
    NotFound(String),
    /// 400: the request cannot be served as asked (the message says why).
    #[error("{0}")]
    BadRequest(String),
    /// 400 for a query the caller must fix (the message lists every problem); 500 when the
    /// host's row filter does not fit a table ([`QueryError::RowFilter`]).
    #[error("{0}")]
    Query(#[source] QueryError),
    /// 429: the tenant already runs as many queries as it may at once.
    #[error("{0}")]
    Busy(String),
    /// 503: the engine has no data source to run queries against.
    #[error("No data source is configured: the host must call Engine::with_data_source")]
    NoDataSource,
    /// 503 if the store is [unavailable](StoreError::Unavailable), 422 if it
    /// [cannot hold](StoreError::Rejected) a value of the request, else 500.
    #[error("storage failure")]
    Store(#[source] StoreError),
    /// 504 for a [timeout](SourceError::Timeout), 400 when the database
    /// [rejected](SourceError::Rejected) the query, 503 when it is
    /// [unavailable](SourceError::Unavailable), else 500.
    #[error("{0}")]
    Source(#[source] SourceError),
}

impl EngineError {
    /// Whether the failure is on the server's side (a 5xx).
    pub fn is_server_error(&self) -> bool {
        matches!(self, Self::NoDataSource | Self::Source(_))
            || matches!(self, Self::Store(err) if !matches!(err, StoreError::Rejected(_)))
            || matches!(self, Self::Query(err) if !err.is_client_error())
    }
}

/// An error and its sources, joined with `": "`: the whole story, for logs and health reports.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
