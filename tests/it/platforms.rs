//! Stand-ins for X and LinkedIn on 127.0.0.1, checking what the real platforms check: the
//! client's credentials (HTTP Basic on X, in the body on LinkedIn), the exact registered
//! redirect URI, PKCE S256 on X, single-use codes, and X's single-use rotating refresh tokens.
//! Their publishing endpoints refuse what the real ones refuse (X: a duplicate text, a text over
//! the limit; LinkedIn: a missing or expired version header, a missing author) and count every
//! call; LinkedIn's cuts a commentary at its first unescaped reserved character, as LinkedIn does.

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
    /// Every call to the publishing endpoint, whatever it answered.
    pub publish_calls: u32,
    /// What was published: (id, text as the platform shows it).
    pub published: Vec<(String, String)>,
    /// Ids taken down through the delete endpoint.
    pub deleted: Vec<String>,
    /// The next publishing calls answer these (status, `x-rate-limit-reset`) first, in order.
    pub answer_next: Vec<(u16, Option<i64>)>,
    /// The next publishing call takes the post, then holds its answer this long.
    pub hold_next_ms: u64,
    /// Every publishing call takes the post, then holds its answer this long.
    pub hold_all_ms: u64,
    /// Publishing calls, by the text they carried.
    pub calls_by_text: HashMap<String, u32>,
    /// When each text's first publishing call arrived (Unix milliseconds).
    pub first_call_ms: HashMap<String, i64>,
}

impl Platform {
    /// The platform stops accepting this access token (revoked on its side).
    pub fn revoke_access(&mut self, token: &str) {
        self.access.remove(token);
    }
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
                        .route("/x/2/tweets", web::post().to(tweet))
                        .route("/x/2/tweets/{id}", web::delete().to(delete_tweet))
                        .route("/linkedin/rest/posts", web::post().to(linkedin_post))
                        .route(
                            "/linkedin/rest/posts/{urn}",
                            web::delete().to(delete_linkedin_post),
                        )
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

/// The account a bearer token belongs to, if the platform issued it.
fn bearer_account(req: &HttpRequest, platform: &Platform) -> Option<String> {
    let token = req
        .headers()
        .get("Authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    platform.access.get(token).cloned()
}

/// The answer queued for the next publishing call, if any.
fn queued_answer(platform: &mut Platform) -> Option<HttpResponse> {
    if platform.answer_next.is_empty() {
        return None;
    }
    let (status, reset) = platform.answer_next.remove(0);
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(reset) = reset {
        answer.insert_header(("x-rate-limit-reset", reset.to_string()));
    }
    Some(answer.json(serde_json::json!({
        "title": "Queued answer", "detail": format!("stand-in answered {status}"),
        "type": "about:blank", "status": status,
    })))
}

fn x_problem(status: u16, title: &str, detail: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(
        serde_json::json!({"title": title, "detail": detail, "type": "about:blank", "status": status}),
    )
}

/// X's `POST /2/tweets`.
async fn tweet(req: HttpRequest, state: web::Data<StandIn>, body: web::Bytes) -> HttpResponse {
    let hold = {
        let mut x = state.x.lock().unwrap();
        x.publish_calls += 1;
        if bearer_account(&req, &x).is_none() {
            return x_problem(401, "Unauthorized", "Unauthorized");
        }
        if let Some(answer) = queued_answer(&mut x) {
            return answer;
        }
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(&body) else {
            return x_problem(400, "Invalid Request", "The body is not a JSON object.");
        };
        if fields.keys().any(|k| k != "text") {
            return x_problem(400, "Invalid Request", "Unknown field.");
        }
        let Some(text) = fields.get("text").and_then(|t| t.as_str()) else {
            return x_problem(400, "Invalid Request", "text is required.");
        };
        *x.calls_by_text.entry(text.to_owned()).or_default() += 1;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        x.first_call_ms.entry(text.to_owned()).or_insert(now_ms);
        let counted =
            socializer::publishing::text_rules::measure(socializer::domain::Platform::X, text);
        if !counted.fits() {
            return x_problem(400, "Invalid Request", "Text is too long.");
        }
        if x.published.iter().any(|(_, t)| t == text) {
            return x_problem(
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
            );
        }
        let id = format!("18{:08}", x.published.len() + 1);
        x.published.push((id.clone(), text.to_owned()));
        (
            std::mem::take(&mut x.hold_next_ms).max(x.hold_all_ms),
            id,
            text.to_owned(),
        )
    };
    let (hold_ms, id, text) = hold;
    if hold_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(hold_ms)).await;
    }
    HttpResponse::Created().json(serde_json::json!({"data": {"id": id, "text": text}}))
}

async fn delete_tweet(
    req: HttpRequest,
    state: web::Data<StandIn>,
    id: web::Path<String>,
) -> HttpResponse {
    let mut x = state.x.lock().unwrap();
    if bearer_account(&req, &x).is_none() {
        return x_problem(401, "Unauthorized", "Unauthorized");
    }
    let before = x.published.len();
    x.published.retain(|(i, _)| i != id.as_str());
    if x.published.len() == before {
        return x_problem(404, "Not Found Error", "No such post.");
    }
    x.deleted.push(id.into_inner());
    HttpResponse::Ok().json(serde_json::json!({"data": {"deleted": true}}))
}

fn linkedin_error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(serde_json::json!({"status": status, "message": message}))
}

/// LinkedIn's reading of "little text": a backslash escapes the next character; the first
/// unescaped reserved character ends the commentary.
fn read_little_text(commentary: &str) -> String {
    let mut out = String::new();
    let mut chars = commentary.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push(next),
                None => break,
            },
            '|' | '{' | '}' | '@' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '*' | '_' | '~' => {
                break;
            }
            c => out.push(c),
        }
    }
    out
}

/// The oldest `LinkedIn-Version` still served (LinkedIn serves each for a year).
pub const LINKEDIN_OLDEST_VERSION: &str = "202512";

/// LinkedIn's `POST /rest/posts`.
async fn linkedin_post(
    req: HttpRequest,
    state: web::Data<StandIn>,
    body: web::Bytes,
) -> HttpResponse {
    let mut li = state.linkedin.lock().unwrap();
    li.publish_calls += 1;
    let Some(account) = bearer_account(&req, &li) else {
        return linkedin_error(401, "Invalid access token");
    };
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    match header("LinkedIn-Version") {
        Some(v) if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) => {
            if v.as_str() < LINKEDIN_OLDEST_VERSION {
                return linkedin_error(426, "Requested version is not active");
            }
        }
        _ => return linkedin_error(426, "A version header is required"),
    }
    if header("X-Restli-Protocol-Version").as_deref() != Some("2.0.0") {
        return linkedin_error(400, "X-Restli-Protocol-Version 2.0.0 is required");
    }
    if let Some(answer) = queued_answer(&mut li) {
        return answer;
    }
    let Ok(post) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return linkedin_error(400, "Malformed JSON");
    };
    if post["author"].as_str() != Some(&format!("urn:li:person:{account}")) {
        return linkedin_error(422, "author: must be the member the token belongs to");
    }
    let expected = serde_json::json!({
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                         "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    for (field, value) in expected.as_object().unwrap() {
        if &post[field] != value {
            return linkedin_error(422, &format!("{field}: unexpected value"));
        }
    }
    let Some(commentary) = post["commentary"].as_str() else {
        return linkedin_error(422, "commentary is required");
    };
    if commentary.chars().count() > 3000 {
        return linkedin_error(422, "commentary is too long");
    }
    let urn = format!("urn:li:share:7{:08}", li.published.len() + 1);
    li.published
        .push((urn.clone(), read_little_text(commentary)));
    HttpResponse::Created()
        .insert_header(("x-restli-id", urn))
        .finish()
}

async fn delete_linkedin_post(
    req: HttpRequest,
    state: web::Data<StandIn>,
    urn: web::Path<String>,
) -> HttpResponse {
    let mut li = state.linkedin.lock().unwrap();
    if bearer_account(&req, &li).is_none() {
        return linkedin_error(401, "Invalid access token");
    }
    let before = li.published.len();
    li.published.retain(|(i, _)| i != urn.as_str());
    if li.published.len() == before {
        return linkedin_error(404, "Not found");
    }
    li.deleted.push(urn.into_inner());
    HttpResponse::NoContent().finish()
}
