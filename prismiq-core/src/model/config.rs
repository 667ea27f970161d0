//! [`WidgetConfig`]: a widget's display settings, with the exact keys of the wire contract.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A widget's display settings.
///
/// Always written in full: all 34 keys, `null` when unset. Unknown keys are dropped on input.
/// Most keys are snake_case; the ones the client spells in camelCase keep that spelling.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetConfig {
    /// Column on the x axis.
    #[serde(default)]
    pub x_axis: Option<String>,
    /// Columns on the y axis.
    #[serde(default)]
    pub y_axis: Option<Vec<String>>,
    /// Column splitting the data into series.
    #[serde(default)]
    pub series_column: Option<String>,
    /// Maximum number of series drawn.
    #[serde(default)]
    pub max_series: Option<i64>,
    /// `horizontal` or `vertical`.
    #[serde(default)]
    pub orientation: Option<String>,
    /// Whether series are stacked.
    #[serde(default)]
    pub stacked: Option<bool>,
    /// Whether the legend is shown.
    #[serde(default)]
    pub show_legend: Option<bool>,
    /// Whether values are printed on the chart.
    #[serde(default)]
    pub show_data_labels: Option<bool>,
    /// Series colours.
    #[serde(default)]
    pub colors: Option<Vec<String>>,
    /// `number`, `currency`, `percent` or `compact`.
    #[serde(default, rename = "valueFormat")]
    pub value_format: Option<String>,
    /// Currency symbol for `currency` values.
    #[serde(default, rename = "currencySymbol")]
    pub currency_symbol: Option<String>,
    /// `K`, `M`, `B` or `T`.
    #[serde(default, rename = "compactNotation")]
    pub compact_notation: Option<String>,
    /// Digits after the decimal point.
    #[serde(default, rename = "decimalDigits")]
    pub decimal_digits: Option<i64>,
    /// Horizontal reference lines (`{value, label?, color?, lineStyle?}`).
    #[serde(default, rename = "referenceLines")]
    pub reference_lines: Option<Vec<Map<String, Value>>>,
    /// Cross-filter settings (`{enabled, column?, table?}`).
    #[serde(default)]
    pub cross_filter: Option<Map<String, Value>>,
    /// Free-form format name.
    #[serde(default)]
    pub format: Option<String>,
    /// Trend comparison of a metric.
    #[serde(default)]
    pub trend_comparison: Option<String>,
    /// Trend period of a metric (`previous_period`, `previous_year`, …).
    #[serde(default, rename = "trendPeriod")]
    pub trend_period: Option<String>,
    /// Date column the trend is computed over.
    #[serde(default, rename = "trendDateColumn")]
    pub trend_date_column: Option<String>,
    /// Rows per page of a table.
    #[serde(default)]
    pub page_size: Option<i64>,
    /// Whether a table can be sorted.
    #[serde(default)]
    pub sortable: Option<bool>,
    /// Column pivoted into columns.
    #[serde(default)]
    pub pivot_column: Option<String>,
    /// Column holding the pivoted values.
    #[serde(default)]
    pub value_column: Option<String>,
    /// Per-column number formats (`{format, currencySymbol?, compactNotation?, decimalDigits?}`).
    #[serde(default, rename = "columnFormats")]
    pub column_formats: Option<BTreeMap<String, Map<String, Value>>>,
    /// Per-column date-fns format strings.
    #[serde(default, rename = "dateFormats")]
    pub date_formats: Option<BTreeMap<String, String>>,
    /// First month (1–12) of the fiscal year.
    #[serde(
        default,
        rename = "fiscalYearStartMonth",
        deserialize_with = "fiscal_month"
    )]
    pub fiscal_year_start_month: Option<u8>,
    /// Text of a text widget.
    #[serde(default)]
    pub content: Option<String>,
    /// Whether `content` is markdown.
    #[serde(default)]
    pub markdown: Option<bool>,
    /// Text alignment.
    #[serde(default)]
    pub alignment: Option<String>,
    /// Text size.
    #[serde(default, rename = "fontSize")]
    pub font_size: Option<String>,
    /// SQL of a SQL-mode widget; exclusive with the widget's `query`.
    #[serde(default)]
    pub raw_sql: Option<String>,
    /// Where the widget's data comes from.
    #[serde(default)]
    pub data_source_mode: Option<DataSourceMode>,
    /// A link shown on the widget.
    #[serde(default)]
    pub hyperlink: Option<Hyperlink>,
    /// Whether a metric shows its trend.
    #[serde(default, rename = "showTrend")]
    pub show_trend: Option<bool>,
}

/// A widget's config as stored and returned: the 34 keys of a built-in type, or the JSON
/// object of a host type, kept exactly as its schema validated it.
///
/// Read from JSON it is always [`Json`](Self::Json): which shape applies depends on the
/// widget's type, so the [`Engine`](crate::Engine) (for requests) and
/// [`for_type`](Self::for_type) (for stored widgets) settle it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnyConfig {
    /// A built-in type's config.
    Builtin(Box<WidgetConfig>),
    /// A host type's config (or, before it is settled, any type's config as sent).
    Json(Map<String, Value>),
}

impl AnyConfig {
    /// The built-in config, if this is one.
    pub fn builtin(&self) -> Option<&WidgetConfig> {
        match self {
            Self::Builtin(config) => Some(config),
            Self::Json(_) => None,
        }
    }

    /// This config in the shape `widget_type` takes: a [`WidgetConfig`] for a built-in type
    /// (read from the JSON, unknown keys dropped), the JSON object for a host type.
    pub fn for_type(self, widget_type: &super::WidgetType) -> Result<Self, serde_json::Error> {
        match (self, widget_type.is_builtin()) {
            (Self::Json(map), true) => Ok(Self::Builtin(Box::new(serde_json::from_value(
                Value::Object(map),
            )?))),
            (Self::Builtin(config), false) => match serde_json::to_value(config)? {
                Value::Object(map) => Ok(Self::Json(map)),
                _ => unreachable!("a WidgetConfig serializes to an object"),
            },
            (settled, _) => Ok(settled),
        }
    }

    /// The config as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a widget config serializes to JSON")
    }
}

impl Default for AnyConfig {
    fn default() -> Self {
        Self::Builtin(Box::default())
    }
}

impl From<WidgetConfig> for AnyConfig {
    fn from(config: WidgetConfig) -> Self {
        Self::Builtin(Box::new(config))
    }
}

impl From<Map<String, Value>> for AnyConfig {
    fn from(map: Map<String, Value>) -> Self {
        Self::Json(map)
    }
}

impl<'de> Deserialize<'de> for AnyConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Self::Json)
    }
}

fn fiscal_month<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u8>, D::Error> {
    match Option::<i64>::deserialize(deserializer)? {
        None => Ok(None),
        Some(month @ 1..=12) => Ok(Some(month as u8)),
        Some(other) => Err(D::Error::custom(format!(
            "fiscalYearStartMonth must be between 1 and 12, got {other}"
        ))),
    }
}

/// Where a widget's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataSourceMode {
    /// The guided query builder.
    Guided,
    /// The advanced query builder.
    Advanced,
    /// A saved query.
    Saved,
    /// Custom SQL (`raw_sql`).
    Sql,
}

/// A link shown on a widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hyperlink {
    /// Target URL.
    pub url: String,
    /// Link text.
    #[serde(default)]
    pub title: Option<String>,
    /// Where the link opens.
    #[serde(default)]
    pub target: Option<LinkTarget>,
}

/// Where a [`Hyperlink`] opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LinkTarget {
    /// A new tab.
    #[serde(rename = "_blank")]
    Blank,
    /// The same tab.
    #[serde(rename = "_self")]
    SelfTarget,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_all_34_keys_with_explicit_nulls() {
        let json = serde_json::to_value(WidgetConfig::default()).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), 34);
        assert!(object.values().all(Value::is_null));
        for key in [
            "valueFormat",
            "currencySymbol",
            "compactNotation",
            "decimalDigits",
            "referenceLines",
            "showTrend",
            "trendPeriod",
            "trendDateColumn",
            "columnFormats",
            "dateFormats",
            "fiscalYearStartMonth",
            "fontSize",
            "x_axis",
            "raw_sql",
            "data_source_mode",
        ] {
            assert!(object.contains_key(key), "missing {key}");
        }
    }

    #[test]
    fn drops_unknown_keys_and_validates_enums() {
        let config: WidgetConfig =
            serde_json::from_str(r#"{"x_axis":"region","bogus":1,"fiscalYearStartMonth":4}"#)
                .unwrap();
        assert_eq!(config.x_axis.as_deref(), Some("region"));
        assert_eq!(config.fiscal_year_start_month, Some(4));
        assert!(serde_json::from_str::<WidgetConfig>(r#"{"fiscalYearStartMonth":13}"#).is_err());
        assert!(serde_json::from_str::<WidgetConfig>(r#"{"data_source_mode":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<WidgetConfig>(r#"{"hyperlink":{"url":"u","target":"_top"}}"#)
                .is_err()
        );
    }
}
