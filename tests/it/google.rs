//! Signing in with Google, against a real OpenID Connect provider on 127.0.0.1.

use crate::harness::{
    ApiClient, Browser, TestApp, all_at_once, cookie_value, header_value, location, status_of,
    texts, unique_email,
};
use crate::oidc_provider::provider;
use reqwest::StatusCode;
use reqwest::redirect;

async fn app() -> TestApp {
    TestApp::spawn_with(|vars| provider().configure(vars)).await
}

/// Begins at `/auth/google` in `browser` and signs in at the provider as `login`: answers the
/// path the provider sends the browser back to.
async fn through_google(app: &TestApp, browser: &Browser, login: &str) -> String {
    let start = browser.get("/auth/google").await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let back = provider().sign_in(&location(start.headers()), login).await;
    back.strip_prefix(&app.base)
        .unwrap_or_else(|| panic!("the provider sent the browser to {back}"))
        .to_owned()
}

async fn signed_in(browser: &Browser) -> bool {
    browser.get("/dashboard").await.status() == StatusCode::OK
}

/// A client with no cookie jar, for handing a cookie around by hand.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn users_with(app: &TestApp, email: &str) -> i64 {
    app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM users WHERE email = '{email}'"
    ))
}

fn verified(app: &TestApp, email: &str) -> bool {
    app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM users WHERE email = '{email}' AND email_verified_at IS NOT NULL"
    )) == 1
}

#[tokio::test]
async fn google_is_offered_only_when_configured() {
    let plain = TestApp::spawn().await;
    let browser = plain.browser();
    for page in ["/login", "/signup"] {
        let html = browser.page(page).await;
        assert!(!html.contains("Continue with Google"), "{page}");
    }
    for path in ["/auth/google", "/auth/google/callback?code=x&state=y"] {
        assert_eq!(
            browser.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    let app = app().await;
    let browser = app.browser();
    for page in ["/login", "/signup"] {
        let html = browser.page(page).await;
        assert!(html.contains("Continue with Google"), "{page}");
    }
    // The way back after sign-in rides along.
    let html = browser.page("/login?next=/settings/api-keys").await;
    assert!(html.contains("href=\"/auth/google?next=%2Fsettings%2Fapi-keys\""));
}

#[tokio::test]
async fn a_new_person_gets_an_account_and_a_workspace_and_comes_back_to_it() {
    let app = app().await;
    let email = unique_email("newcomer");
    let browser = app.browser();
    let callback = through_google(&app, &browser, &format!("verified:{email}")).await;
    assert!(callback.starts_with("/auth/google/callback?"), "{callback}");
    let done = browser.get(&callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(done.headers()), "/dashboard");
    let dashboard = browser.dashboard().await;
    assert!(dashboard.contains(&email));
    assert!(verified(&app, &email), "Google vouched for the email");
    assert_eq!(app.db.rows("identities"), 1);
    assert_eq!(app.db.rows("memberships"), 1);
    // No password: the security page says how to add one, and Google cannot be unlinked.
    let security = browser.page("/settings/security").await;
    assert!(security.contains(&email));
    assert!(!security.contains("Unlink Google"));

    // Signing in again, from another browser, is the same person in the same workspace.
    let again = app.browser();
    let callback = through_google(&app, &again, &format!("verified:{email}")).await;
    assert_eq!(again.get(&callback).await.status(), StatusCode::SEE_OTHER);
    assert!(again.dashboard().await.contains(&email));
    assert_eq!(users_with(&app, &email), 1);
    assert_eq!(app.db.rows("identities"), 1);
    assert_eq!(app.db.rows("workspaces"), 1);

    // The `next` of the sign-in page is where a sign-in ends.
    let third = app.browser();
    let start = third.get("/auth/google?next=/settings/security").await;
    let back = provider()
        .sign_in(&location(start.headers()), &format!("verified:{email}"))
        .await;
    let done = third.get(back.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(location(done.headers()), "/settings/security");
}

#[tokio::test]
async fn a_verified_email_takes_back_an_unconfirmed_account_and_what_it_made() {
    let app = app().await;
    let email = unique_email("squatted");
    // Someone signed up with this address and never confirmed it; all they could make is a
    // test key (live keys wait for the confirmation).
    let squatter = app.browser();
    assert_eq!(
        squatter.sign_up_unconfirmed(&email, "").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(signed_in(&squatter).await);
    let test_key = squatter.create_key("squatter's", "test", &[]).await;
    let api = ApiClient::new(&app.base, &test_key);
    assert_eq!(status_of(api.get("/v1/status")).await, StatusCode::OK);

    let owner = app.browser();
    let callback = through_google(&app, &owner, &format!("verified:{email}")).await;
    let done = owner.get(&callback).await;
    assert_eq!(location(done.headers()), "/dashboard");
    let page = owner.page("/dashboard").await;
    let said = texts(&page, ".flash");
    assert!(
        said.len() == 1
            && said[0].contains("password on this account was removed")
            && said[0].contains("squatter's"),
        "the owner is told what was removed: {page}"
    );

    assert!(!signed_in(&squatter).await, "the earlier session ended");
    assert_eq!(
        status_of(api.get("/v1/status")).await,
        StatusCode::UNAUTHORIZED,
        "the key it made is revoked"
    );
    let password_login = app.browser().log_in(&email, "correct horse battery").await;
    assert_eq!(password_login.status(), StatusCode::UNAUTHORIZED);
    assert!(verified(&app, &email));
    assert_eq!(users_with(&app, &email), 1);
    assert_eq!(app.db.rows("identities"), 1);
    assert!(signed_in(&owner).await);
}

/// Links an identity of the test provider to the account of `email` as an earlier version
/// could have (with a subject no test login produces).
fn link_old_identity(app: &TestApp, email: &str) {
    app.db.execute_as_admin(&format!(
        "INSERT INTO identities (issuer, subject, user_id, email, created_at) \
         SELECT '{}', 'older:{email}', id, email, 1 FROM users WHERE email = '{email}'",
        provider().issuer
    ));
}

#[tokio::test]
async fn a_verified_sign_in_meets_another_identity_of_the_same_provider_by_the_rules() {
    let app = app().await;
    // A confirmed account linked to another identity at the provider is not linked to a
    // second one: a plain page says so (it was a constraint violation, a 500).
    let confirmed = unique_email("linked");
    app.browser().sign_up(&confirmed, "").await;
    link_old_identity(&app, &confirmed);
    let browser = app.browser();
    let callback = through_google(&app, &browser, &format!("verified:{confirmed}")).await;
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("linked to a different Google account")
    );
    assert!(!signed_in(&browser).await);
    assert_eq!(app.db.rows("identities"), 1);

    // An unconfirmed account's earlier identity was linked by whoever claimed the address: the
    // owner's verified sign-in takes the account back and replaces it.
    let unconfirmed = unique_email("claimed");
    app.browser().sign_up_unconfirmed(&unconfirmed, "").await;
    link_old_identity(&app, &unconfirmed);
    let owner = app.browser();
    let callback = through_google(&app, &owner, &format!("verified:{unconfirmed}")).await;
    assert_eq!(location(owner.get(&callback).await.headers()), "/dashboard");
    assert!(signed_in(&owner).await);
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM identities WHERE email = '{unconfirmed}' \
             AND subject = 'verified:{unconfirmed}'"
        )),
        1
    );
    assert_eq!(app.db.rows("identities"), 2, "the older one is gone");
}

#[tokio::test]
async fn a_verified_email_links_to_a_confirmed_account_which_keeps_its_password() {
    let app = app().await;
    let email = unique_email("confirmed");
    let first = app.browser();
    first.sign_up(&email, "").await;
    app.db.execute_as_admin(&format!(
        "UPDATE users SET email_verified_at = 1 WHERE email = '{email}'"
    ));

    let browser = app.browser();
    let callback = through_google(&app, &browser, &format!("verified:{email}")).await;
    assert_eq!(
        location(browser.get(&callback).await.headers()),
        "/dashboard"
    );
    assert!(
        signed_in(&first).await,
        "nothing was taken from a confirmed account"
    );
    let login = app.browser().log_in(&email, "correct horse battery").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    // The account hears of the link, after it committed.
    let notice = crate::harness::mailed(&app.mail, &email, "A Google account was linked").await;
    assert_eq!(notice.len(), 1);
    assert!(notice[0].contains(&format!("The Google account {email} can now sign in")));

    // With a password, Google may be unlinked; then it no longer signs in as this account
    // until it is linked again.
    let security = browser.page("/settings/security").await;
    assert!(security.contains("Unlink Google"));
    let issuer = provider().issuer.clone();
    let forged = browser
        .post_form(
            "/settings/security/google/unlink",
            &[("issuer", &issuer), ("csrf_token", "not-the-token")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.db.rows("identities"), 1);
    let unlinked = browser
        .submit(
            "/settings/security",
            "/settings/security/google/unlink",
            &[("issuer", &issuer)],
        )
        .await;
    assert_eq!(location(unlinked.headers()), "/settings/security");
    assert_eq!(
        texts(&browser.page("/settings/security").await, ".flash"),
        vec!["Google is unlinked: sign in with your email and password from now on."]
    );
    assert_eq!(app.db.rows("identities"), 0);
    let notice = crate::harness::mailed(&app.mail, &email, "was unlinked").await;
    assert_eq!(notice.len(), 1);
    let again = browser
        .submit(
            "/settings/security",
            "/settings/security/google/unlink",
            &[("issuer", &issuer)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unlinking_the_only_way_in_is_refused() {
    let app = app().await;
    let email = unique_email("only-google");
    let browser = app.browser();
    let callback = through_google(&app, &browser, &format!("verified:{email}")).await;
    browser.get(&callback).await;
    let refused = browser
        .submit(
            "/settings/security",
            "/settings/security/google/unlink",
            &[("issuer", &provider().issuer)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("set a password first")
    );
    assert_eq!(app.db.rows("identities"), 1);
}

#[tokio::test]
async fn an_unverified_google_email_is_never_linked_to_an_account() {
    let app = app().await;
    let email = unique_email("victim");
    let victim = app.browser();
    victim.sign_up(&email, "").await;

    let attacker = app.browser();
    let callback = through_google(&app, &attacker, &format!("unverified:{email}")).await;
    let refused = attacker.get(&callback).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("has not confirmed"));
    assert!(!signed_in(&attacker).await);
    assert!(signed_in(&victim).await);
    assert_eq!(app.db.rows("identities"), 0);
    let login = app.browser().log_in(&email, "correct horse battery").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);

    // An unverified email nobody uses makes no account either (it was one whose owner could
    // later find it holding the address).
    let fresh = unique_email("unconfirmed");
    let browser = app.browser();
    let callback = through_google(&app, &browser, &format!("unverified:{fresh}")).await;
    assert_eq!(browser.get(&callback).await.status(), StatusCode::FORBIDDEN);
    assert!(!signed_in(&browser).await);
    assert_eq!(users_with(&app, &fresh), 0);
    assert_eq!(app.db.rows("workspaces"), 1, "the victim's only");

    // No email at all: nothing to make an account with.
    let browser = app.browser();
    let callback = through_google(&app, &browser, "noemail:nobody").await;
    assert_eq!(
        browser.get(&callback).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert!(!signed_in(&browser).await);
}

/// `/auth/google` from a browser that has no cookie jar: answers the provider's address and the
/// cookie that binds the sign-in to the browser.
async fn begin_by_hand(app: &TestApp, client: &reqwest::Client) -> (String, String) {
    let start = client
        .get(format!("{}/auth/google", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let cookie = header_value(start.headers(), "set-cookie");
    assert!(cookie.starts_with("socializer_google="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    (location(start.headers()), cookie_value(&cookie))
}

async fn callback_by_hand(
    app: &TestApp,
    client: &reqwest::Client,
    back: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut request = client.get(back);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("socializer_google={cookie}"));
    }
    let response = request.send().await.unwrap();
    assert!(back.starts_with(&app.base));
    response
}

#[tokio::test]
async fn a_state_works_once_and_only_in_the_browser_that_began_it() {
    let app = app().await;
    let client = bare_client();
    let email = unique_email("replay");
    let (auth_url, cookie) = begin_by_hand(&app, &client).await;
    let back = provider()
        .sign_in(&auth_url, &format!("verified:{email}"))
        .await;

    // Opened in another browser (a link planted in a victim's, say): no cookie, or another
    // sign-in's cookie. Nobody is signed in, and the real one still works.
    let foreign = callback_by_hand(&app, &client, &back, None).await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    let (_, other_cookie) = begin_by_hand(&app, &client).await;
    let foreign = callback_by_hand(&app, &client, &back, Some(&other_cookie)).await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert!(foreign.text().await.unwrap().contains("another browser"));
    assert_eq!(users_with(&app, &email), 0);

    let done = callback_by_hand(&app, &client, &back, Some(&cookie)).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let removal = header_value(done.headers(), "set-cookie");
    assert!(removal.contains("socializer_google=;") || removal.contains("Max-Age=0"));

    // Replayed, with the same cookie: spent.
    let replay = callback_by_hand(&app, &client, &back, Some(&cookie)).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(users_with(&app, &email), 1);

    // A state nobody issued, and a return with no state at all.
    let made_up = format!("{}/auth/google/callback?code=abc&state=made-up", app.base);
    let response = callback_by_hand(&app, &client, &made_up, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let stateless = format!("{}/auth/google/callback?code=abc", app.base);
    let response = callback_by_hand(&app, &client, &stateless, Some(&cookie)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn parallel_returns_with_one_state_sign_in_once() {
    let app = app().await;
    let client = bare_client();
    let email = unique_email("race");
    let (auth_url, cookie) = begin_by_hand(&app, &client).await;
    let back = provider()
        .sign_in(&auth_url, &format!("verified:{email}"))
        .await;
    let tries = (0..6).map(|_| {
        let (client, back, cookie) = (client.clone(), back.clone(), cookie.clone());
        async move {
            client
                .get(&back)
                .header("cookie", format!("socializer_google={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = all_at_once(tries).await;
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::BAD_REQUEST)
    );
    assert_eq!(users_with(&app, &email), 1);
}

#[tokio::test]
async fn an_id_token_that_fails_a_check_signs_nobody_in() {
    let app = app().await;
    for tamper in [
        "wrong-nonce",
        "wrong-audience",
        "wrong-issuer",
        "expired",
        "other-key",
        "same-kid-other-key",
    ] {
        let email = unique_email(tamper);
        let browser = app.browser();
        let callback =
            through_google(&app, &browser, &format!("tamper={tamper};verified:{email}")).await;
        let refused = browser.get(&callback).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{tamper}");
        let page = refused.text().await.unwrap();
        assert!(page.contains("could not be verified"), "{tamper}: {page}");
        assert!(!signed_in(&browser).await, "{tamper}");
        assert_eq!(users_with(&app, &email), 0, "{tamper}");
    }
    assert_eq!(app.db.rows("identities"), 0);
}

#[tokio::test]
async fn a_key_rotation_at_the_provider_costs_no_sign_in() {
    let app = app().await;
    // The first sign-in fetches the provider's keys as they are.
    let browser = app.browser();
    let callback = through_google(
        &app,
        &browser,
        &format!("verified:{}", unique_email("before")),
    )
    .await;
    assert_eq!(browser.get(&callback).await.status(), StatusCode::SEE_OTHER);
    // Then the provider signs with a key it has only now published.
    let email = unique_email("after");
    let browser = app.browser();
    let callback =
        through_google(&app, &browser, &format!("tamper=rotated;verified:{email}")).await;
    let done = browser.get(&callback).await;
    assert_eq!(location(done.headers()), "/dashboard");
    assert!(browser.dashboard().await.contains(&email));
}

#[tokio::test]
async fn cancelling_at_google_or_an_unreachable_google_shows_a_plain_page() {
    let app = app().await;
    let browser = app.browser();
    let start = browser.get("/auth/google").await;
    let back = provider().cancel(&location(start.headers())).await;
    assert!(back.contains("error=access_denied"), "{back}");
    let cancelled = browser.get(back.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(cancelled.status(), StatusCode::BAD_REQUEST);
    let page = cancelled.text().await.unwrap();
    assert!(page.contains("You cancelled signing in with Google"));
    assert_eq!(texts(&page, "h1"), ["Not signed in with Google"]);
    assert!(!signed_in(&browser).await);

    // A closed port where the issuer should be.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let down = TestApp::spawn_with(|vars| {
        provider().configure(vars);
        vars.insert("SOCIALIZER_GOOGLE_ISSUER".into(), dead);
    })
    .await;
    let browser = down.browser();
    let response = browser.get("/auth/google").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("could not be reached")
    );
    assert_eq!(down.db.rows("google_sign_ins"), 0);
}

#[tokio::test]
async fn the_owner_of_an_address_resetting_its_password_unlinks_an_unproven_google_identity() {
    let mailbox = crate::mailbox::Mailbox::start();
    let app = TestApp::spawn_with(|vars| {
        provider().configure(vars);
        mailbox.configure(vars);
    })
    .await;
    let email = unique_email("claimed");
    // Someone claimed the address and, under an earlier version, linked an identity the
    // provider did not vouch for.
    let claimer = app.browser();
    claimer.sign_up_unconfirmed(&email, "").await;
    link_old_identity(&app, &email);
    assert_eq!(app.db.rows("identities"), 1);

    // The address's owner resets the password through the link that reached their inbox.
    let owner = app.browser();
    let asked = owner
        .submit("/forgot-password", "/forgot-password", &[("email", &email)])
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let link = mailbox.link(&email, "/reset-password", 1).await;
    let reset = owner
        .submit(&link, &link, &[("password", "the owner's own passphrase")])
        .await;
    assert_eq!(location(reset.headers()), "/dashboard");
    assert_eq!(
        app.db.rows("identities"),
        0,
        "the unproven identity is gone"
    );
    assert!(!signed_in(&claimer).await);
    assert!(verified(&app, &email));

    // The claimer signing in with an identity the provider does not vouch for is refused.
    let again = app.browser();
    let callback = through_google(&app, &again, &format!("unverified:{email}")).await;
    assert_eq!(again.get(&callback).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_flood_of_starts_from_one_address_is_cut_off() {
    let app = app().await;
    let browser = app.browser();
    let mut statuses = Vec::new();
    for _ in 0..35 {
        statuses.push(browser.get("/auth/google").await.status());
    }
    let started = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(started, 30, "{statuses:?}");
    assert_eq!(statuses[34], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.db.rows("google_sign_ins"), 30);
}
