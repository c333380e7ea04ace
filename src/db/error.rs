/// Whatever stood behind an unavailable database or a failed migration, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What the storage layer can report. Callers decide what each means for the person asking.
/// Each variant keeps its cause as its `source()`, so a log line written with
/// `logging::Chain` shows the whole story.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A uniqueness rule refused the write (e.g. an email already taken).
    #[error("a unique value is already taken")]
    UniqueViolation,
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    #[error("migration failed")]
    Migration(#[source] Cause),
    #[error("database query failed")]
    Query(#[source] diesel::result::Error),
    /// The blocking task that ran the work panicked or was cancelled.
    #[error("a database task stopped")]
    Task(#[source] tokio::task::JoinError),
    /// A row holds a value this version of the service does not know.
    #[error(transparent)]
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
