//! The typed query definition and its JSON wire shape.
//!
//! Deserializing checks the structure (non-empty `tables` and `columns`, known table ids) and
//! refuses the fields that would carry raw SQL from a client (`sql_expression`, the
//! `in_subquery` operator), so a [`QueryDefinition`] obtained from JSON never contains SQL.

mod columns;
mod filters;
mod input;
mod tables;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use input::{lax_count, null_as_empty};

pub use columns::{Aggregation, CalculatedDataType, CalculatedField, ColumnSelection, TimeUnit};
pub use filters::{FilterDefinition, FilterOperator};
pub use tables::{
    GroupByDefinition, JoinDefinition, JoinType, QueryTable, SortDefinition, SortDirection,
    TimeSeriesConfig,
};

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

// The wire shape, checked on the way in.
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

#[cfg(test)]
mod tests;
