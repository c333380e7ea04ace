//! The API keys settings page: owners and admins only.

use super::PageError;
use super::current::SignedInMember;
use super::errors::{render, see_other};
use super::extract::{CheckedForm, NoFields};
use super::layout::{Layout, human_time};
use crate::auth::api_key::NewApiKey;
use crate::domain::{ApiKeyId, Scope};
use crate::keys::{self, CreateKey, Issuer, KeyError, KeyState, KeyView};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    layout: Layout,
    workspace: String,
    keys: Vec<KeyRow>,
    new_key: Option<ShownOnce>,
    error: Option<String>,
    all_scopes: Vec<&'static str>,
}

struct KeyRow {
    id: String,
    label: String,
    masked: String,
    mode: &'static str,
    scopes: String,
    created_at: String,
    created_by: Option<String>,
    /// The key that made this one: "key “CI” (sk_live_…a1b2)".
    via_key: Option<String>,
    last_used: String,
    expires: String,
    state: &'static str,
    active: bool,
}

impl KeyRow {
    fn new(key: KeyView, parents: &std::collections::HashMap<ApiKeyId, String>) -> Self {
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
            created_by: key.created_by.map(|email| email.to_string()),
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

/// The one showing of a new key's plaintext.
struct ShownOnce {
    label: String,
    plaintext: String,
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

async fn page(
    state: &AppState,
    member: &SignedInMember,
    status: StatusCode,
    new_key: Option<(KeyView, NewApiKey)>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let keys = keys::list_keys(&state.db, &issuer(member)?)
        .await
        .map_err(key_error)?;
    let parents: std::collections::HashMap<_, _> = keys
        .iter()
        .map(|k| {
            (
                k.id.clone(),
                format!("key \u{201c}{}\u{201d} ({})", k.label, k.masked()),
            )
        })
        .collect();
    let page = ApiKeysPage {
        layout: Layout::signed_in(member.csrf()?, member.email.clone(), &member.ctx),
        workspace: member.ctx.workspace.name.to_string(),
        keys: keys.into_iter().map(|k| KeyRow::new(k, &parents)).collect(),
        new_key: new_key.map(|(view, secret)| ShownOnce {
            label: view.label,
            plaintext: secret.expose().to_owned(),
        }),
        error,
        all_scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
    };
    let mut response = render(status, &page)?;
    // The page may hold a key's one showing: no cache may keep it.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// The page after creating or rolling: the new key shown once, or the form's error.
async fn shown_once(
    state: &AppState,
    member: &SignedInMember,
    result: Result<(KeyView, NewApiKey), KeyError>,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(created) => page(state, member, StatusCode::OK, Some(created), None).await,
        Err(KeyError::Invalid(invalid)) => {
            page(
                state,
                member,
                StatusCode::BAD_REQUEST,
                None,
                Some(invalid.message),
            )
            .await
        }
        Err(other) => Err(key_error(other)),
    }
}

fn key_error(err: KeyError) -> PageError {
    match err {
        KeyError::Invalid(invalid) => PageError::BadRequest(invalid.message),
        KeyError::NotFound => PageError::NotFound,
        KeyError::Forbidden(why) => PageError::Forbidden(why),
        KeyError::InsufficientScope(_) => {
            PageError::Forbidden("That key cannot be given more than you have.")
        }
        KeyError::Storage(e) => PageError::Internal(e.to_string()),
    }
}

#[get("/settings/api-keys")]
pub async fn list(
    state: web::Data<AppState>,
    member: SignedInMember,
) -> Result<HttpResponse, PageError> {
    issuer(&member)?;
    page(&state, &member, StatusCode::OK, None, None).await
}

/// The create form sends `scopes` once per ticked box, so it is read as pairs.
#[post("/settings/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    member: SignedInMember,
    form: CheckedForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let issuer = issuer(&member)?;
    let request = CreateKey {
        label: field("label").unwrap_or_default(),
        mode: field("mode").unwrap_or_default(),
        scopes: form
            .iter()
            .filter(|(k, _)| k == "scopes")
            .map(|(_, v)| v.clone())
            .collect(),
        expires_in_days: field("expires_in_days"),
    };
    let result = keys::create_key(&state.db, &issuer, request).await;
    shown_once(&state, &member, result).await
}

#[post("/settings/api-keys/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    member: SignedInMember,
    id: web::Path<String>,
    _checked: CheckedForm<NoFields>,
) -> Result<HttpResponse, PageError> {
    let issuer = issuer(&member)?;
    keys::revoke_key(&state.db, &state.key_cache, &issuer, &id)
        .await
        .map_err(key_error)?;
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
    let result = keys::roll_key(&state.db, &state.key_cache, &issuer, &id, &form.grace_hours).await;
    shown_once(&state, &member, result).await
}
