//! Several workspaces per user, switching only to one's own, creating more.

use crate::harness::{TestApp, texts, unique_email};
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
        assert_eq!(texts(&response.text().await.unwrap(), ".error").len(), 1);
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
