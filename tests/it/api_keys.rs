//! API keys: made on the settings page, shown once, stored as digests, used as bearer
//! tokens, scoped, revoked at once, rolled, and the JSON API's errors and limits.

use crate::harness::{
    ApiClient, Browser, TestApp, attr_of, error_of, json, location, status_of, texts, unique_email,
};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::json as j;

async fn owner(app: &TestApp, workspace: &str) -> Browser {
    let browser = app.browser();
    assert_eq!(
        browser
            .sign_up(&unique_email("owner"), workspace)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    browser
}

fn error_code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[actix_web::test]
async fn a_key_is_shown_once_stored_as_a_digest_and_listed_masked() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let key = browser.create_key("CI deploys", "live", &[]).await;
    assert!(key.starts_with("sk_live_") && key.len() == 58, "{key}");

    let page = browser.get("/settings/api-keys").await;
    assert_eq!(page.headers().get("cache-control").unwrap(), "no-store");
    let html = page.text().await.unwrap();
    assert!(!html.contains(&key), "the plaintext is never shown again");
    assert_eq!(texts(&html, ".key-label"), vec!["CI deploys"]);
    assert_eq!(
        texts(&html, ".key-masked"),
        vec![format!("sk_live_…{}", &key[key.len() - 4..])]
    );
    assert_eq!(texts(&html, ".key-last-used"), vec!["never"]);
    assert_eq!(texts(&html, ".key-state"), vec!["active"]);

    let digest = socializer::crypto::sha256_hex(&key);
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM api_keys WHERE digest = '{digest}'"
        )),
        1
    );
    let secret_part = &key[8..40];
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM api_keys WHERE digest LIKE '%{secret_part}%' OR last4 LIKE '%{secret_part}%'"
        )),
        0
    );
}

#[actix_web::test]
async fn a_key_authenticates_v1_status_and_records_its_last_use() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let key = browser
        .create_key("status checker", "test", &["workspace:read"])
        .await;
    let api = ApiClient::new(&app.base, &key);

    let (status, headers, body) = json(api.get("/v1/status")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["workspace"]["name"], "Acme");
    assert_eq!(body["workspace"]["plan"], "free");
    assert!(body["workspace"]["id"].as_str().unwrap().starts_with("ws_"));
    assert_eq!(body["key"]["label"], "status checker");
    assert_eq!(body["key"]["mode"], "test");
    assert_eq!(body["key"]["scopes"], j!(["workspace:read"]));
    assert_eq!(body["key"]["last4"], &key[key.len() - 4..]);
    assert_eq!(body["rate_limit"]["limit"], 60);
    assert_eq!(body["rate_limit"]["remaining"], 59);
    assert_eq!(headers.get("ratelimit-limit").unwrap(), "60");
    assert_eq!(headers.get("ratelimit-remaining").unwrap(), "59");
    assert!(headers.contains_key("ratelimit-reset") && headers.contains_key("ratelimit-policy"));
    assert!(
        headers
            .get("ratelimit")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("r=59")
    );
    assert!(
        !body.to_string().contains(&key[8..40]),
        "no answer carries the key"
    );

    // The last use reaches the page within the flush interval (here 200 ms; 10 s by default).
    let mut shown = String::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        shown = texts(
            &browser
                .get("/settings/api-keys")
                .await
                .text()
                .await
                .unwrap(),
            ".key-last-used",
        )
        .remove(0);
        if shown != "never" {
            break;
        }
    }
    assert!(shown.ends_with("from 127.0.0.1"), "{shown}");
}

#[actix_web::test]
async fn a_reload_after_creating_a_key_never_makes_another_or_shows_it_again() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let email = unique_email("reload");
    browser.sign_up(&email, "Reloads").await;
    let page = "/settings/api-keys";
    let response = browser
        .submit(page, page, &[("label", "reloaded"), ("mode", "test")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), page);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("socializer_new_key="))
        .expect("the one-time half travels in a cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/settings/api-keys"),
        "{cookie}"
    );
    // Until it is shown, the server-side session holds the key only sealed.
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM sessions WHERE state LIKE '%sk_test_%'"),
        0
    );

    // Another signed-in device of the same person does not see it.
    let other = app.browser();
    other.log_in(&email, crate::harness::PASSWORD).await;
    let html = other.page(page).await;
    assert!(html.contains("reloaded") && !html.contains("id=\"new-key\""));

    let shown = browser.get(page).await;
    assert_eq!(shown.headers().get("cache-control").unwrap(), "no-store");
    let removal = shown
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.starts_with("socializer_new_key=;") || v.starts_with("socializer_new_key=\"\";")
        });
    assert!(removal, "the cookie half is cleared where the key is shown");
    let key = crate::harness::new_key_in(&shown.text().await.unwrap());
    assert!(key.starts_with("sk_test_"));

    // The reload: the same page, the key not shown again, and still one key.
    let html = browser.page(page).await;
    assert!(!html.contains(&key) && !html.contains("id=\"new-key\""));
    assert_eq!(texts(&html, ".key-label"), vec!["reloaded"]);
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM api_keys WHERE label = 'reloaded'"),
        1
    );
}

#[actix_web::test]
async fn revoking_on_the_page_refuses_the_next_request() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let key = browser.create_key("short-lived", "live", &[]).await;
    let api = ApiClient::new(&app.base, &key);
    assert_eq!(json(api.get("/v1/status")).await.0, StatusCode::OK);

    // The list leads to the key's own page, whose Revoke leads to a page that asks first;
    // asking changes nothing.
    let list = browser.page("/settings/api-keys").await;
    let key_page = attr_of(&list, "td.row-action a", "href");
    let page = browser.page(&key_page).await;
    let confirm = attr_of(&page, "a[data-confirm-action$='/revoke']", "href");
    let html = browser.page(&confirm).await;
    assert_eq!(
        texts(&html, "main h1"),
        vec!["Revoke the key \u{201c}short-lived\u{201d}?"]
    );
    assert_eq!(json(api.get("/v1/status")).await.0, StatusCode::OK);
    let action = attr_of(&html, "#confirm-page-form", "action");
    let token = crate::harness::csrf_in(&html);
    let response = browser.post_form(&action, &[("csrf_token", &token)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/settings/api-keys");
    let html = browser.page("/settings/api-keys").await;
    assert_eq!(
        texts(&html, ".flash"),
        vec![format!(
            "Key \u{201c}short-lived\u{201d} (sk_live_…{}) revoked.",
            &key[key.len() - 4..]
        )]
    );

    let (status, headers, body) = json(api.get("/v1/status")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "invalid_api_key");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(
        headers.get("www-authenticate").unwrap(),
        r#"Bearer realm="socializer", error="invalid_token""#
    );
    let html = browser
        .get("/settings/api-keys")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        texts(&html, ".key-state"),
        vec!["revoked"],
        "revoked keys stay listed"
    );
}

#[actix_web::test]
async fn missing_malformed_and_unknown_keys_get_401_in_the_envelope() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/status", app.base);

    let (status, headers, body) = json(client.get(&url)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "missing_api_key")
    );
    assert_eq!(
        headers.get("www-authenticate").unwrap(),
        r#"Bearer realm="socializer""#
    );
    assert!(
        headers.contains_key("ratelimit-limit"),
        "every /v1 answer carries the rate limit"
    );

    let (status, _, body) = json(
        client
            .get(&url)
            .header("authorization", "Basic dXNlcjpwYXNz"),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "missing_api_key")
    );

    for bad in [
        "sk_live_short",
        "not a key at all",
        &format!("sk_live_{}", "A".repeat(50)),
    ] {
        let (status, headers, body) = json(client.get(&url).bearer_auth(bad)).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_api_key"),
            "{bad}"
        );
        assert!(
            headers
                .get("www-authenticate")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }

    // A well-formed key with a valid checksum that was never issued.
    let never_issued =
        socializer::auth::api_key::NewApiKey::generate(socializer::auth::api_key::KeyMode::Live);
    assert_eq!(
        error_of(client.get(&url).bearer_auth(never_issued.expose())).await,
        (StatusCode::UNAUTHORIZED, "invalid_api_key".into())
    );

    // Keys are never read from the query string.
    let browser = owner(&app, "Acme").await;
    let key = browser.create_key("query", "live", &[]).await;
    assert_eq!(
        error_of(client.get(format!("{url}?api_key={key}&key={key}"))).await,
        (StatusCode::UNAUTHORIZED, "missing_api_key".into())
    );
}

#[actix_web::test]
async fn scopes_limit_what_a_key_can_do_and_name_what_is_missing() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let reader = ApiClient::new(
        &app.base,
        &browser.create_key("reader", "live", &["keys:read"]).await,
    );

    let (status, _, body) = json(reader.get("/v1/api-keys")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert!(body["data"][0].get("plaintext").is_none());

    let (status, _, body) = json(reader.post("/v1/api-keys").json(&j!({"label": "more"}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("keys:write")
    );
    assert_eq!(app.db.rows("api_keys"), 1, "nothing was created");

    // A key may only hand on powers it has.
    let writer = ApiClient::new(
        &app.base,
        &browser.create_key("writer", "live", &["keys:write"]).await,
    );
    let (status, _, body) =
        json(writer.post("/v1/api-keys").json(&j!({"label": "escalate"}))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "insufficient_scope"),
        "{body}"
    );
    let (status, _, _) = json(
        writer
            .post("/v1/api-keys")
            .json(&j!({"label": "ok", "scopes": ["keys:write"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[actix_web::test]
async fn the_key_api_creates_lists_and_revokes() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let admin = ApiClient::new(&app.base, &browser.create_key("admin", "live", &[]).await);

    let (status, headers, created) = json(
        admin.post("/v1/api-keys").json(&j!({"label": "made by API", "mode": "live", "scopes": ["accounts:read"], "expires_in_days": 30})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    let plaintext = created["plaintext"].as_str().unwrap().to_owned();
    assert!(plaintext.starts_with("sk_live_"));
    assert_eq!(created["scopes"], j!(["accounts:read"]));
    assert_eq!(created["state"], "active");
    assert!(
        created["expires_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 in UTC"
    );

    let made = ApiClient::new(&app.base, &plaintext);
    assert_eq!(json(made.get("/v1/status")).await.0, StatusCode::OK);

    let (_, _, list) = json(admin.get("/v1/api-keys")).await;
    let labels: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 2);
    assert!(
        !list.to_string().contains(&plaintext),
        "the list never carries a secret"
    );

    let id = created["id"].as_str().unwrap();
    assert_eq!(
        status_of(admin.delete(&format!("/v1/api-keys/{id}"))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        json(made.get("/v1/status")).await.0,
        StatusCode::UNAUTHORIZED
    );

    for missing in ["key_00000000000000000000000000000000", "nonsense"] {
        assert_eq!(
            error_of(admin.delete(&format!("/v1/api-keys/{missing}"))).await,
            (StatusCode::NOT_FOUND, "not_found".into())
        );
    }
    let (status, _, body) = json(admin.get("/v1/no-such-route")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[actix_web::test]
async fn bad_json_gets_400_naming_the_problem_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let admin = ApiClient::new(&app.base, &browser.create_key("admin", "live", &[]).await);
    let post = |body: String| {
        admin
            .post("/v1/api-keys")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    };

    let cases = [
        (r#"{"label": "x", "colour": "red"}"#.to_owned(), "colour"),
        (r#"{"label": "#.to_owned(), "JSON"),
        (r#"{"mode": "live"}"#.to_owned(), "label"),
        (format!(r#"{{"label": "{}"}}"#, "x".repeat(101)), "label"),
        (r#"{"label": "x", "mode": "prod"}"#.to_owned(), "mode"),
        (r#"{"label": "x", "mode": ""}"#.to_owned(), "mode"),
        (r#"{"label": "x", "mode": " "}"#.to_owned(), "mode"),
        (
            r#"{"label": "x", "expires_in_days": 1.5}"#.to_owned(),
            "expires_in_days",
        ),
        (
            r#"{"label": "x", "scopes": ["keys:admin"]}"#.to_owned(),
            "keys:admin",
        ),
        (
            r#"{"label": "x", "expires_in_days": 0}"#.to_owned(),
            "expires_in_days",
        ),
    ];
    for (body, named) in cases {
        let (status, _, answer) = json(post(body.clone())).await;
        assert_eq!(
            (status, error_code(&answer)),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{body}"
        );
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(named),
            "{body}: {answer}"
        );
    }
    let mut broken = br#"{"label": ""#.to_vec();
    broken.extend_from_slice(&[0xff, 0xfe]);
    broken.extend_from_slice(br#""}"#);
    let (status, _, _) = json(
        admin
            .post("/v1/api-keys")
            .header(CONTENT_TYPE, "application/json")
            .body(broken),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = json(post(format!(r#"{{"label": "{}"}}"#, "x".repeat(70 * 1024)))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.db.rows("api_keys"), 1, "only the admin key");
}

#[actix_web::test]
async fn a_key_acts_only_in_its_own_workspace() {
    let app = TestApp::spawn().await;
    let alpha = owner(&app, "Alpha").await;
    let beta = owner(&app, "Beta").await;
    let alpha_key = ApiClient::new(&app.base, &alpha.create_key("a", "live", &[]).await);
    let beta_key = ApiClient::new(&app.base, &beta.create_key("b", "live", &[]).await);
    let (_, _, beta_status) = json(beta_key.get("/v1/status")).await;
    let beta_workspace = beta_status["workspace"]["id"].as_str().unwrap().to_owned();
    let beta_key_id = beta_status["key"]["id"].as_str().unwrap().to_owned();

    let (status, _, body) = json(
        alpha_key
            .get("/v1/status")
            .header("x-workspace-id", &beta_workspace),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let (_, _, own) = json(alpha_key.get("/v1/status")).await;
    let own_workspace = own["workspace"]["id"].as_str().unwrap();
    assert_eq!(
        json(
            alpha_key
                .get("/v1/status")
                .header("x-workspace-id", own_workspace)
        )
        .await
        .0,
        StatusCode::OK
    );

    // Another workspace's key is not found, and stays usable.
    let (status, _, _) = json(alpha_key.delete(&format!("/v1/api-keys/{beta_key_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(beta_key.get("/v1/status")).await.0, StatusCode::OK);
    let (_, _, list) = json(alpha_key.get("/v1/api-keys")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn over_the_limit_the_answer_is_429_with_retry_after() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SOCIALIZER_RATE_LIMIT_FREE".into(), "3".into());
    })
    .await;
    let browser = owner(&app, "Acme").await;
    let api = ApiClient::new(&app.base, &browser.create_key("busy", "live", &[]).await);
    let mut last = None;
    for _ in 0..4 {
        last = Some(json(api.get("/v1/status")).await);
    }
    let (status, headers, body) = last.unwrap();
    // Unless the minute turned over mid-test, the fourth request is over the limit.
    if headers.get("ratelimit-remaining").unwrap() == "0" || status == StatusCode::TOO_MANY_REQUESTS
    {
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        );
        let retry: i64 = headers
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry));
        assert_eq!(headers.get("ratelimit-limit").unwrap(), "3");
    }
}

#[actix_web::test]
async fn rolling_a_key_replaces_it_after_the_grace_period() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let old = browser.create_key("rotating", "live", &["keys:read"]).await;
    let key_id = {
        let (_, _, status) = json(ApiClient::new(&app.base, &old).get("/v1/status")).await;
        status["key"]["id"].as_str().unwrap().to_owned()
    };

    let roll = |grace: &'static str| {
        let browser = &browser;
        let key_id = key_id.clone();
        async move {
            let token = browser.csrf("/settings/api-keys").await;
            browser
                .post_form(
                    &format!("/settings/api-keys/{key_id}/roll"),
                    &[("grace_hours", grace), ("csrf_token", &token)],
                )
                .await
        }
    };
    assert_eq!(roll("169").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(roll("soon").await.status(), StatusCode::BAD_REQUEST);

    let response = roll("0").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/settings/api-keys");
    let new = crate::harness::new_key_in(&browser.page("/settings/api-keys").await);
    assert_ne!(new, old);

    let (status, _, body) = json(ApiClient::new(&app.base, &new).get("/v1/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["key"]["label"], "rotating");
    assert_eq!(body["key"]["scopes"], j!(["keys:read"]));
    let (status, _, body) = json(ApiClient::new(&app.base, &old).get("/v1/status")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "grace 0: the old key stops at once"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[actix_web::test]
async fn a_rolled_key_lives_through_its_grace_period() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let old = browser.create_key("graceful", "live", &[]).await;
    let (_, _, status) = json(ApiClient::new(&app.base, &old).get("/v1/status")).await;
    let key_id = status["key"]["id"].as_str().unwrap().to_owned();
    let response = browser
        .submit(
            "/settings/api-keys",
            &format!("/settings/api-keys/{key_id}/roll"),
            &[("grace_hours", "24")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        json(ApiClient::new(&app.base, &old).get("/v1/status"))
            .await
            .0,
        StatusCode::OK
    );
    let left = app.db.count_as_admin(&format!(
        "SELECT (expires_at - created_at) / 3600 AS n FROM api_keys WHERE id = '{key_id}'"
    ));
    assert!((23..=24).contains(&left), "{left}");
}

#[actix_web::test]
async fn members_may_not_manage_keys() {
    let app = TestApp::spawn().await;
    let owner_browser = owner(&app, "Owned").await;
    let html = owner_browser.page("/settings").await;
    let workspace_id = {
        let key = owner_browser.create_key("probe", "live", &[]).await;
        let (_, _, status) = json(ApiClient::new(&app.base, &key).get("/v1/status")).await;
        status["workspace"]["id"].as_str().unwrap().to_owned()
    };
    assert!(html.contains("API keys"), "owners see the link");

    // A second person, made a plain member of that workspace (invitations come later).
    let member = app.browser();
    let member_email = unique_email("member");
    member.sign_up(&member_email, "Own").await;
    app.db.execute_as_admin(&format!(
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) \
         SELECT '{workspace_id}', id, 'member', 0 FROM users WHERE email = '{member_email}'"
    ));
    let token = member.csrf("/dashboard").await;
    member
        .post_form(
            "/workspaces/switch",
            &[("workspace_id", &workspace_id), ("csrf_token", &token)],
        )
        .await;
    let html = member.dashboard().await;
    assert_eq!(texts(&html, ".role"), vec!["member"]);
    assert!(
        !html.contains("/settings/api-keys"),
        "members are not sent to the keys"
    );
    let html = member.page("/settings").await;
    assert!(
        !html.contains("/settings/api-keys"),
        "members do not see the link"
    );

    assert_eq!(
        member.get("/settings/api-keys").await.status(),
        StatusCode::FORBIDDEN
    );
    let response = member
        .submit("/dashboard", "/settings/api-keys", &[("label", "sneaky")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.db.rows("api_keys"), 1);
}

#[actix_web::test]
async fn an_expired_key_is_refused_and_says_so() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    let key = browser
        .create_key_with(&[
            ("label", "month"),
            ("mode", "live"),
            ("expires_in_days", "30"),
        ])
        .await;
    let api = ApiClient::new(&app.base, &key);
    // Thirty days pass before its first use (the expiry is moved back instead).
    app.db
        .execute_as_admin("UPDATE api_keys SET expires_at = 1");
    let (status, _, body) = json(api.get("/v1/status")).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_api_key")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let html = browser
        .get("/settings/api-keys")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, ".key-state"), vec!["expired"]);
}

#[actix_web::test]
async fn the_key_form_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Acme").await;
    for (label, mode, expires, scope) in [
        ("", "live", "", "keys:read"),
        (&"x".repeat(101) as &str, "live", "", "keys:read"),
        ("ok", "prod", "", "keys:read"),
        ("ok", "live", "0", "keys:read"),
        ("ok", "live", "many", "keys:read"),
        ("ok", "live", "", "keys:everything"),
        ("CI \u{202E}syolped", "live", "", "keys:read"),
        ("C\u{200B}I", "live", "", "keys:read"),
    ] {
        let response = browser
            .submit(
                "/settings/api-keys",
                "/settings/api-keys",
                &[
                    ("label", label),
                    ("mode", mode),
                    ("expires_in_days", expires),
                    ("scopes", scope),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{label:?} {mode} {expires:?} {scope}"
        );
        let html = response.text().await.unwrap();
        // Said once, at the field in error, with what was typed kept.
        assert_eq!(texts(&html, ".field-error").len(), 1, "{label:?}");
        assert!(texts(&html, ".error").is_empty());
        assert_eq!(attr_of(&html, "#label", "value"), *label);
        assert!(
            scraper::Html::parse_document(&html)
                .select(&scraper::Selector::parse("#new-key").unwrap())
                .next()
                .is_none()
        );
    }
    let response = browser
        .post_form("/settings/api-keys", &[("label", "no token")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.db.rows("api_keys"), 0);
}

#[actix_web::test]
async fn the_openapi_document_describes_the_routes_without_a_key() {
    let app = TestApp::spawn().await;
    let (status, headers, doc) =
        json(reqwest::Client::new().get(format!("{}/v1/openapi.json", app.base))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("ratelimit-limit").unwrap(),
        "60",
        "every /v1 answer carries the rate limit"
    );
    assert!(
        headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let mut described: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    described.sort();
    let expected = [
        ("delete", "/v1/accounts/{id}"),
        ("delete", "/v1/api-keys/{id}"),
        ("delete", "/v1/posts/{id}"),
        ("delete", "/v1/webhooks/{id}"),
        ("get", "/v1/accounts"),
        ("get", "/v1/api-keys"),
        ("get", "/v1/audit-events"),
        ("get", "/v1/connect/{platform}"),
        ("get", "/v1/members"),
        ("get", "/v1/posts"),
        ("get", "/v1/posts/{id}"),
        ("get", "/v1/status"),
        ("get", "/v1/webhooks"),
        ("get", "/v1/webhooks/{id}"),
        ("get", "/v1/webhooks/{id}/deliveries"),
        ("patch", "/v1/posts/{id}"),
        ("patch", "/v1/webhooks/{id}"),
        ("post", "/v1/accounts/{id}/check"),
        ("post", "/v1/api-keys"),
        ("post", "/v1/api-keys/{id}/roll"),
        ("post", "/v1/connect/{platform}"),
        ("post", "/v1/posts"),
        ("post", "/v1/posts/{id}/cancel"),
        ("post", "/v1/posts/{id}/targets/{account_id}/retry"),
        ("post", "/v1/webhooks"),
        ("post", "/v1/webhooks/{id}/deliveries/{delivery_id}/resend"),
        ("post", "/v1/webhooks/{id}/roll-secret"),
        ("post", "/v1/webhooks/{id}/test"),
    ];
    assert_eq!(
        described,
        expected.map(|(m, p)| (m.to_owned(), p.to_owned())),
        "every route is described, and nothing else"
    );
    // And every described operation is served: it reaches its handler, not the answer for a
    // path and method no route has.
    let owner = app.browser();
    owner.sign_up(&unique_email("doc"), "Documented").await;
    let api = ApiClient::new(&app.base, &owner.create_key("doc", "test", &[]).await);
    for (method, path) in described {
        let listed = doc["paths"][&path][&method]["responses"]
            .as_object()
            .unwrap();
        for common in ["400", "401", "403", "429"] {
            assert!(
                listed.contains_key(common),
                "{method} {path} lists {common}"
            );
        }
        // Every answer names the rate-limit headers it carries; a 429 also Retry-After.
        for (status, answer) in listed {
            for header in [
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "RateLimit",
            ] {
                assert!(
                    answer["headers"][header].is_object(),
                    "{method} {path} {status} names {header}"
                );
            }
            assert_eq!(
                answer["headers"]["Retry-After"].is_object(),
                status == "429",
                "{method} {path} {status}"
            );
        }
        let concrete = path
            .replace("{id}", "ak_00000000000000000000000000")
            .replace("{platform}", "sandbox")
            .replace("{account_id}", "acc_00000000000000000000000000000000");
        let url = format!("{}{concrete}", app.base);
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let served = api
            .client
            .request(method.clone(), &url)
            .bearer_auth(&api.key)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        let status = served.status();
        let body = served.text().await.unwrap();
        assert!(
            !body.contains("No such route"),
            "{method} {path} is served: {status} {body}"
        );
        assert!(
            listed.contains_key(status.as_str()),
            "{method} {path} answered {status}, which it does not list"
        );
    }
    // The check above can fail: a method a path does not have is 405 naming the methods it
    // has, and a path no route has is the no-route answer.
    let asked = |method: reqwest::Method, path: &str| {
        json(
            api.client
                .request(method, format!("{}{path}", app.base))
                .bearer_auth(&api.key),
        )
    };
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/v1/status", "GET"),
        (reqwest::Method::PATCH, "/v1/api-keys", "GET, POST"),
        (reqwest::Method::GET, "/v1/api-keys/key_x/roll", "POST"),
        (reqwest::Method::PUT, "/v1/accounts/acc_1", "DELETE"),
    ] {
        let (status, headers, body) = asked(method.clone(), path).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(headers.get("allow").unwrap(), allow, "{method} {path}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }
    for path in [
        "/v1/no-such-route",
        "/v1/api-keys/x/y",
        "/v1/accounts//check",
    ] {
        let (status, _, body) = asked(reqwest::Method::GET, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("No such route"),
            "{body}"
        );
    }
    // The bounds of what a body may hold are in the document, as the service checks them.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["RollBody"]["properties"]["grace_hours"]["maximum"],
        168
    );
    assert_eq!(
        schemas["RollBody"]["properties"]["grace_hours"]["minimum"],
        0
    );
    assert_eq!(
        schemas["CreateBody"]["properties"]["label"]["maxLength"],
        100
    );
    assert_eq!(schemas["CreateBody"]["properties"]["label"]["minLength"], 1);
    assert_eq!(
        schemas["CreateBody"]["properties"]["expires_in_days"]["maximum"],
        3650
    );
    // The spellings the service accepts, and only those.
    let spelled: Vec<String> = schemas["ScopeName"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", schemas["ScopeName"]))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let known: Vec<String> = socializer::domain::Scope::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(spelled, known);
    assert_eq!(
        schemas["KeyModeName"]["enum"],
        serde_json::json!(["live", "test"])
    );
    assert!(
        doc["paths"]["/v1/connect/{platform}"]["post"]["responses"]
            .as_object()
            .unwrap()
            .contains_key("404"),
        "a platform not offered is 404 when finishing too"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    let created = &doc["components"]["schemas"]["KeyJson"]["properties"];
    assert!(created["plaintext"].is_object() && created["last4"].is_object());
    let body = &doc["components"]["schemas"]["CreateBody"];
    assert_eq!(
        body["additionalProperties"], false,
        "unknown fields are refused, and documented so"
    );
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
}

#[actix_web::test]
async fn oversized_headers_on_the_api_get_431() {
    let app = TestApp::spawn().await;
    let request = reqwest::Client::new()
        .get(format!("{}/v1/status", app.base))
        .header("x-padding", "y".repeat(40 * 1024));
    // Refused by the HTTP parser before the service runs: its own empty-bodied answer.
    assert_eq!(
        status_of(request).await,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

/// The id of the key `client` calls with, as `/v1/status` names it.
async fn own_id(client: &ApiClient) -> String {
    json(client.get("/v1/status")).await.2["key"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Makes a key through the API with `client`; answers (status, body).
async fn make_key(client: &ApiClient, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let (status, _, answer) = json(client.post("/v1/api-keys").json(&body)).await;
    (status, answer)
}

fn parse_time(raw: &serde_json::Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        raw.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

#[actix_web::test]
async fn a_key_never_makes_a_key_that_outlives_or_outranks_it_and_the_chain_is_recorded() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Chains").await;
    // A parent that may write keys, expiring tomorrow.
    let parent = browser
        .create_key_with(&[
            ("label", "parent"),
            ("mode", "live"),
            ("scopes", "keys:write"),
            ("scopes", "keys:read"),
            ("expires_in_days", "1"),
        ])
        .await;
    let parent = ApiClient::new(&app.base, &parent);
    let (_, _, status) = json(parent.get("/v1/status")).await;
    let parent_id = status["key"]["id"].as_str().unwrap().to_owned();

    // No expiry asked, or a later one: capped at the parent's.
    let (code, child) = make_key(&parent, j!({"label": "child", "scopes": ["keys:read"]})).await;
    assert_eq!(code, StatusCode::CREATED, "{child}");
    let (_, grandchild) = make_key(
        &ApiClient::new(&app.base, child["plaintext"].as_str().unwrap()),
        j!({"label": "grandchild", "expires_in_days": 3650}),
    )
    .await;
    assert_eq!(
        error_code(&grandchild),
        "insufficient_scope",
        "the child cannot write keys"
    );
    let (code, long) = make_key(
        &parent,
        j!({"label": "ten years", "scopes": ["keys:read"], "expires_in_days": 3650}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{long}");
    let parent_expiry = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    for made in [&child, &long] {
        let expires = parse_time(&made["expires_at"]);
        assert!(
            (expires - parent_expiry).abs() < time::Duration::minutes(1),
            "{made}"
        );
        assert_eq!(made["created_by_key"], parent_id.as_str());
        assert_eq!(made["mode"], "live", "the parent's mode by default");
    }
    // A shorter expiry stays as asked.
    let (code, short) = make_key(
        &parent,
        j!({"label": "short", "scopes": ["keys:read"], "expires_in_days": 1}),
    )
    .await;
    assert_eq!(code, StatusCode::CREATED);
    assert!(parse_time(&short["expires_at"]) <= parent_expiry + time::Duration::minutes(1));

    // More scopes than it has, full access, or another mode: refused, nothing made.
    let before = app.db.rows("api_keys");
    for body in [
        j!({"label": "more", "scopes": ["accounts:write"]}),
        j!({"label": "everything"}),
        j!({"label": "test", "mode": "test", "scopes": ["keys:read"]}),
    ] {
        let (code, answer) = make_key(&parent, body.clone()).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{body} -> {answer}");
    }
    assert_eq!(app.db.rows("api_keys"), before);

    // The keys page says which key made which.
    let html = browser.page("/settings/api-keys").await;
    let created = texts(&html, ".key-created");
    let masked = format!("sk_live_…{}", &parent.key[parent.key.len() - 4..]);
    assert_eq!(
        created
            .iter()
            .filter(|c| c.contains(&format!("via key “parent” ({masked})")))
            .count(),
        3,
        "{created:?}"
    );
}

#[actix_web::test]
async fn test_keys_manage_only_test_keys_and_a_key_revokes_only_keys_within_its_scopes() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Modes").await;
    let full_live = browser.create_key("full live", "live", &[]).await;
    let full_live_client = ApiClient::new(&app.base, &full_live);
    let live_id = own_id(&full_live_client).await;
    let test = ApiClient::new(
        &app.base,
        &browser
            .create_key("test writer", "test", &["keys:read", "keys:write"])
            .await,
    );
    let other_test = browser
        .create_key("other test", "test", &["keys:read"])
        .await;
    let other_test_id = own_id(&ApiClient::new(&app.base, &other_test)).await;

    // A test key lists only test keys, without a word about the live ones.
    let (status, _, listed) = json(test.get("/v1/api-keys")).await;
    assert_eq!(status, StatusCode::OK);
    let modes: Vec<_> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["mode"].clone())
        .collect();
    assert_eq!(modes.len(), 2, "{listed}");
    assert!(modes.iter().all(|m| m == "test"), "{listed}");
    assert!(!listed.to_string().contains(&live_id));

    // It cannot revoke a live key (not found, to it), nor make one.
    assert_eq!(
        status_of(test.delete(&format!("/v1/api-keys/{live_id}"))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        json(full_live_client.get("/v1/status")).await.0,
        StatusCode::OK
    );
    let (code, _) = make_key(
        &test,
        j!({"label": "x", "mode": "live", "scopes": ["keys:read"]}),
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // A key with only keys:write cannot revoke a full-access key, even a test one.
    let full_test = browser.create_key("full test", "test", &[]).await;
    let full_test_client = ApiClient::new(&app.base, &full_test);
    let full_test_id = own_id(&full_test_client).await;
    assert_eq!(
        status_of(test.delete(&format!("/v1/api-keys/{full_test_id}"))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        json(full_test_client.get("/v1/status")).await.0,
        StatusCode::OK
    );
    let writer_only = ApiClient::new(
        &app.base,
        &browser
            .create_key("writer only", "live", &["keys:write"])
            .await,
    );
    assert_eq!(
        status_of(writer_only.delete(&format!("/v1/api-keys/{live_id}"))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        json(full_live_client.get("/v1/status")).await.0,
        StatusCode::OK
    );

    // Within its scopes and mode it may.
    assert_eq!(
        status_of(test.delete(&format!("/v1/api-keys/{other_test_id}"))).await,
        StatusCode::NO_CONTENT
    );
    // A full-access live key sees and revokes them all.
    let (_, _, all) = json(full_live_client.get("/v1/api-keys")).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 5);
    assert_eq!(
        status_of(full_live_client.delete(&format!("/v1/api-keys/{full_test_id}"))).await,
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn a_revoked_key_is_refused_at_once_even_under_load() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SOCIALIZER_RATE_LIMIT_FREE".into(), "1000000".into());
    })
    .await;
    let browser = owner(&app, "Revocations").await;
    let admin = ApiClient::new(&app.base, &browser.create_key("admin", "live", &[]).await);
    for round in 0..30 {
        let victim = browser
            .create_key(&format!("victim {round}"), "live", &[])
            .await;
        let client = ApiClient::new(&app.base, &victim);
        let id = own_id(&client).await;
        // Requests with the key run while it is revoked; some were read before the revoke.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load: Vec<_> = (0..4)
            .map(|_| {
                let (client, stop) = (ApiClient::new(&app.base, &victim), stop.clone());
                tokio::task::spawn_local(async move {
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        let _ = client.get("/v1/status").send().await;
                    }
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let revoked = admin
            .delete(&format!("/v1/api-keys/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        // After the revoke's answer, not one request with the key succeeds.
        for _ in 0..5 {
            let (status, _, body) = json(client.get("/v1/status")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "round {round}: {body}");
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in load {
            task.await.unwrap();
        }
        let (status, _, _) = json(client.get("/v1/status")).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "round {round}, after the load"
        );
    }
}

#[actix_web::test]
async fn a_key_is_rolled_once_even_by_parallel_rolls() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Rolls").await;
    let key = browser.create_key("rolled", "live", &[]).await;
    let id = own_id(&ApiClient::new(&app.base, &key)).await;
    let token = browser.csrf("/settings/api-keys").await;
    let rolls = (0..10).map(|_| {
        let (client, base, id, token) = (
            browser.client.clone(),
            app.base.clone(),
            id.clone(),
            token.clone(),
        );
        tokio::task::spawn_local(async move {
            client
                .post(format!("{base}/settings/api-keys/{id}/roll"))
                .form(&[("grace_hours", "24"), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    let mut statuses = Vec::new();
    for roll in rolls.collect::<Vec<_>>() {
        statuses.push(roll.await.unwrap());
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM api_keys WHERE label = 'rolled'"),
        2,
        "the key and one replacement"
    );
    // Rolling it again is refused plainly; its replacement may be rolled.
    let again = browser
        .submit(
            "/settings/api-keys",
            &format!("/settings/api-keys/{id}/roll"),
            &[("grace_hours", "0")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("rolled already"));
}

#[actix_web::test]
async fn a_roll_that_fails_half_way_leaves_the_key_as_it_was() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Failing rolls").await;
    let key = browser.create_key("fragile", "live", &[]).await;
    let api = ApiClient::new(&app.base, &key);
    let id = own_id(&api).await;
    // The last step of a roll, the old key's grace expiry, fails after the replacement was
    // inserted.
    if app.db.is_postgres() {
        app.db.execute_as_admin(
            "CREATE FUNCTION refuse_expiry() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER refuse_expiry BEFORE UPDATE OF expires_at ON api_keys \
             FOR EACH ROW EXECUTE FUNCTION refuse_expiry();",
        );
    } else {
        app.db.execute_as_admin(
            "CREATE TRIGGER refuse_expiry BEFORE UPDATE OF expires_at ON api_keys \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        );
    }
    let roll = || async {
        let token = browser.csrf("/settings/api-keys").await;
        browser
            .post_form(
                &format!("/settings/api-keys/{id}/roll"),
                &[("grace_hours", "24"), ("csrf_token", &token)],
            )
            .await
    };
    assert_eq!(roll().await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM api_keys WHERE label = 'fragile'"),
        1,
        "no replacement was left behind"
    );
    assert_eq!(
        app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM api_keys \
             WHERE label = 'fragile' AND replaced_by IS NULL AND expires_at IS NULL"
        ),
        1,
        "the key is neither marked rolled nor given an expiry"
    );
    assert_eq!(
        api.get("/v1/status").send().await.unwrap().status(),
        StatusCode::OK
    );

    // Once the failure is gone, the same key rolls.
    app.db.execute_as_admin(if app.db.is_postgres() {
        "DROP TRIGGER refuse_expiry ON api_keys"
    } else {
        "DROP TRIGGER refuse_expiry"
    });
    assert_eq!(roll().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM api_keys WHERE label = 'fragile'"),
        2
    );
}

#[actix_web::test]
async fn a_stored_value_the_service_does_not_know_is_an_error_not_a_guess() {
    let app = TestApp::spawn().await;
    let browser = owner(&app, "Odd rows").await;
    let key = browser.create_key("odd", "live", &["keys:read"]).await;
    let api = ApiClient::new(&app.base, &key);
    // Before its first use, a scope name this version never wrote (a newer release's, or a
    // hand edit).
    app.db.execute_as_admin(
        "UPDATE api_keys SET scopes = 'keys:read keys:admin' WHERE label = 'odd'",
    );
    let (status, _, body) = json(api.get("/v1/status")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"]["code"], "internal_error");
    assert!(body["error"]["request_id"].is_string(), "{body}");
    // The page that lists the key says so too, rather than showing it with fewer scopes.
    assert_eq!(
        browser.get("/settings/api-keys").await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}
