//! A dashboard with its widgets' results, in one call: what a picture or a page of the whole
//! dashboard (or of one widget) needs.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::Value;

use super::queries::today;
use super::shares::{record_share, share_values};
use super::{Engine, MetricTrendRequest, Result, widget_not_found};
use crate::catalogue::DataKind;
use crate::ids::{DashboardId, WidgetId};
use crate::model::{Dashboard, Widget, WidgetType};
use crate::query::DatePreset;
use crate::{
    AuthContext, ComparisonPeriod, EngineError, FilterType, FilterValue, QueryResult, TrendResult,
};

/// A dashboard and what each of its widgets shows.
#[derive(Debug)]
#[non_exhaustive]
pub struct DashboardData {
    /// The dashboard (its widgets in display order).
    pub dashboard: Dashboard,
    /// One entry per widget drawn, in the dashboard's order.
    pub widgets: Vec<WidgetOutcome>,
    /// The filter values a share link fixes (empty for a dashboard read with host auth).
    pub locked_filters: BTreeMap<String, Value>,
}

/// One widget and what it shows.
#[derive(Debug)]
#[non_exhaustive]
pub struct WidgetOutcome {
    /// The widget.
    pub widget: Widget,
    /// Its rows: `None` for a widget without data (text, a host type with static content), an
    /// error for one whose data could not be had (that widget alone fails).
    pub rows: Option<Result<QueryResult>>,
    /// A metric's trend, when its config asks for one (`showTrend`, `trendPeriod`,
    /// `trendDateColumn`) and it could be computed.
    pub trend: Option<TrendResult>,
}

impl Engine {
    /// `dashboard_id` with the results of its widgets (or of widget `only`), for a caller who
    /// may view it. `values` gives the filter values once the dashboard is read (so a caller
    /// can check request parameters against its filters); its error is returned as it is.
    /// Widgets run concurrently, through the result cache, under the same rules as
    /// [`execute_widget`](Self::execute_widget).
    pub async fn dashboard_data<E: From<EngineError>>(
        &self,
        auth: &dyn AuthContext,
        dashboard_id: DashboardId,
        only: Option<WidgetId>,
        values: impl FnOnce(&Dashboard) -> std::result::Result<Vec<FilterValue>, E>,
    ) -> std::result::Result<DashboardData, E> {
        let dashboard = self.get_dashboard(auth, dashboard_id).await?;
        let values = values(&dashboard)?;
        Ok(self
            .run_widgets(auth, dashboard, only, &values, BTreeMap::new())
            .await?)
    }

    /// As [`dashboard_data`](Self::dashboard_data), through a share link: the link's locked
    /// filters take their values whatever `values` says. Counts as one read of the link.
    pub async fn shared_dashboard_data<E: From<EngineError>>(
        &self,
        token: &str,
        only: Option<WidgetId>,
        values: impl FnOnce(&Dashboard) -> std::result::Result<Vec<FilterValue>, E>,
    ) -> std::result::Result<DashboardData, E> {
        let opened = async {
            let (stored, viewer) = self.open_share(token).await?;
            let dashboard = self.shared_dashboard_of(&stored).await?;
            Ok((stored, viewer, dashboard))
        }
        .await;
        record_share("render", &opened);
        let (stored, viewer, dashboard) = opened?;
        let locked = stored.share.locked_filters;
        let values = share_values(&dashboard, &locked, &values(&dashboard)?);
        Ok(self
            .run_widgets(&viewer, dashboard, only, &values, locked)
            .await?)
    }

    async fn run_widgets(
        &self,
        auth: &dyn AuthContext,
        dashboard: Dashboard,
        only: Option<WidgetId>,
        values: &[FilterValue],
        locked_filters: BTreeMap<String, Value>,
    ) -> Result<DashboardData> {
        let chosen: Vec<&Widget> = match only {
            Some(id) => vec![
                dashboard
                    .widgets
                    .iter()
                    .find(|w| w.id == id)
                    .ok_or_else(|| widget_not_found(id))?,
            ],
            None => dashboard.widgets.iter().collect(),
        };
        let runs = chosen.iter().map(|widget| async {
            if self.has_no_data(widget) {
                return WidgetOutcome {
                    widget: (*widget).clone(),
                    rows: None,
                    trend: None,
                };
            }
            let rows = self.run_widget(auth, &dashboard, widget, values).await;
            let trend = match &rows {
                Ok(result) => {
                    self.widget_trend(auth, &dashboard, widget, values, result)
                        .await
                }
                Err(_) => None,
            };
            WidgetOutcome {
                widget: (*widget).clone(),
                rows: Some(rows),
                trend,
            }
        });
        let widgets = join_all(runs).await;
        Ok(DashboardData {
            dashboard,
            widgets,
            locked_filters,
        })
    }

    /// A metric's trend, when its config asks for one: the metric over the current period —
    /// the range of the dashboard's date filter on `trendDateColumn` when it has one in force,
    /// else the last 30 days — against the `trendPeriod` before it (`previous_period`,
    /// `previous_year`, `previous_month`, `previous_week`), with the dashboard's other filters.
    /// `None` when the config does not ask for one or it cannot be computed (the metric is
    /// drawn without it; the reason is logged).
    async fn widget_trend(
        &self,
        auth: &dyn AuthContext,
        dashboard: &Dashboard,
        widget: &Widget,
        values: &[FilterValue],
        result: &QueryResult,
    ) -> Option<TrendResult> {
        let config = widget.config.builtin()?;
        if widget.widget_type != WidgetType::Metric || config.show_trend != Some(true) {
            return None;
        }
        let column = config.trend_date_column.as_deref()?;
        let comparison: ComparisonPeriod =
            serde_json::from_value(Value::String(config.trend_period.clone()?)).ok()?;
        let value_column = config
            .y_axis
            .as_ref()
            .and_then(|y| y.first().cloned())
            .or_else(|| result.columns.first().cloned())?;
        let today = today();
        // The date filter on the trend's column sets the current period and is left out of
        // the query: the trend adds both periods' ranges itself.
        let date_filter = dashboard
            .filters
            .iter()
            .find(|f| f.filter_type == FilterType::DateRange && f.field == column);
        let (start, end) = date_filter
            .and_then(|filter| {
                let chosen = match values.iter().find(|v| v.filter_id == filter.id) {
                    Some(entry) => entry.value.clone(),
                    None => filter
                        .default_value
                        .clone()
                        .or_else(|| filter.date_preset.clone().map(Value::String))?,
                };
                let (start, end) = crate::query::date_range(&chosen, today)?;
                Some((day(&start)?, day(&end)?))
            })
            .unwrap_or_else(|| DatePreset::Last30Days.resolve(today));
        let others: Vec<FilterValue> = values
            .iter()
            .filter(|v| date_filter.is_none_or(|f| f.id != v.filter_id))
            .cloned()
            .chain(date_filter.map(|f| FilterValue {
                filter_id: f.id.clone(),
                value: Value::Null,
            }))
            .collect();
        let schema = self.schema(auth).await.ok()?;
        let merged = crate::query::merge_dashboard_filters(
            widget.query.as_ref()?,
            &dashboard.filters,
            &others,
            &schema,
            today,
        );
        let request = MetricTrendRequest::new(merged, comparison, start, end, value_column, column);
        match self.metric_trend(auth, request).await {
            Ok(trend) => Some(trend),
            Err(error) => {
                tracing::debug!(widget = %widget.id, %error, "a metric's trend could not be computed");
                None
            }
        }
    }

    /// Whether a widget shows no data: a text widget, or a host type whose content is static.
    fn has_no_data(&self, widget: &Widget) -> bool {
        match &widget.widget_type {
            WidgetType::Text => true,
            other => self
                .widget_catalogue()
                .get(other)
                .is_some_and(|spec| spec.data() == DataKind::None),
        }
    }
}

/// The date of `2025-01-31` or `2025-01-31T…`.
fn day(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}
