//! An account whose email nobody has confirmed: it may look around and use test mode, nothing
//! that reaches other people or live platforms; when the address's owner takes it over, what it
//! made goes. Also the limits on what one person may start: workspaces a day, invitations a day
//! from a new account.

use crate::harness::{
    ApiClient, Browser, PASSWORD, TestApp, confirmation_link, csrf_in, error_of, json, mailed_link,
    status_of, texts, unique_email,
};
use crate::invitations::invite;
use crate::platforms::Running;
use reqwest::StatusCode;

/// A `/v1` request from the dashboard's own session, with its CSRF token.
fn session_api(
    browser: &Browser,
    token: &str,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    browser
        .client
        .request(method, format!("{}{path}", browser.base))
        .header("X-CSRF-Token", token)
}

#[actix_web::test]
async fn an_unconfirmed_account_uses_test_mode_only_until_it_confirms() {
    let platforms = Running::start().await;
    let vars = platforms.vars();
    let app = TestApp::spawn_with(|v| v.extend(vars)).await;
    let email = unique_email("fresh");
    let browser = app.browser();
    browser.sign_up_unconfirmed(&email, "Fresh").await;

    // Every page but the dashboard (which has its own step) says what waits, with the link.
    let members = browser.page("/settings/members").await;
    let banner = texts(&members, "#unconfirmed");
    assert!(banner[0].contains("not create live keys"), "{members}");
    assert!(members.contains(r#"action="/settings/verify-email""#));

    // Pages: a live key, an invitation, a workspace, a live platform are refused with why.
    let live = browser
        .submit(
            "/settings/api-keys",
            "/settings/api-keys",
            &[("label", "live"), ("mode", "live")],
        )
        .await;
    assert_eq!(live.status(), StatusCode::FORBIDDEN);
    assert!(
        live.text()
            .await
            .unwrap()
            .contains("Confirm your email address first")
    );
    let invited = invite(&browser, &unique_email("friend"), "admin").await;
    assert_eq!(invited.status(), StatusCode::FORBIDDEN);
    let workspace = browser
        .submit("/dashboard", "/workspaces", &[("name", "Another")])
        .await;
    assert_eq!(workspace.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/connect/x").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.db.rows("api_keys"), 0);
    assert_eq!(app.db.rows("invitations"), 0);
    assert_eq!(app.db.rows("workspaces"), 1);
    assert_eq!(app.db.rows("oauth_states"), 0);

    // The API answers 403 email_unconfirmed, to the session and to a test key alike.
    let token = csrf_in(&browser.page("/dashboard").await);
    let asked = session_api(&browser, &token, reqwest::Method::POST, "/v1/api-keys")
        .json(&serde_json::json!({"label": "live", "mode": "live"}));
    assert_eq!(
        error_of(asked).await,
        (StatusCode::FORBIDDEN, "email_unconfirmed".to_owned())
    );
    let connect = session_api(
        &browser,
        &token,
        reqwest::Method::GET,
        "/v1/connect/linkedin",
    );
    assert_eq!(
        error_of(connect).await,
        (StatusCode::FORBIDDEN, "email_unconfirmed".to_owned())
    );

    // Test mode works: a test key, the sandbox.
    let test_key = browser.create_key("tests", "test", &[]).await;
    let api = ApiClient::new(&app.base, &test_key);
    assert_eq!(status_of(api.get("/v1/status")).await, StatusCode::OK);
    let sandbox = browser.get("/connect/sandbox").await;
    assert_eq!(sandbox.status(), StatusCode::SEE_OTHER);

    // Once the address is confirmed, all of it is open.
    let link = confirmation_link(&app.mail, &email).await;
    assert_eq!(browser.get(&link).await.status(), StatusCode::OK);
    let members = browser.page("/settings/members").await;
    assert!(!members.contains("id=\"unconfirmed\""), "{members}");
    browser.create_key("live", "live", &[]).await;
    let invited = invite(&browser, &unique_email("friend"), "admin").await;
    assert_eq!(invited.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser.get("/connect/x").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn the_owner_resetting_the_password_takes_back_what_the_squatter_made() {
    let app = TestApp::spawn().await;
    let victim = unique_email("victim");
    let squatter = app.browser();
    squatter.sign_up_unconfirmed(&victim, "Squatted").await;
    // What an unconfirmed account can make: test keys, and keys those keys make.
    let parent = squatter.create_key("squatter parent", "test", &[]).await;
    let (status, _, child) = json(
        ApiClient::new(&app.base, &parent)
            .post("/v1/api-keys")
            .json(&serde_json::json!({"label": "squatter child"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let child = child["plaintext"].as_str().unwrap().to_owned();
    // What an earlier version let it do: invite a second account of its own, as owner.
    let accomplice = unique_email("accomplice");
    app.browser().sign_up(&accomplice, "Elsewhere").await;
    let workspace = app.db.first_text_as_admin(&format!(
        "SELECT m.workspace_id AS v FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE u.email = '{victim}'"
    ));
    app.db.execute_as_admin(&format!(
        "INSERT INTO invitations (id, workspace_id, email, role, token_digest, invited_by, \
         created_at, expires_at, accepted_at, accepted_by) \
         SELECT 'inv_{:032x}', '{workspace}', '{accomplice}', 'owner', 'spent', s.id, 1, 2, 1, a.id \
         FROM users s, users a WHERE s.email = '{victim}' AND a.email = '{accomplice}'; \
         INSERT INTO memberships (workspace_id, user_id, role, created_at) \
         SELECT '{workspace}', id, 'owner', 1 FROM users WHERE email = '{accomplice}'",
        1
    ));
    let pending = unique_email("pending");
    app.db.execute_as_admin(&format!(
        "INSERT INTO invitations (id, workspace_id, email, role, token_digest, invited_by, \
         created_at, expires_at) \
         SELECT 'inv_{:032x}', '{workspace}', '{pending}', 'admin', 'open', id, 1, 9999999999 \
         FROM users WHERE email = '{victim}'",
        2
    ));

    // The address's owner asks for a reset link, and it reaches their inbox.
    let owner = Browser::new(&app.base);
    owner
        .submit(
            "/forgot-password",
            "/forgot-password",
            &[("email", &victim)],
        )
        .await;
    let link = mailed_link(&app.mail, &victim, "/reset-password").await;
    let done = owner
        .submit(&link, &link, &[("password", "the owner's own passphrase")])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    let said = texts(&owner.page("/dashboard").await, ".flash").join(" ");
    for shown in ["squatter parent", "squatter child", &pending, &accomplice] {
        assert!(said.contains(shown), "{shown} is named: {said}");
    }
    for key in [&parent, &child] {
        assert_eq!(
            status_of(ApiClient::new(&app.base, key).get("/v1/status")).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE u.email = '{accomplice}' AND m.workspace_id = '{workspace}'"
        )),
        0,
        "the invited owner is gone"
    );
    assert_eq!(
        app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM invitations WHERE token_digest = 'open' \
             AND revoked_at IS NOT NULL"
        ),
        1
    );
    assert!(squatter.get("/dashboard").await.status() == StatusCode::SEE_OTHER);
    assert_eq!(
        app.browser().log_in(&victim, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The audit log says who did it and why.
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE workspace_id = '{workspace}' \
             AND actor_kind = 'service' AND action IN ('key.revoked', 'member.removed', \
             'invitation.revoked')"
        )),
        4
    );
}

#[actix_web::test]
async fn a_person_creates_ten_workspaces_a_day_and_a_new_account_sends_fifty_invitations() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("busy"), "First").await;
    let mut statuses = Vec::new();
    for n in 0..11 {
        let name = format!("Workspace {n}");
        statuses.push(
            browser
                .submit("/dashboard", "/workspaces", &[("name", &name)])
                .await
                .status(),
        );
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.db.rows("workspaces"), 11);

    // Fifty invitations a day from an account younger than a week, across its workspaces.
    let mut sent = 0;
    let mut refused = StatusCode::OK;
    for n in 0..51 {
        let answer = invite(&browser, &format!("person{n}@example.com"), "member").await;
        if answer.status() == StatusCode::SEE_OTHER {
            sent += 1;
        } else {
            refused = answer.status();
        }
    }
    assert_eq!(sent, 50);
    assert_eq!(refused, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.db.rows("invitations"), 50);
}
