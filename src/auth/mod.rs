//! Who is asking: passwords, server-side sessions, CSRF tokens, sign-in throttling.

pub mod api_key;
pub mod csrf;
pub mod password;
pub mod session_state;
pub mod session_store;
pub mod throttle;
