//! Server-side sessions, cookies, expiry, CSRF, pages that need a session.

use crate::harness::{Browser, PASSWORD, TestApp, location, status_of, texts, unique_email};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("socializer=") || c.starts_with("__Host-socializer="))
        .map(str::to_owned)
}

#[actix_web::test]
async fn pages_need_a_session_and_redirect_to_login_with_next() {
    let app = TestApp::spawn().await;
    let response = app.browser().get("/dashboard").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/login?next=%2Fdashboard");

    // The settings area too, before anything about it shows.
    let response = app.browser().get("/settings/api-keys?x=1").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(response.headers()),
        "/login?next=%2Fsettings%2Fapi-keys%3Fx%3D1"
    );
}

#[actix_web::test]
async fn the_cookie_is_http_only_lax_and_carries_no_personal_data() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let email = unique_email("ken");
    let response = browser.sign_up(&email, "").await;
    let cookie = session_cookie(&response).expect("sign-up sets the session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http: no Secure flag ({cookie})"
    );
    let local = email.split('@').next().unwrap();
    assert!(!cookie.contains(local), "{cookie}");
}

fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

#[actix_web::test]
async fn on_https_the_cookies_are_secure_and_hsts_is_sent() {
    let app = TestApp::spawn_with(|vars| {
        vars.insert(
            "SOCIALIZER_PUBLIC_URL".into(),
            "https://socializer.example".into(),
        );
    })
    .await;
    // The server itself speaks plain HTTP behind the TLS proxy of the public URL, so the
    // Secure cookies are carried by hand here.
    let client = Browser::new(&app.base).client;
    let response = client
        .get(format!("{}/signup", app.base))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("strict-transport-security"));
    assert!(session_cookie(&response).is_none(), "no session for a view");
    let csrf = cookie_named(&response, "__Host-socializer_csrf").expect("the form's cookie");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(csrf.contains(attribute), "{csrf}");
    }
    let token = crate::harness::csrf_in(&response.text().await.unwrap());
    let response = client
        .post(format!("{}/signup", app.base))
        .header(COOKIE, csrf.split(';').next().unwrap())
        .form(&[
            ("email", unique_email("tls").as_str()),
            ("password", PASSWORD),
            ("workspace", ""),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&response).expect("sign-up starts the session");
    assert!(cookie.starts_with("__Host-socializer="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[actix_web::test]
async fn the_session_id_is_renewed_at_sign_in() {
    let app = TestApp::spawn().await;
    let email = unique_email("lena");
    let browser = app.browser();
    let first = session_cookie(&browser.sign_up(&email, "").await).expect("signed up");
    let after = {
        let response = browser.log_in(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        session_cookie(&response).expect("sign-in sets a new cookie")
    };
    let value = |c: &str| c.split(';').next().unwrap().to_owned();
    assert_ne!(value(&first), value(&after));

    // The session key from before this sign-in is worth nothing afterwards (no fixation).
    let fixated = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        status_of(
            fixated
                .get(format!("{}/dashboard", app.base))
                .header(COOKIE, value(&first))
        )
        .await,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let response = browser.sign_up(&unique_email("mike"), "").await;
    let cookie = session_cookie(&response).unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();

    assert_eq!(browser.log_out().await.status(), StatusCode::SEE_OTHER);
    // Replaying the old cookie does not bring the session back.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        status_of(
            replay
                .get(format!("{}/dashboard", app.base))
                .header(COOKIE, cookie)
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM sessions WHERE user_id IS NOT NULL"),
        0
    );
}

#[actix_web::test]
async fn sessions_are_revocable_and_expire_idle_or_absolute() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("nina"), "").await;
    browser.dashboard().await;

    // Idle for more than 24 hours.
    app.db
        .execute_as_admin("UPDATE sessions SET expires_at = 0 WHERE user_id IS NOT NULL");
    assert_eq!(
        browser.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );

    browser.log_in(&texts_email(&app), PASSWORD).await;
    browser.dashboard().await;
    // Active, but past the 14-day absolute limit.
    app.db
        .execute_as_admin("UPDATE sessions SET absolute_expires_at = 1 WHERE user_id IS NOT NULL");
    assert_eq!(
        browser.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );

    browser.log_in(&texts_email(&app), PASSWORD).await;
    browser.dashboard().await;
    // Deleted on the server (what "sign out everywhere" will do).
    app.db.execute_as_admin("DELETE FROM sessions");
    assert_eq!(
        browser.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
}

fn texts_email(app: &TestApp) -> String {
    let rows = app.db.rows("users");
    assert_eq!(rows, 1);
    read_single_email(app)
}

fn read_single_email(app: &TestApp) -> String {
    // The outbox holds the one sign-up's verification email; its recipient is the user.
    let file = std::fs::read_dir(app.outbox())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let message = std::fs::read_to_string(file).unwrap();
    message
        .lines()
        .find_map(|l| l.strip_prefix("To: "))
        .unwrap()
        .trim()
        .to_owned()
}

#[actix_web::test]
async fn sessions_last_fourteen_days_at_most_and_a_day_idle() {
    let app = TestApp::spawn().await;
    app.browser().sign_up(&unique_email("olga"), "").await;
    let idle = app.db.count_as_admin(
        "SELECT MAX(expires_at - last_seen_at) AS n FROM sessions WHERE user_id IS NOT NULL",
    );
    let absolute = app.db.count_as_admin(
        "SELECT MAX(absolute_expires_at - created_at) AS n FROM sessions WHERE user_id IS NOT NULL",
    );
    assert_eq!(idle, 24 * 60 * 60);
    assert_eq!(absolute, 14 * 24 * 60 * 60);
}

#[actix_web::test]
async fn only_a_digest_of_the_session_key_is_stored() {
    let app = TestApp::spawn().await;
    let response = app.browser().sign_up(&unique_email("pete"), "").await;
    let cookie = session_cookie(&response).unwrap();
    let value = crate::harness::cookie_value(&cookie);
    let decoded: String = url::form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned();
    // Signed cookie: `<signature><key>`; the key is the last 43 characters.
    let key = &decoded[decoded.len() - 43..];
    let plain = app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = '{key}'"
    ));
    let digest = socializer::crypto::sha256_hex(key);
    let hashed = app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM sessions WHERE token_hash = '{digest}'"
    ));
    assert_eq!((plain, hashed), (0, 1));
}

#[actix_web::test]
async fn posts_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let email = unique_email("quinn");
    let browser = app.browser();
    browser.sign_up(&email, "Original").await;
    let other = app.browser();
    let foreign_token = other.csrf("/login").await;

    for token in ["", "forged", foreign_token.as_str()] {
        let response = browser
            .post_form("/workspaces", &[("name", "Sneaky"), ("csrf_token", token)])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
        let response = browser.post_form("/logout", &[("csrf_token", token)]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // No field at all.
    assert_eq!(
        browser
            .post_form("/workspaces", &[("name", "Sneaky")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.db.rows("workspaces"), 1);
    browser.dashboard().await; // still signed in

    let fresh = app.browser();
    fresh.get("/login").await;
    let response = fresh
        .post_form(
            "/login",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = fresh
        .post_form(
            "/signup",
            &[
                ("email", "new@example.com"),
                ("password", PASSWORD),
                ("csrf_token", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.db.rows("users"), 1);
}

#[actix_web::test]
async fn sign_out_everywhere_ends_every_session_of_the_user_only() {
    let app = TestApp::spawn().await;
    let email = unique_email("yara");
    let laptop = app.browser();
    laptop.sign_up(&email, "").await;
    let phone = app.browser();
    assert_eq!(
        phone.log_in(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let someone_else = app.browser();
    someone_else.sign_up(&unique_email("zoe"), "").await;

    // Without the CSRF token: refused, nothing ended.
    let response = phone
        .post_form(
            "/settings/security/sign-out-everywhere",
            &[("csrf_token", "nope")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    laptop.dashboard().await;

    let response = phone
        .submit("/dashboard", "/settings/security/sign-out-everywhere", &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/login?signed_out=everywhere");
    let html = phone.page("/login?signed_out=everywhere").await;
    assert_eq!(
        texts(&html, ".notice"),
        vec!["You are signed out on every device."]
    );
    let html = phone.page("/login?signed_out=%3Cscript%3E").await;
    assert!(
        texts(&html, ".notice").is_empty(),
        "only the service's own words"
    );
    assert_eq!(
        phone.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        laptop.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER
    );
    someone_else.dashboard().await;
}

#[actix_web::test]
async fn a_busy_session_is_touched_once_a_minute_and_page_views_only_read() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_up(&unique_email("touch"), "Touched").await;
    browser.dashboard().await;
    let seen = |app: &TestApp| {
        app.db
            .count_as_admin("SELECT last_seen_at AS n FROM sessions WHERE user_id IS NOT NULL")
    };

    // Seen 30 seconds ago: not due, so views leave the row alone.
    app.db.execute_as_admin(
        "UPDATE sessions SET last_seen_at = last_seen_at - 30 WHERE user_id IS NOT NULL",
    );
    let before = seen(&app);
    for _ in 0..3 {
        assert_eq!(browser.get("/dashboard").await.status(), StatusCode::OK);
    }
    assert_eq!(seen(&app), before);

    // With the write lock held elsewhere, signed-in views are still served at once: loading
    // the session and the member's standing only read, and the touch is not due.
    if let Some(lock) = app.db.hold_write_lock() {
        let view = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            browser.get("/settings/api-keys"),
        )
        .await
        .expect("served without waiting for the writer (whose wait is 5 s)");
        assert_eq!(view.status(), StatusCode::OK);
        drop(lock);
    }

    // Seen two minutes ago: the next view moves it forward.
    app.db.execute_as_admin(
        "UPDATE sessions SET last_seen_at = last_seen_at - 120 WHERE user_id IS NOT NULL",
    );
    let stale = seen(&app);
    assert_eq!(browser.get("/dashboard").await.status(), StatusCode::OK);
    assert!(seen(&app) >= stale + 120, "touched");
}
