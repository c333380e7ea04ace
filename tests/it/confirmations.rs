//! Destructive actions ask first: each has a confirmation page at its own address (GET asks,
//! POST does it), which changes nothing by being shown, finds only the viewer's own things, and
//! is refused to roles that may not act. Afterwards the next page says what happened, once.

use crate::harness::{
    ApiClient, Browser, TestApp, attr_of, json, location, texts, unique_email, without_last4,
};
use crate::invitations::{app_with_mail, invite, joined};
use crate::members::member_id;
use crate::roles::connect_sandbox;
use reqwest::StatusCode;

/// The first `data-*` id on `path`'s rows matching `css`.
async fn row_id(browser: &Browser, path: &str, css: &str, attr: &str) -> String {
    attr_of(&browser.page(path).await, css, attr)
}

/// The id of the first key on the keys page `browser` sees.
async fn key_row_id(browser: &Browser) -> String {
    row_id(
        browser,
        "/settings/api-keys",
        "tr[data-key-id]",
        "data-key-id",
    )
    .await
}

/// What the service holds that a confirmation must not touch, counted.
fn holdings(app: &TestApp) -> Vec<i64> {
    [
        "api_keys WHERE revoked_at IS NULL",
        "memberships",
        "invitations WHERE revoked_at IS NULL",
        "connected_accounts",
        "sessions",
        "audit_events",
    ]
    .iter()
    .map(|table| {
        app.db
            .count_as_admin(&format!("SELECT COUNT(*) AS n FROM {table}"))
    })
    .collect()
}

#[actix_web::test]
async fn every_destructive_action_asks_first_and_asking_changes_nothing() {
    let (app, mailbox) = app_with_mail().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Careful Co").await;
    let key = owner.create_key("CI deploys", "live", &[]).await;
    let (member, member_email) = joined(&app, &mailbox, &owner, "member").await;
    let pending = unique_email("pending");
    assert_eq!(
        invite(&owner, &pending, "admin").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        connect_sandbox(&owner, "careful").await.0,
        StatusCode::SEE_OTHER
    );

    let key_id = key_row_id(&owner).await;
    let user_id = member_id(&owner, &member_email).await;
    let invitation = row_id(
        &owner,
        "/settings/members",
        "tr.invitation",
        "data-invitation-id",
    )
    .await;
    let account = row_id(
        &owner,
        "/settings/accounts",
        "tr.account",
        "data-account-id",
    )
    .await;
    let session = row_id(
        &owner,
        "/settings/security",
        "tr.session",
        "data-session-id",
    )
    .await;

    let before = holdings(&app);
    let asks: Vec<(String, String)> = vec![
        (
            format!("/settings/api-keys/{key_id}/revoke"),
            "Revoke the key \u{201c}CI deploys\u{201d}?".into(),
        ),
        (
            format!("/settings/api-keys/{key_id}/roll"),
            "Roll the key \u{201c}CI deploys\u{201d}?".into(),
        ),
        (
            format!("/settings/members/{user_id}/remove"),
            format!("Remove {member_email} from the workspace?"),
        ),
        (
            format!("/settings/members/invitations/{invitation}/revoke"),
            format!("Revoke the invitation to {pending}?"),
        ),
        (
            format!("/settings/accounts/{account}/disconnect"),
            "Disconnect @careful on Sandbox?".into(),
        ),
        (
            format!("/settings/security/sessions/{session}/end"),
            "End the session on ".into(),
        ),
        (
            "/settings/security/sign-out-everywhere".into(),
            "Sign out everywhere?".into(),
        ),
    ];
    for (path, question) in &asks {
        let html = owner.page(path).await;
        let heading = texts(&html, "main h1");
        assert_eq!(heading.len(), 1, "{path}");
        assert!(
            heading[0].starts_with(question.as_str()),
            "{path}: {heading:?}"
        );
        // The page's own form posts to the same address, with the session's token.
        assert_eq!(attr_of(&html, "#confirm-page-form", "action"), *path);
        assert!(!attr_of(&html, "#confirm-page-form input[name=csrf_token]", "value").is_empty());
        // Cancel leads back, and the page keeps the settings navigation.
        assert!(!attr_of(&html, "main a.secondary", "href").ends_with(path.as_str()));
        assert_eq!(texts(&html, "nav[aria-label=Settings]").len(), 1, "{path}");
    }
    // Leaving is asked of someone who may leave (the only owner may not).
    let html = member.page("/settings/members/leave").await;
    assert_eq!(texts(&html, "main h1"), vec!["Leave Careful Co?"]);
    assert_eq!(
        attr_of(&html, "#confirm-page-form", "action"),
        "/settings/members/leave"
    );
    assert_eq!(holdings(&app), before, "asking changed nothing");
    let api = ApiClient::new(&app.base, &key);
    assert_eq!(json(api.get("/v1/status")).await.0, StatusCode::OK);

    // Rolling asks how long the old key lives on.
    let roll = owner
        .page(&format!("/settings/api-keys/{key_id}/roll"))
        .await;
    assert_eq!(
        attr_of(&roll, "#confirm-page-form input[name=grace_hours]", "max"),
        "168"
    );

    // Confirming does it, and the next page says so once.
    let done = owner
        .submit(
            &format!("/settings/accounts/{account}/disconnect"),
            &format!("/settings/accounts/{account}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(done.headers()), "/settings/accounts");
    let html = owner.page("/settings/accounts").await;
    assert_eq!(
        texts(&html, ".flash"),
        vec!["Disconnected @careful on Sandbox."]
    );
    assert!(texts(&html, "tr.account").is_empty());
    assert!(
        texts(&owner.page("/settings/accounts").await, ".flash").is_empty(),
        "the message is shown once"
    );

    let page = format!("/settings/members/invitations/{invitation}/revoke");
    let done = owner.submit(&page, &page, &[]).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        texts(&owner.page("/settings/members").await, ".flash"),
        vec![format!(
            "The invitation to {pending} was revoked: its link no longer works."
        )]
    );
}

#[actix_web::test]
async fn confirmations_find_only_ones_own_things_and_only_for_those_who_may_act() {
    let (app, mailbox) = app_with_mail().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Mine").await;
    owner.create_key("mine", "live", &[]).await;
    let (member, member_email) = joined(&app, &mailbox, &owner, "member").await;
    let owner_id = row_id(&owner, "/settings/members", "tr.member", "data-user-id").await;

    // Another workspace, with a key, a member, an invitation, an account and a session.
    let stranger = app.browser();
    stranger.sign_up(&unique_email("stranger"), "Theirs").await;
    stranger.create_key("theirs", "live", &[]).await;
    let (_, their_member) = joined(&app, &mailbox, &stranger, "admin").await;
    invite(&stranger, &unique_email("their-pending"), "member").await;
    connect_sandbox(&stranger, "theirs").await;
    let ids = [
        key_row_id(&stranger).await,
        member_id(&stranger, &their_member).await,
        row_id(
            &stranger,
            "/settings/members",
            "tr.invitation",
            "data-invitation-id",
        )
        .await,
        row_id(
            &stranger,
            "/settings/accounts",
            "tr.account",
            "data-account-id",
        )
        .await,
        row_id(
            &stranger,
            "/settings/security",
            "tr.session",
            "data-session-id",
        )
        .await,
    ];
    let theirs = [
        format!("/settings/api-keys/{}", ids[0]),
        format!("/settings/api-keys/{}/revoke", ids[0]),
        format!("/settings/api-keys/{}/roll", ids[0]),
        format!("/settings/members/{}/remove", ids[1]),
        format!("/settings/members/invitations/{}/revoke", ids[2]),
        format!("/settings/accounts/{}/disconnect", ids[3]),
        format!("/settings/security/sessions/{}/end", ids[4]),
        "/settings/api-keys/key_nonexistent/revoke".to_owned(),
        "/settings/api-keys/%E2%80%AEkey/roll".to_owned(),
        "/settings/security/google/unlink?issuer=https://accounts.google.com".to_owned(),
    ];
    let before = holdings(&app);
    for path in &theirs {
        let answer = owner.get(path).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
        let html = answer.text().await.unwrap();
        assert!(
            !html.contains("Theirs") && !html.contains("theirs"),
            "{path}"
        );
    }

    // A member may not ask to do what only owners and admins do.
    let own_key = key_row_id(&owner).await;
    for path in [
        format!("/settings/api-keys/{own_key}"),
        format!("/settings/api-keys/{own_key}/revoke"),
        format!("/settings/api-keys/{own_key}/roll"),
        format!("/settings/members/{owner_id}/remove"),
    ] {
        assert_eq!(
            member.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Nobody is asked to remove themselves (that is leaving).
    let own = member_id(&member, &member_email).await;
    assert_eq!(
        member
            .get(&format!("/settings/members/{own}/remove"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Signed out, a confirmation leads to signing in and back.
    let visitor = Browser::new(&app.base);
    let answer = visitor
        .get(&format!("/settings/api-keys/{own_key}/revoke"))
        .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(location(answer.headers()).starts_with("/login?next="));
    assert_eq!(holdings(&app), before, "nothing changed");

    // A key revoked already has nothing left to confirm: its own page says so.
    let revoke = format!("/settings/api-keys/{own_key}/revoke");
    assert_eq!(
        owner.submit(&revoke, &revoke, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let again = owner.get(&revoke).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(again.headers()),
        format!("/settings/api-keys/{own_key}")
    );
    // Revoking it again changes nothing, and the message says so.
    assert_eq!(
        owner
            .submit("/settings/api-keys", &revoke, &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        texts(&owner.page("/settings/api-keys").await, ".flash")
            .iter()
            .map(|m| without_last4(m))
            .collect::<Vec<_>>(),
        vec!["Key \u{201c}mine\u{201d} (sk_live_…) was revoked already."]
    );
}

#[actix_web::test]
async fn ids_with_padding_are_not_found_and_a_message_waits_for_a_real_page() {
    let (app, mailbox) = app_with_mail().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Padded").await;
    let key = owner.create_key("padded", "live", &[]).await;
    let (_, member_email) = joined(&app, &mailbox, &owner, "member").await;
    let key_id = key_row_id(&owner).await;
    let user_id = member_id(&owner, &member_email).await;

    for pad in ["%20", "%09", "%0A", "%C2%A0", "%E2%80%8B"] {
        for path in [
            format!("/settings/api-keys/{key_id}{pad}/revoke"),
            format!("/settings/api-keys/{pad}{key_id}/roll"),
            format!("/settings/members/{user_id}{pad}/remove"),
        ] {
            assert_eq!(
                owner.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
            let posted = owner
                .submit("/settings/api-keys", &path, &[("grace_hours", "0")])
                .await;
            assert_eq!(posted.status(), StatusCode::NOT_FOUND, "POST {path}");
        }
    }
    let api = ApiClient::new(&app.base, &key);
    assert_eq!(json(api.get("/v1/status")).await.0, StatusCode::OK);
    assert_eq!(app.db.rows("memberships"), 2);

    // Pages name their icon, and a page that does not exist leaves the last change's message
    // for the next page the person sees.
    let html = owner.page("/dashboard").await;
    let icon = attr_of(&html, "link[rel=icon]", "href");
    let served = owner.get(&icon).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(
        served.headers().get("content-type").unwrap(),
        "image/svg+xml"
    );
    let revoke = format!("/settings/api-keys/{key_id}/revoke");
    owner.submit(&revoke, &revoke, &[]).await;
    let missing = owner.get("/favicon.ico").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let missing = missing.text().await.unwrap();
    assert!(texts(&missing, ".flash").is_empty(), "{missing}");
    assert_eq!(
        texts(&missing, ".switcher [aria-current]").len(),
        1,
        "the 404 keeps the navigation"
    );
    assert_eq!(
        texts(&owner.page("/settings/api-keys").await, ".flash")
            .iter()
            .map(|m| without_last4(m))
            .collect::<Vec<_>>(),
        vec!["Key \u{201c}padded\u{201d} (sk_live_…) revoked."]
    );
}

#[actix_web::test]
async fn the_only_owner_is_told_before_asking_to_leave() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Solo").await;
    let page = owner.page("/settings/members").await;
    assert!(texts(&page, "a[href='/settings/members/leave']").is_empty());
    assert_eq!(
        texts(&page, ".last-owner"),
        vec![
            "You are this workspace's only owner: make someone else an owner before you leave it."
        ]
    );
    let asked = owner.get("/settings/members/leave").await;
    assert_eq!(asked.status(), StatusCode::CONFLICT);
    let asked = asked.text().await.unwrap();
    assert!(
        texts(&asked, "#confirm-page-form").is_empty(),
        "no button to press"
    );
    assert_eq!(texts(&asked, ".error").len(), 1);
    assert_eq!(app.db.rows("memberships"), 1);
}

#[actix_web::test]
async fn rolling_through_its_confirmation_shows_the_new_key_once_and_says_so() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Rolling").await;
    let old = owner.create_key("deploys", "test", &[]).await;
    let key_id = key_row_id(&owner).await;
    let page = format!("/settings/api-keys/{key_id}/roll");

    for bad in ["", "-1", "169", "1e3", "\u{202e}5"] {
        let answer = owner.submit(&page, &page, &[("grace_hours", bad)]).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let rolled = owner.submit(&page, &page, &[("grace_hours", "0")]).await;
    assert_eq!(rolled.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(rolled.headers()), "/settings/api-keys");
    let shown = owner.get("/settings/api-keys").await;
    assert_eq!(
        shown.headers().get("cache-control").unwrap(),
        "no-store",
        "the page holds the new key"
    );
    let html = shown.text().await.unwrap();
    let new = attr_of(&html, "#new-key", "value");
    assert!(new.starts_with("sk_test_") && new != old);
    assert_eq!(
        texts(&html, ".flash"),
        vec![format!(
            "Key \u{201c}deploys\u{201d} rolled: the new key, sk_test_…{}, is below; the old \
                 one has stopped working.",
            &new[new.len() - 4..]
        )]
    );
    assert!(texts(&html, "#next-curl")[0].contains("sk_test_"));
    assert_eq!(
        json(ApiClient::new(&app.base, &old).get("/v1/status"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        json(ApiClient::new(&app.base, &new).get("/v1/status"))
            .await
            .0,
        StatusCode::OK
    );
    let later = owner.page("/settings/api-keys").await;
    assert!(!later.contains(&new), "shown once");
    assert!(texts(&later, ".flash").is_empty());
}
