//! [`EngineError`]: why an [`Engine`](crate::Engine) operation did not happen.

use crate::query::QueryError;
use crate::source::SourceError;
use crate::store::{Conflict, StoreError};

/// Why an [`Engine`](crate::Engine) operation did not happen.
///
/// Every variant but [`EngineError::Store`] is the caller's to fix, and its message says how.
/// The HTTP status each maps to is given on the variant. Variants carry what a host needs to
/// tell the cases apart (which limit, which uniqueness rule, which rule of a write) besides the
/// message clients see.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// 404: no such template the caller may use.
    #[error("Template '{0}' not found")]
    TemplateNotFound(String),
    /// 404: no share link has this token (never had, or it was revoked, or its dashboard
    /// deleted).
    #[error("Share link not found")]
    ShareNotFound,
    /// 412: the write expected another version of the dashboard (`If-Match`); nothing changed.
    #[error("The dashboard has changed: it is at version {current}")]
    VersionMismatch {
        /// The dashboard's version now.
        current: u64,
    },
    /// 403: the share link does not let its viewers download rows (its `allow_export` is off).
    #[error("This share link does not allow exports")]
    ExportNotAllowed,
    /// 410: the share link has expired.
    #[error("This share link has expired")]
    ShareExpired,
    /// 429: too many reads through one share link; retry after the given time.
    #[error("Too many requests through this share link; retry in {} seconds", .retry_after.as_secs().max(1))]
    RateLimited {
        /// How long to wait.
        retry_after: std::time::Duration,
    },
    /// 404: the caller has not pinned that dashboard in that context.
    #[error("Pin not found for dashboard '{dashboard_id}' in context '{context}'")]
    PinNotFound {
        /// The dashboard named in the request.
        dashboard_id: String,
        /// The context named in the request.
        context: String,
    },
    /// 404: a table, column or PostgreSQL schema the caller asked for does not exist (or is
    /// hidden).
    #[error("{message}")]
    NotFound {
        /// What is missing.
        missing: Missing,
        /// The message for the caller.
        message: String,
    },
    /// 403: the object exists but the caller may not do this to it.
    #[error("Permission denied")]
    PermissionDenied,
    /// 401: the operation is per user, and the caller has no user id.
    #[error("User ID required for pin operations")]
    UserRequired,
    /// 409: a name or pin is already taken.
    #[error("{message}")]
    Conflict {
        /// Which uniqueness rule.
        conflict: Conflict,
        /// The message for the caller, naming the taken name or pin.
        message: String,
    },
    /// 422: the input is well-formed but breaks a rule; the [`Violation`] says which.
    #[error("{0}")]
    Invalid(Violation),
    /// 422: widgets that break the rules of the [widget catalogue](crate::catalogue): an
    /// unknown or unusable type, a config against the type's schema, a size outside its
    /// bounds, or (when refused) an overlap. Every problem is listed with its location.
    #[error("{0}")]
    InvalidWidgets(crate::catalogue::WidgetProblems),
    /// 422: a configured limit would be exceeded.
    #[error("{message}")]
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// The message for the caller, naming the setting (`max_name_length`, …).
        message: String,
    },
    /// 400: the request cannot be served as asked; the [`Unanswerable`] says why.
    #[error("{0}")]
    BadRequest(Unanswerable),
    /// 400 for a query the caller must fix (the message lists every problem); 500 when the
    /// host's row filter does not fit a table ([`QueryError::RowFilter`]).
    #[error("{0}")]
    Query(#[source] QueryError),
    /// 429: the tenant already runs as many queries as it may at once.
    #[error(
        "Too many queries are running for this tenant (at most {max_concurrent} at once); retry \
         shortly"
    )]
    Busy {
        /// The tenant's limit of concurrent queries.
        max_concurrent: usize,
    },
    /// 429: the caller already holds as many live-event connections as it may.
    #[error(
        "Too many live-event connections for this {per} (at most {max}); close one before \
         opening another"
    )]
    TooManyConnections {
        /// Whose limit: `"user"` or `"tenant"`.
        per: &'static str,
        /// The limit.
        max: usize,
    },
    /// 503 when the event bus is [unavailable](crate::events::EventError::Unavailable), else
    /// 500.
    #[error("event bus failure")]
    Events(#[source] crate::events::EventError),
    /// 503: the engine has no data source to run queries against.
    #[error("No data source is configured: the host must call Engine::with_data_source")]
    NoDataSource,
    /// 503 if the store is [unavailable](StoreError::Unavailable), 422 if it
    /// [cannot hold](StoreError::Rejected) a value of the request, else 500.
    #[error("storage failure")]
    Store(#[source] StoreError),
    /// A host's [`WidgetDataProvider`](crate::catalogue::WidgetDataProvider) failed: the
    /// status its [`ProviderError`](crate::catalogue::ProviderError) names (500 for a
    /// failure or a panic).
    #[error("{0}")]
    Provider(#[source] crate::catalogue::ProviderError),
    /// 504 for a [timeout](SourceError::Timeout), 400 when the database
    /// [rejected](SourceError::Rejected) the query, 503 when it is
    /// [unavailable](SourceError::Unavailable), else 500.
    #[error("{0}")]
    Source(#[source] SourceError),
}

/// What a [`EngineError::NotFound`] did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Missing {
    /// A version of a dashboard that does not exist or is no longer kept.
    Version {
        /// The dashboard.
        dashboard_id: String,
        /// The version asked for.
        version: u64,
    },
    /// A PostgreSQL schema (the caller's `schema_name`).
    Schema(String),
    /// A table or view the caller may query.
    Table(String),
    /// A column of a table.
    Column {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
}

/// The limits of [`EngineError::LimitExceeded`], by the setting that configures each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// `max_dashboards_per_owner`.
    DashboardsPerOwner,
    /// `max_widgets_per_dashboard`.
    WidgetsPerDashboard,
    /// `max_filters_per_dashboard`.
    FiltersPerDashboard,
    /// `max_name_length`.
    NameLength,
    /// `max_title_length`.
    TitleLength,
    /// `max_description_length`.
    DescriptionLength,
    /// `max_sql_bytes`.
    SqlBytes,
    /// `max_notification_bytes`.
    NotificationBytes,
    /// `max_export_rows`: the rows of one export (or of a spreadsheet).
    ExportRows,
}

impl Limit {
    /// The name of the setting, as messages cite it (`max_name_length`, …).
    pub fn setting(self) -> &'static str {
        match self {
            Self::DashboardsPerOwner => "max_dashboards_per_owner",
            Self::WidgetsPerDashboard => "max_widgets_per_dashboard",
            Self::FiltersPerDashboard => "max_filters_per_dashboard",
            Self::NameLength => "max_name_length",
            Self::TitleLength => "max_title_length",
            Self::DescriptionLength => "max_description_length",
            Self::SqlBytes => "max_sql_bytes",
            Self::NotificationBytes => "max_notification_bytes",
            Self::ExportRows => "max_export_rows",
        }
    }
}

/// The rules of a write, as [`EngineError::Invalid`] reports them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// A name that must not be blank is (`what`: `Dashboard name`, `Saved query name`).
    #[error("{what} must not be empty")]
    Empty {
        /// What is empty.
        what: &'static str,
    },
    /// A name, description or title holds U+0000, which PostgreSQL cannot store.
    #[error("{what} must not contain the NUL character (\\u0000)")]
    NulCharacter {
        /// The field.
        what: &'static str,
    },
    /// A widget id appears twice in a whole-dashboard save.
    #[error("Widget id '{0}' appears more than once in `widgets`")]
    DuplicateWidgetId(String),
    /// A filter id appears twice in a dashboard's filters.
    #[error("Filter id '{0}' appears more than once in `filters`")]
    DuplicateFilterId(String),
    /// A widget has both a structured query and `config.raw_sql`.
    #[error("raw_sql and query are mutually exclusive; set one or the other, not both")]
    RawSqlWithQuery,
    /// A widget does not fit the dashboard's grid.
    #[error(
        "Widget '{title}' does not fit the grid: x ({x}) + w ({w}) must be at most the \
         layout's {columns} columns"
    )]
    OutsideGrid {
        /// The widget's title.
        title: String,
        /// Its column.
        x: u32,
        /// Its width.
        w: u32,
        /// The layout's columns.
        columns: u32,
    },
    /// An export of a version this server does not read.
    #[error("Unsupported export version '{0}': this server reads version 1.x exports")]
    UnsupportedExportVersion(String),
    /// A share link locking a filter the dashboard does not have.
    #[error("locked_filters names '{0}', which is not a filter of the dashboard")]
    UnknownFilter(String),
    /// A share link that would expire before it is created.
    #[error("expires_at must be in the future")]
    ExpiryInThePast,
    /// A refresh interval below the configured minimum.
    #[error("refresh_interval must be at least {min} seconds (or null for no automatic refresh)")]
    RefreshInterval {
        /// The minimum, in seconds.
        min: u32,
    },
    /// A pin context that is empty or longer than 100 characters.
    #[error("{0}")]
    PinContext(String),
    /// A notification kind that is not 1 to 64 lowercase letters, digits, `_`, `-`, `.` or
    /// `:`.
    #[error(
        "Notification kind '{0}' must be 1 to 64 lowercase letters, digits, '_', '-', '.' or ':'"
    )]
    NotificationKind(String),
    /// A notification audience listing no user or role.
    #[error("A notification audience must name at least one user or role")]
    EmptyAudience,
}

/// Why a request cannot be answered as asked, as [`EngineError::BadRequest`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unanswerable {
    /// The widget to execute has no structured query.
    #[error("Widget has no query")]
    WidgetHasNoQuery,
    /// Custom SQL that breaks the rules; every problem is listed.
    #[error("{0}")]
    InvalidSql(crate::custom_sql::SqlError),
    /// A metric trend whose period ends before it starts.
    #[error("current_end must not be before current_start")]
    EmptyPeriod,
    /// A metric trend's date column is in none of the query's tables.
    #[error("Date column '{0}' not found in query tables")]
    DateColumnNotFound(String),
    /// A metric trend's value column is not in the result.
    #[error("Column '{0}' not found in result")]
    ValueColumnNotFound(String),
    /// A preview or sample limit out of range.
    #[error("{0}")]
    Limit(String),
}

impl EngineError {
    /// Whether the failure is on the server's side (a 5xx).
    pub fn is_server_error(&self) -> bool {
        matches!(self, Self::NoDataSource | Self::Source(_) | Self::Events(_))
            || matches!(
                self,
                Self::Provider(
                    crate::catalogue::ProviderError::Failed(_)
                        | crate::catalogue::ProviderError::Unavailable(_)
                )
            )
            || matches!(self, Self::Store(err) if !matches!(err, StoreError::Rejected(_)))
            || matches!(self, Self::Query(err) if !err.is_client_error())
    }
}

/// An error and its sources, joined with `": "`: the whole story, for logs and health reports.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
