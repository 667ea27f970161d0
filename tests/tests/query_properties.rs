//! Property tests of the query engine against PostgreSQL with the sample dataset: random valid
//! definitions always compile and run; random broken ones are always client errors.

use std::sync::Arc;

use prismiq_axum::ApiError;
use prismiq_axum::prismiq_core::QueryDefinition;
use prismiq_axum::prismiq_core::query::testing::arbitrary_query;
use prismiq_axum::prismiq_core::query::{CompileOptions, compile, validate};
use prismiq_axum::prismiq_core::{
    DataSource, Engine, ExecutionContext, MemoryStore, SimpleAuthContext,
};
use prismiq_store_postgres::PgDataSource;
use prismiq_tests::sample;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("PRISMIQ_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

#[test]
fn random_valid_queries_compile_and_postgres_accepts_them() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let source = runtime.block_on(async { PgDataSource::new(sample::pool().await) });
    // The real introspection, not a hand-written copy.
    let schema = runtime.block_on(source.introspect("public")).unwrap();
    let context = ExecutionContext::new("public", "t", std::time::Duration::from_secs(10), 1000);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&arbitrary_query(), |def: QueryDefinition| {
            let checked = validate(&def, &schema);
            prop_assert!(
                checked.valid,
                "generated query is invalid: {:?}\n{}",
                checked.errors,
                serde_json::to_string(&def).unwrap()
            );
            let options = CompileOptions::default()
                .with_schema_name("public")
                .with_max_rows(context.max_rows);
            let compiled = compile(&def, &schema, &options)
                .map_err(|e| TestCaseError::fail(format!("compile: {e}")))?;
            let outcome = runtime.block_on(source.execute(&context, &compiled.query));
            prop_assert!(
                outcome.is_ok(),
                "PostgreSQL rejected {}\nSQL: {}\nerror: {:?}",
                serde_json::to_string(&def).unwrap(),
                compiled.query.sql,
                outcome.err()
            );
            Ok(())
        })
        .unwrap();
}

/// A step into a JSON value.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The paths of every scalar in `value`.
fn leaves(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                path.push(Step::Key(key.clone()));
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                leaves(v, path, out);
                path.pop();
            }
        }
        Value::Null => {}
        _ => out.push(path.clone()),
    }
}

/// Replaces one scalar of a valid definition with junk of another shape.
fn corrupt(mut def: Value, choice: usize, junk: &str) -> Value {
    let mut paths = Vec::new();
    leaves(&def, &mut Vec::new(), &mut paths);
    let Some(path) = paths.get(choice % paths.len().max(1)) else {
        return json!(junk);
    };
    let mut node = &mut def;
    for step in path {
        node = match step {
            Step::Key(key) => &mut node[key.as_str()],
            Step::Index(i) => &mut node[*i],
        };
    }
    *node = match choice % 4 {
        0 => json!(junk),
        1 => json!(-1),
        2 => json!([junk]),
        _ => json!({"x": junk}),
    };
    def
}

#[test]
fn random_broken_queries_are_client_errors() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let engine = runtime.block_on(async {
        Engine::new(MemoryStore::new())
            .with_data_source(Arc::new(PgDataSource::new(sample::pool().await)))
    });
    let auth = SimpleAuthContext::new("t").with_user("u");
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    let strategy = (
        arbitrary_query(),
        any::<usize>(),
        "[a-z_'\";\\-\\(\\) ]{0,12}",
    );
    runner
        .run(&strategy, |(def, choice, junk)| {
            let broken = corrupt(serde_json::to_value(&def).unwrap(), choice, &junk);
            // Either the JSON no longer parses as a definition (a 422 before any engine
            // work), or the engine answers — with a result or a 4xx.
            let Ok(parsed) = serde_json::from_value::<QueryDefinition>(broken.clone()) else {
                return Ok(());
            };
            if let Err(err) = runtime.block_on(engine.execute_query(&auth, &parsed)) {
                let status = ApiError::from(err).status();
                prop_assert!(
                    status.is_client_error(),
                    "{} for {}",
                    status,
                    serde_json::to_string(&broken).unwrap()
                );
            }
            Ok(())
        })
        .unwrap();
}
