//! Custom SQL mode on the engine: validate and execute caller-written SQL under the same
//! schema, row-filter, limit and cache rules as structured queries.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Engine;
use super::queries::Caching;
use crate::auth::AuthContext;
use crate::custom_sql::{self, SqlPolicy, SqlValidation};
use crate::error::{EngineError, Limit, Unanswerable};
use crate::model::{DashboardFilter, FilterValue};
use crate::source::{ExecutionContext, QueryResult};

type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Body of `POST /query/execute-sql` (and of `/query/validate-sql`, which reads `sql` only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ExecuteSqlRequest {
    /// One read-only query.
    pub sql: String,
    /// Values of its `:name` parameters.
    #[serde(default)]
    pub params: Option<Map<String, Value>>,
    /// Dashboard filters to apply to the outer query.
    #[serde(default)]
    pub dashboard_filters: Option<Vec<DashboardFilter>>,
    /// The values chosen for them.
    #[serde(default)]
    pub filter_values: Option<Vec<FilterValue>>,
}

impl ExecuteSqlRequest {
    /// Run `sql` with no parameters or dashboard filters.
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: None,
            dashboard_filters: None,
            filter_values: None,
        }
    }
}

impl Engine {
    /// The policy custom SQL runs under for the caller: their schema, the tables they may see,
    /// the host's row filters on each, the row cap, the host's extra functions, the size limit
    /// and today's date.
    pub(super) async fn sql_policy(&self, auth: &dyn AuthContext) -> Result<(SqlPolicy, String)> {
        let schema_name = self.schema_name_of(auth);
        let schema = self.visible_schema(auth).await?;
        let tables: Vec<String> = schema.tables.iter().map(|t| t.name.clone()).collect();
        let mut row_filters = BTreeMap::new();
        if let Some(filter) = &self.analytics.row_filter {
            for table in &tables {
                let predicates = filter.predicates(auth, table);
                if !predicates.is_empty() {
                    row_filters.insert(table.clone(), predicates);
                }
            }
        }
        let policy = SqlPolicy::new(schema_name.clone(), tables)
            .with_dialect(self.source()?.dialect())
            .with_row_filters(row_filters)
            .with_max_rows(self.analytics.max_rows)
            .with_allowed_functions(self.analytics.allowed_functions.iter().cloned())
            .with_max_sql_bytes(self.analytics.max_sql_bytes)
            .with_today(chrono::Local::now().date_naive());
        Ok((policy, schema_name))
    }

    /// Checks caller-written SQL: `{valid, errors, tables}`.
    pub async fn validate_sql(&self, auth: &dyn AuthContext, sql: &str) -> Result<SqlValidation> {
        // Oversized SQL is refused before the schema is even looked up.
        if let Err(error) = custom_sql::check_size(sql, self.analytics.max_sql_bytes) {
            return Ok(SqlValidation {
                valid: false,
                errors: vec![error],
                tables: Vec::new(),
            });
        }
        let (policy, _) = self.sql_policy(auth).await?;
        Ok(custom_sql::validate_sql(sql, &policy))
    }

    /// Caller-written SQL checked and rewritten for the caller (see [`custom_sql::prepare`]),
    /// capped at `max_rows`, with the policy it was checked by and the schema it runs in. SQL longer than the size limit is
    /// [`EngineError::LimitExceeded`] (naming `max_sql_bytes`); any other problem is
    /// [`EngineError::BadRequest`] listing them all.
    pub(super) async fn prepare_sql(
        &self,
        auth: &dyn AuthContext,
        request: &ExecuteSqlRequest,
        max_rows: usize,
    ) -> Result<(custom_sql::PreparedSql, SqlPolicy, String)> {
        custom_sql::check_size(&request.sql, self.analytics.max_sql_bytes).map_err(|message| {
            EngineError::LimitExceeded {
                limit: Limit::SqlBytes,
                message,
            }
        })?;
        let (policy, schema) = self.sql_policy(auth).await?;
        let policy = policy.with_max_rows(max_rows);
        let empty = Map::new();
        let prepared = custom_sql::prepare(
            &request.sql,
            request.params.as_ref().unwrap_or(&empty),
            request.dashboard_filters.as_deref().unwrap_or_default(),
            request.filter_values.as_deref().unwrap_or_default(),
            &policy,
        )
        .map_err(|err| EngineError::BadRequest(Unanswerable::InvalidSql(err)))?;
        Ok((prepared, policy, schema))
    }

    /// Runs caller-written SQL: validated, qualified with the caller's schema, every table
    /// restricted by the host's row filters, parameters and dashboard filters bound, capped,
    /// and executed read-only under the timeout, through the result cache.
    ///
    /// SQL longer than the size limit is [`EngineError::LimitExceeded`] (naming
    /// `max_sql_bytes`); any other problem is [`EngineError::BadRequest`] listing them all.
    pub async fn execute_sql(
        &self,
        auth: &dyn AuthContext,
        request: &ExecuteSqlRequest,
    ) -> Result<QueryResult> {
        let (prepared, policy, schema) = self
            .prepare_sql(auth, request, self.analytics.max_rows)
            .await?;
        let context = ExecutionContext {
            schema,
            tenant_id: auth.tenant_id().to_owned(),
            timeout: self.analytics.query_timeout,
            max_rows: self.analytics.max_rows,
        };
        let today = policy.today.to_string();
        Ok(self
            .execute_through_cache(
                auth,
                &context,
                &prepared.statement,
                &["sql", &today],
                prepared.tables,
                Caching::Use,
                |r| r,
            )
            .await?
            .result)
    }
}
