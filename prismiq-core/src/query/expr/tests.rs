use pretty_assertions::assert_eq;
use sea_query::{PostgresQueryBuilder, Query};

use super::*;

fn field(name: &str) -> Result<FieldRef, String> {
    match name {
        "amount" | "total" | "created_at" | "closed_at" | "name" | "status" => Ok(FieldRef {
            expr: Expr::col(("o".to_owned(), name.to_owned())),
            aggregates: false,
            boolean: false,
        }),
        "is_won" => Ok(FieldRef {
            expr: Expr::col(("o".to_owned(), name.to_owned())),
            aggregates: false,
            boolean: true,
        }),
        _ => Err(format!("Unknown field '[{name}]'")),
    }
}

fn sql(text: &str) -> Result<String, String> {
    let node = parse(text)?;
    let lowered = lower(&node, crate::Dialect::Postgres, &mut field)?;
    let (sql, values) = Query::select()
        .expr(lowered.expr)
        .build(PostgresQueryBuilder);
    assert!(values.0.is_empty(), "expressions bind nothing: {values:?}");
    Ok(sql.trim_start_matches("SELECT ").to_owned())
}

#[test]
fn arithmetic_and_precedence() {
    assert_eq!(sql("[total] * 2").unwrap(), r#""o"."total" * 2"#);
    assert_eq!(
        sql("([total] + [amount]) * 1.").unwrap(),
        r#"("o"."total" + "o"."amount") * (1.0)"#
    );
    assert_eq!(
        sql("[total] - [amount] - 1").unwrap(),
        r#""o"."total" - "o"."amount" - 1"#
    );
    assert_eq!(sql("[total] / 2.5").unwrap(), r#""o"."total" / 2.5"#);
}

#[test]
fn functions() {
    assert_eq!(
        sql(r#"if([status] == "paid", [amount], 0)"#).unwrap(),
        r#"(CASE WHEN ("o"."status" = 'paid') THEN "o"."amount" ELSE 0 END)"#
    );
    assert_eq!(
        sql("if([is_won]==1, [amount], 0)").unwrap(),
        r#"(CASE WHEN (CAST("o"."is_won" AS integer) = 1) THEN "o"."amount" ELSE 0 END)"#
    );
    assert_eq!(sql("sum([amount])").unwrap(), r#"SUM("o"."amount")"#);
    assert_eq!(
        sql("[Sum of amount] / 2").unwrap(),
        r#"SUM("o"."amount") / 2"#
    );
    assert_eq!(
        sql(r#"find("a" [name])"#).unwrap(),
        r#"POSITION('a' IN "o"."name")"#
    );
    assert_eq!(sql("today()").unwrap(), "CURRENT_DATE");
    assert_eq!(
        sql("year([created_at])").unwrap(),
        r#"EXTRACT(YEAR FROM "o"."created_at")"#
    );
    assert_eq!(
        sql("date(2024, 1, 2)").unwrap(),
        "MAKE_TIMESTAMP(CAST(2024 AS integer), CAST(1 AS integer), CAST(2 AS integer), \
         CAST(0 AS integer), CAST(0 AS integer), CAST(0 AS integer))"
    );
    assert_eq!(
        sql(r#"concatenate([name], " - ", [status])"#).unwrap(),
        r#"("o"."name" || ' - ' || "o"."status")"#
    );
    assert_eq!(
        sql("[name].concatenate()").unwrap(),
        r#"COALESCE(CAST("o"."name" AS text), '')"#
    );
    assert_eq!(
        sql("datediff([created_at], [closed_at])").unwrap(),
        r#"(CAST("o"."closed_at" AS date) - CAST("o"."created_at" AS date))"#
    );
    assert_eq!(
        sql(r#"datediff([created_at], [closed_at], "Hours")"#).unwrap(),
        r#"(EXTRACT(EPOCH FROM (CAST("o"."closed_at" AS timestamp) - CAST("o"."created_at" AS timestamp))) / 3600)"#
    );
    assert_eq!(
        sql("round([amount], 2)").unwrap(),
        r#"ROUND(CAST("o"."amount" AS numeric), CAST(2 AS integer))"#
    );
    assert_eq!(
        sql("IF([is_won], 1, 0)").unwrap().starts_with("(CASE"),
        true
    );
}

#[test]
fn aggregation_is_detected() {
    let agg = |text: &str| {
        lower(&parse(text).unwrap(), crate::Dialect::Postgres, &mut field)
            .unwrap()
            .aggregates
    };
    assert!(agg("sum([amount]) / count([total])"));
    assert!(agg("[Count of amount]"));
    assert!(!agg("[amount] * 2"));
}

#[test]
fn parse_errors_have_the_reference_messages() {
    let cases = [
        ("", "Empty expression"),
        ("   ", "Empty expression"),
        ("[a] +", "Unexpected end of expression"),
        ("[a] [b]", "Unexpected tokens after expression: [[b]]"),
        ("foo", "Unexpected identifier: foo"),
        ("sum([a]", "Expected ')' after function arguments for 'sum'"),
        ("([a]", "Expected ')' after expression"),
        ("[a].", "Expected method name after '.'"),
        (
            "[a].concatenate",
            "Expected '(' after method name 'concatenate'",
        ),
        ("[a].concatenate(", "Expected ')' after 'concatenate('"),
        ("-1", "Unexpected token: -"),
        ("'d'", "Invalid character at position 0: 'd'"),
        ("[a] % 2", "Invalid character at position 4: % 2"),
    ];
    for (text, message) in cases {
        assert_eq!(parse(text).unwrap_err(), message, "{text:?}");
    }
}

#[test]
fn unknown_functions_and_methods_are_refused() {
    for text in [
        "pg_sleep(10)",
        "SUM_X([amount])",
        "count_distinct([amount])",
        "set_config(\"a\", \"b\")",
        "not([is_won])",
        "txid_current()",
        "pg_current_xact_id()",
        "version()",
    ] {
        let err = sql(text).unwrap_err();
        assert!(err.starts_with("Unknown function"), "{text}: {err}");
    }
    assert!(
        sql("[name].upper()")
            .unwrap_err()
            .contains("Unknown method")
    );
    assert!(
        sql("if([a], 1)")
            .unwrap_err()
            .contains("takes 3 argument(s)")
    );
    assert!(sql("[missing] + 1").unwrap_err().contains("Unknown field"));
}

#[test]
fn injection_attempts_stay_literals_or_fail() {
    // A quote in a string literal is escaped by sea-query.
    assert_eq!(
        sql(r#"concatenate([name], "'); DROP TABLE orders; --")"#).unwrap(),
        r#"("o"."name" || E'\'); DROP TABLE orders; --')"#
    );
    assert_eq!(sql(r#""a\"b""#).unwrap(), r#"'a"b'"#);
    // SQL punctuation outside strings is not in the language.
    assert!(parse("[a]; DROP TABLE x").is_err());
    assert!(parse("[a] -- comment").is_err());
    // Field names are resolved, never written as text.
    assert!(sql(r#"[amount"; DROP TABLE x; --]"#).is_err());
    // Deep nesting is refused rather than overflowing the stack.
    let deep = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(parse(&deep).unwrap_err(), "Expression is nested too deeply");
}
