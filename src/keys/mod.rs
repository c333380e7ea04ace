//! API keys: creating, listing, revoking and rolling them, and authenticating a request
//! by one. Plain async functions; no HTTP here.

mod authenticate;
mod cache;
pub mod listener;
mod manage;
mod notices;
mod usage;

pub use authenticate::{AuthError, Principal, authenticate};
pub use cache::KeyCache;
pub use manage::{
    CreateKey, Issuer, IssuingKey, KeyError, KeyState, KeyView, Lineage, create_key, key, lineage,
    list_keys, rename_key, revoke_key, roll_key,
};
pub use usage::UsageRecorder;
