//! [`DashboardFilter`], [`FilterType`], [`FilterValue`]: the filters a dashboard carries. They
//! are defined with the query engine, which applies them, in [`crate::query`].

pub use crate::query::dashboard_filter::{DashboardFilter, FilterType, FilterValue};
