//! What a transaction may see. Every query function takes a [`Scoped`] connection of the scope
//! it needs; only [`super::Database`] hands them out, each inside a transaction bound to its
//! scope. On PostgreSQL the binding is a transaction-local setting that the row-level security
//! policies read, so a scope is enforced twice: by the compiler and by the database.
//!
//! A new scope is one type here with its [`TxScope::bind`], and a policy in the migrations.

use super::{DbConnection, DbError};
use crate::domain::{UserId, WorkspaceId};
use diesel::RunQueryDsl as _;
use diesel::sql_types::Text;

/// A kind of view onto the database, entered at the start of a transaction.
pub trait TxScope: Send + 'static {
    /// Binds the current transaction to this scope.
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError>;
}

/// Scopes from which a transaction may go on into one workspace, once it has learnt which.
pub trait LeadsToWorkspace: TxScope {}

/// A connection inside a transaction bound to the scope `S`.
pub struct Scoped<'c, S> {
    conn: &'c mut DbConnection,
    scope: S,
}

impl<'c, S: TxScope> Scoped<'c, S> {
    pub(super) fn enter(conn: &'c mut DbConnection, scope: S) -> Result<Self, DbError> {
        scope.bind(conn)?;
        Ok(Self { conn, scope })
    }
}

impl<S> Scoped<'_, S> {
    pub(super) fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// The connection and the scope at once, so that a query can name what the scope holds
    /// (`let (conn, InWorkspace(workspace)) = conn.split();`) while it runs on the connection.
    pub(super) fn split(&mut self) -> (&mut DbConnection, &S) {
        (self.conn, &self.scope)
    }
}

impl<S: LeadsToWorkspace> Scoped<'_, S> {
    /// Binds the rest of this transaction to `workspace`.
    pub fn enter_workspace(
        &mut self,
        workspace: WorkspaceId,
    ) -> Result<WorkspaceConn<'_>, DbError> {
        Scoped::enter(self.conn, InWorkspace(workspace))
    }
}

/// One workspace's data.
///
/// Functions over workspace tables take a [`WorkspaceConn`] and filter by
/// [`WorkspaceConn::workspace_id`] themselves; there is no other way to reach those tables, so
/// a query that forgets the workspace does not compile. On PostgreSQL the transaction also
/// carries the workspace as `app.workspace_id`, and row-level security hides every other
/// workspace's rows.
///
/// ```compile_fail
/// # async fn leak(db: socializer::db::Database) {
/// // Listing members needs a workspace-bound connection; the global one does not do.
/// db.write(Global, |conn| socializer::db::memberships::members(conn)).await;
/// # }
/// ```
pub struct InWorkspace(pub WorkspaceId);
pub type WorkspaceConn<'c> = Scoped<'c, InWorkspace>;

impl TxScope for InWorkspace {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.workspace_id", self.0.as_str())
    }
}

impl WorkspaceConn<'_> {
    pub fn workspace_id(&self) -> &WorkspaceId {
        &self.scope.0
    }

    /// The tables that hold no workspace data (users, throttling counters), in the same
    /// transaction.
    pub fn global(&mut self) -> GlobalConn<'_> {
        Scoped {
            conn: self.conn,
            scope: Global,
        }
    }

    /// The bare connection, so that a test can run a query with no workspace filter and show
    /// that PostgreSQL's row-level security still keeps other workspaces out.
    #[cfg(feature = "isolation-tests")]
    pub fn raw_for_isolation_tests(&mut self) -> &mut DbConnection {
        self.conn
    }
}

/// One user's memberships across workspaces (and those workspaces' names), for the workspace
/// switcher. Nothing else of those workspaces.
pub struct AsUser(pub UserId);
pub type UserConn<'c> = Scoped<'c, AsUser>;

impl TxScope for AsUser {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.user_id", self.0.as_str())
    }
}

impl UserConn<'_> {
    pub fn user_id(&self) -> &UserId {
        &self.scope.0
    }
}

/// The one API key with this digest, in whichever workspace it is: how a request's key is
/// authenticated before its workspace is known.
pub struct ByKeyDigest(pub String);
pub type KeyLookupConn<'c> = Scoped<'c, ByKeyDigest>;

impl TxScope for ByKeyDigest {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.api_key_digest", &self.0)
    }
}

impl LeadsToWorkspace for ByKeyDigest {}

impl KeyLookupConn<'_> {
    pub fn digest(&self) -> &str {
        &self.scope.0
    }

    /// Runs `SELECT … FROM api_keys` with no filter at all and returns how many rows it saw and
    /// the workspace of the first, so a test can show that on PostgreSQL only the named key is
    /// visible.
    #[cfg(feature = "isolation-tests")]
    pub fn count_visible_for_isolation_tests(
        &mut self,
    ) -> Result<(usize, Option<String>), DbError> {
        use diesel::prelude::*;
        let rows: Vec<String> = super::schema::api_keys::table
            .select(super::schema::api_keys::workspace_id)
            .load(self.conn)?;
        Ok((rows.len(), rows.into_iter().next()))
    }
}

/// The one OAuth flow whose state digest this names, in whichever workspace it is: how a
/// platform's redirect finds its flow.
pub struct ByStateDigest(pub String);
pub type StateLookupConn<'c> = Scoped<'c, ByStateDigest>;

impl TxScope for ByStateDigest {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.oauth_state_digest", &self.0)
    }
}

impl LeadsToWorkspace for ByStateDigest {}

impl StateLookupConn<'_> {
    pub fn digest(&self) -> &str {
        &self.scope.0
    }

    /// The tables that hold no workspace data (the sandbox's codes), in the same transaction.
    pub fn global(&mut self) -> GlobalConn<'_> {
        Scoped {
            conn: self.conn,
            scope: Global,
        }
    }
}

/// The one invitation whose link's digest this names, in whichever workspace it is: how the
/// person who clicked the link finds what they were invited to.
pub struct ByInvitationDigest(pub String);
pub type InvitationLookupConn<'c> = Scoped<'c, ByInvitationDigest>;

impl TxScope for ByInvitationDigest {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.invitation_digest", &self.0)
    }
}

impl LeadsToWorkspace for ByInvitationDigest {}

impl InvitationLookupConn<'_> {
    /// The tables that hold no workspace data (users, sessions), in the same transaction.
    pub fn global(&mut self) -> GlobalConn<'_> {
        Scoped {
            conn: self.conn,
            scope: Global,
        }
    }
}

/// Every workspace's wrapped data key, and nothing else of any workspace: for rotating the root
/// key, which only the root key's holder can do anything with.
pub struct KeyRotation;
pub type KeyRotationConn<'c> = Scoped<'c, KeyRotation>;

impl TxScope for KeyRotation {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.key_rotation", "on")
    }
}

/// Connected accounts across workspaces, read only, for finding the ones whose tokens are due
/// for a refresh. Each refresh then runs in its own workspace's transaction.
pub struct RefreshScan;
pub type RefreshScanConn<'c> = Scoped<'c, RefreshScan>;

impl TxScope for RefreshScan {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.refresh_scan", "on")
    }
}

/// Post targets across workspaces, read only, for the publisher to find the workspaces with
/// targets due and the targets whose process stopped mid-send. Each claim then runs in its own
/// workspace's transaction.
pub struct PublishScan;
pub type PublishScanConn<'c> = Scoped<'c, PublishScan>;

impl TxScope for PublishScan {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.publish_scan", "on")
    }
}

/// Webhook deliveries across workspaces, read only, for the deliverer to find the workspaces
/// with deliveries due. Each claim then runs in its own workspace's transaction.
pub struct WebhookScan;
pub type WebhookScanConn<'c> = Scoped<'c, WebhookScan>;

impl TxScope for WebhookScan {
    fn bind(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        set_local(conn, "app.webhook_scan", "on")
    }
}

/// The tables that hold no workspace data (users, sessions, sign-in throttling). From there a
/// workspace can be entered in the same transaction (sign-up: the user and their first
/// workspace are created together or not at all).
pub struct Global;
pub type GlobalConn<'c> = Scoped<'c, Global>;

impl TxScope for Global {
    fn bind(&self, _: &mut DbConnection) -> Result<(), DbError> {
        Ok(())
    }
}

impl LeadsToWorkspace for Global {}

impl GlobalConn<'_> {
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
