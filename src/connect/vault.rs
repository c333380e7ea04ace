//! A workspace's data key, created on first use and unwrapped for one transaction at a time.

use super::ConnectError;
use crate::crypto::envelope::{DataKey, Keyring};
use crate::db::{DbError, WorkspaceConn, workspace_keys};

/// The data key of the connection's workspace, made (and stored wrapped) when it has none yet.
/// Fails with storage's error, or the keyring's when the root key that wrapped it is missing.
pub fn data_key(conn: &mut WorkspaceConn<'_>, keyring: &Keyring) -> Result<DataKey, ConnectError> {
    let workspace = conn.workspace_id().clone();
    let stored = match workspace_keys::get(conn)? {
        Some(stored) => stored,
        None => {
            let fresh = keyring.wrap(&workspace, &DataKey::generate());
            // Two first uses at once: one insert wins, both read the winner back.
            workspace_keys::insert_if_absent(conn, &fresh, crate::domain::now())?;
            workspace_keys::get(conn)?.ok_or(DbError::Unavailable(
                "the data key just stored is not there".into(),
            ))?
        }
    };
    Ok(keyring.unwrap(&workspace, &stored)?)
}
