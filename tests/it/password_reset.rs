//! Forgotten passwords and verification links sent again, with the email received over real
//! SMTP.

use crate::harness::{Browser, PASSWORD, TestApp, location, unique_email};
use crate::mailbox::{Mailbox, link_in};
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn app_with_mail() -> (TestApp, Mailbox) {
    let mailbox = Mailbox::start();
    let app = TestApp::spawn_with(|vars| mailbox.configure(vars)).await;
    (app, mailbox)
}

/// Asks for a reset link for `email` from a fresh browser; the answer, and the page shown
/// (the one a redirect leads to, which a reload does not post again).
async fn ask_for_reset(app: &TestApp, email: &str) -> (StatusCode, String) {
    let browser = Browser::new(&app.base);
    let response = browser
        .submit("/forgot-password", "/forgot-password", &[("email", email)])
        .await;
    let status = response.status();
    if status == StatusCode::SEE_OTHER {
        let to = crate::harness::location(response.headers());
        assert_eq!(to, "/forgot-password/sent");
        return (status, browser.page(&to).await);
    }
    (status, response.text().await.unwrap())
}

/// Sets `password` through the reset link at `path`, from `browser`.
async fn choose(browser: &Browser, path: &str, password: &str) -> reqwest::Response {
    browser.submit(path, path, &[("password", password)]).await
}

#[actix_web::test]
async fn a_reset_link_by_email_sets_a_new_password_and_ends_every_other_session() {
    let (app, mailbox) = app_with_mail().await;
    let email = unique_email("forgetful");
    let laptop = app.browser();
    laptop.sign_up(&email, "Forgetful").await;
    let phone = app.browser();
    assert_eq!(
        phone.log_in(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let (status, page) = ask_for_reset(&app, &email).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(page.contains("Check your email"), "{page}");
    let path = mailbox.link(&email, "/reset-password", 1).await;

    let browser = app.browser();
    assert_eq!(browser.get(&path).await.status(), StatusCode::OK);
    let done = choose(&browser, &path, NEW_PASSWORD).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(done.headers()), "/dashboard");
    // Signed in afresh, and everywhere else signed out; the account is told how.
    assert!(browser.dashboard().await.contains("Forgetful"));
    let told = mailbox.wait_for(&email, 3).await;
    assert!(
        told.iter().any(|m| m.contains("password was changed")
            && m.contains("through a reset link")
            && !m.contains(NEW_PASSWORD)),
        "{told:?}"
    );
    for old in [&laptop, &phone] {
        assert_eq!(old.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(
        app.browser().log_in(&email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser().log_in(&email, NEW_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // The link reached the address: it counts as confirmed.
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM users WHERE email_verified_at IS NOT NULL"),
        1
    );
    // Single use.
    assert_eq!(
        app.browser().get(&path).await.status(),
        StatusCode::BAD_REQUEST
    );
    let replay = app.browser();
    let token = replay.csrf("/login").await;
    let again = replay
        .post_form(
            &path,
            &[
                ("password", "yet another passphrase"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let token = &path["/reset-password?token=".len()..];
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM email_tokens WHERE token_hash = '{token}'"
        )),
        0,
        "only a digest of the token is stored"
    );
}

#[actix_web::test]
async fn asking_for_a_reset_says_the_same_whether_or_not_the_email_has_an_account() {
    let (app, mailbox) = app_with_mail().await;
    let email = unique_email("known");
    app.browser().sign_up(&email, "").await;
    mailbox.wait_for(&email, 1).await;

    let stranger = unique_email("nobody");
    let known = ask_for_reset(&app, &email).await;
    let unknown = ask_for_reset(&app, &stranger).await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, StatusCode::SEE_OTHER);
    // Another case and another Unicode form of the same address is the same account.
    let shouted = ask_for_reset(&app, &email.to_uppercase()).await;
    assert_eq!(shouted, known);

    mailbox.link(&email, "/reset-password", 2).await;
    // Nothing went to the address without an account, however long we wait for the mail that
    // would have been sent after the answer.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        mailbox.messages().iter().all(|m| !m.contains(&stranger)),
        "no mail to an unknown address"
    );

    // A malformed address is refused on the form, as it would be for anyone.
    let (status, page) = ask_for_reset(&app, "not an email").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Forgot your password?"), "{page}");
}

#[actix_web::test]
async fn a_reset_link_works_once_however_many_use_it_at_once() {
    let (app, mailbox) = app_with_mail().await;
    let email = unique_email("racer");
    app.browser().sign_up(&email, "").await;
    ask_for_reset(&app, &email).await;
    let path = mailbox.link(&email, "/reset-password", 1).await;

    let mut posts = Vec::new();
    for i in 0..6 {
        let browser = app.browser();
        let token = browser.csrf(&path).await;
        let path = path.clone();
        posts.push(async move {
            let password = format!("racing passphrase {i}");
            browser
                .post_form(&path, &[("password", &password), ("csrf_token", &token)])
                .await
                .status()
        });
    }
    let statuses = crate::harness::all_at_once(posts.into_iter()).await;
    // One wins; the others find the link spent, or the hashing queue full (then they did
    // nothing at all): none of them is a second reset.
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    let allowed = [
        StatusCode::SEE_OTHER,
        StatusCode::BAD_REQUEST,
        StatusCode::SERVICE_UNAVAILABLE,
    ];
    assert!(statuses.iter().all(|s| allowed.contains(s)), "{statuses:?}");
    assert_eq!(
        app.browser().get(&path).await.status(),
        StatusCode::BAD_REQUEST
    );
    let winner = statuses
        .iter()
        .position(|s| *s == StatusCode::SEE_OTHER)
        .unwrap();
    // The winner's password is the one that works (checked first: the losers' failures then
    // stay under the sign-in limit).
    let password = |i: usize| format!("racing passphrase {i}");
    assert_eq!(
        app.browser()
            .log_in(&email, &password(winner))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    for i in (0..6).filter(|i| *i != winner) {
        assert_eq!(
            app.browser().log_in(&email, &password(i)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[actix_web::test]
async fn an_expired_forged_or_refused_reset_changes_nothing() {
    let (app, mailbox) = app_with_mail().await;
    let email = unique_email("careful");
    app.browser().sign_up(&email, "").await;
    ask_for_reset(&app, &email).await;
    let path = mailbox.link(&email, "/reset-password", 1).await;
    let browser = app.browser();

    // A password the rules refuse: the form again, and the link still works.
    let short = choose(&browser, &path, "short").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("Choose a new password")
    );
    assert_eq!(browser.get(&path).await.status(), StatusCode::OK);

    for forged in [
        "/reset-password?token=forged".to_owned(),
        format!("/reset-password?token={}", "a".repeat(4096)),
        "/reset-password".to_owned(),
    ] {
        assert_eq!(browser.get(&forged).await.status(), StatusCode::BAD_REQUEST);
    }

    // An hour later the link is dead.
    app.db.execute_as_admin(
        "UPDATE email_tokens SET expires_at = 1 WHERE purpose = 'reset_password'",
    );
    assert_eq!(browser.get(&path).await.status(), StatusCode::BAD_REQUEST);
    let late = browser
        .post_form(
            &path,
            &[
                ("password", NEW_PASSWORD),
                ("csrf_token", &browser.csrf("/login").await),
            ],
        )
        .await;
    assert_eq!(late.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.browser().log_in(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "the old password still works"
    );
}

#[actix_web::test]
async fn reset_requests_are_limited_per_address_asked_for() {
    let (app, mailbox) = app_with_mail().await;
    let email = unique_email("flooded");
    app.browser().sign_up(&email, "").await;
    for _ in 0..socializer::auth::throttle::MAX_EMAIL_REQUESTS_PER_EMAIL {
        assert_eq!(ask_for_reset(&app, &email).await.0, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        ask_for_reset(&app, &email).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let limit = socializer::auth::throttle::MAX_EMAIL_REQUESTS_PER_EMAIL as usize;
    mailbox.link(&email, "/reset-password", limit).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let resets = mailbox
        .messages()
        .iter()
        .filter(|m| m.contains("/reset-password?token="))
        .count();
    assert_eq!(resets, limit, "no mail past the limit");

    // Without the form's token nothing is sent at all.
    let bare = app
        .browser()
        .post_form("/forgot-password", &[("email", email.as_str())])
        .await;
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_dashboard_sends_the_confirmation_link_again_until_the_email_is_confirmed() {
    let (app, mailbox) = app_with_mail().await;
    let email = unique_email("unconfirmed");
    let browser = app.browser();
    browser.sign_up_unconfirmed(&email, "").await;
    mailbox.wait_for(&email, 1).await;

    let dashboard = browser.dashboard().await;
    assert!(dashboard.contains("is not confirmed yet"), "{dashboard}");
    let sent = browser
        .submit("/dashboard", "/settings/verify-email", &[])
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let shown = browser.page(&location(sent.headers())).await;
    assert!(shown.contains("We sent a new confirmation link"), "{shown}");
    let messages = mailbox.wait_for(&email, 2).await;
    let path = link_in(&messages[1], "/verify-email");
    assert_eq!(browser.get(&path).await.status(), StatusCode::OK);

    // Confirmed: the notice and its button are gone, and asking again sends nothing.
    let dashboard = browser.dashboard().await;
    assert!(!dashboard.contains("is not confirmed yet"), "{dashboard}");
    let again = browser
        .submit("/dashboard", "/settings/verify-email", &[])
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mailbox.wait_for(&email, 2).await.len(), 2);

    // Signed out, the button's target sends to sign-in and nothing else.
    let anonymous = app.browser();
    let response = anonymous
        .post_form("/settings/verify-email", &[("csrf_token", "x")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}
