//! The limits the engine enforces, and every check of a write against them: names,
//! descriptions, filters, widget counts, titles and positions on the grid. Pure functions, so
//! "where is the widget limit checked" has one answer, and table-driven tests below.

use std::collections::HashSet;

use super::Result;
use crate::error::{EngineError, Limit, Violation};
use crate::model::{DashboardFilter, DashboardLayout, WidgetContent, WidgetPosition};

/// The limits the engine enforces, set with the `with_*` methods of [`Engine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Limits {
    pub(super) dashboards_per_owner: Option<u32>,
    pub(super) widgets_per_dashboard: Option<u32>,
    pub(super) name_length: usize,
    pub(super) title_length: usize,
    pub(super) description_length: usize,
    pub(super) filters_per_dashboard: usize,
    pub(super) version_retention: crate::Retention,
    pub(super) export: super::exports::ExportLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            dashboards_per_owner: Some(1_000),
            widgets_per_dashboard: Some(200),
            name_length: 255,
            title_length: 255,
            description_length: 10_000,
            filters_per_dashboard: 50,
            version_retention: crate::Retention::default(),
            export: super::exports::ExportLimits::default(),
        }
    }
}

impl Limits {
    /// The error of an owner over `max_dashboards_per_owner`.
    pub(super) fn dashboard_limit_error(&self) -> EngineError {
        EngineError::LimitExceeded {
            limit: Limit::DashboardsPerOwner,
            message: format!(
                "Dashboard limit reached: an owner may have at most {} dashboards \
                 (max_dashboards_per_owner)",
                self.dashboards_per_owner.unwrap_or_default()
            ),
        }
    }

    /// The error of a dashboard over `max_widgets_per_dashboard`.
    pub(super) fn widget_limit_error(&self) -> EngineError {
        EngineError::LimitExceeded {
            limit: Limit::WidgetsPerDashboard,
            message: format!(
                "Widget limit reached: a dashboard may have at most {} widgets \
                 (max_widgets_per_dashboard)",
                self.widgets_per_dashboard.unwrap_or_default()
            ),
        }
    }

    /// A dashboard or saved-query name: not blank, no NUL, at most `max_name_length` characters.
    pub(super) fn check_name(&self, what: &'static str, name: &str) -> Result<()> {
        if name.trim().is_empty() {
            return Err(EngineError::Invalid(Violation::Empty { what }));
        }
        check_text(what, name, self.name_length, Limit::NameLength)
    }

    /// A description: no NUL, at most `max_description_length` characters.
    pub(super) fn check_description(&self, description: Option<&str>) -> Result<()> {
        description.map_or(Ok(()), |d| {
            check_text(
                "Description",
                d,
                self.description_length,
                Limit::DescriptionLength,
            )
        })
    }

    /// A dashboard's filters: at most `max_filters_per_dashboard`, ids unique.
    pub(super) fn check_filters(&self, filters: &[DashboardFilter]) -> Result<()> {
        if filters.len() > self.filters_per_dashboard {
            return Err(EngineError::LimitExceeded {
                limit: Limit::FiltersPerDashboard,
                message: format!(
                    "Too many filters: a dashboard may have at most {} \
                     (max_filters_per_dashboard)",
                    self.filters_per_dashboard
                ),
            });
        }
        let mut ids = HashSet::new();
        for filter in filters {
            if !ids.insert(filter.id.as_str()) {
                return Err(EngineError::Invalid(Violation::DuplicateFilterId(
                    filter.id.clone(),
                )));
            }
        }
        Ok(())
    }

    /// A dashboard's widgets: at most `max_widgets_per_dashboard`, each valid.
    pub(super) fn check_widgets<'a>(
        &self,
        layout: &DashboardLayout,
        widgets: impl ExactSizeIterator<Item = &'a WidgetContent>,
    ) -> Result<()> {
        if let Some(max) = self.widgets_per_dashboard
            && widgets.len() > max as usize
        {
            return Err(self.widget_limit_error());
        }
        for widget in widgets {
            self.check_widget(layout, widget)?;
        }
        Ok(())
    }

    /// One widget: its title's length, `raw_sql` or `query` (not both), its place on the grid.
    pub(super) fn check_widget(
        &self,
        layout: &DashboardLayout,
        widget: &WidgetContent,
    ) -> Result<()> {
        check_text(
            "Widget title",
            &widget.title,
            self.title_length,
            Limit::TitleLength,
        )?;
        if widget.query.is_some()
            && widget
                .config
                .builtin()
                .is_some_and(|config| config.raw_sql.is_some())
        {
            return Err(EngineError::Invalid(Violation::RawSqlWithQuery));
        }
        check_positions(layout, [(&widget.title, &widget.position)])
    }
}

/// Widgets' positions: each within the layout's columns.
pub(super) fn check_positions<'a>(
    layout: &DashboardLayout,
    positions: impl IntoIterator<Item = (&'a String, &'a WidgetPosition)>,
) -> Result<()> {
    for (title, position) in positions {
        if !position.fits(layout.columns) {
            return Err(EngineError::Invalid(Violation::OutsideGrid {
                title: title.clone(),
                x: position.x,
                w: position.w,
                columns: layout.columns,
            }));
        }
    }
    Ok(())
}

/// A text field: no NUL character (PostgreSQL cannot store it), at most `max` characters.
fn check_text(what: &'static str, value: &str, max: usize, limit: Limit) -> Result<()> {
    if value.contains('\0') {
        return Err(EngineError::Invalid(Violation::NulCharacter { what }));
    }
    let length = value.chars().count();
    if length > max {
        return Err(EngineError::LimitExceeded {
            limit,
            message: format!(
                "{what} is {length} characters long; the limit is {max} ({})",
                limit.setting()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn small() -> Limits {
        Limits {
            dashboards_per_owner: Some(2),
            widgets_per_dashboard: Some(2),
            name_length: 5,
            title_length: 4,
            description_length: 6,
            filters_per_dashboard: 1,
            version_retention: crate::Retention::default(),
            export: crate::ExportLimits::default(),
        }
    }

    /// `Ok` or the error's variant and message.
    fn outcome(result: Result<()>) -> Result<(), (&'static str, String)> {
        result.map_err(|err| {
            let kind = match err {
                EngineError::Invalid(_) => "invalid",
                EngineError::LimitExceeded { .. } => "limit",
                _ => "other",
            };
            (kind, err.to_string())
        })
    }

    fn widget(title: &str, x: u32, w: u32, raw_sql: bool, query: bool) -> WidgetContent {
        let config: crate::model::WidgetConfig =
            serde_json::from_value(json!({"raw_sql": raw_sql.then_some("select 1")})).unwrap();
        WidgetContent {
            widget_type: crate::model::WidgetType::Table,
            title: title.to_owned(),
            query: query.then(|| {
                crate::model::QueryDefinition::from_value(json!({
                    "tables": [{"id": "t1", "name": "orders"}],
                    "columns": [{"table_id": "t1", "column": "id"}]
                }))
                .unwrap()
            }),
            position: WidgetPosition::new(x, 0, w, 1).unwrap(),
            config: config.into(),
        }
    }

    fn filter(id: &str) -> DashboardFilter {
        serde_json::from_value(json!({"id": id, "type": "select", "label": "l", "field": "f"}))
            .unwrap()
    }

    #[test]
    fn names_and_descriptions() {
        let limits = small();
        type Case<'a> = (&'a str, Option<&'a str>, Result<(), (&'a str, &'a str)>);
        let cases: [Case<'_>; 8] = [
            ("Sales", None, Ok(())),
            ("Sälës", Some("ééééé"), Ok(())),
            ("", None, Err(("invalid", "Name must not be empty"))),
            ("   ", None, Err(("invalid", "Name must not be empty"))),
            (
                "Sales!",
                None,
                Err((
                    "limit",
                    "Name is 6 characters long; the limit is 5 (max_name_length)",
                )),
            ),
            ("Sales", Some("123456"), Ok(())),
            (
                "a\0b",
                None,
                Err((
                    "invalid",
                    "Name must not contain the NUL character (\\u0000)",
                )),
            ),
            (
                "Sales",
                Some("1234567"),
                Err((
                    "limit",
                    "Description is 7 characters long; the limit is 6 (max_description_length)",
                )),
            ),
        ];
        for (name, description, expected) in cases {
            let got = outcome(
                limits
                    .check_name("Name", name)
                    .and_then(|()| limits.check_description(description)),
            );
            let expected = expected.map_err(|(kind, message)| (kind, message.to_owned()));
            assert_eq!(got, expected, "{name:?} {description:?}");
        }
    }

    #[test]
    fn filters() {
        let limits = Limits {
            filters_per_dashboard: 2,
            ..small()
        };
        let cases = [
            (vec![], Ok(())),
            (vec!["a", "b"], Ok(())),
            (
                vec!["a", "a"],
                Err((
                    "invalid",
                    "Filter id 'a' appears more than once in `filters`".to_owned(),
                )),
            ),
            (
                vec!["a", "b", "c"],
                Err((
                    "limit",
                    "Too many filters: a dashboard may have at most 2 \
                     (max_filters_per_dashboard)"
                        .to_owned(),
                )),
            ),
        ];
        for (ids, expected) in cases {
            let filters: Vec<DashboardFilter> = ids.iter().map(|id| filter(id)).collect();
            assert_eq!(outcome(limits.check_filters(&filters)), expected, "{ids:?}");
        }
    }

    #[test]
    fn widgets() {
        let limits = small();
        let layout = DashboardLayout::default();
        let too_many = "Widget limit reached: a dashboard may have at most 2 widgets \
                        (max_widgets_per_dashboard)";
        let cases = [
            (vec![widget("A", 0, 12, false, true)], Ok(())),
            (
                vec![
                    widget("A", 0, 4, true, false),
                    widget("B", 4, 4, false, true),
                ],
                Ok(()),
            ),
            (
                vec![widget("A", 0, 1, false, false); 3],
                Err(("limit", too_many.to_owned())),
            ),
            (
                vec![widget("Title", 0, 1, false, false)],
                Err((
                    "limit",
                    "Widget title is 5 characters long; the limit is 4 (max_title_length)"
                        .to_owned(),
                )),
            ),
            (
                vec![widget("A", 0, 1, true, true)],
                Err((
                    "invalid",
                    "raw_sql and query are mutually exclusive; set one or the other, not both"
                        .to_owned(),
                )),
            ),
            (
                vec![widget("A", 9, 4, false, false)],
                Err((
                    "invalid",
                    "Widget 'A' does not fit the grid: x (9) + w (4) must be at most the \
                     layout's 12 columns"
                        .to_owned(),
                )),
            ),
        ];
        for (widgets, expected) in cases {
            assert_eq!(
                outcome(limits.check_widgets(&layout, widgets.iter())),
                expected,
                "{widgets:?}"
            );
        }
        let unlimited = Limits {
            widgets_per_dashboard: None,
            ..small()
        };
        let many = vec![widget("A", 0, 1, false, false); 500];
        assert_eq!(
            outcome(unlimited.check_widgets(&layout, many.iter())),
            Ok(())
        );
    }

    #[test]
    fn limit_errors_name_their_setting() {
        let limits = small();
        assert_eq!(
            limits.dashboard_limit_error().to_string(),
            "Dashboard limit reached: an owner may have at most 2 dashboards \
             (max_dashboards_per_owner)"
        );
        assert!(matches!(
            limits.widget_limit_error(),
            EngineError::LimitExceeded { limit: Limit::WidgetsPerDashboard, message }
                if message.contains("max_widgets_per_dashboard")
        ));
    }
}
