//! Which names are CTEs at a point of the tree, with PostgreSQL's scoping.
//!
//! A visitor calls [`Scopes::enter`] and [`Scopes::leave`] around every query it visits. A CTE
//! is visible in the body of its `WITH` (the main query, its subqueries, and its order and
//! limit clauses) and in the CTEs declared after it; in a `WITH RECURSIVE`, every CTE of the
//! list is visible in every CTE body.

use std::borrow::Cow;

use sqlparser::ast::{Ident, ObjectName, Query};

/// The stack of `WITH` clauses enclosing the current point of a walk.
#[derive(Debug, Default)]
pub(super) struct Scopes {
    frames: Vec<Frame>,
}

#[derive(Debug)]
struct Frame {
    /// The query owning the `WITH`; compared by address only.
    owner: *const Query,
    /// The CTE names, normalised.
    names: Vec<String>,
    /// The CTE bodies, in declaration order; compared by address only.
    bodies: Vec<*const Query>,
    recursive: bool,
    /// How many of the CTEs are visible right now.
    visible: usize,
}

impl Scopes {
    /// Called before the children of `query` are visited.
    pub(super) fn enter(&mut self, query: &Query) {
        let address: *const Query = query;
        if let Some(frame) = self.frames.last_mut()
            && !frame.recursive
            && let Some(index) = frame.bodies.iter().position(|body| *body == address)
        {
            // Inside CTE `index`: only the CTEs before it are visible.
            frame.visible = index;
        }
        if let Some(with) = &query.with {
            let names: Vec<String> = with
                .cte_tables
                .iter()
                .map(|cte| normalize(&cte.alias.name).into_owned())
                .collect();
            let bodies = with
                .cte_tables
                .iter()
                .map(|cte| &*cte.query as *const Query)
                .collect();
            let visible = if with.recursive { names.len() } else { 0 };
            self.frames.push(Frame {
                owner: address,
                names,
                bodies,
                recursive: with.recursive,
                visible,
            });
        }
    }

    /// Called after the children of `query` were visited.
    pub(super) fn leave(&mut self, query: &Query) {
        let address: *const Query = query;
        if self
            .frames
            .last()
            .is_some_and(|frame| frame.owner == address)
        {
            self.frames.pop();
        }
        if let Some(frame) = self.frames.last_mut()
            && !frame.recursive
            && let Some(index) = frame.bodies.iter().position(|body| *body == address)
        {
            // After CTE `index`, the next CTE (or the main query) sees it too.
            frame.visible = index + 1;
        }
    }

    /// Whether a relation name refers to a CTE in scope rather than to a table.
    pub(super) fn is_cte(&self, name: &ObjectName) -> bool {
        let [part] = name.0.as_slice() else {
            return false;
        };
        let Some(ident) = part.as_ident() else {
            return false;
        };
        let name = normalize(ident);
        self.frames
            .iter()
            .any(|frame| frame.names[..frame.visible].iter().any(|cte| *cte == name))
    }
}

/// An identifier as PostgreSQL resolves it: unquoted names fold to lower case.
pub(super) fn normalize(ident: &Ident) -> Cow<'_, str> {
    if ident.quote_style.is_some() || !ident.value.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(&ident.value)
    } else {
        Cow::Owned(ident.value.to_ascii_lowercase())
    }
}
