use super::{DatabaseUrl, DbConnection, DbError};
use diesel::connection::SimpleConnection as _;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration, as the login role (before any switch of role).
pub fn run_pending(url: &DatabaseUrl) -> Result<(), DbError> {
    let mut conn = url.connect().map_err(|e| DbError::Unavailable(e.into()))?;
    let failed = DbError::Migration;
    match &mut conn {
        DbConnection::Sqlite(sqlite) => {
            sqlite.run_pending_migrations(SQLITE).map_err(failed)?;
        }
        DbConnection::Pg(pg) => {
            // Nothing to do is found out by reading alone: a login role of the service's own
            // may read the migrations table but not create tables, and the harness
            // would try to create it.
            if !has_pending_postgres(pg) {
                return Ok(());
            }
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

#[derive(diesel::QueryableByName)]
struct Applied {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// True unless every embedded migration is recorded as applied (also when that cannot be read:
/// the harness then says why).
fn has_pending_postgres(pg: &mut diesel::PgConnection) -> bool {
    use diesel::RunQueryDsl as _;
    let Ok(known) = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)
    else {
        return true;
    };
    let Ok(applied) =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load::<Applied>(pg)
    else {
        return true;
    };
    known.iter().any(|m| {
        let version = m.name().version().to_string();
        !applied.iter().any(|a| a.version == version)
    })
}
