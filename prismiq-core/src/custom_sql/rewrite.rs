//! Tree rewrites: schema qualification, row filters and the row cap.

use std::ops::ControlFlow;
use std::sync::LazyLock;

use sqlparser::ast::{
    BinaryOperator, Expr, Ident, LimitClause, ObjectName, Query, SetExpr, Statement, TableAlias,
    TableFactor, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::SqlPolicy;
use super::params::{Binder, json_value};
use super::scope::{Scopes, normalize};
use crate::row_filter::{RowCondition, RowPredicate};

/// Qualifies every real table with the caller's schema and replaces each reference to a
/// row-filtered table by a filtered derived table. The query must have passed validation.
pub(super) fn qualify_and_filter(query: &mut Query, policy: &SqlPolicy, binder: &mut Binder<'_>) {
    let mut rewriter = Rewriter {
        policy,
        binder,
        scopes: Scopes::default(),
    };
    let _ = query.visit(&mut rewriter);
}

/// `SELECT * FROM (<query>) AS _prismiq LIMIT <max_rows + 1>`.
pub(super) fn cap_rows(query: Box<Query>, max_rows: usize) -> Box<Query> {
    static CAPPED: LazyLock<Box<Query>> =
        LazyLock::new(|| template("SELECT * FROM (SELECT 1) AS _prismiq LIMIT 1"));
    let mut capped = CAPPED.clone();
    if let Some(LimitClause::LimitOffset {
        limit: Some(Expr::Value(limit)),
        ..
    }) = &mut capped.limit_clause
    {
        limit.value = Value::Number(max_rows.saturating_add(1).to_string(), false);
    }
    if let Some(TableFactor::Derived { subquery, .. }) = first_from(&mut capped) {
        *subquery = query;
    }
    capped
}

/// Parses a fixed statement used as a building block.
pub(super) fn template(sql: &str) -> Box<Query> {
    match Parser::parse_sql(&PostgreSqlDialect {}, sql).map(|mut statements| statements.pop()) {
        Ok(Some(Statement::Query(query))) => query,
        other => unreachable!("invalid template {sql:?}: {other:?}"),
    }
}

/// The first `FROM` item of a query whose body is a plain `SELECT`.
pub(super) fn first_from(query: &mut Query) -> Option<&mut TableFactor> {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    select.from.first_mut().map(|from| &mut from.relation)
}

/// A double-quoted identifier.
pub(super) fn quoted(name: &str) -> Ident {
    Ident::with_quote('"', name)
}

/// `left AND right`.
pub(super) fn and(left: Expr, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::And,
        right: Box::new(right),
    }
}

/// `left <op> right`.
pub(super) fn compare(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

static FILTERED_TABLE: LazyLock<Box<Query>> = LazyLock::new(|| template("SELECT * FROM t"));

struct Rewriter<'p, 'b, 'a> {
    policy: &'p SqlPolicy,
    binder: &'b mut Binder<'a>,
    scopes: Scopes,
}

impl Rewriter<'_, '_, '_> {
    /// `"schema"."table"."column" = $n AND …` for the predicates of one table.
    fn predicates<'r>(
        &mut self,
        table: &str,
        predicates: impl Iterator<Item = &'r RowPredicate>,
    ) -> Option<Expr> {
        predicates
            .map(|predicate| {
                // Qualified with the table, so that a missing column is an error instead of
                // silently naming a column of an outer query.
                let column = Expr::CompoundIdentifier(vec![
                    quoted(self.policy.qualifier()),
                    quoted(table),
                    quoted(&predicate.column),
                ]);
                match &predicate.condition {
                    RowCondition::Eq(value) => compare(
                        column,
                        BinaryOperator::Eq,
                        self.binder.bind(json_value(value)),
                    ),
                    RowCondition::In(values) if values.is_empty() => {
                        Expr::Value(Value::Boolean(false).into())
                    }
                    RowCondition::In(values) => Expr::InList {
                        expr: Box::new(column),
                        list: values
                            .iter()
                            .map(|value| self.binder.bind(json_value(value)))
                            .collect(),
                        negated: false,
                    },
                }
            })
            .reduce(and)
    }
}

impl VisitorMut for Rewriter<'_, '_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.scopes.enter(query);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.scopes.leave(query);
        ControlFlow::Continue(())
    }

    // After the children, so that a derived table put in place is not visited again.
    fn post_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            sample,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        if self.scopes.is_cte(name) {
            return ControlFlow::Continue(());
        }
        let Some(written) = name.0.last().and_then(|part| part.as_ident()).cloned() else {
            return ControlFlow::Continue(());
        };
        let Some(table) = self
            .policy
            .exposed_table(&written.value, &normalize(&written))
        else {
            // Validation refuses unexposed tables; nothing to rewrite.
            return ControlFlow::Continue(());
        };
        let qualified = ObjectName::from(vec![quoted(self.policy.qualifier()), quoted(table)]);
        // References such as `orders.id` keep resolving when the spelling changes.
        let written_alias = TableAlias {
            explicit: true,
            name: written.clone(),
            columns: Vec::new(),
            at: None,
        };

        let predicates = self.policy.row_predicates(table);
        let Some(condition) = self.predicates(table, predicates) else {
            if alias.is_none() && normalize(&written) != table {
                *alias = Some(written_alias);
            }
            *name = qualified;
            return ControlFlow::Continue(());
        };

        let mut filtered = FILTERED_TABLE.clone();
        if let SetExpr::Select(select) = filtered.body.as_mut() {
            select.selection = Some(condition);
            if let Some(TableFactor::Table {
                name: inner,
                sample: inner_sample,
                ..
            }) = select.from.first_mut().map(|from| &mut from.relation)
            {
                *inner = qualified;
                // TABLESAMPLE only applies to a base table.
                *inner_sample = sample.take();
            }
        }
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: filtered,
            alias: Some(alias.take().unwrap_or(written_alias)),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}
