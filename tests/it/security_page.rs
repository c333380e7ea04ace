//! `/settings/security`: the user's sessions, ending one, changing the password.

use crate::harness::{Browser, PASSWORD, TestApp, location, unique_email};
use reqwest::StatusCode;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// The session ids listed on a security page, the page's own first.
fn session_ids(page: &str) -> (String, Vec<String>) {
    let mut own = None;
    let mut all = Vec::new();
    for row in page.split("<tr class=\"session").skip(1) {
        let id = row
            .split("data-session-id=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a session id")
            .to_owned();
        if row.starts_with(" current") {
            assert!(own.is_none(), "one session is this one");
            own = Some(id.clone());
        }
        all.push(id);
    }
    (own.expect("this session is marked"), all)
}

#[actix_web::test]
async fn the_page_lists_the_users_own_sessions_with_their_device_and_marks_this_one() {
    let app = TestApp::spawn().await;
    let email = unique_email("devices");
    let laptop = Browser::with_user_agent(&app.base, FIREFOX);
    laptop.sign_up(&email, "Devices").await;
    let phone = Browser::with_user_agent(&app.base, SAFARI);
    assert_eq!(
        phone.log_in(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // Someone else's session is not shown.
    let other = app.browser();
    other.sign_up(&unique_email("stranger"), "").await;

    let page = laptop.page("/settings/security").await;
    let (own, all) = session_ids(&page);
    assert_eq!(all.len(), 2, "{page}");
    assert!(
        page.contains("Firefox on Linux (this session)")
            || page.contains("Firefox on Linux <strong"),
        "{page}"
    );
    assert!(page.contains("Safari on iOS"), "{page}");
    assert!(page.contains("127.0.0.1"), "{page}");
    assert_eq!(
        session_ids(&phone.page("/settings/security").await).1.len(),
        2
    );
    assert_ne!(session_ids(&phone.page("/settings/security").await).0, own);
    // Without a session, the page sends to sign-in.
    let response = app.browser().get("/settings/security").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(response.headers()).starts_with("/login?next="));
}

#[actix_web::test]
async fn ending_a_session_signs_that_device_out_and_only_the_owner_can() {
    let app = TestApp::spawn().await;
    let email = unique_email("ender");
    let laptop = Browser::with_user_agent(&app.base, FIREFOX);
    laptop.sign_up(&email, "").await;
    let phone = Browser::with_user_agent(&app.base, SAFARI);
    phone.log_in(&email, PASSWORD).await;
    let intruder = app.browser();
    intruder.sign_up(&unique_email("intruder"), "").await;

    let (own, all) = session_ids(&laptop.page("/settings/security").await);
    let phones = all.iter().find(|id| **id != own).unwrap().clone();

    // Another user cannot end it (not found to them), nor can a made-up id.
    for (who, id) in [(&intruder, phones.as_str()), (&laptop, "ses_nope")] {
        let response = who
            .submit(
                "/dashboard",
                &format!("/settings/security/sessions/{id}/end"),
                &[],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    assert_eq!(phone.get("/dashboard").await.status(), StatusCode::OK);

    let ended = laptop
        .submit(
            "/settings/security",
            &format!("/settings/security/sessions/{phones}/end"),
            &[],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    let shown = laptop.page(&location(ended.headers())).await;
    assert!(shown.contains("The session was ended."), "{shown}");
    assert_eq!(
        phone.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(laptop.get("/dashboard").await.status(), StatusCode::OK);

    // Ending this very session signs this browser out.
    let own_end = laptop
        .submit(
            "/settings/security",
            &format!("/settings/security/sessions/{own}/end"),
            &[],
        )
        .await;
    assert_eq!(own_end.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(own_end.headers()), "/login?signed_out=here");
    assert_eq!(
        laptop.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(intruder.get("/dashboard").await.status(), StatusCode::OK);
}

async fn change(browser: &Browser, current: &str, new: &str) -> reqwest::Response {
    browser
        .submit(
            "/settings/security",
            "/settings/security/password",
            &[("current_password", current), ("new_password", new)],
        )
        .await
}

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let email = unique_email("changer");
    let laptop = app.browser();
    laptop.sign_up(&email, "").await;
    let phone = app.browser();
    phone.log_in(&email, PASSWORD).await;
    let new = "a completely different passphrase";

    let wrong = change(&laptop, "not my password", new).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("current password is not correct")
    );
    let short = change(&laptop, PASSWORD, "short").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    // Nothing changed by either.
    assert_eq!(phone.get("/dashboard").await.status(), StatusCode::OK);
    assert_eq!(
        app.browser().log_in(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let changed = change(&laptop, PASSWORD, new).await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let shown = laptop.page(&location(changed.headers())).await;
    assert!(shown.contains("Your password was changed"), "{shown}");
    assert_eq!(laptop.get("/dashboard").await.status(), StatusCode::OK);
    assert_eq!(
        phone.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.browser().log_in(&email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser().log_in(&email, new).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn guessing_the_current_password_is_throttled_like_signing_in() {
    let app = TestApp::spawn().await;
    let email = unique_email("guessed");
    let thief = app.browser();
    thief.sign_up(&email, "").await;
    let limit = socializer::auth::throttle::MAX_FAILURES_PER_EMAIL;
    for i in 0..limit {
        let guess = change(&thief, &format!("guess number {i}"), "whatever passphrase").await;
        assert_eq!(guess.status(), StatusCode::BAD_REQUEST);
    }
    let refused = change(&thief, PASSWORD, "whatever passphrase").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.browser().log_in(&email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guesses counted against the email"
    );
}
