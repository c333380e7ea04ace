//! Posts: written once, delivered to each chosen account now or at `publish_at`. A key sees and
//! publishes only in its own mode: test keys to sandbox accounts, live keys to the real ones.

use super::caller::{Caller, Via};
use super::error::{ApiError, ErrorEnvelope};
use super::json::StrictQuery;
use super::keys::rfc3339;
use crate::audit::PageSize;
use crate::domain::{PostId, PostState, Scope};
use crate::publishing::{Author, Created, Draft, Idempotency, PostView, TargetView};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A post and how its delivery went on each account.
#[derive(Serialize, ToSchema)]
pub struct PostJson {
    id: String,
    /// `scheduled`, `publishing`, `published`, `partially_published`, `failed`,
    /// `needs_attention` (a target is `unknown`) or `canceled`.
    state: &'static str,
    /// `live`, or `test` for posts to sandbox accounts.
    mode: &'static str,
    text: String,
    publish_at: String,
    created_at: String,
    updated_at: String,
    author: AuthorJson,
    targets: Vec<TargetJson>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthorJson {
    /// The person who wrote it, or the creator of the key that did.
    user_id: Option<String>,
    /// The key it was written with, if any.
    key_id: Option<String>,
}

/// One account's delivery.
#[derive(Serialize, ToSchema)]
pub struct TargetJson {
    account_id: String,
    platform: &'static str,
    /// The account's handle, while it is connected.
    handle: Option<String>,
    /// This account's own text, when it has one (otherwise the post's).
    text: Option<String>,
    /// `scheduled`, `publishing`, `published`, `failed`, `unknown` (it may or may not be on the
    /// platform: look before retrying) or `canceled`.
    state: &'static str,
    due_at: String,
    platform_post_id: Option<String>,
    /// The live post, once published.
    url: Option<String>,
    error: Option<TargetError>,
    /// Every attempt, oldest first.
    attempts: Vec<AttemptJson>,
}

#[derive(Serialize, ToSchema)]
pub struct TargetError {
    code: String,
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct AttemptJson {
    started_at: String,
    finished_at: Option<String>,
    /// `publishing`, `published`, `failed`, `unknown` or `rescheduled` (rate limited).
    outcome: &'static str,
    /// The platform's HTTP status, when it answered.
    status_code: Option<i32>,
    detail: Option<String>,
}

impl From<&TargetView> for TargetJson {
    fn from(t: &TargetView) -> Self {
        TargetJson {
            account_id: t.account_id.to_string(),
            platform: t.platform.as_str(),
            handle: t.handle.clone(),
            text: t.text.clone(),
            state: t.state.as_str(),
            due_at: rfc3339(t.due_at),
            platform_post_id: t.platform_post_id.clone(),
            url: t.url.clone(),
            error: t.error_code.as_ref().map(|code| TargetError {
                code: code.clone(),
                message: t.error_message.clone().unwrap_or_default(),
            }),
            attempts: t
                .attempts
                .iter()
                .map(|a| AttemptJson {
                    started_at: rfc3339(a.started_at),
                    finished_at: a.finished_at.map(rfc3339),
                    outcome: a.outcome.as_str(),
                    status_code: a.status_code,
                    detail: a.detail.clone(),
                })
                .collect(),
        }
    }
}

impl From<&PostView> for PostJson {
    fn from(p: &PostView) -> Self {
        PostJson {
            id: p.id.to_string(),
            state: p.state.as_str(),
            mode: p.mode.as_str(),
            text: p.text.clone(),
            publish_at: rfc3339(p.publish_at),
            created_at: rfc3339(p.created_at),
            updated_at: rfc3339(p.updated_at),
            author: AuthorJson {
                user_id: p.author_user_id.as_ref().map(ToString::to_string),
                key_id: p.author_key_id.as_ref().map(ToString::to_string),
            },
            targets: p.targets.iter().map(TargetJson::from).collect(),
        }
    }
}

fn render(view: &PostView) -> String {
    serde_json::to_string(&PostJson::from(view)).unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct PostPage {
    data: Vec<PostJson>,
    /// Pass as `cursor` for the next, older page; null on the last page.
    next_cursor: Option<String>,
}

/// A post to write.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPostBody {
    /// The text, checked against each chosen platform's rules (X: 280 by its weighting; LinkedIn:
    /// 3,000 characters; the sandbox: as X).
    text: String,
    /// 1 to 10 active accounts of this workspace, in the key's mode.
    #[schema(min_items = 1, max_items = 10)]
    account_ids: Vec<String>,
    /// RFC 3339 with an offset; absent means now. At most a year ahead, at most a minute past.
    publish_at: Option<String>,
    /// Texts of their own for some of the chosen accounts, by account id.
    texts: Option<BTreeMap<String, String>>,
}

/// A change to a post whose every target is still scheduled.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostChangeBody {
    text: Option<String>,
    /// RFC 3339 with an offset.
    publish_at: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only posts in this state.
    state: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// Posts per page, 1 to 100 (default 50).
    limit: Option<String>,
}

impl Caller {
    /// Who writes and manages posts: the person, or the key for its creator.
    fn author(&self) -> Author {
        match &self.via {
            Via::Key(key) => Author {
                workspace: key.workspace.clone(),
                user: key.created_by.clone(),
                key: Some(key.key_id.clone()),
                role: key.creator_role,
                mode: Some(key.mode),
                who: self.who(),
            },
            Via::Session(person) => Author {
                workspace: person.workspace.id.clone(),
                user: Some(person.user.clone()),
                key: None,
                role: person.role,
                mode: None,
                who: self.who(),
            },
        }
    }
}

fn time_field(raw: Option<&str>, field: &str) -> Result<Option<i64>, ApiError> {
    use time::format_description::well_known::Rfc3339;
    raw.map(|raw| {
        time::OffsetDateTime::parse(raw, &Rfc3339)
            .map(|t| t.unix_timestamp())
            .map_err(|_| {
                ApiError::InvalidRequest(format!(
                    "{field}: expected an RFC 3339 time with an offset, like 2026-12-24T09:00:00+01:00"
                ))
            })
    })
    .transpose()
}

/// An id that could not be ours is simply not found.
fn post_id(raw: &str) -> Result<PostId, ApiError> {
    PostId::parse(raw).ok_or(ApiError::NotFound)
}

/// The `Idempotency-Key` header, if sent: 1 to 255 characters.
fn idempotency(req: &HttpRequest, body: &NewPostBody) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.chars().count()))
        .ok_or_else(|| {
            ApiError::InvalidRequest("Idempotency-Key: 1 to 255 visible ASCII characters".into())
        })?;
    // The request as understood, so that spacing or field order does not make it another.
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    let fingerprint = hex::encode(sha2::Sha256::digest(
        [b"POST /v1/posts\n".as_slice(), &canonical].concat(),
    ));
    Ok(Some(Idempotency {
        key: key.to_owned(),
        fingerprint,
    }))
}

/// Keys are kept per workspace and per mode: a live key and a test key of one workspace never
/// answer each other's posts (a person's session sees both, and has keys of its own).
fn scoped_to_caller(idempotency: Option<Idempotency>, caller: &Caller) -> Option<Idempotency> {
    let mode = match &caller.via {
        Via::Key(key) => key.mode.as_str(),
        Via::Session(_) => "session",
    };
    idempotency.map(|i| Idempotency {
        key: format!("{mode}:{}", i.key),
        fingerprint: i.fingerprint,
    })
}

/// Writes a post: checked for every chosen account, then delivered by the publisher now or at
/// `publish_at`.
#[utoipa::path(
    post,
    path = "/v1/posts",
    operation_id = "createPost",
    tag = "posts",
    security(("api_key" = ["posts:write"])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 characters: the same key with the same body within 24 hours answers the first answer again")),
    request_body = NewPostBody,
    responses(
        (status = 202, description = "Accepted: the post, its targets scheduled", body = PostJson,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer again"))),
        (status = 400, description = "A text a platform would refuse (naming the account and the rule), a bad publish_at, or a bad field", body = ErrorEnvelope),
        (status = 403, description = "The key lacks posts:write, or live publishing by an unconfirmed account (email_unconfirmed)", body = ErrorEnvelope),
        (status = 404, description = "An account not in this workspace or not in the key's mode", body = ErrorEnvelope),
        (status = 409, description = "An account that is not active, a duplicate text to X within 24 hours, or idempotency_key_reused", body = ErrorEnvelope),
    )
)]
#[post("/posts")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<NewPostBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsWrite)?;
    let idempotency = scoped_to_caller(idempotency(&req, &body)?, &caller);
    let body = body.into_inner();
    let draft = Draft {
        publish_at: time_field(body.publish_at.as_deref(), "publish_at")?,
        text: body.text,
        account_ids: body.account_ids,
        texts: body.texts.unwrap_or_default(),
    };
    let created = state
        .publisher
        .create(&caller.author(), draft, idempotency, render)
        .await?;
    Ok(match created {
        Created::New { body, .. } => HttpResponse::Accepted()
            .content_type("application/json")
            .body(body),
        Created::Replayed { status, body } => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::ACCEPTED),
        )
        .insert_header(("Idempotent-Replayed", "true"))
        .content_type("application/json")
        .body(body),
    })
}

/// The workspace's posts in the key's mode, newest first.
#[utoipa::path(
    get,
    path = "/v1/posts",
    operation_id = "listPosts",
    tag = "posts",
    security(("api_key" = ["posts:read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of posts", body = PostPage),
        (status = 400, description = "A bad state, cursor or limit", body = ErrorEnvelope),
        (status = 403, description = "The key lacks posts:read", body = ErrorEnvelope),
    )
)]
#[get("/posts")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: StrictQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsRead)?;
    let states = match query.state.as_deref().filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(raw) => vec![PostState::parse(raw).ok_or_else(|| {
            let known: Vec<&str> = PostState::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::InvalidRequest(format!("state: one of {}", known.join(", ")))
        })?],
    };
    let size = PageSize::parse(query.limit.as_deref())
        .map_err(|e| ApiError::InvalidRequest(format!("{}: {}", e.field, e.message)))?;
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(raw) => Some(
            PostId::parse(raw)
                .ok_or_else(|| ApiError::InvalidRequest("cursor: not one this list gave".into()))?,
        ),
    };
    let (posts, next) = state
        .publisher
        .list(&caller.author(), states, cursor, size.get())
        .await?;
    Ok(HttpResponse::Ok().json(PostPage {
        data: posts.iter().map(PostJson::from).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}

/// One post, with every target and attempt.
#[utoipa::path(
    get,
    path = "/v1/posts/{id}",
    operation_id = "getPost",
    tag = "posts",
    security(("api_key" = ["posts:read"])),
    params(("id" = String, Path, description = "The post's id")),
    responses(
        (status = 200, description = "The post", body = PostJson),
        (status = 403, description = "The key lacks posts:read", body = ErrorEnvelope),
        (status = 404, description = "No such post for this key", body = ErrorEnvelope),
    )
)]
#[get("/posts/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsRead)?;
    let post = state
        .publisher
        .get(&caller.author(), &post_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(PostJson::from(&post)))
}

/// Changes the text or `publish_at` of a post whose every target is still scheduled.
#[utoipa::path(
    patch,
    path = "/v1/posts/{id}",
    operation_id = "editPost",
    tag = "posts",
    security(("api_key" = ["posts:write"])),
    params(("id" = String, Path, description = "The post's id")),
    request_body = PostChangeBody,
    responses(
        (status = 200, description = "The post, changed", body = PostJson),
        (status = 400, description = "A text a platform would refuse, or a bad publish_at", body = ErrorEnvelope),
        (status = 403, description = "The key lacks posts:write, or the post is someone else's and the caller is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such post for this key", body = ErrorEnvelope),
        (status = 409, description = "A target has started publishing, or was canceled", body = ErrorEnvelope),
    )
)]
#[patch("/posts/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<PostChangeBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsWrite)?;
    let id = post_id(&id)?;
    let body = body.into_inner();
    if body.text.is_none() && body.publish_at.is_none() {
        return Err(ApiError::InvalidRequest(
            "Send text, publish_at, or both".into(),
        ));
    }
    let at = time_field(body.publish_at.as_deref(), "publish_at")?;
    let post = state
        .publisher
        .edit(&caller.author(), &id, body.text, at)
        .await?;
    Ok(HttpResponse::Ok().json(PostJson::from(&post)))
}

/// Cancels every target still scheduled.
#[utoipa::path(
    post,
    path = "/v1/posts/{id}/cancel",
    operation_id = "cancelPost",
    tag = "posts",
    security(("api_key" = ["posts:write"])),
    params(("id" = String, Path, description = "The post's id")),
    responses(
        (status = 200, description = "The post, its scheduled targets canceled", body = PostJson),
        (status = 403, description = "The key lacks posts:write, or the post is someone else's and the caller is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such post for this key", body = ErrorEnvelope),
        (status = 409, description = "Nothing of the post is still scheduled", body = ErrorEnvelope),
    )
)]
#[post("/posts/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsWrite)?;
    let post = state
        .publisher
        .cancel(&caller.author(), &post_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(PostJson::from(&post)))
}

/// Deletes a post: published targets are removed from their platforms, the rest canceled.
#[utoipa::path(
    delete,
    path = "/v1/posts/{id}",
    operation_id = "deletePost",
    tag = "posts",
    security(("api_key" = ["posts:write"])),
    params(("id" = String, Path, description = "The post's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The key lacks posts:write, or the post is someone else's and the caller is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such post for this key", body = ErrorEnvelope),
        (status = 409, description = "A target is being published right now, or its account is disconnected", body = ErrorEnvelope),
        (status = 502, description = "A platform failed to remove the published post; nothing was deleted here", body = ErrorEnvelope),
    )
)]
#[delete("/posts/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsWrite)?;
    state
        .publisher
        .delete(&caller.author(), &post_id(&id)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Retries a `failed` or `unknown` target: a new attempt, due now. An `unknown` target may
/// already be on the platform; look there first.
#[utoipa::path(
    post,
    path = "/v1/posts/{id}/targets/{account_id}/retry",
    operation_id = "retryPostTarget",
    tag = "posts",
    security(("api_key" = ["posts:write"])),
    params(
        ("id" = String, Path, description = "The post's id"),
        ("account_id" = String, Path, description = "The target's account id"),
    ),
    responses(
        (status = 200, description = "The post, the target scheduled again", body = PostJson),
        (status = 403, description = "The key lacks posts:write, or the post is someone else's and the caller is not an owner or admin", body = ErrorEnvelope),
        (status = 404, description = "No such post, or no such target in it", body = ErrorEnvelope),
        (status = 409, description = "The target is neither failed nor unknown, or its account is not active", body = ErrorEnvelope),
    )
)]
#[post("/posts/{id}/targets/{account_id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::PostsWrite)?;
    let (id, account) = path.into_inner();
    let post = state
        .publisher
        .retry(&caller.author(), &post_id(&id)?, &account)
        .await?;
    Ok(HttpResponse::Ok().json(PostJson::from(&post)))
}
