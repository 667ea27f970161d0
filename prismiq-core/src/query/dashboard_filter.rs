//! Dashboard-level filters and the values the client sends for them: a dashboard carries
//! them, and [`merge_dashboard_filters`](super::merge_dashboard_filters) applies them to a
//! widget's query.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The control a dashboard filter renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilterType {
    /// A start and end date, or a preset.
    DateRange,
    /// One value.
    Select,
    /// Several values.
    MultiSelect,
    /// A text search.
    Text,
    /// A minimum and/or maximum.
    NumberRange,
}

/// A filter shown on a dashboard and applied to its widgets' queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardFilter {
    /// Id, unique within the dashboard.
    pub id: String,
    /// Control kind.
    #[serde(rename = "type")]
    pub filter_type: FilterType,
    /// Label shown to the user.
    pub label: String,
    /// The column (by name) it filters.
    pub field: String,
    /// The table (by name, not query id) holding `field`, if it must be pinned down.
    #[serde(default)]
    pub table: Option<String>,
    /// Value applied when the user has chosen none.
    #[serde(default)]
    pub default_value: Option<Value>,
    /// Choices of a select filter (`{value, label}` objects).
    #[serde(default)]
    pub options: Option<Vec<BTreeMap<String, String>>>,
    /// Preset of a date-range filter (`last_30_days`, …).
    #[serde(default)]
    pub date_preset: Option<String>,
    /// Whether the options are loaded from the data.
    #[serde(default)]
    pub dynamic: Option<bool>,
}

/// The value the user chose for one dashboard filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilterValue {
    /// The [`DashboardFilter::id`] it belongs to.
    pub filter_id: String,
    /// The chosen value.
    #[serde(default)]
    pub value: Value,
}
