use super::{DbConnection, DbError};
use crate::domain::{UserId, WorkspaceId};
use diesel::RunQueryDsl as _;
use diesel::sql_types::Text;

/// A connection inside a transaction bound to one workspace.
///
/// Functions over workspace tables take this type and filter by [`WorkspaceConn::workspace_id`]
/// themselves; there is no other way to reach those tables, so a query that forgets the
/// workspace does not compile. On PostgreSQL the transaction also carries the workspace as
/// `app.workspace_id`, and row-level security hides every other workspace's rows.
///
/// ```compile_fail
/// # async fn leak(db: socializer::db::Database) {
/// // Listing members needs a workspace-bound connection; the global one does not do.
/// db.global(|conn| socializer::db::memberships::members(conn)).await;
/// # }
/// ```
pub struct WorkspaceConn<'c> {
    conn: &'c mut DbConnection,
    workspace: WorkspaceId,
}

impl<'c> WorkspaceConn<'c> {
    pub(super) fn enter(
        conn: &'c mut DbConnection,
        workspace: WorkspaceId,
    ) -> Result<Self, DbError> {
        set_local(conn, "app.workspace_id", workspace.as_str())?;
        Ok(Self { conn, workspace })
    }

    pub fn workspace_id(&self) -> &WorkspaceId {
        &self.workspace
    }

    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// The bare connection, so that a test can run a query with no workspace filter and show
    /// that PostgreSQL's row-level security still keeps other workspaces out. Not for use in
    /// the service.
    #[doc(hidden)]
    pub fn raw_for_isolation_tests(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// A connection inside a transaction that sees one user's memberships across workspaces (and
/// those workspaces' names), for the workspace switcher. Nothing else of those workspaces.
pub struct UserConn<'c> {
    conn: &'c mut DbConnection,
    user: UserId,
}

impl<'c> UserConn<'c> {
    pub(super) fn enter(conn: &'c mut DbConnection, user: UserId) -> Result<Self, DbError> {
        set_local(conn, "app.user_id", user.as_str())?;
        Ok(Self { conn, user })
    }

    pub fn user_id(&self) -> &UserId {
        &self.user
    }

    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// A connection inside a transaction that may see the one API key with a given digest, in
/// whichever workspace it is: how a request's key is authenticated before its workspace is known.
pub struct KeyLookupConn<'c> {
    conn: &'c mut DbConnection,
    digest: String,
}

impl<'c> KeyLookupConn<'c> {
    pub(super) fn enter(conn: &'c mut DbConnection, digest: String) -> Result<Self, DbError> {
        set_local(conn, "app.api_key_digest", &digest)?;
        Ok(Self { conn, digest })
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Runs `SELECT … FROM api_keys` with no filter at all and returns how many rows it saw and
    /// the workspace of the first, so a test can show that on PostgreSQL only the named key is
    /// visible. Not for use in the service.
    #[doc(hidden)]
    pub fn count_visible_for_isolation_tests(
        &mut self,
    ) -> Result<(usize, Option<String>), DbError> {
        use diesel::prelude::*;
        let rows: Vec<String> = super::schema::api_keys::table
            .select(super::schema::api_keys::workspace_id)
            .load(self.conn)?;
        Ok((rows.len(), rows.into_iter().next()))
    }

    /// Binds the rest of the transaction to the key's workspace, once it is known.
    pub fn enter_workspace(
        &mut self,
        workspace: WorkspaceId,
    ) -> Result<WorkspaceConn<'_>, DbError> {
        WorkspaceConn::enter(self.conn, workspace)
    }

    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// A connection inside a transaction that may see the one OAuth flow whose state digest it
/// names, in whichever workspace it is: how a platform's redirect finds its flow.
pub struct StateLookupConn<'c> {
    conn: &'c mut DbConnection,
    digest: String,
}

impl<'c> StateLookupConn<'c> {
    pub(super) fn enter(conn: &'c mut DbConnection, digest: String) -> Result<Self, DbError> {
        set_local(conn, "app.oauth_state_digest", &digest)?;
        Ok(Self { conn, digest })
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Binds the rest of the transaction to the flow's workspace, once it is known.
    pub fn enter_workspace(
        &mut self,
        workspace: WorkspaceId,
    ) -> Result<WorkspaceConn<'_>, DbError> {
        WorkspaceConn::enter(self.conn, workspace)
    }

    /// The tables that hold no workspace data (the sandbox's codes), in the same transaction.
    pub fn global(&mut self) -> GlobalConn<'_> {
        GlobalConn::new(self.conn)
    }

    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// A connection that sees every workspace's wrapped data key, and nothing else of any
/// workspace: for rotating the root key, which only the root key's holder can do anything with.
pub struct KeyRotationConn<'c> {
    conn: &'c mut DbConnection,
}

impl<'c> KeyRotationConn<'c> {
    pub(super) fn enter(conn: &'c mut DbConnection) -> Result<Self, DbError> {
        set_local(conn, "app.key_rotation", "on")?;
        Ok(Self { conn })
    }

    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// A read-only view of connected accounts across workspaces, for finding the ones whose tokens
/// are due for a refresh. Each refresh then runs in its own workspace's transaction.
pub struct RefreshScanConn<'c> {
    conn: &'c mut DbConnection,
}

impl<'c> RefreshScanConn<'c> {
    pub(super) fn enter(conn: &'c mut DbConnection) -> Result<Self, DbError> {
        set_local(conn, "app.refresh_scan", "on")?;
        Ok(Self { conn })
    }

    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// A connection inside a transaction, for the tables that hold no workspace data.
pub struct GlobalConn<'c> {
    conn: &'c mut DbConnection,
}

impl<'c> GlobalConn<'c> {
    pub(super) fn new(conn: &'c mut DbConnection) -> Self {
        Self { conn }
    }

    /// Binds the rest of this transaction to `workspace` (e.g. sign-up: the user and their
    /// first workspace are created together or not at all).
    pub fn enter_workspace(
        &mut self,
        workspace: WorkspaceId,
    ) -> Result<WorkspaceConn<'_>, DbError> {
        WorkspaceConn::enter(self.conn, workspace)
    }

    pub(super) fn raw(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// Sets a transaction-local setting that the row-level security policies read.
fn set_local(conn: &mut DbConnection, name: &str, value: &str) -> Result<(), DbError> {
    if let DbConnection::Pg(_) = conn {
        diesel::sql_query("SELECT set_config($1, $2, true)")
            .bind::<Text, _>(name)
            .bind::<Text, _>(value)
            .execute(conn)?;
    }
    Ok(())
}
