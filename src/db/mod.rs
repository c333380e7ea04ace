//! Storage: one code path over SQLite (embedded default) and PostgreSQL (scale-out).
//!
//! Every function that reads or writes workspace data takes a [`WorkspaceConn`], which only
//! [`Database::in_workspace`] hands out, inside a transaction bound to that workspace. On
//! PostgreSQL the binding is also enforced by row-level security (see the migrations).

mod error;
mod migrate;
mod pool;
pub mod schema;
mod scope;

pub mod api_keys;
pub mod connected_accounts;
pub mod email_tokens;
pub mod login_throttle;
pub mod memberships;
pub mod oauth_states;
pub mod sandbox_grants;
pub mod sessions;
pub mod users;
pub mod workspace_keys;
pub mod workspaces;

pub use error::DbError;
pub use migrate::run_pending as migrate;
pub use pool::{Backend, DatabaseUrl};
pub use scope::{
    GlobalConn, KeyLookupConn, KeyRotationConn, RefreshScanConn, StateLookupConn, UserConn,
    WorkspaceConn,
};

use crate::domain::{UserId, WorkspaceId};
use std::sync::{Arc, Mutex};

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

type Pool = r2d2::Pool<pool::Manager>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// The service's handle on storage. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    backend: Backend,
    /// SQLite allows one writer at a time; taking turns in the process keeps two of our own
    /// writers from failing each other with SQLITE_BUSY. PostgreSQL needs no such thing.
    sqlite_writer: Arc<Mutex<()>>,
}

impl Database {
    /// Applies pending migrations, then opens the pool the service's queries use.
    pub fn open(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        Self::open_with(url, pool_size, 1)
    }

    /// Opens the database for a command that runs and exits (`rotate-root-key`).
    ///
    /// No idle connection is kept in reserve: r2d2 would open the replacement on a background
    /// thread, and a process that exits while that thread is in libpq's TLS handshake crashes in
    /// OpenSSL's exit handler.
    pub fn open_for_command(url: &DatabaseUrl) -> Result<Self, DbError> {
        Self::open_with(url, 1, 0)
    }

    fn open_with(url: &DatabaseUrl, pool_size: u32, min_idle: u32) -> Result<Self, DbError> {
        migrate::run_pending(url)?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(min_idle))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(pool::Manager::new(url.clone()))
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            backend: url.backend(),
            sqlite_writer: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` in a transaction bound to `workspace`, off the async threads.
    pub async fn in_workspace<T, F>(&self, workspace: WorkspaceId, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WorkspaceConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Write, move |conn| {
            let mut scoped = WorkspaceConn::enter(conn, workspace)?;
            f(&mut scoped)
        })
        .await
    }

    /// Like [`Database::in_workspace`], for work that only reads: on SQLite it does not wait for
    /// the writer's turn (WAL readers never block).
    pub async fn read_in_workspace<T, F>(&self, workspace: WorkspaceId, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut WorkspaceConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Read, move |conn| {
            let mut scoped = WorkspaceConn::enter(conn, workspace)?;
            f(&mut scoped)
        })
        .await
    }

    /// Reads in a transaction that sees only the API key with this digest.
    pub async fn by_key_digest<T, F>(&self, digest: String, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut KeyLookupConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Read, move |conn| {
            let mut scoped = KeyLookupConn::enter(conn, digest)?;
            f(&mut scoped)
        })
        .await
    }

    /// Runs `f` in a transaction that sees only the OAuth flow with this state digest.
    pub async fn by_state_digest<T, F>(&self, digest: String, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut StateLookupConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Write, move |conn| {
            let mut scoped = StateLookupConn::enter(conn, digest)?;
            f(&mut scoped)
        })
        .await
    }

    /// Like [`Database::by_state_digest`], for work that only reads (the sandbox's page).
    pub async fn read_by_state_digest<T, F>(&self, digest: String, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut StateLookupConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Read, move |conn| {
            let mut scoped = StateLookupConn::enter(conn, digest)?;
            f(&mut scoped)
        })
        .await
    }

    /// Runs `f` in a transaction that sees every workspace's wrapped data key.
    pub async fn for_key_rotation<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut KeyRotationConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Write, move |conn| {
            let mut scoped = KeyRotationConn::enter(conn)?;
            f(&mut scoped)
        })
        .await
    }

    /// Reads, across workspaces, which connected accounts are due for a refresh.
    pub async fn for_refresh_scan<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut RefreshScanConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Read, move |conn| {
            let mut scoped = RefreshScanConn::enter(conn)?;
            f(&mut scoped)
        })
        .await
    }

    /// Runs `f` in a transaction that sees `user`'s own memberships across workspaces.
    pub async fn as_user<T, F>(&self, user: UserId, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut UserConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Write, move |conn| {
            let mut scoped = UserConn::enter(conn, user)?;
            f(&mut scoped)
        })
        .await
    }

    /// Runs `f` in a transaction over the tables that hold no workspace data (users, sessions,
    /// sign-in throttling). From there a workspace can be entered in the same transaction.
    pub async fn global<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut GlobalConn<'_>) -> Result<T, DbError> + Send + 'static,
    {
        self.transaction(Access::Write, move |conn| f(&mut GlobalConn::new(conn)))
            .await
    }

    async fn transaction<T, F>(&self, access: Access, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let writer = (self.backend == Backend::Sqlite && access == Access::Write)
            .then(|| self.sqlite_writer.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            let _turn = writer
                .as_ref()
                .map(|lock| lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            let conn: &mut DbConnection = &mut conn;
            run_transaction(conn, access, f)
        })
        .await
        .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?
    }

    /// True when the role the database URL logs in as could step out of row-level security: a
    /// superuser or a `BYPASSRLS` role can `RESET ROLE` away from the service's role on a pooled
    /// connection. Always false on SQLite, which has no roles.
    pub async fn login_role_bypasses_rls(&self) -> Result<bool, DbError> {
        self.global(|conn| match conn.raw() {
            DbConnection::Pg(pg) => {
                use diesel::RunQueryDsl as _;
                // session_user is the login role, whatever SET ROLE has switched to since.
                Ok(diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "(SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user)",
                ))
                .get_result::<bool>(pg)?)
            }
            DbConnection::Sqlite(_) => Ok(false),
        })
        .await
    }

    /// True when the database answers a trivial query (for `/healthz`).
    pub async fn ping(&self) -> bool {
        self.global(|conn| {
            use diesel::RunQueryDsl as _;
            diesel::sql_query("SELECT 1").execute(conn.raw())?;
            Ok(())
        })
        .await
        .is_ok()
    }
}

/// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
///
/// A SQLite write transaction begins `IMMEDIATE`, taking the write lock up front. A deferred one
/// that read first and then wrote would fail at once with SQLITE_BUSY (no busy timeout applies)
/// whenever another process, such as a second server on the same file, committed in between.
fn run_transaction<T, F>(conn: &mut DbConnection, access: Access, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, DbError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as diesel::Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(sqlite) if access == Access::Write => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        _ => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(err),
            Err(rollback) => Err(rollback.into()),
        },
    }
}
