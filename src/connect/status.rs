//! Where a connected account stands: the type lives with the other domain values.

pub use crate::domain::AccountStatus;
