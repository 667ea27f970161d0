//! Bound values: named parameters from the caller and values the rewrite adds.
//!
//! Until the last step, a value the rewrite adds is a placeholder carrying an internal marker
//! (validation has already refused every placeholder that is not `:name`, so markers cannot
//! clash with the caller's). [`Binder::number`] then walks the finished tree once and numbers
//! every placeholder `$1`, `$2`, … in order of appearance, reusing the number of a repeated
//! `:name`.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use serde_json::{Map, Value as Json};
use sqlparser::ast::{Expr, Query, Value, ValueWithSpan, VisitMut, VisitorMut};

/// Marks placeholders added by the rewrite.
const MARKER: &str = "$__prismiq_";

/// Collects the values of a statement being rewritten.
#[derive(Debug)]
pub(super) struct Binder<'a> {
    params: &'a Map<String, Json>,
    /// Values of the internal markers, by marker index.
    internal: Vec<Option<sea_query::Value>>,
}

impl<'a> Binder<'a> {
    pub(super) fn new(params: &'a Map<String, Json>) -> Self {
        Self {
            params,
            internal: Vec::new(),
        }
    }

    /// A placeholder expression standing for `value`.
    pub(super) fn bind(&mut self, value: sea_query::Value) -> Expr {
        let index = self.internal.len();
        self.internal.push(Some(value));
        Expr::Value(Value::Placeholder(format!("{MARKER}{index}")).into())
    }

    /// Numbers every placeholder of `query` and returns the values in order.
    ///
    /// # Errors
    ///
    /// One message per `:name` missing from the parameters or bound to a list where a list
    /// cannot go.
    pub(super) fn number(mut self, query: &mut Query) -> Result<sea_query::Values, Vec<String>> {
        let mut numbering = Numbering {
            binder: &mut self,
            values: Vec::new(),
            named: HashMap::new(),
            missing: BTreeSet::new(),
            lists: BTreeSet::new(),
        };
        let _ = query.visit(&mut numbering);
        let Numbering {
            values,
            missing,
            lists,
            ..
        } = numbering;
        let mut errors: Vec<String> = missing
            .into_iter()
            .map(|name| format!("Missing parameter: {name}"))
            .collect();
        errors.extend(lists.into_iter().map(|name| {
            format!("Parameter '{name}' is a list; a list can only be used as IN (:{name})")
        }));
        if errors.is_empty() {
            Ok(sea_query::Values(values))
        } else {
            Err(errors)
        }
    }
}

/// The value a JSON parameter binds as: strings, integers, floats and booleans as themselves,
/// `null` as a null string, arrays and objects as JSON.
pub(super) fn json_value(value: &Json) -> sea_query::Value {
    match value {
        Json::Null => sea_query::Value::String(None),
        Json::Bool(b) => sea_query::Value::Bool(Some(*b)),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => sea_query::Value::BigInt(Some(integer)),
            // Larger unsigned integers and fractions.
            None => sea_query::Value::Double(number.as_f64()),
        },
        Json::String(text) => sea_query::Value::String(Some(text.clone())),
        Json::Array(_) | Json::Object(_) => sea_query::Value::Json(Some(Box::new(value.clone()))),
    }
}

struct Numbering<'b, 'a> {
    binder: &'b mut Binder<'a>,
    values: Vec<sea_query::Value>,
    /// The number given to each named parameter.
    named: HashMap<String, usize>,
    missing: BTreeSet<String>,
    lists: BTreeSet<String>,
}

impl Numbering<'_, '_> {
    fn next(&mut self, value: sea_query::Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }
}

/// The list bound to `x IN (:name)`, if the parameter holds one.
fn list_parameter<'p>(params: &'p Map<String, Json>, list: &[Expr]) -> Option<&'p [Json]> {
    let [Expr::Value(value)] = list else {
        return None;
    };
    let Value::Placeholder(placeholder) = &value.value else {
        return None;
    };
    let name = placeholder.strip_prefix(':')?;
    match params.get(name) {
        Some(Json::Array(items)) => Some(items),
        _ => None,
    }
}

impl VisitorMut for Numbering<'_, '_> {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::InList { list, negated, .. } = expr else {
            return ControlFlow::Continue(());
        };
        let Some(items) = list_parameter(self.binder.params, list) else {
            return ControlFlow::Continue(());
        };
        if items.is_empty() {
            // `x IN ()` is not SQL: an empty list matches nothing (and `NOT IN` everything).
            *expr = Expr::Value(Value::Boolean(*negated).into());
        } else {
            let expanded = items
                .iter()
                .map(|item| self.binder.bind(json_value(item)))
                .collect();
            *list = expanded;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        let Value::Placeholder(placeholder) = &mut value.value else {
            return ControlFlow::Continue(());
        };
        if let Some(index) = placeholder.strip_prefix(MARKER) {
            let bound = index
                .parse::<usize>()
                .ok()
                .and_then(|index| self.binder.internal.get_mut(index))
                .and_then(Option::take);
            if let Some(bound) = bound {
                *placeholder = self.next(bound);
            }
        } else if let Some(name) = placeholder.strip_prefix(':') {
            let name = name.to_owned();
            if let Some(&number) = self.named.get(&name) {
                *placeholder = format!("${number}");
            } else {
                match self.binder.params.get(&name) {
                    None => {
                        self.missing.insert(name);
                    }
                    Some(Json::Array(_)) => {
                        self.lists.insert(name);
                    }
                    Some(param) => {
                        let bound = json_value(param);
                        *placeholder = self.next(bound);
                        self.named.insert(name, self.values.len());
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }
}
