//! `SqliteDataSource` on real database files: introspection, value conversion, the row cap,
//! read-only execution, timeouts and cancellation, and the per-tenant directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prismiq_core::{
    CompiledQuery, DataSource, Dialect, ExecutionContext, QueryResult, Relationship, SourceError,
};
use prismiq_store_sqlite::SqliteDataSource;
use prismiq_store_sqlite::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use prismiq_store_sqlite::sqlx::{self, Connection};
use sea_query::Value;
use serde_json::json;

const DATA: &str = "
create table customers (
    id     integer primary key,
    name   varchar(100) not null,
    region text,
    tier   default 'basic'
);
create table orders (
    id          integer primary key,
    customer_id integer not null references customers (id),
    order_date  date not null,
    created_at  timestamp,
    total       decimal(10,2),
    paid        boolean,
    properties  json,
    receipt     blob
);
create table order_notes (
    order_id integer not null,
    line     integer not null,
    body     text,
    primary key (order_id, line),
    foreign key (order_id) references Orders
) without rowid;
create view customer_totals as
    select c.name as name, sum(o.total) as total
    from customers c join orders o on o.customer_id = c.id
    group by c.name;
insert into customers (id, name, region) values (1, 'Ada', 'North'), (2, 'Grace', null);
insert into orders values
    (1, 1, '2024-01-05', '2024-01-05 10:00:00', 12.5, 1, '{\"source\": \"web\", \"tags\": [1, 2]}', x'00ff10'),
    (2, 1, '2024-02-01', '2024-02-01 08:30:00.250', 100, 0, 'not json', null),
    (3, 2, '2024-03-10', null, null, null, null, null);
insert into order_notes values (1, 1, 'fragile');
";

/// prismiq's store tables in the same file, as `SqliteStore::migrate` leaves them.
const STORE: &str = "
create table _prismiq_migrations (version integer primary key);
create table dashboards (tenant_id text, id text primary key);
create table pins (tenant_id text, id text primary key);
create table dashboard_defaults (tenant_id text, user_id text, dashboard_id text);
create table starter_dashboards (tenant_id text, user_id text, primary key (tenant_id, user_id));
create table templates (tenant_id text, id text primary key, name text);
create table shares (tenant_id text, id text primary key, token_hash text unique);
create table prismiq_cache (key text primary key);
";

/// A directory of its own per test, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "prismiq-sqlite-source-{name}-{}-{}",
            std::process::id(),
            prismiq_core::DashboardId::new()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Creates the database file `path` with `script`, through a writable connection of its own.
async fn create(path: &Path, script: &str) {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(script.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn data_file(dir: &TempDir) -> PathBuf {
    let path = dir.file("data.db");
    create(&path, &format!("{DATA}{STORE}")).await;
    path
}

/// Counts rows through a writable connection of its own, apart from the source.
async fn count(path: &Path, table: &str) -> i64 {
    let options = SqliteConnectOptions::new().filename(path);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

fn context(schema: &str) -> ExecutionContext {
    ExecutionContext::new(schema, "t1", Duration::from_secs(10), 1000)
}

fn sql(text: &str) -> CompiledQuery {
    CompiledQuery {
        sql: text.to_owned(),
        values: sea_query::Values(Vec::new()),
    }
}

fn with_values(text: &str, values: Vec<Value>) -> CompiledQuery {
    CompiledQuery {
        sql: text.to_owned(),
        values: sea_query::Values(values),
    }
}

async fn run(source: &SqliteDataSource, query: &CompiledQuery) -> QueryResult {
    source
        .execute(&context("public"), query)
        .await
        .unwrap_or_else(|e| panic!("{} failed: {e:?}", query.sql))
}

/// A recursive count to a billion: runs for minutes unless stopped.
const LONG: &str = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000000000) \
                    select count(*) from n";

#[tokio::test]
async fn introspection_lists_tables_views_keys_and_lowercased_types() {
    let dir = TempDir::new("introspect");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let schema = source.introspect("public").await.unwrap();

    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["customer_totals", "customers", "order_notes", "orders"],
        "sorted by name; sqlite_ and prismiq's tables left out"
    );
    assert!(schema.tables.iter().all(|t| t.schema_name == "public"));

    let customers = schema.table("customers").unwrap();
    assert_eq!(customers.row_count, Some(2));
    let id = customers.column("id").unwrap();
    assert_eq!(id.data_type, "integer");
    assert!(id.is_primary_key);
    assert!(!id.is_nullable, "an INTEGER PRIMARY KEY is the rowid");
    let name = customers.column("name").unwrap();
    assert_eq!(
        (
            name.data_type.as_str(),
            name.is_nullable,
            name.is_primary_key
        ),
        ("varchar(100)", false, false)
    );
    assert!(customers.column("region").unwrap().is_nullable);
    let tier = customers.column("tier").unwrap();
    assert_eq!(tier.data_type, "blob", "no declared type: BLOB affinity");
    assert_eq!(tier.default_value.as_deref(), Some("'basic'"));

    let orders = schema.table("orders").unwrap();
    let types: Vec<(&str, &str)> = orders
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", "integer"),
            ("customer_id", "integer"),
            ("order_date", "date"),
            ("created_at", "timestamp"),
            ("total", "decimal(10,2)"),
            ("paid", "boolean"),
            ("properties", "json"),
            ("receipt", "blob"),
        ]
    );
    assert!(orders.column("total").unwrap().is_numeric());
    assert!(orders.column("created_at").unwrap().is_temporal());
    assert_eq!(orders.row_count, Some(3));

    let notes = schema.table("order_notes").unwrap();
    let keys: Vec<(&str, bool, bool)> = notes
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.is_primary_key, c.is_nullable))
        .collect();
    assert_eq!(
        keys,
        [
            ("order_id", true, false),
            ("line", true, false),
            ("body", false, true)
        ]
    );

    let view = schema.table("customer_totals").unwrap();
    assert_eq!(view.row_count, None, "views have no row estimate");
    assert_eq!(
        view.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["name", "total"]
    );

    let relationship =
        |from_table: &str, from_column: &str, to_table: &str, to_column: &str| Relationship {
            from_table: from_table.to_owned(),
            from_column: from_column.to_owned(),
            to_table: to_table.to_owned(),
            to_column: to_column.to_owned(),
        };
    assert_eq!(
        schema.relationships,
        [
            // `references Orders` without columns: the parent's primary key, its name as
            // the table spells it.
            relationship("order_notes", "order_id", "orders", "id"),
            relationship("orders", "customer_id", "customers", "id"),
        ]
    );
}

#[tokio::test]
async fn exposed_tables_limit_introspection_but_never_show_prismiq_tables() {
    let dir = TempDir::new("exposed");
    let source = SqliteDataSource::open(data_file(&dir).await)
        .await
        .unwrap()
        .with_exposed_tables([
            "orders",
            "dashboards",
            "pins",
            "dashboard_defaults",
            "starter_dashboards",
            "templates",
            "shares",
            "_prismiq_migrations",
            "prismiq_cache",
        ]);
    let schema = source.introspect("main").await.unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["orders"]);
    assert!(
        schema.relationships.is_empty(),
        "customers is not exposed, so neither is the key to it"
    );

    // Without prismiq's store in the file, a host table may be called `dashboards`.
    let plain = dir.file("plain.db");
    create(&plain, "create table dashboards (id integer primary key);").await;
    let source = SqliteDataSource::open(&plain).await.unwrap();
    let schema = source.introspect("public").await.unwrap();
    assert_eq!(schema.tables.len(), 1);
    assert_eq!(schema.tables[0].name, "dashboards");
}

#[tokio::test]
async fn row_estimates_come_from_sqlite_stat1_when_analyzed() {
    let dir = TempDir::new("stat1");
    let path = dir.file("stats.db");
    create(
        &path,
        "create table t (id integer primary key, v text);
         create index t_v on t (v);
         insert into t (v) select 'x' from (select 1 union all select 2 union all select 3);
         analyze;
         insert into t (v) values ('not counted by analyze');",
    )
    .await;
    let source = SqliteDataSource::open(&path).await.unwrap();
    let schema = source.introspect("public").await.unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t"], "sqlite_stat1 is not listed");
    assert_eq!(
        schema.tables[0].row_count,
        Some(3),
        "the estimate, not count(*)"
    );
}

#[tokio::test]
async fn execute_converts_values_and_reports_types() {
    let dir = TempDir::new("values");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    assert_eq!(source.dialect(), Dialect::Sqlite);
    let result = run(
        &source,
        &sql(
            "select id, customer_id, order_date, created_at, total, paid, properties, receipt \
              from orders order by id",
        ),
    )
    .await;
    assert_eq!(
        result.columns,
        [
            "id",
            "customer_id",
            "order_date",
            "created_at",
            "total",
            "paid",
            "properties",
            "receipt"
        ]
    );
    assert_eq!(
        result.column_types,
        [
            "integer", "integer", "date", "datetime", "real", "boolean", "text", "blob"
        ],
        "sqlx's names; DECIMAL and JSON columns get their first value's storage class"
    );
    assert_eq!(
        result.rows,
        [
            vec![
                json!(1),
                json!(1),
                json!("2024-01-05"),
                json!("2024-01-05T10:00:00"),
                json!(12.5),
                json!(true),
                json!({"source": "web", "tags": [1, 2]}),
                json!("00ff10"),
            ],
            vec![
                json!(2),
                json!(1),
                json!("2024-02-01"),
                json!("2024-02-01T08:30:00.250000"),
                json!(100),
                json!(false),
                json!("not json"),
                json!(null),
            ],
            vec![
                json!(3),
                json!(2),
                json!("2024-03-10"),
                json!(null),
                json!(null),
                json!(null),
                json!(null),
                json!(null),
            ],
        ]
    );
    assert_eq!(result.row_count, 3);
    assert!(!result.truncated);

    // Through a view the declared types still count; expressions go by storage class.
    let result = run(
        &source,
        &sql(
            "select name, total, 1.5 * 2 as doubled, null as empty, 'x' || name as tagged \
              from customer_totals order by name",
        ),
    )
    .await;
    assert_eq!(
        result.column_types,
        ["text", "real", "real", "null", "text"]
    );
    assert_eq!(
        result.rows,
        [
            vec![
                json!("Ada"),
                json!(112.5),
                json!(3.0),
                json!(null),
                json!("xAda")
            ],
            vec![
                json!("Grace"),
                json!(null),
                json!(3.0),
                json!(null),
                json!("xGrace")
            ],
        ]
    );
}

#[tokio::test]
async fn parameters_bind_as_sqlite_stores_them() {
    let dir = TempDir::new("bind");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2024, 1, 5).unwrap();
    let values = vec![
        Value::Bool(Some(true)),
        Value::TinyInt(Some(-3)),
        Value::Int(Some(7)),
        Value::BigUnsigned(Some(9)),
        Value::Float(Some(0.5)),
        Value::Double(Some(2.25)),
        Value::String(Some("text".to_owned())),
        Value::Char(Some('c')),
        Value::Bytes(Some(vec![1, 171])),
        Value::ChronoDate(Some(at)),
        Value::ChronoTime(Some(
            chrono::NaiveTime::from_hms_milli_opt(8, 30, 0, 500).unwrap(),
        )),
        Value::ChronoDateTime(Some(at.and_hms_opt(10, 0, 0).unwrap())),
        Value::ChronoDateTimeUtc(Some(
            chrono::DateTime::parse_from_rfc3339("2024-01-05T12:00:00+02:00")
                .unwrap()
                .to_utc(),
        )),
        Value::Json(Some(Box::new(json!({"a": 1})))),
        Value::Uuid(Some(
            uuid::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap(),
        )),
        Value::Int(None),
        Value::String(None),
    ];
    let placeholders = vec!["?"; values.len()].join(", ");
    let result = run(
        &source,
        &with_values(&format!("select {placeholders}"), values),
    )
    .await;
    assert_eq!(
        result.rows[0],
        [
            json!(1),
            json!(-3),
            json!(7),
            json!(9),
            json!(0.5),
            json!(2.25),
            json!("text"),
            json!("c"),
            json!("01ab"),
            json!("2024-01-05"),
            json!("08:30:00.500"),
            json!("2024-01-05 10:00:00"),
            json!("2024-01-05 10:00:00"),
            json!("{\"a\":1}"),
            json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            json!(null),
            json!(null),
        ]
    );

    // Bound dates compare with stored text; `?NNN` placeholders bind by number.
    let result = run(
        &source,
        &with_values(
            "select id from orders where order_date >= ?2 and created_at < ?1 order by id",
            vec![
                Value::ChronoDateTime(Some(at.and_hms_opt(10, 0, 1).unwrap())),
                Value::ChronoDate(Some(at)),
            ],
        ),
    )
    .await;
    assert_eq!(result.rows, [vec![json!(1)]]);
}

#[tokio::test]
async fn like_is_case_sensitive() {
    let dir = TempDir::new("like");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let result = run(&source, &sql("select 'Ada' like 'ada', 'Ada' like 'A%'")).await;
    assert_eq!(result.rows, [vec![json!(0), json!(1)]]);
}

#[tokio::test]
async fn the_row_cap_truncates_and_says_so() {
    let dir = TempDir::new("cap");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let query = sql(
        "with recursive n(i) as (select 1 union all select i + 1 from n where i < 10) \
                     select i from n",
    );
    let capped = source
        .execute(
            &ExecutionContext::new("public", "t1", Duration::from_secs(10), 3),
            &query,
        )
        .await
        .unwrap();
    assert_eq!(
        capped.rows,
        [vec![json!(1)], vec![json!(2)], vec![json!(3)]]
    );
    assert_eq!(capped.row_count, 3);
    assert!(capped.truncated);

    let exact = source
        .execute(
            &ExecutionContext::new("public", "t1", Duration::from_secs(10), 10),
            &query,
        )
        .await
        .unwrap();
    assert_eq!(exact.row_count, 10);
    assert!(!exact.truncated);

    // Reading fewer rows than a statement yields leaves the connection ready for the next.
    let again = run(&source, &sql("select count(*) from orders")).await;
    assert_eq!(again.rows, [vec![json!(3)]]);
}

#[tokio::test]
async fn an_empty_result_keeps_its_column_names() {
    let dir = TempDir::new("empty");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let result = run(
        &source,
        &sql("select id, name as customer, 1 + 1 as two from customers where id < 0"),
    )
    .await;
    assert_eq!(result.columns, ["id", "customer", "two"]);
    assert_eq!(result.column_types, ["integer", "text", "null"]);
    assert!(result.rows.is_empty());
    assert_eq!(result.row_count, 0);
    assert!(!result.truncated);
}

#[tokio::test]
async fn statements_that_write_are_refused() {
    let dir = TempDir::new("writes");
    let path = data_file(&dir).await;
    let source = SqliteDataSource::open(&path).await.unwrap();
    for statement in [
        "insert into customers (id, name) values (3, 'Linus')",
        "with x as (select 3 as id, 'Linus' as name) insert into customers select * from x",
        "with x as (select 1) delete from customers",
        "delete from customers",
        "update customers set name = 'x'",
        "select 1; delete from customers",
        "pragma query_only = off",
        "create table extra (id integer)",
        "vacuum",
    ] {
        let result = source.execute(&context("public"), &sql(statement)).await;
        assert!(
            matches!(result, Err(SourceError::Rejected(_))),
            "{statement}: {result:?}"
        );
    }
    let result = source
        .execute(
            &context("public"),
            &sql(
                "with x as (select 3 as id, 'Linus' as name) insert into customers (id, name) \
                  select id, name from x",
            ),
        )
        .await;
    match result {
        Err(SourceError::Rejected(message)) => assert!(message.contains("readonly"), "{message}"),
        other => panic!("a write through a CTE: {other:?}"),
    }
    assert_eq!(count(&path, "customers").await, 2, "nothing was written");
    assert!(
        !dir.file("extra.db").exists()
            && count(&path, "sqlite_schema where name = 'extra'").await == 0
    );
}

#[tokio::test]
async fn attach_and_load_extension_are_refused() {
    let dir = TempDir::new("attach");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let other = dir.file("other.db");
    create(
        &other,
        "create table secrets (v text); insert into secrets values ('s');",
    )
    .await;
    let attach = format!("attach database '{}' as other", other.display());
    for statement in [
        attach.clone(),
        format!("select 1; {attach}"),
        format!("/* x */ {attach}; select * from other.secrets"),
    ] {
        let result = source.execute(&context("public"), &sql(&statement)).await;
        assert!(
            matches!(result, Err(SourceError::Rejected(_))),
            "{statement}: {result:?}"
        );
    }
    let result = source
        .execute(&context("public"), &sql("select * from other.secrets"))
        .await;
    assert!(
        matches!(result, Err(SourceError::Rejected(_))),
        "{result:?}"
    );

    let result = source
        .execute(&context("public"), &sql("select load_extension('x')"))
        .await;
    match result {
        Err(SourceError::Rejected(message)) => {
            assert!(message.contains("not authorized"), "{message}")
        }
        other => panic!("load_extension: {other:?}"),
    }
}

#[tokio::test]
async fn errors_about_the_statement_are_rejections_with_sqlites_message() {
    let dir = TempDir::new("errors");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    for (statement, expected) in [
        ("select * from nowhere", "no such table: nowhere"),
        (
            "select missing_column from orders",
            "no such column: missing_column",
        ),
        ("select from", "syntax error"),
    ] {
        match source.execute(&context("public"), &sql(statement)).await {
            Err(SourceError::Rejected(message)) => {
                assert!(message.contains(expected), "{statement}: {message}")
            }
            other => panic!("{statement}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_long_statement_times_out() {
    let dir = TempDir::new("timeout");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    let started = Instant::now();
    let result = source
        .execute(
            &ExecutionContext::new("public", "t1", Duration::from_millis(200), 10),
            &sql(LONG),
        )
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(SourceError::Timeout(t)) if t == Duration::from_millis(200)),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");

    // The connection is usable again, without a deadline left over.
    let result = run(&source, &sql("select count(*) from orders")).await;
    assert_eq!(result.rows, [vec![json!(3)]]);
}

#[tokio::test]
async fn dropping_execute_interrupts_the_statement() {
    let dir = TempDir::new("cancel");
    let path = data_file(&dir).await;
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteDataSource::options(&path))
        .await
        .unwrap();
    let source = SqliteDataSource::new(pool);
    let long = ExecutionContext::new("public", "t1", Duration::from_secs(60), 10);
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        source.execute(&long, &sql(LONG)),
    )
    .await;
    assert!(abandoned.is_err(), "the statement was still running");

    // The pool's one connection comes back promptly, interrupted, and works.
    let started = Instant::now();
    let next = tokio::time::timeout(
        Duration::from_secs(2),
        source.execute(&context("public"), &sql("select count(*) from customers")),
    )
    .await
    .expect("the abandoned statement was interrupted")
    .unwrap();
    assert_eq!(next.rows, [vec![json!(2)]]);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // And a full query afterwards runs to its end: no interrupt left on the connection.
    let counted = run(
        &source,
        &sql(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 200000) \
              select count(*) from n",
        ),
    )
    .await;
    assert_eq!(counted.rows, [vec![json!(200000)]]);
}

#[tokio::test]
async fn one_file_answers_to_public_and_main_only() {
    let dir = TempDir::new("single");
    let source = SqliteDataSource::open(data_file(&dir).await).await.unwrap();
    assert!(source.schema_exists("public").await.unwrap());
    assert!(source.schema_exists("main").await.unwrap());
    assert!(!source.schema_exists("acme").await.unwrap());
    assert!(!source.schema_exists("temp").await.unwrap());
    assert_eq!(source.introspect("acme").await.unwrap().tables.len(), 0);
    match source.execute(&context("acme"), &sql("select 1")).await {
        Err(SourceError::Rejected(message)) => assert!(message.contains("unknown schema")),
        other => panic!("{other:?}"),
    }
    assert!(
        source
            .execute(&context("main"), &sql("select 1"))
            .await
            .is_ok()
    );
    source.ping().await.unwrap();
}

#[tokio::test]
async fn opening_a_missing_file_fails_and_creates_nothing() {
    let dir = TempDir::new("missing");
    let path = dir.file("nothing.db");
    let error = SqliteDataSource::open(&path).await.unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
    assert!(!path.exists());
}

#[tokio::test]
async fn per_tenant_directory_maps_schemas_to_files() {
    let dir = TempDir::new("tenants");
    create(
        &dir.file("acme.db"),
        "create table orders (id integer primary key, who text); \
         insert into orders values (1, 'acme');",
    )
    .await;
    create(
        &dir.file("globex-2.db"),
        "create table orders (id integer primary key, who text); \
         create table extra (id integer); \
         insert into orders values (1, 'globex'), (2, 'globex');",
    )
    .await;
    create(&dir.file("outside.db"), "create table secrets (v text);").await;
    std::fs::create_dir(dir.file("sub")).unwrap();
    create(&dir.file("sub/inner.db"), "create table t (v text);").await;
    let source = SqliteDataSource::per_tenant_directory(&dir.0).with_max_connections_per_file(2);

    assert!(source.schema_exists("acme").await.unwrap());
    assert!(source.schema_exists("globex-2").await.unwrap());
    for name in [
        "missing",
        "public",
        "../outside",
        "sub/inner",
        "acme.db",
        "",
        "..",
        "a b",
    ] {
        assert!(!source.schema_exists(name).await.unwrap(), "{name}");
        assert!(
            source.introspect(name).await.unwrap().tables.is_empty(),
            "{name}"
        );
        let result = source.execute(&context(name), &sql("select 1")).await;
        assert!(
            matches!(result, Err(SourceError::Rejected(_))),
            "{name}: {result:?}"
        );
    }
    assert!(!dir.file("missing.db").exists(), "no file is created");
    assert!(!dir.file("public.db").exists());

    let acme = source.introspect("acme").await.unwrap();
    assert_eq!(acme.tables.len(), 1);
    assert_eq!(acme.tables[0].schema_name, "acme");
    let globex = source.introspect("globex-2").await.unwrap();
    assert_eq!(
        globex
            .tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["extra", "orders"]
    );

    let query = sql("select who, count(*) as n from orders group by who");
    let acme = source.execute(&context("acme"), &query).await.unwrap();
    assert_eq!(acme.rows, [vec![json!("acme"), json!(1)]]);
    let globex = source.execute(&context("globex-2"), &query).await.unwrap();
    assert_eq!(globex.rows, [vec![json!("globex"), json!(2)]]);

    // A file that appears later is found; each tenant's file stays read-only.
    create(
        &dir.file("late.db"),
        "create table orders (id integer primary key, who text);",
    )
    .await;
    assert!(source.schema_exists("late").await.unwrap());
    let write = source
        .execute(
            &context("late"),
            &sql("with x as (select 1 as id, 'x' as who) insert into orders select * from x"),
        )
        .await;
    assert!(matches!(write, Err(SourceError::Rejected(_))), "{write:?}");
    assert_eq!(count(&dir.file("late.db"), "orders").await, 0);

    source.ping().await.unwrap();
    let gone = SqliteDataSource::per_tenant_directory(dir.file("no-such-dir"));
    assert!(matches!(
        gone.ping().await,
        Err(SourceError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_wal_database_is_read_while_a_writer_has_it_open() {
    let dir = TempDir::new("wal");
    let path = dir.file("wal.db");
    create(
        &path,
        "pragma journal_mode = wal; create table t (id integer primary key);",
    )
    .await;
    // The last connection closed: no -wal or -shm file is left for the reader.
    let source = SqliteDataSource::open(&path).await.unwrap();
    let result = run(&source, &sql("select count(*) from t")).await;
    assert_eq!(result.rows, [vec![json!(0)]]);

    let options = SqliteConnectOptions::new().filename(&path);
    let mut writer = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    sqlx::query("insert into t (id) values (1), (2)")
        .execute(&mut writer)
        .await
        .unwrap();
    let result = run(&source, &sql("select count(*) from t")).await;
    assert_eq!(
        result.rows,
        [vec![json!(2)]],
        "the reader sees committed writes"
    );
    writer.close().await.unwrap();
}
