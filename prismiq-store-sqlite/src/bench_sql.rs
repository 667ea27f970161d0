//! The script `scripts/bench-sqlite.sh` replays with `sql-load` for the database-only side of
//! `GET /dashboards/{id}` (`tools/store-sql/sqlite_get_dashboard.sql`): exactly the statements
//! the store sends, made from its own constants; this test fails when the file falls out of
//! step, and `PRISMIQ_BLESS=1 cargo test -p prismiq-store-sqlite bench_sql` rewrites it.

use std::path::PathBuf;

use crate::dashboards::GET_DASHBOARD_DOCUMENT;

/// `sql` with `?1`, `?2`, … replaced by the variables `vars`.
fn with_variables(sql: &str, vars: &[&str]) -> String {
    let mut out = sql.to_owned();
    for (index, var) in vars.iter().enumerate().rev() {
        out = out.replace(&format!("?{}", index + 1), &format!(":{var}"));
    }
    assert!(!out.contains('?'), "a parameter of {sql:?} has no variable");
    out
}

fn script() -> String {
    format!(
        "-- sql-load script for scripts/bench-sqlite.sh: GET /dashboards/{{id}} \
         (SqliteStore::get_dashboard_json).\n\
         -- Made from the statements of prismiq-store-sqlite; do not edit (see src/bench_sql.rs).\n\
         {};\n",
        with_variables(GET_DASHBOARD_DOCUMENT, &["tenant", "dashboard"]),
    )
}

#[test]
fn bench_script_replays_the_store_statements() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tools/store-sql/sqlite_get_dashboard.sql");
    let expected = script();
    if std::env::var_os("PRISMIQ_BLESS").is_some() {
        std::fs::write(&path, &expected).expect("write the bench script");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is not what the store runs; rewrite it with \
         PRISMIQ_BLESS=1 cargo test -p prismiq-store-sqlite bench_sql",
        path.display()
    );
}
