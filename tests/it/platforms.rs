//! Stand-ins for X and LinkedIn on 127.0.0.1, checking what the real platforms check: the
//! client's credentials (HTTP Basic on X, in the body on LinkedIn), the exact registered
//! redirect URI, PKCE S256 on X, single-use codes, and X's single-use rotating refresh tokens.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use sha2::Digest as _;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

pub const X_CLIENT: (&str, &str) = ("x-client-id", "x-client-secret");
pub const LINKEDIN_CLIENT: (&str, &str) = ("li-client-id", "li-client-secret");

#[derive(Default)]
pub struct Platform {
    pub redirect_uris: HashSet<String>,
    codes: HashMap<String, Grant>,
    access: HashMap<String, String>,
    refresh: HashMap<String, String>,
    /// Every refresh token ever presented, and how often.
    pub refresh_uses: HashMap<String, u32>,
    pub issued_access: Vec<String>,
    pub issued_refresh: Vec<String>,
    pub revoked: Vec<String>,
    /// The next N token requests answer 503.
    pub fail_next: u32,
    /// Refresh tokens answer `invalid_grant` from now on.
    pub refuse_refresh: bool,
    /// The next authorization is denied by the user.
    pub deny_next: bool,
    /// Code exchanges answer without a refresh token.
    pub omit_refresh_on_code: bool,
    /// Lifetime of access tokens handed out.
    pub expires_in: i64,
    /// Slows the token endpoint, to let concurrent refreshes overlap.
    pub token_delay_ms: u64,
    pub account: (String, String, String),
}

struct Grant {
    redirect_uri: String,
    challenge: Option<String>,
}

#[derive(Clone, Default)]
pub struct StandIn {
    pub x: Arc<Mutex<Platform>>,
    pub linkedin: Arc<Mutex<Platform>>,
}

pub struct Running {
    pub base: String,
    pub stand_in: StandIn,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Running {
    pub async fn start() -> Self {
        let stand_in = StandIn::default();
        {
            let mut x = stand_in.x.lock().unwrap();
            x.expires_in = 7200;
            x.account = ("2244994945".into(), "ada".into(), "Ada Lovelace".into());
            let mut li = stand_in.linkedin.lock().unwrap();
            li.expires_in = 60 * 24 * 3600;
            li.account = (
                "li-sub-782".into(),
                "ada@example.com".into(),
                "Ada L.".into(),
            );
        }
        let shared = stand_in.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(shared.clone()))
                        .route("/{platform}/authorize", web::get().to(authorize))
                        .route("/x/token", web::post().to(token))
                        .route("/linkedin/accessToken", web::post().to(token))
                        .route("/x/2/users/me", web::get().to(profile))
                        .route("/linkedin/v2/userinfo", web::get().to(profile))
                        .route("/x/revoke", web::post().to(revoke))
                })
                .workers(1)
                .bind("127.0.0.1:0")
                .unwrap();
                let address = server.addrs()[0];
                let server = server.run();
                tx.send((address, server.handle())).unwrap();
                server.await.unwrap();
            })
        });
        let (address, handle) = tokio::task::spawn_blocking(move || rx.recv().unwrap())
            .await
            .unwrap();
        Self {
            base: format!("http://{address}"),
            stand_in,
            handle,
        }
    }

    /// The server variables that point Socializer at this stand-in.
    pub fn vars(&self) -> Vec<(String, String)> {
        let b = &self.base;
        [
            ("SOCIALIZER_X_CLIENT_ID", X_CLIENT.0.to_owned()),
            ("SOCIALIZER_X_CLIENT_SECRET", X_CLIENT.1.to_owned()),
            ("SOCIALIZER_X_AUTHORIZE_URL", format!("{b}/x/authorize")),
            ("SOCIALIZER_X_TOKEN_URL", format!("{b}/x/token")),
            ("SOCIALIZER_X_API_URL", format!("{b}/x")),
            ("SOCIALIZER_X_REVOKE_URL", format!("{b}/x/revoke")),
            (
                "SOCIALIZER_LINKEDIN_CLIENT_ID",
                LINKEDIN_CLIENT.0.to_owned(),
            ),
            (
                "SOCIALIZER_LINKEDIN_CLIENT_SECRET",
                LINKEDIN_CLIENT.1.to_owned(),
            ),
            (
                "SOCIALIZER_LINKEDIN_AUTHORIZE_URL",
                format!("{b}/linkedin/authorize"),
            ),
            (
                "SOCIALIZER_LINKEDIN_TOKEN_URL",
                format!("{b}/linkedin/accessToken"),
            ),
            ("SOCIALIZER_LINKEDIN_API_URL", format!("{b}/linkedin")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    pub fn platform(&self, name: &str) -> std::sync::MutexGuard<'_, Platform> {
        match name {
            "x" => self.stand_in.x.lock().unwrap(),
            _ => self.stand_in.linkedin.lock().unwrap(),
        }
    }
}

fn oauth_error(status: u16, error: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(serde_json::json!({ "error": error }))
}

fn pick<'a>(state: &'a StandIn, platform: &str) -> &'a Mutex<Platform> {
    if platform == "x" {
        &state.x
    } else {
        &state.linkedin
    }
}

async fn authorize(
    state: web::Data<StandIn>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let name = path.into_inner();
    let (client_id, pkce) = match name.as_str() {
        "x" => (X_CLIENT.0, true),
        "linkedin" => (LINKEDIN_CLIENT.0, false),
        _ => return HttpResponse::NotFound().finish(),
    };
    let q = |k: &str| query.get(k).cloned().unwrap_or_default();
    let mut platform = pick(&state, &name).lock().unwrap();
    if q("response_type") != "code" || q("client_id") != client_id {
        return HttpResponse::BadRequest().body("bad client or response type");
    }
    if !platform.redirect_uris.contains(&q("redirect_uri")) {
        return HttpResponse::BadRequest().body("redirect_uri is not registered");
    }
    let challenge = query.get("code_challenge").cloned();
    if pkce && (challenge.is_none() || q("code_challenge_method") != "S256") {
        return HttpResponse::BadRequest().body("PKCE S256 required");
    }
    let mut back = url::Url::parse(&q("redirect_uri")).unwrap();
    if std::mem::take(&mut platform.deny_next) {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", &q("state"));
    } else {
        let code = format!(
            "code-{}",
            hex::encode(socializer::crypto::random_bytes::<8>())
        );
        platform.codes.insert(
            code.clone(),
            Grant {
                redirect_uri: q("redirect_uri"),
                challenge,
            },
        );
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &q("state"));
    }
    HttpResponse::Found()
        .insert_header(("Location", back.to_string()))
        .finish()
}

fn basic_auth(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get("Authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(
    req: HttpRequest,
    state: web::Data<StandIn>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let is_x = req.path().starts_with("/x/");
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    // X: a confidential client authenticates with HTTP Basic; LinkedIn: in the body.
    let authenticated = if is_x {
        basic_auth(&req) == Some((X_CLIENT.0.into(), X_CLIENT.1.into()))
            && !form.contains_key("client_secret")
    } else {
        f("client_id") == LINKEDIN_CLIENT.0
            && f("client_secret") == LINKEDIN_CLIENT.1
            && req.headers().get("Authorization").is_none()
    };
    if !authenticated {
        return oauth_error(401, "invalid_client");
    }
    let delay = pick(&state, if is_x { "x" } else { "linkedin" })
        .lock()
        .unwrap()
        .token_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let mut platform = pick(&state, if is_x { "x" } else { "linkedin" })
        .lock()
        .unwrap();
    if platform.fail_next > 0 {
        platform.fail_next -= 1;
        return HttpResponse::ServiceUnavailable().body("upstream unavailable");
    }
    let account = platform.account.0.clone();
    match f("grant_type").as_str() {
        "authorization_code" => {
            let Some(grant) = platform.codes.remove(&f("code")) else {
                return oauth_error(400, "invalid_grant");
            };
            if grant.redirect_uri != f("redirect_uri") {
                return oauth_error(400, "invalid_grant");
            }
            match (&grant.challenge, form.get("code_verifier")) {
                (Some(challenge), Some(verifier)) => {
                    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(sha2::Sha256::digest(verifier.as_bytes()));
                    if &computed != challenge {
                        return oauth_error(400, "invalid_grant");
                    }
                }
                (None, None) => {}
                _ => return oauth_error(400, "invalid_request"),
            }
        }
        "refresh_token" if is_x => {
            let presented = f("refresh_token");
            *platform.refresh_uses.entry(presented.clone()).or_default() += 1;
            if platform.refuse_refresh || platform.refresh.remove(&presented).is_none() {
                return oauth_error(400, "invalid_grant");
            }
        }
        _ => return oauth_error(400, "unsupported_grant_type"),
    }
    let access = format!(
        "at-{}",
        hex::encode(socializer::crypto::random_bytes::<12>())
    );
    platform.access.insert(access.clone(), account.clone());
    platform.issued_access.push(access.clone());
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": platform.expires_in,
    });
    let code_exchange = f("grant_type") == "authorization_code";
    if is_x && !(code_exchange && platform.omit_refresh_on_code) {
        let refresh = format!(
            "rt-{}",
            hex::encode(socializer::crypto::random_bytes::<12>())
        );
        platform.refresh.insert(refresh.clone(), account);
        platform.issued_refresh.push(refresh.clone());
        body["refresh_token"] = refresh.into();
    }
    HttpResponse::Ok().json(body)
}

async fn profile(req: HttpRequest, state: web::Data<StandIn>) -> HttpResponse {
    let is_x = req.path().starts_with("/x/");
    let platform = pick(&state, if is_x { "x" } else { "linkedin" })
        .lock()
        .unwrap();
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !platform.access.contains_key(token) {
        return HttpResponse::Unauthorized().json(serde_json::json!({"title": "Unauthorized"}));
    }
    let (id, handle, name) = platform.account.clone();
    if is_x {
        HttpResponse::Ok()
            .json(serde_json::json!({"data": {"id": id, "username": handle, "name": name}}))
    } else {
        HttpResponse::Ok().json(serde_json::json!({"sub": id, "email": handle, "name": name}))
    }
}

async fn revoke(
    req: HttpRequest,
    state: web::Data<StandIn>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if basic_auth(&req) != Some((X_CLIENT.0.into(), X_CLIENT.1.into())) {
        return oauth_error(401, "invalid_client");
    }
    let mut platform = state.x.lock().unwrap();
    let token = form.get("token").cloned().unwrap_or_default();
    platform.access.remove(&token);
    platform.refresh.remove(&token);
    platform.revoked.push(token);
    HttpResponse::Ok().finish()
}
