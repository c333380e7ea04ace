//! The API keys settings pages: the list with the create form, each key's own page, and the
//! confirmations of roll and revoke. Owners and admins only.

use super::PageError;
use super::breakable::Breakable;
use super::confirm::{self, Confirmation};
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields};
use super::layout::{FormState, Layout, Section, human_time};
use super::shown_once::{self, NewKeyShowing};
use crate::auth::api_key::NewApiKey;
use crate::domain::{ApiKeyId, ExpiryDays, GraceHours, Invalid, KeyLabel, KeyMode, Scope, Scopes};
use crate::http::Unexpected;
use crate::keys::{self, CreateKey, Issuer, KeyError, KeyState, KeyView};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    layout: Layout,
    workspace: String,
    keys: Vec<KeyRow>,
    new_key: Option<ShownOnce>,
    error: Option<String>,
    form: FormState,
    all_scopes: Vec<ScopeChoice>,
}

/// A scope as the create form offers it.
struct ScopeChoice {
    name: &'static str,
    description: &'static str,
}

#[derive(Template)]
#[template(path = "api_key.html")]
struct ApiKeyPage {
    layout: Layout,
    key: KeyRow,
    roll: Confirmation,
    revoke: Confirmation,
    /// The key this one replaced, and the one that replaced it: link and name.
    replaces: Option<(String, String)>,
    replaced_by: Option<(String, String)>,
    form: FormState,
}

struct KeyRow {
    id: String,
    label: String,
    masked: String,
    mode: &'static str,
    scopes: String,
    created_at: String,
    created_by: Option<Breakable>,
    /// The key that made this one: "key “CI” (sk_live_…a1b2)".
    via_key: Option<String>,
    last_used: String,
    expires: String,
    state: &'static str,
    active: bool,
}

impl KeyRow {
    fn new(key: KeyView, parents: &HashMap<ApiKeyId, String>) -> Self {
        KeyRow {
            via_key: key.created_by_key.as_ref().map(|id| {
                parents
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("key {id}"))
            }),
            masked: key.masked(),
            id: key.id.to_string(),
            label: key.label,
            mode: key.mode.as_str(),
            scopes: if key.scopes.is_full_access() {
                "full access".into()
            } else {
                key.scopes.names().join(", ")
            },
            created_at: human_time(key.created_at),
            created_by: key.created_by.map(|email| Breakable::new(email.as_str())),
            last_used: match (key.last_used_at, key.last_used_ip) {
                (Some(at), Some(ip)) => format!("{} from {ip}", human_time(at)),
                (Some(at), None) => human_time(at),
                _ => "never".into(),
            },
            expires: key.expires_at.map_or_else(|| "never".into(), human_time),
            state: key.state.as_str(),
            active: key.state == KeyState::Active,
        }
    }
}

/// The one showing of a new key's plaintext, with what to do next.
struct ShownOnce {
    label: String,
    plaintext: String,
    /// `sk_live_` or `sk_test_`, as the key itself starts.
    prefix: &'static str,
    /// The service's own address, for the example command lines.
    api_url: String,
}

fn issuer(member: &SignedInMember) -> Result<Issuer, PageError> {
    if !member.ctx.role.can_manage() {
        return Err(PageError::Forbidden(
            "Only owners and admins manage API keys.",
        ));
    }
    Ok(Issuer {
        workspace: member.ctx.workspace.id.clone(),
        user: Some(member.ctx.user.clone()),
        role: member.ctx.role,
        key: None,
        who: member.who.clone(),
    })
}

/// "key “CI” (sk_live_…a1b2)", by id, for the "via" line of keys that keys made.
fn parent_names(keys: &[KeyView]) -> HashMap<ApiKeyId, String> {
    keys.iter()
        .map(|k| {
            (
                k.id.clone(),
                format!("key \u{201c}{}\u{201d} ({})", k.label, k.masked()),
            )
        })
        .collect()
}

/// Keeps a page that may hold a key's one showing out of every cache.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    new_key: Option<NewKeyShowing>,
    error: Option<String>,
    form: FormState,
) -> Result<HttpResponse, PageError> {
    let keys = keys::list_keys(&state.db, &issuer(member)?)
        .await
        .map_err(key_error)?;
    let parents = parent_names(&keys);
    let api_url = state.public_url.as_str().trim_end_matches('/').to_owned();
    let new_key = new_key.and_then(|showing| {
        let view = keys.iter().find(|k| k.id == showing.key_id)?;
        Some(ShownOnce {
            prefix: view.mode.prefix(),
            label: view.label.clone(),
            plaintext: showing.plaintext,
            api_url,
        })
    });
    let page = ApiKeysPage {
        layout: Layout::for_member(state, member, Section::ApiKeys).await?,
        workspace: member.ctx.workspace.name.to_string(),
        keys: keys.into_iter().map(|k| KeyRow::new(k, &parents)).collect(),
        new_key,
        error,
        form,
        all_scopes: Scope::ALL
            .iter()
            .map(|s| ScopeChoice {
                name: s.as_str(),
                description: s.describe(),
            })
            .collect(),
    };
    Ok(no_store(render(status, &page)?))
}

/// The answer to creating or rolling: a redirect to the list, which shows the new key once
/// (so a reload never makes another), or the form's error.
async fn shown_once(
    state: &AppState,
    member: &SignedInMember,
    result: Result<(KeyView, NewApiKey), KeyError>,
    sent: Option<&[(String, String)]>,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok((view, secret)) => {
            let cookie = shown_once::hold(
                shown_once::Kind::ApiKey,
                &member.session,
                &member.ctx.workspace.id,
                view.id.as_str(),
                secret.expose(),
                state.is_https(),
            )?;
            let mut response = see_other("/settings/api-keys");
            response
                .add_cookie(&cookie)
                .map_err(|e| PageError::Internal(Unexpected::context("cookie", e)))?;
            Ok(response)
        }
        // The create form's own mistake: said at its field, with what was sent kept.
        Err(KeyError::Invalid(invalid)) if sent.is_some() => {
            let form = kept(
                sent.unwrap_or_default(),
                FormState::refused(invalid.field, invalid.message),
            );
            page(state, member, StatusCode::BAD_REQUEST, None, None, form).await
        }
        Err(KeyError::Invalid(invalid)) => {
            let (status, form) = (StatusCode::BAD_REQUEST, FormState::default());
            page(state, member, status, None, Some(invalid.message), form).await
        }
        Err(KeyError::Conflict(why)) => {
            let (status, form) = (StatusCode::CONFLICT, FormState::default());
            page(state, member, status, None, Some(why.to_owned()), form).await
        }
        Err(other) => Err(key_error(other)),
    }
}

/// The create form's fields as sent, to show the refused form again.
fn kept(sent: &[(String, String)], mut form: FormState) -> FormState {
    for (name, value) in sent {
        let name = match name.as_str() {
            "label" => "label",
            "mode" => "mode",
            "access" => "access",
            "scopes" => "scopes",
            "expires_in_days" => "expires_in_days",
            _ => continue,
        };
        form = form.keep(name, value);
    }
    form
}

fn key_error(err: KeyError) -> PageError {
    match err {
        KeyError::Invalid(invalid) => PageError::BadRequest(invalid.message),
        KeyError::NotFound => PageError::NotFound,
        KeyError::Forbidden(why) => PageError::Forbidden(why),
        KeyError::Conflict(why) => PageError::Conflict(why.to_owned()),
        KeyError::EmailUnconfirmed => PageError::EmailUnconfirmed("create live API keys"),
        KeyError::InsufficientScope(_) => {
            PageError::Forbidden("That key cannot be given more than you have.")
        }
        KeyError::Storage(e) => PageError::Internal(Unexpected::new(e)),
    }
}

/// A key of the member's workspace, or 404 (also for another workspace's key).
async fn one_key(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
) -> Result<KeyView, PageError> {
    let issuer = issuer(member)?;
    let id = ApiKeyId::parse(id).ok_or(PageError::NotFound)?;
    keys::key(&state.db, &issuer, &id).await.map_err(key_error)
}

fn quoted(label: &str) -> String {
    format!("\u{201c}{label}\u{201d}")
}

/// The active keys that `key` made, and those they made in turn: they stop with it.
fn stopping_with<'a>(key: &KeyView, all: &'a [KeyView]) -> Vec<&'a KeyView> {
    let mut found: Vec<&KeyView> = Vec::new();
    let mut parents = vec![key.id.clone()];
    while let Some(parent) = parents.pop() {
        for child in all
            .iter()
            .filter(|k| k.created_by_key.as_ref() == Some(&parent))
        {
            if !found.iter().any(|f| f.id == child.id) && child.id != key.id {
                parents.push(child.id.clone());
                found.push(child);
            }
        }
    }
    found.retain(|k| k.state == KeyState::Active);
    found
}

/// "It also stops the 2 keys it made: …", or nothing when it made none still working.
fn also_stopping(key: &KeyView, all: &[KeyView]) -> String {
    let children = stopping_with(key, all);
    if children.is_empty() {
        return String::new();
    }
    let names: Vec<String> = children
        .iter()
        .map(|k| format!("{} ({})", quoted(&k.label), k.masked()))
        .collect();
    let count = match children.len() {
        1 => "the key it made".to_owned(),
        n => format!("the {n} keys it made (and those they made)"),
    };
    format!(" With it stops {count}: {}.", names.join(", "))
}

fn revoke_confirmation(key: &KeyView, all: &[KeyView]) -> Confirmation {
    Confirmation::new(
        format!("Revoke the key {}?", quoted(&key.label)),
        format!(
            "{} stops working at once: the next request with it is refused with 401.{} This \
             cannot be undone.",
            key.masked(),
            also_stopping(key, all)
        ),
        format!("/settings/api-keys/{}/revoke", key.id),
        "Revoke key",
        format!("/settings/api-keys/{}", key.id),
    )
}

fn roll_confirmation(key: &KeyView, all: &[KeyView]) -> Confirmation {
    Confirmation::new(
        format!("Roll the key {}?", quoted(&key.label)),
        format!(
            "A new key with the same label, mode and scopes is made and shown once. {} keeps \
             working for the grace period you choose, then stops.{}",
            key.masked(),
            also_stopping(key, all).replace("With it stops", "With it then stop")
        ),
        format!("/settings/api-keys/{}/roll", key.id),
        "Roll key",
        format!("/settings/api-keys/{}", key.id),
    )
    .asking_grace_hours()
}

/// Every key of the member's workspace they may see, for naming chains of keys.
async fn all_keys(state: &AppState, member: &SignedInMember) -> Result<Vec<KeyView>, PageError> {
    keys::list_keys(&state.db, &issuer(member)?)
        .await
        .map_err(key_error)
}

#[get("/settings/api-keys")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    issuer(&member)?;
    let showing = shown_once::take_key(&req, &member.session, &member.ctx.workspace.id);
    let form = FormState::default();
    let mut response = page(&state, &member, StatusCode::OK, showing, None, form).await?;
    shown_once::forget(
        shown_once::Kind::ApiKey,
        &req,
        &mut response,
        state.is_https(),
    );
    Ok(response)
}

#[get("/settings/api-keys/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    key_page(&state, &member, &id, StatusCode::OK, FormState::default()).await
}

/// A key's own page: its facts, its line of rolls, rename, roll and revoke.
async fn key_page(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
    status: StatusCode,
    form: FormState,
) -> Result<HttpResponse, PageError> {
    let key = one_key(state, member, id).await?;
    let all = all_keys(state, member).await?;
    let lineage = keys::lineage(&state.db, &issuer(member)?, &key.id, &all)
        .await
        .map_err(key_error)?;
    let link = |k: &KeyView| (format!("/settings/api-keys/{}", k.id), named(k));
    let page = ApiKeyPage {
        layout: Layout::for_member(state, member, Section::ApiKeys).await?,
        roll: roll_confirmation(&key, &all),
        revoke: revoke_confirmation(&key, &all),
        replaces: lineage.replaces.as_ref().map(link),
        replaced_by: lineage.replaced_by.as_ref().map(link),
        key: KeyRow::new(key, &parent_names(&all)),
        form,
    };
    render(status, &page)
}

/// "“CI” (sk_live_…a1b2)": a key by label and last four, as messages name it.
fn named(key: &KeyView) -> String {
    format!("{} ({})", quoted(&key.label), key.masked())
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    label: String,
}

#[post("/settings/api-keys/{id}/rename")]
pub async fn rename(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    form: CheckedForm<RenameForm>,
) -> Result<HttpResponse, PageError> {
    let issuer = issuer(&member)?;
    let key_id = ApiKeyId::parse(&id).ok_or(PageError::NotFound)?;
    let label = match KeyLabel::parse(&form.label) {
        Ok(label) => label,
        Err(invalid) => {
            let refused = FormState::refused("rename", invalid.message).keep("rename", &form.label);
            return key_page(&state, &member, &id, StatusCode::BAD_REQUEST, refused).await;
        }
    };
    let new_label = label.as_str().to_owned();
    let before = keys::rename_key(&state.db, &issuer, &key_id, label)
        .await
        .map_err(key_error)?;
    member.session.flash(format!(
        "Key {} is now called {}.",
        named(&before),
        quoted(&new_label)
    ))?;
    Ok(see_other(&format!("/settings/api-keys/{key_id}")))
}

#[get("/settings/api-keys/{id}/revoke")]
pub async fn confirm_revoke(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let revocable = |key: &KeyView| key.state != KeyState::Revoked;
    confirm_key(&state, &member, &id, revocable, revoke_confirmation).await
}

#[get("/settings/api-keys/{id}/roll")]
pub async fn confirm_roll(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let rollable = |key: &KeyView| key.state == KeyState::Active;
    confirm_key(&state, &member, &id, rollable, roll_confirmation).await
}

/// The confirmation page of an action on a key, or the key's own page when the action no longer
/// applies to it.
async fn confirm_key(
    state: &AppState,
    member: &SignedInMember,
    id: &str,
    applies: impl Fn(&KeyView) -> bool,
    confirmation: fn(&KeyView, &[KeyView]) -> Confirmation,
) -> Result<HttpResponse, PageError> {
    let key = one_key(state, member, id).await?;
    if !applies(&key) {
        return Ok(see_other(&format!("/settings/api-keys/{}", key.id)));
    }
    let all = all_keys(state, member).await?;
    confirm::page(state, member, Section::ApiKeys, confirmation(&key, &all)).await
}

/// The create form's fields, parsed: `scopes` comes once per ticked box, so the form is read as
/// pairs; an empty mode is the default one.
fn new_key_request(form: &[(String, String)]) -> Result<CreateKey, Invalid> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let label = KeyLabel::parse(field("label").unwrap_or_default())?;
    let mode = match field("mode").map(str::trim) {
        None | Some("") => None,
        Some(mode) => Some(KeyMode::parse_field(mode)?),
    };
    let scopes: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "scopes")
        .map(|(_, v)| v.as_str())
        .collect();
    // Full access or restricted is chosen explicitly; a form without the choice (an older
    // page) keeps the old reading, where no ticked scope means full access.
    let scopes = match field("access") {
        Some("full") => Scopes::full(),
        Some("restricted") if scopes.is_empty() => {
            return Err(Invalid::new(
                "scopes",
                "Tick at least one scope for a restricted key, or choose Full access.",
            ));
        }
        None | Some("restricted") => Scopes::parse_list(&scopes)?,
        Some(_) => {
            return Err(Invalid::new("scopes", "Choose Full access or Restricted."));
        }
    };
    Ok(CreateKey {
        label,
        mode,
        scopes,
        expires_in_days: ExpiryDays::parse_form(field("expires_in_days"))?,
    })
}

/// The create form sends `scopes` once per ticked box, so it is read as pairs.
#[post("/settings/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let issuer = issuer(&member)?;
    let request = match new_key_request(&form) {
        Ok(request) => request,
        Err(invalid) => {
            let refused = Err(KeyError::Invalid(invalid));
            return shown_once(&state, &member, refused, Some(&form)).await;
        }
    };
    let result = keys::create_key(&state.db, state.post(), &issuer, request).await;
    shown_once(&state, &member, result, Some(&form)).await
}

#[post("/settings/api-keys/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let issuer = issuer(&member)?;
    let id = ApiKeyId::parse(&id).ok_or(PageError::NotFound)?;
    let revocation = keys::revoke_key(&state.db, &state.key_cache, &issuer, &id)
        .await
        .map_err(key_error)?;
    let key = &revocation.key;
    // The key as it was before: revoking one revoked already changes nothing, and says so.
    let message = if key.state == KeyState::Revoked {
        format!("Key {} was revoked already.", named(key))
    } else if revocation.with_it.is_empty() {
        format!("Key {} revoked.", named(key))
    } else {
        let names: Vec<String> = revocation.with_it.iter().map(named).collect();
        format!(
            "Key {} revoked, and with it the keys it made: {}.",
            named(key),
            names.join(", ")
        )
    };
    member.session.flash(message)?;
    Ok(see_other("/settings/api-keys"))
}

#[derive(Deserialize)]
pub struct RollForm {
    #[serde(default)]
    grace_hours: String,
}

#[post("/settings/api-keys/{id}/roll")]
pub async fn roll(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    form: CheckedForm<RollForm>,
) -> Result<HttpResponse, PageError> {
    let issuer = issuer(&member)?;
    let grace = match GraceHours::parse_form(&form.grace_hours) {
        Ok(grace) => grace,
        Err(invalid) => {
            return shown_once(&state, &member, Err(KeyError::Invalid(invalid)), None).await;
        }
    };
    let id = ApiKeyId::parse(&id).ok_or(PageError::NotFound)?;
    let result = keys::roll_key(&state.db, &state.key_cache, &issuer, &id, grace).await;
    if let Ok((new, _)) = &result {
        let old = match grace.hours() {
            0 => "the old one has stopped working".to_owned(),
            1 => "the old one works for one more hour".to_owned(),
            hours => format!("the old one works for {hours} more hours"),
        };
        member.session.flash(format!(
            "Key {} rolled: the new key, {}, is below; {old}.",
            quoted(&new.label),
            new.masked()
        ))?;
    }
    shown_once(&state, &member, result, None).await
}
