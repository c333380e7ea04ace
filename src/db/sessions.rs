//! Server-side sessions, found by a digest of the cookie's key. Not workspace data.

use super::schema::sessions;
use super::{DbError, GlobalConn};
use crate::domain::{SessionId, UserId};
use diesel::prelude::*;

#[derive(Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct NewSession<'a> {
    pub id: &'a SessionId,
    pub token_hash: &'a str,
    pub user_id: Option<&'a UserId>,
    pub state: &'a str,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    #[diesel(column_name = created_at)]
    pub now: i64,
    /// The idle deadline; stored never past the absolute one.
    #[diesel(skip_insertion)]
    pub expires_at: i64,
    pub absolute_expires_at: i64,
}

pub fn insert(conn: &mut GlobalConn<'_>, s: NewSession<'_>) -> Result<(), DbError> {
    diesel::insert_into(sessions::table)
        .values((
            &s,
            sessions::last_seen_at.eq(s.now),
            sessions::expires_at.eq(s.expires_at.min(s.absolute_expires_at)),
        ))
        .execute(conn.raw())?;
    Ok(())
}

/// The state of a session that has neither idled out nor reached its absolute end.
pub fn load_active(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    now: i64,
) -> Result<Option<(String, i64)>, DbError> {
    Ok(sessions::table
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::absolute_expires_at.gt(now))
        .select((sessions::state, sessions::last_seen_at))
        .first::<(String, i64)>(conn.raw())
        .optional()?)
}

/// Replaces a live session's state. False when the session is gone (ended or expired).
pub fn update_state(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    user_id: Option<&UserId>,
    state: &str,
    now: i64,
    idle_expires_at: i64,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::expires_at.gt(now)),
    )
    .set((
        sessions::user_id.eq(user_id),
        sessions::state.eq(state),
        sessions::last_seen_at.eq(now),
        // Never past the absolute end fixed when the session began.
        sessions::expires_at.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "CASE WHEN absolute_expires_at < {idle_expires_at} THEN absolute_expires_at ELSE {idle_expires_at} END"
        ))),
    ))
    .execute(conn.raw())?;
    Ok(changed > 0)
}

/// Moves the idle deadline on; skipped when the session was seen in the last minute, so that
/// a busy browser does not write on every request.
/// A session's idle deadline moves forward at most this often, so that a busy session does not
/// write on every request.
pub const TOUCH_EVERY_SECS: i64 = 60;

pub fn touch(
    conn: &mut GlobalConn<'_>,
    token_hash: &str,
    now: i64,
    idle_expires_at: i64,
) -> Result<(), DbError> {
    diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::expires_at.gt(now))
            .filter(sessions::last_seen_at.lt(now - TOUCH_EVERY_SECS)),
    )
    .set((
        sessions::last_seen_at.eq(now),
        sessions::expires_at.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "CASE WHEN absolute_expires_at < {idle_expires_at} THEN absolute_expires_at ELSE {idle_expires_at} END"
        ))),
    ))
    .execute(conn.raw())?;
    Ok(())
}

pub fn delete(conn: &mut GlobalConn<'_>, token_hash: &str) -> Result<(), DbError> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
        .execute(conn.raw())?;
    Ok(())
}

/// Ends every session of the user; returns how many.
pub fn delete_for_user(conn: &mut GlobalConn<'_>, user: &UserId) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user))).execute(conn.raw())?)
}

/// Removes sessions past either deadline; returns how many.
pub fn delete_expired(conn: &mut GlobalConn<'_>, now: i64) -> Result<usize, DbError> {
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(now)
                .or(sessions::absolute_expires_at.le(now)),
        ),
    )
    .execute(conn.raw())?)
}

/// One of a user's live sessions, as the security page lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct ActiveSession {
    pub id: SessionId,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// The user's sessions that have neither idled out nor ended, most recently seen first.
pub fn active_for_user(
    conn: &mut GlobalConn<'_>,
    user: &UserId,
    now: i64,
) -> Result<Vec<ActiveSession>, DbError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::absolute_expires_at.gt(now))
        .order((sessions::last_seen_at.desc(), sessions::id.asc()))
        .select(ActiveSession::as_select())
        .load(conn.raw())?)
}

/// Ends the user's session `id`; false when the user has no such session.
pub fn delete_one_of_user(
    conn: &mut GlobalConn<'_>,
    user: &UserId,
    id: &SessionId,
) -> Result<bool, DbError> {
    let deleted = diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user))
            .filter(sessions::id.eq(id)),
    )
    .execute(conn.raw())?;
    Ok(deleted > 0)
}

/// Ends every session of the user but `keep`; returns how many.
pub fn delete_others_of_user(
    conn: &mut GlobalConn<'_>,
    user: &UserId,
    keep: &SessionId,
) -> Result<usize, DbError> {
    Ok(diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user))
            .filter(sessions::id.ne(keep)),
    )
    .execute(conn.raw())?)
}
