//! This backend's failures, and how they become the store's [`StoreError`].

use moja_store::StoreError;

/// A failure inside the SQLite backend.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// Stored JSON did not read back.
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A backend-neutral operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        match error {
            Error::Sqlite(e) => {
                if let rusqlite::Error::SqliteFailure(failure, _) = &e
                    && failure.code == rusqlite::ErrorCode::ConstraintViolation
                {
                    return StoreError::Conflict(e.to_string());
                }
                StoreError::Database(e.to_string())
            }
            Error::Json(e) => StoreError::from(e),
            Error::Store(e) => e,
        }
    }
}

/// Shorthand inside this crate.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// A value read back from the database that does not parse.
pub(crate) fn stored(what: &str, value: impl std::fmt::Debug) -> Error {
    Error::Store(StoreError::Database(format!("stored {what} {value:?}")))
}
