//! Envelope encryption of platform tokens.
//!
//! Each workspace has a random 256-bit data key. It is stored only wrapped (AEAD-encrypted) by
//! the root key, next to the root key's id, so that a rotation can tell which root key opens
//! it. Tokens are sealed with the data key, and the associated data names the workspace, the
//! record and the field: a ciphertext copied to another row, field or workspace does not open.
//!
//! XChaCha20-Poly1305 takes 192-bit nonces, so random nonces never realistically repeat however
//! many tokens one data key seals.

use super::RootKey;
use super::random_bytes;
use crate::domain::WorkspaceId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

/// The first byte of every sealed value: room for another format later.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The data key was wrapped by a root key this process was not given.
    #[error(
        "a workspace data key is wrapped by root key {0}, which is neither SOCIALIZER_ROOT_KEY nor one of SOCIALIZER_PREVIOUS_ROOT_KEYS"
    )]
    UnknownRootKey(String),
    /// Wrong key, tampered bytes, or a ciphertext moved from another row or workspace.
    #[error("a sealed value does not open with its key and context")]
    DoesNotOpen,
}

/// A secret read back in clear (a platform token): `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a sealed value belongs: it opens only in the same place.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub workspace: &'a WorkspaceId,
    /// The row: an account id, or an OAuth state's digest.
    pub record: &'a str,
    /// The column: `access_token`, `refresh_token`, `pkce_verifier`.
    pub field: &'a str,
}

impl Context<'_> {
    fn associated_data(&self) -> Vec<u8> {
        // Length-prefixed, so that no two contexts share an encoding.
        let mut aad = b"socializer token v1".to_vec();
        for part in [self.workspace.as_str(), self.record, self.field] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// A workspace's data key, in clear: lives only in memory, for one operation.
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate() -> Self {
        Self(random_bytes::<32>())
    }

    pub fn seal(&self, context: Context<'_>, plaintext: &str) -> Vec<u8> {
        seal(&self.0, &context.associated_data(), plaintext.as_bytes())
    }

    pub fn open(&self, context: Context<'_>, sealed: &[u8]) -> Result<Secret, CryptoError> {
        let bytes = open(&self.0, &context.associated_data(), sealed)?;
        String::from_utf8(bytes)
            .map(Secret)
            .map_err(|_| CryptoError::DoesNotOpen)
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0 = [0; 32];
    }
}

/// A data key as stored: wrapped by the root key named by `root_key_id`.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    pub root_key_id: String,
    pub wrapped: Vec<u8>,
}

/// The root keys this process holds: the current one wraps, the previous ones (during a
/// rotation) still unwrap.
#[derive(Clone)]
pub struct Keyring {
    current: (String, [u8; 32]),
    previous: Vec<(String, [u8; 32])>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.0)
            .field(
                "previous",
                &self.previous.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The public name of a root key: derived from it, reveals nothing of it.
pub fn root_key_id(key: &RootKey) -> String {
    let digest = super::sha256_hex([b"socializer root key id:".as_slice(), key.expose()].concat());
    format!("rk_{}", &digest[..16])
}

impl Keyring {
    pub fn new(current: &RootKey, previous: &[RootKey]) -> Self {
        Self {
            current: (root_key_id(current), *current.expose()),
            previous: previous
                .iter()
                .map(|k| (root_key_id(k), *k.expose()))
                .collect(),
        }
    }

    pub fn current_id(&self) -> &str {
        &self.current.0
    }

    pub fn knows(&self, root_key_id: &str) -> bool {
        self.root_key(root_key_id).is_some()
    }

    fn root_key(&self, id: &str) -> Option<&[u8; 32]> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|(known, _)| known == id)
            .map(|(_, key)| key)
    }

    /// Wraps a workspace's data key under the current root key.
    pub fn wrap(&self, workspace: &WorkspaceId, key: &DataKey) -> WrappedKey {
        WrappedKey {
            root_key_id: self.current.0.clone(),
            wrapped: seal(&self.current.1, &wrap_context(workspace), &key.0),
        }
    }

    pub fn unwrap(
        &self,
        workspace: &WorkspaceId,
        stored: &WrappedKey,
    ) -> Result<DataKey, CryptoError> {
        let root = self
            .root_key(&stored.root_key_id)
            .ok_or_else(|| CryptoError::UnknownRootKey(stored.root_key_id.clone()))?;
        let bytes = open(root, &wrap_context(workspace), &stored.wrapped)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::DoesNotOpen)?;
        Ok(DataKey(key))
    }

    /// The same data key wrapped under the current root key, when it is under another one.
    pub fn rewrap(
        &self,
        workspace: &WorkspaceId,
        stored: &WrappedKey,
    ) -> Result<Option<WrappedKey>, CryptoError> {
        if stored.root_key_id == self.current.0 {
            return Ok(None);
        }
        let key = self.unwrap(workspace, stored)?;
        Ok(Some(self.wrap(workspace, &key)))
    }
}

/// A secret split in two for one trip: `sealed` under a fresh one-time `key`. Neither half
/// opens alone, so each may rest where the other is not (the sealed half in the server-side
/// session, the key in the browser's cookie).
pub struct OneTrip {
    pub key: [u8; 32],
    pub sealed: Vec<u8>,
}

impl OneTrip {
    pub fn seal(context: &str, plaintext: &str) -> Self {
        let key = random_bytes::<32>();
        let sealed = seal(&key, context.as_bytes(), plaintext.as_bytes());
        Self { key, sealed }
    }

    /// The secret again, from both halves and the same context.
    pub fn open(key: &[u8; 32], context: &str, sealed: &[u8]) -> Result<Secret, CryptoError> {
        let bytes = open(key, context.as_bytes(), sealed)?;
        String::from_utf8(bytes)
            .map(Secret)
            .map_err(|_| CryptoError::DoesNotOpen)
    }
}

fn wrap_context(workspace: &WorkspaceId) -> Vec<u8> {
    let mut aad = b"socializer data key v1:".to_vec();
    aad.extend_from_slice(workspace.as_str().as_bytes());
    aad
}

// XChaCha20-Poly1305 refuses only messages past 256 GiB; what is sealed here (tokens, data
// keys) is a few hundred bytes.
#[allow(clippy::expect_used)]
fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = random_bytes::<NONCE_LEN>();
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("a message of a few hundred bytes always encrypts");
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (format, rest) = sealed.split_first().ok_or(CryptoError::DoesNotOpen)?;
    if *format != FORMAT_V1 || rest.len() < NONCE_LEN {
        return Err(CryptoError::DoesNotOpen);
    }
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| CryptoError::DoesNotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(byte: u8) -> RootKey {
        RootKey([byte; 32])
    }

    #[test]
    fn a_token_opens_only_in_its_own_place() {
        let ws = WorkspaceId::generate();
        let other_ws = WorkspaceId::generate();
        let key = DataKey::generate();
        let here = Context {
            workspace: &ws,
            record: "acc_1",
            field: "access_token",
        };
        let sealed = key.seal(here, "token-value");
        assert!(
            !String::from_utf8_lossy(&sealed).contains("token-value"),
            "sealed bytes carry no plaintext"
        );
        assert_eq!(key.open(here, &sealed).unwrap().expose(), "token-value");
        for elsewhere in [
            Context {
                record: "acc_2",
                ..here
            },
            Context {
                field: "refresh_token",
                ..here
            },
            Context {
                workspace: &other_ws,
                ..here
            },
        ] {
            assert_eq!(
                key.open(elsewhere, &sealed),
                Err(CryptoError::DoesNotOpen),
                "{elsewhere:?}"
            );
        }
        assert_eq!(
            DataKey::generate().open(here, &sealed),
            Err(CryptoError::DoesNotOpen)
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(key.open(here, &tampered), Err(CryptoError::DoesNotOpen));
        assert_eq!(key.open(here, &[]), Err(CryptoError::DoesNotOpen));
    }

    #[test]
    fn data_keys_unwrap_with_their_root_key_and_workspace_only() {
        let ws = WorkspaceId::generate();
        let old = Keyring::new(&root(1), &[]);
        let data = DataKey::generate();
        let wrapped = old.wrap(&ws, &data);
        assert_eq!(wrapped.root_key_id, root_key_id(&root(1)));
        assert_eq!(old.unwrap(&ws, &wrapped).unwrap().0, data.0);
        assert!(matches!(
            old.unwrap(&WorkspaceId::generate(), &wrapped),
            Err(CryptoError::DoesNotOpen)
        ));

        // A process given only another root key says which one it lacks.
        let stranger = Keyring::new(&root(2), &[]);
        assert_eq!(
            stranger.unwrap(&ws, &wrapped).err(),
            Some(CryptoError::UnknownRootKey(wrapped.root_key_id.clone()))
        );
        // A forged id on the wrong key does not open either.
        let forged = WrappedKey {
            root_key_id: stranger.current_id().to_owned(),
            ..wrapped.clone()
        };
        assert_eq!(
            stranger.unwrap(&ws, &forged).err(),
            Some(CryptoError::DoesNotOpen)
        );

        // Rotation: the new keyring reads the old wrapping and rewraps under the new key.
        let rotating = Keyring::new(&root(2), &[root(1)]);
        let rewrapped = rotating.rewrap(&ws, &wrapped).unwrap().unwrap();
        assert_eq!(rewrapped.root_key_id, rotating.current_id());
        assert!(rotating.rewrap(&ws, &rewrapped).unwrap().is_none());
        assert_eq!(stranger.unwrap(&ws, &rewrapped).unwrap().0, data.0);
        assert!(format!("{rotating:?}").contains("rk_"));
    }
}
