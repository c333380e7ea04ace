//! A PostgreSQL database of the benchmark's own, made on `BENCH_DATABASE_URL` and dropped at
//! the end.

use diesel::connection::SimpleConnection as _;
use diesel::{Connection as _, PgConnection, RunQueryDsl as _};

pub struct BenchDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl BenchDatabase {
    /// `BENCH_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`: a role that
    /// may create databases.
    pub fn create(purpose: &str) -> Self {
        let admin = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("socializer_{purpose}_{}", std::process::id());
        let mut conn = PgConnection::establish(&admin).expect("BENCH_DATABASE_URL connects");
        // One statement each: several in one string would run as one transaction, which
        // neither may run in.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            diesel::sql_query(statement).execute(&mut conn).unwrap();
        }
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Self {
            admin,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `BENCH_REDIS_URL`, default database 10 of the local Redis.
pub fn redis_url() -> String {
    std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/10".into())
}
