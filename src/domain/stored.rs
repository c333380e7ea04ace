//! Values read back from storage. A stored value that is none of the known ones means the
//! database holds something this version of the service did not write: reading it fails
//! loudly, instead of skipping the row or guessing a default.

/// A stored value outside the known set.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the stored {what} {value:?} is not one this service knows")]
pub struct UnknownStoredValue {
    pub what: &'static str,
    pub value: String,
}
