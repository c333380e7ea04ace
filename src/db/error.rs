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
            Error::DeserializationError(cause) => match unknown_stored_value(cause.as_ref()) {
                Some(unknown) => DbError::Unknown(unknown),
                None => DbError::Query(Error::DeserializationError(cause)),
            },
            other => DbError::Query(other),
        }
    }
}

/// The unknown stored value behind a failed read, whether Diesel reports it bare or wrapped
/// with the name of the field it was read for.
fn unknown_stored_value(
    cause: &(dyn std::error::Error + Send + Sync + 'static),
) -> Option<crate::domain::UnknownStoredValue> {
    use crate::domain::UnknownStoredValue;
    cause
        .downcast_ref::<UnknownStoredValue>()
        .or_else(|| {
            cause
                .downcast_ref::<diesel::result::DeserializeFieldError>()
                .and_then(|field| field.error.downcast_ref::<UnknownStoredValue>())
        })
        .cloned()
}
