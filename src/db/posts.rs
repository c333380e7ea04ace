//! Posts, their targets and every attempt at delivering one: workspace data. The targets are
//! also the publisher's queue (`claim_due`), so a schedule lives here and nowhere else.
//!
//! Every write that changes a target's state also brings its post's `state` up to date, in the
//! same transaction and under the post's row lock (`sync_post_states`), so that two processes
//! finishing two targets of one post at once cannot leave a stale summary behind.

use super::schema::{post_attempts as pa, post_targets as pt, posts as p};
use super::{DbConnection, DbError, InWorkspace, PublishScanConn, WorkspaceConn};
use crate::domain::{
    AccountId, ApiKeyId, AttemptOutcome, KeyMode, Platform, PostId, PostState, TargetId,
    TargetState, UserId, WorkspaceId,
};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = p)]
pub struct StoredPost {
    pub id: PostId,
    pub mode: KeyMode,
    pub author_user_id: Option<UserId>,
    pub author_key_id: Option<ApiKeyId>,
    pub text: String,
    pub publish_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub state: PostState,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pt)]
pub struct StoredTarget {
    pub id: TargetId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub platform: Platform,
    /// Its own text, when it has one; otherwise the post's.
    pub text: Option<String>,
    pub state: TargetState,
    pub due_at: i64,
    pub lease_until: Option<i64>,
    pub platform_post_id: Option<String>,
    pub url: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pa)]
pub struct StoredAttempt {
    pub id: String,
    pub target_id: TargetId,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub outcome: AttemptOutcome,
    pub status_code: Option<i32>,
    pub detail: Option<String>,
}

pub struct NewPost<'a> {
    pub id: &'a PostId,
    pub mode: KeyMode,
    pub author_user_id: Option<&'a UserId>,
    pub author_key_id: Option<&'a ApiKeyId>,
    pub text: &'a str,
    pub publish_at: i64,
    pub now: i64,
}

pub struct NewTarget<'a> {
    pub account_id: &'a AccountId,
    pub platform: Platform,
    pub text: Option<&'a str>,
}

/// Stores a post and its targets, all `scheduled` for `publish_at`.
pub fn insert(
    conn: &mut WorkspaceConn<'_>,
    post: NewPost<'_>,
    targets: &[NewTarget<'_>],
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::insert_into(p::table)
        .values((
            p::id.eq(post.id),
            p::workspace_id.eq(workspace),
            p::mode.eq(post.mode),
            p::author_user_id.eq(post.author_user_id),
            p::author_key_id.eq(post.author_key_id),
            p::text.eq(post.text),
            p::publish_at.eq(post.publish_at),
            p::created_at.eq(post.now),
            p::updated_at.eq(post.now),
            p::state.eq(PostState::Scheduled),
        ))
        .execute(conn)?;
    for target in targets {
        diesel::insert_into(pt::table)
            .values((
                pt::id.eq(TargetId::generate()),
                pt::workspace_id.eq(workspace),
                pt::post_id.eq(post.id),
                pt::account_id.eq(target.account_id),
                pt::platform.eq(target.platform),
                pt::text.eq(target.text),
                pt::text_digest.eq(text_digest(target.text.unwrap_or(post.text))),
                pt::state.eq(TargetState::Scheduled),
                pt::due_at.eq(post.publish_at),
                pt::updated_at.eq(post.now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// What X's duplicate rule compares: the digest of the text a target sends.
fn text_digest(text: &str) -> String {
    crate::crypto::sha256_hex(text)
}

/// The post, unless it was deleted.
pub fn get(conn: &mut WorkspaceConn<'_>, id: &PostId) -> Result<Option<StoredPost>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(p::table
        .filter(p::workspace_id.eq(workspace))
        .filter(p::id.eq(id))
        .filter(p::deleted_at.is_null())
        .select(StoredPost::as_select())
        .first(conn)
        .optional()?)
}

/// The targets of these posts, in the order they were chosen.
pub fn targets_of(
    conn: &mut WorkspaceConn<'_>,
    posts: &[PostId],
) -> Result<Vec<StoredTarget>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(pt::table
        .filter(pt::workspace_id.eq(workspace))
        .filter(pt::post_id.eq_any(posts))
        .select(StoredTarget::as_select())
        .order((pt::post_id, pt::id))
        .load(conn)?)
}

/// Every attempt at these targets, oldest first.
pub fn attempts_of(
    conn: &mut WorkspaceConn<'_>,
    targets: &[TargetId],
) -> Result<Vec<StoredAttempt>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(pa::table
        .filter(pa::workspace_id.eq(workspace))
        .filter(pa::target_id.eq_any(targets))
        .select(StoredAttempt::as_select())
        .order((pa::started_at, pa::id))
        .load(conn)?)
}

/// A page of posts, newest first, after the post `after` (from the previous page). `None` when
/// `after` names no post of this workspace.
pub fn page(
    conn: &mut WorkspaceConn<'_>,
    mode: Option<KeyMode>,
    states: &[PostState],
    after: Option<&PostId>,
    limit: i64,
) -> Result<Option<Vec<StoredPost>>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut query = p::table
        .filter(p::workspace_id.eq(workspace))
        .filter(p::deleted_at.is_null())
        .select(StoredPost::as_select())
        .order((p::created_at.desc(), p::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        let Some(created) = p::table
            .filter(p::workspace_id.eq(workspace))
            .filter(p::id.eq(after))
            .select(p::created_at)
            .first::<i64>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        query = query.filter(
            p::created_at
                .lt(created)
                .or(p::created_at.eq(created).and(p::id.lt(after))),
        );
    }
    if let Some(mode) = mode {
        query = query.filter(p::mode.eq(mode));
    }
    if !states.is_empty() {
        query = query.filter(p::state.eq_any(states.to_vec()));
    }
    Ok(Some(query.load(conn)?))
}

/// Whether `text` is sent or on its way to `account` with a due time in `[from, until]`, as a
/// target's own text or its post's, leaving out the targets of `except` (a post being edited):
/// X's duplicate rule. Compared by the text's digest, so that an account with many posts costs
/// one index lookup.
pub fn has_text_near(
    conn: &mut WorkspaceConn<'_>,
    account: &AccountId,
    text: &str,
    except: Option<&PostId>,
    (from, until): (i64, i64),
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let mut query = pt::table
        .inner_join(p::table)
        .filter(pt::workspace_id.eq(workspace))
        .filter(pt::account_id.eq(account))
        .filter(pt::text_digest.eq(text_digest(text)))
        .filter(pt::due_at.between(from, until))
        .filter(pt::state.ne_all([TargetState::Canceled, TargetState::Failed]))
        .filter(p::deleted_at.is_null())
        .into_boxed();
    if let Some(post) = except {
        query = query.filter(pt::post_id.ne(post));
    }
    let found: i64 = query.count().get_result(conn)?;
    Ok(found > 0)
}

/// Changes the text or time of a post whose targets are all still `scheduled` (canceled ones
/// aside). False, with nothing changed, when one of them has moved on.
pub fn edit(
    conn: &mut WorkspaceConn<'_>,
    id: &PostId,
    text: Option<&str>,
    publish_at: Option<i64>,
    now: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let targets = pt::table
        .filter(pt::workspace_id.eq(workspace))
        .filter(pt::post_id.eq(id));
    // The targets first: this takes their row locks, so a publisher cannot claim one between
    // the check and the change.
    let changed = match publish_at {
        Some(at) => diesel::update(targets.filter(pt::state.eq(TargetState::Scheduled)))
            .set((pt::due_at.eq(at), pt::updated_at.eq(now)))
            .execute(conn)?,
        None => diesel::update(targets.filter(pt::state.eq(TargetState::Scheduled)))
            .set(pt::updated_at.eq(now))
            .execute(conn)?,
    };
    let movable: i64 = targets
        .filter(pt::state.ne(TargetState::Canceled))
        .count()
        .get_result(conn)?;
    if changed == 0 || changed as i64 != movable {
        return Ok(false);
    }
    let post = p::table
        .filter(p::workspace_id.eq(workspace))
        .filter(p::id.eq(id));
    diesel::update(post)
        .set(p::updated_at.eq(now))
        .execute(conn)?;
    if let Some(text) = text {
        diesel::update(post).set(p::text.eq(text)).execute(conn)?;
        // Targets that send the post's text now send the new one.
        diesel::update(targets.filter(pt::text.is_null()))
            .set(pt::text_digest.eq(text_digest(text)))
            .execute(conn)?;
    }
    if let Some(at) = publish_at {
        diesel::update(post)
            .set(p::publish_at.eq(at))
            .execute(conn)?;
    }
    Ok(true)
}

/// Every `scheduled` target of the post → `canceled`. How many were.
pub fn cancel(conn: &mut WorkspaceConn<'_>, id: &PostId, now: i64) -> Result<usize, DbError> {
    let canceled = {
        let (conn, InWorkspace(workspace)) = conn.split();
        diesel::update(
            pt::table
                .filter(pt::workspace_id.eq(workspace))
                .filter(pt::post_id.eq(id))
                .filter(pt::state.eq(TargetState::Scheduled)),
        )
        .set((pt::state.eq(TargetState::Canceled), pt::updated_at.eq(now)))
        .execute(conn)?
    };
    sync_post_states(conn, std::slice::from_ref(id), now)?;
    Ok(canceled)
}

/// Hides the post from every list; its targets and attempts stay as the record.
pub fn mark_deleted(conn: &mut WorkspaceConn<'_>, id: &PostId, now: i64) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    diesel::update(
        p::table
            .filter(p::workspace_id.eq(workspace))
            .filter(p::id.eq(id)),
    )
    .set((p::deleted_at.eq(now), p::updated_at.eq(now)))
    .execute(conn)?;
    Ok(())
}

/// A `failed` or `unknown` target back to `scheduled`, due now: the publisher makes a new
/// attempt. False when the target is in another state.
pub fn retry(
    conn: &mut WorkspaceConn<'_>,
    post: &PostId,
    target: &TargetId,
    now: i64,
) -> Result<bool, DbError> {
    let changed = {
        let (conn, InWorkspace(workspace)) = conn.split();
        diesel::update(
            pt::table
                .filter(pt::workspace_id.eq(workspace))
                .filter(pt::id.eq(target))
                .filter(pt::state.eq_any([TargetState::Failed, TargetState::Unknown])),
        )
        .set((
            pt::state.eq(TargetState::Scheduled),
            pt::due_at.eq(now),
            pt::error_code.eq(None::<String>),
            pt::error_message.eq(None::<String>),
            pt::updated_at.eq(now),
        ))
        .execute(conn)?
    };
    if changed > 0 {
        sync_post_states(conn, std::slice::from_ref(post), now)?;
    }
    Ok(changed > 0)
}

/// A target the publisher has claimed: marked `publishing` under `lease`, with an attempt
/// opened for it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub target: StoredTarget,
    pub attempt_id: String,
    /// 1 for the target's first attempt, and so on.
    pub attempt_number: i64,
    /// The text to send: the target's own, or its post's.
    pub text: String,
}

/// Claims up to `limit` of the workspace's targets that are due, for the holder of `lease`
/// until `lease_until`. On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so two
/// processes claiming at once take different targets; SQLite has one writer at a time.
pub fn claim_due(
    conn: &mut WorkspaceConn<'_>,
    now: i64,
    lease: &str,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    let ids: Vec<TargetId> = {
        let (conn, InWorkspace(workspace)) = conn.split();
        let due = pt::table
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::state.eq(TargetState::Scheduled))
            .filter(pt::due_at.le(now))
            .order((pt::due_at, pt::id))
            .limit(limit)
            .select(pt::id);
        // Read as text: the backends' own connections know only the plain types.
        let raw: Vec<String> = match conn {
            DbConnection::Pg(pg) => due.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        raw.iter().filter_map(|id| TargetId::parse(id)).collect()
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let claimed: Vec<(StoredTarget, String)> = {
        let (conn, InWorkspace(workspace)) = conn.split();
        diesel::update(
            pt::table
                .filter(pt::workspace_id.eq(workspace))
                .filter(pt::id.eq_any(&ids))
                .filter(pt::state.eq(TargetState::Scheduled)),
        )
        .set((
            pt::state.eq(TargetState::Publishing),
            pt::lease.eq(lease),
            pt::lease_until.eq(lease_until),
            pt::updated_at.eq(now),
        ))
        .execute(conn)?;
        pt::table
            .inner_join(p::table)
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::id.eq_any(&ids))
            .filter(pt::lease.eq(lease))
            .select((StoredTarget::as_select(), p::text))
            .load(conn)?
    };
    let mut out = Vec::with_capacity(claimed.len());
    for (target, post_text) in claimed {
        let attempt_id = open_attempt(conn, &target.id, now)?;
        let attempt_number = {
            let (conn, InWorkspace(workspace)) = conn.split();
            pa::table
                .filter(pa::workspace_id.eq(workspace))
                .filter(pa::target_id.eq(&target.id))
                .count()
                .get_result(conn)?
        };
        out.push(Claimed {
            text: target.text.clone().unwrap_or(post_text),
            target,
            attempt_id,
            attempt_number,
        });
    }
    let mut posts: Vec<PostId> = out.iter().map(|c| c.target.post_id.clone()).collect();
    posts.sort();
    posts.dedup();
    sync_post_states(conn, &posts, now)?;
    Ok(out)
}

fn open_attempt(
    conn: &mut WorkspaceConn<'_>,
    target: &TargetId,
    now: i64,
) -> Result<String, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let id = format!("att_{}", hex::encode(crate::crypto::random_bytes::<16>()));
    diesel::insert_into(pa::table)
        .values((
            pa::id.eq(&id),
            pa::workspace_id.eq(workspace),
            pa::target_id.eq(target),
            pa::started_at.eq(now),
            pa::outcome.eq(AttemptOutcome::Publishing),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Moves the lease of a claimed target to `until`, right before a platform call, so that it
/// covers the call however long the steps before it took. False when the claim is no longer
/// this holder's (its lease lapsed and the target was marked `unknown`): then nothing is sent.
pub fn extend_lease(
    conn: &mut WorkspaceConn<'_>,
    target: &TargetId,
    lease: &str,
    until: i64,
) -> Result<bool, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    let changed = diesel::update(
        pt::table
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::id.eq(target))
            .filter(pt::lease.eq(lease))
            .filter(pt::state.eq(TargetState::Publishing)),
    )
    .set(pt::lease_until.eq(until))
    .execute(conn)?;
    Ok(changed > 0)
}

/// What a delivery came to, to be recorded on its target and attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Published {
        platform_post_id: String,
        url: String,
        status: u16,
    },
    /// Refused for good (`failed`) or may have arrived (`unknown`).
    Ended {
        state: TargetState,
        status: Option<u16>,
        code: String,
        message: String,
    },
    /// The platform asked to come back at `at`: `scheduled` again, nothing failed.
    Rescheduled {
        at: i64,
        status: u16,
        message: String,
    },
}

/// Records how the attempt under `lease` ended. The target changes only while the lease is
/// still its claim (`publishing`, or `unknown` when its lease ran out meanwhile and the answer
/// came after all); the attempt is recorded either way. False when the target had moved on.
pub fn finish(
    conn: &mut WorkspaceConn<'_>,
    claimed: &Claimed,
    lease: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<bool, DbError> {
    let (attempt_outcome, status, detail) = match outcome {
        Outcome::Published {
            status,
            platform_post_id,
            ..
        } => (
            AttemptOutcome::Published,
            Some(*status),
            platform_post_id.clone(),
        ),
        Outcome::Ended {
            state,
            status,
            message,
            ..
        } => (
            if *state == TargetState::Failed {
                AttemptOutcome::Failed
            } else {
                AttemptOutcome::Unknown
            },
            *status,
            message.clone(),
        ),
        Outcome::Rescheduled {
            status, message, ..
        } => (AttemptOutcome::Rescheduled, Some(*status), message.clone()),
    };
    let changed = {
        let (conn, InWorkspace(workspace)) = conn.split();
        diesel::update(
            pa::table
                .filter(pa::workspace_id.eq(workspace))
                .filter(pa::id.eq(&claimed.attempt_id)),
        )
        .set((
            pa::finished_at.eq(now),
            pa::outcome.eq(attempt_outcome),
            pa::status_code.eq(status.map(i32::from)),
            pa::detail.eq(&detail),
        ))
        .execute(conn)?;
        let row = pt::table
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::id.eq(&claimed.target.id))
            .filter(pt::lease.eq(lease))
            .filter(pt::state.eq_any([TargetState::Publishing, TargetState::Unknown]));
        let released = (
            pt::lease.eq(None::<String>),
            pt::lease_until.eq(None::<i64>),
            pt::updated_at.eq(now),
        );
        match outcome {
            Outcome::Published {
                platform_post_id,
                url,
                ..
            } => diesel::update(row)
                .set((
                    pt::state.eq(TargetState::Published),
                    pt::platform_post_id.eq(platform_post_id),
                    pt::url.eq(url),
                    pt::error_code.eq(None::<String>),
                    pt::error_message.eq(None::<String>),
                    released,
                ))
                .execute(conn)?,
            Outcome::Ended {
                state,
                code,
                message,
                ..
            } => diesel::update(row)
                .set((
                    pt::state.eq(*state),
                    pt::error_code.eq(code),
                    pt::error_message.eq(message),
                    released,
                ))
                .execute(conn)?,
            Outcome::Rescheduled { at, .. } => diesel::update(row)
                .set((
                    pt::state.eq(TargetState::Scheduled),
                    pt::due_at.eq(*at),
                    released,
                ))
                .execute(conn)?,
        }
    };
    sync_post_states(conn, std::slice::from_ref(&claimed.target.post_id), now)?;
    Ok(changed > 0)
}

/// Writes the webhook event of how `target` ended, if it has ended (published, failed or
/// unknown), in the caller's transaction.
pub fn report(conn: &mut WorkspaceConn<'_>, target: &TargetId, now: i64) -> Result<(), DbError> {
    let found: Option<(StoredTarget, KeyMode)> = {
        let (conn, InWorkspace(workspace)) = conn.split();
        pt::table
            .inner_join(p::table)
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::id.eq(target))
            .select((StoredTarget::as_select(), p::mode))
            .first(conn)
            .optional()?
    };
    let Some((t, mode)) = found else {
        return Ok(());
    };
    let error = t.error_code.as_deref().zip(t.error_message.as_deref());
    let event = crate::domain::WebhookEvent::post_target(
        mode,
        &t.post_id,
        &t.id,
        &t.account_id,
        t.platform,
        t.state,
        t.url.as_deref(),
        error,
    );
    if let Some(event) = event {
        super::webhooks::emit(conn, &event, None, now)?;
    }
    Ok(())
}

/// Targets left `publishing` whose lease ran out, across workspaces: their process stopped
/// mid-send.
pub fn lapsed(
    conn: &mut PublishScanConn<'_>,
    now: i64,
    limit: i64,
) -> Result<Vec<(WorkspaceId, TargetId)>, DbError> {
    Ok(pt::table
        .filter(pt::state.eq(TargetState::Publishing))
        .filter(pt::lease_until.lt(now))
        .order(pt::lease_until)
        .limit(limit)
        .select((pt::workspace_id, pt::id))
        .load(conn.conn())?)
}

/// The workspaces with targets due, across workspaces, most overdue first.
pub fn workspaces_due(
    conn: &mut PublishScanConn<'_>,
    now: i64,
    limit: i64,
) -> Result<Vec<WorkspaceId>, DbError> {
    let rows: Vec<(WorkspaceId, Option<i64>)> = pt::table
        .filter(pt::state.eq(TargetState::Scheduled))
        .filter(pt::due_at.le(now))
        .group_by(pt::workspace_id)
        .select((pt::workspace_id, diesel::dsl::min(pt::due_at)))
        .order(diesel::dsl::min(pt::due_at))
        .limit(limit)
        .load(conn.conn())?;
    Ok(rows.into_iter().map(|(w, _)| w).collect())
}

/// The earliest due time of any scheduled target, across workspaces: when to look next.
pub fn next_due(conn: &mut PublishScanConn<'_>) -> Result<Option<i64>, DbError> {
    Ok(pt::table
        .filter(pt::state.eq(TargetState::Scheduled))
        .select(diesel::dsl::min(pt::due_at))
        .first::<Option<i64>>(conn.conn())?)
}

/// A target whose lease ran out while `publishing` → `unknown`, with its open attempt: nobody
/// knows whether the platform received it, so it is never sent again by itself.
pub fn mark_lapsed(
    conn: &mut WorkspaceConn<'_>,
    target: &TargetId,
    now: i64,
) -> Result<bool, DbError> {
    const WHY: &str = "The process sending this stopped before the platform answered; the post may or may not be on the platform.";
    let post = {
        let (conn, InWorkspace(workspace)) = conn.split();
        let changed = diesel::update(
            pt::table
                .filter(pt::workspace_id.eq(workspace))
                .filter(pt::id.eq(target))
                .filter(pt::state.eq(TargetState::Publishing))
                .filter(pt::lease_until.lt(now)),
        )
        .set((
            pt::state.eq(TargetState::Unknown),
            pt::error_code.eq("interrupted"),
            pt::error_message.eq(WHY),
            pt::lease_until.eq(None::<i64>),
            pt::updated_at.eq(now),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Ok(false);
        }
        diesel::update(
            pa::table
                .filter(pa::workspace_id.eq(workspace))
                .filter(pa::target_id.eq(target))
                .filter(pa::outcome.eq(AttemptOutcome::Publishing)),
        )
        .set((
            pa::finished_at.eq(now),
            pa::outcome.eq(AttemptOutcome::Unknown),
            pa::detail.eq(WHY),
        ))
        .execute(conn)?;
        pt::table
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::id.eq(target))
            .select(pt::post_id)
            .first::<PostId>(conn)?
    };
    sync_post_states(conn, &[post], now)?;
    Ok(true)
}

/// Brings each post's `state` in line with its targets'. Each post's row is locked (by an
/// update) before its targets are read, so that of two transactions finishing targets of one
/// post, the second reads what the first committed. `posts` must be sorted, so that every
/// transaction takes the locks in one order.
fn sync_post_states(
    conn: &mut WorkspaceConn<'_>,
    posts: &[PostId],
    now: i64,
) -> Result<(), DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    for post in posts {
        let row = p::table
            .filter(p::workspace_id.eq(workspace))
            .filter(p::id.eq(post));
        diesel::update(row)
            .set(p::updated_at.eq(now))
            .execute(conn)?;
        let states: Vec<TargetState> = pt::table
            .filter(pt::workspace_id.eq(workspace))
            .filter(pt::post_id.eq(post))
            .select(pt::state)
            .load(conn)?;
        diesel::update(row)
            .set(p::state.eq(PostState::of(&states)))
            .execute(conn)?;
    }
    Ok(())
}

/// One post as published to an account.
#[derive(Debug, Queryable)]
pub struct PublishedItem {
    pub platform_post_id: Option<String>,
    /// The target's own text, if it had one.
    pub own_text: Option<String>,
    pub post_text: String,
    pub at: i64,
}

/// What was published to `account`, newest first.
pub fn published_to(
    conn: &mut WorkspaceConn<'_>,
    account: &AccountId,
    limit: i64,
) -> Result<Vec<PublishedItem>, DbError> {
    let (conn, InWorkspace(workspace)) = conn.split();
    Ok(pt::table
        .inner_join(p::table)
        .filter(pt::workspace_id.eq(workspace))
        .filter(pt::account_id.eq(account))
        .filter(pt::state.eq(TargetState::Published))
        .filter(p::deleted_at.is_null())
        .order(pt::updated_at.desc())
        .limit(limit)
        .select((pt::platform_post_id, pt::text, p::text, pt::updated_at))
        .load(conn)?)
}
