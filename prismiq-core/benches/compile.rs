//! Compile time of a typical dashboard query: three tables (two joins), five filters,
//! aggregation, ordering and a row cap.
//!
//! `cargo bench -p prismiq-core --bench compile`

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::Criterion;
use prismiq_core::QueryDefinition;
use prismiq_core::query::{CompileOptions, compile, validate};
use prismiq_core::{ColumnSchema, DatabaseSchema, TableSchema};
use serde_json::json;

fn schema() -> DatabaseSchema {
    let table = |name: &str, columns: &[(&str, &str)]| TableSchema {
        name: name.to_owned(),
        schema_name: "public".to_owned(),
        columns: columns
            .iter()
            .map(|(column, data_type)| ColumnSchema {
                name: (*column).to_owned(),
                data_type: (*data_type).to_owned(),
                is_nullable: true,
                is_primary_key: *column == "id",
                default_value: None,
            })
            .collect(),
        row_count: None,
    };
    DatabaseSchema {
        tables: vec![
            table(
                "customers",
                &[
                    ("id", "integer"),
                    ("name", "character varying"),
                    ("region", "character varying"),
                    ("tier", "character varying"),
                ],
            ),
            table(
                "order_items",
                &[
                    ("id", "integer"),
                    ("order_id", "integer"),
                    ("quantity", "integer"),
                    ("unit_price", "numeric"),
                ],
            ),
            table(
                "orders",
                &[
                    ("id", "integer"),
                    ("customer_id", "integer"),
                    ("order_date", "date"),
                    ("status", "character varying"),
                    ("total_amount", "numeric"),
                ],
            ),
        ],
        relationships: Vec::new(),
    }
}

fn query() -> QueryDefinition {
    serde_json::from_value(json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o"},
                   {"id": "t2", "name": "customers", "alias": "c"},
                   {"id": "t3", "name": "order_items", "alias": "i"}],
        "joins": [
            {"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id"},
            {"from_table_id": "t1", "from_column": "id", "to_table_id": "t3", "to_column": "order_id", "join_type": "LEFT"}
        ],
        "columns": [
            {"table_id": "t2", "column": "region"},
            {"table_id": "t1", "column": "order_date", "date_trunc": "month", "alias": "month"},
            {"table_id": "t1", "column": "total_amount", "aggregation": "sum", "alias": "revenue"},
            {"table_id": "t3", "column": "quantity", "aggregation": "sum"}
        ],
        "filters": [
            {"table_id": "t1", "column": "status", "operator": "in_", "value": ["completed", "shipped"]},
            {"table_id": "t1", "column": "order_date", "operator": "date_window", "value": {"period": "yearly", "value": 0}},
            {"table_id": "t2", "column": "tier", "operator": "neq", "value": "trial"},
            {"table_id": "t3", "column": "quantity", "operator": "gte", "value": 1},
            {"table_id": "t1", "column": "total_amount", "operator": "between", "value": [10, 5000]}
        ],
        "order_by": [{"table_id": "t1", "column": "total_amount", "direction": "DESC"}],
        "limit": 100
    }))
    .expect("a valid query")
}

fn bench(c: &mut Criterion) {
    let schema = schema();
    let query = query();
    let options = CompileOptions::default()
        .with_schema_name("public")
        .with_today(NaiveDate::from_ymd_opt(2024, 6, 15).expect("a date"))
        .with_max_rows(10_000);
    c.bench_function("compile: 2 joins, 5 filters", |b| {
        b.iter(|| compile(black_box(&query), black_box(&schema), black_box(&options)))
    });
    c.bench_function("validate + compile: 2 joins, 5 filters", |b| {
        b.iter(|| {
            let result = validate(black_box(&query), black_box(&schema));
            assert!(result.valid);
            compile(&query, &schema, &options)
        })
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
