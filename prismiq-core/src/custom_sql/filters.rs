//! Dashboard filters injected into the outer query of custom SQL.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::LazyLock;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::Value as Json;
use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, Query,
    Select, SelectItem, SetExpr, TableFactor, TableWithJoins, Value, Visit, Visitor, With,
};

use super::params::{Binder, json_value};
use super::rewrite::{and, compare, first_from, quoted, template};
use super::scope::normalize;
use crate::Dialect;
use crate::model::{DashboardFilter, FilterType, FilterValue};
use crate::query::DatePreset;

/// ANDs the conditions of the applicable dashboard filters into the outer query.
///
/// A plain `SELECT` gets them in its `WHERE` (an existing condition is parenthesised). Any
/// other outer query (a set operation, `VALUES`, a parenthesised query) is wrapped as
/// `SELECT * FROM (<query>) AS _q WHERE …`, with the query's `ORDER BY`, `LIMIT`, `OFFSET` and
/// `FETCH` moved to the wrapper so that they apply to the filtered rows.
pub(super) fn inject(
    query: &mut Box<Query>,
    filters: &[DashboardFilter],
    values: &[FilterValue],
    today: NaiveDate,
    dialect: Dialect,
    binder: &mut Binder<'_>,
) {
    let active: Vec<(&DashboardFilter, &Json)> = filters
        .iter()
        .filter_map(|filter| {
            let value = &values
                .iter()
                .find(|value| value.filter_id == filter.id)?
                .value;
            let empty = match value {
                Json::Null => true,
                Json::String(text) => text.is_empty(),
                Json::Array(items) => items.is_empty(),
                _ => false,
            };
            (!empty).then_some((filter, value))
        })
        .collect();
    if active.is_empty() {
        return;
    }

    let Query { with, body, .. } = query.as_mut();
    if let SetExpr::Select(select) = body.as_mut() {
        let ctes = Ctes::new(with.as_ref());
        let mut references = Vec::new();
        for from in &select.from {
            collect_references(from, &ctes, &mut references);
        }
        let Some(condition) = conditions(&active, &references, today, dialect, binder) else {
            return;
        };
        add_condition(select, condition);
        return;
    }

    let reference = Reference {
        qualifier: "_q".to_owned(),
        sources: source_tables(query, &Ctes::new(query.with.as_ref())),
        exposed: projection(query),
    };
    let Some(condition) = conditions(&active, &[reference], today, dialect, binder) else {
        return;
    };
    static WRAPPER: LazyLock<Box<Query>> =
        LazyLock::new(|| template("SELECT * FROM (SELECT 1) AS _q"));
    let mut wrapper = WRAPPER.clone();
    let Some(TableFactor::Derived { subquery, .. }) = first_from(&mut wrapper) else {
        return;
    };
    // The query goes inside; its ordering and limits move out.
    std::mem::swap(query, subquery);
    let order_by = subquery.order_by.take();
    let limit_clause = subquery.limit_clause.take();
    let fetch = subquery.fetch.take();
    wrapper.order_by = order_by;
    wrapper.limit_clause = limit_clause;
    wrapper.fetch = fetch;
    if let SetExpr::Select(select) = wrapper.body.as_mut() {
        add_condition(select, condition);
    }
    *query = wrapper;
}

fn add_condition(select: &mut Select, condition: Expr) {
    select.selection = Some(match select.selection.take() {
        Some(existing) => and(Expr::Nested(Box::new(existing)), condition),
        None => condition,
    });
}

/// One `FROM` item of the outer query, as a filter target.
#[derive(Debug)]
struct Reference {
    /// The name the item is referred to by (alias, else table or CTE name), normalised.
    qualifier: String,
    /// The real tables it reads, in lower case.
    sources: BTreeSet<String>,
    /// The columns it exposes, or `None` when unknown (a table, or a `*` projection).
    exposed: Option<BTreeSet<String>>,
}

/// The CTEs of the outer query's `WITH`, by normalised name.
#[derive(Debug, Default)]
struct Ctes<'q> {
    bodies: BTreeMap<String, (&'q Query, Option<BTreeSet<String>>)>,
}

impl<'q> Ctes<'q> {
    fn new(with: Option<&'q With>) -> Self {
        let bodies = with
            .map(|with| {
                with.cte_tables
                    .iter()
                    .map(|cte| {
                        let columns = &cte.alias.columns;
                        let exposed = if columns.is_empty() {
                            projection(&cte.query)
                        } else {
                            Some(
                                columns
                                    .iter()
                                    .map(|column| normalize(&column.name).into_owned())
                                    .collect(),
                            )
                        };
                        (
                            normalize(&cte.alias.name).into_owned(),
                            (&*cte.query, exposed),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { bodies }
    }

    /// The real tables a CTE reads, following references to other CTEs of the same `WITH`.
    fn sources(&self, name: &str, seen: &mut BTreeSet<String>) -> BTreeSet<String> {
        if !seen.insert(name.to_owned()) {
            return BTreeSet::new();
        }
        let Some((body, _)) = self.bodies.get(name) else {
            return BTreeSet::new();
        };
        let mut sources = BTreeSet::new();
        for relation in relations(body) {
            match &relation.cte_candidate {
                Some(cte) if self.bodies.contains_key(cte) => {
                    sources.extend(self.sources(cte, seen));
                }
                _ => {
                    sources.insert(relation.table);
                }
            }
        }
        sources
    }
}

/// A table named in a `FROM` clause somewhere in a query.
struct Relation {
    /// The table name in lower case.
    table: String,
    /// The normalised name when it is a single identifier (so it could name a CTE).
    cte_candidate: Option<String>,
}

/// Every table named in `FROM` clauses anywhere in `query`.
fn relations(query: &Query) -> Vec<Relation> {
    struct Collect(Vec<Relation>);
    impl Visitor for Collect {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name, args: None, ..
            } = factor
            {
                self.0.extend(relation(name));
            }
            ControlFlow::Continue(())
        }
    }
    let mut collect = Collect(Vec::new());
    let _ = query.visit(&mut collect);
    collect.0
}

fn relation(name: &ObjectName) -> Option<Relation> {
    let last = name.0.last()?.as_ident()?;
    Some(Relation {
        table: last.value.to_lowercase(),
        cte_candidate: (name.0.len() == 1).then(|| normalize(last).into_owned()),
    })
}

/// The real tables a query reads, following CTEs of `ctes`.
fn source_tables(query: &Query, ctes: &Ctes<'_>) -> BTreeSet<String> {
    let mut sources = BTreeSet::new();
    for relation in relations(query) {
        match &relation.cte_candidate {
            Some(cte) if ctes.bodies.contains_key(cte) => {
                sources.extend(ctes.sources(cte, &mut BTreeSet::new()));
            }
            _ => {
                sources.insert(relation.table);
            }
        }
    }
    sources
}

/// The column names a query returns, when they are all known.
fn projection(query: &Query) -> Option<BTreeSet<String>> {
    let mut body = query.body.as_ref();
    let select = loop {
        match body {
            SetExpr::Select(select) => break select,
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(query) => body = query.body.as_ref(),
            _ => return None,
        }
    };
    let mut names = BTreeSet::new();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(Expr::Identifier(ident)) => {
                names.insert(normalize(ident).into_owned());
            }
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(idents)) => {
                if let Some(ident) = idents.last() {
                    names.insert(normalize(ident).into_owned());
                }
            }
            SelectItem::ExprWithAlias { alias, .. } => {
                names.insert(normalize(alias).into_owned());
            }
            SelectItem::ExprWithAliases { aliases, .. } => {
                names.extend(aliases.iter().map(|alias| normalize(alias).into_owned()));
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => return None,
            // An unnamed expression has no name a filter could use.
            SelectItem::UnnamedExpr(_) => {}
        }
    }
    Some(names)
}

fn collect_references(from: &TableWithJoins, ctes: &Ctes<'_>, out: &mut Vec<Reference>) {
    collect_reference(&from.relation, ctes, out);
    for join in &from.joins {
        collect_reference(&join.relation, ctes, out);
    }
}

fn collect_reference(factor: &TableFactor, ctes: &Ctes<'_>, out: &mut Vec<Reference>) {
    match factor {
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => {
            let Some(relation) = relation(name) else {
                return;
            };
            let last = name.0.last().and_then(|part| part.as_ident());
            let qualifier = match (alias, last) {
                (Some(alias), _) => normalize(&alias.name).into_owned(),
                (None, Some(last)) => normalize(last).into_owned(),
                (None, None) => return,
            };
            let cte = relation
                .cte_candidate
                .as_ref()
                .and_then(|cte| ctes.bodies.get(cte).map(|(_, exposed)| (cte, exposed)));
            let reference = match cte {
                Some((cte, exposed)) => Reference {
                    qualifier,
                    sources: ctes.sources(cte, &mut BTreeSet::new()),
                    exposed: alias_columns(alias.as_ref()).or_else(|| exposed.clone()),
                },
                None => Reference {
                    qualifier,
                    sources: BTreeSet::from([relation.table]),
                    exposed: None,
                },
            };
            out.push(reference);
        }
        TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } => out.push(Reference {
            qualifier: normalize(&alias.name).into_owned(),
            sources: source_tables(subquery, ctes),
            exposed: alias_columns(Some(alias)).or_else(|| projection(subquery)),
        }),
        TableFactor::NestedJoin {
            table_with_joins,
            alias: None,
        } => collect_references(table_with_joins, ctes, out),
        TableFactor::NestedJoin {
            table_with_joins,
            alias: Some(alias),
        } => {
            let mut inner = Vec::new();
            collect_references(table_with_joins, ctes, &mut inner);
            out.push(Reference {
                qualifier: normalize(&alias.name).into_owned(),
                sources: inner.into_iter().flat_map(|r| r.sources).collect(),
                exposed: None,
            });
        }
        // Table functions, unnamed subqueries and the like read no filterable table.
        _ => {}
    }
}

fn alias_columns(alias: Option<&sqlparser::ast::TableAlias>) -> Option<BTreeSet<String>> {
    let alias = alias?;
    (!alias.columns.is_empty()).then(|| {
        alias
            .columns
            .iter()
            .map(|column| normalize(&column.name).into_owned())
            .collect()
    })
}

/// The column a filter applies to: `"qualifier"."field"` for a filter naming a table (when
/// exactly one outer item reads that table and exposes the column), `"field"` otherwise.
fn target_column(filter: &DashboardFilter, references: &[Reference]) -> Option<Expr> {
    if references.is_empty() {
        return None;
    }
    let Some(table) = &filter.table else {
        return Some(Expr::Identifier(quoted(&filter.field)));
    };
    let table = table.to_lowercase();
    let qualifiers: BTreeSet<&str> = references
        .iter()
        .filter(|reference| {
            reference.sources.contains(&table)
                && reference
                    .exposed
                    .as_ref()
                    .is_none_or(|columns| columns.contains(&filter.field))
        })
        .map(|reference| reference.qualifier.as_str())
        .collect();
    match qualifiers.into_iter().collect::<Vec<_>>().as_slice() {
        [qualifier] => Some(Expr::CompoundIdentifier(vec![
            quoted(qualifier),
            quoted(&filter.field),
        ])),
        _ => None,
    }
}

/// The conditions of all applicable filters, ANDed.
fn conditions(
    active: &[(&DashboardFilter, &Json)],
    references: &[Reference],
    today: NaiveDate,
    dialect: Dialect,
    binder: &mut Binder<'_>,
) -> Option<Expr> {
    active
        .iter()
        .filter_map(|(filter, value)| {
            let column = target_column(filter, references)?;
            condition(filter.filter_type, column, value, today, dialect, binder)
        })
        .reduce(and)
}

fn condition(
    filter_type: FilterType,
    column: Expr,
    value: &Json,
    today: NaiveDate,
    dialect: Dialect,
    binder: &mut Binder<'_>,
) -> Option<Expr> {
    match (filter_type, value) {
        (FilterType::Select, Json::String(_) | Json::Number(_) | Json::Bool(_)) => Some(compare(
            column,
            BinaryOperator::Eq,
            binder.bind(json_value(value)),
        )),
        (FilterType::MultiSelect, Json::Array(items)) if !items.is_empty() => Some(Expr::InList {
            expr: Box::new(column),
            list: items
                .iter()
                .map(|item| binder.bind(json_value(item)))
                .collect(),
            negated: false,
        }),
        (FilterType::Text, Json::String(text)) if !text.trim().is_empty() => {
            // The text is matched literally: its own `%`, `_` and `\` are escaped.
            let mut escaped = String::with_capacity(text.len() + 2);
            for c in text.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            let escape = || {
                Some(Box::new(Expr::Value(
                    Value::SingleQuotedString("\\".to_owned()).into(),
                )))
            };
            Some(match dialect {
                // SQLite has no ILIKE: both sides folded (ASCII, as its lower() does).
                Dialect::Sqlite => Expr::Like {
                    negated: false,
                    any: false,
                    expr: Box::new(lower(column)),
                    pattern: Box::new(binder.bind(sea_query::Value::String(Some(format!(
                        "%{}%",
                        escaped.to_ascii_lowercase()
                    ))))),
                    escape_char: escape(),
                },
                _ => Expr::ILike {
                    negated: false,
                    any: false,
                    expr: Box::new(column),
                    pattern: Box::new(
                        binder.bind(sea_query::Value::String(Some(format!("%{escaped}%")))),
                    ),
                    escape_char: escape(),
                },
            })
        }
        (FilterType::NumberRange, Json::Object(range)) => {
            let bound = |key: &str| range.get(key).filter(|value| !value.is_null());
            let min = bound("min").map(|min| {
                compare(
                    column.clone(),
                    BinaryOperator::GtEq,
                    binder.bind(json_value(min)),
                )
            });
            let max = bound("max").map(|max| {
                compare(
                    column.clone(),
                    BinaryOperator::LtEq,
                    binder.bind(json_value(max)),
                )
            });
            min.into_iter().chain(max).reduce(and)
        }
        (FilterType::DateRange, _) => {
            let (start, end) = date_range(value, today)?;
            let lower = start.map(|start| {
                compare(
                    column.clone(),
                    BinaryOperator::GtEq,
                    binder.bind(start.value()),
                )
            });
            let upper = match end {
                // A day as the end includes all of that day, on date and timestamp columns.
                DateBound::Date(day) => compare(
                    column,
                    BinaryOperator::Lt,
                    binder.bind(sea_query::Value::ChronoDate(Some(
                        day.checked_add_days(Days::new(1))?,
                    ))),
                ),
                other => compare(column, BinaryOperator::LtEq, binder.bind(other.value())),
            };
            Some(lower.map_or(upper.clone(), |lower| and(lower, upper)))
        }
        _ => None,
    }
}

/// `lower(expr)`.
fn lower(expr: Expr) -> Expr {
    static LOWER: LazyLock<Expr> =
        LazyLock::new(|| match template("SELECT lower(x)").body.as_ref() {
            SetExpr::Select(select) => match select.projection.first() {
                Some(SelectItem::UnnamedExpr(call)) => call.clone(),
                _ => unreachable!("the template selects one expression"),
            },
            _ => unreachable!("the template is a SELECT"),
        });
    let mut call = LOWER.clone();
    if let Expr::Function(function) = &mut call
        && let FunctionArguments::List(list) = &mut function.args
        && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(argument))) = list.args.first_mut()
    {
        *argument = expr;
    }
    call
}

/// One end of a date range.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DateBound {
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Zoned(DateTime<FixedOffset>),
}

impl DateBound {
    fn value(self) -> sea_query::Value {
        match self {
            Self::Date(day) => sea_query::Value::ChronoDate(Some(day)),
            Self::DateTime(at) => sea_query::Value::ChronoDateTime(Some(at)),
            Self::Zoned(at) => sea_query::Value::ChronoDateTimeWithTimeZone(Some(at)),
        }
    }

    /// An ISO date (`2024-01-31`) or date-time (`2024-01-31T10:00:00`, with an optional
    /// fraction and offset or `Z`; a space may replace the `T`).
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if !text.contains(['T', ' ']) {
            return NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(Self::Date);
        }
        let text = text.replacen(' ', "T", 1);
        let text = match text.strip_suffix('Z') {
            Some(rest) => format!("{rest}+00:00"),
            None => text,
        };
        for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z"] {
            if let Ok(at) = DateTime::parse_from_str(&text, format) {
                return Some(Self::Zoned(at));
            }
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(at) = NaiveDateTime::parse_from_str(&text, format) {
                return Some(Self::DateTime(at));
            }
        }
        None
    }
}

/// The start (absent for `all_time`) and end of a date-range filter value: `{start, end}`,
/// a preset name, or `{preset}`.
fn date_range(value: &Json, today: NaiveDate) -> Option<(Option<DateBound>, DateBound)> {
    let preset = match value {
        Json::String(preset) => preset.as_str(),
        Json::Object(range) => match range.get("preset") {
            Some(Json::String(preset)) => preset.as_str(),
            _ => {
                let bound = |key: &str| match range.get(key) {
                    Some(Json::String(text)) => DateBound::parse(text),
                    _ => None,
                };
                return Some((Some(bound("start")?), bound("end")?));
            }
        },
        _ => return None,
    };
    let preset: DatePreset = preset.parse().ok()?;
    let (start, end) = preset.resolve(today);
    let start = (preset != DatePreset::AllTime).then_some(DateBound::Date(start));
    Some((start, DateBound::Date(end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_parse_dates_and_date_times() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        assert_eq!(DateBound::parse("2024-01-31"), Some(DateBound::Date(day)));
        let at = day.and_hms_opt(10, 30, 0).unwrap();
        assert_eq!(
            DateBound::parse("2024-01-31T10:30:00"),
            Some(DateBound::DateTime(at))
        );
        assert_eq!(
            DateBound::parse("2024-01-31 10:30"),
            Some(DateBound::DateTime(at))
        );
        let zoned = DateBound::parse("2024-01-31T10:30:00Z").unwrap();
        assert_eq!(
            zoned,
            DateBound::Zoned(DateTime::parse_from_rfc3339("2024-01-31T10:30:00+00:00").unwrap())
        );
        assert!(matches!(
            DateBound::parse("2024-01-31T10:30:00.5+02:00"),
            Some(DateBound::Zoned(_))
        ));
        assert_eq!(DateBound::parse("31/01/2024"), None);
        assert_eq!(DateBound::parse("2024-02-30"), None);
    }
}
