//! [`PgStoreError`], and the one place where database errors become [`StoreError`]s.

use prismiq_core::{Conflict, StoreError};
use sqlx::migrate::MigrateError;

/// A failure talking to PostgreSQL: what [`PostgresStore::connect`](crate::PostgresStore::connect)
/// and [`PostgresStore::migrate`](crate::PostgresStore::migrate) return.
///
/// The store traits report the same failures as [`StoreError`], through the `From` impl below:
/// a broken uniqueness rule becomes [`StoreError::Conflict`], a value PostgreSQL cannot hold
/// (text with U+0000) [`StoreError::Rejected`], a database that cannot be reached (connection
/// refused or lost, pool timed out or closed, server shutting down or full)
/// [`StoreError::Unavailable`], anything else [`StoreError::Backend`], with this error as the
/// source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// A connection or statement failed.
    #[error("PostgreSQL request failed")]
    Database(#[from] sqlx::Error),
    /// Applying prismiq's migrations failed.
    #[error("migrating prismiq's tables failed")]
    Migrate(#[from] MigrateError),
    /// A value could not be written as JSON.
    #[error("encoding a value as JSON failed")]
    Encode(#[from] serde_json::Error),
}

impl PgStoreError {
    /// Whether the database could not be reached, so that retrying later may succeed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(error) => unreachable_database(error),
            Self::Migrate(
                MigrateError::Execute(error) | MigrateError::ExecuteMigration(error, _),
            ) => unreachable_database(error),
            _ => false,
        }
    }

    /// The uniqueness rule this error breaks, if it is one of the store's.
    pub fn conflict(&self) -> Option<Conflict> {
        let Self::Database(sqlx::Error::Database(error)) = self else {
            return None;
        };
        if !error.is_unique_violation() {
            return None;
        }
        // The constraint names are those of `sql/migrations`.
        match error.constraint()? {
            "dashboards_tenant_id_name_key" => Some(Conflict::DashboardName),
            "saved_queries_tenant_id_name_key" => Some(Conflict::SavedQueryName),
            "widgets_pkey" => Some(Conflict::WidgetId),
            "pins_tenant_id_user_id_dashboard_id_context_key" => Some(Conflict::Pin),
            "templates_tenant_id_name_key" => Some(Conflict::TemplateName),
            _ => None,
        }
    }
}

/// Whether the database cannot be reached: the connection failed, was lost or could not be
/// had, or the server is shutting down or full. Only these are "unavailable" (503): an error
/// the database returned for one statement never is, whatever its class.
pub(crate) fn unreachable_database(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            // Class 08: connection exceptions, but for 08P01 (protocol violation), which a
            // malformed statement causes; 53300: too many connections; 57P01..57P03: the
            // server is shutting down, crashed, or not accepting connections yet.
            (code.starts_with("08") && code != "08P01")
                || matches!(&*code, "53300" | "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// The database's message when it refused to store a value it cannot hold: text with
/// U+0000 (22021 for `text`, 22P05 for `jsonb`) or in no valid encoding.
pub(crate) fn unstorable_value(error: &sqlx::Error) -> Option<&str> {
    let sqlx::Error::Database(error) = error else {
        return None;
    };
    matches!(error.code().as_deref(), Some("22021" | "22P05")).then(|| error.message())
}

impl From<PgStoreError> for StoreError {
    fn from(error: PgStoreError) -> Self {
        if let Some(conflict) = error.conflict() {
            Self::Conflict(conflict)
        } else if let PgStoreError::Database(database) = &error
            && let Some(message) = unstorable_value(database)
        {
            Self::Rejected(message.to_owned())
        } else if error.is_unavailable() {
            Self::Unavailable(Box::new(error))
        } else {
            Self::Backend(Box::new(error))
        }
    }
}

/// Maps a failed statement to the store's error: the helper every store method uses.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    PgStoreError::from(error).into()
}

/// Maps a failed JSON encoding to the store's error.
pub(crate) fn encode(error: serde_json::Error) -> StoreError {
    PgStoreError::from(error).into()
}
