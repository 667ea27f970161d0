//! A dashboard's filter values as URL query parameters, the way the page's form sends them:
//!
//! | filter type | parameters |
//! |---|---|
//! | `select`, `text` | `var-{id}=value` |
//! | `multi_select` | `var-{id}=a&var-{id}=b` |
//! | `date_range` | `var-{id}=last_30_days` (a preset) or `var-{id}.start=2025-01-01&var-{id}.end=2025-03-31` |
//! | `number_range` | `var-{id}.min=10&var-{id}.max=100` (either may be left out) |
//!
//! An empty value (`var-region=`) means "no filter"; a filter without parameters takes its
//! default. The prefix keeps filter ids apart from the render options (`width`, `height`,
//! `theme`), whatever a dashboard names its filters.

use std::collections::BTreeMap;

pub use prismiq_core::filter_params::{FILTER_PREFIX, ParamError};
use prismiq_core::filter_params::{as_filter_values, filter_values_from_params};
use prismiq_core::{DashboardFilter, FilterValue};
use serde_json::Value;

use crate::Theme;

/// What a render request asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderParams {
    /// `width`, if given (checked against the bounds the caller passed).
    pub width: Option<u32>,
    /// `height`, if given.
    pub height: Option<u32>,
    /// `theme` (`light` unless given).
    pub theme: Theme,
    /// The filter values the parameters set, by filter id (`Value::Null` for "no filter").
    pub values: BTreeMap<String, Value>,
}

impl RenderParams {
    /// The parameters of a query string (`pairs` as decoded), for a dashboard with `filters`;
    /// `width` and `height` must lie in their ranges. Parameters this crate does not know
    /// (cache busters, tracking) are ignored; a `var-` parameter naming no filter of the
    /// dashboard is an error.
    pub fn parse(
        pairs: &[(String, String)],
        filters: &[DashboardFilter],
        width: std::ops::RangeInclusive<u32>,
        height: std::ops::RangeInclusive<u32>,
    ) -> Result<Self, ParamError> {
        let mut params = Self::default();
        for (name, value) in pairs.iter().take(1_000) {
            match name.as_str() {
                "width" => params.width = Some(dimension(name, value, &width)?),
                "height" => params.height = Some(dimension(name, value, &height)?),
                "theme" => {
                    params.theme = value
                        .parse()
                        .map_err(|m: String| ParamError::new(name, m))?
                }
                _ => {}
            }
        }
        params.values = filter_values_from_params(pairs, filters)?;
        Ok(params)
    }

    /// The values as the Engine takes them.
    pub fn filter_values(&self) -> Vec<FilterValue> {
        as_filter_values(&self.values)
    }
}

fn dimension(
    name: &str,
    value: &str,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<u32, ParamError> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            ParamError::new(
                name,
                format!(
                    "must be a whole number of pixels from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filters() -> Vec<DashboardFilter> {
        serde_json::from_value(json!([
            {"id": "region", "type": "select", "label": "Region", "field": "region"},
            {"id": "tags", "type": "multi_select", "label": "Tags", "field": "tag"},
            {"id": "period", "type": "date_range", "label": "Period", "field": "order_date"},
            {"id": "amount", "type": "number_range", "label": "Amount", "field": "total"}
        ]))
        .unwrap()
    }

    fn parse(query: &str) -> Result<RenderParams, ParamError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        RenderParams::parse(&pairs, &filters(), 100..=4000, 100..=4000)
    }

    #[test]
    fn every_filter_type_reads_from_parameters() {
        let p = parse("width=800&theme=dark&var-region=East&var-tags=a&var-tags=b&var-period.start=2025-01-01&var-period.end=2025-03-31&var-amount.min=10&_=123").unwrap();
        assert_eq!(p.width, Some(800));
        assert_eq!(p.theme, Theme::Dark);
        assert_eq!(p.values["region"], json!("East"));
        assert_eq!(p.values["tags"], json!(["a", "b"]));
        assert_eq!(
            p.values["period"],
            json!({"start": "2025-01-01", "end": "2025-03-31"})
        );
        assert_eq!(p.values["amount"], json!({"min": 10.0}));
        assert_eq!(parse("var-region=").unwrap().values["region"], Value::Null);
        assert_eq!(
            parse("var-period=last_year").unwrap().values["period"],
            json!("last_year")
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        for (query, parameter) in [
            ("width=99999", "width"),
            ("height=abc", "height"),
            ("theme=blue", "theme"),
            ("var-nope=1", "var-nope"),
            ("var-amount.min=ten", "var-amount.min"),
            ("var-period.start=2025-01-01", "var-period"),
            (
                "var-period.start=yesterday&var-period.end=2025-01-01",
                "var-period.start",
            ),
            ("var-region.min=1", "var-region.min"),
        ] {
            assert_eq!(parse(query).unwrap_err().parameter, parameter, "{query}");
        }
    }
}
