//! The dashboard's own session on `/v1`: served as the signed-in person, in their current
//! workspace, with their role's powers; unsafe methods need the session's CSRF token.

use crate::harness::{ApiClient, Browser, TestApp, error_of, json, unique_email};
use reqwest::StatusCode;
use serde_json::json as j;

/// The CSRF token signed-in pages carry for their scripts.
pub async fn page_token(browser: &Browser) -> String {
    let html = browser.dashboard().await;
    html.split("<meta name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("signed-in pages carry the CSRF token")
        .to_owned()
}

pub fn v1(browser: &Browser, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    browser
        .client
        .request(method, format!("{}{path}", browser.base))
}

#[actix_web::test]
async fn a_signed_in_browser_calls_v1_as_its_user_in_the_current_workspace() {
    let app = TestApp::spawn().await;
    let email = unique_email("dash");
    let browser = app.browser();
    browser.sign_up(&email, "Dash Co").await;

    let (status, headers, body) = json(v1(&browser, reqwest::Method::GET, "/v1/status")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["key"].is_null(), "{body}");
    assert_eq!(body["user"]["email"], email.as_str());
    assert_eq!(body["user"]["role"], "owner");
    assert!(body["user"]["id"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(body["workspace"]["name"], "Dash Co");
    // No CORS: nothing invites another origin to read the answer.
    assert!(headers.get("access-control-allow-origin").is_none());
    // The session and the workspace's keys draw on one rate limit: a key's request and the
    // session's next one count down one counter. (Asked again if a window ended in between.)
    let key = browser.create_key("shared", "live", &[]).await;
    let remaining = |headers: &reqwest::header::HeaderMap| -> u32 {
        headers["ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut shared = false;
    for _ in 0..3 {
        // Two by the key, so that a counter of the key's own would not pass by chance.
        let api = ApiClient::new(&app.base, &key);
        json(api.get("/v1/status")).await;
        let (_, headers, keyed) = json(api.get("/v1/status")).await;
        assert!(keyed["user"].is_null(), "{keyed}");
        assert_eq!(keyed["workspace"], body["workspace"]);
        let by_key = remaining(&headers);
        let (_, headers, _) = json(v1(&browser, reqwest::Method::GET, "/v1/status")).await;
        if remaining(&headers) + 1 == by_key {
            shared = true;
            break;
        }
    }
    assert!(shared, "the session and the key count down one limit");

    // Without a session, or after signing out, there is no caller.
    let anonymous = app.browser();
    assert_eq!(
        error_of(v1(&anonymous, reqwest::Method::GET, "/v1/status")).await,
        (StatusCode::UNAUTHORIZED, "missing_api_key".into())
    );
    browser.submit("/dashboard", "/logout", &[]).await;
    assert_eq!(
        error_of(v1(&browser, reqwest::Method::GET, "/v1/status")).await,
        (StatusCode::UNAUTHORIZED, "missing_api_key".into())
    );
}

#[actix_web::test]
async fn unsafe_methods_with_the_session_need_its_csrf_token() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("writer"), "").await;
    let token = page_token(&browser).await;
    let create = |csrf: Option<&str>| {
        let request = v1(&browser, reqwest::Method::POST, "/v1/api-keys")
            .json(&j!({"label": "from the page"}));
        match csrf {
            Some(csrf) => request.header("x-csrf-token", csrf),
            None => request,
        }
    };

    for csrf in [None, Some(""), Some("not-the-token")] {
        assert_eq!(
            error_of(create(csrf)).await,
            (StatusCode::FORBIDDEN, "forbidden".into()),
            "{csrf:?}"
        );
    }
    assert_eq!(app.db.rows("api_keys"), 0, "nothing was made");

    let (status, _, made) = json(create(Some(&token))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(made["plaintext"].as_str().unwrap().starts_with("sk_live_"));
    let id = made["id"].as_str().unwrap();
    // Made by the person, not by a key.
    assert!(made["created_by_key"].is_null(), "{made}");
    assert!(
        made["created_by"].as_str().unwrap().contains("writer"),
        "{made}"
    );

    let revoke = v1(
        &browser,
        reqwest::Method::DELETE,
        &format!("/v1/api-keys/{id}"),
    );
    assert_eq!(
        error_of(revoke).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    let revoke = v1(
        &browser,
        reqwest::Method::DELETE,
        &format!("/v1/api-keys/{id}"),
    )
    .header("x-csrf-token", &token);
    assert_eq!(
        revoke.send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn a_member_has_their_role_s_powers_and_only_in_their_current_workspace() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Team").await;
    let team = json(v1(&owner, reqwest::Method::GET, "/v1/status")).await.2["workspace"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member_email = unique_email("member");
    let member = app.browser();
    member.sign_up(&member_email, "Own").await;
    let member_id = json(v1(&member, reqwest::Method::GET, "/v1/status"))
        .await
        .2["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.db.execute_as_admin(&format!(
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) \
         VALUES ('{team}', '{member_id}', 'member', 0)"
    ));
    let switched = member
        .submit(
            "/dashboard",
            "/workspaces/switch",
            &[("workspace_id", &team)],
        )
        .await;
    assert_eq!(switched.status(), StatusCode::SEE_OTHER);

    let (_, _, status) = json(v1(&member, reqwest::Method::GET, "/v1/status")).await;
    assert_eq!(status["user"]["role"], "member");
    assert_eq!(status["workspace"]["id"], team.as_str());
    // Members see the workspace's accounts, but keys are for owners and admins.
    assert_eq!(
        json(v1(&member, reqwest::Method::GET, "/v1/accounts"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        error_of(v1(&member, reqwest::Method::GET, "/v1/api-keys")).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    // Naming another workspace is refused, as for a key.
    let other = v1(&member, reqwest::Method::GET, "/v1/status").header("x-workspace-id", "ws_0");
    assert_eq!(
        error_of(other).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );

    // Removed from the workspace, the session no longer calls in it.
    app.db.execute_as_admin(&format!(
        "DELETE FROM memberships WHERE workspace_id = '{team}' AND user_id = '{member_id}'"
    ));
    assert_eq!(
        error_of(v1(&member, reqwest::Method::GET, "/v1/status")).await,
        (StatusCode::UNAUTHORIZED, "missing_api_key".into())
    );
}
