//! Sign-up, sign-in, sign-out, verification email, throttling.

use crate::harness::{Browser, PASSWORD, TestApp, location, texts, unique_email};
use reqwest::StatusCode;

#[actix_web::test]
async fn sign_up_creates_an_owned_workspace_and_signs_in() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let email = unique_email("alice");

    let response = browser.sign_up(&email.to_uppercase(), "Acme Inc").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/dashboard");

    let html = browser.dashboard().await;
    assert_eq!(texts(&html, "h1"), vec!["Acme Inc"]);
    assert_eq!(texts(&html, ".role"), vec!["owner"]);
    // Stored and shown lower-cased: emails compare case-insensitively.
    assert_eq!(texts(&html, "tbody td:first-child"), vec![email.clone()]);
}

#[actix_web::test]
async fn sign_up_without_a_workspace_name_derives_one_from_the_email() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let email = unique_email("bob");
    assert_eq!(
        browser.sign_up(&email, "").await.status(),
        StatusCode::SEE_OTHER
    );
    let local = email.split('@').next().unwrap();
    assert_eq!(
        texts(&browser.dashboard().await, "h1"),
        vec![format!("{local}'s workspace")]
    );
}

#[actix_web::test]
async fn sign_up_refuses_bad_input_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let nuls = "\0".repeat(12);
    let cases: [(&str, &str, String, &str); 5] = [
        ("not-an-email", PASSWORD, "W".into(), "valid email"),
        ("carol@example.com", "too short", "W".into(), "at least 10"),
        ("carol@example.com", &nuls, "W".into(), "control characters"),
        (
            "carol@example.com",
            &"x".repeat(257),
            "W".into(),
            "at most 256",
        ),
        (
            "carol@example.com",
            PASSWORD,
            "w".repeat(101),
            "100 characters",
        ),
    ];
    for (email, password, workspace, message) in cases {
        let response = browser
            .submit(
                "/signup",
                "/signup",
                &[
                    ("email", email),
                    ("password", password),
                    ("workspace", &workspace),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{email} / {workspace}"
        );
        let html = response.text().await.unwrap();
        let errors = texts(&html, ".error");
        assert!(
            errors.iter().any(|e| e.contains(message)),
            "{errors:?} should mention {message:?}"
        );
    }
    assert_eq!(app.db.rows("users"), 0);
    assert_eq!(app.db.rows("workspaces"), 0);
}

#[actix_web::test]
async fn an_email_already_taken_gets_a_generic_answer() {
    let app = TestApp::spawn().await;
    let email = unique_email("dave");
    assert_eq!(
        app.browser().sign_up(&email, "First").await.status(),
        StatusCode::SEE_OTHER
    );

    let response = app.browser().sign_up(&email.to_uppercase(), "Second").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(
        texts(&html, ".error")
            .iter()
            .any(|e| e.contains("could not create an account"))
    );
    assert_eq!(app.db.rows("users"), 1);
    assert_eq!(app.db.rows("workspaces"), 1);
}

#[actix_web::test]
async fn sign_up_sends_a_single_use_verification_link_through_the_outbox() {
    let app = TestApp::spawn().await;
    let email = unique_email("erin");
    app.browser().sign_up_unconfirmed(&email, "").await;

    let files: Vec<_> = std::fs::read_dir(app.outbox())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let message =
        crate::harness::decode_quoted_printable(&std::fs::read_to_string(&files[0]).unwrap());
    assert!(message.contains(&format!("To: {email}")), "{message}");
    let link = message
        .split_whitespace()
        .find(|w| w.contains("/verify-email?token="))
        .expect("the email has a verification link");
    let path = &link[link.find("/verify-email").unwrap()..];
    let confirmed = || {
        app.db
            .count_as_admin("SELECT COUNT(*) AS n FROM users WHERE email_verified_at IS NOT NULL")
    };

    // Opened by someone not signed in as the account: it asks them to, and stays unspent
    // (whoever reads the inbox is not shown to be whoever opened the account).
    let anonymous = Browser::new(&app.base);
    let asked = anonymous.get(path).await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(asked.text().await.unwrap().contains("Sign in to confirm"));
    let stranger = app.browser();
    stranger.sign_up(&unique_email("stranger"), "").await;
    let before = confirmed();
    assert!(
        stranger
            .get(path)
            .await
            .text()
            .await
            .unwrap()
            .contains("Sign in to confirm"),
        "another account's session does not confirm it either"
    );
    assert_eq!(confirmed(), before);

    let owner = app.browser();
    assert_eq!(
        owner
            .log_in(&email, crate::harness::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(owner.get(path).await.status(), StatusCode::OK);
    assert_eq!(confirmed(), before + 1);
    // Used once: opened again it changes nothing, and says the address is confirmed.
    let again = owner.get(path).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Email already confirmed")
    );
    assert_eq!(confirmed(), before + 1, "the link is single-use");
    assert_eq!(
        anonymous.get("/verify-email?token=forged").await.status(),
        StatusCode::BAD_REQUEST
    );
    // Only a digest of the token is stored.
    let token = &path["/verify-email?token=".len()..];
    let stored = app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM email_tokens WHERE token_hash = '{token}'"
    ));
    assert_eq!(stored, 0);
    let digest = socializer::crypto::sha256_hex(token);
    let stored = app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM email_tokens WHERE token_hash = '{digest}'"
    ));
    assert_eq!(stored, 1);
}

#[actix_web::test]
async fn sign_in_and_sign_out() {
    let app = TestApp::spawn().await;
    let email = unique_email("frank");
    let first = app.browser();
    first.sign_up(&email, "Frank's").await;
    assert_eq!(first.log_out().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        first.get("/dashboard").await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );

    let browser = app.browser();
    let response = browser.log_in(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()), "/dashboard");
    assert_eq!(texts(&browser.dashboard().await, "h1"), vec!["Frank's"]);
}

#[actix_web::test]
async fn a_failed_sign_in_is_a_401_with_one_generic_message() {
    let app = TestApp::spawn().await;
    let email = unique_email("grace");
    app.browser().sign_up(&email, "").await;

    for (who, password) in [
        (email.as_str(), "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let response = app.browser().log_in(who, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let html = response.text().await.unwrap();
        assert_eq!(texts(&html, ".error"), vec!["Incorrect email or password."]);
    }
}

#[actix_web::test]
async fn next_redirects_only_to_local_paths() {
    let app = TestApp::spawn().await;
    let email = unique_email("heidi");
    app.browser().sign_up(&email, "").await;

    let cases = [
        ("%2Fdashboard%3Ftab%3Dmembers", "/dashboard?tab=members"),
        ("https%3A%2F%2Fevil.example%2F", "/dashboard"),
        ("%2F%2Fevil.example", "/dashboard"),
        ("%2F%5Cevil.example", "/dashboard"),
    ];
    for (next, expected) in cases {
        let browser = app.browser();
        let page = browser
            .get(&format!("/login?next={next}"))
            .await
            .text()
            .await
            .unwrap();
        let token = crate::harness::csrf_in(&page);
        let response = browser
            .post_form(
                &format!("/login?next={next}"),
                &[
                    ("email", &email),
                    ("password", PASSWORD),
                    ("csrf_token", &token),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(response.headers()), expected, "next={next}");
    }
}

#[actix_web::test]
async fn repeated_failures_for_one_email_answer_429() {
    let app = TestApp::spawn().await;
    let email = unique_email("ivan");
    app.browser().sign_up(&email, "").await;

    for _ in 0..5 {
        assert_eq!(
            app.browser()
                .log_in(&email, "wrong password!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password is refused for a while, with a Retry-After.
    let response = app.browser().log_in(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));

    // Another account is not affected by that one's failures.
    let other = unique_email("judy");
    app.browser().sign_up(&other, "").await;
    assert_eq!(
        app.browser().log_in(&other, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // Only a digest of the email is kept.
    let plain = app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM login_throttle WHERE key LIKE '%{email}%'"
    ));
    assert_eq!(plain, 0);
}

#[actix_web::test]
async fn repeated_failures_from_one_address_answer_429() {
    let app = TestApp::spawn().await;
    let email = unique_email("mallory");
    app.browser().sign_up(&email, "").await;

    for i in 0..30 {
        let response = app
            .browser()
            .log_in(&format!("guess{i}@example.com"), "wrong password!")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.browser().log_in(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[actix_web::test]
async fn a_parallel_burst_of_guesses_gets_no_more_tries_than_the_limit() {
    // A hashing queue with room for the whole burst, so that only the lockout can stop it.
    let app = TestApp::spawn_configured(|config| config.hashing_threads = Some(8)).await;
    let email = unique_email("burst");
    app.browser().sign_up(&email, "").await;

    let guesses = (0..40).map(|i| {
        let (browser, email) = (app.browser(), email.clone());
        async move {
            browser
                .log_in(&email, &format!("wrong password {i}"))
                .await
                .status()
        }
    });
    let answers = crate::harness::all_at_once(guesses).await;
    let evaluated = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        evaluated <= 5,
        "{evaluated} guesses were checked: {answers:?}"
    );
    assert_eq!(evaluated + refused, 40, "{answers:?}");
    // The right password after the burst is refused too, as after five guesses in a row.
    assert_eq!(
        app.browser().log_in(&email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn sign_ups_are_limited_per_client_address() {
    let app = TestApp::spawn().await;
    let first = unique_email("s0");
    for i in 0..20 {
        let email = if i == 0 {
            first.clone()
        } else {
            unique_email(&format!("s{i}"))
        };
        let response = app.browser().sign_up(&email, "").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-up {i}");
    }
    let response = app.browser().sign_up(&unique_email("one-more"), "").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(app.db.rows("users"), 20);
    // Signing in is not signing up: still fine from the same address.
    assert_eq!(
        app.browser().log_in(&first, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn a_burst_of_sign_ups_is_answered_quickly_and_plainly_and_never_queues_without_bound() {
    let app = TestApp::spawn().await;
    // Every answer is plain (created, limited, or busy with a Retry-After), and no more
    // accounts are made than the limit allows.
    let attempts = (0..30).map(|i| {
        let browser = app.browser();
        async move {
            let response = browser
                .sign_up(&unique_email(&format!("flood{i}")), "")
                .await;
            let retry = response.headers().contains_key("retry-after");
            (response.status(), retry)
        }
    });
    let answers = crate::harness::all_at_once(attempts).await;
    for (status, retry) in &answers {
        match *status {
            StatusCode::SEE_OTHER => {}
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                assert!(retry, "{status} without Retry-After")
            }
            other => panic!("unexpected {other}: {answers:?}"),
        }
    }
    let created = app.db.rows("users");
    let succeeded = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(created as usize, succeeded, "{answers:?}");
    assert!(
        (1..=20).contains(&created),
        "{created} accounts: {answers:?}"
    );
    // A request turned away as busy counted for nothing: the address still gets its 20.
    for i in 0..25 {
        let response = app
            .browser()
            .sign_up(&unique_email(&format!("then{i}")), "")
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(app.db.rows("users"), 20);
}

#[actix_web::test]
async fn one_address_in_every_spelling_is_one_account_and_hidden_characters_are_refused() {
    let app = TestApp::spawn().await;
    let tag = hex::encode(socializer::crypto::random_bytes::<4>());
    let composed = format!("ren\u{e9}-{tag}@example.com");
    let decomposed = format!("RENE\u{301}-{tag}@example.com");
    assert_eq!(
        app.browser().sign_up(&composed, "").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.browser().sign_up(&decomposed, "").await.status(),
        StatusCode::BAD_REQUEST,
        "the same address, spelled apart"
    );
    assert_eq!(
        app.browser().log_in(&decomposed, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    for hidden in [
        format!("ren\u{e9}\u{200B}-{tag}@example.com"),
        format!("\u{202E}ren\u{e9}-{tag}@example.com"),
    ] {
        assert_eq!(
            app.browser().sign_up(&hidden, "").await.status(),
            StatusCode::BAD_REQUEST,
            "{hidden:?}"
        );
    }
    let response = app
        .browser()
        .sign_up(&unique_email("bidi"), "Acme \u{202E}gnp.exe")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.db.rows("users"), 1);
}
