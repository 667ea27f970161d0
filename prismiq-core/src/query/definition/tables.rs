//! The tables a query reads and how they are joined, and how its rows are grouped, ordered
//! and bucketed by date.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::columns::TimeUnit;

/// A table the query reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryTable {
    /// The query-local handle (`t1`, `t2`, …) that columns, filters and joins use.
    pub id: String,
    /// The real table or view name.
    pub name: String,
    /// The name the table goes by in the SQL, if not its own.
    #[serde(default)]
    pub alias: Option<String>,
}

impl QueryTable {
    /// A table without alias.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            alias: None,
        }
    }
}

/// How two tables are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum JoinType {
    /// Only matching rows.
    #[default]
    Inner,
    /// Every row of the left side.
    Left,
    /// Every row of the right side.
    Right,
    /// Every row of both sides.
    Full,
}

/// A join of `to_table_id` onto the tables before it, on one column equality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinDefinition {
    /// The table already in the query.
    pub from_table_id: String,
    /// Its join column.
    pub from_column: String,
    /// The table joined in.
    pub to_table_id: String,
    /// Its join column.
    pub to_column: String,
    /// The kind of join.
    #[serde(default)]
    pub join_type: JoinType,
}

impl JoinDefinition {
    /// `to_table_id` joined on `from_table_id.from_column = to_table_id.to_column`.
    pub fn new(
        from_table_id: impl Into<String>,
        from_column: impl Into<String>,
        to_table_id: impl Into<String>,
        to_column: impl Into<String>,
        join_type: JoinType,
    ) -> Self {
        Self {
            from_table_id: from_table_id.into(),
            from_column: from_column.into(),
            to_table_id: to_table_id.into(),
            to_column: to_column.into(),
            join_type,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum SortDirection {
    /// Ascending.
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// One ORDER BY entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SortDefinition {
    /// The table's query-local id.
    pub table_id: String,
    /// A column of that table, or a calculated-field name.
    pub column: String,
    /// Direction.
    #[serde(default)]
    pub direction: SortDirection,
}

impl SortDefinition {
    /// Order by `column` of table `table_id`, in `direction`.
    pub fn new(
        table_id: impl Into<String>,
        column: impl Into<String>,
        direction: SortDirection,
    ) -> Self {
        Self {
            table_id: table_id.into(),
            column: column.into(),
            direction,
        }
    }
}

/// One explicit GROUP BY entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupByDefinition {
    /// The table's query-local id.
    pub table_id: String,
    /// A column of that table, or a calculated-field name.
    pub column: String,
}

impl GroupByDefinition {
    /// Group by `column` of table `table_id`.
    pub fn new(table_id: impl Into<String>, column: impl Into<String>) -> Self {
        Self {
            table_id: table_id.into(),
            column: column.into(),
        }
    }
}

/// Date bucketing: the rows are grouped by `date_trunc(interval, date_column)`, which is
/// selected first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawTimeSeriesConfig")]
pub struct TimeSeriesConfig {
    /// The table's query-local id.
    pub table_id: String,
    /// The date or timestamp column bucketed.
    pub date_column: String,
    /// The bucket size (any [`TimeUnit`] but `second`).
    pub interval: TimeUnit,
    /// Whether missing buckets are added to the result (see
    /// [`fill_time_series_gaps`](crate::query::fill_time_series_gaps)).
    pub fill_missing: bool,
    /// The value numeric columns of added buckets get.
    pub fill_value: Value,
    /// The bucket column's name; `<date_column>_bucket` when unset.
    pub alias: Option<String>,
}

impl TimeSeriesConfig {
    /// Buckets of `interval` over `date_column` of table `table_id`, gaps filled with 0.
    pub fn new(
        table_id: impl Into<String>,
        date_column: impl Into<String>,
        interval: TimeUnit,
    ) -> Self {
        Self {
            table_id: table_id.into(),
            date_column: date_column.into(),
            interval,
            fill_missing: true,
            fill_value: Value::from(0),
            alias: None,
        }
    }

    /// The bucket column's name: the alias, or `<date_column>_bucket`.
    pub fn bucket_alias(&self) -> String {
        self.alias
            .clone()
            .unwrap_or_else(|| format!("{}_bucket", self.date_column))
    }
}

fn default_fill_missing() -> bool {
    true
}

fn default_fill_value() -> Value {
    Value::from(0)
}

#[derive(Deserialize)]
struct RawTimeSeriesConfig {
    table_id: String,
    date_column: String,
    interval: String,
    #[serde(default = "default_fill_missing")]
    fill_missing: bool,
    #[serde(default = "default_fill_value")]
    fill_value: Value,
    #[serde(default)]
    alias: Option<String>,
}

impl TryFrom<RawTimeSeriesConfig> for TimeSeriesConfig {
    type Error = String;

    fn try_from(raw: RawTimeSeriesConfig) -> Result<Self, String> {
        let interval = TimeUnit::parse(&raw.interval)
            .filter(|u| *u != TimeUnit::Second)
            .ok_or_else(|| {
                format!(
                    "Invalid interval '{}'. Must be one of: minute, hour, day, week, month, \
                     quarter, year",
                    raw.interval
                )
            })?;
        Ok(Self {
            table_id: raw.table_id,
            date_column: raw.date_column,
            interval,
            fill_missing: raw.fill_missing,
            fill_value: raw.fill_value,
            alias: raw.alias,
        })
    }
}
