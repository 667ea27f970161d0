//! The pgbench scripts of `scripts/bench-store.sh` (`tools/store-sql/*.sql`) replay, for the
//! database-only side of the benchmark, exactly the statements the store sends for four HTTP
//! operations. They are made from the store's own constants, and this test fails when they
//! fall out of step; `PRISMIQ_BLESS=1 cargo test -p prismiq-store-postgres bench_sql` rewrites
//! them.

use std::path::PathBuf;

use crate::dashboards::{
    LIST_DASHBOARD_DOCUMENTS, LIST_DASHBOARD_SUMMARIES, RECORD_VERSION_AND_SELECT,
    SELECT_DASHBOARD_ACCESS, SELECT_DASHBOARD_DOCUMENT, UPDATE_LAYOUT,
};
use crate::store::BEGIN_SCOPE;

/// The layout save's statement before dashboards had versions: [`UPDATE_LAYOUT`] without the
/// version.
const UNVERSIONED_LAYOUT: &str = "with d as (update prismiq.dashboards set updated_at = now() \
                where tenant_id = $1 and id = $2 returning id), \
     moved as ( \
         update prismiq.widgets w set position = i.position \
         from d, unnest($3::uuid[], $4::jsonb[]) as i(id, position) \
         where w.tenant_id = $1 and w.dashboard_id = d.id and w.id = i.id \
     ) \
     select count(*) from d";

/// `sql` with its parameters `$1`, `$2`, … replaced by the pgbench variables `vars`.
fn with_variables(sql: &str, vars: &[&str]) -> String {
    let mut out = sql.to_owned();
    // Highest first, so that `$1` does not eat the start of `$10`.
    for (index, var) in vars.iter().enumerate().rev() {
        out = out.replace(&format!("${}", index + 1), &format!(":{var}"));
    }
    assert!(!out.contains('$'), "a parameter of {sql:?} has no variable");
    // pgbench takes every `:name` outside a `::` cast for a variable, even in a string literal.
    let bytes = out.as_bytes();
    for (at, _) in out.match_indices(':') {
        let cast = (at > 0 && bytes[at - 1] == b':') || bytes.get(at + 1) == Some(&b':');
        let name: String = out[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            cast || name.is_empty() || vars.contains(&name.as_str()),
            "pgbench would read `:{name}` in {sql:?} as a variable"
        );
    }
    out
}

/// One transaction as the store runs it: `BEGIN`, the tenant setup, the statements, then
/// `COMMIT` for a write or `ROLLBACK` for a read (see `store::end_read`).
fn transaction(statements: &[String], end: &str) -> String {
    let mut out = String::from("BEGIN;\n");
    out.push_str(&with_variables(BEGIN_SCOPE, &["tenant"]));
    out.push_str(";\n");
    for statement in statements {
        out.push_str(statement);
        out.push_str(";\n");
    }
    out.push_str(end);
    out.push_str(";\n");
    out
}

fn script(what: &str, transactions: &[String]) -> String {
    let mut out = format!(
        "-- pgbench script for scripts/bench-store.sh: {what}.\n\
         -- Made from the statements of prismiq-store-postgres; do not edit (see src/bench_sql.rs).\n"
    );
    for tx in transactions {
        out.push_str(tx);
    }
    out
}

/// The scripts, by file name.
fn scripts() -> Vec<(&'static str, String)> {
    let get = transaction(
        &[with_variables(
            SELECT_DASHBOARD_DOCUMENT,
            &["tenant", "dashboard"],
        )],
        "ROLLBACK",
    );
    let read_for_edit = transaction(
        &[with_variables(
            SELECT_DASHBOARD_DOCUMENT,
            &["tenant", "dashboard"],
        )],
        "ROLLBACK",
    );
    let list = transaction(
        &[with_variables(
            LIST_DASHBOARD_DOCUMENTS,
            &["tenant", "admin", "user"],
        )],
        "ROLLBACK",
    );
    // A save that expects no version (no `If-Match`), recorded with the default retention.
    let layout = transaction(
        &[
            with_variables(
                UPDATE_LAYOUT,
                &["tenant", "dashboard", "ids", "positions", "expected"],
            )
            .replace(":expected", "null"),
            with_variables(
                RECORD_VERSION_AND_SELECT,
                &["tenant", "dashboard", "author", "kind", "keep", "max_age"],
            )
            .replace(":author", "'bench'")
            .replace(":kind", "'layout_updated'")
            .replace(":keep", "50")
            .replace(":max_age", "7776000"),
        ],
        "COMMIT",
    );
    // The same save without a version, to measure what recording one costs: the layout
    // statement without the version, and the dashboard answered as its document, as the
    // versioned save answers it (`get_dashboard_json`'s statement).
    let unversioned = transaction(
        &[
            with_variables(
                UNVERSIONED_LAYOUT,
                &["tenant", "dashboard", "ids", "positions"],
            ),
            with_variables(SELECT_DASHBOARD_DOCUMENT, &["tenant", "dashboard"]),
        ],
        "COMMIT",
    );
    // A conditional GET: the access fields and the version, then nothing more, in one
    // statement outside a transaction (it makes its own scope).
    let conditional = format!(
        "{};\n",
        with_variables(SELECT_DASHBOARD_ACCESS, &["tenant", "dashboard"])
    );
    // The first page has no cursor: the store binds NULL for it, which a pgbench variable
    // cannot hold, so the script says `null` where the store has those three parameters.
    let summaries = transaction(
        &[with_variables(
            LIST_DASHBOARD_SUMMARIES,
            &[
                "tenant",
                "admin",
                "user",
                "user",
                "with_default",
                "after_at",
                "after_id",
                "limit",
                "shown_default",
            ],
        )
        .replace(":after_at", "null")
        .replace(":after_id", "null")
        .replace(":shown_default", "null")],
        "ROLLBACK",
    );
    vec![
        (
            "dashboard_summaries.sql",
            script(
                "GET /dashboards/summaries, first page \
                 (DashboardStore::list_dashboard_summaries)",
                &[summaries],
            ),
        ),
        (
            "get_dashboard.sql",
            script(
                "GET /dashboards/{id} (DashboardStore::get_dashboard_json)",
                std::slice::from_ref(&get),
            ),
        ),
        (
            "list_dashboards.sql",
            script(
                "GET /dashboards (DashboardStore::list_dashboards_json)",
                &[list],
            ),
        ),
        (
            "put_layout.sql",
            script(
                "PUT /dashboards/{id}/layout (the engine reads the dashboard to check the \
                 caller may edit it, then DashboardStore::update_layout)",
                &[read_for_edit.clone(), layout],
            ),
        ),
        (
            "put_layout_without_versions.sql",
            script(
                "PUT /dashboards/{id}/layout without recording a version, the \
                 dashboard answered the same way (for comparison)",
                &[read_for_edit, unversioned],
            ),
        ),
        (
            "get_dashboard_not_modified.sql",
            script(
                "GET /dashboards/{id} with a matching If-None-Match \
                 (DashboardStore::dashboard_access)",
                &[conditional],
            ),
        ),
    ]
}

#[test]
fn bench_scripts_replay_the_store_statements() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tools/store-sql");
    let bless = std::env::var_os("PRISMIQ_BLESS").is_some();
    for (name, expected) in scripts() {
        let path = dir.join(name);
        if bless {
            std::fs::create_dir_all(&dir).expect("create tools/store-sql");
            std::fs::write(&path, &expected).expect("write a bench script");
            continue;
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "{} is not what the store runs; rewrite it with \
             PRISMIQ_BLESS=1 cargo test -p prismiq-store-postgres bench_sql",
            path.display()
        );
    }
}
