use super::auth::Caller;
use super::error::ApiError;
use crate::domain::{Role, Scope};
use crate::keys::{self, CreateKey, Issuer, KeyView};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};

/// A key in an answer: everything but its secret; `plaintext` only in the answer that creates it.
#[derive(Serialize)]
pub struct KeyJson {
    id: String,
    label: String,
    mode: &'static str,
    scopes: Vec<&'static str>,
    last4: String,
    state: &'static str,
    created_by: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
    last_used_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<String>,
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl From<KeyView> for KeyJson {
    fn from(k: KeyView) -> Self {
        KeyJson {
            id: k.id.to_string(),
            label: k.label,
            mode: k.mode.as_str(),
            scopes: k.scopes.names(),
            last4: k.last4,
            state: k.state.as_str(),
            created_by: k.created_by,
            created_at: rfc3339(k.created_at),
            expires_at: k.expires_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
            last_used_at: k.last_used_at.map(rfc3339),
            last_used_ip: k.last_used_ip,
            plaintext: None,
        }
    }
}

#[derive(Serialize)]
struct List {
    data: Vec<KeyJson>,
}

#[get("/api-keys")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysRead)?;
    let keys = keys::list_keys(&state.db, &caller.principal.workspace).await?;
    Ok(HttpResponse::Ok().json(List {
        data: keys.into_iter().map(KeyJson::from).collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    label: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

fn issuer(caller: &Caller) -> Issuer {
    let p = &caller.principal;
    // Only owners and admins make keys, so a key acts with an admin's role, capped by its own
    // scopes and mode.
    Issuer {
        workspace: p.workspace.clone(),
        user: p.created_by.clone(),
        role: Role::Admin,
        key: Some((p.scopes.clone(), p.mode)),
    }
}

#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysWrite)?;
    let body = body.into_inner();
    let request = CreateKey {
        label: body.label,
        mode: body.mode.unwrap_or_default(),
        scopes: body.scopes,
        expires_in_days: body.expires_in_days.map(|d| d.to_string()),
    };
    let (view, secret) = keys::create_key(&state.db, &issuer(&caller), request).await?;
    let mut json = KeyJson::from(view);
    json.plaintext = Some(secret.expose().to_owned());
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json))
}

#[delete("/api-keys/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::KeysWrite)?;
    keys::revoke_key(&state.db, &issuer(&caller), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
