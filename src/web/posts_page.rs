//! Posts in the browser: the composer (with a live count per platform, checked again by the
//! server), the three lists, and Edit, Cancel, Retry and Delete behind confirmation pages.
//! Times are read and written in the person's time zone (a profile setting; UTC until set).

use super::PageError;
use super::confirm::{self, Confirmation};
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields, PageQuery};
use super::layout::{FormState, Layout, Say, Section};
use crate::connect::{AccountStatus, Actor};
use crate::domain::{AccountId, Platform, PostId, PostState, TargetState, TimeZoneName, now};
use crate::http::Unexpected;
use crate::publishing::text_rules;
use crate::publishing::{Author, Created, Draft, PostView, PublishError, TargetView};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

/// The three lists, and the post states each shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Scheduled,
    Published,
    Attention,
}

impl List {
    fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("published") => List::Published,
            Some("attention") => List::Attention,
            _ => List::Scheduled,
        }
    }

    fn slug(self) -> &'static str {
        match self {
            List::Scheduled => "scheduled",
            List::Published => "published",
            List::Attention => "attention",
        }
    }

    fn states(self) -> Vec<PostState> {
        match self {
            List::Scheduled => vec![PostState::Scheduled, PostState::Publishing],
            List::Published => vec![PostState::Published, PostState::PartiallyPublished],
            // A partly published post has a failed target that may want a retry.
            List::Attention => vec![
                PostState::NeedsAttention,
                PostState::Failed,
                PostState::PartiallyPublished,
            ],
        }
    }
}

struct Tab {
    slug: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "posts.html")]
struct PostsPage {
    layout: Layout,
    zone: String,
    zone_set: bool,
    accounts: Vec<AccountChoice>,
    tabs: Vec<Tab>,
    list: &'static str,
    posts: Vec<PostRow>,
    more: Option<String>,
    error: Option<String>,
    form: FormState,
    /// The schedule field's starting value: an hour from now, in the person's zone.
    later: String,
}

struct AccountChoice {
    id: String,
    platform: &'static str,
    platform_name: &'static str,
    handle: String,
    initial: String,
    test: bool,
    checked: bool,
}

struct PostRow {
    id: String,
    text: String,
    when: String,
    state: &'static str,
    state_label: &'static str,
    targets: Vec<TargetRow>,
    edit: Option<String>,
    cancel: Option<Confirmation>,
    delete: Confirmation,
}

struct TargetRow {
    name: String,
    state: &'static str,
    url: Option<String>,
    error: Option<String>,
    attempts: usize,
    retry: Option<Confirmation>,
}

fn author(member: &SignedInMember) -> Author {
    Author {
        workspace: member.ctx.workspace.id.clone(),
        user: Some(member.ctx.user.clone()),
        key: None,
        role: member.ctx.role,
        mode: None,
        who: member.who.clone(),
    }
}

/// The person's time zone, or UTC until they choose one (answers whether they did).
async fn zone_of(
    state: &AppState,
    member: &SignedInMember,
) -> Result<(TimeZoneName, bool), PageError> {
    let user = member.ctx.user.clone();
    let stored = state
        .db
        .read(crate::db::Global, move |conn| {
            crate::db::users::time_zone(conn, &user)
        })
        .await
        .map_err(|e| PageError::Internal(Unexpected::new(e)))?;
    Ok(match stored.and_then(|z| TimeZoneName::parse(&z).ok()) {
        Some(zone) => (zone, true),
        None => (TimeZoneName::utc(), false),
    })
}

fn state_label(state: PostState) -> &'static str {
    match state {
        PostState::Scheduled => "Scheduled",
        PostState::Publishing => "Publishing",
        PostState::Published => "Published",
        PostState::PartiallyPublished => "Partly published",
        PostState::Failed => "Failed",
        PostState::NeedsAttention => "Needs attention",
        PostState::Canceled => "Canceled",
    }
}

fn retry_confirmation(post: &PostView, target: &TargetView) -> Option<Confirmation> {
    let detail = match target.state {
        TargetState::Failed => {
            "A new attempt is made now. The platform refused the last one, so nothing of it is online."
        }
        TargetState::Unknown => {
            "The last attempt may have reached the platform: look at the account there first. If the post is already online, retrying publishes it twice."
        }
        _ => return None,
    };
    Some(Confirmation::new(
        format!("Retry the post to {}?", target.name()),
        detail,
        format!("/posts/{}/targets/{}/retry", post.id, target.account_id),
        "Retry",
        "/posts?list=attention",
    ))
}

fn row(post: &PostView, zone: &TimeZoneName) -> PostRow {
    let all_scheduled = post
        .targets
        .iter()
        .filter(|t| t.state != TargetState::Canceled)
        .all(|t| t.state == TargetState::Scheduled);
    let any_scheduled = post
        .targets
        .iter()
        .any(|t| t.state == TargetState::Scheduled);
    let published = post
        .targets
        .iter()
        .filter(|t| t.state == TargetState::Published)
        .count();
    PostRow {
        id: post.id.to_string(),
        text: post.text.clone(),
        when: zone.show(post.publish_at),
        state: post.state.as_str(),
        state_label: state_label(post.state),
        targets: post
            .targets
            .iter()
            .map(|t| TargetRow {
                name: t.name(),
                state: t.state.as_str(),
                url: t.url.clone(),
                error: t.error_message.clone(),
                attempts: t.attempts.len(),
                retry: retry_confirmation(post, t),
            })
            .collect(),
        edit: (all_scheduled && any_scheduled).then(|| format!("/posts/{}/edit", post.id)),
        cancel: any_scheduled.then(|| {
            Confirmation::new(
                "Cancel this post?",
                "Every account it has not reached yet is canceled; nothing more is sent. Where it was already published it stays.",
                format!("/posts/{}/cancel", post.id),
                "Cancel post",
                "/posts",
            )
        }),
        delete: Confirmation::new(
            "Delete this post?",
            if published > 0 {
                "It is removed from every platform where it was published, the rest is canceled, and it leaves these lists."
            } else {
                "Whatever is still scheduled is canceled, and it leaves these lists."
            },
            format!("/posts/{}/delete", post.id),
            "Delete post",
            "/posts",
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    list: Option<String>,
    after: Option<String>,
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    list: List,
    after: Option<PostId>,
    status: StatusCode,
    say: Say,
) -> Result<HttpResponse, PageError> {
    let (error, form) = say.split();
    let (zone, zone_set) = zone_of(state, member).await?;
    let accounts = state
        .connector
        .list(&Actor::Member {
            workspace: member.ctx.workspace.id.clone(),
            user: member.ctx.user.clone(),
        })
        .await?;
    let (posts, next) = state
        .publisher
        .list(&author(member), list.states(), after, 20)
        .await?;
    let page = PostsPage {
        layout: Layout::for_member(state, member, Section::Posts).await?,
        later: zone.local_input(now() + 3600),
        accounts: accounts
            .into_iter()
            .filter(|a| a.status == AccountStatus::Active)
            .map(|a| AccountChoice {
                checked: form.has("account_ids", a.id.as_str()),
                id: a.id.to_string(),
                platform: a.platform.as_str(),
                platform_name: a.platform.display_name(),
                initial: a
                    .handle
                    .trim_start_matches('@')
                    .chars()
                    .next()
                    .map(|c| c.to_uppercase().to_string())
                    .unwrap_or_default(),
                handle: a.handle,
                test: a.mode == crate::domain::KeyMode::Test,
            })
            .collect(),
        tabs: [List::Scheduled, List::Published, List::Attention]
            .into_iter()
            .map(|l| Tab {
                slug: l.slug(),
                label: match l {
                    List::Scheduled => "Scheduled",
                    List::Published => "Published",
                    List::Attention => "Needs attention",
                },
                current: l == list,
            })
            .collect(),
        list: list.slug(),
        posts: posts.iter().map(|p| row(p, &zone)).collect(),
        more: next.map(|id| format!("/posts?list={}&after={id}", list.slug())),
        zone: zone.as_str().to_owned(),
        zone_set,
        error,
        form,
    };
    render(status, &page)
}

#[get("/posts")]
pub async fn show_posts(
    state: web::Data<AppState>,
    member: SignedInMember,
    query: PageQuery<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let after = match query.after.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(PostId::parse(raw).ok_or(PageError::NotFound)?),
    };
    let list = List::parse(query.list.as_deref());
    page(&state, &member, list, after, StatusCode::OK, Say::Nothing).await
}

/// The composer's fields: `account_ids` once per ticked box, so read as pairs.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[post("/posts")]
pub async fn create_post(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let text = field(&form, "text").unwrap_or_default().to_owned();
    let accounts: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "account_ids")
        .map(|(_, v)| v.clone())
        .collect();
    // Publishing cannot be taken back: only an explicit "now" publishes now.
    let later = match field(&form, "when") {
        Some("later") => true,
        Some("now") => false,
        _ => {
            return Err(PageError::BadRequest(
                "Choose Publish now or Schedule.".into(),
            ));
        }
    };
    let local = field(&form, "publish_at").unwrap_or_default().to_owned();
    let refuse = |field: &'static str, message: String| {
        let mut state = FormState::refused(field, message).keep("text", text.clone());
        for id in &accounts {
            state = state.keep("account_ids", id.clone());
        }
        state
            .keep("publish_at", local.clone())
            .keep("when", if later { "later" } else { "now" })
    };
    let (zone, _) = zone_of(&state, &member).await?;
    let publish_at = if later {
        match zone.to_unix(&local) {
            Ok(at) => Some(at),
            Err(invalid) => {
                let say = Say::Refused(refuse("publish_at", invalid.message));
                return page(
                    &state,
                    &member,
                    List::Scheduled,
                    None,
                    StatusCode::BAD_REQUEST,
                    say,
                )
                .await;
            }
        }
    } else {
        None
    };
    let draft = Draft {
        text: text.clone(),
        account_ids: accounts.clone(),
        publish_at,
        texts: Default::default(),
    };
    match state
        .publisher
        .create(&author(&member), draft, None, |_| String::new())
        .await
    {
        Ok(Created::New { view, .. }) => {
            let message = if view.publish_at <= now() {
                "Publishing now: the post is on its way.".to_owned()
            } else {
                format!("Post scheduled for {}.", zone.show(view.publish_at))
            };
            member.session.flash(message)?;
            Ok(see_other("/posts?list=scheduled"))
        }
        Ok(Created::Replayed { .. }) => Ok(see_other("/posts")),
        Err(PublishError::Invalid(invalid)) => {
            let field = match invalid.field {
                "account_ids" | "texts" => "account_ids",
                "publish_at" => "publish_at",
                _ => "text",
            };
            let say = Say::Refused(refuse(field, invalid.message));
            page(
                &state,
                &member,
                List::Scheduled,
                None,
                StatusCode::BAD_REQUEST,
                say,
            )
            .await
        }
        Err(PublishError::AccountNotFound(_)) => {
            let say = Say::Refused(refuse(
                "account_ids",
                "One of the chosen accounts is no longer connected; choose again.".into(),
            ));
            page(
                &state,
                &member,
                List::Scheduled,
                None,
                StatusCode::BAD_REQUEST,
                say,
            )
            .await
        }
        Err(PublishError::Conflict(why)) => {
            let say = Say::Refused(refuse("text", why));
            page(
                &state,
                &member,
                List::Scheduled,
                None,
                StatusCode::CONFLICT,
                say,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CountForm {
    #[allow(dead_code, reason = "checked by CheckedForm before the handler runs")]
    csrf_token: String,
    text: String,
}

/// The composer's live count: the server's own count per platform, so that the page and the
/// check at submit never disagree.
#[post("/posts/count")]
pub async fn count_text(
    _member: SignedInMember,
    form: CheckedForm<CountForm>,
) -> Result<HttpResponse, PageError> {
    let counts: serde_json::Map<String, serde_json::Value> = Platform::ALL
        .iter()
        .map(|p| {
            let measure = text_rules::measure(*p, &form.text);
            (
                p.as_str().to_owned(),
                serde_json::json!({"used": measure.used, "limit": measure.limit}),
            )
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(counts))
}

async fn one_post(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
) -> Result<PostView, PageError> {
    let id = PostId::parse(id).ok_or(PageError::NotFound)?;
    Ok(state.publisher.get(&author(member), &id).await?)
}

#[derive(Template)]
#[template(path = "post_edit.html")]
struct EditPage {
    layout: Layout,
    id: String,
    text: String,
    publish_at: String,
    /// The time as the form first showed it: sent back unchanged, it leaves the stored time
    /// (with its seconds, and its side of a clock change) alone.
    shown: String,
    zone: String,
    form: FormState,
}

async fn edit_page(
    state: &AppState,
    member: &SignedInMember,
    post: &PostView,
    status: StatusCode,
    form: FormState,
) -> Result<HttpResponse, PageError> {
    let (zone, _) = zone_of(state, member).await?;
    let page = EditPage {
        layout: Layout::for_member(state, member, Section::Posts).await?,
        id: post.id.to_string(),
        text: if form.is_refused() {
            form.value("text").to_owned()
        } else {
            post.text.clone()
        },
        publish_at: if form.is_refused() {
            form.value("publish_at").to_owned()
        } else {
            zone.local_input(post.publish_at)
        },
        shown: zone.local_input(post.publish_at),
        zone: zone.as_str().to_owned(),
        form,
    };
    render(status, &page)
}

#[get("/posts/{id}/edit")]
pub async fn edit_form(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let post = one_post(&state, &member, &id).await?;
    edit_page(&state, &member, &post, StatusCode::OK, FormState::default()).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    #[allow(dead_code, reason = "checked by CheckedForm before the handler runs")]
    csrf_token: String,
    text: String,
    publish_at: String,
    publish_at_shown: String,
}

#[post("/posts/{id}/edit")]
pub async fn save_edit(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    form: CheckedForm<EditForm>,
) -> Result<HttpResponse, PageError> {
    let post = one_post(&state, &member, &id).await?;
    let (zone, _) = zone_of(&state, &member).await?;
    let refused = |field: &'static str, message: String| {
        FormState::refused(field, message)
            .keep("text", form.text.clone())
            .keep("publish_at", form.publish_at.clone())
    };
    // The time moves only when the person changed what the form showed.
    let publish_at = if form.publish_at == form.publish_at_shown {
        None
    } else {
        match zone.to_unix(&form.publish_at) {
            Ok(at) => Some(at),
            Err(invalid) => {
                let state_form = refused("publish_at", invalid.message);
                return edit_page(&state, &member, &post, StatusCode::BAD_REQUEST, state_form)
                    .await;
            }
        }
    };
    let text = (form.text != post.text).then(|| form.text.clone());
    if text.is_none() && publish_at.is_none() {
        member.session.flash("Nothing changed.")?;
        return Ok(see_other("/posts?list=scheduled"));
    }
    match state
        .publisher
        .edit(&author(&member), &post.id, text, publish_at)
        .await
    {
        Ok(_) => {
            member.session.flash("Post changed.")?;
            Ok(see_other("/posts?list=scheduled"))
        }
        Err(PublishError::Invalid(invalid)) => {
            let field = if invalid.field == "publish_at" {
                "publish_at"
            } else {
                "text"
            };
            let state_form = refused(field, invalid.message);
            edit_page(&state, &member, &post, StatusCode::BAD_REQUEST, state_form).await
        }
        Err(e) => Err(e.into()),
    }
}

fn cancel_confirmation(post: &PostView) -> Confirmation {
    row(post, &TimeZoneName::utc()).cancel.unwrap_or_else(|| {
        Confirmation::new(
            "Cancel this post?",
            "",
            format!("/posts/{}/cancel", post.id),
            "Cancel post",
            "/posts",
        )
    })
}

#[get("/posts/{id}/cancel")]
pub async fn confirm_cancel(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let post = one_post(&state, &member, &id).await?;
    confirm::page(&state, &member, Section::Posts, cancel_confirmation(&post)).await
}

#[post("/posts/{id}/cancel")]
pub async fn cancel_post(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let post = one_post(&state, &member, &id).await?;
    state.publisher.cancel(&author(&member), &post.id).await?;
    member.session.flash("Post canceled.")?;
    Ok(see_other("/posts"))
}

#[get("/posts/{id}/delete")]
pub async fn confirm_delete(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let post = one_post(&state, &member, &id).await?;
    confirm::page(
        &state,
        &member,
        Section::Posts,
        row(&post, &TimeZoneName::utc()).delete,
    )
    .await
}

#[post("/posts/{id}/delete")]
pub async fn delete_post(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let post = one_post(&state, &member, &id).await?;
    state.publisher.delete(&author(&member), &post.id).await?;
    member.session.flash("Post deleted.")?;
    Ok(see_other("/posts"))
}

fn one_target<'p>(post: &'p PostView, account: &str) -> Result<&'p TargetView, PageError> {
    let account = AccountId::parse(account).ok_or(PageError::NotFound)?;
    post.targets
        .iter()
        .find(|t| t.account_id == account)
        .ok_or(PageError::NotFound)
}

#[get("/posts/{id}/targets/{account}/retry")]
pub async fn confirm_retry(
    state: web::Data<AppState>,
    member: SignedInMember,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, account) = path.into_inner();
    let post = one_post(&state, &member, &id).await?;
    let target = one_target(&post, &account)?;
    let confirmation = retry_confirmation(&post, target).ok_or_else(|| {
        PageError::Conflict(format!(
            "The post to {} is {}; only a failed or unknown one can be retried.",
            target.name(),
            target.state
        ))
    })?;
    confirm::page(&state, &member, Section::Posts, confirmation).await
}

#[post("/posts/{id}/targets/{account}/retry")]
pub async fn retry_target(
    state: web::Data<AppState>,
    member: SignedInMember,
    path: web::Path<(String, String)>,
    _form: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (id, account) = path.into_inner();
    let post = one_post(&state, &member, &id).await?;
    let target = one_target(&post, &account)?;
    state
        .publisher
        .retry(&author(&member), &post.id, target.account_id.as_str())
        .await?;
    member
        .session
        .flash(format!("Retrying the post to {}.", target.name()))?;
    Ok(see_other("/posts?list=scheduled"))
}

#[derive(Template)]
#[template(path = "sandbox_feed.html")]
struct FeedPage {
    layout: Layout,
    handle: String,
    items: Vec<FeedItem>,
}

struct FeedItem {
    id: String,
    text: String,
    when: String,
}

/// A sandbox account's feed: what was published to it, newest first, as a platform would show
/// it. Members of the workspace only.
#[get("/sandbox/feed/{handle}")]
pub async fn sandbox_feed(
    state: web::Data<AppState>,
    member: SignedInMember,
    handle: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (zone, _) = zone_of(&state, &member).await?;
    let feed = state
        .publisher
        .sandbox_feed(&member.ctx.workspace.id, &handle)
        .await?
        .ok_or(PageError::NotFound)?;
    let page = FeedPage {
        layout: Layout::for_member(&state, &member, Section::Posts).await?,
        handle: handle.into_inner(),
        items: feed
            .into_iter()
            .map(|(id, text, at)| FeedItem {
                id,
                text,
                when: zone.show(at),
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneForm {
    #[allow(dead_code, reason = "checked by CheckedForm before the handler runs")]
    csrf_token: String,
    time_zone: String,
}

/// The person's time zone, for reading and writing publishing times.
#[post("/settings/security/time-zone")]
pub async fn set_time_zone(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<ZoneForm>,
) -> Result<HttpResponse, PageError> {
    let zone =
        TimeZoneName::parse(&form.time_zone).map_err(|e| PageError::BadRequest(e.message))?;
    let (user, name) = (member.ctx.user.clone(), zone.as_str().to_owned());
    state
        .db
        .write(crate::db::Global, move |conn| {
            crate::db::users::set_time_zone(conn, &user, Some(&name))
        })
        .await
        .map_err(|e| PageError::Internal(Unexpected::new(e)))?;
    member
        .session
        .flash(format!("Times are now shown in {}.", zone.as_str()))?;
    Ok(see_other("/settings/security"))
}

impl From<PublishError> for PageError {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::Invalid(invalid) => PageError::BadRequest(invalid.message),
            PublishError::NotFound | PublishError::AccountNotFound(_) => PageError::NotFound,
            PublishError::Forbidden(why) => PageError::Forbidden(why),
            PublishError::EmailUnconfirmed => {
                PageError::EmailUnconfirmed("publish to live accounts")
            }
            PublishError::Conflict(why) => PageError::Conflict(why),
            PublishError::IdempotencyKeyReused => {
                PageError::Conflict("This form was already sent.".into())
            }
            PublishError::Provider(why) => PageError::Provider(why),
            PublishError::Storage(e) => PageError::Internal(Unexpected::new(e)),
            PublishError::Account(e) => e.into(),
        }
    }
}
