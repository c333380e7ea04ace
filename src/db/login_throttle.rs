//! Counters of failed sign-ins, per email digest and per client address, in fixed windows.
//! Kept in the database so that every server process sees the same counts.

use super::schema::login_throttle;
use super::{DbError, GlobalConn};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

/// Failures counted for `key` in the window that is still open at `now`.
pub fn failures(
    conn: &mut GlobalConn<'_>,
    key: &str,
    now: i64,
    window_secs: i64,
) -> Result<i32, DbError> {
    let count = login_throttle::table
        .filter(login_throttle::key.eq(key))
        .filter(login_throttle::window_start.gt(now - window_secs))
        .select(login_throttle::failures)
        .first::<i32>(conn.raw())
        .optional()?;
    Ok(count.unwrap_or(0))
}

/// Counts one more failure, opening a new window when the last one has closed.
pub fn record_failure(
    conn: &mut GlobalConn<'_>,
    key: &str,
    now: i64,
    window_secs: i64,
) -> Result<(), DbError> {
    // One statement on both backends, so that concurrent failures are all counted.
    diesel::sql_query(
        "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.window_start <= $3 THEN 1
                           ELSE login_throttle.failures + 1 END,
           window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2
                               ELSE login_throttle.window_start END",
    )
    .bind::<Text, _>(key)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(now - window_secs)
    .execute(conn.raw())?;
    Ok(())
}

/// Counts one attempt and answers how many there have been in the open window, this one
/// included. The row stays locked until the transaction ends, so concurrent attempts each see
/// their own count and none is lost.
pub fn count_attempt(
    conn: &mut GlobalConn<'_>,
    key: &str,
    now: i64,
    window_secs: i64,
) -> Result<i32, DbError> {
    record_failure(conn, key, now, window_secs)?;
    failures(conn, key, now, window_secs)
}

/// Gives back one counted attempt (it turned out not to be a guess).
pub fn refund(conn: &mut GlobalConn<'_>, key: &str) -> Result<(), DbError> {
    diesel::update(
        login_throttle::table
            .filter(login_throttle::key.eq(key))
            .filter(login_throttle::failures.gt(0)),
    )
    .set(login_throttle::failures.eq(login_throttle::failures - 1))
    .execute(conn.raw())?;
    Ok(())
}

pub fn clear(conn: &mut GlobalConn<'_>, key: &str) -> Result<(), DbError> {
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq(key)))
        .execute(conn.raw())?;
    Ok(())
}

/// Forgets windows that closed long ago.
pub fn delete_stale(
    conn: &mut GlobalConn<'_>,
    now: i64,
    window_secs: i64,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        login_throttle::table.filter(login_throttle::window_start.le(now - window_secs)),
    )
    .execute(conn.raw())?)
}
