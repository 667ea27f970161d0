//! Custom SQL mode: time to validate one statement, and to prepare it for execution.
//!
//! Run with `cargo bench -p prismiq-core --bench custom_sql`. The `parse_only` group is the
//! bare parse, for comparison.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use prismiq_core::custom_sql::{SqlPolicy, prepare_sql, validate_sql};
use prismiq_core::{DashboardFilter, FilterType, FilterValue, RowPredicate};
use serde_json::json;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

const STATEMENTS: &[(&str, &str)] = &[
    (
        "simple",
        "SELECT id, status, total FROM orders WHERE status = 'paid'",
    ),
    (
        "join_group",
        "SELECT c.name, count(*) AS n, sum(o.total) AS revenue \
         FROM orders o JOIN customers c ON c.id = o.customer_id \
         WHERE o.created_at >= :since GROUP BY c.name ORDER BY revenue DESC LIMIT 20",
    ),
    (
        "cte_window",
        "WITH monthly AS (SELECT date_trunc('month', created_at) AS month, customer_id, \
         sum(total) AS total FROM orders GROUP BY 1, 2), \
         ranked AS (SELECT *, rank() OVER (PARTITION BY month ORDER BY total DESC) AS r \
         FROM monthly) \
         SELECT m.month, c.name, m.total FROM ranked m JOIN customers c ON c.id = m.customer_id \
         WHERE m.r <= 3 AND c.id IN (SELECT customer_id FROM order_items i \
         WHERE i.quantity > 1) ORDER BY 1, 3 DESC",
    ),
    (
        "union_lateral",
        "SELECT id, 'order' AS kind FROM orders UNION ALL \
         SELECT c.id, 'customer' FROM customers c, \
         LATERAL (SELECT * FROM orders o WHERE o.customer_id = c.id ORDER BY o.total DESC \
         LIMIT 1) top",
    ),
];

fn policy() -> SqlPolicy {
    SqlPolicy::new("acme", ["orders", "customers", "order_items", "products"])
        .with_today(NaiveDate::from_ymd_opt(2024, 6, 15).unwrap())
        .with_row_filter("orders", [RowPredicate::eq("tenant_id", "t1")])
}

fn validate(c: &mut Criterion) {
    let policy = policy();
    let mut group = c.benchmark_group("validate_sql");
    for (name, sql) in STATEMENTS {
        assert!(validate_sql(sql, &policy).valid, "{name}");
        group.bench_function(*name, |b| b.iter(|| validate_sql(black_box(sql), &policy)));
    }
    group.finish();
}

fn parse_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_only");
    for (name, sql) in STATEMENTS {
        group.bench_function(*name, |b| {
            b.iter(|| Parser::parse_sql(&PostgreSqlDialect {}, black_box(sql)))
        });
    }
    group.finish();
}

fn prepare(c: &mut Criterion) {
    let policy = policy();
    let params = json!({"since": "2024-01-01"}).as_object().cloned().unwrap();
    let filters = [DashboardFilter {
        id: "status".to_owned(),
        filter_type: FilterType::MultiSelect,
        label: "Status".to_owned(),
        field: "status".to_owned(),
        table: None,
        default_value: None,
        options: None,
        date_preset: None,
        dynamic: None,
    }];
    let values = [FilterValue {
        filter_id: "status".to_owned(),
        value: json!(["paid", "open"]),
    }];
    let mut group = c.benchmark_group("prepare_sql");
    for (name, sql) in STATEMENTS {
        prepare_sql(sql, &params, &filters, &values, &policy).unwrap();
        group.bench_function(*name, |b| {
            b.iter(|| prepare_sql(black_box(sql), &params, &filters, &values, &policy))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_only, validate, prepare);
criterion_main!(benches);
