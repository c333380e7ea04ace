//! What the pages and the API share at the HTTP layer, below both: who the client is, the
//! request limits counted per workspace and per address, and the strict reading of
//! percent-encoded text.

mod client;
mod query;
pub mod rate_limit;
pub mod shared_limits;
mod unexpected;

pub use client::{client_address, client_ip};
pub use query::is_strict_utf8;
pub use unexpected::Unexpected;
