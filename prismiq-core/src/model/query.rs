//! [`QueryDefinition`]: the query a widget or saved query carries. It is defined with the
//! query engine, in [`crate::query`].

pub use crate::query::definition::QueryDefinition;
