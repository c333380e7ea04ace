use super::{DatabaseUrl, DbConnection, DbError};
use diesel::connection::SimpleConnection as _;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration, as the login role (before any switch of role).
pub fn run_pending(url: &DatabaseUrl) -> Result<(), DbError> {
    let mut conn = url
        .connect()
        .map_err(|e| DbError::Unavailable(e.to_string()))?;
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match &mut conn {
        DbConnection::Sqlite(sqlite) => {
            sqlite.run_pending_migrations(SQLITE).map_err(failed)?;
        }
        DbConnection::Pg(pg) => {
            // Several server processes may start at once against one database.
            pg.batch_execute("SELECT pg_advisory_lock(7461726)")?;
            let result = pg
                .run_pending_migrations(POSTGRES)
                .map(|_| ())
                .map_err(failed);
            pg.batch_execute("SELECT pg_advisory_unlock(7461726)")?;
            result?;
        }
    }
    Ok(())
}
