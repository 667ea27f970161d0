//! Conditions: the filter operators and a condition on one column or calculated field.

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::input::reject_sql;

/// A filter operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilterOperator {
    /// `= value`, or `IS NULL` when the value is null.
    Eq,
    /// `<> value`, or `IS NOT NULL` when the value is null.
    Neq,
    /// `> value`.
    Gt,
    /// `>= value`.
    Gte,
    /// `< value`.
    Lt,
    /// `<= value`.
    Lte,
    /// `IN (values)`; an empty list matches nothing.
    #[serde(rename = "in_")]
    In,
    /// `NOT IN (values)`; an empty list matches everything.
    NotIn,
    /// `IN (values) OR IS NULL`.
    InOrNull,
    /// `LIKE pattern`.
    Like,
    /// `ILIKE pattern`.
    Ilike,
    /// `NOT LIKE pattern`.
    NotLike,
    /// `NOT ILIKE pattern`.
    NotIlike,
    /// `BETWEEN low AND high` (a two-element list).
    Between,
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
    /// A raw-SQL subquery. Never accepted from clients and never compiled; use a
    /// [`RowFilter`](crate::RowFilter) for row-level restrictions.
    InSubquery,
    /// Within N days of today (N < 0: the past N days; N ≥ 0: the next N days).
    DateRelative,
    /// Outside the `date_relative` range.
    NotDateRelative,
    /// A fiscal quarter or year relative to the current one:
    /// `{"period": "quarterly"|"yearly", "value": offset}`.
    DateWindow,
}

impl FilterOperator {
    /// The wire name (`eq`, `in_`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Neq => "neq",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::In => "in_",
            Self::NotIn => "not_in",
            Self::InOrNull => "in_or_null",
            Self::Like => "like",
            Self::Ilike => "ilike",
            Self::NotLike => "not_like",
            Self::NotIlike => "not_ilike",
            Self::Between => "between",
            Self::IsNull => "is_null",
            Self::IsNotNull => "is_not_null",
            Self::InSubquery => "in_subquery",
            Self::DateRelative => "date_relative",
            Self::NotDateRelative => "not_date_relative",
            Self::DateWindow => "date_window",
        }
    }

    /// Whether the operator works on dates relative to today (`date_relative`,
    /// `not_date_relative`, `date_window`).
    pub fn is_relative_date(self) -> bool {
        matches!(
            self,
            Self::DateRelative | Self::NotDateRelative | Self::DateWindow
        )
    }
}

impl fmt::Display for FilterOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One condition on a column (or calculated field).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawFilterDefinition")]
pub struct FilterDefinition {
    /// The table's query-local id.
    pub table_id: String,
    /// A column of that table, or a calculated-field name.
    pub column: String,
    /// The comparison.
    pub operator: FilterOperator,
    /// The operand; its shape depends on the operator.
    pub value: Value,
}

impl FilterDefinition {
    /// A filter `column <operator> value` on table `table_id`.
    pub fn new(
        table_id: impl Into<String>,
        column: impl Into<String>,
        operator: FilterOperator,
        value: impl Into<Value>,
    ) -> Self {
        Self {
            table_id: table_id.into(),
            column: column.into(),
            operator,
            value: value.into(),
        }
    }
}

// Written out by hand: every key with its default, as the original server does,
// `sql_expression` included: it is always null, since it is never taken from a client.
impl Serialize for FilterDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("FilterDefinition", 5)?;
        out.serialize_field("table_id", &self.table_id)?;
        out.serialize_field("column", &self.column)?;
        out.serialize_field("operator", &self.operator)?;
        out.serialize_field("value", &self.value)?;
        out.serialize_field("sql_expression", &None::<&str>)?;
        out.end()
    }
}

#[derive(Deserialize)]
struct RawFilterDefinition {
    table_id: String,
    column: String,
    operator: FilterOperator,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    sql_expression: Option<Value>,
}

impl TryFrom<RawFilterDefinition> for FilterDefinition {
    type Error = String;

    fn try_from(raw: RawFilterDefinition) -> Result<Self, String> {
        reject_sql(
            raw.sql_expression.as_ref(),
            "filter on a calculated field (its `expression`) instead",
        )?;
        if raw.operator == FilterOperator::InSubquery {
            return Err(
                "The in_subquery operator is not accepted from clients; row-level \
                        restrictions belong in the server's row filter"
                    .to_owned(),
            );
        }
        Ok(Self {
            table_id: raw.table_id,
            column: raw.column,
            operator: raw.operator,
            value: raw.value,
        })
    }
}
