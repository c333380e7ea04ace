//! API keys: `sk_live_` or `sk_test_`, 32 random bytes from the OS in base62, then a
//! 6-character base62 CRC-32 of everything before it. The checksum lets a malformed or mistyped
//! key be refused without a database read, and lets secret scanners recognise our keys. Only the
//! SHA-256 of the whole key is ever stored.

use crate::crypto::{random_bytes, sha256_hex};
use std::fmt;

pub use crate::domain::KeyMode;
use crate::domain::{LIVE_PREFIX, TEST_PREFIX};
/// 32 bytes as two base62 numbers of 22 digits each.
const SECRET_CHARS: usize = 44;
const CHECKSUM_CHARS: usize = 6;
const KEY_CHARS: usize = LIVE_PREFIX.len() + SECRET_CHARS + CHECKSUM_CHARS;

/// A key's plaintext. It exists only between generation and the one answer that shows it;
/// `Debug` and `Display` never print it.
pub struct NewApiKey(String);

impl NewApiKey {
    pub fn generate(mode: KeyMode) -> Self {
        let mut key = String::with_capacity(KEY_CHARS);
        key.push_str(mode.prefix());
        // 256 random bits, as two 128-bit halves of 22 base62 characters each.
        for _ in 0..2 {
            key.push_str(&base62_fixed(u128::from_be_bytes(random_bytes::<16>()), 22));
        }
        let checksum = checksum(&key);
        key.push_str(&checksum);
        Self(key)
    }

    /// The plaintext, for the one answer that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> String {
        sha256_hex(&self.0)
    }

    pub fn last4(&self) -> String {
        last4(&self.0)
    }
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewApiKey(…{})", self.last4())
    }
}

/// A key as presented by a client: well-formed, checksum right, not yet looked up.
#[derive(Clone)]
pub struct PresentedKey {
    pub mode: KeyMode,
    pub digest: String,
    pub last4: String,
}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresentedKey({}, …{})", self.mode.as_str(), self.last4)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed API key")]
pub struct MalformedKey;

impl PresentedKey {
    /// Checks the shape and the checksum, and computes the digest to look up. No I/O.
    pub fn parse(raw: &str) -> Result<Self, MalformedKey> {
        if raw.len() != KEY_CHARS || !raw.is_ascii() {
            return Err(MalformedKey);
        }
        let mode = if raw.starts_with(LIVE_PREFIX) {
            KeyMode::Live
        } else if raw.starts_with(TEST_PREFIX) {
            KeyMode::Test
        } else {
            return Err(MalformedKey);
        };
        let (body, sum) = raw.split_at(KEY_CHARS - CHECKSUM_CHARS);
        let secret = &body[LIVE_PREFIX.len()..];
        if !secret
            .bytes()
            .chain(sum.bytes())
            .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(MalformedKey);
        }
        if !crate::crypto::constant_time_eq(checksum(body).as_bytes(), sum.as_bytes()) {
            return Err(MalformedKey);
        }
        Ok(Self {
            mode,
            digest: sha256_hex(raw),
            last4: last4(raw),
        })
    }
}

fn last4(key: &str) -> String {
    key[key.len() - 4..].to_owned()
}

fn checksum(body: &str) -> String {
    base62_fixed(u128::from(crc32fast::hash(body.as_bytes())), CHECKSUM_CHARS)
}

/// Base62 (0-9, A-Z, a-z), left-padded with zeros to `width` digits.
fn base62_fixed(value: u128, width: usize) -> String {
    let digits = base62::encode(value);
    format!("{digits:0>width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape_and_parse() {
        for mode in [KeyMode::Live, KeyMode::Test] {
            let key = NewApiKey::generate(mode);
            let raw = key.expose();
            assert_eq!(raw.len(), KEY_CHARS);
            assert!(raw.starts_with(mode.prefix()));
            let parsed = PresentedKey::parse(raw).unwrap();
            assert_eq!(parsed.mode, mode);
            assert_eq!(parsed.digest, key.digest());
            assert_eq!(parsed.last4, key.last4());
        }
    }

    #[test]
    fn every_single_character_typo_is_caught_by_the_checksum() {
        let key = NewApiKey::generate(KeyMode::Live);
        let raw = key.expose();
        for i in LIVE_PREFIX.len()..raw.len() {
            let mut bytes = raw.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert_eq!(
                PresentedKey::parse(&typo).err(),
                Some(MalformedKey),
                "position {i}"
            );
        }
    }

    #[test]
    fn malformed_keys_are_refused() {
        let good = NewApiKey::generate(KeyMode::Test);
        let raw = good.expose();
        for bad in [
            "",
            "sk_live_",
            &raw[..raw.len() - 1],
            &format!("{raw}x"),
            &raw.replacen("sk_test_", "sk_prod_", 1),
            &raw.replacen("sk_test_", "sk_live_", 1),
            &format!("{}é", &raw[..raw.len() - 2]),
        ] {
            assert!(PresentedKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = NewApiKey::generate(KeyMode::Live);
        let shown = format!("{key:?} {:?}", PresentedKey::parse(key.expose()).unwrap());
        assert!(!shown.contains(&key.expose()[8..40]), "{shown}");
    }
}
