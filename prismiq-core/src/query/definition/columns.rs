//! What a query selects: columns with their aggregate and date truncation, and calculated
//! fields.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::input::reject_sql;

/// An aggregate applied to a selected column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The plain value.
    #[default]
    None,
    /// `SUM(x)`.
    Sum,
    /// `AVG(x)`.
    Avg,
    /// `COUNT(x)`, or `COUNT(*)` with column `*`.
    Count,
    /// `COUNT(DISTINCT x)`.
    CountDistinct,
    /// `MIN(x)`.
    Min,
    /// `MAX(x)`.
    Max,
}

impl Aggregation {
    /// The wire name (`sum`, `count_distinct`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Count => "count",
            Self::CountDistinct => "count_distinct",
            Self::Min => "min",
            Self::Max => "max",
        }
    }

    /// Whether this aggregates (anything but [`Aggregation::None`]).
    pub fn is_aggregate(self) -> bool {
        self != Self::None
    }
}

/// A unit to truncate dates and timestamps to; PostgreSQL's `date_trunc` fields.
///
/// Read case-insensitively and written in lower case. Weeks start on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimeUnit {
    /// Calendar year.
    Year,
    /// Calendar quarter (January, April, July, October).
    Quarter,
    /// Calendar month.
    Month,
    /// ISO week, starting Monday.
    Week,
    /// Day.
    Day,
    /// Hour.
    Hour,
    /// Minute.
    Minute,
    /// Second.
    Second,
}

impl TimeUnit {
    /// Every unit, largest first.
    pub const ALL: [Self; 8] = [
        Self::Year,
        Self::Quarter,
        Self::Month,
        Self::Week,
        Self::Day,
        Self::Hour,
        Self::Minute,
        Self::Second,
    ];

    /// The lower-case name, as PostgreSQL's `date_trunc` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Year => "year",
            Self::Quarter => "quarter",
            Self::Month => "month",
            Self::Week => "week",
            Self::Day => "day",
            Self::Hour => "hour",
            Self::Minute => "minute",
            Self::Second => "second",
        }
    }

    /// The unit named `name`, compared case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TimeUnit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TimeUnit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "Invalid date_trunc '{name}'. Must be one of: year, quarter, month, week, day, \
                 hour, minute, second"
            ))
        })
    }
}

/// One entry of the SELECT list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawColumnSelection")]
pub struct ColumnSelection {
    /// The table's query-local id.
    pub table_id: String,
    /// A column of that table, a calculated-field name, or `*` (with `count` only).
    pub column: String,
    /// The aggregate applied.
    pub aggregation: Aggregation,
    /// The output column name.
    pub alias: Option<String>,
    /// Truncate the (date or timestamp) value to this unit.
    pub date_trunc: Option<TimeUnit>,
    /// A display hint for the client; not used in SQL.
    pub date_format: Option<String>,
}

impl ColumnSelection {
    /// The plain column `column` of table `table_id`.
    pub fn new(table_id: impl Into<String>, column: impl Into<String>) -> Self {
        Self {
            table_id: table_id.into(),
            column: column.into(),
            aggregation: Aggregation::None,
            alias: None,
            date_trunc: None,
            date_format: None,
        }
    }

    /// The same selection with `aggregation`.
    pub fn aggregated(mut self, aggregation: Aggregation) -> Self {
        self.aggregation = aggregation;
        self
    }

    /// `COUNT(*)` over the rows of table `table_id`.
    pub fn count_all(table_id: impl Into<String>) -> Self {
        Self::new(table_id, "*").aggregated(Aggregation::Count)
    }

    /// The same selection, output under `alias`.
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// The same selection, truncated to `unit`.
    pub fn truncated(mut self, unit: TimeUnit) -> Self {
        self.date_trunc = Some(unit);
        self
    }
}

// Written out by hand: every key with its default, as the original server does,
// `sql_expression` included: it is always null, since it is never taken from a client.
impl Serialize for ColumnSelection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("ColumnSelection", 7)?;
        out.serialize_field("table_id", &self.table_id)?;
        out.serialize_field("column", &self.column)?;
        out.serialize_field("aggregation", &self.aggregation)?;
        out.serialize_field("alias", &self.alias)?;
        out.serialize_field("date_trunc", &self.date_trunc)?;
        out.serialize_field("date_format", &self.date_format)?;
        out.serialize_field("sql_expression", &None::<&str>)?;
        out.end()
    }
}

#[derive(Deserialize)]
struct RawColumnSelection {
    table_id: String,
    column: String,
    #[serde(default)]
    aggregation: Aggregation,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    date_trunc: Option<TimeUnit>,
    #[serde(default)]
    date_format: Option<String>,
    #[serde(default)]
    sql_expression: Option<Value>,
}

impl TryFrom<RawColumnSelection> for ColumnSelection {
    type Error = String;

    fn try_from(raw: RawColumnSelection) -> Result<Self, String> {
        reject_sql(
            raw.sql_expression.as_ref(),
            "select a calculated field (its `expression`) instead",
        )?;
        Ok(Self {
            table_id: raw.table_id,
            column: raw.column,
            aggregation: raw.aggregation,
            alias: raw.alias,
            date_trunc: raw.date_trunc,
            date_format: raw.date_format,
        })
    }
}

/// What a calculated field evaluates to (informational).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CalculatedDataType {
    /// A number.
    #[default]
    Number,
    /// Text.
    String,
    /// A date.
    Date,
    /// True or false.
    Boolean,
}

/// A named expression in the calculated-field language (`[total] * 2`,
/// `if([status] == "paid", [amount], 0)`, …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawCalculatedField")]
pub struct CalculatedField {
    /// The name columns, filters, grouping and ordering use to refer to it.
    pub name: String,
    /// The expression.
    pub expression: String,
    /// Whether the expression aggregates by itself (then it is never grouped by). Aggregate
    /// functions in the expression are detected anyway.
    pub has_internal_aggregation: bool,
    /// What it evaluates to.
    pub data_type: CalculatedDataType,
}

impl CalculatedField {
    /// A numeric field `name` computed by `expression`.
    pub fn new(name: impl Into<String>, expression: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            expression: expression.into(),
            has_internal_aggregation: false,
            data_type: CalculatedDataType::Number,
        }
    }
}

// Written out by hand: every key with its default, as the original server does,
// `sql_expression` included: it is always null, since it is never taken from a client.
impl Serialize for CalculatedField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("CalculatedField", 5)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("expression", &self.expression)?;
        out.serialize_field("sql_expression", &None::<&str>)?;
        out.serialize_field("has_internal_aggregation", &self.has_internal_aggregation)?;
        out.serialize_field("data_type", &self.data_type)?;
        out.end()
    }
}

#[derive(Deserialize)]
struct RawCalculatedField {
    name: String,
    expression: String,
    #[serde(default)]
    sql_expression: Option<Value>,
    #[serde(default)]
    has_internal_aggregation: bool,
    #[serde(default)]
    data_type: CalculatedDataType,
}

impl TryFrom<RawCalculatedField> for CalculatedField {
    type Error = String;

    fn try_from(raw: RawCalculatedField) -> Result<Self, String> {
        reject_sql(
            raw.sql_expression.as_ref(),
            "use a calculated field expression",
        )?;
        if raw.name.trim().is_empty() {
            return Err("A calculated field needs a non-empty name".to_owned());
        }
        Ok(Self {
            name: raw.name,
            expression: raw.expression,
            has_internal_aggregation: raw.has_internal_aggregation,
            data_type: raw.data_type,
        })
    }
}
