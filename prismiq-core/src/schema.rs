//! The introspected database schema, and the per-tenant presentation config over it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::query::bind::Kind;

/// A column of a table or view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnSchema {
    /// Column name.
    pub name: String,
    /// The `information_schema.columns.data_type` text (`integer`, `character varying`,
    /// `timestamp without time zone`, `USER-DEFINED`, `ARRAY`, …).
    pub data_type: String,
    /// Whether it accepts NULL.
    pub is_nullable: bool,
    /// Whether it is part of the primary key.
    #[serde(default)]
    pub is_primary_key: bool,
    /// Its default expression, if any.
    #[serde(default)]
    pub default_value: Option<String>,
}

impl ColumnSchema {
    /// Whether the type is numeric: integer, bigint, smallint, numeric, decimal, real, double
    /// precision, and SQLite's spellings (`int`, `double`, `float`, `decimal(10,2)`, …).
    pub fn is_numeric(&self) -> bool {
        matches!(Kind::of(&self.data_type), Kind::Integer | Kind::Float)
    }

    /// Whether the column holds dates or timestamps.
    pub fn is_temporal(&self) -> bool {
        Kind::of(&self.data_type).is_temporal()
    }
}

/// A base table or view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableSchema {
    /// Table name.
    pub name: String,
    /// The PostgreSQL schema it lives in.
    pub schema_name: String,
    /// Columns in ordinal order.
    pub columns: Vec<ColumnSchema>,
    /// Approximate row count (`pg_class.reltuples`, at least 0); `None` for views.
    pub row_count: Option<i64>,
}

impl TableSchema {
    /// A column by exact name.
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A foreign-key relationship between two exposed tables.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Relationship {
    /// Referencing table.
    pub from_table: String,
    /// Referencing column.
    pub from_column: String,
    /// Referenced table.
    pub to_table: String,
    /// Referenced column.
    pub to_column: String,
}

/// The tables, views and relationships of one PostgreSQL schema that queries may use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseSchema {
    /// Tables and views, ordered by name.
    pub tables: Vec<TableSchema>,
    /// Foreign keys between them.
    pub relationships: Vec<Relationship>,
}

impl DatabaseSchema {
    /// A table by exact name.
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The schema without the tables and columns `config` hides, and without relationships
    /// touching them: what queries may use.
    pub fn visible(&self, config: &SchemaConfig) -> Self {
        let tables: Vec<TableSchema> = self
            .tables
            .iter()
            .filter(|t| !config.is_table_hidden(&t.name))
            .map(|t| TableSchema {
                columns: t
                    .columns
                    .iter()
                    .filter(|c| !config.is_column_hidden(&t.name, &c.name))
                    .cloned()
                    .collect(),
                ..t.clone()
            })
            .collect();
        let has = |table: &str, column: &str| {
            tables
                .iter()
                .any(|t| t.name == table && t.column(column).is_some())
        };
        let relationships = self
            .relationships
            .iter()
            .filter(|r| has(&r.from_table, &r.from_column) && has(&r.to_table, &r.to_column))
            .cloned()
            .collect();
        Self {
            tables,
            relationships,
        }
    }

    /// The schema with `config`'s display names, descriptions and formats, hidden parts left
    /// out.
    pub fn enhance(&self, config: &SchemaConfig) -> EnhancedDatabaseSchema {
        let visible = self.visible(config);
        EnhancedDatabaseSchema {
            tables: visible
                .tables
                .iter()
                .map(|t| enhance_table(t, config))
                .collect(),
            relationships: visible.relationships,
        }
    }
}

fn enhance_table(table: &TableSchema, config: &SchemaConfig) -> EnhancedTableSchema {
    let table_config = config.tables.get(&table.name);
    EnhancedTableSchema {
        name: table.name.clone(),
        schema_name: table.schema_name.clone(),
        columns: table
            .columns
            .iter()
            .map(|c| {
                let cc = table_config.and_then(|t| t.columns.get(&c.name));
                EnhancedColumnSchema {
                    name: c.name.clone(),
                    data_type: c.data_type.clone(),
                    is_nullable: c.is_nullable,
                    is_primary_key: c.is_primary_key,
                    default_value: c.default_value.clone(),
                    display_name: cc.and_then(|c| c.display_name.clone()),
                    description: cc.and_then(|c| c.description.clone()),
                    format: cc.and_then(|c| c.format.clone()),
                    date_format: cc.and_then(|c| c.date_format.clone()),
                }
            })
            .collect(),
        display_name: table_config.and_then(|t| t.display_name.clone()),
        description: table_config.and_then(|t| t.description.clone()),
    }
}

/// How a tenant presents its schema: display names, descriptions, formats, hidden parts.
///
/// Hidden tables and columns are left out of the enhanced schema **and** rejected by query
/// validation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    /// Per-table settings, by table name.
    #[serde(default)]
    pub tables: BTreeMap<String, TableConfig>,
}

impl SchemaConfig {
    /// Whether the table is hidden.
    pub fn is_table_hidden(&self, table: &str) -> bool {
        self.tables.get(table).is_some_and(|t| t.hidden)
    }

    /// Whether the column is hidden (or its table is).
    pub fn is_column_hidden(&self, table: &str, column: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|t| t.hidden || t.columns.get(column).is_some_and(|c| c.hidden))
    }
}

/// Settings of one table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Name shown instead of the table name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the table is hidden from listings and queries.
    #[serde(default)]
    pub hidden: bool,
    /// Per-column settings, by column name.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnConfig>,
}

/// Settings of one column.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// Name shown instead of the column name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the column is hidden from listings and queries.
    #[serde(default)]
    pub hidden: bool,
    /// Number format (`plain`, `currency`, `percent`, `compact`).
    #[serde(default)]
    pub format: Option<String>,
    /// Date format.
    #[serde(default)]
    pub date_format: Option<String>,
}

/// A column with its presentation settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnhancedColumnSchema {
    /// Column name.
    pub name: String,
    /// `information_schema` data type.
    pub data_type: String,
    /// Whether it accepts NULL.
    pub is_nullable: bool,
    /// Whether it is part of the primary key.
    pub is_primary_key: bool,
    /// Its default expression.
    pub default_value: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Number format.
    pub format: Option<String>,
    /// Date format.
    pub date_format: Option<String>,
}

/// A table with its presentation settings (no row count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnhancedTableSchema {
    /// Table name.
    pub name: String,
    /// PostgreSQL schema.
    pub schema_name: String,
    /// Visible columns.
    pub columns: Vec<EnhancedColumnSchema>,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// One table the caller may query, as the React client lists it (`GET /data-sources`): the
/// tenant's display name as the title (else the table name), its description as the subtitle
/// (else empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataSourceEntry {
    /// The table name, which identifies the entry.
    pub id: String,
    /// The table name.
    pub table: String,
    /// What the table is called in the interface.
    pub title: String,
    /// A line about the table; empty when the tenant gave no description.
    pub subtitle: String,
}

impl DataSourceEntry {
    /// The entry for a table as the tenant presents it.
    pub fn of(table: &EnhancedTableSchema) -> Self {
        Self {
            id: table.name.clone(),
            table: table.name.clone(),
            title: table
                .display_name
                .clone()
                .filter(|name| !name.trim().is_empty())
                .unwrap_or_else(|| table.name.clone()),
            subtitle: table.description.clone().unwrap_or_default(),
        }
    }
}

/// The schema as a tenant presents it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnhancedDatabaseSchema {
    /// Visible tables.
    pub tables: Vec<EnhancedTableSchema>,
    /// Relationships between visible columns.
    pub relationships: Vec<Relationship>,
}
