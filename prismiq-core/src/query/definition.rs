//! The typed query definition and its JSON wire shape.
//!
//! Deserializing checks the structure (non-empty `tables` and `columns`, known table ids) and
//! refuses the fields that would carry raw SQL from a client (`sql_expression`, the
//! `in_subquery` operator), so a [`QueryDefinition`] obtained from JSON never contains SQL.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A structured query: tables, joins, selected columns, filters, grouping, ordering, paging,
/// time-series bucketing and calculated fields.
///
/// Dashboards' widgets and saved queries store it; [`validate`](super::validate) checks it
/// against a schema and [`compile`](super::compile) turns it into SQL.
///
/// ```
/// use prismiq_core::QueryDefinition;
///
/// let query: QueryDefinition = serde_json::from_str(
///     r#"{"tables": [{"id": "t1", "name": "orders"}],
///         "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]}"#,
/// )?;
/// assert_eq!(query.tables[0].name, "orders");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "RawQueryDefinition")]
pub struct QueryDefinition {
    /// The tables the query reads; the first is the FROM table.
    pub tables: Vec<QueryTable>,
    /// Joins, applied in order.
    pub joins: Vec<JoinDefinition>,
    /// The SELECT list, in order.
    pub columns: Vec<ColumnSelection>,
    /// Conditions, all ANDed.
    pub filters: Vec<FilterDefinition>,
    /// Explicit grouping; used only when something is aggregated.
    pub group_by: Vec<GroupByDefinition>,
    /// Ordering.
    pub order_by: Vec<SortDefinition>,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Rows to skip.
    pub offset: Option<u64>,
    /// Date bucketing.
    pub time_series: Option<TimeSeriesConfig>,
    /// Named expressions that columns, filters, grouping and ordering may refer to by name.
    pub calculated_fields: Vec<CalculatedField>,
}

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

/// One explicit GROUP BY entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupByDefinition {
    /// The table's query-local id.
    pub table_id: String,
    /// A column of that table, or a calculated-field name.
    pub column: String,
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
    /// [`fill_time_series_gaps`](super::fill_time_series_gaps)).
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

impl GroupByDefinition {
    /// Group by `column` of table `table_id`.
    pub fn new(table_id: impl Into<String>, column: impl Into<String>) -> Self {
        Self {
            table_id: table_id.into(),
            column: column.into(),
        }
    }
}

impl QueryDefinition {
    /// A query reading `table` (id `t1`) and selecting `columns` of it.
    pub fn select(table: QueryTable, columns: Vec<ColumnSelection>) -> Self {
        Self {
            tables: vec![table],
            joins: Vec::new(),
            columns,
            filters: Vec::new(),
            group_by: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
            time_series: None,
            calculated_fields: Vec::new(),
        }
    }

    /// The same query with another table (join it with [`with_join`](Self::with_join)).
    pub fn with_table(mut self, table: QueryTable) -> Self {
        self.tables.push(table);
        self
    }

    /// The same query with a join.
    pub fn with_join(mut self, join: JoinDefinition) -> Self {
        self.joins.push(join);
        self
    }

    /// The same query with another selected column.
    pub fn with_column(mut self, column: ColumnSelection) -> Self {
        self.columns.push(column);
        self
    }

    /// The same query with another condition (conditions are ANDed).
    pub fn with_filter(mut self, filter: FilterDefinition) -> Self {
        self.filters.push(filter);
        self
    }

    /// The same query with an explicit grouping entry.
    pub fn with_group_by(mut self, group: GroupByDefinition) -> Self {
        self.group_by.push(group);
        self
    }

    /// The same query with an ordering entry.
    pub fn with_order_by(mut self, sort: SortDefinition) -> Self {
        self.order_by.push(sort);
        self
    }

    /// The same query returning at most `limit` rows.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The same query skipping `offset` rows.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The same query bucketed by date.
    pub fn with_time_series(mut self, time_series: TimeSeriesConfig) -> Self {
        self.time_series = Some(time_series);
        self
    }

    /// The same query with a calculated field.
    pub fn with_calculated_field(mut self, field: CalculatedField) -> Self {
        self.calculated_fields.push(field);
        self
    }

    /// Reads a definition from JSON, with the same checks as deserializing.
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }

    /// The definition as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a query definition always serializes")
    }

    /// The table with query-local id `id` (the last one, if ids repeat).
    pub fn table(&self, id: &str) -> Option<&QueryTable> {
        self.tables.iter().rev().find(|t| t.id == id)
    }

    /// The name `table` goes by in the SQL: its alias if it has one; else its id when its name
    /// is not enough to tell it apart (another table of the same name without an alias, as in
    /// a self-join, or another table's alias equal to its name); else its name.
    pub fn table_reference<'a>(&self, table: &'a QueryTable) -> &'a str {
        if let Some(alias) = &table.alias {
            return alias;
        }
        let shared = self.tables.iter().any(|other| {
            !std::ptr::eq(other, table)
                && match &other.alias {
                    Some(alias) => *alias == table.name,
                    None => other.name == table.name,
                }
        });
        if shared { &table.id } else { &table.name }
    }

    /// The calculated field named `name`.
    pub fn calculated_field(&self, name: &str) -> Option<&CalculatedField> {
        self.calculated_fields.iter().find(|f| f.name == name)
    }

    /// Whether any selected column has an aggregation.
    pub fn has_aggregations(&self) -> bool {
        self.columns.iter().any(|c| c.aggregation.is_aggregate())
    }

    /// The grouping the query gets when something is aggregated: the explicit `group_by`,
    /// or else every non-aggregated column in SELECT order. Empty when nothing is aggregated.
    pub fn derive_group_by(&self) -> Vec<GroupByDefinition> {
        if !self.has_aggregations() {
            return Vec::new();
        }
        if !self.group_by.is_empty() {
            return self.group_by.clone();
        }
        self.columns
            .iter()
            .filter(|c| !c.aggregation.is_aggregate())
            .map(|c| GroupByDefinition {
                table_id: c.table_id.clone(),
                column: c.column.clone(),
            })
            .collect()
    }

    /// Checks the structure: at least one table and one column, and every table id that is
    /// referenced names one of `tables`. Deserializing runs this check; call it on
    /// definitions built in code.
    pub fn check_structure(&self) -> Result<(), String> {
        if self.tables.is_empty() {
            return Err("At least one table must be specified".to_owned());
        }
        if self.columns.is_empty() {
            return Err("At least one column must be selected".to_owned());
        }
        let known = |id: &str| self.tables.iter().any(|t| t.id == id);
        let unknown = |what: &str, id: &str| format!("{what} references unknown table_id: {id}");
        for join in &self.joins {
            for id in [&join.from_table_id, &join.to_table_id] {
                if !known(id) {
                    return Err(unknown("Join", id));
                }
            }
        }
        let refs = [
            (
                "Column selection",
                self.columns.iter().map(|c| &c.table_id).collect::<Vec<_>>(),
            ),
            ("Filter", self.filters.iter().map(|f| &f.table_id).collect()),
            (
                "Group by",
                self.group_by.iter().map(|g| &g.table_id).collect(),
            ),
            (
                "Order by",
                self.order_by.iter().map(|o| &o.table_id).collect(),
            ),
            (
                "Time series",
                self.time_series.iter().map(|t| &t.table_id).collect(),
            ),
        ];
        for (what, ids) in refs {
            if let Some(id) = ids.into_iter().find(|id| !known(id)) {
                return Err(unknown(what, id));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes, written out. Every key is written with its default, as the original server does,
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

// ---------------------------------------------------------------------------------------------
// Wire shapes, checked on the way in.

/// Accepts `null` for a list (as empty) besides the list itself.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A non-negative integer, also given as a whole float (`10.0`) or a numeric string (`"10"`).
fn lax_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let number = match &value {
        Value::Number(n) => n.as_i64().map(|i| i as f64).or_else(|| n.as_f64()),
        Value::String(s) => s.trim().parse::<i64>().ok().map(|i| i as f64),
        _ => None,
    };
    match number {
        Some(n) if n.fract() == 0.0 && n >= 0.0 && n <= u64::MAX as f64 => Ok(Some(n as u64)),
        Some(n) if n.fract() == 0.0 => Err(de::Error::custom(format!(
            "must be a non-negative integer, got {n}"
        ))),
        _ => Err(de::Error::custom(format!(
            "must be a non-negative integer, got {value}"
        ))),
    }
}

/// Rejects a raw-SQL field: only absent, null or empty is accepted.
fn reject_sql(value: Option<&Value>, hint: &str) -> Result<(), String> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(()),
        Some(_) => Err(format!(
            "sql_expression is not accepted from clients; {hint}"
        )),
    }
}

#[derive(Deserialize)]
struct RawQueryDefinition {
    #[serde(deserialize_with = "null_as_empty")]
    tables: Vec<QueryTable>,
    #[serde(default, deserialize_with = "null_as_empty")]
    joins: Vec<JoinDefinition>,
    #[serde(deserialize_with = "null_as_empty")]
    columns: Vec<ColumnSelection>,
    #[serde(default, deserialize_with = "null_as_empty")]
    filters: Vec<FilterDefinition>,
    #[serde(default, deserialize_with = "null_as_empty")]
    group_by: Vec<GroupByDefinition>,
    #[serde(default, deserialize_with = "null_as_empty")]
    order_by: Vec<SortDefinition>,
    #[serde(default, deserialize_with = "lax_count")]
    limit: Option<u64>,
    #[serde(default, deserialize_with = "lax_count")]
    offset: Option<u64>,
    #[serde(default)]
    time_series: Option<TimeSeriesConfig>,
    #[serde(default, deserialize_with = "null_as_empty")]
    calculated_fields: Vec<CalculatedField>,
}

impl TryFrom<RawQueryDefinition> for QueryDefinition {
    type Error = String;

    fn try_from(raw: RawQueryDefinition) -> Result<Self, String> {
        let definition = Self {
            tables: raw.tables,
            joins: raw.joins,
            columns: raw.columns,
            filters: raw.filters,
            group_by: raw.group_by,
            order_by: raw.order_by,
            limit: raw.limit,
            offset: raw.offset,
            time_series: raw.time_series,
            calculated_fields: raw.calculated_fields,
        };
        definition.check_structure()?;
        Ok(definition)
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

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<QueryDefinition, String> {
        QueryDefinition::from_value(value).map_err(|e| e.to_string())
    }

    fn minimal() -> Value {
        json!({"tables": [{"id": "t1", "name": "orders"}],
               "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]})
    }

    #[test]
    fn minimal_query_is_written_with_every_key_and_its_default() {
        let query = parse(minimal()).unwrap();
        assert_eq!(
            query.to_value(),
            json!({
                "tables": [{"id": "t1", "name": "orders", "alias": null}],
                "joins": [],
                "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum",
                             "alias": null, "date_trunc": null, "date_format": null,
                             "sql_expression": null}],
                "filters": [],
                "group_by": [],
                "order_by": [],
                "limit": null,
                "offset": null,
                "time_series": null,
                "calculated_fields": []
            })
        );
    }

    #[test]
    fn written_query_reads_back_equal_and_writes_the_same() {
        let query = parse(minimal()).unwrap();
        let written = query.to_value();
        let again = parse(written.clone()).unwrap();
        assert_eq!(again, query);
        assert_eq!(again.to_value(), written);
    }

    #[test]
    fn per_item_defaults_are_written() {
        let query = parse(json!({
            "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
            "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                       "to_column": "id"}],
            "columns": [{"table_id": "t1", "column": "id"}],
            "filters": [{"table_id": "t1", "column": "status", "operator": "is_null"}],
            "order_by": [{"table_id": "t1", "column": "id"}],
            "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "Day"},
            "calculated_fields": [{"name": "x", "expression": "[id] + 1"}]
        }))
        .unwrap();
        let written = query.to_value();
        assert_eq!(written["joins"][0]["join_type"], "INNER");
        assert_eq!(written["columns"][0]["aggregation"], "none");
        assert_eq!(written["filters"][0]["value"], Value::Null);
        assert_eq!(written["filters"][0]["sql_expression"], Value::Null);
        assert_eq!(written["order_by"][0]["direction"], "ASC");
        assert_eq!(
            written["time_series"],
            json!({"table_id": "t1", "date_column": "order_date", "interval": "day",
                   "fill_missing": true, "fill_value": 0, "alias": null})
        );
        assert_eq!(
            written["calculated_fields"][0],
            json!({"name": "x", "expression": "[id] + 1", "sql_expression": null,
                   "has_internal_aggregation": false, "data_type": "number"})
        );
    }

    #[test]
    fn full_query_round_trips() {
        let wire = json!({
            "tables": [{"id": "t1", "name": "orders", "alias": "o"}, {"id": "t2", "name": "customers"}],
            "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                       "to_column": "id", "join_type": "LEFT"}],
            "columns": [
                {"table_id": "t2", "column": "region", "aggregation": "none", "alias": "Region"},
                {"table_id": "t1", "column": "order_date", "aggregation": "none", "date_trunc": "month",
                 "date_format": "MMM yyyy"},
                {"table_id": "t1", "column": "*", "aggregation": "count"}
            ],
            "filters": [{"table_id": "t1", "column": "status", "operator": "in_", "value": ["a", "b"]},
                        {"table_id": "t1", "column": "order_date", "operator": "date_window",
                         "value": {"period": "yearly", "value": -1}}],
            "group_by": [{"table_id": "t2", "column": "region"}],
            "order_by": [{"table_id": "t2", "column": "region", "direction": "DESC"}],
            "limit": 10,
            "offset": 0,
            "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "week",
                            "fill_missing": false, "fill_value": null, "alias": "wk"},
            "calculated_fields": [{"name": "double", "expression": "[total_amount] * 2",
                                   "sql_expression": null,
                                   "has_internal_aggregation": false, "data_type": "number"}]
        });
        let query = parse(wire.clone()).unwrap();
        let mut written = wire.clone();
        written["tables"][1]["alias"] = Value::Null;
        for column in written["columns"].as_array_mut().unwrap() {
            for key in ["alias", "date_trunc", "date_format", "sql_expression"] {
                column
                    .as_object_mut()
                    .unwrap()
                    .entry(key)
                    .or_insert(Value::Null);
            }
        }
        for filter in written["filters"].as_array_mut().unwrap() {
            filter["sql_expression"] = Value::Null;
        }
        assert_eq!(query.to_value(), written);
        assert_eq!(query.joins[0].join_type, JoinType::Left);
        assert_eq!(query.filters[0].operator, FilterOperator::In);
    }

    #[test]
    fn typed_constructors_build_what_the_wire_shape_reads() {
        let built = QueryDefinition::select(
            QueryTable::new("t1", "orders"),
            vec![
                ColumnSelection::new("t2", "region"),
                ColumnSelection::new("t1", "order_date").truncated(TimeUnit::Month),
                ColumnSelection::count_all("t1").with_alias("n"),
            ],
        )
        .with_table(QueryTable::new("t2", "customers"))
        .with_join(JoinDefinition::new(
            "t1",
            "customer_id",
            "t2",
            "id",
            JoinType::Left,
        ))
        .with_filter(FilterDefinition::new(
            "t1",
            "status",
            FilterOperator::In,
            json!(["paid"]),
        ))
        .with_group_by(GroupByDefinition::new("t2", "region"))
        .with_order_by(SortDefinition::new("t2", "region", SortDirection::Desc))
        .with_limit(10)
        .with_offset(5)
        .with_time_series(TimeSeriesConfig::new("t1", "order_date", TimeUnit::Week))
        .with_calculated_field(CalculatedField::new("double", "[total_amount] * 2"));
        let read = parse(json!({
            "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
            "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                       "to_column": "id", "join_type": "LEFT"}],
            "columns": [{"table_id": "t2", "column": "region"},
                        {"table_id": "t1", "column": "order_date", "date_trunc": "month"},
                        {"table_id": "t1", "column": "*", "aggregation": "count", "alias": "n"}],
            "filters": [{"table_id": "t1", "column": "status", "operator": "in_",
                         "value": ["paid"]}],
            "group_by": [{"table_id": "t2", "column": "region"}],
            "order_by": [{"table_id": "t2", "column": "region", "direction": "DESC"}],
            "limit": 10,
            "offset": 5,
            "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "week"},
            "calculated_fields": [{"name": "double", "expression": "[total_amount] * 2"}]
        }))
        .unwrap();
        assert_eq!(built, read);
        assert_eq!(built.check_structure(), Ok(()));
    }

    #[test]
    fn defaults_and_unknown_keys() {
        let query = parse(json!({
            "tables": [{"id": "t1", "name": "orders", "extra": 1}],
            "columns": [{"table_id": "t1", "column": "id"}],
            "filters": null,
            "having": "ignored",
            "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "MONTH"}
        }))
        .unwrap();
        assert_eq!(query.columns[0].aggregation, Aggregation::None);
        assert!(query.filters.is_empty());
        let ts = query.time_series.unwrap();
        assert_eq!(ts.interval, TimeUnit::Month);
        assert!(ts.fill_missing);
        assert_eq!(ts.fill_value, json!(0));
        assert_eq!(ts.bucket_alias(), "order_date_bucket");
    }

    #[test]
    fn limit_is_lax_but_whole_and_non_negative() {
        let with = |limit: Value| {
            let mut v = minimal();
            v["limit"] = limit;
            parse(v).map(|q| q.limit)
        };
        assert_eq!(with(json!("10")), Ok(Some(10)));
        assert_eq!(with(json!(10.0)), Ok(Some(10)));
        assert_eq!(with(json!(null)), Ok(None));
        assert!(with(json!(1.5)).is_err());
        assert!(with(json!(-1)).is_err());
        assert!(with(json!("ten")).is_err());
    }

    #[test]
    fn structural_errors_have_the_reference_messages() {
        let cases = [
            (
                json!({"tables": [], "columns": [{"table_id": "t1", "column": "a"}]}),
                "At least one table must be specified",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": []}),
                "At least one column must be selected",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t2", "column": "a"}]}),
                "Column selection references unknown table_id: t2",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                    "joins": [{"from_table_id": "t1", "from_column": "a", "to_table_id": "t9", "to_column": "b"}]}),
                "Join references unknown table_id: t9",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                    "filters": [{"table_id": "t3", "column": "a", "operator": "eq", "value": 1}]}),
                "Filter references unknown table_id: t3",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                    "group_by": [{"table_id": "t3", "column": "a"}]}),
                "Group by references unknown table_id: t3",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                    "order_by": [{"table_id": "t3", "column": "a"}]}),
                "Order by references unknown table_id: t3",
            ),
            (
                json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                    "time_series": {"table_id": "t3", "date_column": "a", "interval": "day"}}),
                "Time series references unknown table_id: t3",
            ),
        ];
        for (wire, message) in cases {
            let err = parse(wire).unwrap_err();
            assert!(err.contains(message), "{err} should contain {message}");
        }
    }

    #[test]
    fn enums_are_exact() {
        let column = |agg: &str| {
            let mut v = minimal();
            v["columns"][0]["aggregation"] = json!(agg);
            parse(v)
        };
        assert!(column("SUM").is_err());
        assert!(column("count_distinct").is_ok());
        let mut v = minimal();
        v["filters"] = json!([{"table_id": "t1", "column": "a", "operator": "in", "value": [1]}]);
        assert!(parse(v).is_err(), "plain `in` is not an operator");
        let mut v = minimal();
        v["tables"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "t2", "name": "c"}));
        v["joins"] = json!([{"from_table_id": "t1", "from_column": "a", "to_table_id": "t2",
                             "to_column": "b", "join_type": "left"}]);
        assert!(parse(v).is_err(), "join types are upper case");
        let mut v = minimal();
        v["order_by"] = json!([{"table_id": "t1", "column": "a", "direction": "desc"}]);
        assert!(parse(v).is_err(), "directions are upper case");
    }

    #[test]
    fn interval_and_date_trunc_are_whitelisted() {
        let mut v = minimal();
        v["time_series"] = json!({"table_id": "t1", "date_column": "d", "interval": "fortnight"});
        let err = parse(v).unwrap_err();
        assert!(err.contains("Invalid interval 'fortnight'. Must be one of: minute, hour, day, week, month, quarter, year"), "{err}");
        let mut v = minimal();
        v["columns"][0]["date_trunc"] = json!("month') --");
        let err = parse(v).unwrap_err();
        assert!(err.contains("Invalid date_trunc"), "{err}");
        let mut v = minimal();
        v["columns"][0]["date_trunc"] = json!("Quarter");
        assert_eq!(
            parse(v).unwrap().columns[0].date_trunc,
            Some(TimeUnit::Quarter)
        );
    }

    #[test]
    fn raw_sql_is_refused_from_the_wire() {
        let mut v = minimal();
        v["columns"][0]["sql_expression"] = json!("pg_sleep(10)");
        let err = parse(v).unwrap_err();
        assert!(
            err.contains("sql_expression is not accepted from clients"),
            "{err}"
        );

        let mut v = minimal();
        v["filters"] = json!([{"table_id": "t1", "column": "a", "operator": "eq", "value": 1,
                               "sql_expression": "1=1) OR (1=1"}]);
        assert!(
            parse(v)
                .unwrap_err()
                .contains("sql_expression is not accepted")
        );

        let mut v = minimal();
        v["calculated_fields"] = json!([{"name": "x", "expression": "[a]", "sql_expression": "1"}]);
        let err = parse(v).unwrap_err();
        assert!(err.contains("use a calculated field expression"), "{err}");

        let mut v = minimal();
        v["filters"] = json!([{"table_id": "t1", "column": "id", "operator": "in_subquery",
                               "value": {"sql": "SELECT 1"}}]);
        assert!(parse(v).unwrap_err().contains("in_subquery"));

        // null and empty are the same as absent
        let mut v = minimal();
        v["columns"][0]["sql_expression"] = json!(null);
        v["calculated_fields"] = json!([{"name": "x", "expression": "[a]", "sql_expression": ""}]);
        assert!(parse(v).is_ok());
    }

    #[test]
    fn derive_group_by_follows_the_aggregations() {
        let mut query = parse(json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "status"},
                        {"table_id": "t1", "column": "region"},
                        {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]
        }))
        .unwrap();
        let columns: Vec<_> = query
            .derive_group_by()
            .into_iter()
            .map(|g| g.column)
            .collect();
        assert_eq!(columns, ["status", "region"]);
        query.group_by = vec![GroupByDefinition {
            table_id: "t1".into(),
            column: "region".into(),
        }];
        assert_eq!(query.derive_group_by().len(), 1);
        query.columns.truncate(2);
        assert!(
            query.derive_group_by().is_empty(),
            "nothing aggregated, nothing grouped"
        );
    }
}
