//! Golden-SQL, validation and property tests of the query engine.
//!
//! Long on purpose: a corpus of golden SQL, a section per clause, kept together so gaps show.

use chrono::{NaiveDate, NaiveDateTime};
use pretty_assertions::assert_eq;
use proptest::prelude::*;
use sea_query::Value as V;
use serde_json::{Value, json};

use super::testing::{arbitrary_query, sample_schema};
use super::*;
use crate::row_filter::RowPredicate;
use crate::schema::{ColumnSchema, DatabaseSchema, SchemaConfig, TableConfig, TableSchema};

fn schema() -> DatabaseSchema {
    let mut schema = sample_schema();
    let column = |name: &str, data_type: &str| ColumnSchema {
        name: name.to_owned(),
        data_type: data_type.to_owned(),
        is_nullable: true,
        is_primary_key: false,
        default_value: None,
    };
    schema.tables.push(TableSchema {
        name: "deals".to_owned(),
        schema_name: "public".to_owned(),
        columns: vec![
            column("id", "integer"),
            column("amount", "numeric"),
            column("is_won", "boolean"),
            column("closed_at", "timestamp with time zone"),
            column("owner", "uuid"),
            column("stage", "USER-DEFINED"),
            column("tenant_id", "character varying"),
        ],
        row_count: None,
    });
    schema
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 15).unwrap()
}

fn date(s: &str) -> V {
    V::ChronoDate(Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()))
}

fn datetime(s: &str) -> V {
    V::ChronoDateTime(Some(
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
    ))
}

fn text(s: &str) -> V {
    V::String(Some(s.to_owned()))
}

fn int(i: i64) -> V {
    V::BigInt(Some(i))
}

fn def(value: Value) -> QueryDefinition {
    serde_json::from_value(value).expect("a valid query definition")
}

fn options() -> CompileOptions {
    CompileOptions::default().with_today(today())
}

fn compile_with(query: Value, options: &CompileOptions) -> Result<(String, Vec<V>), QueryError> {
    let compiled = compile(&def(query), &schema(), options)?;
    Ok((compiled.query.sql, compiled.query.values.0))
}

fn sql(query: Value) -> (String, Vec<V>) {
    compile_with(query, &options()).expect("compiles")
}

fn error(query: Value) -> String {
    compile_with(query, &options()).unwrap_err().to_string()
}

/// A query on `orders` (id `t1`) selecting `id`, with one filter.
fn orders_filter(column: &str, operator: &str, value: Value) -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "filters": [{"table_id": "t1", "column": column, "operator": operator, "value": value}]
    })
}

fn filter_sql(table: &str, column: &str, operator: &str, value: Value) -> (String, Vec<V>) {
    let (sql, values) = sql(json!({
        "tables": [{"id": "t1", "name": table}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "filters": [{"table_id": "t1", "column": column, "operator": operator, "value": value}]
    }));
    let prefix = format!(r#"SELECT "{table}"."id" FROM "{table}" WHERE "#);
    (
        sql.strip_prefix(&prefix)
            .expect("a WHERE clause")
            .to_owned(),
        values,
    )
}

// ------------------------------------------------------------------------------- SELECT

#[test]
fn select_list_with_aliases_and_aggregations() {
    let (sql, values) = sql(json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o"}],
        "columns": [
            {"table_id": "t1", "column": "status", "alias": "Order \"Status\""},
            {"table_id": "t1", "column": "total_amount", "aggregation": "sum"},
            {"table_id": "t1", "column": "total_amount", "aggregation": "avg", "alias": "avg"},
            {"table_id": "t1", "column": "id", "aggregation": "count"},
            {"table_id": "t1", "column": "customer_id", "aggregation": "count_distinct"},
            {"table_id": "t1", "column": "order_date", "aggregation": "min"},
            {"table_id": "t1", "column": "order_date", "aggregation": "max"},
            {"table_id": "t1", "column": "*", "aggregation": "count"}
        ]
    }));
    assert_eq!(
        sql,
        r#"SELECT "o"."status" AS "Order ""Status""", SUM("o"."total_amount"), AVG("o"."total_amount") AS "avg", COUNT("o"."id"), COUNT(DISTINCT "o"."customer_id"), MIN("o"."order_date"), MAX("o"."order_date"), COUNT(*) FROM "orders" AS "o" GROUP BY "o"."status""#
    );
    assert!(values.is_empty());
}

#[test]
fn date_trunc_columns_are_grouped_truncated() {
    let (sql, _) = sql(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [
            {"table_id": "t1", "column": "order_date", "date_trunc": "month", "alias": "month"},
            {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}
        ],
        "order_by": [{"table_id": "t1", "column": "order_date", "direction": "DESC"}]
    }));
    assert_eq!(
        sql,
        r#"SELECT date_trunc('month', "orders"."order_date") AS "month", SUM("orders"."total_amount") FROM "orders" GROUP BY date_trunc('month', "orders"."order_date") ORDER BY date_trunc('month', "orders"."order_date") DESC"#
    );
}

#[test]
fn a_column_selected_twice_groups_by_its_plain_selection() {
    let (sql, _) = sql(json!({
        "tables": [{"id": "t1", "name": "customers"}],
        "columns": [
            {"table_id": "t1", "column": "created_at", "aggregation": "max", "date_trunc": "week"},
            {"table_id": "t1", "column": "created_at", "date_trunc": "month"}
        ],
        "group_by": []
    }));
    assert_eq!(
        sql,
        r#"SELECT MAX(date_trunc('week', "customers"."created_at")), date_trunc('month', "customers"."created_at") FROM "customers" GROUP BY date_trunc('month', "customers"."created_at")"#
    );
}

#[test]
fn star_needs_count_and_columns_must_exist() {
    let mut query = orders_filter("status", "is_null", Value::Null);
    query["columns"] = json!([{"table_id": "t1", "column": "*"}]);
    assert_eq!(
        error(query),
        "Column '*' can only be selected with the count aggregation"
    );
    let mut query = orders_filter("status", "is_null", Value::Null);
    query["columns"] = json!([{"table_id": "t1", "column": "id\"; DROP TABLE orders; --"}]);
    assert_eq!(
        error(query),
        "Column 'id\"; DROP TABLE orders; --' not found in table 'orders'"
    );
    let mut query = orders_filter("status", "is_null", Value::Null);
    query["tables"] = json!([{"id": "t1", "name": "prismiq_dashboards"}]);
    assert_eq!(
        error(query),
        "Table 'prismiq_dashboards' not found in schema"
    );
}

// ------------------------------------------------------------------------------- filters

#[test]
fn comparison_operators() {
    let cases = [
        (
            "eq",
            json!("paid"),
            r#""orders"."status" = $1"#,
            vec![text("paid")],
        ),
        (
            "neq",
            json!("paid"),
            r#""orders"."status" <> $1"#,
            vec![text("paid")],
        ),
        ("eq", Value::Null, r#""orders"."status" IS NULL"#, vec![]),
        (
            "neq",
            Value::Null,
            r#""orders"."status" IS NOT NULL"#,
            vec![],
        ),
        (
            "gt",
            json!("m"),
            r#""orders"."status" > $1"#,
            vec![text("m")],
        ),
        (
            "gte",
            json!("m"),
            r#""orders"."status" >= $1"#,
            vec![text("m")],
        ),
        (
            "lt",
            json!("m"),
            r#""orders"."status" < $1"#,
            vec![text("m")],
        ),
        (
            "lte",
            json!("m"),
            r#""orders"."status" <= $1"#,
            vec![text("m")],
        ),
        (
            "is_null",
            json!("ignored"),
            r#""orders"."status" IS NULL"#,
            vec![],
        ),
        (
            "is_not_null",
            Value::Null,
            r#""orders"."status" IS NOT NULL"#,
            vec![],
        ),
    ];
    for (operator, value, expected, values) in cases {
        assert_eq!(
            filter_sql("orders", "status", operator, value),
            (expected.to_owned(), values),
            "{operator}"
        );
    }
}

#[test]
fn list_operators() {
    let cases = [
        (
            "in_",
            json!(["a", "b"]),
            r#""orders"."status" IN ($1, $2)"#,
            vec![text("a"), text("b")],
        ),
        ("in_", json!([]), "FALSE", vec![]),
        (
            "in_",
            json!("a"),
            r#""orders"."status" IN ($1)"#,
            vec![text("a")],
        ),
        (
            "not_in",
            json!(["a", "b"]),
            r#""orders"."status" NOT IN ($1, $2)"#,
            vec![text("a"), text("b")],
        ),
        ("not_in", json!([]), "TRUE", vec![]),
        (
            "not_in",
            json!("a"),
            r#""orders"."status" NOT IN ($1)"#,
            vec![text("a")],
        ),
        (
            "in_or_null",
            json!(["a", null]),
            r#""orders"."status" IN ($1) OR "orders"."status" IS NULL"#,
            vec![text("a")],
        ),
        (
            "in_or_null",
            json!([null]),
            r#""orders"."status" IS NULL"#,
            vec![],
        ),
        (
            "in_or_null",
            Value::Null,
            r#""orders"."status" IS NULL"#,
            vec![],
        ),
        (
            "in_or_null",
            json!("a"),
            r#""orders"."status" IN ($1) OR "orders"."status" IS NULL"#,
            vec![text("a")],
        ),
    ];
    for (operator, value, expected, values) in cases {
        assert_eq!(
            filter_sql("orders", "status", operator, value.clone()),
            (expected.to_owned(), values),
            "{operator} {value}"
        );
    }
}

#[test]
fn or_conditions_are_parenthesised_among_others() {
    let mut query = orders_filter("status", "in_or_null", json!(["a"]));
    query["filters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"table_id": "t1", "column": "order_date", "operator": "not_date_relative", "value": 3}));
    assert_eq!(
        sql(query).0,
        r#"SELECT "orders"."id" FROM "orders" WHERE ("orders"."status" IN ($1) OR "orders"."status" IS NULL) AND ("orders"."order_date" < $2 OR "orders"."order_date" > $3)"#
    );
}

#[test]
fn values_bind_with_the_column_type() {
    assert_eq!(
        filter_sql("orders", "customer_id", "in_", json!([1, "2"])),
        (
            r#""orders"."customer_id" IN ($1, $2)"#.to_owned(),
            vec![int(1), int(2)]
        )
    );
    assert_eq!(
        filter_sql("orders", "total_amount", "gt", json!(10)),
        (
            r#""orders"."total_amount" > $1"#.to_owned(),
            vec![V::Double(Some(10.0))]
        )
    );
    assert_eq!(
        filter_sql("deals", "is_won", "eq", json!(true)),
        (
            r#""deals"."is_won" = $1"#.to_owned(),
            vec![V::Bool(Some(true))]
        )
    );
    let owner = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    assert_eq!(
        filter_sql("deals", "owner", "eq", json!(owner)),
        (
            r#""deals"."owner" = $1"#.to_owned(),
            vec![V::Uuid(Some(owner.parse().unwrap()))]
        )
    );
    // A type without a natural binding is compared as text (and selected as it is).
    assert_eq!(
        filter_sql("deals", "stage", "in_", json!(["won"])),
        (
            r#"CAST("deals"."stage" AS text) IN ($1)"#.to_owned(),
            vec![text("won")]
        )
    );
    let (select, _) = sql(json!({
        "tables": [{"id": "t1", "name": "deals"}],
        "columns": [{"table_id": "t1", "column": "stage"}],
        "filters": [{"table_id": "t1", "column": "stage", "operator": "neq", "value": "lost"}],
        "order_by": [{"table_id": "t1", "column": "stage"}]
    }));
    assert_eq!(
        select,
        r#"SELECT "deals"."stage" FROM "deals" WHERE CAST("deals"."stage" AS text) <> $1 ORDER BY "deals"."stage" ASC"#
    );
    assert_eq!(
        error(orders_filter("customer_id", "eq", json!("abc"))),
        "Column 'customer_id' is numeric but received non-numeric value 'abc'"
    );
}

#[test]
fn pattern_operators() {
    let cases = [
        ("like", r#""customers"."name" LIKE $1"#),
        ("ilike", r#""customers"."name" ILIKE $1"#),
        ("not_like", r#""customers"."name" NOT LIKE $1"#),
        ("not_ilike", r#""customers"."name" NOT ILIKE $1"#),
    ];
    for (operator, expected) in cases {
        assert_eq!(
            filter_sql("customers", "name", operator, json!("%ann%")),
            (expected.to_owned(), vec![text("%ann%")])
        );
    }
    // On a non-text column the column is compared as text.
    assert_eq!(
        filter_sql("customers", "id", "like", json!("1%")),
        (
            r#"CAST("customers"."id" AS text) LIKE $1"#.to_owned(),
            vec![text("1%")]
        )
    );
}

#[test]
fn between() {
    assert_eq!(
        filter_sql("orders", "total_amount", "between", json!([10, 20.5])),
        (
            r#""orders"."total_amount" BETWEEN $1 AND $2"#.to_owned(),
            vec![V::Double(Some(10.0)), V::Double(Some(20.5))]
        )
    );
    assert_eq!(
        error(orders_filter("total_amount", "between", json!([1, 2, 3]))),
        "BETWEEN filter on column 'total_amount' requires exactly 2 values, got 3 values"
    );
    assert_eq!(
        error(orders_filter("total_amount", "between", json!(5))),
        "BETWEEN filter on column 'total_amount' requires exactly 2 values, got a number"
    );
    // A date-only upper bound on a timestamp column includes that whole day.
    assert_eq!(
        filter_sql(
            "customers",
            "created_at",
            "between",
            json!(["2024-01-01", "2024-01-31"])
        ),
        (
            r#""customers"."created_at" >= $1 AND "customers"."created_at" < $2"#.to_owned(),
            vec![
                datetime("2024-01-01 00:00:00"),
                datetime("2024-02-01 00:00:00")
            ]
        )
    );
}

#[test]
fn dates_are_coerced_by_column_type() {
    // date column: a datetime string binds its date
    assert_eq!(
        filter_sql("orders", "order_date", "gte", json!("2024-01-01T10:30:00")),
        (
            r#""orders"."order_date" >= $1"#.to_owned(),
            vec![date("2024-01-01")]
        )
    );
    // timestamp column: a date-only end bound covers the whole day
    assert_eq!(
        filter_sql("customers", "created_at", "lte", json!("2024-01-31")),
        (
            r#""customers"."created_at" < $1"#.to_owned(),
            vec![datetime("2024-02-01 00:00:00")]
        )
    );
    assert_eq!(
        filter_sql("customers", "created_at", "gt", json!("2024-01-31")),
        (
            r#""customers"."created_at" >= $1"#.to_owned(),
            vec![datetime("2024-02-01 00:00:00")]
        )
    );
    assert_eq!(
        filter_sql(
            "customers",
            "created_at",
            "lte",
            json!("2024-01-31 12:00:00")
        ),
        (
            r#""customers"."created_at" <= $1"#.to_owned(),
            vec![datetime("2024-01-31 12:00:00")]
        )
    );
    assert_eq!(
        filter_sql("customers", "created_at", "gte", json!("2024-01-01")),
        (
            r#""customers"."created_at" >= $1"#.to_owned(),
            vec![datetime("2024-01-01 00:00:00")]
        )
    );
    // timestamptz with an offset binds UTC
    let (sql, values) = filter_sql(
        "deals",
        "closed_at",
        "gte",
        json!("2024-01-01T02:00:00+02:00"),
    );
    assert_eq!(sql, r#""deals"."closed_at" >= $1"#);
    assert_eq!(values[0].to_string(), "'2024-01-01 00:00:00.000000 +00:00'");
    assert_eq!(
        error(orders_filter("order_date", "eq", json!("01/02/2024"))),
        "Invalid date value: '01/02/2024'. Expected ISO format (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)."
    );
}

#[test]
fn relative_date_operators() {
    // date column: BETWEEN two dates
    assert_eq!(
        filter_sql("orders", "order_date", "date_relative", json!(-30)),
        (
            r#""orders"."order_date" BETWEEN $1 AND $2"#.to_owned(),
            vec![date("2024-05-16"), date("2024-06-15")]
        )
    );
    assert_eq!(
        filter_sql("orders", "order_date", "date_relative", json!(30)),
        (
            r#""orders"."order_date" BETWEEN $1 AND $2"#.to_owned(),
            vec![date("2024-06-15"), date("2024-07-15")]
        )
    );
    assert_eq!(
        filter_sql("orders", "order_date", "date_relative", Value::Null),
        (
            r#""orders"."order_date" BETWEEN $1 AND $2"#.to_owned(),
            vec![date("2024-06-15"), date("2024-06-15")]
        )
    );
    assert_eq!(
        filter_sql("orders", "order_date", "not_date_relative", json!(-7)),
        (
            r#""orders"."order_date" < $1 OR "orders"."order_date" > $2"#.to_owned(),
            vec![date("2024-06-08"), date("2024-06-15")]
        )
    );
    // timestamp column: half-open range covering whole days
    assert_eq!(
        filter_sql("customers", "created_at", "date_relative", json!(-1)),
        (
            r#""customers"."created_at" >= $1 AND "customers"."created_at" < $2"#.to_owned(),
            vec![
                datetime("2024-06-14 00:00:00"),
                datetime("2024-06-16 00:00:00")
            ]
        )
    );
    assert_eq!(
        filter_sql("customers", "created_at", "not_date_relative", json!(0)),
        (
            r#""customers"."created_at" < $1 OR "customers"."created_at" >= $2"#.to_owned(),
            vec![
                datetime("2024-06-15 00:00:00"),
                datetime("2024-06-16 00:00:00")
            ]
        )
    );
    assert_eq!(
        error(orders_filter("status", "date_relative", json!(-3))),
        "Operator 'date_relative' needs a date or timestamp column, and 'status' is not one"
    );
    assert_eq!(
        error(orders_filter("order_date", "date_relative", json!("soon"))),
        "date_relative filter on column 'order_date' needs a whole number of days"
    );
}

#[test]
fn date_window_honours_the_fiscal_year() {
    let window = |value: Value, fiscal: u8| {
        let options = options().with_fiscal_year_start_month(fiscal);
        compile_with(orders_filter("order_date", "date_window", value), &options)
            .map(|(_, values)| values)
    };
    assert_eq!(
        window(json!({"period": "yearly", "value": 0}), 1).unwrap(),
        vec![date("2024-01-01"), date("2024-06-15")]
    );
    assert_eq!(
        window(json!({"period": "quarterly", "value": -1}), 4).unwrap(),
        vec![date("2024-01-01"), date("2024-03-31")]
    );
    assert_eq!(
        window(json!({}), 1).unwrap(),
        vec![date("2024-04-01"), date("2024-06-30")],
        "quarterly and offset 0 by default"
    );
    assert_eq!(
        window(json!({"period": "monthly"}), 1)
            .unwrap_err()
            .to_string(),
        "Unknown date_window period: 'monthly'. Expected 'quarterly' or 'yearly'."
    );
    assert!(
        window(json!(3), 1)
            .unwrap_err()
            .to_string()
            .starts_with("date_window filter on column 'order_date' needs an object value")
    );
}

#[test]
fn in_subquery_is_never_compiled() {
    let mut query = def(orders_filter("id", "eq", json!(1)));
    query.filters[0].operator = FilterOperator::InSubquery;
    query.filters[0].value = json!({"sql": "SELECT 1"});
    let err = compile(&query, &schema(), &options()).unwrap_err();
    assert!(matches!(err, QueryError::Unsupported(_)), "{err}");
}

// ------------------------------------------------------------------------------- joins

fn orders_customers(join_type: &str, filters: Value) -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id", "join_type": join_type}],
        "columns": [{"table_id": "t1", "column": "id"}, {"table_id": "t2", "column": "name"}],
        "filters": filters
    })
}

#[test]
fn join_types_and_outer_join_filter_placement() {
    let filters = json!([
        {"table_id": "t2", "column": "region", "operator": "eq", "value": "East"},
        {"table_id": "t1", "column": "status", "operator": "eq", "value": "paid"}
    ]);
    assert_eq!(
        sql(orders_customers("INNER", filters.clone())),
        (
            r#"SELECT "orders"."id", "customers"."name" FROM "orders" INNER JOIN "customers" ON "orders"."customer_id" = "customers"."id" WHERE "customers"."region" = $1 AND "orders"."status" = $2"#.to_owned(),
            vec![text("East"), text("paid")]
        )
    );
    assert_eq!(
        sql(orders_customers("LEFT", filters.clone())),
        (
            r#"SELECT "orders"."id", "customers"."name" FROM "orders" LEFT JOIN "customers" ON "orders"."customer_id" = "customers"."id" AND "customers"."region" = $1 WHERE "orders"."status" = $2"#.to_owned(),
            vec![text("East"), text("paid")]
        )
    );
    assert_eq!(
        sql(orders_customers("RIGHT", filters.clone())).0,
        r#"SELECT "orders"."id", "customers"."name" FROM "orders" RIGHT JOIN "customers" ON "orders"."customer_id" = "customers"."id" AND "orders"."status" = $1 WHERE "customers"."region" = $2"#
    );
    assert_eq!(
        sql(orders_customers("FULL", filters)).0,
        r#"SELECT "orders"."id", "customers"."name" FROM "orders" FULL OUTER JOIN "customers" ON "orders"."customer_id" = "customers"."id" AND "customers"."region" = $1 AND "orders"."status" = $2"#
    );
}

#[test]
fn unjoined_tables_are_cross_joined_and_schemas_qualify_tables() {
    let query = json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers", "alias": "c"},
                   {"id": "t3", "name": "products", "alias": "p"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id"}],
        "columns": [{"table_id": "t1", "column": "id"}, {"table_id": "t2", "column": "email"},
                    {"table_id": "t3", "column": "name"}]
    });
    assert_eq!(
        compile_with(query, &options().with_schema_name("org\"123"))
            .unwrap()
            .0,
        r#"SELECT "orders"."id", "c"."email", "p"."name" FROM "org""123"."orders" INNER JOIN "org""123"."customers" AS "c" ON "orders"."customer_id" = "c"."id" CROSS JOIN "org""123"."products" AS "p""#
    );
}

#[test]
fn negations_on_directly_joined_tables_become_anti_joins() {
    let neq = json!([{"table_id": "t2", "column": "name", "operator": "neq", "value": "Ann"}]);
    assert_eq!(
        sql(orders_customers("INNER", neq)),
        (
            r#"SELECT "orders"."id", "customers"."name" FROM "orders" INNER JOIN "customers" ON "orders"."customer_id" = "customers"."id" WHERE "orders"."customer_id" NOT IN (SELECT "id" FROM "customers" WHERE "name" = $1 AND "id" IS NOT NULL)"#.to_owned(),
            vec![text("Ann")]
        )
    );
    let cases = [
        (
            json!({"operator": "neq", "value": null}),
            r#""name" IS NULL"#,
        ),
        (
            json!({"operator": "not_in", "value": ["a", "b"]}),
            r#""name" IN ($1, $2)"#,
        ),
        (json!({"operator": "not_in", "value": []}), "TRUE"),
        (
            json!({"operator": "not_in", "value": "a"}),
            r#""name" IN ($1)"#,
        ),
    ];
    for (filter, inner) in cases {
        let mut filter = filter;
        filter["table_id"] = json!("t2");
        filter["column"] = json!("name");
        let (sql, _) = sql(orders_customers("RIGHT", json!([filter])));
        assert!(
            sql.ends_with(&format!(
                r#"WHERE "orders"."customer_id" NOT IN (SELECT "id" FROM "customers" WHERE {inner} AND "id" IS NOT NULL)"#
            )),
            "{sql}"
        );
    }
    // Two hops from the base table: an ordinary condition.
    let query = json!({
        "tables": [{"id": "t1", "name": "order_items"}, {"id": "t2", "name": "orders"},
                   {"id": "t3", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "order_id", "to_table_id": "t2", "to_column": "id"},
                  {"from_table_id": "t2", "from_column": "customer_id", "to_table_id": "t3", "to_column": "id"}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "filters": [{"table_id": "t3", "column": "region", "operator": "neq", "value": "East"}]
    });
    assert!(
        sql(query)
            .0
            .ends_with(r#"WHERE "customers"."region" <> $1"#)
    );
}

// ------------------------------------------------------------------------------- grouping

#[test]
fn grouping_follows_the_aggregations() {
    let base = |extra: Value| {
        let mut query = json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "status"}, {"table_id": "t1", "column": "customer_id"}]
        });
        for (key, value) in extra.as_object().unwrap() {
            query[key] = value.clone();
        }
        sql(query).0
    };
    // nothing aggregated: no GROUP BY, even with an explicit one
    assert_eq!(
        base(json!({"group_by": [{"table_id": "t1", "column": "status"}]})),
        r#"SELECT "orders"."status", "orders"."customer_id" FROM "orders""#
    );
    assert_eq!(
        base(
            json!({"columns": [{"table_id": "t1", "column": "status"}, {"table_id": "t1", "column": "customer_id"},
                                {"table_id": "t1", "column": "total_amount", "aggregation": "max"}],
                    "group_by": [{"table_id": "t1", "column": "status"}, {"table_id": "t1", "column": "customer_id"}]})
        ),
        r#"SELECT "orders"."status", "orders"."customer_id", MAX("orders"."total_amount") FROM "orders" GROUP BY "orders"."status", "orders"."customer_id""#
    );
}

#[test]
fn time_series_buckets() {
    let query = |columns: Value, order_by: Value| {
        json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": columns,
            "order_by": order_by,
            "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "Week"}
        })
    };
    assert_eq!(
        sql(query(
            json!([{"table_id": "t1", "column": "status"}, {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]),
            json!([])
        ))
        .0,
        r#"SELECT date_trunc('week', "orders"."order_date") AS "order_date_bucket", "orders"."status", SUM("orders"."total_amount") FROM "orders" GROUP BY date_trunc('week', "orders"."order_date"), "orders"."status" ORDER BY date_trunc('week', "orders"."order_date") ASC"#
    );
    // nothing aggregated: no GROUP BY at all
    assert_eq!(
        sql(query(
            json!([{"table_id": "t1", "column": "status"}]),
            json!([])
        ))
        .0,
        r#"SELECT date_trunc('week', "orders"."order_date") AS "order_date_bucket", "orders"."status" FROM "orders" ORDER BY date_trunc('week', "orders"."order_date") ASC"#
    );
    // explicit ORDER BY: the bucket is not added; ordering by the date column orders by the bucket
    assert_eq!(
        sql(query(
            json!([{"table_id": "t1", "column": "id", "aggregation": "count"}]),
            json!([{"table_id": "t1", "column": "order_date", "direction": "DESC"}])
        ))
        .0,
        r#"SELECT date_trunc('week', "orders"."order_date") AS "order_date_bucket", COUNT("orders"."id") FROM "orders" GROUP BY date_trunc('week', "orders"."order_date") ORDER BY date_trunc('week', "orders"."order_date") DESC"#
    );
}

#[test]
fn ordering_by_an_aggregated_column_orders_by_the_aggregate() {
    let query = json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "status"},
                    {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}],
        "order_by": [{"table_id": "t1", "column": "total_amount", "direction": "DESC"},
                     {"table_id": "t1", "column": "status"}]
    });
    assert_eq!(
        sql(query).0,
        r#"SELECT "orders"."status", SUM("orders"."total_amount") FROM "orders" GROUP BY "orders"."status" ORDER BY SUM("orders"."total_amount") DESC, "orders"."status" ASC"#
    );
    let invalid = json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}],
        "order_by": [{"table_id": "t1", "column": "order_date"}]
    });
    assert!(error(invalid).starts_with("Cannot order by 'order_date'"));
}

#[test]
fn ordering_by_a_calculated_field_uses_its_selected_expression() {
    let fields = json!([{"name": "double", "expression": "[total_amount] * 2"}]);
    let (sql, _) = sql(with_calculated(
        json!([{"table_id": "t2", "column": "region"},
               {"table_id": "t1", "column": "double", "aggregation": "max"}]),
        json!([]),
        fields.clone(),
    ));
    let mut query = with_calculated(
        json!([{"table_id": "t2", "column": "region"},
               {"table_id": "t1", "column": "double", "aggregation": "max"}]),
        json!([]),
        fields,
    );
    query["order_by"] = json!([{"table_id": "t2", "column": "double", "direction": "DESC"}]);
    let (ordered, _) = self::sql(query);
    assert_eq!(
        ordered,
        format!(r#"{sql} ORDER BY MAX("o"."total_amount" * 2) DESC"#)
    );
}

// ------------------------------------------------------------------------------- paging

#[test]
fn limit_offset_and_the_row_cap() {
    let query = |limit: Value| {
        let mut q = orders_filter("status", "eq", json!("a"));
        q["limit"] = limit;
        q["offset"] = json!(0);
        q
    };
    let (text_sql, values) = sql(query(json!(5)));
    assert!(
        text_sql.ends_with(r#"WHERE "orders"."status" = $1 LIMIT $2 OFFSET $3"#),
        "{text_sql}"
    );
    assert_eq!(
        values[1..],
        [V::BigUnsigned(Some(5)), V::BigUnsigned(Some(0))]
    );

    let capped = options().with_max_rows(100);
    let run = |limit: Value| {
        let compiled = compile(&def(query(limit)), &schema(), &capped).unwrap();
        (compiled.query.values.0[1].clone(), compiled.capped)
    };
    assert_eq!(run(Value::Null), (V::BigUnsigned(Some(101)), true));
    assert_eq!(run(json!(500)), (V::BigUnsigned(Some(101)), true));
    assert_eq!(run(json!(100)), (V::BigUnsigned(Some(100)), false));
    assert_eq!(run(json!(0)), (V::BigUnsigned(Some(0)), false));
}

// ------------------------------------------------------------------------------- calculated fields

fn with_calculated(columns: Value, filters: Value, fields: Value) -> Value {
    json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id", "join_type": "LEFT"}],
        "columns": columns,
        "filters": filters,
        "calculated_fields": fields
    })
}

#[test]
fn calculated_fields_resolve_columns_and_each_other() {
    let fields = json!([
        {"name": "net", "expression": "[total_amount] * 0.8"},
        {"name": "big", "expression": "if([net] > 100, \"big\", \"small\")"},
        {"name": "who", "expression": "concatenate([customers.name], \" <\", [email], \">\")"}
    ]);
    let (sql, values) = sql(with_calculated(
        json!([{"table_id": "t2", "column": "big"}, {"table_id": "t1", "column": "net", "aggregation": "sum", "alias": "Net"},
               {"table_id": "t1", "column": "who"}]),
        json!([{"table_id": "t2", "column": "net", "operator": "gt", "value": 5}]),
        fields,
    ));
    assert_eq!(
        sql,
        r#"SELECT (CASE WHEN ("o"."total_amount" * 0.8 > 100) THEN 'big' ELSE 'small' END), SUM("o"."total_amount" * 0.8) AS "Net", ("customers"."name" || ' <' || "customers"."email" || '>') FROM "orders" AS "o" LEFT JOIN "customers" ON "o"."customer_id" = "customers"."id" WHERE "o"."total_amount" * 0.8 > $1 GROUP BY (CASE WHEN ("o"."total_amount" * 0.8 > 100) THEN 'big' ELSE 'small' END), ("customers"."name" || ' <' || "customers"."email" || '>')"#
    );
    assert_eq!(
        values,
        vec![int(5)],
        "literals are inline, filter values bound"
    );
}

#[test]
fn aggregating_calculated_fields_are_not_grouped() {
    let (sql, _) = sql(with_calculated(
        json!([{"table_id": "t2", "column": "region"}, {"table_id": "t1", "column": "avg_order"}]),
        json!([]),
        json!([{"name": "avg_order", "expression": "sum([total_amount]) / count([id])"}]),
    ));
    assert_eq!(
        sql,
        r#"SELECT "customers"."region", SUM("o"."total_amount") / COUNT("o"."id") FROM "orders" AS "o" LEFT JOIN "customers" ON "o"."customer_id" = "customers"."id" GROUP BY "customers"."region""#
    );
}

#[test]
fn calculated_field_errors() {
    let run = |expression: &str| {
        error(with_calculated(
            json!([{"table_id": "t1", "column": "f"}]),
            json!([]),
            json!([{"name": "f", "expression": expression}]),
        ))
    };
    assert_eq!(
        run("[total_amount] +"),
        "Failed to parse calculated field 'f': Unexpected end of expression. Expression: '[total_amount] +'"
    );
    assert!(run("pg_sleep(10)").starts_with("Calculated field 'f': Unknown function 'pg_sleep'"));
    assert_eq!(
        run("[nope] * 2"),
        "Calculated field 'f': Unknown field '[nope]': not a column of the query's tables or a calculated field"
    );
    let cycle = error(with_calculated(
        json!([{"table_id": "t1", "column": "a"}]),
        json!([]),
        json!([{"name": "a", "expression": "[b] + 1"}, {"name": "b", "expression": "[a] * 2"}]),
    ));
    assert_eq!(cycle, "Circular dependency detected in calculated field: a");
}

// ------------------------------------------------------------------------------- row filters

fn tenant(table: &str) -> CompileOptions {
    options().with_row_filter(table, [RowPredicate::eq("region", "East")])
}

#[test]
fn row_filters_reach_the_base_table() {
    let (sql, values) =
        compile_with(orders_customers("INNER", json!([])), &tenant("customers")).unwrap();
    assert_eq!(
        sql,
        r#"SELECT "orders"."id", "customers"."name" FROM "orders" INNER JOIN (SELECT * FROM "customers" WHERE "region" = $1) AS "customers" ON "orders"."customer_id" = "customers"."id""#
    );
    assert_eq!(values, vec![text("East")]);
    let query = json!({"tables": [{"id": "t1", "name": "customers", "alias": "c"}],
                       "columns": [{"table_id": "t1", "column": "name"}],
                       "filters": [{"table_id": "t1", "column": "tier", "operator": "eq", "value": "gold"}]});
    assert_eq!(
        compile_with(query, &tenant("customers").with_schema_name("public")).unwrap(),
        (
            r#"SELECT "c"."name" FROM (SELECT * FROM "public"."customers" WHERE "region" = $1) AS "c" WHERE "c"."tier" = $2"#.to_owned(),
            vec![text("East"), text("gold")]
        )
    );
}

#[test]
fn row_filters_restrict_outer_joined_tables_without_dropping_rows() {
    for (join, keyword) in [
        ("LEFT", "LEFT JOIN"),
        ("RIGHT", "RIGHT JOIN"),
        ("FULL", "FULL OUTER JOIN"),
    ] {
        let (sql, _) =
            compile_with(orders_customers(join, json!([])), &tenant("customers")).unwrap();
        assert_eq!(
            sql,
            format!(
                r#"SELECT "orders"."id", "customers"."name" FROM "orders" {keyword} (SELECT * FROM "customers" WHERE "region" = $1) AS "customers" ON "orders"."customer_id" = "customers"."id""#
            )
        );
    }
    // Every table with predicates, each reference restricted, parameters in text order.
    let options = options()
        .with_row_filter("orders", [RowPredicate::is_in("status", ["a", "b"])])
        .with_row_filter(
            "customers",
            [
                RowPredicate::eq("tier", "gold"),
                RowPredicate::eq("region", "East"),
            ],
        );
    let filters = json!([{"table_id": "t2", "column": "name", "operator": "neq", "value": "Ann"}]);
    let (sql, values) = compile_with(orders_customers("INNER", filters), &options).unwrap();
    assert_eq!(
        sql,
        r#"SELECT "orders"."id", "customers"."name" FROM (SELECT * FROM "orders" WHERE "status" IN ($1, $2)) AS "orders" INNER JOIN (SELECT * FROM "customers" WHERE "tier" = $3 AND "region" = $4) AS "customers" ON "orders"."customer_id" = "customers"."id" WHERE "orders"."customer_id" NOT IN (SELECT "id" FROM "customers" WHERE "name" = $5 AND "id" IS NOT NULL AND "tier" = $6 AND "region" = $7)"#
    );
    assert_eq!(
        values,
        vec![
            text("a"),
            text("b"),
            text("gold"),
            text("East"),
            text("Ann"),
            text("gold"),
            text("East")
        ]
    );
}

#[test]
fn row_filters_fail_closed() {
    let options = options().with_row_filter("orders", [RowPredicate::eq("tenant_id", "acme")]);
    let err = compile_with(orders_filter("id", "eq", json!(1)), &options).unwrap_err();
    assert_eq!(
        err,
        QueryError::RowFilter {
            table: "orders".to_owned(),
            column: "tenant_id".to_owned()
        }
    );
    assert!(!err.is_client_error());
    let none = options.with_row_filter(
        "customers",
        [RowPredicate::is_in("region", Vec::<String>::new())],
    );
    let query = json!({"tables": [{"id": "t1", "name": "customers"}], "columns": [{"table_id": "t1", "column": "id"}]});
    assert_eq!(
        compile_with(query, &none).unwrap().0,
        r#"SELECT "customers"."id" FROM (SELECT * FROM "customers" WHERE FALSE) AS "customers""#
    );
}

// ------------------------------------------------------------------------------- injection

#[test]
fn identifiers_from_the_wire_are_quoted_or_refused() {
    let query = json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o\"; DROP TABLE orders; --"}],
        "columns": [{"table_id": "t1", "column": "id", "alias": "x\" FROM pg_user; --"}],
        "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "day",
                        "alias": "b\"--"}
    });
    let (sql, values) = sql(query);
    assert_eq!(
        sql,
        r#"SELECT date_trunc('day', "o""; DROP TABLE orders; --"."order_date") AS "b""--", "o""; DROP TABLE orders; --"."id" AS "x"" FROM pg_user; --" FROM "orders" AS "o""; DROP TABLE orders; --" ORDER BY date_trunc('day', "o""; DROP TABLE orders; --"."order_date") ASC"#
    );
    assert!(values.is_empty());
    // Names not in the schema never reach SQL.
    let mut bad_table = orders_filter("id", "eq", json!(1));
    bad_table["tables"][0]["name"] = json!("orders\"; DROP TABLE orders; --");
    assert!(error(bad_table).starts_with("Table 'orders\"; DROP TABLE orders; --' not found"));
    let bad_filter = orders_filter("status = status OR 1=1 --", "eq", json!(1));
    assert!(error(bad_filter).starts_with("Column 'status = status OR 1=1 --' not found"));
    // date_trunc units and intervals are whitelisted at the wire.
    let mut bad_unit = orders_filter("id", "eq", json!(1));
    bad_unit["columns"][0]["date_trunc"] = json!("day', now()) --");
    assert!(serde_json::from_value::<QueryDefinition>(bad_unit).is_err());
}

#[test]
fn values_from_the_wire_are_always_bound() {
    let attack = "x'); DROP TABLE orders; --";
    for operator in [
        "eq",
        "neq",
        "gt",
        "lte",
        "like",
        "ilike",
        "not_like",
        "not_ilike",
    ] {
        let (sql, values) = filter_sql("orders", "status", operator, json!(attack));
        assert!(!sql.contains("DROP"), "{operator}: {sql}");
        assert_eq!(values, vec![text(attack)]);
    }
    for operator in ["in_", "not_in", "in_or_null", "between"] {
        let (sql, values) = filter_sql("orders", "status", operator, json!([attack, attack]));
        assert!(!sql.contains("DROP"), "{operator}: {sql}");
        assert!(values.contains(&text(attack)));
    }
}

// ------------------------------------------------------------------------------- a whole query

#[test]
fn dashboard_query_golden() {
    let query = json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o"}, {"id": "t2", "name": "customers", "alias": "c"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id"}],
        "columns": [
            {"table_id": "t2", "column": "region", "alias": "Region"},
            {"table_id": "t1", "column": "total_amount", "aggregation": "sum", "alias": "Revenue"},
            {"table_id": "t1", "column": "id", "aggregation": "count_distinct", "alias": "Orders"}
        ],
        "filters": [
            {"table_id": "t1", "column": "status", "operator": "eq", "value": "completed"},
            {"table_id": "t1", "column": "order_date", "operator": "date_window", "value": {"period": "yearly", "value": -1}},
            {"table_id": "t2", "column": "tier", "operator": "in_", "value": ["gold", "silver"]},
            {"table_id": "t1", "column": "total_amount", "operator": "gte", "value": 10},
            {"table_id": "t2", "column": "email", "operator": "not_ilike", "value": "%@test.org"}
        ],
        "order_by": [{"table_id": "t1", "column": "total_amount", "direction": "DESC"}],
        "limit": 10
    });
    let options = options().with_schema_name("public").with_max_rows(1000);
    let (sql, values) = compile_with(query, &options).unwrap();
    assert_eq!(
        sql,
        r#"SELECT "c"."region" AS "Region", SUM("o"."total_amount") AS "Revenue", COUNT(DISTINCT "o"."id") AS "Orders" FROM "public"."orders" AS "o" INNER JOIN "public"."customers" AS "c" ON "o"."customer_id" = "c"."id" WHERE "o"."status" = $1 AND ("o"."order_date" BETWEEN $2 AND $3) AND "c"."tier" IN ($4, $5) AND "o"."total_amount" >= $6 AND ("c"."email" NOT ILIKE $7) GROUP BY "c"."region" ORDER BY SUM("o"."total_amount") DESC LIMIT $8"#
    );
    assert_eq!(
        values,
        vec![
            text("completed"),
            date("2023-01-01"),
            date("2023-12-31"),
            text("gold"),
            text("silver"),
            V::Double(Some(10.0)),
            text("%@test.org"),
            V::BigUnsigned(Some(10)),
        ]
    );
}

// ------------------------------------------------------------------------------- validation

fn validated(query: Value) -> Vec<(String, String, Option<String>, Option<String>)> {
    validate(&def(query), &schema())
        .errors
        .into_iter()
        .map(|e| (e.code.to_string(), e.message, e.field, e.suggestion))
        .collect()
}

fn err(
    code: &str,
    message: &str,
    field: &str,
    suggestion: Option<&str>,
) -> (String, String, Option<String>, Option<String>) {
    (
        code.to_owned(),
        message.to_owned(),
        Some(field.to_owned()),
        suggestion.map(str::to_owned),
    )
}

#[test]
fn validation_reports_unknown_tables_and_columns_with_suggestions() {
    let query = json!({
        "tables": [{"id": "t1", "name": "order"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "x", "to_table_id": "t2", "to_column": "idd"}],
        "columns": [
            {"table_id": "t1", "column": "whatever"},
            {"table_id": "t2", "column": "emails"},
            {"table_id": "t2", "column": "*"},
            {"table_id": "t2", "column": "*", "aggregation": "count"},
            {"table_id": "t2", "column": "name", "aggregation": "sum"},
            {"table_id": "t2", "column": "tier", "date_trunc": "month"}
        ],
        "filters": [{"table_id": "t2", "column": "crated_at", "operator": "eq", "value": 1}],
        "order_by": [{"table_id": "t2", "column": "regoin"}],
        "group_by": [{"table_id": "t2", "column": "teir"}]
    });
    assert_eq!(
        validated(query),
        vec![
            err(
                "TABLE_NOT_FOUND",
                "Table 'order' not found in schema",
                "tables[0].name",
                Some("Did you mean one of: 'orders', 'order_items'?")
            ),
            err(
                "COLUMN_NOT_FOUND",
                "Column 'emails' not found in table 'customers'",
                "columns[1].column",
                Some("Did you mean 'email'?")
            ),
            err(
                "COLUMN_NOT_FOUND",
                "Column '*' not found in table 'customers'",
                "columns[2].column",
                None
            ),
            err(
                "INVALID_AGGREGATION",
                "Aggregation 'sum' is not valid for column 'name' of type 'character varying'",
                "columns[4].aggregation",
                Some("Valid aggregations for this column: min, max, count")
            ),
            err(
                "TYPE_MISMATCH",
                "date_trunc 'month' requires a date or timestamp column, but 'tier' is of type 'character varying'",
                "columns[5].date_trunc",
                None
            ),
            err(
                "INVALID_JOIN",
                "Join column 'idd' not found in table 'customers'",
                "joins[0].to_column",
                Some("Did you mean 'id'?")
            ),
            err(
                "COLUMN_NOT_FOUND",
                "Filter column 'crated_at' not found in table 'customers'",
                "filters[0].column",
                Some("Did you mean 'created_at'?")
            ),
            err(
                "COLUMN_NOT_FOUND",
                "Order by column 'regoin' not found in table 'customers'",
                "order_by[0].column",
                Some("Did you mean 'region'?")
            ),
            err(
                "COLUMN_NOT_FOUND",
                "Group by column 'teir' not found in table 'customers'",
                "group_by[0].column",
                Some("Did you mean 'tier'?")
            ),
        ]
    );
}

#[test]
fn validation_type_checks() {
    let check = |column: &str, operator: &str, value: Value| {
        validated(orders_filter(column, operator, value))
            .into_iter()
            .map(|(code, message, field, _)| (code, message, field))
            .next()
    };
    let mismatch = |message: &str| {
        Some((
            "TYPE_MISMATCH".to_owned(),
            message.to_owned(),
            Some("filters[0].value".to_owned()),
        ))
    };
    assert_eq!(
        check("status", "in_", json!("a")),
        mismatch("Operator 'in_' requires a list value for column 'status'")
    );
    assert_eq!(
        check("status", "not_in", json!("a")),
        mismatch("Operator 'not_in' requires a list value for column 'status'")
    );
    assert_eq!(
        check("status", "between", json!([1])),
        mismatch(
            "Operator 'between' requires a list/tuple of exactly 2 values for column 'status'"
        )
    );
    assert_eq!(
        check("total_amount", "in_", json!([1, "x"])),
        mismatch("Column 'total_amount' is numeric but received non-numeric value in list")
    );
    assert_eq!(
        check("total_amount", "between", json!([1, "x"])),
        mismatch("Column 'total_amount' is numeric but received non-numeric value in range")
    );
    assert_eq!(
        check("total_amount", "eq", json!("100")),
        mismatch("Column 'total_amount' is numeric but received non-numeric value")
    );
    assert_eq!(
        check("order_date", "gte", json!("yesterday")),
        mismatch(
            "Invalid date value: 'yesterday'. Expected ISO format (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)."
        )
    );
    assert_eq!(
        check("total_amount", "date_relative", json!(3)),
        mismatch(
            "Operator 'date_relative' requires a date or timestamp column, but 'total_amount' is of type 'numeric'"
        )
    );
    assert_eq!(check("total_amount", "in_", json!([1, null, true])), None);
    assert_eq!(check("total_amount", "is_null", json!("x")), None);
    assert_eq!(check("status", "eq", Value::Null), None);
    assert_eq!(
        check("order_date", "date_window", json!({"period": "yearly"})),
        None
    );
}

#[test]
fn validation_of_time_series_joins_and_calculated_fields() {
    let mut query = orders_filter("id", "eq", json!(1));
    query["time_series"] = json!({"table_id": "t1", "date_column": "order_dat", "interval": "day"});
    assert_eq!(
        validated(query.clone()),
        vec![err(
            "INVALID_TIME_SERIES",
            "Date column 'order_dat' not found in table 'orders'",
            "time_series.date_column",
            Some("Did you mean 'order_date'?")
        )]
    );
    query["time_series"]["date_column"] = json!("status");
    assert_eq!(
        validated(query),
        vec![err(
            "INVALID_TIME_SERIES",
            "Column 'status' is not a date/timestamp type (found: character varying)",
            "time_series.date_column",
            Some("Use a column with date, timestamp, or timestamptz type")
        )]
    );
    let self_join = json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "joins": [{"from_table_id": "t1", "from_column": "id", "to_table_id": "t1", "to_column": "id"},
                  {"from_table_id": "t1", "from_column": "id", "to_table_id": "t1", "to_column": "id"}],
        "columns": [{"table_id": "t1", "column": "calc"}],
        "filters": [{"table_id": "t1", "column": "calc", "operator": "eq", "value": "anything"}],
        "calculated_fields": [{"name": "calc", "expression": "[id] * 2"}]
    });
    assert_eq!(
        validated(self_join),
        vec![err(
            "CIRCULAR_JOIN",
            "Join references the same table on both sides",
            "joins[0]",
            Some("A join should connect two different tables")
        )]
    );
}

#[test]
fn a_table_used_twice_is_referenced_by_its_ids() {
    // Orders placed by the same customer: `orders` joined to itself.
    let (sql, values) = sql(json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "orders"},
                   {"id": "t3", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "customer_id", "join_type": "LEFT"},
                  {"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t3",
                   "to_column": "id"}],
        "columns": [{"table_id": "t1", "column": "id"},
                    {"table_id": "t2", "column": "id", "aggregation": "count"},
                    {"table_id": "t3", "column": "region"}],
        "filters": [{"table_id": "t2", "column": "status", "operator": "eq", "value": "paid"}],
        "order_by": [{"table_id": "t2", "column": "id", "direction": "DESC"}]
    }));
    assert_eq!(
        sql,
        r#"SELECT "t1"."id", COUNT("t2"."id"), "customers"."region" FROM "orders" AS "t1" LEFT JOIN "orders" AS "t2" ON "t1"."customer_id" = "t2"."customer_id" AND "t2"."status" = $1 INNER JOIN "customers" ON "t1"."customer_id" = "customers"."id" GROUP BY "t1"."id", "customers"."region" ORDER BY COUNT("t2"."id") DESC"#
    );
    assert_eq!(values, [text("paid")]);
}

#[test]
fn a_table_whose_name_is_another_tables_alias_is_referenced_by_its_id() {
    let (sql, _) = sql(json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "customers"},
                   {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id"}],
        "columns": [{"table_id": "t2", "column": "region"}]
    }));
    assert_eq!(
        sql,
        r#"SELECT "t2"."region" FROM "orders" AS "customers" INNER JOIN "customers" AS "t2" ON "customers"."customer_id" = "t2"."id""#
    );
}

#[test]
fn self_joins_reach_row_filters_and_calculated_fields_by_id() {
    let options = options().with_row_filter("orders", [RowPredicate::eq("status", "paid")]);
    let (sql, values) = compile_with(
        json!({
            "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "orders"}],
            "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                       "to_column": "customer_id"}],
            "columns": [{"table_id": "t1", "column": "gap"}],
            "calculated_fields": [{"name": "gap", "expression": "[t2.total_amount] - [t1.total_amount]"}]
        }),
        &options,
    )
    .unwrap();
    assert_eq!(
        sql,
        r#"SELECT "t2"."total_amount" - "t1"."total_amount" FROM (SELECT * FROM "orders" WHERE "status" = $1) AS "t1" INNER JOIN (SELECT * FROM "orders" WHERE "status" = $2) AS "t2" ON "t1"."customer_id" = "t2"."customer_id""#
    );
    assert_eq!(values, [text("paid"), text("paid")]);
}

#[test]
fn tables_that_cannot_be_told_apart_fail_validation() {
    let two = |first: Value, second: Value| {
        json!({
            "tables": [first, second],
            "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                       "to_column": "id"}],
            "columns": [{"table_id": "t1", "column": "id"}]
        })
    };
    assert_eq!(
        validated(two(
            json!({"id": "t1", "name": "orders", "alias": "x"}),
            json!({"id": "t2", "name": "customers", "alias": "x"})
        )),
        vec![err(
            "AMBIGUOUS_COLUMN",
            "Table name or alias 'x' is used by tables[0] and tables[1]",
            "tables[1].alias",
            Some("Give each of them an alias of its own")
        )]
    );
    // An alias equal to another table's id, which that table goes by as a self-join.
    let query = json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "orders"},
                   {"id": "t3", "name": "customers", "alias": "t1"}],
        "columns": [{"table_id": "t1", "column": "id"}]
    });
    assert_eq!(
        validated(query)[0].1,
        "Table name or alias 't1' is used by tables[0] and tables[2]"
    );
    let duplicate_id = json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t1", "name": "customers"}],
        "columns": [{"table_id": "t1", "column": "id"}]
    });
    assert_eq!(
        validated(duplicate_id),
        vec![err(
            "AMBIGUOUS_COLUMN",
            "Table id 't1' is used by tables[0] and tables[1]",
            "tables[1].id",
            Some("Give every table of the query its own id")
        )]
    );
    assert_eq!(
        validated(two(
            json!({"id": "t1", "name": "orders"}),
            json!({"id": "t2", "name": "orders"})
        )),
        vec![],
        "a self-join without aliases is fine"
    );
}

#[test]
fn hidden_tables_and_columns_are_not_found() {
    let config = SchemaConfig {
        tables: [
            (
                "customers".to_owned(),
                TableConfig {
                    hidden: true,
                    ..TableConfig::default()
                },
            ),
            (
                "orders".to_owned(),
                TableConfig {
                    columns: [(
                        "shipping_address".to_owned(),
                        crate::schema::ColumnConfig {
                            hidden: true,
                            ..Default::default()
                        },
                    )]
                    .into_iter()
                    .collect(),
                    ..TableConfig::default()
                },
            ),
        ]
        .into_iter()
        .collect(),
    };
    let visible = schema().visible(&config);
    let query = def(json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
        "columns": [{"table_id": "t1", "column": "shipping_address"}]
    }));
    let messages = validate(&query, &visible).messages();
    assert_eq!(
        messages,
        [
            "Table 'customers' not found in schema",
            "Column 'shipping_address' not found in table 'orders'"
        ]
    );
    assert!(compile(&query, &visible, &options()).is_err());
}

#[test]
fn validation_result_shape_and_error_message() {
    let result = validate(&def(orders_filter("nope", "eq", json!(1))), &schema());
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        json!({"valid": false, "errors": [{"code": "COLUMN_NOT_FOUND",
            "message": "Filter column 'nope' not found in table 'orders'",
            "field": "filters[0].column", "suggestion": null}]})
    );
    let mut two = orders_filter("nope", "eq", json!(1));
    two["tables"][0]["name"] = json!("ordersx");
    two["columns"] = json!([{"table_id": "t1", "column": "id"}]);
    let mut query = def(orders_filter("nope", "eq", json!(1)));
    query.order_by.push(SortDefinition {
        table_id: "t1".into(),
        column: "zz".into(),
        direction: SortDirection::Asc,
    });
    assert_eq!(
        validate(&query, &schema())
            .into_result()
            .unwrap_err()
            .to_string(),
        "Query validation failed: Filter column 'nope' not found in table 'orders'; Order by column 'zz' not found in table 'orders'"
    );
    assert!(
        validate(&def(orders_filter("id", "eq", json!(1))), &schema())
            .into_result()
            .is_ok()
    );
}

#[test]
fn sanitize_drops_filters_that_do_not_fit() {
    let query = def(json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "ghost"}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "filters": [
            {"table_id": "t1", "column": "status", "operator": "eq", "value": "a"},
            {"table_id": "t1", "column": "region", "operator": "eq", "value": "b"},
            {"table_id": "t2", "column": "status", "operator": "eq", "value": "c"},
            {"table_id": "t1", "column": "calc", "operator": "gt", "value": 1}
        ],
        "calculated_fields": [{"name": "calc", "expression": "[id] + 1"}]
    }));
    let kept: Vec<String> = sanitize_filters(&query, &schema())
        .filters
        .into_iter()
        .map(|f| f.column)
        .collect();
    assert_eq!(kept, ["status", "calc"]);
}

// ------------------------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn generated_queries_validate_compile_and_round_trip(query in arbitrary_query()) {
        let schema = sample_schema();
        let result = validate(&query, &schema);
        prop_assert!(result.valid, "{:?}\n{}", result.errors, serde_json::to_string(&query).unwrap());

        let compiled = compile(&query, &schema, &options());
        prop_assert!(compiled.is_ok(), "{:?}\n{}", compiled.err(), serde_json::to_string(&query).unwrap());
        let compiled = compiled.unwrap();
        let placeholders = compiled.query.sql.matches('$').count();
        prop_assert!(placeholders >= compiled.query.values.0.len());

        let tenant = options()
            .with_schema_name("tenant \"x\"")
            .with_max_rows(50)
            .with_row_filter("customers", [RowPredicate::eq("region", "East")])
            .with_row_filter("orders", [RowPredicate::is_in("status", ["a"])]);
        let scoped = compile(&query, &schema, &tenant);
        prop_assert!(scoped.is_ok(), "{:?}", scoped.err());

        let wire = serde_json::to_value(&query).unwrap();
        let back: QueryDefinition = serde_json::from_value(wire).unwrap();
        prop_assert_eq!(back, query);
    }

    #[test]
    fn arbitrary_json_never_panics(value in arbitrary_json()) {
        if let Ok(query) = serde_json::from_value::<QueryDefinition>(value) {
            let schema = sample_schema();
            let _ = validate(&query, &schema);
            let _ = compile(&query, &schema, &options());
        }
    }

    #[test]
    fn expressions_never_panic(text in "[\\[\\]a-z_ 0-9.()+*/<>=!,\"-]{0,40}") {
        let query = json!({
            "tables": [{"id": "t1", "name": "orders"}],
            "columns": [{"table_id": "t1", "column": "f"}],
            "calculated_fields": [{"name": "f", "expression": text}]
        });
        let _ = compile_with(query, &options());
    }
}

/// Query-shaped JSON with random pieces, to check nothing panics on odd input.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec![
        "orders",
        "customers",
        "id",
        "status",
        "order_date",
        "x",
        "*",
        "t1",
        "t2",
    ]);
    let operator = prop::sample::select(vec![
        "eq",
        "neq",
        "gt",
        "lte",
        "in_",
        "not_in",
        "in_or_null",
        "like",
        "between",
        "is_null",
        "date_relative",
        "not_date_relative",
        "date_window",
    ]);
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z0-9 :'%-]{0,12}".prop_map(Value::from),
        Just(json!("2024-02-30")),
        Just(json!({"period": "yearly", "value": i64::MAX})),
    ];
    let value = prop_oneof![
        scalar.clone(),
        prop::collection::vec(scalar, 0..4).prop_map(Value::from)
    ];
    let filter = (
        prop::sample::select(vec!["t1", "t2"]),
        name.clone(),
        operator,
        value,
    )
        .prop_map(|(t, c, o, v)| json!({"table_id": t, "column": c, "operator": o, "value": v}));
    (
        prop::collection::vec((prop::sample::select(vec!["t1", "t2"]), name.clone()), 1..3),
        prop::collection::vec(filter, 0..4),
        prop::option::of((name, prop::sample::select(vec!["day", "week", "year"]))),
    )
        .prop_map(|(columns, filters, ts)| {
            let mut query = json!({
                "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
                "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2", "to_column": "id", "join_type": "LEFT"}],
                "columns": columns.into_iter().map(|(t, c)| json!({"table_id": t, "column": c, "aggregation": "none"})).collect::<Vec<_>>(),
                "filters": filters,
            });
            if let Some((column, interval)) = ts {
                query["time_series"] = json!({"table_id": "t1", "date_column": column, "interval": interval});
            }
            query
        })
}

// ------------------------------------------------------------------------------- SQLite

fn sqlite_sql(query: Value) -> (String, Vec<V>) {
    let options = options()
        .with_dialect(crate::Dialect::Sqlite)
        .with_schema_name("tenant_a");
    compile_with(query, &options).expect("compiles")
}

#[test]
fn sqlite_tables_are_not_qualified_and_placeholders_are_positional() {
    let (sql, values) = sqlite_sql(orders_filter("status", "eq", json!("paid")));
    assert_eq!(
        sql,
        r#"SELECT "orders"."id" FROM "orders" WHERE "orders"."status" = ?"#
    );
    assert_eq!(values, [text("paid")]);
}

#[test]
fn sqlite_like_is_escaped_and_ilike_folds_ascii() {
    let where_of = |operator: &str| {
        let (sql, _) = sqlite_sql(orders_filter("status", operator, json!("p%")));
        sql.split_once(" WHERE ").unwrap().1.to_owned()
    };
    assert_eq!(where_of("like"), r#""orders"."status" LIKE ? ESCAPE '\'"#);
    assert_eq!(
        where_of("not_ilike"),
        r#"lower("orders"."status") NOT LIKE lower(?) ESCAPE '\'"#
    );
}

#[test]
fn sqlite_dates_truncate_with_strftime_and_weeks_start_on_monday() {
    let (sql, _) = sqlite_sql(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [
            {"table_id": "t1", "column": "order_date", "date_trunc": "week"},
            {"table_id": "t1", "column": "order_date", "date_trunc": "quarter", "alias": "q"},
            {"table_id": "t1", "column": "id", "aggregation": "count"}
        ]
    }));
    assert_eq!(
        sql,
        r#"SELECT strftime('%Y-%m-%dT00:00:00', "orders"."order_date", '-' || ((CAST(strftime('%w', "orders"."order_date") AS INTEGER) + 6) % 7) || ' days') AS "date_trunc", strftime('%Y-%m-01T00:00:00', "orders"."order_date", 'start of month', '-' || ((CAST(strftime('%m', "orders"."order_date") AS INTEGER) - 1) % 3) || ' months') AS "q", COUNT("orders"."id") AS "count" FROM "orders" GROUP BY strftime('%Y-%m-%dT00:00:00', "orders"."order_date", '-' || ((CAST(strftime('%w', "orders"."order_date") AS INTEGER) + 6) % 7) || ' days'), strftime('%Y-%m-01T00:00:00', "orders"."order_date", 'start of month', '-' || ((CAST(strftime('%m', "orders"."order_date") AS INTEGER) - 1) % 3) || ' months')"#
    );
}

#[test]
fn sqlite_sorts_nulls_as_postgres_does_and_offsets_need_a_limit() {
    let (sql, values) = sqlite_sql(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "order_by": [
            {"table_id": "t1", "column": "status", "direction": "ASC"},
            {"table_id": "t1", "column": "id", "direction": "DESC"}
        ],
        "offset": 5
    }));
    assert_eq!(
        sql,
        r#"SELECT "orders"."id" FROM "orders" ORDER BY "orders"."status" ASC NULLS LAST, "orders"."id" DESC NULLS FIRST LIMIT ? OFFSET ?"#
    );
    assert_eq!(
        values,
        [
            V::BigUnsigned(Some(i64::MAX as u64)),
            V::BigUnsigned(Some(5))
        ]
    );
}

#[test]
fn sqlite_calculated_fields_use_sqlite_functions() {
    let (sql, _) = sqlite_sql(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "age"}, {"table_id": "t1", "column": "y"}],
        "calculated_fields": [
            {"name": "age", "expression": "datediff([order_date], today(), \"day\")"},
            {"name": "y", "expression": "year([order_date]) + find(\"a\", [status])"}
        ]
    }));
    assert_eq!(
        sql,
        r#"SELECT CAST(julianday(date(date('now'))) - julianday(date("orders"."order_date")) AS INTEGER) AS "?column?", (CAST(strftime('%Y', "orders"."order_date") AS INTEGER)) + (instr("orders"."status", 'a')) AS "?column?" FROM "orders""#
    );
}
