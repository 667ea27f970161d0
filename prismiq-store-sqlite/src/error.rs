//! [`SqliteStoreError`], and the one place where database errors become [`StoreError`]s.

use prismiq_core::{Conflict, StoreError};
use sqlx::migrate::MigrateError;

/// A failure talking to SQLite: what [`SqliteStore::connect`](crate::SqliteStore::connect) and
/// [`SqliteStore::migrate`](crate::SqliteStore::migrate) return.
///
/// The store traits report the same failures as [`StoreError`], through the `From` impl below:
/// a broken uniqueness rule becomes [`StoreError::Conflict`], a database that is busy, locked or
/// cannot be read or written (I/O error, full disk, file that cannot be opened, pool timed out
/// or closed) [`StoreError::Unavailable`], anything else [`StoreError::Backend`], with this
/// error as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteStoreError {
    /// A connection or statement failed.
    #[error("SQLite request failed")]
    Database(#[from] sqlx::Error),
    /// Applying prismiq's migrations failed.
    #[error("migrating prismiq's tables failed")]
    Migrate(#[from] MigrateError),
    /// A value could not be written as JSON, or a stored JSON value could not be read.
    #[error("encoding or decoding a JSON value failed")]
    Json(#[from] serde_json::Error),
    /// A stored id or timestamp is not in the form the store writes.
    #[error("stored value is invalid: {0}")]
    Invalid(String),
}

// SQLite's primary result codes (the low byte of an extended code).
const SQLITE_IOERR: i64 = 10;
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
const SQLITE_READONLY: i64 = 8;

impl SqliteStoreError {
    /// Whether the database could not be used right now (busy, locked, I/O failure, full
    /// disk, unopenable file, pool timed out or closed), so that retrying later may succeed.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(error) => unavailable(error),
            Self::Migrate(
                MigrateError::Execute(error) | MigrateError::ExecuteMigration(error, _),
            ) => unavailable(error),
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
        // SQLite names the columns, not the constraint: "UNIQUE constraint failed:
        // dashboards.tenant_id, dashboards.name". The tables are those of `sql/sqlite`.
        let columns = error.message().split_once("failed: ")?.1;
        match columns {
            "dashboards.tenant_id, dashboards.name" => Some(Conflict::DashboardName),
            "saved_queries.tenant_id, saved_queries.name" => Some(Conflict::SavedQueryName),
            "widgets.id" => Some(Conflict::WidgetId),
            "pins.tenant_id, pins.user_id, pins.dashboard_id, pins.context" => Some(Conflict::Pin),
            "templates.tenant_id, templates.name" => Some(Conflict::TemplateName),
            _ => None,
        }
    }
}

/// Whether the database cannot be used right now: another connection holds the lock past the
/// busy timeout, the file cannot be opened, read or written, or the pool gave no connection.
/// A statement the database refused for its content never is.
fn unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            .is_some_and(|code| {
                matches!(
                    code & 0xff,
                    SQLITE_BUSY
                        | SQLITE_LOCKED
                        | SQLITE_IOERR
                        | SQLITE_FULL
                        | SQLITE_CANTOPEN
                        | SQLITE_READONLY
                )
            }),
        _ => false,
    }
}

impl From<SqliteStoreError> for StoreError {
    fn from(error: SqliteStoreError) -> Self {
        if let Some(conflict) = error.conflict() {
            Self::Conflict(conflict)
        } else if error.is_unavailable() {
            Self::Unavailable(Box::new(error))
        } else {
            Self::Backend(Box::new(error))
        }
    }
}

/// Maps a failed statement to the store's error: the helper every store method uses.
pub(crate) fn db(error: sqlx::Error) -> StoreError {
    SqliteStoreError::from(error).into()
}

/// Maps a failed JSON encoding or decoding to the store's error.
pub(crate) fn json(error: serde_json::Error) -> StoreError {
    SqliteStoreError::from(error).into()
}

/// A stored value that is not in the form the store writes.
pub(crate) fn invalid(what: impl Into<String>) -> StoreError {
    SqliteStoreError::Invalid(what.into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_failures_are_unavailable() {
        assert!(SqliteStoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(SqliteStoreError::from(sqlx::Error::PoolClosed).is_unavailable());
        let io = std::io::Error::other("disk gone");
        assert!(SqliteStoreError::from(sqlx::Error::Io(io)).is_unavailable());
        assert!(!SqliteStoreError::from(sqlx::Error::RowNotFound).is_unavailable());
    }
}
