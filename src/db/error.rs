/// What the storage layer can report. Callers decide what each means for the person asking.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness rule refused the write (e.g. an email already taken).
    #[error("a unique value is already taken")]
    UniqueViolation,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    /// A row holds a value this version of the service does not know.
    #[error("{0}")]
    Unknown(#[from] crate::domain::UnknownStoredValue),
}

impl From<diesel::result::Error> for DbError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => DbError::UniqueViolation,
            Error::DeserializationError(cause) => {
                match cause.downcast::<crate::domain::UnknownStoredValue>() {
                    Ok(unknown) => DbError::Unknown(*unknown),
                    Err(cause) => DbError::Query(Error::DeserializationError(cause)),
                }
            }
            other => DbError::Query(other),
        }
    }
}
