//! Exports: a query's rows handed over as the database sends them, for files of any size.
//!
//! An export runs in the same code path as the query it exports — the caller's visible schema,
//! tenant schema, row filters, the per-tenant concurrency limit and a read-only transaction —
//! with two settings of its own ([`ExportLimits`]): a row cap, which is also the statement's
//! `LIMIT`, and a timeout for the whole export. The rows are never held whole: the data
//! source streams them ([`DataSource::stream`](crate::DataSource::stream)), and dropping the
//! [`Export`] stops the statement.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::Value;

use super::Engine;
use super::ExecuteSqlRequest;
use super::queries::Caching;
use super::queries::today;
use crate::auth::AuthContext;
use crate::error::{EngineError, Unanswerable};
use crate::ids::{DashboardId, WidgetId};
use crate::model::{Dashboard, FilterValue, Widget};
use crate::query::{self, QueryDefinition};
use crate::source::{ExecutionContext, QueryResult, RowStream};

type Result<T, E = EngineError> = std::result::Result<T, E>;

/// The settings of exports: how many rows one may have, and how long it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportLimits {
    /// The most rows an export has; `None` for no limit. Beyond it the export ends with
    /// [`ExportChunk::Truncated`].
    pub max_rows: Option<u64>,
    /// How long one export may take, from its start to its last row.
    pub timeout: Duration,
}

impl ExportLimits {
    /// The default cap: 1,048,576 rows, the rows of a spreadsheet.
    pub const DEFAULT_MAX_ROWS: u64 = 1_048_576;
    /// The default timeout: ten minutes.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
}

impl Default for ExportLimits {
    fn default() -> Self {
        Self {
            max_rows: Some(Self::DEFAULT_MAX_ROWS),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

/// A piece of an [`Export`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExportChunk {
    /// The next rows, each cell as in [`QueryResult::rows`].
    Rows(Vec<Vec<Value>>),
    /// The export stops here because the query has more rows than the cap; it is the last
    /// piece.
    Truncated {
        /// The cap that was reached.
        max_rows: u64,
    },
}

/// The rows of an exported query, as a [`Stream`] of [`ExportChunk`]s: the columns first,
/// then the rows as the database sends them, at most the cap.
///
/// Holds one of the tenant's query slots until it is dropped; dropping it before its end
/// stops the statement on the database.
pub struct Export {
    /// Column names, as in [`QueryResult::columns`].
    pub columns: Vec<String>,
    /// Column types, as in [`QueryResult::column_types`] (`int8`, `numeric`, `date`,
    /// `timestamptz`, `text`, …).
    pub column_types: Vec<String>,
    /// The title of the exported widget, for a file name; `None` for a query.
    pub title: Option<String>,
    batches: Option<BoxStream<'static, Result<Vec<Vec<Value>>>>>,
    max_rows: Option<u64>,
    sent: u64,
    truncated: bool,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::fmt::Debug for Export {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Export")
            .field("columns", &self.columns)
            .field("column_types", &self.column_types)
            .field("title", &self.title)
            .field("max_rows", &self.max_rows)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl Export {
    fn new(
        rows: RowStream,
        max_rows: Option<u64>,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            columns: rows.columns,
            column_types: rows.column_types,
            title: None,
            batches: Some(rows.batches.map(|b| b.map_err(EngineError::Source)).boxed()),
            max_rows,
            sent: 0,
            truncated: false,
            _slot: slot,
        }
    }

    /// The export of a result already held whole (a host data provider's, a time series'),
    /// which was cut at `result_cap` rows when it is `truncated`; `max_rows` is the export cap.
    fn of_result(result: QueryResult, result_cap: u64, max_rows: Option<u64>) -> Self {
        let truncated = result.truncated;
        let mut rows = RowStream::from_result(result);
        let max_rows = if truncated {
            // One row more than the cut result says that more rows exist.
            let more = futures_util::stream::once(async { Ok(vec![Vec::new()]) });
            rows.batches = rows.batches.chain(more).boxed();
            Some(max_rows.map_or(result_cap, |cap| cap.min(result_cap)))
        } else {
            max_rows
        };
        Self::new(rows, max_rows, None)
    }

    /// Lowers the cap to `max_rows` (a format's own limit, such as a spreadsheet's rows).
    #[must_use]
    pub fn with_max_rows(mut self, max_rows: u64) -> Self {
        self.max_rows = Some(self.max_rows.map_or(max_rows, |cap| cap.min(max_rows)));
        self
    }

    /// The cap this export stops at, if any.
    pub fn max_rows(&self) -> Option<u64> {
        self.max_rows
    }

    /// The rows handed over so far.
    pub fn rows_sent(&self) -> u64 {
        self.sent
    }
}

impl Stream for Export {
    type Item = Result<ExportChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.truncated {
            this.truncated = false;
            return Poll::Ready(Some(Ok(ExportChunk::Truncated {
                max_rows: this.max_rows.unwrap_or_default(),
            })));
        }
        let Some(batches) = this.batches.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            match batches.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.batches = None;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(err))) => {
                    this.batches = None;
                    return Poll::Ready(Some(Err(err)));
                }
                Poll::Ready(Some(Ok(mut rows))) => {
                    let room = this
                        .max_rows
                        .map_or(u64::MAX, |cap| cap.saturating_sub(this.sent));
                    if rows.len() as u64 > room {
                        // More rows than the cap: the statement stops here.
                        rows.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                        this.batches = None;
                        this.sent += rows.len() as u64;
                        if rows.is_empty() {
                            return Poll::Ready(Some(Ok(ExportChunk::Truncated {
                                max_rows: this.max_rows.unwrap_or_default(),
                            })));
                        }
                        this.truncated = true;
                        return Poll::Ready(Some(Ok(ExportChunk::Rows(rows))));
                    }
                    if rows.is_empty() {
                        continue;
                    }
                    this.sent += rows.len() as u64;
                    return Poll::Ready(Some(Ok(ExportChunk::Rows(rows))));
                }
            }
        }
    }
}

impl Engine {
    /// Exports a query's rows for the caller: the same checks, schema, row filters and
    /// concurrency limit as [`execute_query`](Self::execute_query), but the rows come as the
    /// database sends them, up to the export cap ([`ExportLimits`]), never from the result
    /// cache.
    ///
    /// A time-series query (its gaps are filled from the whole result) runs as
    /// `execute_query` does, capped by the query row limit.
    pub async fn export_query(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
    ) -> Result<Export> {
        self.export_definition(auth, def, None).await
    }

    /// Exports caller-written SQL like [`execute_sql`](Self::execute_sql) runs it, with the
    /// export cap in place of the query row limit.
    pub async fn export_sql(
        &self,
        auth: &dyn AuthContext,
        request: &ExecuteSqlRequest,
    ) -> Result<Export> {
        let (prepared, _, schema) = self
            .prepare_sql(auth, request, self.export_statement_cap())
            .await?;
        let context = self.export_context(auth, schema);
        self.stream_statement(&context, &prepared.statement).await
    }

    /// Exports one widget of a dashboard the caller may view, with the dashboard's filters
    /// and `values` applied as [`execute_widget`](Self::execute_widget) does. The export's
    /// [`title`](Export::title) is the widget's.
    pub async fn export_widget(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        values: &[FilterValue],
    ) -> Result<Export> {
        self.export_widget_with(auth, dashboard_id, widget_id, |_| Ok(values.to_vec()))
            .await
    }

    /// As [`export_widget`](Self::export_widget), with the filter values made from the
    /// dashboard once it is read (from a request's parameters, say), whose error is returned
    /// as it is.
    pub async fn export_widget_with<E: From<EngineError>>(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        widget_id: WidgetId,
        values: impl FnOnce(&Dashboard) -> std::result::Result<Vec<FilterValue>, E>,
    ) -> std::result::Result<Export, E> {
        let dashboard = self.get_dashboard(auth, dashboard_id).await?;
        let values = values(&dashboard)?;
        let widget = dashboard
            .widgets
            .iter()
            .find(|w| w.id == widget_id)
            .ok_or_else(|| super::widget_not_found(widget_id))?;
        Ok(self
            .export_widget_of(auth, &dashboard, widget, &values)
            .await?)
    }

    /// Exports `widget` of `dashboard` (which the caller may read) with the dashboard's
    /// filters.
    pub(super) async fn export_widget_of(
        &self,
        auth: &dyn AuthContext,
        dashboard: &Dashboard,
        widget: &Widget,
        values: &[FilterValue],
    ) -> Result<Export> {
        let mut export = match self.provided_widget(widget) {
            // A host type's data comes whole from its provider, through the usual checks.
            true => {
                let result = self.run_widget(auth, dashboard, widget, values).await?;
                Export::of_result(
                    result,
                    self.analytics.max_rows as u64,
                    self.limits.export.max_rows,
                )
            }
            false => {
                if !widget.widget_type.is_builtin()
                    && !self.widgets.catalogue.may_use(auth, &widget.widget_type)
                {
                    return Err(EngineError::PermissionDenied);
                }
                let def = widget
                    .query
                    .as_ref()
                    .ok_or(EngineError::BadRequest(Unanswerable::WidgetHasNoQuery))?;
                let schema = self.schema(auth).await?;
                let merged = query::merge_dashboard_filters(
                    def,
                    &dashboard.filters,
                    values,
                    &schema,
                    today(),
                );
                let fiscal_year_start_month = widget
                    .config
                    .builtin()
                    .and_then(|c| c.fiscal_year_start_month);
                self.export_definition(auth, &merged, fiscal_year_start_month)
                    .await?
            }
        };
        export.title = Some(widget.title.clone());
        Ok(export)
    }

    /// Exports one widget of a share link's dashboard, if the link allows exports, with the
    /// viewer's filter values for the dashboard's own filters and the link's locked values, as
    /// [`execute_shared_widget`](Self::execute_shared_widget) runs it.
    pub async fn export_shared_widget(
        &self,
        token: &str,
        widget_id: WidgetId,
        values: &[FilterValue],
    ) -> Result<Export> {
        self.export_shared_widget_with(token, widget_id, |_| Ok(values.to_vec()))
            .await
    }

    /// As [`export_shared_widget`](Self::export_shared_widget), with the filter values made
    /// from the dashboard once it is read. Counts as one read of the link.
    pub async fn export_shared_widget_with<E: From<EngineError>>(
        &self,
        token: &str,
        widget_id: WidgetId,
        values: impl FnOnce(&Dashboard) -> std::result::Result<Vec<FilterValue>, E>,
    ) -> std::result::Result<Export, E> {
        let opened = async {
            let (stored, viewer) = self.open_share(token).await?;
            if !stored.share.allow_export {
                return Err(EngineError::ExportNotAllowed);
            }
            let dashboard = self.shared_dashboard_of(&stored).await?;
            Ok((stored, viewer, dashboard))
        }
        .await;
        if opened.is_err() {
            super::shares::record_share("export", &opened);
        }
        let (stored, viewer, dashboard) = opened?;
        let values = values(&dashboard)?;
        let outcome = async {
            let widget = dashboard
                .widgets
                .iter()
                .find(|w| w.id == widget_id)
                .ok_or_else(|| super::widget_not_found(widget_id))?;
            let values =
                super::shares::share_values(&dashboard, &stored.share.locked_filters, &values);
            self.export_widget_of(&viewer, &dashboard, widget, &values)
                .await
        }
        .await;
        super::shares::record_share("export", &outcome);
        Ok(outcome?)
    }

    /// Whether a widget's data comes from a host provider rather than a query.
    fn provided_widget(&self, widget: &Widget) -> bool {
        self.widgets
            .catalogue
            .get(&widget.widget_type)
            .is_some_and(|spec| spec.provider().is_some())
    }

    async fn export_definition(
        &self,
        auth: &dyn AuthContext,
        def: &QueryDefinition,
        fiscal_year_start_month: Option<u8>,
    ) -> Result<Export> {
        if def.time_series.is_some() {
            let executed = self
                .run_cached(auth, def, fiscal_year_start_month, Caching::Off)
                .await?;
            return Ok(Export::of_result(
                executed.result,
                self.analytics.max_rows as u64,
                self.limits.export.max_rows,
            ));
        }
        let prepared = self.prepare(auth, def, fiscal_year_start_month).await?;
        let mut options = prepared.options.clone();
        options.max_rows = Some(self.export_statement_cap());
        let (def, compiled) = Self::checked(&prepared.schema, def, &options)?;
        let context = self.export_context(auth, prepared.context.schema.clone());
        let mut export = self.stream_statement(&context, &compiled.query).await?;
        // Types the source cannot name without a row come from the query, as for execute.
        let mut named = QueryResult::empty(
            std::mem::take(&mut export.columns),
            std::mem::take(&mut export.column_types),
        );
        super::queries::name_untyped_columns(&def, &prepared.schema, &mut named);
        export.columns = named.columns;
        export.column_types = named.column_types;
        Ok(export)
    }

    /// The cap a statement is compiled with: the export cap, or, with none, the most rows a
    /// database `LIMIT` takes.
    fn export_statement_cap(&self) -> usize {
        let unlimited = usize::try_from(i64::MAX - 1).unwrap_or(usize::MAX - 1);
        self.limits
            .export
            .max_rows
            .map_or(unlimited, |cap| usize::try_from(cap).unwrap_or(unlimited))
    }

    fn export_context(&self, auth: &dyn AuthContext, schema: String) -> ExecutionContext {
        ExecutionContext {
            schema,
            tenant_id: auth.tenant_id().to_owned(),
            timeout: self.limits.export.timeout,
            max_rows: self.export_statement_cap(),
        }
    }

    /// Streams a statement under `context`, holding one of the tenant's query slots until the
    /// export is dropped.
    async fn stream_statement(
        &self,
        context: &ExecutionContext,
        statement: &crate::source::CompiledQuery,
    ) -> Result<Export> {
        let source = self.source()?.clone();
        let slot = self
            .analytics
            .tenant_gates
            .enter(&context.tenant_id, self.analytics.query_timeout)
            .await?;
        let started = Instant::now();
        let rows = source.stream(context, statement).await;
        super::queries::record_query(rows.is_ok(), started);
        let max_rows = self.limits.export.max_rows;
        Ok(Export::new(
            rows.map_err(EngineError::Source)?,
            max_rows,
            slot,
        ))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use serde_json::json;

    use super::*;

    fn rows(n: usize) -> Vec<Vec<Value>> {
        (0..n).map(|i| vec![json!(i)]).collect()
    }

    fn stream_of(batches: Vec<usize>) -> RowStream {
        RowStream {
            columns: vec!["n".into()],
            column_types: vec!["int8".into()],
            batches: futures_util::stream::iter(batches.into_iter().map(|n| Ok(rows(n)))).boxed(),
        }
    }

    async fn collect(export: Export) -> (u64, Vec<ExportChunk>) {
        let chunks: Vec<ExportChunk> = export.map(|c| c.expect("no error")).collect().await;
        let rows = chunks
            .iter()
            .map(|c| match c {
                ExportChunk::Rows(rows) => rows.len() as u64,
                ExportChunk::Truncated { .. } => 0,
            })
            .sum();
        (rows, chunks)
    }

    #[tokio::test]
    async fn the_cap_cuts_the_rows_and_says_so_last() {
        let (count, chunks) = collect(Export::new(stream_of(vec![3, 3, 3]), Some(5), None)).await;
        assert_eq!(count, 5);
        assert_eq!(chunks.last(), Some(&ExportChunk::Truncated { max_rows: 5 }));
        assert_eq!(chunks.len(), 3, "{chunks:?}");
    }

    #[tokio::test]
    async fn exactly_the_cap_is_not_truncated() {
        let (count, chunks) = collect(Export::new(stream_of(vec![2, 3]), Some(5), None)).await;
        assert_eq!(count, 5);
        assert!(
            chunks.iter().all(|c| matches!(c, ExportChunk::Rows(_))),
            "{chunks:?}"
        );
    }

    #[tokio::test]
    async fn one_over_the_cap_at_a_batch_edge_is_truncated() {
        let (count, chunks) = collect(Export::new(stream_of(vec![5, 1]), Some(5), None)).await;
        assert_eq!(count, 5);
        assert_eq!(chunks.last(), Some(&ExportChunk::Truncated { max_rows: 5 }));
    }

    #[tokio::test]
    async fn no_cap_and_no_rows() {
        let (count, chunks) = collect(Export::new(stream_of(vec![4, 0, 4]), None, None)).await;
        assert_eq!(count, 8);
        assert_eq!(chunks.len(), 2);
        let (count, chunks) = collect(Export::new(stream_of(vec![]), Some(0), None)).await;
        assert_eq!((count, chunks.len()), (0, 0));
    }

    #[tokio::test]
    async fn a_lower_format_cap_wins() {
        let export = Export::new(stream_of(vec![10]), Some(8), None).with_max_rows(4);
        assert_eq!(export.max_rows(), Some(4));
        let (count, chunks) = collect(export).await;
        assert_eq!(count, 4);
        assert_eq!(chunks.last(), Some(&ExportChunk::Truncated { max_rows: 4 }));
    }

    #[tokio::test]
    async fn a_truncated_whole_result_ends_with_the_notice() {
        let mut result = QueryResult::empty(vec!["n".into()], vec!["int8".into()]);
        result.rows = rows(3);
        result.row_count = 3;
        result.truncated = true;
        let (count, chunks) = collect(Export::of_result(result, 3, Some(10))).await;
        assert_eq!(count, 3);
        assert_eq!(chunks.last(), Some(&ExportChunk::Truncated { max_rows: 3 }));
    }
}
