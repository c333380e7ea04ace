//! Several workspaces per user, switching only to one's own, creating more.

use crate::harness::{TestApp, attr_of, location, texts, unique_email};
use reqwest::StatusCode;

/// The id the header's workspace switcher posts for the workspace named `name`.
fn option_value(html: &str, name: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let form = scraper::Selector::parse(".switcher form").unwrap();
    let button = scraper::Selector::parse("button").unwrap();
    let id = scraper::Selector::parse("input[name=workspace_id]").unwrap();
    doc.select(&form)
        .find(|f| {
            f.select(&button)
                .next()
                .is_some_and(|b| b.text().collect::<String>().starts_with(name))
        })
        .and_then(|f| f.select(&id).next())
        .and_then(|i| i.value().attr("value"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no workspace {name:?} to switch to"))
}

#[actix_web::test]
async fn a_user_creates_a_second_workspace_and_switches_between_them() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("rita"), "First").await;

    let response = browser
        .submit("/dashboard", "/workspaces", &[("name", "Second")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = browser.dashboard().await;
    assert_eq!(
        texts(&html, "h1"),
        vec!["Second"],
        "a new workspace becomes the current one"
    );
    assert_eq!(texts(&html, ".role"), vec!["owner"]);
    assert_eq!(
        texts(&html, ".flash"),
        vec!["Workspace \u{201c}Second\u{201d} created: you are in it now, as its owner."]
    );
    assert!(texts(&html, ".switcher [aria-current]")[0].starts_with("Second"));

    let first = option_value(&html, "First");
    let response = browser
        .submit(
            "/dashboard",
            "/workspaces/switch",
            &[("workspace_id", &first)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = browser.dashboard().await;
    assert_eq!(texts(&html, "h1"), vec!["First"]);
    assert_eq!(
        texts(&html, ".flash"),
        vec!["Switched to \u{201c}First\u{201d}."]
    );
    assert!(texts(&html, ".switcher [aria-current]")[0].starts_with("First"));
    // The other workspace is offered for switching back.
    option_value(&html, "Second");
}

#[actix_web::test]
async fn switching_to_a_workspace_one_is_not_a_member_of_is_refused() {
    let app = TestApp::spawn().await;
    let outsider = app.browser();
    outsider.sign_up(&unique_email("sam"), "Outsider's").await;
    let victim = app.browser();
    victim.sign_up(&unique_email("tina"), "Victim's").await;
    victim
        .post_form(
            "/workspaces",
            &[
                ("name", "Victim's second"),
                ("csrf_token", &victim.csrf("/dashboard").await),
            ],
        )
        .await;
    let victims_workspace = app
        .db
        .first_text_as_admin("SELECT id AS v FROM workspaces WHERE name = 'Victim''s second'");

    for target in [
        victims_workspace.as_str(),
        "ws_00000000000000000000000000000000",
        "not-an-id",
        "",
    ] {
        let response = outsider
            .submit(
                "/dashboard",
                "/workspaces/switch",
                &[("workspace_id", target)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{target:?}");
    }
    let html = outsider.dashboard().await;
    assert_eq!(texts(&html, "h1"), vec!["Outsider's"]);
    assert!(
        !html.contains("Victim"),
        "nothing of another workspace is visible"
    );
}

#[actix_web::test]
async fn a_workspace_needs_a_valid_name() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("ursula"), "Only").await;
    for name in ["", "   ", &"x".repeat(101)] {
        let response = browser
            .submit("/dashboard", "/workspaces", &[("name", name)])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let html = response.text().await.unwrap();
        // At the field, with what was typed kept whole (an over-long name is never cut).
        let said = texts(&html, "#name-error");
        assert_eq!(said.len(), 1, "{name:?}");
        assert_eq!(attr_of(&html, "#name", "value"), name);
        assert_eq!(attr_of(&html, "#name", "aria-describedby"), "name-error");
        if name.len() > 100 {
            assert!(said[0].contains("100"), "{said:?}");
        }
    }
    assert_eq!(app.db.rows("workspaces"), 1);
}

#[actix_web::test]
async fn members_see_their_workspace_members_and_nothing_of_others() {
    let app = TestApp::spawn().await;
    let (a, b) = (unique_email("victor"), unique_email("wendy"));
    let alice = app.browser();
    alice.sign_up(&a, "Alpha").await;
    let bob = app.browser();
    bob.sign_up(&b, "Beta").await;

    let html = alice.dashboard().await;
    assert_eq!(texts(&html, "tbody td:first-child"), vec![a.clone()]);
    assert!(!html.contains(&b) && !html.contains("Beta"));
}

/// The token of the forms on `path`'s page (bound to the workspace the page shows).
async fn page_form_token(browser: &crate::harness::Browser, path: &str) -> String {
    crate::harness::attr_of(
        &browser.page(path).await,
        "main form input[name=csrf_token]",
        "value",
    )
}

#[actix_web::test]
async fn a_form_from_a_page_of_another_workspace_changes_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("tabs"), "Dup").await;
    browser
        .submit("/dashboard", "/workspaces", &[("name", "Dup")])
        .await;
    // The second "Dup" is current; the switcher offers the first.
    let first = option_value(&browser.dashboard().await, "Dup");
    let second = app.db.first_text_as_admin(&format!(
        "SELECT id AS v FROM workspaces WHERE id <> '{first}'"
    ));
    let switch_to = |id: String| {
        let browser = &browser;
        async move {
            browser
                .submit("/dashboard", "/workspaces/switch", &[("workspace_id", &id)])
                .await
        }
    };

    // A page shown while the second "Dup" is current, then a switch to the first in another tab.
    let leave_token = page_form_token(&browser, "/settings/members").await;
    let delete_token = page_form_token(&browser, "/settings/workspace").await;
    let v1_token = crate::dashboard_api::page_token(&browser).await;
    let account_token = crate::harness::attr_of(
        &browser.page("/settings").await,
        "form[action='/logout'] input[name=csrf_token]",
        "value",
    );
    assert_eq!(
        switch_to(first.clone()).await.status(),
        StatusCode::SEE_OTHER
    );

    let before = (app.db.rows("workspaces"), app.db.rows("memberships"));
    let left = browser
        .post_form(
            "/settings/members/leave",
            &[("csrf_token", leave_token.as_str())],
        )
        .await;
    assert_eq!(left.status(), StatusCode::CONFLICT);
    let said = left.text().await.unwrap();
    assert_eq!(texts(&said, "main h1"), vec!["Another workspace is open"]);
    let deleted = browser
        .post_form(
            "/settings/workspace/delete",
            &[("csrf_token", delete_token.as_str()), ("name", "Dup")],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::CONFLICT);
    let made = crate::dashboard_api::v1(&browser, reqwest::Method::POST, "/v1/api-keys")
        .header("x-csrf-token", &v1_token)
        .json(&serde_json::json!({"label": "wrong tab"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        (app.db.rows("workspaces"), app.db.rows("memberships")),
        before,
        "nothing was left or deleted"
    );
    assert_eq!(app.db.rows("api_keys"), 0);

    // The same forms from a page of the workspace now current do what they say.
    let delete_token = page_form_token(&browser, "/settings/workspace").await;
    let deleted = browser
        .post_form(
            "/settings/workspace/delete",
            &[("csrf_token", delete_token.as_str()), ("name", "Dup")],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let remaining = app.db.first_text_as_admin("SELECT id AS v FROM workspaces");
    assert_eq!(
        remaining, second,
        "the workspace that was current is the one deleted"
    );

    // Signing out works from any page, however stale: its form carries the user's token.
    let signed_out = browser
        .post_form("/logout", &[("csrf_token", account_token.as_str())])
        .await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(signed_out.headers()), "/login?signed_out=here");
}
