//! Custom SQL mode: what is refused, what passes, and golden SQL of the rewrite.
//!
//! Long on purpose: a corpus of hostile SQL and golden rewrites, kept together so gaps show.

use super::{SqlError, SqlPolicy, prepare_sql, validate_sql};
use crate::{CompiledQuery, DashboardFilter, FilterType, FilterValue, RowPredicate};
use chrono::NaiveDate;
use sea_query::Value;
use serde_json::{Map, Value as Json, json};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 15).unwrap()
}

/// The caller reads `orders`, `customers`, `order_items` and `Events` in schema `acme`.
fn policy() -> SqlPolicy {
    SqlPolicy::new("acme", ["orders", "customers", "order_items", "Events"])
        .with_max_rows(100)
        .with_today(today())
}

/// The same, with `orders` restricted to tenant `t1`.
fn tenant_policy() -> SqlPolicy {
    policy().with_row_filter("orders", [RowPredicate::eq("tenant_id", "t1")])
}

fn no_params() -> Map<String, Json> {
    Map::new()
}

fn params(value: Json) -> Map<String, Json> {
    value.as_object().cloned().unwrap()
}

fn prepare(sql: &str, policy: &SqlPolicy) -> CompiledQuery {
    prepare_sql(sql, &no_params(), &[], &[], policy)
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// The statement inside the row-cap wrapper.
fn inner(query: &CompiledQuery) -> &str {
    query
        .sql
        .strip_prefix("SELECT * FROM (")
        .and_then(|rest| rest.strip_suffix(") AS _prismiq LIMIT 101"))
        .unwrap_or_else(|| panic!("not wrapped: {}", query.sql))
}

fn text(value: &str) -> Value {
    Value::String(Some(value.to_owned()))
}

fn date(value: &str) -> Value {
    Value::ChronoDate(Some(value.parse().unwrap()))
}

fn filter(id: &str, filter_type: FilterType, field: &str, table: Option<&str>) -> DashboardFilter {
    DashboardFilter {
        id: id.to_owned(),
        filter_type,
        label: id.to_owned(),
        field: field.to_owned(),
        table: table.map(str::to_owned),
        default_value: None,
        options: None,
        date_preset: None,
        dynamic: None,
    }
}

fn value(id: &str, value: Json) -> FilterValue {
    FilterValue {
        filter_id: id.to_owned(),
        value,
    }
}

fn with_filters(
    sql: &str,
    filters: &[DashboardFilter],
    values: &[FilterValue],
    policy: &SqlPolicy,
) -> CompiledQuery {
    prepare_sql(sql, &no_params(), filters, values, policy)
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

// ---------------------------------------------------------------------------------------------
// Hostile SQL
// ---------------------------------------------------------------------------------------------

/// Statements that must be refused, and a fragment of the message that says why.
const HOSTILE: &[(&str, &str)] = &[
    // System columns: transaction ids, row locations, oids.
    ("select xmin from orders", "System column 'xmin'"),
    ("select o.XMAX, o.id from orders o", "System column 'XMAX'"),
    ("select \"ctid\" from orders", "System column 'ctid'"),
    (
        "select id from orders where tableoid > 0",
        "System column 'tableoid'",
    ),
    ("select max(cmin::text) from orders", "System column 'cmin'"),
    (
        "select id from orders order by orders.cmax",
        "System column 'cmax'",
    ),
    // Empty input and parse errors.
    ("", "Empty SQL statement"),
    ("   \n\t ", "Empty SQL statement"),
    ("-- nothing but a comment", "No SQL statement provided"),
    ("selec * from orders", "SQL parse error"),
    ("select * from orders where", "SQL parse error"),
    ("table orders", "SQL parse error"),
    ("do $$ begin delete from orders; end $$", "SQL parse error"),
    // More than one statement, however it is disguised.
    (
        "select 1; drop table orders",
        "Only single statements are allowed",
    ),
    (
        "select 1 /* ; */; delete from orders",
        "Only single statements are allowed",
    ),
    (
        "select 1 -- ;\n; delete from orders",
        "Only single statements are allowed",
    ),
    (
        "select * from \"orders\"; drop table orders",
        "Only single statements are allowed",
    ),
    (
        "select * from orders where note = 'x'; delete from orders; --'",
        "Only single statements are allowed",
    ),
    (
        "select * from orders where note = $$x$$; delete from orders",
        "Only single statements are allowed",
    ),
    // Statements that are not queries.
    (
        "insert into orders (id) values (1)",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "update orders set total = 0",
        "Statement type 'UPDATE' is not allowed",
    ),
    (
        "delete from orders",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "merge into orders o using customers c on o.id = c.id when matched then delete",
        "Statement type 'MERGE' is not allowed",
    ),
    (
        "create table stolen as select * from orders",
        "Statement type 'CREATE' is not allowed",
    ),
    ("drop table orders", "Statement type 'DROP' is not allowed"),
    (
        "alter table orders add column x int",
        "Statement type 'ALTER' is not allowed",
    ),
    (
        "truncate orders",
        "Statement type 'TRUNCATE' is not allowed",
    ),
    (
        "copy orders to '/tmp/orders.csv'",
        "Statement type 'COPY' is not allowed",
    ),
    (
        "copy (select * from orders) to program 'sh'",
        "Statement type 'COPY' is not allowed",
    ),
    ("set role postgres", "Statement type 'SET' is not allowed"),
    (
        "set search_path = other_tenant",
        "Statement type 'SET' is not allowed",
    ),
    (
        "explain analyze delete from orders",
        "Statement type 'EXPLAIN' is not allowed",
    ),
    (
        "explain select * from orders",
        "Statement type 'EXPLAIN' is not allowed",
    ),
    (
        "call refresh_everything()",
        "Statement type 'CALL' is not allowed",
    ),
    (
        "grant select on orders to public",
        "Statement type 'GRANT' is not allowed",
    ),
    // Data-modifying statements nested in a query.
    (
        "with gone as (delete from orders returning *) select * from gone",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "with x as (insert into orders (id) values (1) returning id) select * from x",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "with x as (update orders set total = 0 returning *) select count(*) from x",
        "Statement type 'UPDATE' is not allowed",
    ),
    (
        "with x as (select 1) insert into orders select * from x",
        "Statement type 'INSERT' is not allowed",
    ),
    (
        "with x as (select 1) delete from orders",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "select * from (delete from orders returning *) d",
        "Statement type 'DELETE' is not allowed",
    ),
    (
        "select * from orders where id in (update orders set total = 1 returning id)",
        "Statement type 'UPDATE' is not allowed",
    ),
    // Writes and locks hidden in a SELECT.
    (
        "select * into backup from orders",
        "SELECT INTO is not allowed",
    ),
    ("select * from orders for update", "Locking clauses"),
    ("select * from orders for share nowait", "Locking clauses"),
    (
        "select * from (select * from orders for update) o",
        "Locking clauses",
    ),
    // Dangerous functions, wherever they are.
    ("select pg_sleep(10)", "Function 'pg_sleep' is not allowed"),
    (
        "select * from orders where id in (select pg_sleep(10))",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "select id from orders order by pg_sleep(1)",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "with slow as (select pg_sleep(5) as s) select * from slow",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "select pg_sleep_for('5 minutes')",
        "Function 'pg_sleep_for' is not allowed",
    ),
    ("values (pg_sleep(1))", "Function 'pg_sleep' is not allowed"),
    (
        "select * from generate_series(1, pg_sleep(1)::int)",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "select count(*) filter (where pg_sleep(1) is null) from orders",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "select \"pg_sleep\"(1)",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "select \"PG_SLEEP\"(1)",
        "Function 'PG_SLEEP' is not allowed",
    ),
    (
        "select pg_catalog.pg_sleep(1)",
        "Function 'pg_sleep' is not allowed",
    ),
    (
        "select PG_CATALOG.\"pg_sleep\"(1)",
        "Function 'pg_sleep' is not allowed",
    ),
    ("select U&\"pg_sleep\"(1)", "Unicode escape"),
    ("select U&\"\\0070g_sleep\"(1)", "Unicode escape"),
    ("select * from U&\"\\006frders\"", "Unicode escape"),
    (
        "select set_config('prismiq.tenant_id', 'other', false)",
        "Function 'set_config' is not allowed",
    ),
    (
        "select current_setting('prismiq.tenant_id')",
        "Function 'current_setting' is not allowed",
    ),
    (
        "select pg_catalog.current_setting('search_path')",
        "Function 'current_setting' is not allowed",
    ),
    (
        "select * from dblink('host=evil', 'select 1') as t(x int)",
        "Function 'dblink' is not allowed",
    ),
    (
        "select dblink_exec('host=evil', 'drop table x')",
        "Function 'dblink_exec' is not allowed",
    ),
    (
        "select lo_import('/etc/passwd')",
        "Function 'lo_import' is not allowed",
    ),
    (
        "select lo_export(1234, '/tmp/x')",
        "Function 'lo_export' is not allowed",
    ),
    (
        "select * from lo_get(1234)",
        "Function 'lo_get' is not allowed",
    ),
    (
        "select pg_read_file('/etc/passwd')",
        "Function 'pg_read_file' is not allowed",
    ),
    (
        "select pg_read_binary_file('global/pg_control')",
        "Function 'pg_read_binary_file' is not allowed",
    ),
    (
        "select * from pg_ls_dir('.') f",
        "Function 'pg_ls_dir' is not allowed",
    ),
    (
        "select pg_stat_file('postgresql.conf')",
        "Function 'pg_stat_file' is not allowed",
    ),
    (
        "select pg_advisory_lock(1)",
        "Function 'pg_advisory_lock' is not allowed",
    ),
    (
        "select pg_try_advisory_xact_lock(1)",
        "Function 'pg_try_advisory_xact_lock' is not allowed",
    ),
    (
        "select query_to_xml('select * from prismiq.dashboards', true, false, '')",
        "Function 'query_to_xml' is not allowed",
    ),
    (
        "select table_to_xml('secrets', true, false, '')",
        "Function 'table_to_xml' is not allowed",
    ),
    (
        "select nextval('orders_id_seq')",
        "Function 'nextval' is not allowed",
    ),
    (
        "select setval('orders_id_seq', 1)",
        "Function 'setval' is not allowed",
    ),
    (
        "select pg_terminate_backend(42)",
        "Function 'pg_terminate_backend' is not allowed",
    ),
    (
        "select pg_cancel_backend(42)",
        "Function 'pg_cancel_backend' is not allowed",
    ),
    (
        "select pg_reload_conf()",
        "Function 'pg_reload_conf' is not allowed",
    ),
    (
        "select pg_notify('channel', 'hello')",
        "Function 'pg_notify' is not allowed",
    ),
    (
        "select pg_switch_wal()",
        "Function 'pg_switch_wal' is not allowed",
    ),
    // Functions in FROM: only set-returning ones, and nothing off the allow-list.
    (
        "select * from my_function() f",
        "Function 'my_function' is not allowed",
    ),
    (
        "select * from acme.my_function() f",
        "Function 'my_function' is not allowed",
    ),
    (
        "select * from lower('x') f",
        "Function 'lower' is not allowed in FROM",
    ),
    (
        "select * from acme.lower('x') f",
        "Function 'acme.lower' is not allowed in FROM",
    ),
    // Tables and schemas outside the caller's.
    ("select * from secrets", "Access denied to tables: secrets"),
    (
        "select * from dashboards",
        "Access denied to tables: dashboards",
    ),
    (
        "select * from pg_class",
        "Access denied to tables: pg_class",
    ),
    (
        "select usename from pg_user",
        "Access denied to tables: pg_user",
    ),
    (
        "select * from information_schema.tables",
        "Query references schema \"information_schema\" but only \"acme\" is allowed",
    ),
    (
        "select * from information_schema.tables",
        "Access denied to tables: information_schema.tables",
    ),
    (
        "select * from pg_catalog.pg_user",
        "Query references schema \"pg_catalog\" but only \"acme\" is allowed",
    ),
    (
        "select * from \"PG_CATALOG\".\"PG_USER\"",
        "Query references schema \"PG_CATALOG\" but only \"acme\" is allowed",
    ),
    (
        "select (select count(*) from pg_catalog.pg_authid)",
        "Query references schema \"pg_catalog\"",
    ),
    (
        "select * from other_schema.orders",
        "Query references schema \"other_schema\" but only \"acme\" is allowed",
    ),
    (
        "select * from prismiq.dashboards",
        "Query references schema \"prismiq\" but only \"acme\" is allowed",
    ),
    (
        "select * from otherdb.acme.orders",
        "Cross-database references are not allowed",
    ),
    (
        "select other_schema.do_things()",
        "Query references schema \"other_schema\"",
    ),
    (
        "select null::other_schema.orders",
        "Query references schema \"other_schema\"",
    ),
    (
        "select '{}'::pg_catalog.int4[], '{}'::other_schema.orders[]",
        "Query references schema \"other_schema\"",
    ),
    (
        "select 1 operator(other_schema.+) 1",
        "Query references schema \"other_schema\"",
    ),
    (
        "select * from \"orders\"\"; drop table x\"",
        "Access denied to tables: \"orders\"\"; drop table x\"",
    ),
    (
        "select * from orders join secrets s on true",
        "Access denied to tables: secrets",
    ),
    (
        "select * from orders natural join secrets",
        "Access denied to tables: secrets",
    ),
    (
        "select * from orders where exists (select 1 from secrets)",
        "Access denied to tables: secrets",
    ),
    (
        "select id from orders union select id from secrets",
        "Access denied to tables: secrets",
    ),
    (
        "select * from orders, lateral (select * from secrets) s",
        "Access denied to tables: secrets",
    ),
    (
        "select * from orders where id in (with x as (select * from secrets) select id from x)",
        "Access denied to tables: secrets",
    ),
    // A CTE is not visible before its declaration: `secrets` here is the real table.
    (
        "with a as (select * from secrets), secrets as (select 1) select * from a",
        "Access denied to tables: secrets",
    ),
    (
        "with a as (select * from (select * from b) z), b as (select 1) select * from a",
        "Access denied to tables: b",
    ),
    // Nor outside its WITH.
    (
        "select * from (with s as (select 1) select * from s) x, s",
        "Access denied to tables: s",
    ),
    // Positional parameters would clash with the bound values.
    (
        "select * from orders where id = $1",
        "Positional parameter $1 is not supported",
    ),
];

#[test]
fn hostile_statements_are_refused_with_a_reason() {
    let policy = policy();
    assert!(HOSTILE.len() >= 40, "{}", HOSTILE.len());
    for (sql, fragment) in HOSTILE {
        let validation = validate_sql(sql, &policy);
        assert!(!validation.valid, "accepted: {sql}");
        assert!(
            validation
                .errors
                .iter()
                .any(|error| error.contains(fragment)),
            "{sql}: expected {fragment:?} in {:?}",
            validation.errors
        );
        let error = prepare_sql(sql, &no_params(), &[], &[], &policy)
            .expect_err(&format!("prepared: {sql}"));
        assert_eq!(error.errors, validation.errors, "{sql}");
    }
}

#[test]
fn comments_never_reach_the_database() {
    // PostgreSQL nests block comments, and so does the parser: this is one statement.
    let sql = "select 1 /* a /* b */ ; drop table orders; */ -- ; delete from orders";
    assert!(validate_sql(sql, &policy()).valid);
    assert_eq!(
        prepare(sql, &policy()).sql,
        "SELECT * FROM (SELECT 1) AS _prismiq LIMIT 101"
    );
}

#[test]
fn deeply_nested_statements_are_a_parse_error() {
    let sql = format!("select {}1{}", "(".repeat(500), ")".repeat(500));
    let validation = validate_sql(&sql, &policy());
    assert_eq!(
        validation.errors,
        ["SQL parse error: the statement is nested too deeply"]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let validation = validate_sql(
        "select pg_sleep(1), current_setting('x') from secrets s \
         join other.orders o on true for update",
        &policy(),
    );
    assert_eq!(
        validation.errors,
        [
            "Locking clauses (FOR UPDATE, FOR SHARE, ...) are not allowed",
            "Query references schema \"other\" but only \"acme\" is allowed",
            "Access denied to tables: secrets",
            "Function 'current_setting' is not allowed",
            "Function 'pg_sleep' is not allowed",
        ]
    );
    assert_eq!(validation.tables, ["orders", "secrets"]);
}

#[test]
fn the_error_lists_every_message() {
    let error = prepare_sql(
        "select pg_sleep(1) from secrets",
        &no_params(),
        &[],
        &[],
        &policy(),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "SQL validation failed: Access denied to tables: secrets; Function 'pg_sleep' is not allowed"
    );
    assert_eq!(
        error,
        SqlError {
            errors: vec![
                "Access denied to tables: secrets".to_owned(),
                "Function 'pg_sleep' is not allowed".to_owned(),
            ]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// The function allow-list and the size limit
// ---------------------------------------------------------------------------------------------

/// Calls of functions outside the allow-list, and the name the refusal gives: server state,
/// side effects, resources, SQL given as text, catalog lookups, and unknown functions.
const OFF_THE_LIST: &[(&str, &str)] = &[
    // Server, session and role information.
    ("select version()", "version"),
    ("select id, VERSION() from orders", "VERSION"),
    ("select current_user", "current_user"),
    ("select session_user", "session_user"),
    ("select user", "user"),
    ("select current_role", "current_role"),
    ("select system_user", "system_user"),
    ("select current_catalog", "current_catalog"),
    ("select current_schema", "current_schema"),
    ("select current_schema()", "current_schema"),
    ("select current_schemas(true)", "current_schemas"),
    ("select current_database()", "current_database"),
    ("select current_query()", "current_query"),
    ("select inet_server_addr()", "inet_server_addr"),
    ("select inet_server_port()", "inet_server_port"),
    ("select inet_client_addr()", "inet_client_addr"),
    ("select pg_backend_pid()", "pg_backend_pid"),
    (
        "select pg_postmaster_start_time()",
        "pg_postmaster_start_time",
    ),
    ("select pg_conf_load_time()", "pg_conf_load_time"),
    ("select pg_is_in_recovery()", "pg_is_in_recovery"),
    ("select pg_current_wal_lsn()", "pg_current_wal_lsn"),
    ("select pg_jit_available()", "pg_jit_available"),
    ("select pg_listening_channels()", "pg_listening_channels"),
    ("select pg_blocking_pids(1)", "pg_blocking_pids"),
    // Transactions and snapshots.
    ("select txid_current()", "txid_current"),
    ("select txid_current_snapshot()", "txid_current_snapshot"),
    ("select pg_current_xact_id()", "pg_current_xact_id"),
    (
        "select pg_catalog.pg_current_xact_id()",
        "pg_current_xact_id",
    ),
    ("select pg_current_snapshot()", "pg_current_snapshot"),
    // Settings.
    (
        "select current_setting('server_version')",
        "current_setting",
    ),
    ("select set_config('work_mem', '1GB', false)", "set_config"),
    ("select setseed(0.5)", "setseed"),
    // Statistics and sizes.
    ("select pg_stat_get_numscans(1)", "pg_stat_get_numscans"),
    ("select pg_stat_get_activity(null)", "pg_stat_get_activity"),
    ("select pg_relation_size('orders')", "pg_relation_size"),
    (
        "select pg_total_relation_size('orders')",
        "pg_total_relation_size",
    ),
    ("select pg_database_size('postgres')", "pg_database_size"),
    ("select pg_column_size(total) from orders", "pg_column_size"),
    // Privileges and catalog lookups.
    (
        "select has_table_privilege('orders', 'select')",
        "has_table_privilege",
    ),
    ("select pg_get_viewdef('orders')", "pg_get_viewdef"),
    ("select obj_description(1)", "obj_description"),
    ("select col_description(1, 1)", "col_description"),
    ("select to_regclass('other.orders')", "to_regclass"),
    ("select format_type(23, null)", "format_type"),
    // Resources, files, other sessions and databases.
    ("select pg_sleep(1)", "pg_sleep"),
    ("select \"PG_SLEEP_FOR\"('1 second')", "PG_SLEEP_FOR"),
    ("select pg_read_file('/etc/passwd')", "pg_read_file"),
    ("select * from pg_ls_dir('.') f", "pg_ls_dir"),
    ("select lo_import('/etc/passwd')", "lo_import"),
    (
        "select * from dblink('host=evil', 'select 1') as t(x int)",
        "dblink",
    ),
    ("select pg_advisory_lock(1)", "pg_advisory_lock"),
    ("select pg_notify('channel', 'hello')", "pg_notify"),
    ("select pg_terminate_backend(1)", "pg_terminate_backend"),
    // Sequences.
    ("select nextval('orders_id_seq')", "nextval"),
    ("select currval('orders_id_seq')", "currval"),
    ("select lastval()", "lastval"),
    // SQL given as text.
    (
        "select query_to_xml('select 1', true, false, '')",
        "query_to_xml",
    ),
    ("select * from ts_stat('select v from t') s", "ts_stat"),
    // Neither built-in nor allowed by the host, wherever it is.
    ("select my_function(total) from orders", "my_function"),
    ("select acme.my_function(1)", "my_function"),
    (
        "select * from orders where id in (select lower(txid_current()::text)::int)",
        "txid_current",
    ),
    (
        "select count(*) filter (where pg_backend_pid() > 0) from orders",
        "pg_backend_pid",
    ),
    (
        "select sum(total) over (order by version()) from orders",
        "version",
    ),
];

#[test]
fn functions_off_the_allow_list_are_refused_by_name() {
    let policy = policy();
    assert!(OFF_THE_LIST.len() >= 30, "{}", OFF_THE_LIST.len());
    for (sql, name) in OFF_THE_LIST {
        let message = format!("Function '{name}' is not allowed");
        let validation = validate_sql(sql, &policy);
        assert!(!validation.valid, "accepted: {sql}");
        assert!(
            validation.errors.contains(&message),
            "{sql}: expected {message:?} in {:?}",
            validation.errors
        );
        let error = prepare_sql(sql, &no_params(), &[], &[], &policy)
            .expect_err(&format!("prepared: {sql}"));
        assert_eq!(error.errors, validation.errors, "{sql}");
    }
}

#[test]
fn quoted_identifiers_named_like_keyword_functions_are_columns() {
    // Quoted, `user` and `current_role` are column names, not calls.
    let validation = validate_sql(
        "select \"user\", \"current_role\", o.current_schema from orders o",
        &policy(),
    );
    assert!(validation.valid, "{:?}", validation.errors);
}

#[test]
fn casts_to_object_identifier_types_are_refused() {
    for (sql, name) in [
        ("select 'other.orders'::regclass", "regclass"),
        ("select cast('pg_authid' as regclass)::oid", "regclass"),
        ("select regclass 'orders'", "regclass"),
        ("select 'acme'::pg_catalog.regnamespace", "regnamespace"),
        ("select '{1}'::regproc[]", "regproc"),
        ("select 'postgres'::\"regrole\"", "regrole"),
    ] {
        let validation = validate_sql(sql, &policy());
        assert_eq!(
            validation.errors,
            [format!(
                "Type '{name}' is not allowed: it looks objects up in the system catalogs"
            )],
            "{sql}"
        );
    }
    assert!(
        validate_sql(
            "select 23::oid, '1'::int, 'x'::text, null::acme.orders, 1::pg_catalog.int8",
            &policy()
        )
        .valid
    );
}

/// Statements using the functions analytics queries reach for, all on the allow-list.
const ANALYTICS: &[&str] = &[
    "select count(*), count(distinct customer_id), sum(total), avg(total), min(total), \
     max(total), stddev(total), variance(total), corr(total, id), regr_slope(total, id), \
     bool_and(total > 0), bool_or(total > 0), every(total > 0) from orders",
    "select percentile_cont(0.5) within group (order by total), \
     percentile_disc(array[0.25, 0.75]) within group (order by total), \
     mode() within group (order by status) from orders",
    "select string_agg(status, ', ' order by status), array_agg(id order by id), \
     json_agg(status), jsonb_agg(total), jsonb_object_agg(id, total) from orders",
    "select row_number() over w, rank() over w, dense_rank() over w, percent_rank() over w, \
     cume_dist() over w, ntile(4) over w, lag(total) over w, lead(total, 2, 0) over w, \
     first_value(total) over w, last_value(total) over w, nth_value(total, 2) over w \
     from orders window w as (partition by customer_id order by created_at)",
    "select abs(total), ceil(total), ceiling(total), floor(total), round(total, 2), \
     trunc(total), sqrt(abs(total)), power(total, 2), exp(1), ln(2), log(10, 100), mod(id, 7), \
     sign(total), div(id, 3), width_bucket(total, 0, 1000, 10), pi(), random(), \
     greatest(total, 0), least(total, 100), cos(0), atan2(1, 1) from orders",
    "select lower(status), upper(status), initcap(status), length(status), \
     substring(status from 1 for 3), substr(status, 1, 3), position('a' in status), \
     trim(both ' ' from status), ltrim(status), concat(status, '-', id), \
     concat_ws('/', status, id), replace(status, 'a', 'b'), split_part(status, '_', 1), \
     left(status, 2), right(status, 2), lpad(status, 10, '.'), reverse(status), \
     regexp_replace(status, '[aeiou]', '', 'g'), regexp_match(status, 'p.'), \
     starts_with(status, 'p'), format('%s: %s', id, status), md5(status), \
     status || '!' from orders",
    "select now(), current_date, current_timestamp, date_trunc('month', created_at), \
     date_part('year', created_at), extract(dow from created_at), age(created_at), \
     make_date(2024, 1, 1), make_interval(days => 3), to_char(created_at, 'YYYY-MM'), \
     to_date('2024-01-01', 'YYYY-MM-DD'), to_timestamp(0), \
     date_bin('15 minutes', created_at, timestamp '2000-01-01'), \
     justify_days(interval '40 days'), created_at at time zone 'UTC', \
     timezone('UTC', created_at), created_at::date, date(created_at) from orders",
    "select coalesce(total, 0), nullif(status, ''), case when total > 100 then 'big' end, \
     cast(total as int), total::numeric(10, 2), to_number('1,234', '9G999'), \
     num_nulls(total, status) from orders",
    "select attributes -> 'a', attributes ->> 'b', attributes #>> '{c,d}', \
     jsonb_extract_path_text(attributes, 'a'), jsonb_typeof(attributes), \
     jsonb_array_length(attributes -> 'items'), jsonb_build_object('id', id), \
     to_jsonb(status), jsonb_path_query_first(attributes, '$.a'), \
     jsonb_path_exists(attributes, '$.b') from orders",
    "select array_length(array[1, 2], 1), cardinality(array[1]), \
     array_to_string(array['a', 'b'], ','), string_to_array('a,b', ','), \
     array_position(array[1, 2], 2), array[1, 2] || 3, row(1, 2), \
     array(select id from orders limit 3), daterange(current_date, current_date + 1)",
    "select g, u from generate_series(1, 3) g, unnest(array['a', 'b']) u",
    "select status, grouping(status), count(*) from orders group by rollup (status)",
    "select pg_catalog.count(*), pg_catalog.lower('A'), \"lower\"('B'), LOWER('C') from orders",
];

#[test]
fn common_analytics_functions_pass() {
    let policy = policy();
    for sql in ANALYTICS {
        let validation = validate_sql(sql, &policy);
        assert!(validation.valid, "{sql}: {:?}", validation.errors);
        if let Err(error) = prepare_sql(sql, &no_params(), &[], &[], &policy) {
            panic!("{sql}: {error}");
        }
    }
}

#[test]
fn the_host_extends_the_allow_list_case_insensitively() {
    let sql = "select my_func(total), MY_FUNC(1), \"My_Func\"(2), acme.my_func(3) from orders";
    assert_eq!(
        validate_sql(sql, &policy()).errors,
        [
            "Function 'MY_FUNC' is not allowed",
            "Function 'My_Func' is not allowed",
            "Function 'my_func' is not allowed",
        ]
    );

    let extended = policy().with_allowed_functions(["My_Func"]);
    assert!(validate_sql(sql, &extended).valid);
    assert_eq!(
        prepare(sql, &extended).sql,
        "SELECT * FROM (SELECT my_func(total), MY_FUNC(1), \"My_Func\"(2), acme.my_func(3) \
         FROM \"acme\".\"orders\") AS _prismiq LIMIT 101"
    );
    // In FROM too, but still only in the caller's schema.
    assert!(validate_sql("select * from my_func() f", &extended).valid);
    assert_eq!(
        validate_sql("select other.my_func(1)", &extended).errors,
        ["Query references schema \"other\" but only \"acme\" is allowed"]
    );
    // Other functions stay refused.
    assert_eq!(
        validate_sql("select my_func(version())", &extended).errors,
        ["Function 'version' is not allowed"]
    );
}

#[test]
fn statements_over_the_size_limit_are_refused_before_parsing() {
    /// `select 1` padded with a comment to exactly `len` bytes.
    fn statement(len: usize) -> String {
        let sql = format!("select 1 /*{}*/", "x".repeat(len - 13));
        assert_eq!(sql.len(), len);
        sql
    }

    let default = SqlPolicy::DEFAULT_MAX_SQL_BYTES;
    assert_eq!(default, 65_536);
    assert_eq!(policy().max_sql_bytes, default);
    let at_limit = statement(default);
    assert!(validate_sql(&at_limit, &policy()).valid);
    assert!(prepare_sql(&at_limit, &no_params(), &[], &[], &policy()).is_ok());

    let over = statement(default + 1);
    let message = "SQL statement is 65537 bytes long; the limit is 65536 (max_sql_bytes)";
    assert_eq!(
        validate_sql(&over, &policy()),
        super::SqlValidation {
            valid: false,
            errors: vec![message.to_owned()],
            tables: Vec::new(),
        }
    );
    assert_eq!(
        prepare_sql(&over, &no_params(), &[], &[], &policy())
            .unwrap_err()
            .errors,
        [message]
    );

    // Before parsing: an oversized statement gets no other message, even a parse error.
    let small = policy().with_max_sql_bytes(20);
    assert!(validate_sql("select 1", &small).valid);
    assert_eq!(
        validate_sql("selec * from orders where", &small).errors,
        ["SQL statement is 25 bytes long; the limit is 20 (max_sql_bytes)"]
    );
    // Bytes, not characters.
    assert_eq!(
        validate_sql("select 'ééééééééé'", &small).errors,
        ["SQL statement is 27 bytes long; the limit is 20 (max_sql_bytes)"]
    );
}

#[test]
fn the_nul_character_is_refused_anywhere_in_the_statement() {
    let message = "SQL must not contain the NUL character (\\u0000)";
    for sql in [
        "select 1\0; drop table orders",
        "select '\0' from orders",
        "select * from orders -- \0",
        "select \"a\0b\" from orders",
    ] {
        assert_eq!(validate_sql(sql, &policy()).errors, [message], "{sql:?}");
        assert_eq!(
            prepare_sql(sql, &no_params(), &[], &[], &policy())
                .unwrap_err()
                .errors,
            [message],
            "{sql:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Legitimate SQL
// ---------------------------------------------------------------------------------------------

/// Statements that must pass, with the tables they report.
const LEGITIMATE: &[(&str, &[&str])] = &[
    ("select 1", &[]),
    ("select 1;", &[]),
    (
        "select now(), current_date, current_timestamp, localtime",
        &[],
    ),
    ("select * from orders", &["orders"]),
    ("SELECT * FROM ORDERS", &["ORDERS"]),
    ("select * from \"Events\"", &["Events"]),
    ("select * from events", &["events"]),
    ("select * from acme.orders", &["orders"]),
    ("select * from \"acme\".\"orders\" o", &["orders"]),
    (
        "select o.id, c.name from orders o join customers c on c.id = o.customer_id \
         left join order_items i using (id)",
        &["customers", "order_items", "orders"],
    ),
    (
        "with big as (select * from orders where total > 100) select count(*) from big",
        &["orders"],
    ),
    (
        "with a as (select * from orders), b as (select * from a where total > 1) \
         select * from b join customers c on c.id = b.customer_id",
        &["customers", "orders"],
    ),
    (
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 10) \
         select * from n",
        &[],
    ),
    (
        "with recursive tree as (select id, parent_id from customers where parent_id is null \
         union all select c.id, c.parent_id from customers c join tree t on c.parent_id = t.id) \
         select * from tree",
        &["customers"],
    ),
    // A CTE may shadow a table; inside its own body the name is still the table.
    (
        "with orders as (select * from orders where total > 10) select * from orders",
        &["orders"],
    ),
    (
        "select id from orders union select id from customers",
        &["customers", "orders"],
    ),
    (
        "select id from orders intersect select id from customers except select 1",
        &["customers", "orders"],
    ),
    (
        "(select id from orders order by id limit 5) union all (select id from customers)",
        &["customers", "orders"],
    ),
    (
        "select customer_id, sum(total) over (partition by customer_id order by created_at) \
         as running, rank() over w from orders window w as (order by total desc)",
        &["orders"],
    ),
    (
        "select * from customers where id in (select customer_id from orders) \
         and exists (select 1 from order_items i where i.id = customers.id) \
         and total > (select avg(total) from orders)",
        &["customers", "order_items", "orders"],
    ),
    (
        "select * from customers c, lateral (select * from orders o where o.customer_id = c.id \
         order by o.total desc limit 3) top",
        &["customers", "orders"],
    ),
    ("select * from generate_series(1, 10) as g(n)", &[]),
    (
        "select d::date, count(o.id) from generate_series(date '2024-01-01', date '2024-12-31', \
         interval '1 month') d left join orders o on date_trunc('month', o.created_at) = d \
         group by 1",
        &["orders"],
    ),
    ("select * from pg_catalog.generate_series(1, 3)", &[]),
    ("select * from unnest(array[1, 2, 3]) as u(x)", &[]),
    (
        "select key, value from orders, jsonb_each(orders.attributes)",
        &["orders"],
    ),
    ("values (1, 'a'), (2, 'b')", &[]),
    ("select * from (values (1), (2)) as v(x)", &[]),
    (
        "select id::text, ':not_a_param' as label, 'it''s' as quote, $$dollar$$ as d \
         from orders -- trailing comment",
        &["orders"],
    ),
    (
        "select * from orders where status = :status and total > :min",
        &["orders"],
    ),
    (
        "select date_trunc('month', created_at) as m, count(*) filter (where total > 0) \
         from orders group by 1 having count(*) > 1 order by 1",
        &["orders"],
    ),
    (
        "select * from orders o tablesample bernoulli (10)",
        &["orders"],
    ),
    (
        "select pg_catalog.lower(name) from customers",
        &["customers"],
    ),
    ("select u & 1 from orders", &["orders"]),
    // A CTE is visible in subqueries of its WITH's body, at any depth.
    (
        "select * from orders where id in (with x as (select id from orders) \
         select id from (select * from customers where id in (select id from x)) y)",
        &["customers", "orders"],
    ),
    // In a WITH RECURSIVE, CTEs see each other whatever their order.
    (
        "with recursive a as (select * from b), b as (select 1 as one) select * from a",
        &[],
    ),
];

#[test]
fn legitimate_queries_pass_and_report_their_tables() {
    let policy = policy();
    for (sql, tables) in LEGITIMATE {
        let validation = validate_sql(sql, &policy);
        assert!(validation.valid, "{sql}: {:?}", validation.errors);
        assert_eq!(validation.tables, *tables, "{sql}");
        let params = params(json!({"status": "paid", "min": 10}));
        if let Err(error) = prepare_sql(sql, &params, &[], &[], &policy) {
            panic!("{sql}: {error}");
        }
    }
}

#[test]
fn tables_are_sorted_and_unique_without_cte_names() {
    let validation = validate_sql(
        "with o as (select * from orders) select * from o join orders on true \
         join Customers c on true join secrets on true",
        &policy(),
    );
    assert_eq!(validation.tables, ["Customers", "orders", "secrets"]);
    assert_eq!(validation.errors, ["Access denied to tables: secrets"]);
}

// ---------------------------------------------------------------------------------------------
// Rewrite: schema qualification
// ---------------------------------------------------------------------------------------------

#[test]
fn tables_are_qualified_with_the_callers_schema() {
    let policy = policy();
    let cases = [
        ("select id from orders", r#"SELECT id FROM "acme"."orders""#),
        (
            "select o.id from ORDERS o join acme.customers c on c.id = o.customer_id",
            r#"SELECT o.id FROM "acme"."orders" o JOIN "acme"."customers" c ON c.id = o.customer_id"#,
        ),
        // The exposed spelling is used; the written name stays usable as an alias.
        (
            "select events.id from events",
            r#"SELECT events.id FROM "acme"."Events" AS events"#,
        ),
        (
            "select \"Events\".id from \"Events\"",
            r#"SELECT "Events".id FROM "acme"."Events""#,
        ),
        // CTE names are not tables, except inside their own body.
        (
            "with orders as (select * from orders) select * from orders",
            r#"WITH orders AS (SELECT * FROM "acme"."orders") SELECT * FROM orders"#,
        ),
        (
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 3) \
             select * from n, customers",
            r#"WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n, "acme"."customers""#,
        ),
        (
            "select * from generate_series(1, 3) g, customers",
            r#"SELECT * FROM generate_series(1, 3) g, "acme"."customers""#,
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(inner(&prepare(sql, &policy)), expected, "{sql}");
    }
}

#[test]
fn the_row_cap_wraps_the_whole_statement() {
    let query = prepare(
        "with big as (select * from orders) select * from big order by id limit 5000",
        &policy().with_max_rows(1000),
    );
    assert_eq!(
        query.sql,
        r#"SELECT * FROM (WITH big AS (SELECT * FROM "acme"."orders") SELECT * FROM big ORDER BY id LIMIT 5000) AS _prismiq LIMIT 1001"#
    );
    assert_eq!(
        prepare("values (1)", &policy().with_max_rows(0)).sql,
        "SELECT * FROM (VALUES (1)) AS _prismiq LIMIT 1"
    );
}

// ---------------------------------------------------------------------------------------------
// Rewrite: row filters
// ---------------------------------------------------------------------------------------------

const FILTERED_ORDERS: &str =
    r#"(SELECT * FROM "acme"."orders" WHERE "acme"."orders"."tenant_id" = $1)"#;

#[test]
fn row_filters_reach_every_reference() {
    let policy = tenant_policy();
    let cases = [
        // FROM, without and with an alias.
        (
            "select id from orders",
            format!("SELECT id FROM {FILTERED_ORDERS} AS orders"),
        ),
        (
            "select o.id from orders o",
            format!("SELECT o.id FROM {FILTERED_ORDERS} o"),
        ),
        // JOIN.
        (
            "select * from customers c join orders o on o.customer_id = c.id",
            format!(
                r#"SELECT * FROM "acme"."customers" c JOIN {FILTERED_ORDERS} o ON o.customer_id = c.id"#
            ),
        ),
        // Subquery in WHERE.
        (
            "select * from customers where id in (select customer_id from orders)",
            format!(
                r#"SELECT * FROM "acme"."customers" WHERE id IN (SELECT customer_id FROM {FILTERED_ORDERS} AS orders)"#
            ),
        ),
        // CTE body.
        (
            "with recent as (select * from orders where total > 5) select * from recent",
            format!(
                "WITH recent AS (SELECT * FROM {FILTERED_ORDERS} AS orders WHERE total > 5) \
                 SELECT * FROM recent"
            ),
        ),
        // Set-operation branches.
        (
            "select id from customers union select id from orders",
            format!(
                r#"SELECT id FROM "acme"."customers" UNION SELECT id FROM {FILTERED_ORDERS} AS orders"#
            ),
        ),
        // LATERAL.
        (
            "select * from customers c, lateral (select * from orders o where o.customer_id = c.id) x",
            format!(
                r#"SELECT * FROM "acme"."customers" c, LATERAL (SELECT * FROM {FILTERED_ORDERS} o WHERE o.customer_id = c.id) x"#
            ),
        ),
        // Table sampling moves onto the base table.
        (
            "select * from orders o tablesample bernoulli (5)",
            r#"SELECT * FROM (SELECT * FROM "acme"."orders" TABLESAMPLE BERNOULLI (5) WHERE "acme"."orders"."tenant_id" = $1) o"#
                .to_owned(),
        ),
    ];
    for (sql, expected) in cases {
        let query = prepare(sql, &policy);
        assert_eq!(inner(&query), expected, "{sql}");
        assert_eq!(query.values.0, [text("t1")], "{sql}");
    }
}

#[test]
fn each_reference_binds_its_own_predicate_values() {
    let query = prepare(
        "select * from orders a join orders b on a.id = b.parent_id",
        &tenant_policy(),
    );
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM (SELECT * FROM "acme"."orders" WHERE "acme"."orders"."tenant_id" = $1) a JOIN (SELECT * FROM "acme"."orders" WHERE "acme"."orders"."tenant_id" = $2) b ON a.id = b.parent_id"#
    );
    assert_eq!(query.values.0, [text("t1"), text("t1")]);
}

#[test]
fn row_filter_lists_and_several_predicates() {
    let policy = policy()
        .with_row_filter("ORDERS", [RowPredicate::is_in("region", ["eu", "us"])])
        .with_row_filter("orders", [RowPredicate::eq("tenant_id", 7)])
        .with_row_filter(
            "customers",
            [RowPredicate::is_in("region", Vec::<String>::new())],
        );
    let query = prepare("select * from Orders, customers", &policy);
    // Keys naming the same table in different case all apply.
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM (SELECT * FROM "acme"."orders" WHERE "acme"."orders"."region" IN ($1, $2) AND "acme"."orders"."tenant_id" = $3) AS Orders, (SELECT * FROM "acme"."customers" WHERE false) AS customers"#
    );
    assert_eq!(
        query.values.0,
        [text("eu"), text("us"), Value::BigInt(Some(7))]
    );
}

#[test]
fn identifiers_from_the_policy_are_quoted() {
    let policy =
        SqlPolicy::new("we\"ird", ["t"]).with_row_filter("t", [RowPredicate::eq("col\"umn", "x")]);
    let query = prepare("select * from t", &policy);
    assert_eq!(
        query.sql,
        r#"SELECT * FROM (SELECT * FROM (SELECT * FROM "we""ird"."t" WHERE "we""ird"."t"."col""umn" = $1) AS t) AS _prismiq LIMIT 10001"#
    );
}

// ---------------------------------------------------------------------------------------------
// Rewrite: named parameters
// ---------------------------------------------------------------------------------------------

#[test]
fn named_parameters_are_numbered_by_first_appearance() {
    let query = prepare_sql(
        "select * from orders where status = :status and (total > :min or total < -:min) \
         and customer_id = :customer",
        &params(json!({"min": 10, "status": "paid", "customer": 7, "unused": true})),
        &[],
        &[],
        &policy(),
    )
    .unwrap();
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM "acme"."orders" WHERE status = $1 AND (total > $2 OR total < -$2) AND customer_id = $3"#
    );
    assert_eq!(
        query.values.0,
        [
            text("paid"),
            Value::BigInt(Some(10)),
            Value::BigInt(Some(7))
        ]
    );
}

#[test]
fn casts_and_string_literals_are_not_parameters() {
    let query = prepare_sql(
        "select id::text, ':status' as label, 'a:status' as other from orders \
         where status = :status::text",
        &params(json!({"status": "paid"})),
        &[],
        &[],
        &policy(),
    )
    .unwrap();
    assert_eq!(
        inner(&query),
        r#"SELECT id::TEXT, ':status' AS label, 'a:status' AS other FROM "acme"."orders" WHERE status = $1::TEXT"#
    );
    assert_eq!(query.values.0, [text("paid")]);
}

#[test]
fn missing_parameters_are_named() {
    let error = prepare_sql(
        "select * from orders where status = :status and total > :min and id = :id",
        &params(json!({"min": 1})),
        &[],
        &[],
        &policy(),
    )
    .unwrap_err();
    assert_eq!(
        error.errors,
        ["Missing parameter: id", "Missing parameter: status"]
    );
    assert_eq!(
        error.to_string(),
        "SQL validation failed: Missing parameter: id; Missing parameter: status"
    );
}

#[test]
fn parameter_values_keep_their_json_types() {
    let query = prepare_sql(
        "select :s, :i, :f, :b, :n, :o",
        &params(json!({
            "s": "text", "i": -3, "f": 2.5, "b": true, "n": null, "o": {"k": [1]}
        })),
        &[],
        &[],
        &policy(),
    )
    .unwrap();
    assert_eq!(inner(&query), "SELECT $1, $2, $3, $4, $5, $6");
    assert_eq!(
        query.values.0,
        [
            text("text"),
            Value::BigInt(Some(-3)),
            Value::Double(Some(2.5)),
            Value::Bool(Some(true)),
            Value::String(None),
            Value::Json(Some(Box::new(json!({"k": [1]})))),
        ]
    );
}

#[test]
fn list_parameters_expand_in_in_lists() {
    let policy = policy();
    let query = prepare_sql(
        "select * from orders where id in (:ids) and status not in (:none) and region in (:none)",
        &params(json!({"ids": [3, 4, 5], "none": []})),
        &[],
        &[],
        &policy,
    )
    .unwrap();
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM "acme"."orders" WHERE id IN ($1, $2, $3) AND true AND false"#
    );
    assert_eq!(
        query.values.0,
        [
            Value::BigInt(Some(3)),
            Value::BigInt(Some(4)),
            Value::BigInt(Some(5))
        ]
    );

    let error = prepare_sql(
        "select * from orders where id = any(:ids)",
        &params(json!({"ids": [1]})),
        &[],
        &[],
        &policy,
    )
    .unwrap_err();
    assert_eq!(
        error.errors,
        ["Parameter 'ids' is a list; a list can only be used as IN (:ids)"]
    );
}

#[test]
fn parameters_and_row_filters_share_one_numbering() {
    let query = prepare_sql(
        "select * from customers c where c.region = :region \
         and c.id in (select customer_id from orders where total > :min)",
        &params(json!({"region": "eu", "min": 5})),
        &[],
        &[],
        &tenant_policy(),
    )
    .unwrap();
    assert_eq!(
        inner(&query),
        format!(
            r#"SELECT * FROM "acme"."customers" c WHERE c.region = $1 AND c.id IN (SELECT customer_id FROM {} AS orders WHERE total > $3)"#,
            FILTERED_ORDERS.replace("$1", "$2")
        )
    );
    assert_eq!(
        query.values.0,
        [text("eu"), text("t1"), Value::BigInt(Some(5))]
    );
}

// ---------------------------------------------------------------------------------------------
// Rewrite: dashboard filters
// ---------------------------------------------------------------------------------------------

#[test]
fn each_filter_type_becomes_a_bound_condition() {
    let policy = policy();
    let cases: Vec<(DashboardFilter, Json, &str, Vec<Value>)> = vec![
        (
            filter("f", FilterType::Select, "status", None),
            json!("paid"),
            r#""status" = $1"#,
            vec![text("paid")],
        ),
        (
            filter("f", FilterType::Select, "flag", None),
            json!(false),
            r#""flag" = $1"#,
            vec![Value::Bool(Some(false))],
        ),
        (
            filter("f", FilterType::Select, "total", None),
            json!(0),
            r#""total" = $1"#,
            vec![Value::BigInt(Some(0))],
        ),
        (
            filter("f", FilterType::MultiSelect, "status", None),
            json!(["a", "b"]),
            r#""status" IN ($1, $2)"#,
            vec![text("a"), text("b")],
        ),
        (
            filter("f", FilterType::Text, "name", None),
            json!("smith"),
            r#""name" ILIKE $1 ESCAPE '\'"#,
            vec![text("%smith%")],
        ),
        (
            filter("f", FilterType::NumberRange, "total", None),
            json!({"min": 10, "max": 99.5}),
            r#""total" >= $1 AND "total" <= $2"#,
            vec![Value::BigInt(Some(10)), Value::Double(Some(99.5))],
        ),
        (
            filter("f", FilterType::NumberRange, "total", None),
            json!({"min": null, "max": 5}),
            r#""total" <= $1"#,
            vec![Value::BigInt(Some(5))],
        ),
        (
            filter("f", FilterType::DateRange, "created_at", None),
            json!({"start": "2024-01-01", "end": "2024-01-31"}),
            r#""created_at" >= $1 AND "created_at" < $2"#,
            vec![date("2024-01-01"), date("2024-02-01")],
        ),
        (
            filter("f", FilterType::DateRange, "created_at", None),
            json!({"start": "2024-01-01T00:00:00", "end": "2024-01-31T12:00:00Z"}),
            r#""created_at" >= $1 AND "created_at" <= $2"#,
            vec![
                Value::ChronoDateTime(Some("2024-01-01T00:00:00".parse().unwrap())),
                Value::ChronoDateTimeWithTimeZone(Some(
                    chrono::DateTime::parse_from_rfc3339("2024-01-31T12:00:00Z").unwrap(),
                )),
            ],
        ),
        (
            filter("f", FilterType::DateRange, "created_at", None),
            json!("last_7_days"),
            r#""created_at" >= $1 AND "created_at" < $2"#,
            vec![date("2024-06-09"), date("2024-06-16")],
        ),
        (
            filter("f", FilterType::DateRange, "created_at", None),
            json!({"preset": "last_month"}),
            r#""created_at" >= $1 AND "created_at" < $2"#,
            vec![date("2024-05-01"), date("2024-06-01")],
        ),
        (
            filter("f", FilterType::DateRange, "created_at", None),
            json!("all_time"),
            r#""created_at" < $1"#,
            vec![date("2024-06-16")],
        ),
    ];
    for (filter, chosen, condition, values) in cases {
        let query = with_filters(
            "select * from orders",
            std::slice::from_ref(&filter),
            &[value("f", chosen.clone())],
            &policy,
        );
        assert_eq!(
            inner(&query),
            format!(r#"SELECT * FROM "acme"."orders" WHERE {condition}"#),
            "{chosen}"
        );
        assert_eq!(query.values.0, values, "{chosen}");
    }
}

#[test]
fn filters_without_a_usable_value_are_skipped() {
    let policy = policy();
    let skipped = [
        (FilterType::Select, json!(null)),
        (FilterType::Select, json!("")),
        (FilterType::Select, json!(["a"])),
        (FilterType::MultiSelect, json!([])),
        (FilterType::MultiSelect, json!("a")),
        (FilterType::Text, json!("   ")),
        (FilterType::NumberRange, json!({})),
        (FilterType::NumberRange, json!(5)),
        (FilterType::DateRange, json!("next_decade")),
        (FilterType::DateRange, json!({"start": "2024-01-01"})),
        (
            FilterType::DateRange,
            json!({"start": "yesterday", "end": "2024-01-01"}),
        ),
    ];
    for (filter_type, chosen) in skipped {
        let mut with_default = filter("f", filter_type, "status", None);
        with_default.default_value = Some(json!("paid"));
        let query = with_filters(
            "select * from orders",
            &[with_default],
            &[value("f", chosen.clone())],
            &policy,
        );
        assert_eq!(
            inner(&query),
            r#"SELECT * FROM "acme"."orders""#,
            "{chosen}"
        );
        assert!(query.values.0.is_empty());
    }

    // No value for the filter: its default is not used on this path.
    let mut with_default = filter("f", FilterType::Select, "status", None);
    with_default.default_value = Some(json!("paid"));
    let query = with_filters(
        "select * from orders",
        &[with_default],
        &[value("other", json!("x"))],
        &policy,
    );
    assert_eq!(inner(&query), r#"SELECT * FROM "acme"."orders""#);
}

#[test]
fn an_existing_where_is_parenthesised() {
    let query = with_filters(
        "select * from orders o where o.status = 'a' or o.status = 'b' order by o.id limit 10",
        &[filter("f", FilterType::Select, "region", Some("orders"))],
        &[value("f", json!("eu"))],
        &policy(),
    );
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM "acme"."orders" o WHERE (o.status = 'a' OR o.status = 'b') AND "o"."region" = $1 ORDER BY o.id LIMIT 10"#
    );
}

#[test]
fn filters_with_a_table_go_to_the_one_item_that_reads_it() {
    let policy = policy();
    let status = [filter("f", FilterType::Select, "status", Some("orders"))];
    let paid = [value("f", json!("paid"))];
    let cases = [
        (
            "select * from orders",
            r#"SELECT * FROM "acme"."orders" WHERE "orders"."status" = $1"#,
        ),
        (
            "select * from customers c join ORDERS o on o.customer_id = c.id",
            r#"SELECT * FROM "acme"."customers" c JOIN "acme"."orders" o ON o.customer_id = c.id WHERE "o"."status" = $1"#,
        ),
        // Through a CTE, and a CTE built on another CTE.
        (
            "with c as (select * from orders) select * from c",
            r#"WITH c AS (SELECT * FROM "acme"."orders") SELECT * FROM c WHERE "c"."status" = $1"#,
        ),
        (
            "with a as (select id, status from orders), b as (select * from a) select * from b x",
            r#"WITH a AS (SELECT id, status FROM "acme"."orders"), b AS (SELECT * FROM a) SELECT * FROM b x WHERE "x"."status" = $1"#,
        ),
        // A derived table exposing the column, also under an alias.
        (
            "select * from customers c left join (select status, customer_id from orders) s \
             on s.customer_id = c.id",
            r#"SELECT * FROM "acme"."customers" c LEFT JOIN (SELECT status, customer_id FROM "acme"."orders") s ON s.customer_id = c.id WHERE "s"."status" = $1"#,
        ),
        (
            "select * from (select state as status from orders) s",
            r#"SELECT * FROM (SELECT state AS status FROM "acme"."orders") s WHERE "s"."status" = $1"#,
        ),
        // Not exposed under that name: skipped.
        (
            "select * from (select status as state from orders) s",
            r#"SELECT * FROM (SELECT status AS state FROM "acme"."orders") s"#,
        ),
        (
            "with c as (select id from orders) select * from c",
            r#"WITH c AS (SELECT id FROM "acme"."orders") SELECT * FROM c"#,
        ),
        // Ambiguous: the table is read twice.
        (
            "select * from orders a join orders b on a.id = b.parent_id",
            r#"SELECT * FROM "acme"."orders" a JOIN "acme"."orders" b ON a.id = b.parent_id"#,
        ),
        // Absent: no outer item reads the table.
        (
            "select * from customers where id in (select customer_id from orders)",
            r#"SELECT * FROM "acme"."customers" WHERE id IN (SELECT customer_id FROM "acme"."orders")"#,
        ),
    ];
    for (sql, expected) in cases {
        let query = with_filters(sql, &status, &paid, &policy);
        assert_eq!(inner(&query), expected, "{sql}");
    }
}

#[test]
fn set_operations_are_filtered_as_a_whole() {
    let policy = policy();
    let filters = [
        filter("s", FilterType::Select, "status", None),
        filter("r", FilterType::Select, "region", Some("customers")),
    ];
    let values = [value("s", json!("paid")), value("r", json!("eu"))];
    let query = with_filters(
        "select id, status, region from orders union select id, status, region from customers \
         order by id limit 5",
        &filters,
        &values,
        &policy,
    );
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM (SELECT id, status, region FROM "acme"."orders" UNION SELECT id, status, region FROM "acme"."customers") AS _q WHERE "status" = $1 AND "_q"."region" = $2 ORDER BY id LIMIT 5"#
    );
    assert_eq!(query.values.0, [text("paid"), text("eu")]);

    // With a WITH, which stays inside.
    let query = with_filters(
        "with c as (select id, status from orders) select * from c union all select 1, 'x'",
        &filters[..1],
        &values[..1],
        &policy,
    );
    assert_eq!(
        inner(&query),
        r#"SELECT * FROM (WITH c AS (SELECT id, status FROM "acme"."orders") SELECT * FROM c UNION ALL SELECT 1, 'x') AS _q WHERE "status" = $1"#
    );

    // No filter applies: no wrapper.
    let query = with_filters(
        "select id from orders union select id from customers",
        &filters[1..],
        &values[1..],
        &policy,
    );
    assert_eq!(
        inner(&query),
        r#"SELECT id FROM "acme"."orders" UNION SELECT id FROM "acme"."customers""#
    );
}

#[test]
fn filters_row_filters_and_parameters_together() {
    let query = prepare_sql(
        "select o.id from orders o where o.total > :min",
        &params(json!({"min": 5})),
        &[filter(
            "f",
            FilterType::MultiSelect,
            "status",
            Some("orders"),
        )],
        &[value("f", json!(["paid", "open"]))],
        &tenant_policy(),
    )
    .unwrap();
    assert_eq!(
        query.sql,
        format!(
            r#"SELECT * FROM (SELECT o.id FROM {FILTERED_ORDERS} o WHERE (o.total > $2) AND "o"."status" IN ($3, $4)) AS _prismiq LIMIT 101"#
        )
    );
    assert_eq!(
        query.values.0,
        [
            text("t1"),
            Value::BigInt(Some(5)),
            text("paid"),
            text("open")
        ]
    );
}

#[test]
fn validation_results_serialize_in_the_wire_shape() {
    let validation = validate_sql("select * from secrets", &policy());
    assert_eq!(
        serde_json::to_value(&validation).unwrap(),
        json!({
            "valid": false,
            "errors": ["Access denied to tables: secrets"],
            "tables": ["secrets"],
        })
    );
}

// ------------------------------------------------------------------------------- SQLite

fn sqlite_policy() -> SqlPolicy {
    policy().with_dialect(crate::Dialect::Sqlite)
}

#[test]
fn sqlite_refuses_what_could_reach_outside_the_callers_file() {
    let refused = [
        ("ATTACH DATABASE '/tmp/other.db' AS other", "not allowed"),
        ("DETACH DATABASE other", ""),
        ("PRAGMA query_only = OFF", ""),
        ("PRAGMA query_only = 0", "not allowed"),
        ("PRAGMA table_info(orders)", ""),
        ("VACUUM INTO '/tmp/copy.db'", ""),
        ("SELECT load_extension('/tmp/evil.so')", "load_extension"),
        ("SELECT readfile('/etc/passwd')", "readfile"),
        ("SELECT writefile('/tmp/x', 'y')", "writefile"),
        ("SELECT fts3_tokenizer('simple')", "fts3_tokenizer"),
        ("SELECT sqlite_version()", "sqlite_version"),
        ("SELECT * FROM sqlite_master", "Access denied"),
        ("SELECT * FROM sqlite_schema", "Access denied"),
        ("SELECT * FROM main.sqlite_master", "Access denied"),
        ("SELECT * FROM temp.orders", "schema \"temp\""),
        ("SELECT * FROM other.orders", "schema \"other\""),
        (
            "SELECT * FROM pragma_table_info('orders')",
            "pragma_table_info",
        ),
        (
            "SELECT date_trunc('day', order_date) FROM orders",
            "date_trunc",
        ),
        (
            "WITH x AS (SELECT 1) INSERT INTO orders (id) SELECT * FROM x",
            "not allowed",
        ),
        ("DELETE FROM orders", "not allowed"),
        ("SELECT * FROM orders WHERE id = ?", ""),
        ("SELECT * FROM orders WHERE id = ?1", ""),
        ("SELECT * FROM orders WHERE id = @id", ""),
        ("SELECT * FROM orders WHERE id = $id", ""),
    ];
    for (sql, expected) in refused {
        let check = validate_sql(sql, &sqlite_policy());
        assert!(!check.valid, "{sql} was accepted");
        assert!(
            check.errors.iter().any(|e| e.contains(expected)),
            "{sql}: {:?}",
            check.errors
        );
    }
}

#[test]
fn sqlite_statements_are_parsed_and_rewritten_for_sqlite() {
    let accepted = [
        "SELECT strftime('%Y-%m', order_date) AS month, total(total_amount) FROM orders GROUP BY 1",
        "SELECT o.id, j.value FROM orders AS o, json_each('[1,2]') AS j",
        "SELECT group_concat(status, ',') FROM main.orders",
        "SELECT iif(total_amount > 10, 'big', 'small') FROM orders",
    ];
    for sql in accepted {
        let check = validate_sql(sql, &sqlite_policy());
        assert!(check.valid, "{sql}: {:?}", check.errors);
    }
    let policy = sqlite_policy().with_row_filter("orders", [RowPredicate::eq("tenant_id", "t1")]);
    let mut given = Map::new();
    given.insert("status".into(), json!("paid"));
    let query = prepare_sql(
        "SELECT id FROM orders WHERE status = :status",
        &given,
        &[],
        &[],
        &policy,
    )
    .unwrap();
    assert_eq!(
        query.sql,
        r#"SELECT * FROM (SELECT id FROM (SELECT * FROM "main"."orders" WHERE "main"."orders"."tenant_id" = $1) AS orders WHERE status = $2) AS _prismiq LIMIT 101"#
    );
    assert_eq!(query.values.0, [text("t1"), text("paid")]);
}
