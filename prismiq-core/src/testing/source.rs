//! A data source with a fixed schema, for testing the schema operations without a database.

/// A [`DataSource`](crate::DataSource) with a fixed schema, for testing the schema operations
/// without a database. It knows the schemas it was given; executing anything fails.
#[derive(Debug, Clone, Default)]
pub struct StaticDataSource {
    schemas: std::collections::BTreeMap<String, crate::schema::DatabaseSchema>,
}

impl StaticDataSource {
    /// A source with one schema.
    pub fn new(name: &str, schema: crate::schema::DatabaseSchema) -> Self {
        Self::default().with_schema(name, schema)
    }

    /// Adds a schema.
    pub fn with_schema(mut self, name: &str, schema: crate::schema::DatabaseSchema) -> Self {
        self.schemas.insert(name.to_owned(), schema);
        self
    }
}

#[async_trait::async_trait]
impl crate::source::DataSource for StaticDataSource {
    async fn introspect(
        &self,
        schema: &str,
    ) -> Result<crate::schema::DatabaseSchema, crate::source::SourceError> {
        Ok(self.schemas.get(schema).cloned().unwrap_or_default())
    }

    async fn schema_exists(&self, schema: &str) -> Result<bool, crate::source::SourceError> {
        Ok(self.schemas.contains_key(schema))
    }

    async fn execute(
        &self,
        _context: &crate::source::ExecutionContext,
        _query: &crate::source::CompiledQuery,
    ) -> Result<crate::source::QueryResult, crate::source::SourceError> {
        Err(crate::source::SourceError::Rejected(
            "StaticDataSource does not execute queries".to_owned(),
        ))
    }

    async fn ping(&self) -> Result<(), crate::source::SourceError> {
        Ok(())
    }
}

/// A small two-table schema (`customers`, `orders` with a foreign key) in schema `schema`.
pub fn small_schema(schema: &str) -> crate::schema::DatabaseSchema {
    use crate::schema::{ColumnSchema, DatabaseSchema, Relationship, TableSchema};
    let column = |name: &str, data_type: &str, pk: bool| ColumnSchema {
        name: name.to_owned(),
        data_type: data_type.to_owned(),
        is_nullable: !pk,
        is_primary_key: pk,
        default_value: None,
    };
    DatabaseSchema {
        tables: vec![
            TableSchema {
                name: "customers".to_owned(),
                schema_name: schema.to_owned(),
                columns: vec![
                    column("id", "integer", true),
                    column("name", "character varying", false),
                    column("email", "character varying", false),
                    column("region", "character varying", false),
                ],
                row_count: Some(500),
            },
            TableSchema {
                name: "orders".to_owned(),
                schema_name: schema.to_owned(),
                columns: vec![
                    column("id", "integer", true),
                    column("customer_id", "integer", false),
                    column("order_date", "date", false),
                    column("total_amount", "numeric", false),
                ],
                row_count: Some(3000),
            },
        ],
        relationships: vec![Relationship {
            from_table: "orders".to_owned(),
            from_column: "customer_id".to_owned(),
            to_table: "customers".to_owned(),
            to_column: "id".to_owned(),
        }],
    }
}
