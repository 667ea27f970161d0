// Layering: `model` may import `query` (widgets carry queries); `query` never imports `model`.
//! Query definitions, validation and compilation to SQL (no I/O).
//!
//! A [`QueryDefinition`] is the JSON query a widget or saved query carries. The engine runs
//! it in three steps, all pure functions here:
//!
//! 1. [`validate`] it against the schema the caller may see (hidden tables and columns
//!    removed), getting every problem with a "Did you mean" suggestion;
//! 2. [`compile`] it to parameterised SQL with sea-query ([`CompileOptions`] carry the
//!    tenant schema, the fiscal year, "today", the row cap and the host's row filters);
//! 3. after execution, [`fill_time_series_gaps`] adds the empty buckets of a time series.
//!
//! Dashboard filters reach a widget's query through [`merge_dashboard_filters`];
//! [`sanitize_filters`] drops the ones that do not fit it.
//!
//! ```
//! use prismiq_core::query::{compile, validate, CompileOptions};
//! use prismiq_core::{ColumnSchema, DatabaseSchema, QueryDefinition, TableSchema};
//!
//! let schema = DatabaseSchema {
//!     tables: vec![TableSchema {
//!         name: "orders".into(),
//!         schema_name: "public".into(),
//!         columns: vec![
//!             ColumnSchema { name: "status".into(), data_type: "character varying".into(),
//!                            is_nullable: true, is_primary_key: false, default_value: None },
//!             ColumnSchema { name: "total_amount".into(), data_type: "numeric".into(),
//!                            is_nullable: true, is_primary_key: false, default_value: None },
//!         ],
//!         row_count: None,
//!     }],
//!     relationships: vec![],
//! };
//! let query: QueryDefinition = serde_json::from_value(serde_json::json!({
//!     "tables": [{"id": "t1", "name": "orders"}],
//!     "columns": [{"table_id": "t1", "column": "status"},
//!                 {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}],
//!     "filters": [{"table_id": "t1", "column": "status", "operator": "neq", "value": "void"}]
//! }))?;
//! assert!(validate(&query, &schema).valid);
//!
//! let compiled = compile(&query, &schema, &CompileOptions::default())?;
//! assert_eq!(
//!     compiled.query.sql,
//!     r#"SELECT "orders"."status", SUM("orders"."total_amount") FROM "orders" WHERE "orders"."status" <> $1 GROUP BY "orders"."status""#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod bind;
mod compile;
pub(crate) mod dashboard_filter;
mod dates;
pub(crate) mod definition;
mod error;
mod expr;
mod fill;
mod merge;
mod suggest;
#[cfg(any(test, feature = "test-utils"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-utils")))]
pub mod testing;
mod validate;

pub use compile::{CompileOptions, Compiled, compile};
pub use dates::{DatePreset, WindowPeriod, fiscal_window, relative_range};
// `QueryDefinition` and the dashboard-filter types are public at the crate root only.
pub(crate) use definition::QueryDefinition;
pub use definition::{
    Aggregation, CalculatedDataType, CalculatedField, ColumnSelection, FilterDefinition,
    FilterOperator, GroupByDefinition, JoinDefinition, JoinType, QueryTable, SortDefinition,
    SortDirection, TimeSeriesConfig, TimeUnit,
};
pub use error::{QueryError, ValidationCode, ValidationError};
pub use fill::{BucketBounds, fill_time_series_gaps};
pub(crate) use merge::date_range;
pub use merge::merge_dashboard_filters;
pub use validate::{ValidationResult, sanitize_filters, validate};

#[cfg(test)]
mod tests;
