//! Compiling a [`QueryDefinition`] to parameterised SQL with sea-query.

mod options;
mod predicates;

use std::collections::HashMap;

use sea_query::{
    Asterisk, Cond, DynIden, Expr, ExprTrait, Func, IntoIden, JoinType as SqlJoin, Order, Query,
    SelectStatement, TableName, TableRef,
};
use serde_json::Value;

use super::bind::{Kind, bind};
use super::definition::{
    Aggregation, ColumnSelection, FilterDefinition, FilterOperator, JoinType, QueryDefinition,
    QueryTable, SortDirection,
};
use super::error::QueryError;
use super::expr::{self, FieldRef, Lowered};
use crate::schema::{ColumnSchema, DatabaseSchema, TableSchema};
use crate::source::CompiledQuery;

use predicates::{constant, filter_condition, list, row_predicate};

pub use options::{CompileOptions, Compiled};

/// Compiles `def` against `schema` (the tables and columns queries may use).
///
/// Every identifier must name a table or column of `schema` (or a calculated field), and
/// every value is bound as a parameter. Run [`validate`](super::validate) first to get all
/// problems at once with suggestions; compiling stops at the first.
pub fn compile(
    def: &QueryDefinition,
    schema: &DatabaseSchema,
    options: &CompileOptions,
) -> Result<Compiled, QueryError> {
    def.check_structure().map_err(QueryError::Invalid)?;
    let mut compiler = Compiler::new(def, schema, options)?;
    let (statement, capped) = compiler.statement()?;
    let (sql, values) = options.dialect.build(&statement);
    Ok(Compiled {
        query: CompiledQuery { sql, values },
        capped,
    })
}

/// A query table bound to its schema table.
#[derive(Clone, Copy)]
struct Bound<'a> {
    table: &'a QueryTable,
    schema: &'a TableSchema,
    /// What its columns are qualified with ([`QueryDefinition::table_reference`]).
    reference: &'a str,
}

/// An operand: its SQL and how values compared with it are bound.
struct Term {
    expr: Expr,
    kind: Kind,
    aggregates: bool,
}

enum CalcState {
    Resolving,
    Done(Lowered),
}

struct Compiler<'a> {
    def: &'a QueryDefinition,
    options: &'a CompileOptions,
    /// By query-local id; the last table wins when ids repeat.
    tables: HashMap<&'a str, Bound<'a>>,
    calc: HashMap<&'a str, CalcState>,
}

fn column_ref(table: Bound<'_>, column: &str) -> Expr {
    Expr::col((table.reference.to_owned(), column.to_owned()))
}

/// The lower-case name of a called function, as PostgreSQL names its result column.
fn function_name(call: &sea_query::FunctionCall) -> String {
    use sea_query::QueryBuilder as _;
    let mut text = String::new();
    sea_query::PostgresQueryBuilder.prepare_function_name(call.get_func(), &mut text);
    text.trim_matches('"').to_ascii_lowercase()
}

fn aggregate(aggregation: Aggregation, expr: Expr) -> Expr {
    match aggregation {
        Aggregation::None => expr,
        Aggregation::Sum => Func::sum(expr).into(),
        Aggregation::Avg => Func::avg(expr).into(),
        Aggregation::Count => Func::count(expr).into(),
        Aggregation::CountDistinct => Func::count_distinct(expr).into(),
        Aggregation::Min => Func::min(expr).into(),
        Aggregation::Max => Func::max(expr).into(),
    }
}

fn not_found(column: &str, table: &str) -> QueryError {
    QueryError::Invalid(format!("Column '{column}' not found in table '{table}'"))
}

impl<'a> Compiler<'a> {
    fn new(
        def: &'a QueryDefinition,
        schema: &'a DatabaseSchema,
        options: &'a CompileOptions,
    ) -> Result<Self, QueryError> {
        let mut tables = HashMap::with_capacity(def.tables.len());
        for table in &def.tables {
            let table_schema = schema.table(&table.name).ok_or_else(|| {
                QueryError::Invalid(format!("Table '{}' not found in schema", table.name))
            })?;
            tables.insert(
                table.id.as_str(),
                Bound {
                    table,
                    schema: table_schema,
                    reference: def.table_reference(table),
                },
            );
        }
        Ok(Self {
            def,
            options,
            tables,
            calc: HashMap::new(),
        })
    }

    fn bound(&self, id: &str) -> Result<Bound<'a>, QueryError> {
        self.tables
            .get(id)
            .copied()
            .ok_or_else(|| QueryError::Invalid(format!("Unknown table_id: {id}")))
    }

    fn base(&self) -> Result<Bound<'a>, QueryError> {
        self.bound(&self.def.tables[0].id)
    }

    fn schema_column(bound: Bound<'a>, column: &str) -> Result<&'a ColumnSchema, QueryError> {
        bound
            .schema
            .column(column)
            .ok_or_else(|| not_found(column, &bound.table.name))
    }

    /// A column of a table as an operand.
    fn column_term(&self, table_id: &str, column: &str) -> Result<Term, QueryError> {
        let bound = self.bound(table_id)?;
        let schema_column = Self::schema_column(bound, column)?;
        Ok(Term {
            expr: column_ref(bound, column),
            kind: Kind::of(&schema_column.data_type),
            aggregates: false,
        })
    }

    /// A column or calculated field as an operand (calculated fields take precedence).
    fn term(&mut self, table_id: &str, column: &str) -> Result<Term, QueryError> {
        match self.calculated(column)? {
            Some(lowered) => Ok(Term {
                expr: lowered.expr,
                kind: Kind::Json,
                aggregates: lowered.aggregates,
            }),
            None => self.column_term(table_id, column),
        }
    }

    /// The calculated field `name`, lowered (memoised; cycles are errors).
    fn calculated(&mut self, name: &str) -> Result<Option<Lowered>, QueryError> {
        let Some(field) = self.def.calculated_field(name) else {
            return Ok(None);
        };
        match self.calc.get(name) {
            Some(CalcState::Done(lowered)) => return Ok(Some(lowered.clone())),
            Some(CalcState::Resolving) => {
                return Err(QueryError::Expression(format!(
                    "Circular dependency detected in calculated field: {name}"
                )));
            }
            None => {}
        }
        self.calc.insert(field.name.as_str(), CalcState::Resolving);
        let node = expr::parse(&field.expression).map_err(|err| {
            QueryError::Expression(format!(
                "Failed to parse calculated field '{}': {err}. Expression: '{}'",
                field.name, field.expression
            ))
        })?;
        let mut nested: Option<QueryError> = None;
        let dialect = self.options.dialect;
        let lowered = expr::lower(&node, dialect, &mut |reference| {
            self.field_reference(reference).map_err(|err| {
                let message = err.to_string();
                nested.get_or_insert(err);
                message
            })
        });
        let mut lowered = match (lowered, nested) {
            (Ok(lowered), _) => lowered,
            (Err(_), Some(err @ QueryError::Expression(_))) => return Err(err),
            (Err(message), _) => {
                return Err(QueryError::Expression(format!(
                    "Calculated field '{}': {message}",
                    field.name
                )));
            }
        };
        lowered.aggregates |= field.has_internal_aggregation;
        self.calc
            .insert(field.name.as_str(), CalcState::Done(lowered.clone()));
        Ok(Some(lowered))
    }

    /// Resolves `[reference]` in an expression: a calculated field, `table.column` (by id,
    /// alias or name), or a column of the base table, else of the first table that has it.
    fn field_reference(&mut self, reference: &str) -> Result<FieldRef, QueryError> {
        if let Some(lowered) = self.calculated(reference)? {
            return Ok(FieldRef {
                expr: lowered.expr,
                aggregates: lowered.aggregates,
                boolean: false,
            });
        }
        let column_field = |bound: Bound<'a>, column: &str| {
            bound.schema.column(column).map(|c| FieldRef {
                expr: column_ref(bound, column),
                aggregates: false,
                boolean: Kind::of(&c.data_type) == Kind::Bool,
            })
        };
        let in_order = self
            .def
            .tables
            .iter()
            .filter_map(|t| self.tables.get(t.id.as_str()).copied());
        if let Some((prefix, column)) = reference.split_once('.') {
            let owner = in_order.clone().find(|b| {
                b.table.id == prefix
                    || b.table.name == prefix
                    || b.table.alias.as_deref() == Some(prefix)
                    || b.reference == prefix
            });
            if let Some(found) = owner.and_then(|b| column_field(b, column)) {
                return Ok(found);
            }
        }
        in_order
            .filter_map(|b| column_field(b, reference))
            .next()
            .ok_or_else(|| {
                QueryError::Invalid(format!(
                    "Unknown field '[{reference}]': not a column of the query's tables or a \
                     calculated field"
                ))
            })
    }

    fn selection_term(&mut self, column: &ColumnSelection) -> Result<Term, QueryError> {
        if column.column == "*" {
            if column.aggregation == Aggregation::Count {
                return Ok(Term {
                    expr: Func::count(Expr::col(Asterisk)).into(),
                    kind: Kind::Integer,
                    aggregates: true,
                });
            }
            return Err(QueryError::Invalid(
                "Column '*' can only be selected with the count aggregation".to_owned(),
            ));
        }
        let mut term = self.term(&column.table_id, &column.column)?;
        if let (Some(unit), false) = (column.date_trunc, term.kind == Kind::Json) {
            term.expr = self.options.dialect.date_trunc(unit, term.expr);
        }
        if column.aggregation.is_aggregate() {
            term.expr = aggregate(column.aggregation, term.expr);
            term.aggregates = true;
        }
        Ok(term)
    }

    fn bucket(&self) -> Result<Option<Expr>, QueryError> {
        let Some(ts) = &self.def.time_series else {
            return Ok(None);
        };
        let bound = self.bound(&ts.table_id)?;
        Self::schema_column(bound, &ts.date_column)?;
        Ok(Some(self.options.dialect.date_trunc(
            ts.interval,
            column_ref(bound, &ts.date_column),
        )))
    }

    fn source(&self, bound: Bound<'a>) -> Result<TableRef, QueryError> {
        let table = bound.table;
        let name = self.table_name(&table.name);
        let predicates = self
            .options
            .row_filters
            .get(&table.name)
            .filter(|p| !p.is_empty());
        let Some(predicates) = predicates else {
            let alias =
                (bound.reference != table.name).then(|| bound.reference.to_owned().into_iden());
            return Ok(TableRef::Table(name, alias));
        };
        // The restricted table is read through a filtered derived table, so the restriction
        // holds whatever the join type (an ON clause would not restrict the preserved side
        // of an outer join).
        let mut inner = Query::select();
        inner.column(Asterisk).from(name);
        for predicate in predicates {
            inner.and_where(row_predicate(bound.schema, predicate)?);
        }
        let alias: DynIden = bound.reference.to_owned().into_iden();
        Ok(TableRef::SubQuery(Box::new(inner), alias))
    }

    fn table_name(&self, table: &str) -> TableName {
        match &self.options.schema_name {
            Some(schema) if self.options.dialect.has_schemas() => {
                (schema.clone(), table.to_owned()).into()
            }
            _ => table.to_owned().into(),
        }
    }

    /// The name PostgreSQL gives an unaliased selected expression, for dialects that would
    /// name it otherwise (SQLite names a column by its SQL text): the function's name for an
    /// aggregate or a truncated date, `case` for a conditional, `?column?` for other
    /// calculated expressions. `None` where the dialect already names it so (PostgreSQL; a
    /// plain column everywhere).
    fn default_name(&self, column: &ColumnSelection, term: &Term) -> Option<String> {
        if self.options.dialect == crate::Dialect::Postgres {
            return None;
        }
        let name = match column.aggregation {
            Aggregation::Sum => "sum",
            Aggregation::Avg => "avg",
            Aggregation::Count | Aggregation::CountDistinct => "count",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::None if self.def.calculated_field(&column.column).is_some() => {
                match &term.expr {
                    Expr::Case(_) => "case",
                    Expr::FunctionCall(call) => {
                        return Some(function_name(call));
                    }
                    _ => "?column?",
                }
            }
            Aggregation::None if column.date_trunc.is_some() && term.kind != Kind::Json => {
                "date_trunc"
            }
            Aggregation::None => return None,
        };
        Some(name.to_owned())
    }

    /// Sorts by `expr`, with `NULL`s where PostgreSQL puts them in every dialect.
    fn order_by(&self, select: &mut SelectStatement, expr: Expr, order: Order) {
        match self.options.dialect.nulls(&order) {
            Some(nulls) => select.order_by_expr_with_nulls(expr, order, nulls),
            None => select.order_by_expr(expr, order),
        };
    }

    /// The index of the first join on whose nullable side `table_id` is.
    fn nullable_join(&self, table_id: &str) -> Option<usize> {
        self.def.joins.iter().position(|j| match j.join_type {
            JoinType::Inner => false,
            JoinType::Left => j.to_table_id == table_id,
            JoinType::Right => j.from_table_id == table_id,
            JoinType::Full => j.from_table_id == table_id || j.to_table_id == table_id,
        })
    }

    fn statement(&mut self) -> Result<(SelectStatement, bool), QueryError> {
        let def = self.def;
        let mut select = Query::select();

        // SELECT
        let bucket = self.bucket()?;
        if let (Some(bucket), Some(ts)) = (&bucket, &def.time_series) {
            select.expr_as(bucket.clone(), ts.bucket_alias());
        }
        let mut selected = Vec::with_capacity(def.columns.len());
        for column in &def.columns {
            let term = self.selection_term(column)?;
            let alias = column
                .alias
                .clone()
                .or_else(|| self.default_name(column, &term));
            match alias {
                Some(alias) => select.expr_as(term.expr.clone(), alias),
                None => select.expr(term.expr.clone()),
            };
            selected.push(term);
        }

        // Filters: ON clauses of outer joins, or WHERE.
        let mut on: Vec<Vec<Expr>> = vec![Vec::new(); def.joins.len()];
        let mut conditions = Vec::with_capacity(def.filters.len());
        for filter in &def.filters {
            let is_calculated = def.calculated_field(&filter.column).is_some();
            let join = (!is_calculated)
                .then(|| self.nullable_join(&filter.table_id))
                .flatten();
            match join {
                Some(index) => on[index].push(self.filter(filter)?),
                None => match self.anti_join(filter, is_calculated)? {
                    Some(condition) => conditions.push(condition),
                    None => conditions.push(self.filter(filter)?),
                },
            }
        }

        // FROM and JOINs
        let base = self.base()?;
        select.from(self.source(base)?);
        for (join, extra) in def.joins.iter().zip(on) {
            let from = self.bound(&join.from_table_id)?;
            let to = self.bound(&join.to_table_id)?;
            Self::schema_column(from, &join.from_column)?;
            Self::schema_column(to, &join.to_column)?;
            let mut condition = Cond::all()
                .add(column_ref(from, &join.from_column).eq(column_ref(to, &join.to_column)));
            for expr in extra {
                condition = condition.add(expr);
            }
            let kind = match join.join_type {
                JoinType::Inner => SqlJoin::InnerJoin,
                JoinType::Left => SqlJoin::LeftJoin,
                JoinType::Right => SqlJoin::RightJoin,
                JoinType::Full => SqlJoin::FullOuterJoin,
            };
            select.join(kind, self.source(to)?, condition);
        }
        for table in def.tables.iter().skip(1) {
            let joined = def.joins.iter().any(|j| j.to_table_id == table.id);
            if !joined && table.id != def.tables[0].id {
                select.cross_join(self.source(self.bound(&table.id)?)?);
            }
        }

        // WHERE
        for condition in conditions {
            select.and_where(condition);
        }

        // GROUP BY
        let aggregated = selected.iter().any(|t| t.aggregates);
        let mut grouped: Vec<(&str, &str)> = Vec::new();
        if aggregated {
            let mut items = Vec::new();
            if let Some(bucket) = &bucket {
                items.push(bucket.clone());
            }
            if def.group_by.is_empty() {
                // Every plain selected column, as selected (truncated dates truncated).
                for (column, term) in def.columns.iter().zip(&selected) {
                    if !term.aggregates {
                        grouped.push((column.table_id.as_str(), column.column.as_str()));
                        items.push(term.expr.clone());
                    }
                }
            }
            for group in &def.group_by {
                let (table_id, column) = (group.table_id.as_str(), group.column.as_str());
                grouped.push((table_id, column));
                if let Some(lowered) = self.calculated(column)? {
                    if !lowered.aggregates {
                        items.push(lowered.expr);
                    }
                    continue;
                }
                // As the plain selected column, if there is one (so a truncated date groups
                // by its truncation); else the raw column.
                let plain =
                    def.columns.iter().zip(&selected).find(|(c, t)| {
                        !t.aggregates && c.table_id == table_id && c.column == column
                    });
                items.push(match plain {
                    Some((_, term)) => term.expr.clone(),
                    None => self.column_term(table_id, column)?.expr,
                });
            }
            if !items.is_empty() {
                select.add_group_by(items);
            }
        }

        // ORDER BY
        if def.order_by.is_empty()
            && let Some(bucket) = &bucket
        {
            self.order_by(&mut select, bucket.clone(), Order::Asc);
        }
        for sort in &def.order_by {
            let order = match sort.direction {
                SortDirection::Asc => Order::Asc,
                SortDirection::Desc => Order::Desc,
            };
            let expr = self.sort_expr(sort.table_id.as_str(), &sort.column, &selected, &bucket)?;
            let is_calculated = def.calculated_field(&sort.column).is_some();
            let is_grouped = grouped.iter().any(|(table_id, column)| {
                *column == sort.column && (is_calculated || *table_id == sort.table_id)
            });
            if aggregated && !expr.1 && !is_grouped {
                return Err(QueryError::Invalid(format!(
                    "Cannot order by '{}': the query is aggregated, so order by a selected \
                     column, an aggregated column or a grouped column",
                    sort.column
                )));
            }
            self.order_by(&mut select, expr.0, order);
        }

        // LIMIT and OFFSET (bound as parameters by sea-query)
        let (limit, capped) = match (def.limit, self.options.max_rows) {
            (Some(limit), Some(max)) if limit <= max as u64 => (Some(limit), false),
            (_, Some(max)) => (Some(max as u64 + 1), true),
            (limit, None) => (limit, false),
        };
        let limit = match (limit, def.offset) {
            (None, Some(_)) => self.options.dialect.unlimited(),
            (limit, _) => limit,
        };
        if let Some(limit) = limit {
            select.limit(limit);
        }
        if let Some(offset) = def.offset {
            select.offset(offset);
        }
        Ok((select, capped))
    }

    /// The ORDER BY expression of a sort, and whether it is valid in an aggregated query
    /// without being grouped (a selected column, an aggregate, or the time bucket).
    fn sort_expr(
        &mut self,
        table_id: &str,
        column: &str,
        selected: &[Term],
        bucket: &Option<Expr>,
    ) -> Result<(Expr, bool), QueryError> {
        // Calculated fields belong to no table: match them by name alone.
        let is_calculated = self.def.calculated_field(column).is_some();
        let matching = self
            .def
            .columns
            .iter()
            .zip(selected)
            .find(|(c, _)| c.column == column && (is_calculated || c.table_id == table_id));
        if let Some((_, term)) = matching {
            // The selected expression: the aggregate for an aggregated column, the truncated
            // date for a truncated one.
            return Ok((term.expr.clone(), true));
        }
        if let Some(lowered) = self.calculated(column)? {
            return Ok((lowered.expr, lowered.aggregates));
        }
        if let (Some(bucket), Some(ts)) = (bucket, &self.def.time_series)
            && ts.table_id == table_id
            && ts.date_column == column
        {
            return Ok((bucket.clone(), true));
        }
        Ok((self.column_term(table_id, column)?.expr, false))
    }

    /// `neq` / `not_in` on a table joined directly to the base table, as an anti-join on the
    /// join key: a base row is excluded when any related row matches.
    fn anti_join(
        &self,
        filter: &FilterDefinition,
        is_calculated: bool,
    ) -> Result<Option<Expr>, QueryError> {
        let def = self.def;
        if is_calculated
            || !matches!(filter.operator, FilterOperator::Neq | FilterOperator::NotIn)
            || filter.table_id == def.tables[0].id
        {
            return Ok(None);
        }
        let Some(join) = def.joins.iter().find(|j| j.to_table_id == filter.table_id) else {
            return Ok(None);
        };
        if join.from_table_id != def.tables[0].id {
            return Ok(None);
        }
        let base = self.base()?;
        let joined = self.bound(&join.to_table_id)?;
        Self::schema_column(base, &join.from_column)?;
        Self::schema_column(joined, &join.to_column)?;
        let column = Self::schema_column(joined, &filter.column)?;
        let mut kind = Kind::of(&column.data_type);
        let mut inner_column = Expr::col(filter.column.clone());
        if kind == Kind::Other {
            inner_column = inner_column.cast_as("text");
            kind = Kind::Text;
        }
        let predicate = match (filter.operator, &filter.value) {
            (FilterOperator::Neq, Value::Null) => inner_column.is_null(),
            (FilterOperator::Neq, value) => {
                inner_column.eq(Expr::val(bind(value, kind, &filter.column)?))
            }
            (_, value) => match list(value, kind, &filter.column)? {
                values if values.is_empty() => constant(true),
                values => inner_column.is_in(values),
            },
        };
        let mut inner = Query::select();
        inner
            .column(join.to_column.clone())
            .from(self.table_name(&joined.table.name))
            .and_where(predicate)
            .and_where(Expr::col(join.to_column.clone()).is_not_null());
        if let Some(predicates) = self.options.row_filters.get(&joined.table.name) {
            for predicate in predicates {
                inner.and_where(row_predicate(joined.schema, predicate)?);
            }
        }
        Ok(Some(
            column_ref(base, &join.from_column).not_in_subquery(inner),
        ))
    }

    /// The condition of `filter`, on its column or calculated field.
    fn filter(&mut self, filter: &FilterDefinition) -> Result<Expr, QueryError> {
        let Term { expr, kind, .. } = self.term(&filter.table_id, &filter.column)?;
        filter_condition(filter, expr, kind, self.options)
    }
}
