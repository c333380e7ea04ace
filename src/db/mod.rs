//! Storage: one code path over SQLite (embedded default) and PostgreSQL (scale-out).
//!
//! Every function that reads or writes workspace data takes a [`WorkspaceConn`], which only
//! [`Database`] hands out, inside a transaction bound to that workspace (see `scope`). On
//! PostgreSQL the binding is also enforced by row-level security (see the migrations).

mod error;
mod migrate;
mod pool;
pub mod schema;
mod scoped;
mod text_columns;

pub mod api_keys;
pub mod audit_events;
pub mod connected_accounts;
pub mod email_tokens;
pub mod google_sign_ins;
pub mod idempotency_keys;
pub mod identities;
pub mod invitations;
pub mod key_changes;
pub mod login_throttle;
pub mod memberships;
pub mod oauth_states;
pub mod posts;
pub mod sandbox_grants;
pub mod sessions;
pub mod users;
pub mod webhooks;
pub mod workspace_keys;
pub mod workspaces;

pub use error::DbError;
pub use migrate::run_pending as migrate;
pub use pool::{Backend, DatabaseUrl};
pub use scoped::{
    AsUser, ByInvitationDigest, ByKeyDigest, ByStateDigest, Global, GlobalConn, InWorkspace,
    InvitationLookupConn, KeyLookupConn, KeyRotation, KeyRotationConn, LeadsToWorkspace,
    PublishScan, PublishScanConn, RefreshScan, RefreshScanConn, Scoped, StateLookupConn, TxScope,
    UserConn, WebhookScan, WebhookScanConn, WorkspaceConn,
};

use std::sync::{Arc, Mutex};

/// One connection to whichever backend the URL named.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

type Pool = r2d2::Pool<pool::Manager>;

/// The work of one transaction: given the connection of its scope, it answers `T` or fails
/// with `E`.
pub trait Work<S, T, E>: FnOnce(&mut Scoped<'_, S>) -> Result<T, E> + Send + 'static {}

impl<S, T, E, F> Work<S, T, E> for F where
    F: FnOnce(&mut Scoped<'_, S>) -> Result<T, E> + Send + 'static
{
}

/// An error a transaction's work may fail with: any that a [`DbError`] converts into.
pub trait TxError: From<DbError> + Send + 'static {}

impl<E: From<DbError> + Send + 'static> TxError for E {}

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
            .map_err(|e| DbError::Unavailable(e.into()))?;
        Ok(Self {
            pool,
            backend: url.backend(),
            sqlite_writer: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` in a transaction bound to `scope`, off the async threads: committed when `f`
    /// returns `Ok`, rolled back when it returns an error, which comes out as it is (any error
    /// type a [`DbError`] converts into).
    pub async fn write<S: TxScope, T: Send + 'static, E: TxError>(
        &self,
        scope: S,
        f: impl Work<S, T, E>,
    ) -> Result<T, E> {
        self.transaction(Access::Write, scope, f).await
    }

    /// Like [`Database::write`], for work that only reads: on SQLite it does not wait for the
    /// writer's turn (WAL readers never block).
    pub async fn read<S: TxScope, T: Send + 'static, E: TxError>(
        &self,
        scope: S,
        f: impl Work<S, T, E>,
    ) -> Result<T, E> {
        self.transaction(Access::Read, scope, f).await
    }

    async fn transaction<S: TxScope, T: Send + 'static, E: TxError>(
        &self,
        access: Access,
        scope: S,
        f: impl Work<S, T, E>,
    ) -> Result<T, E> {
        let pool = self.pool.clone();
        let writer = (self.backend == Backend::Sqlite && access == Access::Write)
            .then(|| self.sqlite_writer.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| DbError::Unavailable(e.into()))?;
            let _turn = writer
                .as_ref()
                .map(|lock| lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            let conn: &mut DbConnection = &mut conn;
            run_transaction(conn, access, |conn| {
                let mut scoped = Scoped::enter(conn, scope)?;
                f(&mut scoped)
            })
        })
        .await
        .map_err(DbError::Task)?
    }

    /// Runs `f` on a bare PostgreSQL connection outside any transaction, off the async threads:
    /// for the one statement that binds its own scope (`api_keys::for_request`). Never for
    /// anything else, and never on SQLite.
    async fn single_statement<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| DbError::Unavailable(e.into()))?;
            match &mut *conn {
                conn @ DbConnection::Pg(_) => f(conn),
                DbConnection::Sqlite(_) => Err(DbError::Unavailable(
                    "a single-statement read asked of SQLite".into(),
                )),
            }
        })
        .await
        .map_err(DbError::Task)?
    }

    /// True when the role the database URL logs in as could step out of row-level security: a
    /// superuser or a `BYPASSRLS` role can `RESET ROLE` away from the service's role on a pooled
    /// connection. Always false on SQLite, which has no roles.
    pub async fn login_role_bypasses_rls(&self) -> Result<bool, DbError> {
        self.write(Global, |conn| match conn.raw() {
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
        let answered: Result<(), DbError> = self
            .write(Global, |conn| {
                use diesel::RunQueryDsl as _;
                diesel::sql_query("SELECT 1").execute(conn.raw())?;
                Ok(())
            })
            .await;
        answered.is_ok()
    }
}

/// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
///
/// A SQLite write transaction begins `IMMEDIATE`, taking the write lock up front. A deferred one
/// that read first and then wrote would fail at once with SQLITE_BUSY (no busy timeout applies)
/// whenever another process, such as a second server on the same file, committed in between.
fn run_transaction<T, E, F>(conn: &mut DbConnection, access: Access, f: F) -> Result<T, E>
where
    E: From<DbError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as diesel::Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(sqlite) if access == Access::Write => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
                .map_err(DbError::from)?
        }
        _ => Manager::begin_transaction(conn).map_err(DbError::from)?,
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn).map_err(DbError::from)?;
            Ok(value)
        }
        Err(err) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(err),
            Err(rollback) => Err(DbError::from(rollback).into()),
        },
    }
}
