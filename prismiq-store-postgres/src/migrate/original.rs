//! Reading the original server's tables.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row};

use super::MigrateError;

/// A row of `prismiq_dashboards`.
#[derive(Debug, Clone)]
pub(super) struct OldDashboard {
    pub(super) id: i64,
    pub(super) tenant_id: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) layout: Value,
    pub(super) filters: Value,
    pub(super) owner_id: Option<String>,
    pub(super) is_public: bool,
    pub(super) allowed_viewers: Vec<String>,
    pub(super) created_at: Option<DateTime<Utc>>,
    pub(super) updated_at: Option<DateTime<Utc>>,
}

/// A row of `prismiq_widgets`.
#[derive(Debug, Clone)]
pub(super) struct OldWidget {
    pub(super) id: i64,
    pub(super) dashboard_id: i64,
    pub(super) widget_type: Option<String>,
    pub(super) title: Option<String>,
    pub(super) query: Option<Value>,
    pub(super) position: Value,
    pub(super) config: Option<Value>,
    pub(super) created_at: Option<DateTime<Utc>>,
    pub(super) updated_at: Option<DateTime<Utc>>,
}

/// A row of `prismiq_saved_queries`.
#[derive(Debug, Clone)]
pub(super) struct OldSavedQuery {
    pub(super) id: i64,
    pub(super) tenant_id: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) query: Value,
    pub(super) owner_id: Option<String>,
    pub(super) is_shared: bool,
    pub(super) created_at: Option<DateTime<Utc>>,
    pub(super) updated_at: Option<DateTime<Utc>>,
}

/// A row of `prismiq_pinned_dashboards`.
#[derive(Debug, Clone)]
pub(super) struct OldPin {
    pub(super) id: i64,
    pub(super) tenant_id: String,
    pub(super) user_id: String,
    pub(super) dashboard_id: i64,
    pub(super) context: String,
    pub(super) pinned_at: Option<DateTime<Utc>>,
}

/// Everything the original kept.
#[derive(Debug, Default)]
pub(super) struct Original {
    pub(super) dashboards: Vec<OldDashboard>,
    pub(super) widgets: Vec<OldWidget>,
    pub(super) saved_queries: Vec<OldSavedQuery>,
    pub(super) pins: Vec<OldPin>,
}

/// Whether `name` is a schema name the original accepted (`^[A-Za-z_][A-Za-z0-9_]*$`), at
/// most 63 bytes (PostgreSQL's identifier length).
pub(super) fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One statement reading a table of `schema`. The schema name cannot be a bind parameter; it
/// was checked by [`valid_schema`] and is quoted here, the only text put into the statement.
async fn read(
    pool: &PgPool,
    schema: &str,
    select: &str,
    from: &str,
    order: &str,
) -> Result<Vec<PgRow>, MigrateError> {
    debug_assert!(valid_schema(schema));
    let sql = format!("select {select} from \"{schema}\".{from} order by {order}");
    sqlx::query(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(|source| MigrateError::Source {
            what: format!("reading \"{schema}\".{from}"),
            source,
        })
}

fn get<'r, T>(row: &'r PgRow, table: &str, column: &str) -> Result<T, MigrateError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(|source| MigrateError::Source {
        what: format!("reading column {column} of {table}"),
        source,
    })
}

/// Checks that the four tables are there, so that a wrong schema is one clear error.
async fn check_tables(pool: &PgPool, schema: &str) -> Result<(), MigrateError> {
    let found: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables \
         where table_schema = $1 and table_name = any($2)",
    )
    .bind(schema)
    .bind(&TABLES[..])
    .fetch_all(pool)
    .await
    .map_err(|source| MigrateError::Source {
        what: "listing the source tables".to_owned(),
        source,
    })?;
    let missing: Vec<&str> = TABLES
        .iter()
        .copied()
        .filter(|t| !found.iter().any(|f| f == t))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MigrateError::MissingTables {
            schema: schema.to_owned(),
            tables: missing.iter().map(|t| (*t).to_owned()).collect(),
        })
    }
}

const TABLES: [&str; 4] = [
    "prismiq_dashboards",
    "prismiq_widgets",
    "prismiq_saved_queries",
    "prismiq_pinned_dashboards",
];

/// Reads the four tables of `schema`, in id order (pins in list order).
pub(super) async fn read_original(pool: &PgPool, schema: &str) -> Result<Original, MigrateError> {
    check_tables(pool, schema).await?;
    let mut original = Original::default();
    let t = "prismiq_dashboards";
    for row in read(
        pool,
        schema,
        "id::int8 as id, tenant_id::text as tenant_id, name::text as name, description, layout::jsonb as layout, \
         filters::jsonb as filters, owner_id::text as owner_id, is_public, allowed_viewers::text[] as allowed_viewers, \
         created_at::timestamptz as created_at, updated_at::timestamptz as updated_at",
        t,
        "id",
    )
    .await?
    {
        original.dashboards.push(OldDashboard {
            id: get(&row, t, "id")?,
            tenant_id: get(&row, t, "tenant_id")?,
            name: get(&row, t, "name")?,
            description: get(&row, t, "description")?,
            layout: get::<Option<Value>>(&row, t, "layout")?.unwrap_or(Value::Null),
            filters: get::<Option<Value>>(&row, t, "filters")?.unwrap_or(Value::Null),
            owner_id: get(&row, t, "owner_id")?,
            is_public: get::<Option<bool>>(&row, t, "is_public")?.unwrap_or(false),
            allowed_viewers: get::<Option<Vec<String>>>(&row, t, "allowed_viewers")?
                .unwrap_or_default(),
            created_at: get(&row, t, "created_at")?,
            updated_at: get(&row, t, "updated_at")?,
        });
    }
    let t = "prismiq_widgets";
    for row in read(
        pool,
        schema,
        "id::int8 as id, dashboard_id::int8 as dashboard_id, type::text as type, title::text as title, \
         query::jsonb as query, position::jsonb as position, config::jsonb as config, \
         created_at::timestamptz as created_at, updated_at::timestamptz as updated_at",
        t,
        "dashboard_id, id",
    )
    .await?
    {
        original.widgets.push(OldWidget {
            id: get(&row, t, "id")?,
            dashboard_id: get(&row, t, "dashboard_id")?,
            widget_type: get(&row, t, "type")?,
            title: get(&row, t, "title")?,
            // A JSON `null` and SQL NULL both mean "no query".
            query: get::<Option<Value>>(&row, t, "query")?.filter(|q| !q.is_null()),
            position: get::<Option<Value>>(&row, t, "position")?.unwrap_or(Value::Null),
            config: get::<Option<Value>>(&row, t, "config")?.filter(|c| !c.is_null()),
            created_at: get(&row, t, "created_at")?,
            updated_at: get(&row, t, "updated_at")?,
        });
    }
    let t = "prismiq_saved_queries";
    for row in read(
        pool,
        schema,
        "id::int8 as id, tenant_id::text as tenant_id, name::text as name, description, query::jsonb as query, \
         owner_id::text as owner_id, is_shared, \
         created_at::timestamptz as created_at, updated_at::timestamptz as updated_at",
        t,
        "id",
    )
    .await?
    {
        original.saved_queries.push(OldSavedQuery {
            id: get(&row, t, "id")?,
            tenant_id: get(&row, t, "tenant_id")?,
            name: get(&row, t, "name")?,
            description: get(&row, t, "description")?,
            query: get::<Option<Value>>(&row, t, "query")?.unwrap_or(Value::Null),
            owner_id: get(&row, t, "owner_id")?,
            is_shared: get::<Option<bool>>(&row, t, "is_shared")?.unwrap_or(false),
            created_at: get(&row, t, "created_at")?,
            updated_at: get(&row, t, "updated_at")?,
        });
    }
    let t = "prismiq_pinned_dashboards";
    for row in read(
        pool,
        schema,
        "id::int8 as id, tenant_id::text as tenant_id, user_id::text as user_id, dashboard_id::int8 as dashboard_id, \
         context::text as context, pinned_at::timestamptz as pinned_at",
        t,
        // The original listed pins by position; equal positions (it allowed them) by age.
        "tenant_id, user_id, context, coalesce(position, 0), pinned_at, id",
    )
    .await?
    {
        original.pins.push(OldPin {
            id: get(&row, t, "id")?,
            tenant_id: get(&row, t, "tenant_id")?,
            user_id: get(&row, t, "user_id")?,
            dashboard_id: get(&row, t, "dashboard_id")?,
            context: get(&row, t, "context")?,
            pinned_at: get(&row, t, "pinned_at")?,
        });
    }
    Ok(original)
}
