//! Writing, reading and managing posts: plain async functions over the database, each check
//! made inside the transaction that stores its result.

use super::text_rules;
use super::{PublishError, Publisher};
use crate::audit::{self, Event, Who};
use crate::db::connected_accounts::{self as accounts, StoredAccount};
use crate::db::posts::{self as stored, StoredAttempt, StoredPost, StoredTarget};
use crate::db::{DbError, InWorkspace, WorkspaceConn, idempotency_keys};
use crate::domain::{
    AccountId, AccountStatus, Action, ApiKeyId, AttemptOutcome, Invalid, KeyMode, Platform, PostId,
    PostState, Role, TargetState, UserId, WorkspaceId, now,
};
use std::collections::{BTreeMap, HashMap};

/// A post goes to at most this many accounts.
pub const MAX_TARGETS: usize = 10;
/// How far ahead a post may be scheduled.
pub const MAX_AHEAD_SECS: i64 = 365 * 24 * 3600;
/// How far in the past `publish_at` may be (a clock a little behind) and still mean "now".
pub const PAST_GRACE_SECS: i64 = 60;
/// X refuses the same text to the same account within this long.
const DUPLICATE_WINDOW_SECS: i64 = 24 * 3600;
/// How long an `Idempotency-Key`'s answer is kept.
pub const IDEMPOTENCY_SECS: i64 = 24 * 3600;
/// The longest text taken at all, whatever the platform: far above any platform's limit, so
/// that a huge text is refused before it is counted.
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Who writes or manages posts: a person, or a key acting for its creator.
#[derive(Debug, Clone)]
pub struct Author {
    pub workspace: WorkspaceId,
    /// The person, or the key's creator (a key whose creator has left acts for nobody).
    pub user: Option<UserId>,
    pub key: Option<ApiKeyId>,
    pub role: Role,
    /// A key's mode: it sees and publishes only there. A person sees both.
    pub mode: Option<KeyMode>,
    pub who: Who,
}

impl Author {
    /// Whether this author may manage `post`: their own, or anyone's for owners and admins.
    fn may_manage(&self, post: &StoredPost) -> bool {
        let own = self.user.is_some() && post.author_user_id == self.user;
        self.role.may(Action::ManagePosts { own })
    }

    fn sees(&self, post: &StoredPost) -> bool {
        self.mode.is_none_or(|m| m == post.mode)
    }
}

/// A post as asked for, before any check.
#[derive(Debug, Clone)]
pub struct Draft {
    pub text: String,
    pub account_ids: Vec<String>,
    /// Unix seconds; `None` is now.
    pub publish_at: Option<i64>,
    /// Texts of their own for some of the accounts, by account id.
    pub texts: BTreeMap<String, String>,
}

/// An `Idempotency-Key` and what the request it came with was.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    /// A digest of the request as understood: the same request gives the same one.
    pub fingerprint: String,
}

/// What creating a post answered.
pub enum Created {
    New {
        view: PostView,
        body: String,
    },
    /// The same `Idempotency-Key` and request as before: the first answer, as it was.
    Replayed {
        status: u16,
        body: String,
    },
}

/// A post as people and programs see it.
#[derive(Debug, Clone)]
pub struct PostView {
    pub id: PostId,
    pub mode: KeyMode,
    pub state: PostState,
    pub text: String,
    pub publish_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub author_user_id: Option<UserId>,
    pub author_key_id: Option<ApiKeyId>,
    pub targets: Vec<TargetView>,
}

#[derive(Debug, Clone)]
pub struct TargetView {
    pub account_id: AccountId,
    pub platform: Platform,
    /// The account's handle, while it is connected.
    pub handle: Option<String>,
    /// Its own text, when it has one.
    pub text: Option<String>,
    pub state: TargetState,
    pub due_at: i64,
    pub platform_post_id: Option<String>,
    pub url: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub attempts: Vec<AttemptView>,
}

impl TargetView {
    /// How the account is named to people: "@ada on X".
    pub fn name(&self) -> String {
        target_name(self.platform, self.handle.as_deref(), &self.account_id)
    }
}

#[derive(Debug, Clone)]
pub struct AttemptView {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub outcome: AttemptOutcome,
    pub status_code: Option<i32>,
    pub detail: Option<String>,
}

fn target_name(platform: Platform, handle: Option<&str>, id: &AccountId) -> String {
    match handle {
        Some(handle) => format!("{handle} on {}", platform.display_name()),
        None => format!("account {id} on {}", platform.display_name()),
    }
}

/// Reads posts with their targets and attempts, in the order given.
fn views(conn: &mut WorkspaceConn<'_>, posts: Vec<StoredPost>) -> Result<Vec<PostView>, DbError> {
    let ids: Vec<PostId> = posts.iter().map(|p| p.id.clone()).collect();
    let targets = stored::targets_of(conn, &ids)?;
    let target_ids: Vec<_> = targets.iter().map(|t| t.id.clone()).collect();
    let mut attempts: HashMap<_, Vec<StoredAttempt>> = HashMap::new();
    for attempt in stored::attempts_of(conn, &target_ids)? {
        attempts
            .entry(attempt.target_id.clone())
            .or_default()
            .push(attempt);
    }
    let handles: HashMap<AccountId, String> = accounts::list(conn, None)?
        .into_iter()
        .map(|a| (a.id, a.handle))
        .collect();
    let mut by_post: HashMap<PostId, Vec<TargetView>> = HashMap::new();
    for target in targets {
        let tried = attempts.remove(&target.id).unwrap_or_default();
        by_post
            .entry(target.post_id.clone())
            .or_default()
            .push(target_view(target, tried, &handles));
    }
    Ok(posts
        .into_iter()
        .map(|post| {
            let targets = by_post.remove(&post.id).unwrap_or_default();
            // The summary of the targets as read here: on PostgreSQL a delivery may commit
            // between reading the post and reading its targets, and the two must agree.
            let states: Vec<TargetState> = targets.iter().map(|t| t.state).collect();
            let state = if states.is_empty() {
                post.state
            } else {
                PostState::of(&states)
            };
            (post, targets, state)
        })
        .map(|(post, targets, state)| PostView {
            targets,
            id: post.id,
            mode: post.mode,
            state,
            text: post.text,
            publish_at: post.publish_at,
            created_at: post.created_at,
            updated_at: post.updated_at,
            author_user_id: post.author_user_id,
            author_key_id: post.author_key_id,
        })
        .collect())
}

fn target_view(
    target: StoredTarget,
    attempts: Vec<StoredAttempt>,
    handles: &HashMap<AccountId, String>,
) -> TargetView {
    TargetView {
        handle: handles.get(&target.account_id).cloned(),
        account_id: target.account_id,
        platform: target.platform,
        text: target.text,
        state: target.state,
        due_at: target.due_at,
        platform_post_id: target.platform_post_id,
        url: target.url,
        error_code: target.error_code,
        error_message: target.error_message,
        attempts: attempts
            .into_iter()
            .map(|a| AttemptView {
                started_at: a.started_at,
                finished_at: a.finished_at,
                outcome: a.outcome,
                status_code: a.status_code,
                detail: a.detail,
            })
            .collect(),
    }
}

fn one_view(conn: &mut WorkspaceConn<'_>, post: StoredPost) -> Result<PostView, DbError> {
    views(conn, vec![post])?
        .pop()
        .ok_or_else(|| DbError::Unavailable("a post read back has no view".into()))
}

/// Checks a `publish_at` against now: more than a minute in the past, or more than a year
/// ahead, is refused.
pub fn check_publish_at(at: Option<i64>, now: i64) -> Result<i64, Invalid> {
    match at {
        None => Ok(now),
        Some(at) if at < now - PAST_GRACE_SECS => Err(Invalid::new(
            "publish_at",
            "publish_at is more than a minute in the past; leave it out to publish now.",
        )),
        Some(at) if at > now + MAX_AHEAD_SECS => Err(Invalid::new(
            "publish_at",
            "publish_at is more than a year ahead.",
        )),
        Some(at) => Ok(at.max(now)),
    }
}

fn check_size(text: &str) -> Result<(), Invalid> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Invalid::new(
            "text",
            format!(
                "The text is {} bytes; no platform takes more than {MAX_TEXT_BYTES}.",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// An account chosen for a post, found and checked.
struct Chosen {
    account: StoredAccount,
    text: Option<String>,
}

/// Finds each chosen account in the workspace and checks it may be published to now, by this
/// author, with its text.
fn choose(
    conn: &mut WorkspaceConn<'_>,
    author: &Author,
    draft: &Draft,
    publish_at: i64,
) -> Result<Vec<Chosen>, PublishError> {
    if draft.account_ids.is_empty() || draft.account_ids.len() > MAX_TARGETS {
        return Err(Invalid::new(
            "account_ids",
            format!("Choose from 1 to {MAX_TARGETS} accounts."),
        )
        .into());
    }
    check_size(&draft.text)?;
    let mut chosen: Vec<Chosen> = Vec::new();
    for raw in &draft.account_ids {
        let not_found = || PublishError::AccountNotFound(raw.clone());
        let id = AccountId::parse(raw).ok_or_else(not_found)?;
        if chosen.iter().any(|c| c.account.id == id) {
            return Err(
                Invalid::new("account_ids", format!("The account {raw} is chosen twice.")).into(),
            );
        }
        let account = accounts::get(conn, &id)?
            .filter(|a| author.mode.is_none_or(|m| m == a.mode))
            .ok_or_else(not_found)?;
        let text = draft.texts.get(raw).cloned();
        chosen.push(Chosen { account, text });
    }
    for id in draft.texts.keys() {
        if !draft.account_ids.contains(id) {
            return Err(Invalid::new(
                "texts",
                format!("texts names {id}, which is not among account_ids."),
            )
            .into());
        }
    }
    let mode = chosen[0].account.mode;
    if chosen.iter().any(|c| c.account.mode != mode) {
        return Err(Invalid::new(
            "account_ids",
            "A post goes either to test-mode (sandbox) accounts or to live ones, not both.",
        )
        .into());
    }
    if mode == KeyMode::Live
        && let Some(user) = &author.user
        && !crate::db::users::is_confirmed(&mut conn.global(), user)?
    {
        return Err(PublishError::EmailUnconfirmed);
    }
    if mode == KeyMode::Live && author.user.is_none() {
        return Err(PublishError::Forbidden(
            "This key's creator has left the workspace, so it cannot publish",
        ));
    }
    for c in &chosen {
        let name = target_name(c.account.platform, Some(&c.account.handle), &c.account.id);
        if c.account.status != AccountStatus::Active {
            return Err(PublishError::Conflict(format!(
                "{name} is {}: reconnect it before publishing to it.",
                c.account.status
            )));
        }
        let text = c.text.as_deref().unwrap_or(&draft.text);
        check_size(text)?;
        text_rules::check(c.account.platform, &name, text)?;
        if matches!(c.account.platform, Platform::X | Platform::Sandbox) {
            let window = (
                publish_at - DUPLICATE_WINDOW_SECS,
                publish_at + DUPLICATE_WINDOW_SECS,
            );
            let near = stored::has_text_near(conn, &c.account.id, text, None, window)?;
            if near {
                return Err(PublishError::Conflict(format!(
                    "{name}: the same text goes to this account within 24 hours, which X refuses as a duplicate."
                )));
            }
        }
    }
    Ok(chosen)
}

impl Publisher {
    /// Stores a post and its targets, each checked first; answers the post, rendered by
    /// `render` (the answer kept for its `Idempotency-Key`, when it has one).
    pub async fn create(
        &self,
        author: &Author,
        draft: Draft,
        idempotency: Option<Idempotency>,
        render: fn(&PostView) -> String,
    ) -> Result<Created, PublishError> {
        let (author_owned, idem) = (author.clone(), idempotency.clone());
        let created = self
            .db
            .write(InWorkspace(author.workspace.clone()), move |conn| {
                let now = now();
                if let Some(idem) = &idem {
                    if let Some(replay) = replay(conn, idem, now)? {
                        return Ok(replay);
                    }
                    idempotency_keys::reserve(
                        conn,
                        &idem.key,
                        &idem.fingerprint,
                        now,
                        now - IDEMPOTENCY_SECS,
                    )?;
                }
                let author = author_owned;
                let publish_at = check_publish_at(draft.publish_at, now)?;
                let chosen = choose(conn, &author, &draft, publish_at)?;
                let id = PostId::generate();
                let targets: Vec<stored::NewTarget<'_>> = chosen
                    .iter()
                    .map(|c| stored::NewTarget {
                        account_id: &c.account.id,
                        platform: c.account.platform,
                        text: c.text.as_deref(),
                    })
                    .collect();
                stored::insert(
                    conn,
                    stored::NewPost {
                        id: &id,
                        mode: chosen[0].account.mode,
                        author_user_id: author.user.as_ref(),
                        author_key_id: author.key.as_ref(),
                        text: &draft.text,
                        publish_at,
                        now,
                    },
                    &targets,
                )?;
                let names: Vec<String> = chosen
                    .iter()
                    .map(|c| {
                        target_name(c.account.platform, Some(&c.account.handle), &c.account.id)
                    })
                    .collect();
                audit::record(
                    conn,
                    &author.who,
                    Event::PostCreated,
                    id.as_str(),
                    Some(&format!("to {}", names.join(", "))),
                )?;
                let post = stored::get(conn, &id)?.ok_or(PublishError::NotFound)?;
                let view = one_view(conn, post)?;
                let body = render(&view);
                if let Some(idem) = &idem {
                    idempotency_keys::keep_answer(conn, &idem.key, 202, &body)?;
                }
                Ok(Created::New { view, body })
            })
            .await;
        match (created, idempotency) {
            // Another request with the same key committed first: answer as it did.
            (Err(PublishError::Storage(DbError::UniqueViolation)), Some(idem)) => {
                self.db
                    .read(InWorkspace(author.workspace.clone()), move |conn| {
                        replay(conn, &idem, now())?.ok_or(PublishError::Conflict(
                        "Another request with this Idempotency-Key is being handled; try again."
                            .into(),
                    ))
                    })
                    .await
            }
            (created, _) => {
                if let Ok(Created::New { view, .. }) = &created
                    && view.publish_at <= now()
                {
                    self.wake.notify_one();
                }
                created
            }
        }
    }

    /// The post, with every target and attempt.
    pub async fn get(&self, author: &Author, id: &PostId) -> Result<PostView, PublishError> {
        let (author, id) = (author.clone(), id.clone());
        self.db
            .read(InWorkspace(author.workspace.clone()), move |conn| {
                let post = visible(conn, &author, &id)?;
                Ok(one_view(conn, post)?)
            })
            .await
    }

    /// A page of posts, newest first, in the given states (any when empty).
    pub async fn list(
        &self,
        author: &Author,
        states: Vec<PostState>,
        after: Option<PostId>,
        limit: i64,
    ) -> Result<(Vec<PostView>, Option<PostId>), PublishError> {
        let mode = author.mode;
        self.db
            .read(InWorkspace(author.workspace.clone()), move |conn| {
                let mut posts = stored::page(conn, mode, &states, after.as_ref(), limit + 1)?
                    .ok_or_else(|| {
                        Invalid::new("cursor", "The cursor is not one this list gave.")
                    })?;
                let more = posts.len() as i64 > limit;
                posts.truncate(usize::try_from(limit).unwrap_or(0));
                let next = more.then(|| posts.last().map(|p| p.id.clone())).flatten();
                Ok((views(conn, posts)?, next))
            })
            .await
    }

    /// Changes the text or time of a post none of whose targets has started.
    pub async fn edit(
        &self,
        author: &Author,
        id: &PostId,
        text: Option<String>,
        publish_at: Option<i64>,
    ) -> Result<PostView, PublishError> {
        let (author, id) = (author.clone(), id.clone());
        let edited = self
            .db
            .write(InWorkspace(author.workspace.clone()), move |conn| {
                let now = now();
                let post = managed(conn, &author, &id)?;
                let publish_at = publish_at
                    .map(|at| check_publish_at(Some(at), now))
                    .transpose()?;
                if let Some(text) = &text {
                    check_size(text)?;
                }
                let targets = stored::targets_of(conn, std::slice::from_ref(&id))?;
                let handles: HashMap<AccountId, String> = accounts::list(conn, None)?
                    .into_iter()
                    .map(|a| (a.id, a.handle))
                    .collect();
                let due = publish_at.unwrap_or(post.publish_at);
                for t in targets.iter().filter(|t| t.state == TargetState::Scheduled) {
                    let name = target_name(
                        t.platform,
                        handles.get(&t.account_id).map(String::as_str),
                        &t.account_id,
                    );
                    let sends = match (&t.text, &text) {
                        (Some(own), _) => own.as_str(),
                        (None, Some(new)) => {
                            text_rules::check(t.platform, &name, new)?;
                            new.as_str()
                        }
                        (None, None) => post.text.as_str(),
                    };
                    // X's duplicate rule, in the window the post now falls in, the post itself
                    // aside.
                    if matches!(t.platform, Platform::X | Platform::Sandbox)
                        && stored::has_text_near(
                            conn,
                            &t.account_id,
                            sends,
                            Some(&id),
                            (due - DUPLICATE_WINDOW_SECS, due + DUPLICATE_WINDOW_SECS),
                        )?
                    {
                        return Err(PublishError::Conflict(format!(
                            "{name}: the same text goes to this account within 24 hours, which X refuses as a duplicate."
                        )));
                    }
                }
                if !stored::edit(conn, &id, text.as_deref(), publish_at, now)? {
                    return Err(PublishError::Conflict(
                        "This post has started publishing (or was canceled); only a post whose every target is still scheduled can be edited.".into(),
                    ));
                }
                audit::record(conn, &author.who, Event::PostEdited, id.as_str(), None)?;
                let post = stored::get(conn, &post.id)?.ok_or(PublishError::NotFound)?;
                Ok(one_view(conn, post)?)
            })
            .await?;
        if edited.publish_at <= now() {
            self.wake.notify_one();
        }
        Ok(edited)
    }

    /// Cancels every target still scheduled.
    pub async fn cancel(&self, author: &Author, id: &PostId) -> Result<PostView, PublishError> {
        let (author, id) = (author.clone(), id.clone());
        self.db
            .write(InWorkspace(author.workspace.clone()), move |conn| {
                let post = managed(conn, &author, &id)?;
                let canceled = stored::cancel(conn, &id, now())?;
                if canceled == 0 {
                    return Err(PublishError::Conflict(
                        "Nothing of this post is still scheduled, so there is nothing to cancel."
                            .into(),
                    ));
                }
                audit::record(conn, &author.who, Event::PostCanceled, id.as_str(), None)?;
                let post = stored::get(conn, &post.id)?.ok_or(PublishError::NotFound)?;
                Ok(one_view(conn, post)?)
            })
            .await
    }

    /// Retries a `failed` or `unknown` target: a new attempt, due now.
    pub async fn retry(
        &self,
        author: &Author,
        id: &PostId,
        account: &str,
    ) -> Result<PostView, PublishError> {
        let (author, id) = (author.clone(), id.clone());
        let account = AccountId::parse(account).ok_or(PublishError::NotFound)?;
        let view = self
            .db
            .write(InWorkspace(author.workspace.clone()), move |conn| {
                let post = managed(conn, &author, &id)?;
                let target = stored::targets_of(conn, std::slice::from_ref(&id))?
                    .into_iter()
                    .find(|t| t.account_id == account)
                    .ok_or(PublishError::NotFound)?;
                let Some(row) = accounts::get(conn, &account)? else {
                    return Err(PublishError::Conflict(format!(
                        "{} is no longer connected; a reconnected account is a new one: write a new post to it.",
                        target_name(target.platform, None, &account)
                    )));
                };
                if row.status != AccountStatus::Active {
                    return Err(PublishError::Conflict(format!(
                        "{} is {}: reconnect it before retrying.",
                        target_name(row.platform, Some(&row.handle), &row.id),
                        row.status
                    )));
                }
                let was = target.state;
                if !stored::retry(conn, &id, &target.id, now())? {
                    return Err(PublishError::Conflict(format!(
                        "This target is {}; only a failed or unknown one can be retried.",
                        target.state
                    )));
                }
                audit::record(
                    conn,
                    &author.who,
                    Event::PostRetried,
                    id.as_str(),
                    Some(&format!("account {account}, which was {was}")),
                )?;
                let post = stored::get(conn, &post.id)?.ok_or(PublishError::NotFound)?;
                Ok(one_view(conn, post)?)
            })
            .await?;
        self.wake.notify_one();
        Ok(view)
    }

    /// Deletes a post: its published targets are removed from the platforms first, the rest
    /// canceled; then it leaves every list. A platform that fails to delete stops the deletion
    /// (502), so that nothing stays online unseen; asking again picks up where it stopped.
    pub async fn delete(&self, author: &Author, id: &PostId) -> Result<(), PublishError> {
        let post = self.get(author, id).await?;
        {
            let (author, id) = (author.clone(), id.clone());
            self.db
                .read(InWorkspace(author.workspace.clone()), move |conn| {
                    managed(conn, &author, &id).map(drop)
                })
                .await?;
        }
        if post
            .targets
            .iter()
            .any(|t| t.state == TargetState::Publishing)
        {
            return Err(PublishError::Conflict(
                "Part of this post is being published right now; try again in a moment.".into(),
            ));
        }
        for target in post
            .targets
            .iter()
            .filter(|t| t.state == TargetState::Published)
        {
            self.take_down(&author.workspace, target).await?;
        }
        let (author, id) = (author.clone(), id.clone());
        self.db
            .write(InWorkspace(author.workspace.clone()), move |conn| {
                managed(conn, &author, &id)?;
                let now = now();
                stored::cancel(conn, &id, now)?;
                stored::mark_deleted(conn, &id, now)?;
                audit::record(conn, &author.who, Event::PostDeleted, id.as_str(), None)?;
                Ok(())
            })
            .await
    }
}

impl Publisher {
    /// The sandbox account `handle`'s feed in the workspace: what was published to it, newest
    /// first, as (post id there, text, when). `None` when the workspace has no such account.
    pub async fn sandbox_feed(
        &self,
        workspace: &WorkspaceId,
        handle: &str,
    ) -> Result<Option<Vec<(String, String, i64)>>, PublishError> {
        let handle = handle.to_owned();
        self.db
            .read(InWorkspace(workspace.clone()), move |conn| {
                let Some(account) = accounts::list(conn, Some(KeyMode::Test))?
                    .into_iter()
                    .find(|a| a.platform == Platform::Sandbox && a.handle == handle)
                else {
                    return Ok(None);
                };
                let items = stored::published_to(conn, &account.id, 100)?
                    .into_iter()
                    .map(|item| {
                        (
                            item.platform_post_id.unwrap_or_default(),
                            item.own_text.unwrap_or(item.post_text),
                            item.at,
                        )
                    })
                    .collect();
                Ok(Some(items))
            })
            .await
    }
}

/// The answer kept for this `Idempotency-Key`, when it is the same request; a different
/// request under the same key is refused.
fn replay(
    conn: &mut WorkspaceConn<'_>,
    idem: &Idempotency,
    now: i64,
) -> Result<Option<Created>, PublishError> {
    match idempotency_keys::find(conn, &idem.key, now - IDEMPOTENCY_SECS)? {
        None => Ok(None),
        Some(kept) if kept.fingerprint == idem.fingerprint => Ok(Some(Created::Replayed {
            status: u16::try_from(kept.status).unwrap_or(202),
            body: kept.body,
        })),
        Some(_) => Err(PublishError::IdempotencyKeyReused),
    }
}

/// The post, if this author sees it.
fn visible(
    conn: &mut WorkspaceConn<'_>,
    author: &Author,
    id: &PostId,
) -> Result<StoredPost, PublishError> {
    stored::get(conn, id)?
        .filter(|p| author.sees(p))
        .ok_or(PublishError::NotFound)
}

/// The post, if this author may manage it.
fn managed(
    conn: &mut WorkspaceConn<'_>,
    author: &Author,
    id: &PostId,
) -> Result<StoredPost, PublishError> {
    let post = visible(conn, author, id)?;
    if !author.may_manage(&post) {
        return Err(PublishError::Forbidden(
            "Only its author, an owner or an admin can change this post",
        ));
    }
    Ok(post)
}
