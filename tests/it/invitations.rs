//! Invitations: sent by email from the members page, accepted by a new person (who signs up
//! with the invited address) or an existing user (who signs in as it), usable once, for seven
//! days, revocable and replaced when sent again.

use crate::harness::{
    Browser, PASSWORD, TestApp, all_at_once, csrf_in, location, texts, unique_email,
};
use crate::mailbox::Mailbox;
use reqwest::StatusCode;

/// A server whose mail goes to a real SMTP server the test reads.
pub async fn app_with_mail() -> (TestApp, Mailbox) {
    let mailbox = Mailbox::start();
    let app = TestApp::spawn_with(|vars| mailbox.configure(vars)).await;
    (app, mailbox)
}

/// An owner in a workspace of their own, named `workspace`.
async fn owner(app: &TestApp, workspace: &str) -> (Browser, String) {
    let email = unique_email("owner");
    let browser = app.browser();
    assert_eq!(
        browser.sign_up(&email, workspace).await.status(),
        StatusCode::SEE_OTHER
    );
    (browser, email)
}

pub async fn invite(browser: &Browser, email: &str, role: &str) -> reqwest::Response {
    browser
        .submit(
            "/settings/members",
            "/settings/members/invitations",
            &[("email", email), ("role", role)],
        )
        .await
}

/// A new person follows the link and signs up through it.
pub async fn sign_up_through(app: &TestApp, link: &str) -> Browser {
    let browser = app.browser();
    let page = browser.get(link).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let token = link.split("token=").nth(1).unwrap();
    let joined = browser
        .post_form(
            "/invitation/sign-up",
            &[
                ("token", token),
                ("password", PASSWORD),
                ("csrf_token", &csrf_in(&html)),
            ],
        )
        .await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(joined.headers()), "/dashboard");
    browser
}

/// Someone new, invited by `inviter` with `role` and signed up through the emailed link: a
/// member of the inviter's current workspace and of no other. Answers their browser and email.
pub async fn joined(
    app: &TestApp,
    mailbox: &Mailbox,
    inviter: &Browser,
    role: &str,
) -> (Browser, String) {
    let email = unique_email(role);
    assert_eq!(
        invite(inviter, &email, role).await.status(),
        StatusCode::SEE_OTHER
    );
    let link = mailbox.link(&email, "/invitation", 1).await;
    (sign_up_through(app, &link).await, email)
}

/// A signed-in browser accepts the invitation behind `link`.
pub async fn accept(browser: &Browser, link: &str) -> reqwest::Response {
    let token = link.split("token=").nth(1).unwrap();
    // The session's token, from a page that always has one (a spent link's page has no form).
    browser
        .submit("/dashboard", "/invitation/accept", &[("token", token)])
        .await
}

fn role_of(app: &TestApp, email: &str, workspace: &str) -> Vec<String> {
    let n = |role: &str| {
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id \
             JOIN workspaces w ON w.id = m.workspace_id \
             WHERE u.email = '{email}' AND w.name = '{workspace}' AND m.role = '{role}'"
        ))
    };
    ["owner", "admin", "member"]
        .into_iter()
        .filter(|r| n(r) == 1)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_new_person_signs_up_through_the_link_verified_and_the_link_works_once() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let newcomer = unique_email("newcomer");
    let sent = invite(&owner, &newcomer, "admin").await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let listed = owner.page("/settings/members").await;
    assert!(
        texts(&listed, "tr.invitation")
            .iter()
            .any(|t| t.contains(&newcomer))
    );

    let link = mailbox.link(&newcomer, "/invitation", 1).await;
    let page = app.browser().get(&link).await.text().await.unwrap();
    assert!(page.contains("Acme") && page.contains(&newcomer), "{page}");
    let browser = sign_up_through(&app, &link).await;
    let dashboard = browser.dashboard().await;
    assert!(
        dashboard.contains("Acme"),
        "they are in the invited workspace"
    );
    assert!(
        !dashboard.contains("not confirmed yet"),
        "the click verified the address"
    );
    assert_eq!(role_of(&app, &newcomer, "Acme"), ["admin"]);
    // They joined the one workspace; no other was made for them.
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE u.email = '{newcomer}'"
        )),
        1
    );

    let again = app.browser().get(&link).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("already been accepted")
    );
    let pending = owner.page("/settings/members").await;
    assert!(
        texts(&pending, "tr.invitation").is_empty(),
        "no longer pending"
    );
}

#[tokio::test]
async fn an_existing_user_signs_in_as_the_invited_address_and_joins() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let (existing, email) = {
        let email = unique_email("existing");
        let browser = app.browser();
        browser.sign_up(&email, "Their own").await;
        (browser, email)
    };
    existing.log_out().await;
    assert_eq!(
        invite(&owner, &email, "member").await.status(),
        StatusCode::SEE_OTHER
    );
    let link = mailbox.link(&email, "/invitation", 1).await;

    let anonymous = existing.get(&link).await.text().await.unwrap();
    assert!(anonymous.contains("Sign in to join"), "{anonymous}");
    assert!(!anonymous.contains("/invitation/sign-up"));
    existing.log_in(&email, PASSWORD).await;
    let signed_in = existing.get(&link).await.text().await.unwrap();
    assert!(signed_in.contains("/invitation/accept"), "{signed_in}");
    let joined = accept(&existing, &link).await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(role_of(&app, &email, "Acme"), ["member"]);
    assert_eq!(role_of(&app, &email, "Their own"), ["owner"]);
    let dashboard = existing.dashboard().await;
    assert!(dashboard.contains("Their own"), "the switcher lists both");
    assert_eq!(accept(&existing, &link).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_link_opened_by_someone_signed_in_as_another_address_joins_nobody() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let invited = unique_email("invited");
    invite(&owner, &invited, "admin").await;
    let link = mailbox.link(&invited, "/invitation", 1).await;
    let (stranger, stranger_email) = {
        let email = unique_email("stranger");
        let browser = app.browser();
        browser.sign_up(&email, "Elsewhere").await;
        (browser, email)
    };
    let page = stranger.get(&link).await.text().await.unwrap();
    assert!(page.contains("Sign out"), "{page}");
    // Signed in, the page keeps their own navigation, with their workspace marked.
    assert_eq!(
        texts(&page, ".switcher [aria-current]"),
        vec!["Elsewhere (owner, current)"]
    );
    let refused = accept(&stranger, &link).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(role_of(&app, &stranger_email, "Acme").is_empty());
    // The invitation is still there for its rightful owner.
    sign_up_through(&app, &link).await;
    assert_eq!(role_of(&app, &invited, "Acme"), ["admin"]);
}

#[tokio::test]
async fn revoked_replaced_and_expired_links_say_so_and_join_nobody() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let invited = unique_email("invited");
    invite(&owner, &invited, "member").await;
    let first = mailbox.link(&invited, "/invitation", 1).await;
    let id = |html: &str| {
        let doc = scraper::Html::parse_document(html);
        let rows = scraper::Selector::parse("tr.invitation").unwrap();
        doc.select(&rows)
            .next()
            .and_then(|r| r.value().attr("data-invitation-id"))
            .map(str::to_owned)
            .expect("an open invitation")
    };
    // Inviting the same address again is refused while one is open.
    assert_eq!(
        invite(&owner, &invited, "member").await.status(),
        StatusCode::CONFLICT
    );

    let invitation = id(&owner.page("/settings/members").await);
    let resent = owner
        .submit(
            "/settings/members",
            &format!("/settings/members/invitations/{invitation}/resend"),
            &[],
        )
        .await;
    assert_eq!(resent.status(), StatusCode::SEE_OTHER);
    let second = mailbox.link(&invited, "/invitation", 2).await;
    assert_ne!(first, second);
    let replaced = app.browser().get(&first).await;
    assert_eq!(
        replaced.status(),
        StatusCode::NOT_FOUND,
        "the old link is replaced"
    );
    assert!(replaced.text().await.unwrap().contains("newer one"));

    let revoked = owner
        .submit(
            "/settings/members",
            &format!("/settings/members/invitations/{invitation}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let gone = app.browser().get(&second).await;
    assert_eq!(gone.status(), StatusCode::GONE);
    assert!(gone.text().await.unwrap().contains("revoked"));

    let later = unique_email("later");
    invite(&owner, &later, "member").await;
    let link = mailbox.link(&later, "/invitation", 1).await;
    app.db.execute_as_admin(&format!(
        "UPDATE invitations SET expires_at = 1 WHERE email = '{later}'"
    ));
    let expired = app.browser().get(&link).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    assert!(expired.text().await.unwrap().contains("expired"));
    let token = link.split("token=").nth(1).unwrap();
    let browser = app.browser();
    let csrf = browser.csrf("/login").await;
    let refused = browser
        .post_form(
            "/invitation/sign-up",
            &[
                ("token", token),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::GONE);
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM users WHERE email = '{later}'"
        )),
        0,
        "no account was made"
    );
    assert_eq!(
        app.browser()
            .get("/invitation?token=nonsense")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn two_clicks_on_one_link_at_once_make_one_member() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let invited = unique_email("racer");
    invite(&owner, &invited, "member").await;
    let link = mailbox.link(&invited, "/invitation", 1).await;
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let mut forms = Vec::new();
    for _ in 0..4 {
        let browser = app.browser();
        let html = browser.get(&link).await.text().await.unwrap();
        forms.push((browser, csrf_in(&html)));
    }
    let answers = all_at_once(forms.into_iter().map(|(browser, csrf)| {
        let token = token.clone();
        async move {
            browser
                .post_form(
                    "/invitation/sign-up",
                    &[
                        ("token", token.as_str()),
                        ("password", PASSWORD),
                        ("csrf_token", csrf.as_str()),
                    ],
                )
                .await
                .status()
        }
    }))
    .await;
    let joined = answers
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(joined, 1, "{answers:?}");
    // The others are refused plainly: the link is spent (410), or the password hashes waiting
    // are at their bound (503, by design); never a failure of the server.
    assert!(
        answers
            .iter()
            .all(|s| [303, 410, 503].contains(&s.as_u16())),
        "{answers:?}"
    );
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM users WHERE email = '{invited}'"
        )),
        1
    );
}

#[tokio::test]
async fn who_may_invite_with_which_role_follows_the_table_of_powers() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let admin_email = unique_email("admin");
    invite(&owner, &admin_email, "admin").await;
    let admin = sign_up_through(&app, &mailbox.link(&admin_email, "/invitation", 1).await).await;
    let member_email = unique_email("member");
    invite(&admin, &member_email, "member").await;
    let member = sign_up_through(&app, &mailbox.link(&member_email, "/invitation", 1).await).await;

    // An admin invites admins and members, never owners; a member invites nobody.
    assert_eq!(
        invite(&admin, &unique_email("a"), "admin").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        invite(&admin, &unique_email("o"), "owner").await.status(),
        StatusCode::FORBIDDEN
    );
    let members_page = member.page("/settings/members").await;
    assert!(
        !members_page.contains("/settings/members/invitations\""),
        "no invite form"
    );
    let csrf = csrf_in(&members_page);
    let refused = member
        .post_form(
            "/settings/members/invitations",
            &[
                ("email", &unique_email("x")),
                ("role", "member"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        invite(&owner, &unique_email("o"), "owner").await.status(),
        StatusCode::SEE_OTHER
    );
    // Inviting a member again is refused plainly.
    assert_eq!(
        invite(&owner, &member_email, "admin").await.status(),
        StatusCode::CONFLICT
    );
    // Bad input changes nothing.
    for (email, role) in [("not an email", "member"), ("ok@example.com", "root")] {
        assert_eq!(
            invite(&owner, email, role).await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(app.db.rows("invitations"), 4);
}

#[tokio::test]
async fn one_address_gets_at_most_five_invitations_an_hour() {
    let (app, mailbox) = app_with_mail().await;
    let (owner, _) = owner(&app, "Acme").await;
    let invited = unique_email("flooded");
    let open_id = || {
        app.db.first_text_as_admin(&format!(
            "SELECT id AS v FROM invitations WHERE email = '{invited}' AND revoked_at IS NULL"
        ))
    };
    for n in 1..=5 {
        assert_eq!(
            invite(&owner, &invited, "member").await.status(),
            StatusCode::SEE_OTHER,
            "invitation {n}"
        );
        mailbox.link(&invited, "/invitation", n).await;
        let revoke = format!("/settings/members/invitations/{}/revoke", open_id());
        let revoked = owner.submit("/settings/members", &revoke, &[]).await;
        assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    }
    // The same address in another spelling is the same address.
    let shouted = invited.to_uppercase();
    let refused = invite(&owner, &shouted, "member").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "3600");
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Too many invitations")
    );
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM invitations WHERE email = '{invited}'"
        )),
        5,
        "the refused one was not made"
    );
    let sent = mailbox
        .messages()
        .iter()
        .filter(|m| m.to_lowercase().contains(&format!("to: {invited}")))
        .count();
    assert_eq!(sent, 5, "nor sent");
}
