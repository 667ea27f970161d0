//! Structured queries: validate, show SQL, execute, preview, time series, widget execution,
//! column samples and metric trends.
//!
//! One concern, if a long file: every way a structured query runs, sharing one preparation
//! (`prepare`) and one path through the result cache (`through_cache`, which host data
//! providers in `providers.rs` use too).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Engine;
use crate::auth::AuthContext;
use crate::cache::{CacheKey, CachedResult, approximate_size, unix_now};
use crate::error::{EngineError, Missing, Unanswerable};
use crate::ids::{DashboardId, WidgetId};
use crate::model::{Dashboard, FilterValue, Widget};
use crate::query::Aggregation;
use crate::query::{
    self, BucketBounds, ColumnSelection, CompileOptions, FilterDefinition, FilterOperator,
    QueryDefinition, QueryTable, SortDefinition, SortDirection, TimeSeriesConfig, TimeUnit,
    ValidationResult,
};
use crate::row_filter::RowPredicate;
use crate::schema::DatabaseSchema;
use crate::source::{CompiledQuery, ExecutionContext, QueryResult};
use crate::transform::{ComparisonPeriod, TrendResult, trend};

type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Body of `POST /query/execute/timeseries`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct TimeSeriesRequest {
    /// The query to bucket.
    pub query: QueryDefinition,
    /// The bucket size.
    pub interval: TimeUnit,
    /// The date or timestamp column to bucket by (of the first query table that has it).
    pub date_column: String,
    /// Whether empty buckets are added.
    #[serde(default = "yes")]
    pub fill_missing: bool,
}

impl TimeSeriesRequest {
    /// Bucket `query` by `interval` over `date_column`, filling empty buckets.
    pub fn new(query: QueryDefinition, interval: TimeUnit, date_column: impl Into<String>) -> Self {
        Self {
            query,
            interval,
            date_column: date_column.into(),
            fill_missing: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// Body of `POST /metrics/trend`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct MetricTrendRequest {
    /// The query computing the metric.
    pub query: QueryDefinition,
    /// Which earlier period to compare with.
    pub comparison: ComparisonPeriod,
    /// First day of the current period.
    pub current_start: NaiveDate,
    /// Last day of the current period.
    pub current_end: NaiveDate,
    /// The result column holding the metric (or a column ending in `_<value_column>`).
    pub value_column: String,
    /// The date column the periods restrict (of the first query table that has it).
    pub date_column: String,
}

impl MetricTrendRequest {
    /// The metric `value_column` of `query` from `current_start` to `current_end` (by
    /// `date_column`), against the `comparison` period.
    pub fn new(
        query: QueryDefinition,
        comparison: ComparisonPeriod,
        current_start: NaiveDate,
        current_end: NaiveDate,
        value_column: impl Into<String>,
        date_column: impl Into<String>,
    ) -> Self {
        Self {
            query,
            comparison,
            current_start,
            current_end,
            value_column: value_column.into(),
            date_column: date_column.into(),
        }
    }
}

/// A query's result and where it came from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Executed {
    /// The result.
    pub result: QueryResult,
    /// When the result was stored in the cache (Unix seconds), if it was.
    pub cached_at: Option<f64>,
    /// Whether the result was served from the cache.
    pub is_from_cache: bool,
}

/// How a run uses the result cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caching {
    /// Not at all.
    Off,
    /// Serve a fresh entry, or run and store.
    Use,
    /// Run and store, ignoring any entry.
    Refresh,
}

/// What a query needs to run for one caller: the schema it may use and how to compile for it.
pub(super) struct Prepared {
    pub(super) schema: Arc<DatabaseSchema>,
    pub(super) options: CompileOptions,
    pub(super) context: ExecutionContext,
}

/// Types a data source could not name (SQLite knows the type of an expression only from a
/// value, so an empty result says `null`) filled in from the query: counts are integers, sums
/// and averages reals, and a column's minimum, maximum or truncation has the column's type.
/// The bucket column comes first in a time series.
pub(super) fn name_untyped_columns(
    def: &QueryDefinition,
    schema: &DatabaseSchema,
    result: &mut QueryResult,
) {
    let offset = usize::from(def.time_series.is_some());
    for (i, column) in def.columns.iter().enumerate() {
        let Some(column_type) = result.column_types.get_mut(i + offset) else {
            break;
        };
        if column_type != "null" {
            continue;
        }
        let named = match column.aggregation {
            Aggregation::Count | Aggregation::CountDistinct => "integer".to_owned(),
            Aggregation::Sum | Aggregation::Avg => "real".to_owned(),
            _ if def.calculated_field(&column.column).is_some() => continue,
            _ => {
                let table = def.tables.iter().find(|t| t.id == column.table_id);
                let declared = table
                    .and_then(|t| schema.table(&t.name))
                    .and_then(|t| t.column(&column.column));
                match declared {
                    Some(declared) => declared.data_type.to_ascii_lowercase(),
                    None => continue,
                }
            }
        };
        *column_type = named;
    }
}

impl Engine {
    /// The rows a preview returns when the caller asks for no particular number.
    pub const DEFAULT_PREVIEW_LIMIT: usize = 100;

    /// The caller's visible schema and compile options: tenant schema, today, row cap, fiscal
    /// year, and the host's row filters for every table the query reads.
    pub(super) async fn prepare(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
        fiscal_year_start_month: Option<u8>,
    ) -> Result<Prepared> {
        let name = self.schema_name_of(auth);
        let schema = self.visible_schema(auth).await?;
        let mut options = CompileOptions::default()
            .with_dialect(self.source()?.dialect())
            .with_schema_name(name.clone())
            .with_today(today())
            .with_max_rows(self.analytics.max_rows)
            .with_fiscal_year_start_month(fiscal_year_start_month.unwrap_or(1));
        if let Some(filter) = &self.analytics.row_filter {
            for table in &def.tables {
                let predicates: Vec<RowPredicate> = filter.predicates(auth, &table.name);
                if !predicates.is_empty() {
                    options = options.with_row_filter(table.name.clone(), predicates);
                }
            }
        }
        let context = ExecutionContext {
            schema: name,
            tenant_id: auth.tenant_id().to_owned(),
            timeout: self.analytics.query_timeout,
            max_rows: self.analytics.max_rows,
        };
        Ok(Prepared {
            schema,
            options,
            context,
        })
    }

    /// Checks a query against the caller's visible schema; every problem is reported.
    pub async fn validate_query(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
    ) -> Result<ValidationResult> {
        Ok(query::validate(def, &self.schema(auth).await?))
    }

    /// The SQL a query compiles to for the caller (with `$n` placeholders).
    pub async fn query_sql(&self, auth: &dyn AuthContext, def: &QueryDefinition) -> Result<String> {
        let prepared = self.prepare(auth, def, None).await?;
        query::validate(def, &prepared.schema)
            .into_result()
            .map_err(EngineError::Query)?;
        let mut options = prepared.options;
        options.max_rows = None;
        Ok(query::compile(def, &prepared.schema, &options)
            .map_err(EngineError::Query)?
            .query
            .sql)
    }

    /// Runs a query for the caller: unknown filter columns dropped, validated, compiled with
    /// the caller's row filters, executed under the limits, time-series gaps filled.
    pub async fn execute_query(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
    ) -> Result<QueryResult> {
        self.run_query(auth, def, None).await
    }

    /// Runs a query with at most `limit` rows ([`DEFAULT_PREVIEW_LIMIT`](Self::DEFAULT_PREVIEW_LIMIT)
    /// when `None`, capped by the engine's row limit); its own `limit` is replaced.
    pub async fn preview_query(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
        limit: Option<usize>,
    ) -> Result<QueryResult> {
        let limit = limit.unwrap_or(Self::DEFAULT_PREVIEW_LIMIT);
        let mut def = def.clone();
        def.limit = Some(limit.min(self.analytics.max_rows) as u64);
        self.run_query(auth, &def, None).await
    }

    pub(super) async fn run_query(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
        fiscal_year_start_month: Option<u8>,
    ) -> Result<QueryResult> {
        Ok(self
            .run_cached(auth, def, fiscal_year_start_month, Caching::Off)
            .await?
            .result)
    }

    /// Runs a query like [`execute_query`](Self::execute_query), through the result cache:
    /// a fresh cached result of an identical query for the same tenant, schema and row-filter
    /// scope is served without touching the database, unless `bypass_cache` is set (which
    /// runs the query and refreshes the cache). Identical queries in flight at once run once.
    pub async fn execute_query_cached(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
        bypass_cache: bool,
    ) -> Result<Executed> {
        let caching = if bypass_cache {
            Caching::Refresh
        } else {
            Caching::Use
        };
        self.run_cached(auth, def, None, caching).await
    }

    pub(super) async fn run_cached(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
        fiscal_year_start_month: Option<u8>,
        caching: Caching,
    ) -> Result<Executed> {
        let prepared = self.prepare(auth, def, fiscal_year_start_month).await?;
        let (def, compiled) = Self::checked(&prepared.schema, def, &prepared.options)?;
        let tables: Vec<String> = def.tables.iter().map(|t| t.name.clone()).collect();
        let fill = |mut result: QueryResult| {
            name_untyped_columns(&def, &prepared.schema, &mut result);
            match &def.time_series {
                Some(config) => query::fill_time_series_gaps(
                    result,
                    config,
                    0,
                    BucketBounds::from_filters(
                        &def,
                        prepared.options.today,
                        prepared.options.fiscal_year_start_month,
                    ),
                    self.analytics.max_rows,
                ),
                None => result,
            }
        };
        // What else the result depends on, for the cache key (not made when nothing is cached).
        let extra = if caching != Caching::Off && self.analytics.cache.is_some() {
            let time_series = serde_json::to_string(&def.time_series).unwrap_or_default();
            [
                format!("{:?}", prepared.options.row_filters),
                time_series,
                prepared.options.today.to_string(),
            ]
        } else {
            Default::default()
        };
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        self.execute_through_cache(
            auth,
            &prepared.context,
            &compiled.query,
            &extra,
            tables,
            caching,
            fill,
        )
        .await
    }

    /// The query as it runs against `schema`: filters on unknown columns dropped, validated,
    /// compiled under `options`.
    pub(super) fn checked(
        schema: &DatabaseSchema,
        def: &QueryDefinition,
        options: &CompileOptions,
    ) -> Result<(QueryDefinition, query::Compiled)> {
        let def = query::sanitize_filters(def, schema);
        query::validate(&def, schema)
            .into_result()
            .map_err(EngineError::Query)?;
        let compiled = query::compile(&def, schema, options).map_err(EngineError::Query)?;
        Ok((def, compiled))
    }

    /// Runs a compiled statement, through the result cache when `caching` says so. `extra`
    /// holds whatever else the result depends on (post-processing, resolved dates); the key
    /// also covers the tenant, the schema, the row-filter scope, the SQL and its values.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn execute_through_cache(
        &self,
        auth: &dyn AuthContext,
        context: &ExecutionContext,
        statement: &CompiledQuery,
        extra: &[&str],
        tables: Vec<String>,
        caching: Caching,
        post: impl Fn(QueryResult) -> QueryResult,
    ) -> Result<Executed> {
        let source = self.source()?.clone();
        let run = || async {
            let _slot = self
                .analytics
                .tenant_gates
                .enter(&context.tenant_id, self.analytics.query_timeout)
                .await?;
            let started = Instant::now();
            let outcome = source.execute(context, statement).await;
            record_query(outcome.is_ok(), started);
            Ok::<_, EngineError>(post(outcome.map_err(EngineError::Source)?))
        };
        if caching == Caching::Off || self.analytics.cache.is_none() {
            return Ok(Executed {
                result: run().await?,
                cached_at: None,
                is_from_cache: false,
            });
        }
        // The SQL and values already contain the schema-qualified tables, the row filters'
        // predicates and the resolved dates.
        let scope = self
            .analytics
            .row_filter
            .as_ref()
            .map(|f| f.scope_key(auth))
            .unwrap_or_default();
        let values = format!("{:?}", statement.values);
        let max_rows = self.analytics.max_rows.to_string();
        let mut parts: Vec<&str> =
            vec![&context.schema, &scope, &statement.sql, &values, &max_rows];
        parts.extend_from_slice(extra);
        let key = CacheKey::new(auth.tenant_id(), &parts);
        self.through_cache(auth, key, tables, caching, self.analytics.cache_ttl, run)
            .await
    }

    /// Serves `key` from the result cache when `caching` allows and a fresh entry is there;
    /// otherwise runs `run` once however many ask at the same time, and caches its result for
    /// `ttl` (tagged with the tenant and the `tables` it read).
    pub(super) async fn through_cache<F, Fut>(
        &self,
        auth: &dyn AuthContext,
        key: CacheKey,
        tables: Vec<String>,
        caching: Caching,
        ttl: Duration,
        run: F,
    ) -> Result<Executed>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<QueryResult>>,
    {
        let cache = match (&self.analytics.cache, caching) {
            (Some(cache), Caching::Use | Caching::Refresh) => cache.clone(),
            _ => {
                return Ok(Executed {
                    result: run().await?,
                    cached_at: None,
                    is_from_cache: false,
                });
            }
        };
        if caching == Caching::Use {
            if let Some(hit) = cache.get(&key).await {
                metrics::counter!("prismiq_cache_total", "result" => "hit").increment(1);
                return Ok(Executed {
                    result: hit.result.clone(),
                    cached_at: Some(hit.cached_at),
                    is_from_cache: true,
                });
            }
            metrics::counter!("prismiq_cache_total", "result" => "miss").increment(1);
        }
        let executed = self
            .analytics
            .flights
            .run(&key, || async {
                let result = run().await?;
                let cached_at =
                    if approximate_size(&result) <= self.analytics.max_cached_result_bytes {
                        let entry = CachedResult {
                            result: result.clone(),
                            cached_at: unix_now(),
                            tenant_id: auth.tenant_id().to_owned(),
                            tables,
                        };
                        let cached_at = entry.cached_at;
                        cache.put(&key, Arc::new(entry), ttl).await;
                        Some(cached_at)
                    } else {
                        None
                    };
                Ok::<_, EngineError>(Arc::new(Executed {
                    result,
                    cached_at,
                    is_from_cache: false,
                }))
            })
            .await?;
        Ok(Arc::unwrap_or_clone(executed))
    }

    /// Drops cached results of a tenant: all of them, or those that read `table`. For hosts
    /// that know when their data changed.
    pub async fn invalidate_cache(&self, tenant_id: &str, table: Option<&str>) {
        if let Some(cache) = &self.analytics.cache {
            cache.invalidate(tenant_id, table).await;
        }
    }

    /// [`invalidate_cache`](Self::invalidate_cache) for the caller's tenant. Admins only.
    pub async fn invalidate_tenant_cache(
        &self,
        auth: &dyn AuthContext,
        table: Option<&str>,
    ) -> Result<()> {
        if !auth.is_admin() {
            return Err(EngineError::PermissionDenied);
        }
        self.invalidate_cache(auth.tenant_id(), table).await;
        Ok(())
    }

    /// Buckets a query by `date_column` (of the first query table that has it) and runs it.
    pub async fn execute_timeseries(
        &self,
        auth: &dyn AuthContext,
        request: TimeSeriesRequest,
    ) -> Result<QueryResult> {
        let schema = self.schema(auth).await?;
        let mut def = request.query;
        let table_id = date_table(&def, &schema, &request.date_column)?;
        let mut config = TimeSeriesConfig::new(table_id, request.date_column, request.interval);
        config.fill_missing = request.fill_missing;
        def.time_series = Some(config);
        self.run_query(auth, &def, None).await
    }

    /// Runs a widget's query with the dashboard's filters applied (the caller must be able to
    /// view the dashboard), honouring the widget's fiscal-year setting; or, for a widget of a
    /// [provider](crate::catalogue::DataKind::Provider) type, asks the host's provider.
    pub async fn execute_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        values: &[FilterValue],
    ) -> Result<QueryResult> {
        let dashboard = self.get_dashboard(auth, dashboard_id).await?;
        let widget = dashboard
            .widgets
            .iter()
            .find(|w| w.id == widget_id)
            .ok_or_else(|| EngineError::WidgetNotFound(widget_id.to_string()))?;
        self.run_widget(auth, &dashboard, widget, values).await
    }

    /// Runs `widget` of `dashboard` (which the caller may read) with the dashboard's filters.
    pub(super) async fn run_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard: &Dashboard,
        widget: &Widget,
        values: &[FilterValue],
    ) -> Result<QueryResult> {
        // A host type's data is for callers the access hook lets use the type.
        if !widget.widget_type.is_builtin()
            && !self.widgets.catalogue.may_use(auth, &widget.widget_type)
        {
            return Err(EngineError::PermissionDenied);
        }
        if let Some(spec) = self.widgets.catalogue.get(&widget.widget_type)
            && let Some(provider) = spec.provider()
        {
            return self
                .provide(auth, dashboard, widget, spec, provider.as_ref(), values)
                .await;
        }
        let def = widget
            .query
            .as_ref()
            .ok_or(EngineError::BadRequest(Unanswerable::WidgetHasNoQuery))?;
        let schema = self.schema(auth).await?;
        let merged =
            query::merge_dashboard_filters(def, &dashboard.filters, values, &schema, today());
        let fiscal_year_start_month = widget
            .config
            .builtin()
            .and_then(|c| c.fiscal_year_start_month);
        Ok(self
            .run_cached(auth, &merged, fiscal_year_start_month, Caching::Use)
            .await?
            .result)
    }

    /// Up to `limit` distinct non-null values of a column, in order (the caller's row filters
    /// apply; hidden tables and columns are not found).
    pub async fn sample_values(
        &self,
        auth: &dyn AuthContext,
        table: &str,
        column: &str,
        limit: usize,
    ) -> Result<Vec<Value>> {
        let schema = self.schema(auth).await?;
        let found = schema.table(table).ok_or_else(|| EngineError::NotFound {
            missing: Missing::Table(table.to_owned()),
            message: format!("Table '{table}' not found"),
        })?;
        if found.column(column).is_none() {
            return Err(EngineError::NotFound {
                missing: Missing::Column {
                    table: table.to_owned(),
                    column: column.to_owned(),
                },
                message: format!("Column '{column}' not found in table '{table}'"),
            });
        }
        // Grouping by the column gives its distinct values, and keeps the compiler (with its
        // row filters) the only author of the SQL.
        let limit = limit.clamp(1, self.analytics.max_rows);
        let def = QueryDefinition::select(
            QueryTable::new("t", table),
            vec![
                ColumnSelection::new("t", column),
                ColumnSelection::count_all("t").with_alias("n"),
            ],
        )
        .with_filter(FilterDefinition::new(
            "t",
            column,
            FilterOperator::IsNotNull,
            Value::Null,
        ))
        .with_order_by(SortDefinition::new("t", column, SortDirection::Asc))
        .with_limit(u64::try_from(limit).unwrap_or(u64::MAX));
        let result = self.run_query(auth, &def, None).await?;
        Ok(result
            .rows
            .into_iter()
            .filter_map(|row| row.into_iter().next())
            .collect())
    }

    /// A metric over a period and the comparison period before it, for the caller (their
    /// schema and row filters apply).
    pub async fn metric_trend(
        &self,
        auth: &dyn AuthContext,
        request: MetricTrendRequest,
    ) -> Result<TrendResult> {
        if request.current_end < request.current_start {
            return Err(EngineError::BadRequest(Unanswerable::EmptyPeriod));
        }
        let schema = self.schema(auth).await?;
        let table_id = date_table(&request.query, &schema, &request.date_column)?;
        let (previous_start, previous_end) = request
            .comparison
            .range(request.current_start, request.current_end);
        let within = |start: NaiveDate, end: NaiveDate| {
            let mut def = request.query.clone();
            for (operator, day) in [(FilterOperator::Gte, start), (FilterOperator::Lte, end)] {
                def.filters.push(FilterDefinition::new(
                    table_id.clone(),
                    request.date_column.clone(),
                    operator,
                    json!(day.format("%Y-%m-%d").to_string()),
                ));
            }
            def
        };
        let current = self
            .run_query(
                auth,
                &within(request.current_start, request.current_end),
                None,
            )
            .await?;
        let previous = self
            .run_query(auth, &within(previous_start, previous_end), None)
            .await?;
        let current = metric_value(&current, &request.value_column)?;
        let previous = metric_value(&previous, &request.value_column)?;
        Ok(trend(current, previous, 0.001))
    }
}

/// The query-local id of the first table of `def` whose schema table has `column`.
fn date_table(def: &QueryDefinition, schema: &DatabaseSchema, column: &str) -> Result<String> {
    def.tables
        .iter()
        .find(|t| {
            schema
                .table(&t.name)
                .is_some_and(|s| s.column(column).is_some())
        })
        .map(|t| t.id.clone())
        .ok_or_else(|| EngineError::BadRequest(Unanswerable::DateColumnNotFound(column.to_owned())))
}

/// The metric of a result: row 0 of `column`, or of the first column named `*_<column>`.
fn metric_value(result: &QueryResult, column: &str) -> Result<Option<f64>> {
    let suffix = format!("_{column}");
    let index = result
        .columns
        .iter()
        .position(|c| c == column)
        .or_else(|| result.columns.iter().position(|c| c.ends_with(&suffix)));
    let Some(index) = index else {
        if result.rows.is_empty() {
            return Ok(None);
        }
        return Err(EngineError::BadRequest(Unanswerable::ValueColumnNotFound(
            column.to_owned(),
        )));
    };
    Ok(result
        .rows
        .first()
        .and_then(|row| row.get(index))
        .and_then(|v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }))
}

pub(super) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

pub(super) fn record_query(ok: bool, started: Instant) {
    let status = if ok { "success" } else { "error" };
    metrics::counter!("prismiq_queries_total", "status" => status).increment(1);
    metrics::histogram!("prismiq_query_duration_ms", "status" => status)
        .record(started.elapsed().as_secs_f64() * 1000.0);
}
