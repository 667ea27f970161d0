//! Test support: the sample e-commerce schema and a generator of valid query definitions
//! over it, for property tests here and execution tests against a real database.
//!
//! The schema matches the demo dataset (`customers`, `products`, `orders`, `order_items`,
//! `events`) as PostgreSQL's `information_schema` describes it.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::definition::{
    Aggregation, CalculatedField, ColumnSelection, FilterDefinition, FilterOperator,
    GroupByDefinition, JoinDefinition, JoinType, QueryDefinition, QueryTable, SortDefinition,
    SortDirection, TimeSeriesConfig, TimeUnit,
};
use crate::schema::{ColumnSchema, DatabaseSchema, Relationship, TableSchema};

const TABLES: [(&str, &[(&str, &str)]); 5] = [
    (
        "customers",
        &[
            ("id", "integer"),
            ("name", "character varying"),
            ("email", "character varying"),
            ("region", "character varying"),
            ("tier", "character varying"),
            ("created_at", "timestamp without time zone"),
        ],
    ),
    (
        "events",
        &[
            ("id", "integer"),
            ("event_type", "character varying"),
            ("user_id", "integer"),
            ("timestamp", "timestamp without time zone"),
            ("properties", "jsonb"),
        ],
    ),
    (
        "order_items",
        &[
            ("id", "integer"),
            ("order_id", "integer"),
            ("product_id", "integer"),
            ("quantity", "integer"),
            ("unit_price", "numeric"),
        ],
    ),
    (
        "orders",
        &[
            ("id", "integer"),
            ("customer_id", "integer"),
            ("order_date", "date"),
            ("status", "character varying"),
            ("total_amount", "numeric"),
            ("shipping_address", "text"),
        ],
    ),
    (
        "products",
        &[
            ("id", "integer"),
            ("name", "character varying"),
            ("category", "character varying"),
            ("price", "numeric"),
            ("cost", "numeric"),
            ("stock_quantity", "integer"),
        ],
    ),
];

const RELATIONSHIPS: [(&str, &str, &str, &str); 4] = [
    ("events", "user_id", "customers", "id"),
    ("order_items", "order_id", "orders", "id"),
    ("order_items", "product_id", "products", "id"),
    ("orders", "customer_id", "customers", "id"),
];

/// The demo dataset's schema (PostgreSQL schema `public`).
pub fn sample_schema() -> DatabaseSchema {
    DatabaseSchema {
        tables: TABLES
            .iter()
            .map(|(name, columns)| TableSchema {
                name: (*name).to_owned(),
                schema_name: "public".to_owned(),
                columns: columns
                    .iter()
                    .map(|(column, data_type)| ColumnSchema {
                        name: (*column).to_owned(),
                        data_type: (*data_type).to_owned(),
                        is_nullable: *column != "id",
                        is_primary_key: *column == "id",
                        default_value: None,
                    })
                    .collect(),
                row_count: Some(0),
            })
            .collect(),
        relationships: RELATIONSHIPS
            .iter()
            .map(
                |(from_table, from_column, to_table, to_column)| Relationship {
                    from_table: (*from_table).to_owned(),
                    from_column: (*from_column).to_owned(),
                    to_table: (*to_table).to_owned(),
                    to_column: (*to_column).to_owned(),
                },
            )
            .collect(),
    }
}

/// Query definitions over [`sample_schema`] that validate and compile, and that PostgreSQL
/// accepts: up to three tables joined along foreign keys (any join type, optional aliases, a
/// table now and then joined twice),
/// selected columns with type-appropriate aggregations and truncations, filters of every
/// operator with values of the column's type (strings include quotes, wildcards and SQL
/// text), calculated fields, ordering by selected columns, paging and time series.
///
/// Shrinking moves towards simpler queries.
pub fn arbitrary_query() -> impl Strategy<Value = QueryDefinition> {
    proptest::collection::vec(any::<u32>(), 0..160).prop_map(|tape| {
        Builder {
            tape,
            pos: 0,
            schema: sample_schema(),
        }
        .query()
    })
}

/// Makes a query from a tape of choices; an exhausted tape reads as zeros, and zero is
/// always the simplest choice.
struct Builder {
    tape: Vec<u32>,
    pos: usize,
    schema: DatabaseSchema,
}

/// A column of a query table: table id, column name, data type.
#[derive(Clone)]
struct Col {
    table_id: String,
    name: String,
    data_type: String,
}

impl Col {
    fn numeric(&self) -> bool {
        matches!(self.data_type.as_str(), "integer" | "numeric")
    }
    fn temporal(&self) -> bool {
        self.data_type == "date" || self.data_type.starts_with("timestamp")
    }
    fn text(&self) -> bool {
        self.data_type.contains("char") || self.data_type == "text"
    }
}

const STRINGS: [&str; 10] = [
    "completed",
    "East",
    "O'Brien",
    "'; DROP TABLE orders; --",
    "%",
    "50%_off",
    "back\\slash",
    "\"quoted\"",
    "$1",
    "日本",
];

const ALIASES: [&str; 4] = ["x", "Total Sales", "a\"b", "select"];

impl Builder {
    fn next(&mut self) -> u32 {
        let value = self.tape.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        value
    }

    fn pick(&mut self, n: usize) -> usize {
        self.next() as usize % n.max(1)
    }

    fn chance(&mut self, percent: u32) -> bool {
        // Zero means "no": the simplest choice.
        let roll = self.next() % 100;
        roll != 0 && roll < percent
    }

    fn choose<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.pick(items.len())].clone()
    }

    fn query(mut self) -> QueryDefinition {
        // Tables, joined along relationships.
        let base = self.choose(&TABLES.map(|(name, _)| name));
        let mut tables = vec![QueryTable::new("t1", base)];
        let mut joins = Vec::new();
        let extra_tables = self.pick(3);
        for _ in 0..extra_tables {
            // Now and then a table already in the query is joined again (a self-join, or the
            // same table reached by two paths), which its id then tells apart.
            let repeat = self.chance(25);
            let present: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
            let candidates: Vec<(usize, &str, &str, &str)> = RELATIONSHIPS
                .iter()
                .flat_map(|(ft, fc, tt, tc)| [(*ft, *fc, *tt, *tc), (*tt, *tc, *ft, *fc)])
                .filter_map(|(from, from_col, to, to_col)| {
                    let index = present.iter().position(|p| p == from)?;
                    (repeat || !present.iter().any(|p| p == to))
                        .then_some((index, from_col, to, to_col))
                })
                .collect();
            if candidates.is_empty() {
                break;
            }
            let (from_index, from_col, to, to_col) = self.choose(&candidates);
            let id = format!("t{}", tables.len() + 1);
            joins.push(JoinDefinition {
                from_table_id: tables[from_index].id.clone(),
                from_column: from_col.to_owned(),
                to_table_id: id.clone(),
                to_column: to_col.to_owned(),
                join_type: self.choose(&[
                    JoinType::Inner,
                    JoinType::Left,
                    JoinType::Right,
                    JoinType::Full,
                ]),
            });
            tables.push(QueryTable::new(id, to));
        }
        for (i, table) in tables.iter_mut().enumerate() {
            if self.chance(30) {
                table.alias = Some(if i == 0 {
                    "base\"q".to_owned()
                } else {
                    format!("a{i}")
                });
            }
        }
        let columns: Vec<Col> = tables
            .iter()
            .flat_map(|t| {
                self.schema
                    .table(&t.name)
                    .into_iter()
                    .flat_map(|s| s.columns.iter())
                    .map(|c| Col {
                        table_id: t.id.clone(),
                        name: c.name.clone(),
                        data_type: c.data_type.clone(),
                    })
            })
            .collect();
        let numeric: Vec<Col> = columns.iter().filter(|c| c.numeric()).cloned().collect();
        let temporal: Vec<Col> = columns.iter().filter(|c| c.temporal()).cloned().collect();

        let text: Vec<Col> = columns.iter().filter(|c| c.text()).cloned().collect();

        // Calculated fields over columns of the query (qualified with the table id, as an
        // unqualified name resolves to the first table that has the column), some referring
        // to earlier fields. Numeric ones may be summed and filtered; text ones only selected.
        let mut calculated: Vec<CalculatedField> = Vec::new();
        let mut numeric_calculated: Vec<CalculatedField> = Vec::new();
        for i in 0..self.pick(4) {
            let qualified = |c: &Col| format!("{}.{}", c.table_id, c.name);
            let a = qualified(&self.choose(&numeric));
            let b = qualified(&self.choose(&numeric));
            let (expression, is_numeric) = match self.pick(12) {
                0 => (format!("[{a}] * 2"), true),
                1 => (format!("[{a}] + [{b}]"), true),
                2 => (format!("if([{a}] > 10, [{b}], 0)"), true),
                3 => (format!("coalesce([{a}], 0) - round([{b}], 1)"), true),
                4 => (format!("abs([{a}]) / 2.5"), true),
                5 if !numeric_calculated.is_empty() => {
                    let earlier: CalculatedField = self.choose(&numeric_calculated);
                    (format!("[{}] * 3 + [{a}]", earlier.name), true)
                }
                6 if !temporal.is_empty() => {
                    let d = qualified(&self.choose(&temporal));
                    let unit = self.choose(&["\"days\"", "\"months\"", "\"years\"", "\"hours\""]);
                    (format!("datediff([{d}], today(), {unit})"), true)
                }
                7 if !temporal.is_empty() => {
                    let d = qualified(&self.choose(&temporal));
                    (format!("year([{d}]) * 100 + month([{d}])"), true)
                }
                8 if !text.is_empty() => {
                    let t = qualified(&self.choose(&text));
                    (format!("length([{t}]) + find(\"a\", [{t}])"), true)
                }
                9 if !text.is_empty() => {
                    let t = qualified(&self.choose(&text));
                    let u = qualified(&self.choose(&text));
                    (
                        format!("concatenate(upper([{t}]), \" - \", [{u}].concatenate())"),
                        false,
                    )
                }
                10 if !text.is_empty() => {
                    let t = qualified(&self.choose(&text));
                    (format!("if([{t}] == \"East\", \"E\", lower([{t}]))"), false)
                }
                _ => (format!("[{a}] - 1"), true),
            };
            let field = CalculatedField::new(format!("calc {i}"), expression);
            if is_numeric {
                numeric_calculated.push(field.clone());
            }
            calculated.push(field);
        }

        // Selected columns.
        let mut selections = Vec::new();
        for i in 0..=self.pick(4) {
            let use_calc = !calculated.is_empty() && self.chance(20);
            let mut selection = if use_calc {
                let field: CalculatedField = self.choose(&calculated);
                let numeric = numeric_calculated.contains(&field);
                let aggregations: &[Aggregation] = if numeric {
                    &[Aggregation::None, Aggregation::Sum, Aggregation::Max]
                } else {
                    &[
                        Aggregation::None,
                        Aggregation::Max,
                        Aggregation::CountDistinct,
                    ]
                };
                ColumnSelection::new("t1", field.name).aggregated(self.choose(aggregations))
            } else if self.chance(10) {
                ColumnSelection::new("t1", "*").aggregated(Aggregation::Count)
            } else {
                let col = self.choose(&columns);
                let mut allowed = vec![
                    Aggregation::None,
                    Aggregation::Count,
                    Aggregation::CountDistinct,
                ];
                if col.data_type != "jsonb" {
                    allowed.extend([Aggregation::Min, Aggregation::Max]);
                }
                if col.numeric() {
                    allowed.extend([Aggregation::Sum, Aggregation::Avg]);
                }
                let mut selection = ColumnSelection::new(col.table_id.clone(), col.name.clone())
                    .aggregated(self.choose(&allowed));
                if col.temporal() && self.chance(40) {
                    selection.date_trunc = Some(self.choose(&TimeUnit::ALL));
                }
                selection
            };
            if self.chance(25) {
                selection.alias = Some(format!("{} {i}", self.choose(&ALIASES)));
            }
            selections.push(selection);
        }

        // Filters.
        let mut filters = Vec::new();
        for _ in 0..self.pick(6) {
            if !numeric_calculated.is_empty() && self.chance(15) {
                let field: CalculatedField = self.choose(&numeric_calculated);
                let value = json!(self.pick(100));
                filters.push(FilterDefinition::new(
                    "t1",
                    field.name,
                    FilterOperator::Gt,
                    value,
                ));
                continue;
            }
            let col = self.choose(&columns);
            let (operator, value) = self.filter_for(&col);
            filters.push(FilterDefinition::new(
                col.table_id.clone(),
                col.name.clone(),
                operator,
                value,
            ));
        }

        let mut def = QueryDefinition::select(tables[0].clone(), selections);
        def.tables = tables;
        def.joins = joins;
        def.filters = filters;
        def.calculated_fields = calculated;

        // Time series on a date column of the query.
        if !temporal.is_empty() && self.chance(30) {
            let col = self.choose(&temporal);
            let unit = self.choose(&TimeUnit::ALL[..7]);
            let mut ts = TimeSeriesConfig::new(col.table_id, col.name, unit);
            if self.chance(30) {
                ts.alias = Some("bucket \"b\"".to_owned());
            }
            def.time_series = Some(ts);
        }

        // Ordering by selected columns (valid whether or not the query aggregates).
        for _ in 0..self.pick(3) {
            let selection: ColumnSelection = self.choose(&def.columns);
            if selection.column == "*" {
                continue;
            }
            def.order_by.push(SortDefinition {
                table_id: selection.table_id,
                column: selection.column,
                direction: self.choose(&[SortDirection::Asc, SortDirection::Desc]),
            });
        }
        // Sometimes the grouping is spelled out: the plain selected columns.
        if self.chance(20) {
            def.group_by = def
                .columns
                .iter()
                .filter(|c| !c.aggregation.is_aggregate() && c.column != "*")
                .map(|c| GroupByDefinition {
                    table_id: c.table_id.clone(),
                    column: c.column.clone(),
                })
                .collect();
        }
        if self.chance(50) {
            def.limit = Some(u64::from(self.next() % 1000));
        }
        if self.chance(20) {
            def.offset = Some(u64::from(self.next() % 100));
        }
        def
    }

    fn string(&mut self) -> Value {
        json!(self.choose(&STRINGS))
    }

    fn scalar(&mut self, col: &Col) -> Value {
        if col.numeric() {
            if self.chance(50) {
                json!(self.next() % 1000)
            } else {
                json!(f64::from(self.next() % 100_000) / 100.0)
            }
        } else if col.temporal() {
            let day = 1 + self.next() % 28;
            let month = 1 + self.next() % 12;
            if self.chance(50) {
                json!(format!("2025-{month:02}-{day:02}"))
            } else {
                json!(format!(
                    "2025-{month:02}-{day:02}T{:02}:30:00",
                    self.next() % 24
                ))
            }
        } else {
            self.string()
        }
    }

    fn list(&mut self, col: &Col) -> Value {
        let n = self.pick(4);
        Value::Array((0..n).map(|_| self.scalar(col)).collect())
    }

    fn filter_for(&mut self, col: &Col) -> (FilterOperator, Value) {
        use FilterOperator as Op;
        if col.data_type == "jsonb" {
            return match self.pick(3) {
                0 => (Op::IsNull, Value::Null),
                1 => (Op::Eq, self.string()),
                _ => (Op::Ilike, self.string()),
            };
        }
        let common = [
            Op::Eq,
            Op::Neq,
            Op::In,
            Op::NotIn,
            Op::InOrNull,
            Op::IsNull,
            Op::IsNotNull,
            Op::Between,
        ];
        let mut operators = common.to_vec();
        if col.numeric() || col.temporal() {
            operators.extend([Op::Gt, Op::Gte, Op::Lt, Op::Lte]);
        }
        if col.text() {
            operators.extend([
                Op::Like,
                Op::Ilike,
                Op::NotLike,
                Op::NotIlike,
                Op::Gt,
                Op::Lte,
            ]);
        }
        if col.temporal() {
            operators.extend([Op::DateRelative, Op::NotDateRelative, Op::DateWindow]);
        }
        let operator = self.choose(&operators);
        let value = match operator {
            Op::Eq | Op::Neq if self.chance(10) => Value::Null,
            Op::In | Op::NotIn => self.list(col),
            Op::InOrNull => {
                let mut list = self.list(col);
                if let Value::Array(items) = &mut list {
                    items.push(Value::Null);
                }
                list
            }
            Op::Between => json!([self.scalar(col), self.scalar(col)]),
            Op::IsNull | Op::IsNotNull => Value::Null,
            Op::DateRelative | Op::NotDateRelative => json!(i64::from(self.next() % 400) - 200),
            Op::DateWindow => json!({
                "period": self.choose(&["quarterly", "yearly"]),
                "value": i64::from(self.next() % 9) - 4,
            }),
            _ => self.scalar(col),
        };
        (operator, value)
    }
}
