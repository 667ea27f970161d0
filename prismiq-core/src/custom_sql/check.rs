//! The validation walk: every rule that decides whether a parsed query may run.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::ops::ControlFlow;

use sqlparser::ast::{
    ArrayElemTypeDef, BinaryOperator, DataType, Expr, Ident, ObjectName, ObjectNamePart, Query,
    Select, SetExpr, Statement, TableFactor, TypedString, Value, ValueWithSpan, Visit, Visitor,
};

use super::SqlPolicy;
use super::functions::{
    is_allowed, is_allowed_in_from, is_catalog_lookup_type, is_keyword_function,
};
use super::parse::not_allowed;
use super::scope::{Scopes, normalize};
use crate::Dialect;

/// What the walk found.
#[derive(Debug)]
pub(super) struct Report {
    /// Every problem, in a stable order; empty when the query may run.
    pub(super) errors: Vec<String>,
    /// The real tables read, as written, sorted.
    pub(super) tables: Vec<String>,
}

/// Checks a parsed query against the rules and the caller's policy.
pub(super) fn check(query: &Query, policy: &SqlPolicy) -> Report {
    let mut checker = Checker {
        policy,
        scopes: Scopes::default(),
        tables: BTreeSet::new(),
        structure: Vec::new(),
        schemas: BTreeSet::new(),
        denied_tables: BTreeSet::new(),
        from_functions: BTreeSet::new(),
        denied_functions: BTreeSet::new(),
        denied_types: BTreeSet::new(),
        positional: BTreeSet::new(),
    };
    let _ = query.visit(&mut checker);
    checker.finish()
}

/// Whether a schema can never be read from custom SQL, even when it is the caller's.
/// PostgreSQL's system columns, present on every table: transaction ids (`xmin`, `xmax`),
/// command ids, physical row locations and the table's oid. None carries the caller's data.
const SYSTEM_COLUMNS: [&str; 6] = ["xmin", "xmax", "cmin", "cmax", "ctid", "tableoid"];

/// Whether `ident` names a system column: unquoted in any case (PostgreSQL folds it), or
/// quoted in lower case.
fn is_system_column(ident: &Ident) -> bool {
    SYSTEM_COLUMNS.iter().any(|name| match ident.quote_style {
        None => ident.value.eq_ignore_ascii_case(name),
        Some(_) => ident.value == *name,
    })
}

pub(super) fn is_reserved_schema(schema: &str) -> bool {
    let schema = schema.to_ascii_lowercase();
    schema == "information_schema"
        || schema == "prismiq"
        || schema == "temp"
        || schema.starts_with("pg_")
}

/// Whether a placeholder is a named parameter (`:name`).
pub(super) fn is_named_parameter(placeholder: &str) -> bool {
    let Some(name) = placeholder.strip_prefix(':') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Checker<'p> {
    policy: &'p SqlPolicy,
    scopes: Scopes,
    tables: BTreeSet<String>,
    /// Structural problems, in the order found, without repeats.
    structure: Vec<String>,
    /// Foreign schemas, as written.
    schemas: BTreeSet<String>,
    /// Tables the caller may not read, as written.
    denied_tables: BTreeSet<String>,
    /// Functions used in FROM that are not table functions we allow.
    from_functions: BTreeSet<String>,
    /// Functions called anywhere that are not on the allow-list, as written.
    denied_functions: BTreeSet<String>,
    /// Object-identifier types cast to, in lower case.
    denied_types: BTreeSet<String>,
    /// Placeholders other than `:name`.
    positional: BTreeSet<String>,
}

impl Checker<'_> {
    fn system_column(&mut self, ident: &Ident) {
        self.problem(format!(
            "System column '{}' is not allowed: it reveals transaction ids and row locations",
            ident.value
        ));
    }

    fn problem(&mut self, message: impl Into<String>) {
        let message = message.into();
        if !self.structure.contains(&message) {
            self.structure.push(message);
        }
    }

    fn finish(self) -> Report {
        let mut errors = self.structure;
        errors.extend(self.schemas.iter().map(|schema| {
            format!(
                "Query references schema \"{schema}\" but only \"{}\" is allowed",
                self.policy.qualifier()
            )
        }));
        if !self.denied_tables.is_empty() {
            let names: Vec<&str> = self.denied_tables.iter().map(String::as_str).collect();
            errors.push(format!("Access denied to tables: {}", names.join(", ")));
        }
        errors.extend(self.from_functions.iter().map(|name| {
            format!(
                "Function '{name}' is not allowed in FROM; only set-returning functions such \
                 as generate_series, unnest and jsonb_each are"
            )
        }));
        errors.extend(
            self.denied_functions
                .iter()
                .map(|name| format!("Function '{name}' is not allowed")),
        );
        errors.extend(self.denied_types.iter().map(|name| {
            format!("Type '{name}' is not allowed: it looks objects up in the system catalogs")
        }));
        errors.extend(self.positional.iter().map(|placeholder| {
            format!(
                "Positional parameter {placeholder} is not supported; use a named parameter \
                 such as :name"
            )
        }));
        Report {
            errors,
            tables: self.tables.into_iter().collect(),
        }
    }

    /// Splits a name into identifiers, refusing dialect-specific computed parts.
    fn idents<'n>(&mut self, name: &'n ObjectName) -> Option<Vec<&'n Ident>> {
        let idents: Option<Vec<&Ident>> = name.0.iter().map(ObjectNamePart::as_ident).collect();
        if idents.is_none() {
            self.problem(format!("Unsupported name: {name}"));
        }
        idents
    }

    fn check_schema(&mut self, schema: &Ident) {
        let normalized = normalize(schema);
        if normalized != self.policy.qualifier() || is_reserved_schema(&normalized) {
            self.schemas.insert(schema.value.clone());
        }
    }

    fn check_table(&mut self, name: &ObjectName) {
        let Some(idents) = self.idents(name) else {
            return;
        };
        let table = match idents.as_slice() {
            [table] => *table,
            [schema, table] => {
                self.check_schema(schema);
                *table
            }
            _ => {
                self.problem(format!("Cross-database references are not allowed: {name}"));
                return;
            }
        };
        self.tables.insert(table.value.clone());
        if self
            .policy
            .exposed_table(&table.value, &normalize(table))
            .is_none()
        {
            self.denied_tables.insert(name.to_string());
        }
    }

    /// Splits a function (or type) name into its schema (if any) and its name, checking the
    /// schema.
    fn function_name<'n>(&mut self, name: &'n ObjectName) -> Option<&'n Ident> {
        let idents = self.idents(name)?;
        match idents.as_slice() {
            [function] => Some(*function),
            [schema, function] => {
                let catalog = self.policy.dialect == Dialect::Postgres
                    && normalize(schema).eq_ignore_ascii_case("pg_catalog");
                if !catalog {
                    self.check_schema(schema);
                }
                Some(*function)
            }
            _ => {
                self.problem(format!("Cross-database references are not allowed: {name}"));
                None
            }
        }
    }

    /// Whether a function (its unqualified name) is built-in and allowed, or allowed by the
    /// host.
    fn is_allowed_function(&self, name: &str) -> bool {
        is_allowed(self.policy.dialect, name) || self.policy.allows_function(name)
    }

    fn check_function(&mut self, name: &ObjectName) {
        if let Some(function) = self.function_name(name)
            && !self.is_allowed_function(&function.value)
        {
            self.denied_functions.insert(function.value.clone());
        }
    }

    fn check_from_function(&mut self, name: &ObjectName) {
        let Some(function) = self.function_name(name) else {
            return;
        };
        if !self.is_allowed_function(&function.value) {
            self.denied_functions.insert(function.value.clone());
        } else if !is_allowed_in_from(self.policy.dialect, &function.value)
            && !self.policy.allows_function(&function.value)
        {
            self.from_functions.insert(name.to_string());
        }
    }

    /// Checks the type of a cast: its schema like a function's (a row type of another
    /// schema's table would tell its columns), and no object-identifier type (`regclass`,
    /// `regproc`, …), however written and in arrays too.
    fn check_type(&mut self, data_type: &DataType) {
        match data_type {
            DataType::Regclass => {
                self.denied_types.insert("regclass".to_owned());
            }
            DataType::Custom(name, _) => {
                if let Some(type_name) = self.function_name(name)
                    && is_catalog_lookup_type(&type_name.value)
                {
                    self.denied_types
                        .insert(type_name.value.to_ascii_lowercase());
                }
            }
            DataType::Array(
                ArrayElemTypeDef::AngleBracket(element)
                | ArrayElemTypeDef::SquareBracket(element, _)
                | ArrayElemTypeDef::Parenthesis(element)
                | ArrayElemTypeDef::Qualified(element, _),
            ) => self.check_type(element),
            _ => {}
        }
    }

    fn check_set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.check_set_expr(left);
                self.check_set_expr(right);
            }
            SetExpr::Table(table) => {
                self.problem(format!(
                    "'{table}' is not allowed; write SELECT * FROM {} instead",
                    table.table_name.as_deref().unwrap_or("the table")
                ));
            }
            // Nested queries are visited on their own; data-modifying statements are reported
            // by `pre_visit_statement`.
            _ => {}
        }
    }
}

impl Visitor for Checker<'_> {
    type Break = Infallible;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Infallible> {
        self.scopes.enter(query);
        if !query.locks.is_empty() {
            self.problem("Locking clauses (FOR UPDATE, FOR SHARE, ...) are not allowed");
        }
        if query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            self.problem("Unsupported query syntax");
        }
        self.check_set_expr(&query.body);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<Infallible> {
        self.scopes.leave(query);
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Infallible> {
        if select.into.is_some() {
            self.problem("SELECT INTO is not allowed");
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Infallible> {
        // The walk starts at the query, so any statement is nested in it (a data-modifying
        // CTE or subquery).
        self.problem(not_allowed(statement));
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Infallible> {
        match factor {
            TableFactor::Table {
                name, args: None, ..
            } => {
                if !self.scopes.is_cte(name) {
                    self.check_table(name);
                }
            }
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.check_from_function(name),
            TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. }
            | TableFactor::JsonTable { .. }
            | TableFactor::XmlTable { .. } => {}
            _ => self.problem("Unsupported FROM clause item"),
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Infallible> {
        match expr {
            Expr::Function(function) => self.check_function(&function.name),
            // `current_role`, `current_schema`, …: PostgreSQL calls a function.
            Expr::Identifier(ident)
                if ident.quote_style.is_none()
                    && is_keyword_function(&ident.value)
                    && !self.is_allowed_function(&ident.value) =>
            {
                self.denied_functions.insert(ident.value.clone());
            }
            Expr::Identifier(ident) if is_system_column(ident) => self.system_column(ident),
            Expr::CompoundIdentifier(parts)
                if parts.last().is_some_and(is_system_column) && parts.len() > 1 =>
            {
                self.system_column(&parts[parts.len() - 1]);
            }
            Expr::Cast { data_type, .. } | Expr::TypedString(TypedString { data_type, .. }) => {
                self.check_type(data_type);
            }
            Expr::BinaryOp {
                op: BinaryOperator::PGCustomBinaryOperator(parts),
                ..
            } => {
                if let [schema, _] = parts.as_slice()
                    && !schema.eq_ignore_ascii_case("pg_catalog")
                {
                    self.check_schema(&Ident::new(schema.as_str()));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> ControlFlow<Infallible> {
        if let Value::Placeholder(placeholder) = &value.value
            && !is_named_parameter(placeholder)
        {
            self.positional.insert(placeholder.clone());
        }
        ControlFlow::Continue(())
    }
}
