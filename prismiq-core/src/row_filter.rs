//! [`RowFilter`]: the host's row-level restrictions, applied to every table a query reads.

use std::fmt::Debug;

use serde_json::Value;

use crate::auth::AuthContext;

/// Extra predicates the host requires on a table for a caller, e.g.
/// `orders.tenant_id = <caller's tenant>` when tenants share tables.
///
/// The query compiler applies them to **every** reference to the table (the FROM table, each
/// join, subqueries it generates), in structured and custom SQL alike. A predicate naming a
/// column the table lacks makes the query fail rather than run unfiltered.
///
/// ```
/// use prismiq_core::{AuthContext, RowFilter, RowPredicate};
///
/// /// Every table with a `tenant_id` column is filtered to the caller's tenant.
/// #[derive(Debug)]
/// struct SharedTables;
///
/// impl RowFilter for SharedTables {
///     fn predicates(&self, auth: &dyn AuthContext, table: &str) -> Vec<RowPredicate> {
///         match table {
///             "orders" | "customers" => vec![RowPredicate::eq("tenant_id", auth.tenant_id())],
///             _ => Vec::new(),
///         }
///     }
/// }
/// ```
pub trait RowFilter: Debug + Send + Sync + 'static {
    /// The predicates, ANDed together, that every row of `table` must satisfy for this caller.
    fn predicates(&self, auth: &dyn AuthContext, table: &str) -> Vec<RowPredicate>;

    /// A key that is equal for two callers exactly when they get the same predicates; cached
    /// results are shared only within one key. The default is the tenant id.
    fn scope_key(&self, auth: &dyn AuthContext) -> String {
        auth.tenant_id().to_owned()
    }
}

/// One row restriction: a column and a condition on it. Values are always bound, never
/// written into the SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPredicate {
    /// The restricted column.
    pub column: String,
    /// What its value must be.
    pub condition: RowCondition,
}

/// The condition of a [`RowPredicate`].
#[derive(Debug, Clone, PartialEq)]
pub enum RowCondition {
    /// `column = value`.
    Eq(Value),
    /// `column IN (values)`; an empty list matches nothing.
    In(Vec<Value>),
}

impl RowPredicate {
    /// `column = value`.
    pub fn eq(column: impl Into<String>, value: impl Into<Value>) -> Self {
        Self {
            column: column.into(),
            condition: RowCondition::Eq(value.into()),
        }
    }

    /// `column IN (values)`.
    pub fn is_in<V: Into<Value>>(
        column: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Self {
            column: column.into(),
            condition: RowCondition::In(values.into_iter().map(Into::into).collect()),
        }
    }
}
