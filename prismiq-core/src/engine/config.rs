//! The engine's settings: consuming `with_*` builders, one per setting.

use std::sync::Arc;
use std::time::Duration;

use super::Engine;
use super::caches::{SchemaCache, TenantGates};
use crate::cache::ResultCache;
use crate::row_filter::RowFilter;
use crate::source::DataSource;

impl Engine {
    /// The database analytics queries run against. Without one, the schema and query
    /// operations fail with [`EngineError::NoDataSource`](crate::EngineError::NoDataSource).
    pub fn with_data_source(mut self, source: Arc<dyn DataSource>) -> Self {
        self.analytics.source = Some(source);
        self
    }

    /// The host's row-level restrictions, applied to every table every query reads.
    pub fn with_row_filter(mut self, filter: Arc<dyn RowFilter>) -> Self {
        self.analytics.row_filter = Some(filter);
        self
    }

    /// The schema of callers whose [`AuthContext::schema_name`](crate::AuthContext::schema_name)
    /// is `None` (default `public`).
    pub fn with_default_schema(mut self, schema: impl Into<String>) -> Self {
        self.analytics.default_schema = schema.into();
        self
    }

    /// How long one query may run (default 30 s).
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.analytics.query_timeout = timeout;
        self
    }

    /// The most rows one query returns (default 10 000); more are cut and flagged `truncated`.
    pub fn with_max_rows(mut self, max_rows: usize) -> Self {
        self.analytics.max_rows = max_rows;
        self
    }

    /// Where query results are cached (default: [`MemoryCache`](crate::cache::MemoryCache)
    /// in process memory, with the `memory-cache` feature).
    pub fn with_result_cache(mut self, cache: Arc<dyn ResultCache>) -> Self {
        self.analytics.cache = Some(cache);
        self
    }

    /// Turns result caching off: every query runs against the database.
    pub fn without_result_cache(mut self) -> Self {
        self.analytics.cache = None;
        self
    }

    /// How long a cached result is served (default five minutes).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.analytics.cache_ttl = ttl;
        self
    }

    /// Results larger than this (about, in bytes of JSON) are not cached (default 1 000 000).
    pub fn with_max_cached_result_bytes(mut self, max: usize) -> Self {
        self.analytics.max_cached_result_bytes = max;
        self
    }

    /// Functions custom SQL may call beyond the built-in allow-list (aggregates, window, math,
    /// string, date/time, conditional, cast, JSON, array and set-returning functions; see
    /// [`custom_sql`](crate::custom_sql)), such as the host's own functions. Names are compared
    /// case-insensitively and add to any already given; they are allowed in `FROM` too.
    pub fn with_allowed_functions<T: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = T>,
    ) -> Self {
        self.analytics
            .allowed_functions
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// The longest custom SQL statement, in bytes (default 64 KiB); a longer one is refused
    /// before it is parsed, naming `max_sql_bytes` (422 from `execute_sql`, `valid: false` from
    /// `validate_sql`).
    pub fn with_max_sql_bytes(mut self, max: usize) -> Self {
        self.analytics.max_sql_bytes = max;
        self
    }

    /// How many queries one tenant may run at once (default 8; `None` for no limit). More wait
    /// their turn, up to the query timeout, so one tenant's busy dashboard cannot take every
    /// database connection from the others.
    pub fn with_max_concurrent_queries_per_tenant(mut self, max: impl Into<Option<usize>>) -> Self {
        self.analytics.tenant_gates = Arc::new(TenantGates::new(max.into()));
        self
    }

    /// How long an introspected schema is reused (default one hour).
    pub fn with_schema_cache_ttl(mut self, ttl: Duration) -> Self {
        self.analytics.schema_cache = Arc::new(SchemaCache::new(ttl));
        self
    }

    /// How many dashboards one owner may have (default 1000; `None` for no limit).
    pub fn with_max_dashboards_per_owner(mut self, max: impl Into<Option<u32>>) -> Self {
        self.limits.dashboards_per_owner = max.into();
        self
    }

    /// How many versions of each dashboard are kept: the newest `keep` (at least 1; default
    /// 50), none older than `max_age` but the newest (default 90 days; `None` for no age
    /// limit). Older ones are deleted by the write that makes a new version.
    pub fn with_version_retention(
        mut self,
        keep: u32,
        max_age: impl Into<Option<Duration>>,
    ) -> Self {
        self.limits.version_retention = crate::Retention {
            keep: keep.max(1),
            max_age: max_age.into(),
        };
        self
    }

    /// The limits of exports ([`Engine::export_query`] and the others): the most rows one may
    /// have (default 1,048,576; `None` or `0` for no limit — a spreadsheet still holds at most
    /// 1,048,575 rows under its header), and how long one may take from its start to its last
    /// row (default ten minutes).
    pub fn with_export_limits(
        mut self,
        max_rows: impl Into<Option<u64>>,
        timeout: Duration,
    ) -> Self {
        self.limits.export = crate::ExportLimits {
            max_rows: max_rows.into().filter(|&max| max > 0),
            timeout,
        };
        self
    }

    /// How many widgets one dashboard may have (default 200; `None` for no limit).
    pub fn with_max_widgets_per_dashboard(mut self, max: impl Into<Option<u32>>) -> Self {
        self.limits.widgets_per_dashboard = max.into();
        self
    }

    /// The longest dashboard or saved-query name, in characters (default 255).
    pub fn with_max_name_length(mut self, max: usize) -> Self {
        self.limits.name_length = max;
        self
    }

    /// The longest widget title, in characters (default 255).
    pub fn with_max_title_length(mut self, max: usize) -> Self {
        self.limits.title_length = max;
        self
    }

    /// The longest dashboard or saved-query description, in characters (default 10 000).
    pub fn with_max_description_length(mut self, max: usize) -> Self {
        self.limits.description_length = max;
        self
    }

    /// How many filters one dashboard may have (default 50).
    pub fn with_max_filters_per_dashboard(mut self, max: usize) -> Self {
        self.limits.filters_per_dashboard = max;
        self
    }
}
