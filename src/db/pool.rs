use super::DbConnection;
use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, ConnectionError};
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL, checked at start: `sqlite://PATH` or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/socializer.db".into());
            }
            // A plain path: no query string or fragment that would end up in the file's name.
            if path.contains(['?', '#']) {
                return Err("sqlite:// takes a plain file path, without ? or #".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|e| format!("not a valid PostgreSQL URL ({e})"))?;
            return Ok(Self::Postgres(raw.to_owned()));
        }
        Err("expected sqlite://PATH or postgres://…".into())
    }

    /// The database file, for the embedded store.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Opens one connection as the login role, with the per-connection settings applied.
    pub(super) fn connect(&self) -> Result<DbConnection, ConnectionError> {
        match self {
            Self::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::private_files::create_dirs(dir).map_err(|e| {
                        ConnectionError::BadConnection(format!(
                            "cannot create {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                crate::private_files::ensure_file(path).map_err(|e| {
                    ConnectionError::BadConnection(format!("cannot create {}: {e}", path.display()))
                })?;
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL with synchronous=FULL: a commit that was answered survives kill -9 and
                // power loss alike. Foreign keys are off by default in SQLite. The busy timeout
                // comes first: setting the journal mode may need a lock, and without a timeout a
                // connection opened while another one writes or checkpoints fails at once with
                // "database is locked".
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Self::Postgres(url) => Ok(DbConnection::Pg(diesel::PgConnection::establish(url)?)),
        }
    }
}

/// Never prints credentials that a PostgreSQL URL may carry.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(raw) => match url::Url::parse(raw) {
                Ok(url) => write!(
                    f,
                    "postgres://{}:{}{}",
                    url.host_str().unwrap_or(""),
                    url.port().unwrap_or(5432),
                    url.path()
                ),
                Err(_) => f.write_str("postgres://…"),
            },
        }
    }
}

/// Hands out connections whose queries cannot bypass row-level security.
///
/// Written by hand rather than diesel's `ConnectionManager` so that a failure to connect keeps
/// its real message instead of the multi-connection's generic one.
pub(super) struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub(super) fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConnection, ConnectionError> {
        let mut conn = self.url.connect()?;
        if let DbConnection::Pg(pg) = &mut conn {
            // Even when the operator's URL names a superuser or the tables' owner, the
            // service's queries run as a role that the row-level security policies bind.
            pg.batch_execute("SET ROLE socializer_app")
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}
