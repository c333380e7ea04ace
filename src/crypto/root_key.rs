//! The root key that wraps every workspace's data key. It lives with the cryptography that uses
//! it; configuration only reads it in.

use std::fmt;

/// 32 bytes. `Debug` never shows them.
#[derive(Clone)]
pub struct RootKey(pub(crate) [u8; 32]);

impl RootKey {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}
