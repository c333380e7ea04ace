//! The members page: roles as the table of powers says, removal, leaving, and a workspace that
//! always keeps an owner.

use crate::harness::{Browser, TestApp, all_at_once, location, texts, unique_email};
use crate::invitations::{app_with_mail, joined};
use reqwest::StatusCode;

/// The id of `email`'s row on the members page `browser` sees.
pub async fn member_id(browser: &Browser, email: &str) -> String {
    let html = browser.page("/settings/members").await;
    let page = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("tr.member").unwrap();
    page.select(&rows)
        .find(|row| row.text().collect::<String>().contains(email))
        .and_then(|row| row.value().attr("data-user-id"))
        .unwrap_or_else(|| panic!("{email} is not listed"))
        .to_owned()
}

pub async fn set_role(browser: &Browser, id: &str, role: &str) -> reqwest::Response {
    browser
        .submit(
            "/settings/members",
            &format!("/settings/members/{id}/role"),
            &[("role", role)],
        )
        .await
}

async fn remove(browser: &Browser, id: &str) -> reqwest::Response {
    browser
        .submit(
            "/settings/members",
            &format!("/settings/members/{id}/remove"),
            &[],
        )
        .await
}

/// How many hold `role` in the workspace named `workspace`.
fn role_count(app: &TestApp, workspace: &str, role: &str) -> i64 {
    app.db.count_as_admin(&format!(
        "SELECT COUNT(*) AS n FROM memberships m JOIN workspaces w ON w.id = m.workspace_id \
         WHERE w.name = '{workspace}' AND m.role = '{role}'"
    ))
}

#[tokio::test]
async fn roles_change_as_the_table_of_powers_allows() {
    let (app, mailbox) = app_with_mail().await;
    let owner_email = unique_email("owner");
    let owner = app.browser();
    owner.sign_up(&owner_email, "Team").await;
    let (admin, admin_email) = joined(&app, &mailbox, &owner, "admin").await;
    let (member, member_email) = joined(&app, &mailbox, &owner, "member").await;

    // Addresses carry their break points (`<wbr>`); the text is what counts.
    let page = member.page("/settings/members").await.replace("<wbr>", "");
    assert!(page.contains(&owner_email) && page.contains(&member_email));
    assert!(
        !page.contains("/remove\""),
        "a member sees no remove buttons"
    );
    let owner_id = member_id(&member, &owner_email).await;
    let admin_email_id = member_id(&member, &admin_email).await;
    let member_id_ = member_id(&owner, &member_email).await;

    // A member changes nobody.
    assert_eq!(
        set_role(&member, &admin_email_id, "member").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        remove(&member, &admin_email_id).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_role(&member, &member_id_, "admin").await.status(),
        StatusCode::FORBIDDEN
    );
    // Not even a "change" to the role someone already holds.
    for (id, role) in [(&owner_id, "owner"), (&admin_email_id, "admin")] {
        assert_eq!(
            set_role(&member, id, role).await.status(),
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
    assert!(
        texts(&member.page("/settings/members").await, ".flash").is_empty(),
        "and no message says it was done"
    );

    // An admin manages those below owner, and no owner.
    assert_eq!(
        set_role(&admin, &member_id_, "admin").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        set_role(&admin, &member_id_, "member").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        set_role(&admin, &member_id_, "owner").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_role(&admin, &owner_id, "admin").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        remove(&admin, &owner_id).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(role_count(&app, "Team", "owner"), 1);
    assert_eq!(role_count(&app, "Team", "admin"), 1);

    // An owner makes and unmakes owners.
    assert_eq!(
        set_role(&owner, &member_id_, "owner").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        set_role(&owner, &member_id_, "member").await.status(),
        StatusCode::SEE_OTHER
    );
    let bad = set_role(&owner, &member_id_, "superuser").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        set_role(&owner, "usr_nobody", "admin").await.status(),
        StatusCode::NOT_FOUND
    );

    // Removing: the admin removes the member, whose session in this workspace ends with it.
    let removed = remove(&admin, &member_id_).await;
    assert_eq!(location(removed.headers()), "/settings/members");
    let said = texts(&admin.page("/settings/members").await, ".flash");
    assert_eq!(said.len(), 1);
    assert!(
        said[0].ends_with("was removed from the workspace; the API keys they made were revoked.")
    );
    assert!(
        texts(&admin.page("/settings/members").await, ".flash").is_empty(),
        "the message shows once"
    );
    assert_eq!(
        member.get("/settings/members").await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(
        !owner
            .page("/settings/members")
            .await
            .contains(&member_email)
    );
}

#[tokio::test]
async fn the_last_owner_stays() {
    let (app, mailbox) = app_with_mail().await;
    let owner_email = unique_email("sole");
    let owner = app.browser();
    owner.sign_up(&owner_email, "Solo").await;
    let own = member_id(&owner, &owner_email).await;
    let demoted = set_role(&owner, &own, "admin").await;
    assert_eq!(demoted.status(), StatusCode::CONFLICT);
    assert!(
        demoted
            .text()
            .await
            .unwrap()
            .contains("always keeps an owner")
    );
    let left = owner
        .submit("/settings/members", "/settings/members/leave", &[])
        .await;
    assert_eq!(left.status(), StatusCode::CONFLICT);
    assert_eq!(role_count(&app, "Solo", "owner"), 1);

    // With a second owner, the first may step down, or leave.
    let (second, _) = joined(&app, &mailbox, &owner, "owner").await;
    assert_eq!(
        set_role(&owner, &own, "admin").await.status(),
        StatusCode::SEE_OTHER
    );
    let left = second
        .submit("/settings/members", "/settings/members/leave", &[])
        .await;
    assert_eq!(
        left.status(),
        StatusCode::CONFLICT,
        "now the second is the last owner"
    );
    let left = owner
        .submit("/settings/members", "/settings/members/leave", &[])
        .await;
    assert_eq!(location(left.headers()), "/dashboard");
    // The one who left is in a workspace of their own now.
    let dashboard = owner.page("/dashboard").await;
    assert_eq!(texts(&dashboard, ".flash"), vec!["You left Solo."]);
    assert_ne!(texts(&dashboard, "main h1"), vec!["Solo"]);
    assert!(
        !texts(&dashboard, ".switcher li").concat().contains("Solo"),
        "the switcher no longer offers it"
    );
}

#[actix_web::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let (app, mailbox) = app_with_mail().await;
    let first_email = unique_email("first");
    let first = app.browser();
    first.sign_up(&first_email, "Duel").await;
    let (second, second_email) = joined(&app, &mailbox, &first, "owner").await;
    let first_id = member_id(&first, &first_email).await;
    let second_id = member_id(&first, &second_email).await;
    let owners_of_duel = || role_count(&app, "Duel", "owner");
    let first = std::rc::Rc::new(first);
    let second = std::rc::Rc::new(second);
    for _ in 0..5 {
        let token_first = first.csrf("/settings/members").await;
        let token_second = second.csrf("/settings/members").await;
        let moves = [
            (first.clone(), second_id.clone(), token_first),
            (second.clone(), first_id.clone(), token_second),
        ];
        let statuses = all_at_once(
            moves
                .into_iter()
                .map(|(browser, target, token)| async move {
                    browser
                        .post_form(
                            &format!("/settings/members/{target}/role"),
                            &[("role", "admin"), ("csrf_token", &token)],
                        )
                        .await
                        .status()
                }),
        )
        .await;
        assert_eq!(owners_of_duel(), 1, "{statuses:?}");
        assert!(statuses.contains(&StatusCode::SEE_OTHER), "{statuses:?}");
        // Both owners again, for the next round.
        app.db.execute_as_admin(
            "UPDATE memberships SET role = 'owner' WHERE workspace_id IN \
             (SELECT id FROM workspaces WHERE name = 'Duel')",
        );
    }
}
