//! `socializer rotate-root-key`: every workspace data key re-wrapped under the current
//! root key, token ciphertexts untouched. The previous root keys keep unwrapping until this
//! has run; afterwards they are no longer needed.

use crate::crypto::envelope::{CryptoError, Keyring};
use crate::db::{Database, DbError, KeyRotation, workspace_keys};
use crate::domain::now;
use crate::logging::Chain;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Data keys moved to the current root key by this run.
    pub rewrapped: usize,
    /// Data keys that no configured root key opens (their workspace ids).
    pub failed: Vec<String>,
}

/// Re-wraps each data key in its own transaction, so an interrupted run keeps what it did and
/// a second run finishes the rest.
pub async fn rotate_root_key(db: &Database, keyring: &Keyring) -> Result<RotationReport, DbError> {
    let current = keyring.current_id().to_owned();
    let pending = db
        .write(KeyRotation, move |conn| {
            workspace_keys::not_under(conn, &current)
        })
        .await?;
    let mut report = RotationReport::default();
    for (workspace, stored) in pending {
        match keyring.rewrap(&workspace, &stored) {
            Ok(Some(new)) => {
                let (workspace, old) = (workspace.clone(), stored.root_key_id.clone());
                let replaced = db
                    .write(KeyRotation, move |conn| {
                        workspace_keys::replace(conn, &workspace, &old, &new, now())
                    })
                    .await?;
                if replaced {
                    report.rewrapped += 1;
                }
            }
            Ok(None) => {}
            Err(e) => {
                log::error!("rotate-root-key: workspace {workspace}: {}", Chain(&e));
                report.failed.push(workspace.to_string());
            }
        }
    }
    Ok(report)
}

/// At start: every stored data key must be wrapped by a root key this process holds, or the
/// start stops with one line saying which root key is missing.
pub async fn check_root_keys(db: &Database, keyring: &Keyring) -> Result<(), RootKeyCheck> {
    let counts = db
        .write(KeyRotation, workspace_keys::count_by_root_key)
        .await?;
    match counts.into_iter().find(|(id, _)| !keyring.knows(id)) {
        None => Ok(()),
        Some((id, needed_by)) => Err(RootKeyCheck::Missing {
            missing: CryptoError::UnknownRootKey(id),
            needed_by,
        }),
    }
}

/// Why the start-up check of the root keys stopped the start.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyCheck {
    #[error("cannot count the data keys by root key")]
    Database(#[from] DbError),
    #[error("{missing} ({needed_by} workspace data key(s) need it)")]
    Missing {
        missing: CryptoError,
        needed_by: i64,
    },
}
