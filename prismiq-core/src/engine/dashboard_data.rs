//! A dashboard with its widgets' results, in one call: what a picture or a page of the whole
//! dashboard (or of one widget) needs.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use serde_json::Value;

use super::shares::{record_share, share_values};
use super::{Engine, Result, widget_not_found};
use crate::catalogue::DataKind;
use crate::ids::{DashboardId, WidgetId};
use crate::model::{Dashboard, Widget, WidgetType};
use crate::{AuthContext, EngineError, FilterValue, QueryResult};

/// A dashboard and what each of its widgets shows.
#[derive(Debug)]
#[non_exhaustive]
pub struct DashboardData {
    /// The dashboard (its widgets in display order).
    pub dashboard: Dashboard,
    /// One entry per widget drawn, in the dashboard's order: the widget, and its rows —
    /// `None` for a widget without data (text, a host type with static content), an error for
    /// one whose data could not be had (that widget alone fails).
    pub widgets: Vec<(Widget, Option<Result<QueryResult>>)>,
    /// The filter values a share link fixes (empty for a dashboard read with host auth).
    pub locked_filters: BTreeMap<String, Value>,
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
        values: impl FnOnce(
            &Dashboard,
            &BTreeMap<String, Value>,
        ) -> std::result::Result<Vec<FilterValue>, E>,
    ) -> std::result::Result<DashboardData, E> {
        let dashboard = self.get_dashboard(auth, dashboard_id).await?;
        let locked = BTreeMap::new();
        let values = values(&dashboard, &locked)?;
        Ok(self
            .run_widgets(auth, dashboard, only, &values, locked)
            .await?)
    }

    /// As [`dashboard_data`](Self::dashboard_data), through a share link: the link's locked
    /// filters take their values whatever `values` says. Counts as one read of the link.
    pub async fn shared_dashboard_data<E: From<EngineError>>(
        &self,
        token: &str,
        only: Option<WidgetId>,
        values: impl FnOnce(
            &Dashboard,
            &BTreeMap<String, Value>,
        ) -> std::result::Result<Vec<FilterValue>, E>,
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
        let values = share_values(&dashboard, &locked, &values(&dashboard, &locked)?);
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
                None
            } else {
                Some(self.run_widget(auth, &dashboard, widget, values).await)
            }
        });
        let results = join_all(runs).await;
        let widgets = chosen.into_iter().cloned().zip(results).collect();
        Ok(DashboardData {
            dashboard,
            widgets,
            locked_filters,
        })
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
