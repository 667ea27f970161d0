use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

fn parse(value: Value) -> Result<QueryDefinition, String> {
    QueryDefinition::from_value(value).map_err(|e| e.to_string())
}

fn minimal() -> Value {
    json!({"tables": [{"id": "t1", "name": "orders"}],
           "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]})
}

#[test]
fn minimal_query_is_written_with_every_key_and_its_default() {
    let query = parse(minimal()).unwrap();
    assert_eq!(
        query.to_value(),
        json!({
            "tables": [{"id": "t1", "name": "orders", "alias": null}],
            "joins": [],
            "columns": [{"table_id": "t1", "column": "total_amount", "aggregation": "sum",
                         "alias": null, "date_trunc": null, "date_format": null,
                         "sql_expression": null}],
            "filters": [],
            "group_by": [],
            "order_by": [],
            "limit": null,
            "offset": null,
            "time_series": null,
            "calculated_fields": []
        })
    );
}

#[test]
fn written_query_reads_back_equal_and_writes_the_same() {
    let query = parse(minimal()).unwrap();
    let written = query.to_value();
    let again = parse(written.clone()).unwrap();
    assert_eq!(again, query);
    assert_eq!(again.to_value(), written);
}

#[test]
fn per_item_defaults_are_written() {
    let query = parse(json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id"}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "filters": [{"table_id": "t1", "column": "status", "operator": "is_null"}],
        "order_by": [{"table_id": "t1", "column": "id"}],
        "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "Day"},
        "calculated_fields": [{"name": "x", "expression": "[id] + 1"}]
    }))
    .unwrap();
    let written = query.to_value();
    assert_eq!(written["joins"][0]["join_type"], "INNER");
    assert_eq!(written["columns"][0]["aggregation"], "none");
    assert_eq!(written["filters"][0]["value"], Value::Null);
    assert_eq!(written["filters"][0]["sql_expression"], Value::Null);
    assert_eq!(written["order_by"][0]["direction"], "ASC");
    assert_eq!(
        written["time_series"],
        json!({"table_id": "t1", "date_column": "order_date", "interval": "day",
               "fill_missing": true, "fill_value": 0, "alias": null})
    );
    assert_eq!(
        written["calculated_fields"][0],
        json!({"name": "x", "expression": "[id] + 1", "sql_expression": null,
               "has_internal_aggregation": false, "data_type": "number"})
    );
}

#[test]
fn full_query_round_trips() {
    let wire = json!({
        "tables": [{"id": "t1", "name": "orders", "alias": "o"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id", "join_type": "LEFT"}],
        "columns": [
            {"table_id": "t2", "column": "region", "aggregation": "none", "alias": "Region"},
            {"table_id": "t1", "column": "order_date", "aggregation": "none", "date_trunc": "month",
             "date_format": "MMM yyyy"},
            {"table_id": "t1", "column": "*", "aggregation": "count"}
        ],
        "filters": [{"table_id": "t1", "column": "status", "operator": "in_", "value": ["a", "b"]},
                    {"table_id": "t1", "column": "order_date", "operator": "date_window",
                     "value": {"period": "yearly", "value": -1}}],
        "group_by": [{"table_id": "t2", "column": "region"}],
        "order_by": [{"table_id": "t2", "column": "region", "direction": "DESC"}],
        "limit": 10,
        "offset": 0,
        "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "week",
                        "fill_missing": false, "fill_value": null, "alias": "wk"},
        "calculated_fields": [{"name": "double", "expression": "[total_amount] * 2",
                               "sql_expression": null,
                               "has_internal_aggregation": false, "data_type": "number"}]
    });
    let query = parse(wire.clone()).unwrap();
    let mut written = wire.clone();
    written["tables"][1]["alias"] = Value::Null;
    for column in written["columns"].as_array_mut().unwrap() {
        for key in ["alias", "date_trunc", "date_format", "sql_expression"] {
            column
                .as_object_mut()
                .unwrap()
                .entry(key)
                .or_insert(Value::Null);
        }
    }
    for filter in written["filters"].as_array_mut().unwrap() {
        filter["sql_expression"] = Value::Null;
    }
    assert_eq!(query.to_value(), written);
    assert_eq!(query.joins[0].join_type, JoinType::Left);
    assert_eq!(query.filters[0].operator, FilterOperator::In);
}

#[test]
fn typed_constructors_build_what_the_wire_shape_reads() {
    let built = QueryDefinition::select(
        QueryTable::new("t1", "orders"),
        vec![
            ColumnSelection::new("t2", "region"),
            ColumnSelection::new("t1", "order_date").truncated(TimeUnit::Month),
            ColumnSelection::count_all("t1").with_alias("n"),
        ],
    )
    .with_table(QueryTable::new("t2", "customers"))
    .with_join(JoinDefinition::new(
        "t1",
        "customer_id",
        "t2",
        "id",
        JoinType::Left,
    ))
    .with_filter(FilterDefinition::new(
        "t1",
        "status",
        FilterOperator::In,
        json!(["paid"]),
    ))
    .with_group_by(GroupByDefinition::new("t2", "region"))
    .with_order_by(SortDefinition::new("t2", "region", SortDirection::Desc))
    .with_limit(10)
    .with_offset(5)
    .with_time_series(TimeSeriesConfig::new("t1", "order_date", TimeUnit::Week))
    .with_calculated_field(CalculatedField::new("double", "[total_amount] * 2"));
    let read = parse(json!({
        "tables": [{"id": "t1", "name": "orders"}, {"id": "t2", "name": "customers"}],
        "joins": [{"from_table_id": "t1", "from_column": "customer_id", "to_table_id": "t2",
                   "to_column": "id", "join_type": "LEFT"}],
        "columns": [{"table_id": "t2", "column": "region"},
                    {"table_id": "t1", "column": "order_date", "date_trunc": "month"},
                    {"table_id": "t1", "column": "*", "aggregation": "count", "alias": "n"}],
        "filters": [{"table_id": "t1", "column": "status", "operator": "in_",
                     "value": ["paid"]}],
        "group_by": [{"table_id": "t2", "column": "region"}],
        "order_by": [{"table_id": "t2", "column": "region", "direction": "DESC"}],
        "limit": 10,
        "offset": 5,
        "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "week"},
        "calculated_fields": [{"name": "double", "expression": "[total_amount] * 2"}]
    }))
    .unwrap();
    assert_eq!(built, read);
    assert_eq!(built.check_structure(), Ok(()));
}

#[test]
fn defaults_and_unknown_keys() {
    let query = parse(json!({
        "tables": [{"id": "t1", "name": "orders", "extra": 1}],
        "columns": [{"table_id": "t1", "column": "id"}],
        "filters": null,
        "having": "ignored",
        "time_series": {"table_id": "t1", "date_column": "order_date", "interval": "MONTH"}
    }))
    .unwrap();
    assert_eq!(query.columns[0].aggregation, Aggregation::None);
    assert!(query.filters.is_empty());
    let ts = query.time_series.unwrap();
    assert_eq!(ts.interval, TimeUnit::Month);
    assert!(ts.fill_missing);
    assert_eq!(ts.fill_value, json!(0));
    assert_eq!(ts.bucket_alias(), "order_date_bucket");
}

#[test]
fn limit_is_lax_but_whole_and_non_negative() {
    let with = |limit: Value| {
        let mut v = minimal();
        v["limit"] = limit;
        parse(v).map(|q| q.limit)
    };
    assert_eq!(with(json!("10")), Ok(Some(10)));
    assert_eq!(with(json!(10.0)), Ok(Some(10)));
    assert_eq!(with(json!(null)), Ok(None));
    assert!(with(json!(1.5)).is_err());
    assert!(with(json!(-1)).is_err());
    assert!(with(json!("ten")).is_err());
}

#[test]
fn structural_errors_have_the_reference_messages() {
    let cases = [
        (
            json!({"tables": [], "columns": [{"table_id": "t1", "column": "a"}]}),
            "At least one table must be specified",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": []}),
            "At least one column must be selected",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t2", "column": "a"}]}),
            "Column selection references unknown table_id: t2",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                "joins": [{"from_table_id": "t1", "from_column": "a", "to_table_id": "t9", "to_column": "b"}]}),
            "Join references unknown table_id: t9",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                "filters": [{"table_id": "t3", "column": "a", "operator": "eq", "value": 1}]}),
            "Filter references unknown table_id: t3",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                "group_by": [{"table_id": "t3", "column": "a"}]}),
            "Group by references unknown table_id: t3",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                "order_by": [{"table_id": "t3", "column": "a"}]}),
            "Order by references unknown table_id: t3",
        ),
        (
            json!({"tables": [{"id": "t1", "name": "x"}], "columns": [{"table_id": "t1", "column": "a"}],
                "time_series": {"table_id": "t3", "date_column": "a", "interval": "day"}}),
            "Time series references unknown table_id: t3",
        ),
    ];
    for (wire, message) in cases {
        let err = parse(wire).unwrap_err();
        assert!(err.contains(message), "{err} should contain {message}");
    }
}

#[test]
fn enums_are_exact() {
    let column = |agg: &str| {
        let mut v = minimal();
        v["columns"][0]["aggregation"] = json!(agg);
        parse(v)
    };
    assert!(column("SUM").is_err());
    assert!(column("count_distinct").is_ok());
    let mut v = minimal();
    v["filters"] = json!([{"table_id": "t1", "column": "a", "operator": "in", "value": [1]}]);
    assert!(parse(v).is_err(), "plain `in` is not an operator");
    let mut v = minimal();
    v["tables"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "t2", "name": "c"}));
    v["joins"] = json!([{"from_table_id": "t1", "from_column": "a", "to_table_id": "t2",
                         "to_column": "b", "join_type": "left"}]);
    assert!(parse(v).is_err(), "join types are upper case");
    let mut v = minimal();
    v["order_by"] = json!([{"table_id": "t1", "column": "a", "direction": "desc"}]);
    assert!(parse(v).is_err(), "directions are upper case");
}

#[test]
fn interval_and_date_trunc_are_whitelisted() {
    let mut v = minimal();
    v["time_series"] = json!({"table_id": "t1", "date_column": "d", "interval": "fortnight"});
    let err = parse(v).unwrap_err();
    assert!(err.contains("Invalid interval 'fortnight'. Must be one of: minute, hour, day, week, month, quarter, year"), "{err}");
    let mut v = minimal();
    v["columns"][0]["date_trunc"] = json!("month') --");
    let err = parse(v).unwrap_err();
    assert!(err.contains("Invalid date_trunc"), "{err}");
    let mut v = minimal();
    v["columns"][0]["date_trunc"] = json!("Quarter");
    assert_eq!(
        parse(v).unwrap().columns[0].date_trunc,
        Some(TimeUnit::Quarter)
    );
}

#[test]
fn raw_sql_is_refused_from_the_wire() {
    let mut v = minimal();
    v["columns"][0]["sql_expression"] = json!("pg_sleep(10)");
    let err = parse(v).unwrap_err();
    assert!(
        err.contains("sql_expression is not accepted from clients"),
        "{err}"
    );

    let mut v = minimal();
    v["filters"] = json!([{"table_id": "t1", "column": "a", "operator": "eq", "value": 1,
                           "sql_expression": "1=1) OR (1=1"}]);
    assert!(
        parse(v)
            .unwrap_err()
            .contains("sql_expression is not accepted")
    );

    let mut v = minimal();
    v["calculated_fields"] = json!([{"name": "x", "expression": "[a]", "sql_expression": "1"}]);
    let err = parse(v).unwrap_err();
    assert!(err.contains("use a calculated field expression"), "{err}");

    let mut v = minimal();
    v["filters"] = json!([{"table_id": "t1", "column": "id", "operator": "in_subquery",
                           "value": {"sql": "SELECT 1"}}]);
    assert!(parse(v).unwrap_err().contains("in_subquery"));

    // null and empty are the same as absent
    let mut v = minimal();
    v["columns"][0]["sql_expression"] = json!(null);
    v["calculated_fields"] = json!([{"name": "x", "expression": "[a]", "sql_expression": ""}]);
    assert!(parse(v).is_ok());
}

#[test]
fn derive_group_by_follows_the_aggregations() {
    let mut query = parse(json!({
        "tables": [{"id": "t1", "name": "orders"}],
        "columns": [{"table_id": "t1", "column": "status"},
                    {"table_id": "t1", "column": "region"},
                    {"table_id": "t1", "column": "total_amount", "aggregation": "sum"}]
    }))
    .unwrap();
    let columns: Vec<_> = query
        .derive_group_by()
        .into_iter()
        .map(|g| g.column)
        .collect();
    assert_eq!(columns, ["status", "region"]);
    query.group_by = vec![GroupByDefinition {
        table_id: "t1".into(),
        column: "region".into(),
    }];
    assert_eq!(query.derive_group_by().len(), 1);
    query.columns.truncate(2);
    assert!(
        query.derive_group_by().is_empty(),
        "nothing aggregated, nothing grouped"
    );
}
