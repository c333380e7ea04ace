//! Connecting accounts through the API and the browser, against the built-in sandbox and
//! stand-ins for X and LinkedIn; the state rules; refresh, check and disconnect; the test/live
//! split; tokens never stored or answered in clear.

use crate::harness::{
    ApiClient, Browser, TestApp, csrf_in, header_value, json, location, status_of, text, texts,
    unique_email,
};
use crate::platforms::Running;
use reqwest::StatusCode;
use serde_json::json as j;

struct Setup {
    app: TestApp,
    platforms: Running,
    browser: Browser,
    /// The email `browser` is signed in with, as the workspace's owner.
    email: String,
    live: ApiClient,
    test: ApiClient,
}

async fn setup() -> Setup {
    let platforms = Running::start().await;
    let vars = platforms.vars();
    let app = TestApp::spawn_with(|v| v.extend(vars)).await;
    for name in ["x", "linkedin"] {
        let callback = format!("{}/connect/{name}/callback", app.base);
        let mut platform = platforms.platform(name);
        platform.redirect_uris.insert(callback);
        platform
            .redirect_uris
            .insert("https://client.example/done".into());
    }
    let browser = app.browser();
    let email = unique_email("connect");
    assert_eq!(
        browser.sign_up(&email, "Connectors").await.status(),
        StatusCode::SEE_OTHER
    );
    let live = ApiClient::new(&app.base, &browser.create_key("live", "live", &[]).await);
    let test = ApiClient::new(&app.base, &browser.create_key("test", "test", &[]).await);
    Setup {
        app,
        platforms,
        browser,
        email,
        live,
        test,
    }
}

pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Begins a flow through the API; answers (auth_url, state).
pub async fn begin(client: &ApiClient, platform: &str, redirect: Option<&str>) -> (String, String) {
    let path = match redirect {
        Some(r) => format!(
            "/v1/connect/{platform}?redirect_uri={}",
            url::form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
        ),
        None => format!("/v1/connect/{platform}"),
    };
    let (status, _, body) = json(client.get(&path)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["auth_url"].as_str().unwrap().to_owned(),
        body["state"].as_str().unwrap().to_owned(),
    )
}

/// The user at a real platform's (stand-in's) authorize page, which redirects straight back.
pub async fn at_platform(auth_url: &str) -> String {
    let response = Browser::new("").client.get(auth_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{auth_url}");
    location(response.headers())
}

/// The user approves on the sandbox's own page; answers where it sends them.
pub async fn approve_on_sandbox(base: &str, auth_url: &str, account: &str) -> String {
    approve_on_sandbox_as(&Browser::new(base), auth_url, account).await
}

/// Like [`approve_on_sandbox`], in a given browser (signed in or not).
pub async fn approve_on_sandbox_as(visitor: &Browser, auth_url: &str, account: &str) -> String {
    let page = visitor.client.get(auth_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = header_value(page.headers(), "content-security-policy");
    let token = csrf_in(&page.text().await.unwrap());
    let redirect = param(auth_url, "redirect_uri").unwrap();
    let origin = url::Url::parse(&redirect)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert!(
        policy.contains(&format!("form-action 'self' {origin}")),
        "{policy}"
    );
    let response = visitor
        .post_form(
            "/sandbox/authorize",
            &[
                ("csrf_token", &token),
                ("redirect_uri", &redirect),
                ("state", &param(auth_url, "state").unwrap()),
                ("account", account),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(response.headers())
}

pub async fn finish(
    client: &ApiClient,
    platform: &str,
    code: &str,
    state: &str,
) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = json(
        client
            .post(&format!("/v1/connect/{platform}"))
            .json(&j!({"code": code, "state": state})),
    )
    .await;
    (status, body)
}

async fn accounts(client: &ApiClient) -> Vec<serde_json::Value> {
    let (status, _, body) = json(client.get("/v1/accounts")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().unwrap().clone()
}

/// Connects X through the API with the client's own redirect URI; answers the account.
async fn connect_x(s: &Setup) -> serde_json::Value {
    let (auth_url, state) = begin(&s.live, "x", Some("https://client.example/done")).await;
    assert_eq!(
        param(&auth_url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let back = at_platform(&auth_url).await;
    assert!(back.starts_with("https://client.example/done?"), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some(state.as_str()));
    let (status, account) = finish(&s.live, "x", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    account
}

#[actix_web::test]
async fn a_test_key_connects_a_sandbox_account_and_live_keys_never_see_it() {
    let s = setup().await;
    let (auth_url, state) = begin(&s.test, "sandbox", Some("https://client.example/done")).await;
    assert!(auth_url.starts_with(&format!("{}/sandbox/authorize?", s.app.base)));
    let back = approve_on_sandbox(&s.app.base, &auth_url, "demo").await;
    assert!(back.starts_with("https://client.example/done?"), "{back}");
    let (status, account) =
        finish(&s.test, "sandbox", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    assert_eq!(account["platform"], "sandbox");
    assert_eq!(account["mode"], "test");
    assert_eq!(account["handle"], "@demo");
    assert_eq!(account["status"], "active");
    assert!(account.get("access_token").is_none());

    assert_eq!(accounts(&s.test).await.len(), 1);
    assert!(
        accounts(&s.live).await.is_empty(),
        "live keys never see test data"
    );
    let id = account["id"].as_str().unwrap();
    let (status, _, body) = json(s.live.post(&format!("/v1/accounts/{id}/check"))).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _, body) = json(s.live.get("/v1/connect/sandbox")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _, body) = json(s.test.get("/v1/connect/x")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    let (status, _, checked) = json(s.test.post(&format!("/v1/accounts/{id}/check"))).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["status"], "active");

    // Connecting the same sandbox account again updates its row.
    let (auth_url, state) = begin(&s.test, "sandbox", None).await;
    assert_eq!(
        param(&auth_url, "redirect_uri").unwrap(),
        format!("{}/connect/sandbox/callback", s.app.base)
    );
    let back = approve_on_sandbox_as(&s.browser, &auth_url, "demo").await;
    // A flow that ends at the service's callback is not finished by whoever holds the code.
    let (status, body) = finish(&s.test, "sandbox", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    let finished = s.browser.get(&back[s.app.base.len()..]).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    let again = accounts(&s.test).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["id"], account["id"]);

    assert_eq!(
        status_of(s.test.delete(&format!("/v1/accounts/{id}"))).await,
        StatusCode::NO_CONTENT
    );
    assert!(accounts(&s.test).await.is_empty());
    assert_eq!(
        s.app.db.rows("connected_accounts"),
        0,
        "the row and its sealed tokens are gone"
    );
}

#[actix_web::test]
async fn a_wrong_reused_expired_or_foreign_state_is_refused_and_stores_nothing() {
    let s = setup().await;
    let stored = || s.app.db.rows("connected_accounts");

    // Wrong state.
    let (auth_url, _state) = begin(&s.live, "x", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    let code_value = param(&back, "code").unwrap();
    let (status, body) = finish(&s.live, "x", &code_value, "not-the-state").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );

    // Another workspace's key cannot finish this workspace's flow.
    let other = s.app.browser();
    other.sign_up(&unique_email("other"), "Other").await;
    let other_key = ApiClient::new(&s.app.base, &other.create_key("o", "live", &[]).await);
    let (auth_url, state) = begin(&s.live, "x", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    let (status, body) = finish(&other_key, "x", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    // A state is bound to its platform too.
    let (status, body) = finish(&s.live, "linkedin", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    assert_eq!(stored(), 0);

    // Used once, then refused.
    let (status, _) = finish(&s.live, "x", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = finish(&s.live, "x", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    assert_eq!(stored(), 1);

    // Expired after ten minutes.
    let (auth_url, state) = begin(&s.live, "x", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    s.app
        .db
        .execute_as_admin("UPDATE oauth_states SET expires_at = expires_at - 601");
    let (status, body) = finish(&s.live, "x", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );

    // Only the state's digest is stored.
    let (_, state) = begin(&s.live, "x", None).await;
    assert_eq!(
        s.app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM oauth_states WHERE state_digest = '{}'",
            socializer::crypto::sha256_hex(&state)
        )),
        1
    );
    assert_eq!(
        s.app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM oauth_states WHERE state_digest = '{state}' OR redirect_uri LIKE '%{state}%'"
        )),
        0
    );

    // A bad redirect URI is a bad field, named.
    let (status, _, body) =
        json(s.live.get("/v1/connect/x?redirect_uri=javascript:alert(1)")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("redirect_uri")
    );
    let (status, _, body) = json(s.live.get("/v1/connect/myspace")).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _, body) = json(
        s.live
            .post("/v1/connect/x")
            .json(&j!({"code": "c", "state": "s", "extra": 1})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
}

#[actix_web::test]
async fn x_connects_with_pkce_refreshes_once_and_is_revoked_on_disconnect() {
    let s = setup().await;
    let account = connect_x(&s).await;
    assert_eq!(account["platform"], "x");
    assert_eq!(account["handle"], "@ada");
    assert_eq!(account["display_name"], "Ada Lovelace");
    assert_eq!(account["mode"], "live");
    assert!(account["token_expires_at"].as_str().unwrap().ends_with('Z'));
    let id = account["id"].as_str().unwrap().to_owned();

    // Near expiry: a check refreshes first; two at once spend the refresh token once.
    s.app.db.execute_as_admin(
        "UPDATE connected_accounts SET token_expires_at = token_expires_at - 7000",
    );
    s.platforms.platform("x").token_delay_ms = 300;
    let check = || async { json(s.live.post(&format!("/v1/accounts/{id}/check"))).await };
    let ((a, _, body_a), (b, _, body_b)) = tokio::join!(check(), check());
    assert_eq!(
        (a, b),
        (StatusCode::OK, StatusCode::OK),
        "{body_a} {body_b}"
    );
    {
        let x = s.platforms.platform("x");
        assert_eq!(x.refresh_uses.len(), 1, "one refresh token presented");
        assert!(x.refresh_uses.values().all(|n| *n == 1), "and only once");
        assert_eq!(x.issued_refresh.len(), 2, "rotated");
    }
    assert_eq!(body_a["status"], "active");

    // A 5xx from the platform is not a refusal: still active, retried later.
    s.app.db.execute_as_admin(
        "UPDATE connected_accounts SET token_expires_at = token_expires_at - 7200",
    );
    s.platforms.platform("x").fail_next = 1;
    let (status, _, body) = check().await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_GATEWAY, "provider_error")
    );
    assert_eq!(accounts(&s.live).await[0]["status"], "active");
    s.app
        .db
        .execute_as_admin("UPDATE connected_accounts SET next_refresh_at = NULL");
    let (status, _, body) = check().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.platforms.platform("x").issued_refresh.len(), 3);

    // Disconnect: erased here at once, revoked at the platform.
    let (last_access, last_refresh) = {
        let x = s.platforms.platform("x");
        (
            x.issued_access.last().cloned().unwrap(),
            x.issued_refresh.last().cloned().unwrap(),
        )
    };
    assert_eq!(
        status_of(s.live.delete(&format!("/v1/accounts/{id}"))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.app.db.rows("connected_accounts"), 0);
    let revoked = s.platforms.platform("x").revoked.clone();
    assert!(
        revoked.contains(&last_access) && revoked.contains(&last_refresh),
        "{revoked:?}"
    );
    assert_eq!(
        status_of(s.live.delete(&format!("/v1/accounts/{id}"))).await,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_refused_refresh_marks_the_account_expired() {
    let s = setup().await;
    let id = connect_x(&s).await["id"].as_str().unwrap().to_owned();
    s.app.db.execute_as_admin(
        "UPDATE connected_accounts SET token_expires_at = token_expires_at - 7200",
    );
    s.platforms.platform("x").refuse_refresh = true;
    let (status, _, body) = json(s.live.post(&format!("/v1/accounts/{id}/check"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "expired");
    assert_eq!(
        s.app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM connected_accounts WHERE access_token IS NULL AND refresh_token IS NULL"
        ),
        1,
        "credentials that no longer work are erased"
    );
}

#[actix_web::test]
async fn the_background_refresher_renews_tokens_about_to_expire() {
    let platforms = Running::start().await;
    let vars = platforms.vars();
    let app = TestApp::spawn_with(|v| {
        v.extend(vars);
        v.insert("SOCIALIZER_REFRESH_INTERVAL_SECS".into(), "1".into());
    })
    .await;
    platforms
        .platform("x")
        .redirect_uris
        .insert("https://client.example/done".into());
    let browser = app.browser();
    let email = unique_email("bg");
    browser.sign_up(&email, "Background").await;
    let live = ApiClient::new(&app.base, &browser.create_key("live", "live", &[]).await);
    let s = Setup {
        app,
        platforms,
        browser,
        email,
        test: ApiClient::new("", ""),
        live,
    };
    connect_x(&s).await;
    s.app.db.execute_as_admin(
        "UPDATE connected_accounts SET token_expires_at = token_expires_at - 7000",
    );
    for _ in 0..100 {
        if s.platforms.platform("x").issued_refresh.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        s.platforms.platform("x").issued_refresh.len(),
        2,
        "refreshed without anyone asking"
    );
    // The platform has answered; the refresher stores the new tokens a moment later.
    let renewed = || async {
        let expires = accounts(&s.live).await[0]["token_expires_at"]
            .as_str()
            .unwrap()
            .to_owned();
        time::OffsetDateTime::parse(&expires, &time::format_description::well_known::Rfc3339)
            .unwrap()
            > time::OffsetDateTime::now_utc() + time::Duration::minutes(100)
    };
    let mut stored = false;
    for _ in 0..50 {
        if renewed().await {
            stored = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(stored, "the renewed expiry is stored");
}

#[actix_web::test]
async fn linkedin_connects_without_pkce_and_shows_its_sixty_day_expiry() {
    let s = setup().await;
    let (auth_url, state) = begin(&s.live, "linkedin", Some("https://client.example/done")).await;
    assert!(param(&auth_url, "code_challenge").is_none());
    assert_eq!(
        param(&auth_url, "scope").as_deref(),
        Some("openid profile email w_member_social")
    );
    let back = at_platform(&auth_url).await;
    let (status, account) =
        finish(&s.live, "linkedin", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    assert_eq!(account["handle"], "ada@example.com");

    // Nine days before expiry, the page warns; nothing refreshes it.
    s.app.db.execute_as_admin(&format!(
        "UPDATE connected_accounts SET token_expires_at = {}",
        time::OffsetDateTime::now_utc().unix_timestamp() + 6 * 24 * 3600
    ));
    let html = s.browser.page("/settings/accounts").await;
    assert_eq!(texts(&html, ".account-handle"), vec!["ada@example.com"]);
    let warnings = texts(&html, ".account-warning");
    assert_eq!(warnings.len(), 1, "{html}");
    assert!(warnings[0].contains("cannot be renewed automatically"));
}

#[actix_web::test]
async fn the_browser_flow_connects_x_and_shows_a_denial_plainly() {
    let s = setup().await;
    let page = s.browser.page("/settings/accounts").await;
    assert!(
        texts(&page, "a.button").contains(&"Connect X".to_owned()),
        "{page}"
    );

    let to_platform = s.browser.get("/connect/x").await;
    assert_eq!(to_platform.status(), StatusCode::SEE_OTHER);
    let back = at_platform(&location(to_platform.headers())).await;
    assert!(
        back.starts_with(&format!("{}/connect/x/callback?", s.app.base)),
        "{back}"
    );
    let path = &back[s.app.base.len()..];

    // Someone else cannot finish this user's flow: a visitor is asked to sign in first, and
    // someone signed in elsewhere is refused, which spends the flow (whoever is signed in at the
    // callback approved at the platform: the code would be theirs).
    let stranger = s.app.browser();
    let response = stranger.get(path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(response.headers()).starts_with("/login?next="));
    stranger
        .sign_up(&unique_email("stranger"), "Strangers")
        .await;
    let response = stranger.get(path).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(s.browser.get(path).await.status(), StatusCode::BAD_REQUEST);

    // Begun again, the person who began it finishes it.
    let to_platform = s.browser.get("/connect/x").await;
    let back = at_platform(&location(to_platform.headers())).await;
    let path = &back[s.app.base.len()..];
    let finished = s.browser.get(path).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(finished.headers()), "/settings/accounts");
    let html = s.browser.page("/settings/accounts").await;
    assert_eq!(texts(&html, ".account-handle"), vec!["@ada"]);
    assert_eq!(
        texts(&html, ".account-status")
            .first()
            .map(|t| t.starts_with("active")),
        Some(true)
    );

    s.platforms.platform("x").deny_next = true;
    let to_platform = s.browser.get("/connect/x").await;
    let back = at_platform(&location(to_platform.headers())).await;
    let denied = s.browser.get(&back[s.app.base.len()..]).await;
    assert_eq!(denied.status(), StatusCode::OK);
    let html = denied.text().await.unwrap();
    assert!(html.contains("Access was denied on X"), "{html}");
    // Words in the address are not the platform's: only OAuth's own error codes are repeated.
    let spoofed = s
        .browser
        .get("/connect/x/callback?error=Your+account+is+locked&error_description=Call+0800+to+unlock")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !spoofed.contains("locked") && !spoofed.contains("0800"),
        "{spoofed}"
    );

    // Disconnect from the page.
    let html = s.browser.page("/settings/accounts").await;
    let doc = scraper::Html::parse_document(&html);
    let selector = scraper::Selector::parse("tr.account").unwrap();
    let id = doc
        .select(&selector)
        .next()
        .and_then(|e| e.value().attr("data-account-id"))
        .unwrap()
        .to_owned();
    let token = csrf_in(&html);
    let response = s
        .browser
        .post_form(
            &format!("/settings/accounts/{id}/disconnect"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        s.live
            .get("/v1/accounts")
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn no_token_is_stored_or_answered_in_clear() {
    let s = setup().await;
    let account = connect_x(&s).await;
    let id = account["id"].as_str().unwrap().to_owned();
    let (auth_url, state) = begin(&s.live, "linkedin", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    finish(&s.live, "linkedin", &param(&back, "code").unwrap(), &state).await;
    let listed = text(s.live.get("/v1/accounts")).await;

    let mut tokens = Vec::new();
    for name in ["x", "linkedin"] {
        let p = s.platforms.platform(name);
        tokens.extend(p.issued_access.iter().cloned());
        tokens.extend(p.issued_refresh.iter().cloned());
    }
    assert_eq!(tokens.len(), 3);
    let dump = if s.app.db.is_postgres() {
        // Everything in the connected accounts table, as text.
        let mut conn =
            <diesel::PgConnection as diesel::Connection>::establish(&s.app.db.url).unwrap();
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            row: String,
        }
        let rows: Vec<Row> = diesel::RunQueryDsl::load(
            diesel::sql_query("SELECT CAST(c AS TEXT) AS row FROM connected_accounts c"),
            &mut conn,
        )
        .unwrap();
        rows.into_iter()
            .map(|r| r.row)
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    } else {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(s.app.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                bytes.extend(std::fs::read(path).unwrap());
            }
        }
        assert!(!bytes.is_empty());
        bytes
    };
    assert_eq!(
        s.app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM connected_accounts WHERE access_token IS NOT NULL"
        ),
        2
    );
    for token in &tokens {
        let needle = token.as_bytes();
        assert!(
            !dump.windows(needle.len()).any(|w| w == needle),
            "a token is stored in clear"
        );
        assert!(!listed.contains(token));
    }

    // A sealed token copied onto another row does not open there.
    s.app.db.execute_as_admin(&format!(
        "UPDATE connected_accounts SET access_token = (SELECT access_token FROM connected_accounts WHERE id = '{id}') WHERE id <> '{id}'"
    ));
    let other = accounts(&s.live)
        .await
        .into_iter()
        .find(|a| a["id"] != id.as_str())
        .unwrap();
    let (status, _, body) = json(s.live.post(&format!(
        "/v1/accounts/{}/check",
        other["id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
    );
    assert!(s.platforms.platform("linkedin").issued_access.len() == 1);
}

#[actix_web::test]
async fn two_servers_on_one_database_spend_a_refresh_token_once() {
    let s = setup().await;
    if !s.app.db.is_postgres() {
        // SQLite serves one server process; the second is refused (see durability.rs).
        return;
    }
    let id = connect_x(&s).await["id"].as_str().unwrap().to_owned();
    let mut vars = s.platforms.vars();
    // The same root key, as every process of one deployment has.
    let root = std::fs::read_to_string(s.app.dir.path().join("data").join("root.key")).unwrap();
    vars.push(("SOCIALIZER_ROOT_KEY".into(), root));
    let second = TestApp::spawn_on(s.app.db.clone(), |v| v.extend(vars)).await;
    let other = ApiClient::new(&second.base, &s.live.key);
    let path = format!("/v1/accounts/{id}/check");
    // Several rounds, the platform answering after different delays, so that the waiting
    // process's retries fall at different moments of the holder's refresh.
    let delays = [300, 250, 330, 370, 410];
    for (round, delay) in delays.into_iter().enumerate() {
        s.app.db.execute_as_admin(
            "UPDATE connected_accounts SET token_expires_at = token_expires_at - 7200",
        );
        s.platforms.platform("x").token_delay_ms = delay;
        let ((a, _, body_a), (b, _, body_b)) =
            tokio::join!(json(s.live.post(&path)), json(other.post(&path)));
        assert_eq!(
            (a, b),
            (StatusCode::OK, StatusCode::OK),
            "{body_a} {body_b}"
        );
        let x = s.platforms.platform("x");
        assert_eq!(x.refresh_uses.len(), round + 1, "{:?}", x.refresh_uses);
        assert!(
            x.refresh_uses.values().all(|n| *n == 1),
            "a refresh token was spent twice: {:?}",
            x.refresh_uses
        );
        assert_eq!(body_a["token_expires_at"], body_b["token_expires_at"]);
    }
}

#[actix_web::test]
async fn a_reconnect_without_a_refresh_token_keeps_the_stored_one() {
    let s = setup().await;
    let first = connect_x(&s).await;
    s.platforms.platform("x").omit_refresh_on_code = true;
    let again = connect_x(&s).await;
    assert_eq!(again["id"], first["id"], "the same row, updated");
    assert_eq!(accounts(&s.live).await.len(), 1);

    // The refresh token of the first connection still refreshes.
    let id = again["id"].as_str().unwrap();
    s.app.db.execute_as_admin(
        "UPDATE connected_accounts SET token_expires_at = token_expires_at - 7000",
    );
    let (status, _, body) = json(s.live.post(&format!("/v1/accounts/{id}/check"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let x = s.platforms.platform("x");
    assert_eq!(
        x.refresh_uses.get(&x.issued_refresh[0]),
        Some(&1),
        "{:?} {:?}",
        x.refresh_uses,
        x.issued_refresh
    );
}

#[actix_web::test]
async fn bad_input_on_the_connect_pages_is_a_clear_4xx_and_changes_nothing() {
    let s = setup().await;
    let id = connect_x(&s).await["id"].as_str().unwrap().to_owned();
    let still_there = || s.app.db.rows("connected_accounts");

    let response = s
        .browser
        .post_form(
            &format!("/settings/accounts/{id}/disconnect"),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let token = s.browser.csrf("/settings/accounts").await;
    for bad in ["acc_nope", "acc_00000000000000000000000000000000"] {
        let response = s
            .browser
            .post_form(
                &format!("/settings/accounts/{bad}/disconnect"),
                &[("csrf_token", &token)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(still_there(), 1);
    assert!(s.platforms.platform("x").revoked.is_empty());

    for path in [
        "/sandbox/authorize?response_type=token&client_id=socializer&redirect_uri=https://a.example/&state=s",
        "/sandbox/authorize?response_type=code&client_id=other&redirect_uri=https://a.example/&state=s",
        "/sandbox/authorize?response_type=code&client_id=socializer&redirect_uri=javascript:alert(1)&state=s",
        "/sandbox/authorize?response_type=code&client_id=socializer&redirect_uri=https://a.example/",
        "/connect/x/callback",
        "/connect/x/callback?code=c",
    ] {
        assert_eq!(
            s.browser.get(path).await.status(),
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    assert_eq!(
        s.browser.get("/connect/myspace").await.status(),
        StatusCode::NOT_FOUND
    );
    // A real pending sandbox flow, so that only the field under test is wrong.
    let (auth_url, flow_state) = begin(&s.test, "sandbox", Some("https://a.example/")).await;
    let sandbox_token = s.browser.csrf(&auth_url[s.app.base.len()..]).await;
    let approve = |csrf: String, account: &'static str| {
        let (browser, flow_state) = (&s.browser, flow_state.clone());
        async move {
            browser
                .post_form(
                    "/sandbox/authorize",
                    &[
                        ("csrf_token", &csrf),
                        ("redirect_uri", "https://a.example/"),
                        ("state", &flow_state),
                        ("account", account),
                        ("decision", "approve"),
                    ],
                )
                .await
        }
    };
    let no_grants = || s.app.db.rows("sandbox_grants");
    let response = approve("forged".into(), "x").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(no_grants(), 0);
    let response = approve(token.clone(), "x").await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a session's token is not the sandbox form's"
    );
    let response = approve(sandbox_token.clone(), "<script>").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!response.text().await.unwrap().contains("<script>"));
    assert_eq!(no_grants(), 0);
    assert_eq!(still_there(), 1);
}

#[actix_web::test]
async fn a_connect_link_is_finished_only_by_a_member_of_its_workspace() {
    let s = setup().await;
    let stored = || s.app.db.rows("connected_accounts");
    let pending = || s.app.db.rows("oauth_states");
    let stranger = s.app.browser();
    stranger.sign_up(&unique_email("victim"), "Victims").await;

    // The sandbox: a link made by this workspace's key, approved by someone signed in
    // elsewhere, connects nothing; the code is the stranger's, so the flow is spent.
    let (auth_url, _) = begin(&s.test, "sandbox", None).await;
    let back = approve_on_sandbox_as(&stranger, &auth_url, "victim").await;
    let refused = stranger.get(&back[s.app.base.len()..]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("belongs to another workspace")
    );
    assert_eq!(stored(), 0);
    assert_eq!(pending(), 0);
    let sandbox_link = back[s.app.base.len()..].to_owned();

    // X: the stranger's code is never even exchanged, so no token is issued.
    let (auth_url, _) = begin(&s.live, "x", None).await;
    let back = at_platform(&auth_url).await;
    let refused = stranger.get(&back[s.app.base.len()..]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored(), 0);
    assert!(s.platforms.platform("x").issued_access.is_empty());
    assert!(accounts(&s.live).await.is_empty() && accounts(&s.test).await.is_empty());

    // Someone not signed in is asked to sign in, and after signing in as a member comes back
    // to the callback, which then finishes.
    let (auth_url, _) = begin(&s.test, "sandbox", None).await;
    let visitor = s.app.browser();
    let back = approve_on_sandbox_as(&visitor, &auth_url, "detour").await;
    let callback = &back[s.app.base.len()..];
    let to_login = visitor.get(callback).await;
    assert_eq!(to_login.status(), StatusCode::SEE_OTHER);
    let login = location(to_login.headers());
    assert!(
        login.starts_with("/login?next=%2Fconnect%2Fsandbox%2Fcallback"),
        "{login}"
    );
    assert!(
        accounts(&s.test).await.is_empty(),
        "nothing stored before sign-in"
    );
    let token = csrf_in(&visitor.page(&login).await);
    let signed_in = visitor
        .post_form(
            &login,
            &[
                ("email", &s.email),
                ("password", crate::harness::PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(signed_in.headers()), callback);
    let finished = visitor.get(callback).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(finished.headers()), "/settings/accounts");
    let connected = accounts(&s.test).await;
    assert_eq!(connected.len(), 1);
    assert_eq!(connected[0]["handle"], "@detour");
    // Single use, still.
    assert_eq!(
        visitor.get(callback).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Nor can a member finish that first link afterwards: it would connect the stranger's
    // account after all.
    let late = s.browser.get(&sandbox_link).await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(accounts(&s.test).await.len(), 1);

    // The happy path: the member who is signed in approves and lands on the accounts page.
    let (auth_url, _) = begin(&s.live, "x", None).await;
    let back = at_platform(&auth_url).await;
    let finished = s.browser.get(&back[s.app.base.len()..]).await;
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(finished.headers()), "/settings/accounts");
    assert_eq!(accounts(&s.live).await.len(), 1);

    // A flow with the caller's own redirect URI is not finished at the service's callback.
    let (auth_url, state) = begin(&s.live, "x", Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    let code_value = param(&back, "code").unwrap();
    let response = s
        .browser
        .get(&format!(
            "/connect/x/callback?code={code_value}&state={state}"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = finish(&s.live, "x", &code_value, &state).await;
    assert_eq!(status, StatusCode::CREATED, "the key still finishes it");
}

#[actix_web::test]
async fn the_sandbox_acts_only_for_a_pending_flow_and_its_codes_only_for_their_state() {
    let s = setup().await;
    let visitor = s.app.browser();
    let grants = || s.app.db.rows("sandbox_grants");

    // No flow, no page: the sandbox is not an open redirector.
    let made_up = "/sandbox/authorize?response_type=code&client_id=socializer&redirect_uri=https%3A%2F%2Fevil.example%2F&state=made-up";
    assert_eq!(visitor.get(made_up).await.status(), StatusCode::BAD_REQUEST);
    // A real flow, shown with another redirect URI: no page either.
    let (auth_a, state_a) = begin(&s.test, "sandbox", Some("https://client.example/a")).await;
    let tampered = auth_a.replace("client.example", "evil.example");
    assert_eq!(
        visitor.get(&tampered[s.app.base.len()..]).await.status(),
        StatusCode::BAD_REQUEST
    );
    let token = visitor.csrf(&auth_a[s.app.base.len()..]).await;
    let post = |state: String, redirect: &'static str| {
        let (visitor, token) = (&visitor, token.clone());
        async move {
            visitor
                .post_form(
                    "/sandbox/authorize",
                    &[
                        ("csrf_token", token.as_str()),
                        ("redirect_uri", redirect),
                        ("state", &state),
                        ("account", "someone"),
                        ("decision", "approve"),
                    ],
                )
                .await
        }
    };
    let response = post("made-up".into(), "https://evil.example/").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = post(state_a.clone(), "https://evil.example/").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(grants(), 0);

    // Approving one flow again and again keeps one code for it.
    for _ in 0..5 {
        let response = post(state_a.clone(), "https://client.example/a").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(grants(), 1);
    let back_a = approve_on_sandbox(&s.app.base, &auth_a, "alice").await;
    assert_eq!(grants(), 1);
    let code_a = param(&back_a, "code").unwrap();

    // A code is useless with another flow's state, and a wrong code is the caller's mistake
    // (400 invalid_request) that spends no state.
    let (auth_b, state_b) = begin(&s.test, "sandbox", Some("https://client.example/a")).await;
    let (status, body) = finish(&s.test, "sandbox", &code_a, &state_b).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{body}"
    );
    let (status, body) = finish(&s.test, "sandbox", "sbx_code_wrong", &state_a).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_request"),
        "{body}"
    );
    let (status, account) = finish(&s.test, "sandbox", &code_a, &state_a).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    assert_eq!(account["handle"], "@alice");
    let back_b = approve_on_sandbox(&s.app.base, &auth_b, "bob").await;
    let (status, _) = finish(
        &s.test,
        "sandbox",
        &param(&back_b, "code").unwrap(),
        &state_b,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Once its flow is finished, the page is gone too.
    assert_eq!(
        visitor.get(&auth_a[s.app.base.len()..]).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[actix_web::test]
async fn redirect_uris_whose_origin_is_not_exact_are_refused_and_the_policy_names_only_the_origin()
{
    let s = setup().await;
    let long = format!("https://client.example/{}", "x".repeat(2048));
    for bad in [
        "https://*.evil.com/cb",
        "https://a.com;frame-ancestors*/cb",
        "https://a.com%3Bscript-src%20*/cb",
        "https://user:pw@client.example/cb",
        "https:///client.example/cb",
        "https://0x7f.1/cb",
        "https://%63lient.example/cb",
        long.as_str(),
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        let (status, _, body) = json(
            s.test
                .get(&format!("/v1/connect/sandbox?redirect_uri={encoded}")),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}: {body}"
        );
    }
    assert_eq!(s.app.db.rows("oauth_states"), 0);

    let (auth_url, _) = begin(
        &s.test,
        "sandbox",
        Some("https://client.example:8443/cb?x=;y"),
    )
    .await;
    let page = s.app.browser().get(&auth_url[s.app.base.len()..]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = header_value(page.headers(), "content-security-policy");
    let base = socializer::web::security_headers::CONTENT_SECURITY_POLICY;
    assert_eq!(
        policy,
        base.replace(
            "form-action 'self'",
            "form-action 'self' https://client.example:8443"
        )
    );
}

#[actix_web::test]
async fn connecting_and_disconnecting_are_audited_and_deleting_the_workspace_revokes_at_the_platform()
 {
    let s = setup().await;
    let account = connect_x(&s).await;
    let id = account["id"].as_str().unwrap().to_owned();
    let second = connect_x(&s).await;
    assert_eq!(second["id"], account["id"], "a reconnect updates the row");
    let (_, _, log) = json(s.live.get("/v1/audit-events")).await;
    let entries: Vec<(String, String)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let connects: Vec<_> = entries
        .iter()
        .filter(|(a, _)| a == "account.connected")
        .collect();
    assert_eq!(connects.len(), 2, "{entries:?}");
    assert!(
        connects.iter().all(|(_, who)| who.starts_with("sk_live_…")),
        "the key is named"
    );

    // Deleting the workspace: the rows go first, then the tokens are revoked at X.
    let issued = {
        let x = s.platforms.platform("x");
        (
            x.issued_access.last().cloned().unwrap(),
            x.issued_refresh.last().cloned().unwrap(),
        )
    };
    let deleted = s
        .browser
        .submit(
            "/settings/workspace",
            "/settings/workspace/delete",
            &[("name", "Connectors")],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        s.app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM connected_accounts WHERE id = '{id}'"
        )),
        0
    );
    let revoked = s.platforms.platform("x").revoked.clone();
    assert!(
        revoked.contains(&issued.0) && revoked.contains(&issued.1),
        "{revoked:?}"
    );
    assert_eq!(
        status_of(s.live.get("/v1/status")).await,
        StatusCode::UNAUTHORIZED
    );
}
