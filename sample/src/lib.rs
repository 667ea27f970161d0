//! The sample data of Prismiq's demo and tests, in one place: the [`dataset`] (five tables of
//! a deterministic e-commerce schema with known answers, with a script for PostgreSQL and one
//! for SQLite that load the same rows) and the [`dashboard`] over it ("Sales overview", for
//! tenant `demo`).
//!
//! `examples/demo` loads both when it runs on PostgreSQL; the end-to-end tests load the dataset
//! into their databases and run the dashboard's widgets against it.

pub mod dashboard;
pub mod dataset;
