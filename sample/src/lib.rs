//! The sample data of Prismiq's demo and tests, in one place: the [`dataset`] (five tables of
//! a deterministic e-commerce schema with known answers, loaded into PostgreSQL) and the
//! [`dashboard`] over it ("Sales overview", for tenant `demo`).
//!
//! `examples/demo` loads both when it runs on PostgreSQL; the end-to-end tests load the dataset
//! into their databases and run the dashboard's widgets against it.

pub mod dashboard;
pub mod dataset;
