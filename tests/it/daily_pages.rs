//! The pages as a person uses them day to day, in headless Chromium at phone and desktop
//! width: menus that stay on screen, forms that keep what was typed and say what is wrong where
//! it is wrong.

use crate::browser::{ChromeDriver, click, click_to, fill, signed_in_browser, text, wait_for};
use crate::harness::{PASSWORD, TestApp, attr_of, texts, unique_email};
use crate::page_checks::{PHONE, WIDE, check_page, viewport};
use fantoccini::{Client, Locator};

async fn value(browser: &Client, script: &str) -> serde_json::Value {
    browser.execute(script, vec![]).await.unwrap()
}

async fn goto(browser: &Client, app: &TestApp, path: &str) {
    browser.goto(&format!("{}{path}", app.base)).await.unwrap();
}

/// Where an element is on the screen: left, right, top, in CSS pixels.
async fn rect(browser: &Client, css: &str) -> (f64, f64, f64) {
    let found = value(
        browser,
        &format!(
            "const r = document.querySelector({css:?}).getBoundingClientRect(); \
             return [r.left, r.right, r.top];"
        ),
    )
    .await;
    let n = |i: usize| found[i].as_f64().unwrap();
    (n(0), n(1), n(2))
}

#[actix_web::test]
async fn the_workspace_switcher_stays_on_screen_and_the_header_keeps_to_two_rows() {
    let app = TestApp::spawn().await;
    let email = unique_email("switcher");
    let long = "Northwind Trading Company International Holdings and Subsidiaries \
                Worldwide Operations Division";
    let unbroken = "Averyveryveryveryveryveryveryveryveryveryverylongsinglewordworkspacename";
    let owner = app.browser();
    owner.sign_up(&email, long).await;
    owner
        .submit("/dashboard", "/workspaces", &[("name", unbroken)])
        .await;

    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &app, &email).await;
    for width in [PHONE, WIDE] {
        viewport(&browser, width).await;
        goto(&browser, &app, "/dashboard").await;
        browser
            .find(Locator::Css(".menu.switcher summary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let (left, right, _) = rect(&browser, ".menu.switcher .menu-body").await;
        let inner = f64::from(width);
        assert!(
            left >= 0.0 && right <= inner,
            "at {width} px the menu spans {left}..{right}"
        );
        let scroll = value(&browser, "return document.documentElement.scrollWidth;").await;
        assert!(
            scroll.as_f64().unwrap() <= inner,
            "at {width} px the page scrolls sideways ({scroll})"
        );
        // Every workspace name is in the menu whole, wrapped within it.
        let items = value(
            &browser,
            "return [...document.querySelectorAll('.menu.switcher .menu-body li > *')] \
             .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right, \
             e.scrollWidth <= e.clientWidth]; });",
        )
        .await;
        let items = items.as_array().unwrap();
        assert_eq!(items.len(), 2);
        for item in items {
            let (l, r) = (item[0].as_f64().unwrap(), item[1].as_f64().unwrap());
            assert!(l >= left && r <= right, "{l}..{r} in {left}..{right}");
            assert_eq!(item[2], true, "nothing runs out of its item");
        }
        let menu_text = value(
            &browser,
            "return document.querySelector('.menu.switcher .menu-body').innerText;",
        )
        .await;
        for name in [long, unbroken] {
            let flat = menu_text
                .as_str()
                .unwrap()
                .split_whitespace()
                .collect::<String>();
            assert!(flat.contains(&name.split_whitespace().collect::<String>()));
        }
        // Two rows at most: the brand's and the menus' (which may be the same).
        let (_, _, switcher) = rect(&browser, ".menu.switcher summary").await;
        let (_, _, account) = rect(&browser, ".menu.account summary").await;
        assert!(
            (switcher - account).abs() < 1.0,
            "at {width} px the menus are on one row ({switcher}, {account})"
        );
        let header = value(
            &browser,
            "return document.querySelector('.top').getBoundingClientRect().height;",
        )
        .await
        .as_f64()
        .unwrap();
        let summary = value(
            &browser,
            "return document.querySelector('.menu.account summary').getBoundingClientRect().height;",
        )
        .await
        .as_f64()
        .unwrap();
        // Two rows of menus, the gap between them and the header's padding.
        assert!(
            header <= 2.0 * summary + 30.0,
            "at {width} px the header is {header} px tall (a row is {summary} px)"
        );
    }
    browser.close().await.unwrap();
}

async fn active_id(browser: &Client) -> String {
    value(browser, "return document.activeElement.id;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn input_value(browser: &Client, id: &str) -> String {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_refused_form_says_why_at_the_field_keeps_what_was_typed_and_focuses_it() {
    let app = TestApp::spawn().await;
    let email = unique_email("forms");
    app.browser().sign_up(&email, "Forms Co").await;
    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &app, &email).await;
    let too_long = "Quite a long name ".repeat(18);
    for width in [PHONE, WIDE] {
        viewport(&browser, width).await;
        goto(&browser, &app, "/dashboard").await;
        fill(&browser, "name", &too_long).await;
        click_to(&browser, "form[action='/workspaces'] button", "/workspaces").await;
        assert!(text(&browser, "#name-error").await.contains("100"));
        assert_eq!(
            active_id(&browser).await,
            "name",
            "the field in error has focus"
        );
        assert_eq!(
            input_value(&browser, "name").await,
            too_long,
            "nothing was cut"
        );
        check_page(&browser, "refused-workspace").await;
        viewport(&browser, width).await;

        // The key form: test mode and full access to begin with, said plainly; a restricted
        // key without a scope is refused at the choice, with the label kept.
        goto(&browser, &app, "/settings/api-keys").await;
        assert_eq!(input_value(&browser, "mode").await, "test");
        let scopes_shown =
            "return getComputedStyle(document.querySelector('.access ul.scopes')).display;";
        assert_eq!(value(&browser, scopes_shown).await, "none");
        click(&browser, "input[name='access'][value='restricted']").await;
        assert_eq!(value(&browser, scopes_shown).await, "block");
        fill(&browser, "label", "Deploys").await;
        // The same address before and after: wait for the answer's message itself.
        click(&browser, "#create-key button").await;
        wait_for(&browser, Locator::Id("access-error")).await;
        assert!(
            text(&browser, "#access-error")
                .await
                .contains("at least one scope")
        );
        assert_eq!(input_value(&browser, "label").await, "Deploys");
        let restricted = value(
            &browser,
            "return document.activeElement.name + '=' + document.activeElement.value;",
        )
        .await;
        assert_eq!(restricted, "access=restricted");
        check_page(&browser, "refused-key").await;
    }
    browser.close().await.unwrap();
}

#[actix_web::test]
async fn invitations_and_passwords_are_refused_at_their_fields() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    let email = unique_email("fields");
    owner.sign_up(&email, "Fields").await;
    let members = "/settings/members";
    let invite = "/settings/members/invitations";

    let refused = owner
        .submit(
            members,
            invite,
            &[("email", "not an address"), ("role", "admin")],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert_eq!(texts(&html, "#invite-email-error").len(), 1);
    assert_eq!(attr_of(&html, "#invite-email", "value"), "not an address");
    assert_eq!(attr_of(&html, "#invite-email", "aria-invalid"), "true");
    assert_eq!(
        attr_of(&html, "#invite-role option[selected]", "value"),
        "admin",
        "the role chosen is kept"
    );

    let refused = owner
        .submit(members, invite, &[("email", &email), ("role", "member")])
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::CONFLICT);
    let html = refused.text().await.unwrap();
    assert!(texts(&html, "#invite-email-error")[0].contains("member already"));
    assert_eq!(attr_of(&html, "#invite-email", "value"), email);

    let security = "/settings/security";
    let password = "/settings/security/password";
    let wrong = owner
        .submit(
            security,
            password,
            &[
                ("current_password", "not it at all"),
                ("new_password", "a fine new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), reqwest::StatusCode::BAD_REQUEST);
    let html = wrong.text().await.unwrap();
    assert_eq!(texts(&html, "#current_password-error").len(), 1);
    assert!(texts(&html, "#new_password-error").is_empty());
    assert!(
        !html.contains("not it at all") && !html.contains("a fine new passphrase"),
        "passwords are never shown again"
    );
    let short = owner
        .submit(
            security,
            password,
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    let html = short.text().await.unwrap();
    assert_eq!(texts(&html, "#new_password-error").len(), 1);
    assert_eq!(attr_of(&html, "#new_password", "autofocus"), "");
}

/// The id of the key whose plaintext is `key`, as the API tells it.
async fn key_id(app: &TestApp, key: &str) -> String {
    let (_, _, status) =
        crate::harness::json(crate::harness::ApiClient::new(&app.base, key).get("/v1/status"))
            .await;
    status["key"]["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_rolled_key_links_its_line_and_a_key_can_be_renamed_by_those_who_manage_keys() {
    let (app, mailbox) = crate::invitations::app_with_mail().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("lines"), "Lines").await;
    let old = owner.create_key("deploys", "test", &[]).await;
    let old_id = key_id(&app, &old).await;
    let rolled = owner
        .submit(
            &format!("/settings/api-keys/{old_id}"),
            &format!("/settings/api-keys/{old_id}/roll"),
            &[("grace_hours", "24")],
        )
        .await;
    assert_eq!(rolled.status(), reqwest::StatusCode::SEE_OTHER);
    let new = crate::harness::new_key_in(&owner.page("/settings/api-keys").await);
    let new_id = key_id(&app, &new).await;

    let page = owner.page(&format!("/settings/api-keys/{old_id}")).await;
    assert_eq!(
        attr_of(&page, "#replaced-by", "href"),
        format!("/settings/api-keys/{new_id}")
    );
    assert!(texts(&page, "#replaced-by")[0].ends_with(&format!("…{})", &new[new.len() - 4..])));
    assert!(texts(&page, "#stops")[0].contains("keeps working until"));
    let page = owner.page(&format!("/settings/api-keys/{new_id}")).await;
    assert_eq!(
        attr_of(&page, "#replaces", "href"),
        format!("/settings/api-keys/{old_id}")
    );
    assert!(texts(&page, "#replaced-by").is_empty());

    // Renaming: refused at the field with what was typed kept; then done, said, recorded.
    let key_page = format!("/settings/api-keys/{new_id}");
    let rename = format!("{key_page}/rename");
    for bad in ["", "CI \u{202E}syolped", &"x".repeat(101)] {
        let refused = owner.submit(&key_page, &rename, &[("label", bad)]).await;
        assert_eq!(
            refused.status(),
            reqwest::StatusCode::BAD_REQUEST,
            "{bad:?}"
        );
        let html = refused.text().await.unwrap();
        assert_eq!(texts(&html, "#rename-error").len(), 1);
        assert_eq!(attr_of(&html, "#rename", "value"), bad);
    }
    let renamed = owner
        .submit(&key_page, &rename, &[("label", "Deploys v2")])
        .await;
    assert_eq!(renamed.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(crate::harness::location(renamed.headers()), key_page);
    let html = owner.page(&key_page).await;
    assert_eq!(
        texts(&html, ".flash"),
        vec![format!(
            "Key \u{201c}deploys\u{201d} (sk_test_…{}) is now called \u{201c}Deploys v2\u{201d}.",
            &new[new.len() - 4..]
        )]
    );
    assert_eq!(texts(&html, "main h1"), vec!["Deploys v2"]);
    assert_eq!(
        app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'key.renamed' \
             AND detail = 'from \"deploys\"'"
        ),
        1
    );

    // A member may not; another workspace's owner finds no such key; no token, no change.
    let (member, _) = crate::invitations::joined(&app, &mailbox, &owner, "member").await;
    let token = member.csrf("/dashboard").await;
    let answer = member
        .post_form(&rename, &[("label", "mine now"), ("csrf_token", &token)])
        .await;
    assert_eq!(answer.status(), reqwest::StatusCode::FORBIDDEN);
    let stranger = app.browser();
    stranger
        .sign_up(&unique_email("stranger"), "Elsewhere")
        .await;
    let answer = stranger
        .submit("/settings/api-keys", &rename, &[("label", "mine now")])
        .await;
    assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND);
    let answer = owner.post_form(&rename, &[("label", "no token")]).await;
    assert_eq!(answer.status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM api_keys WHERE label IN ('mine now', 'no token')"
        ),
        0
    );
}

/// The texts of the elements `css` selects inside the element `within` selects.
fn texts_within(html: &str, within: &str, css: &str) -> Vec<String> {
    let page = scraper::Html::parse_document(html);
    let outer = scraper::Selector::parse(within).unwrap();
    let inner = scraper::Selector::parse(css).unwrap();
    page.select(&outer)
        .flat_map(|e| e.select(&inner))
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_members_page_explains_the_roles_and_asks_before_a_role_changes() {
    use socializer::domain::{Action, Role};
    let (app, mailbox) = crate::invitations::app_with_mail().await;
    let owner = app.browser();
    let owner_email = unique_email("roles");
    owner.sign_up(&owner_email, "Roles").await;

    // The powers, as enforced: every line's answers are what `Role::may` says.
    let html = owner.page("/settings/members").await;
    let lines = texts_within(&html, "table.powers tbody", "th");
    let cells = texts_within(&html, "table.powers tbody", "td");
    assert_eq!(lines.len(), Action::EXPLAINED.len());
    for (row, (line, action)) in Action::EXPLAINED.iter().enumerate() {
        assert_eq!(&lines[row], line);
        for (column, role) in Role::ALL.iter().enumerate() {
            let shown = &cells[row * 3 + column];
            let expected = if role.may(*action) { "yes" } else { "no" };
            assert!(shown.ends_with(expected), "{line} for {role}: {shown}");
        }
    }
    // The only owner is offered no role they could not take.
    let own_id = crate::members::member_id(&owner, &owner_email).await;
    assert!(!html.contains(&format!("id=\"role-{own_id}\"")));

    let (member, member_email) = crate::invitations::joined(&app, &mailbox, &owner, "member").await;
    let member_id = crate::members::member_id(&owner, &member_email).await;
    let html = owner.page("/settings/members").await;
    assert_eq!(
        texts_within(&html, &format!("#role-{member_id}"), "option"),
        vec!["owner", "admin", "member"],
        "one order, whatever the member holds"
    );

    // Changing asks first, on a page that says what changes; asking changes nothing.
    let ask = format!("/settings/members/{member_id}/role?role=admin");
    let html = owner.page(&ask).await;
    assert_eq!(
        texts(&html, "main h1"),
        vec![format!("Make {member_email} an admin?")]
    );
    let detail = texts(&html, "main p").join(" ");
    assert!(
        detail.contains("create, roll, rename and revoke api keys"),
        "{detail}"
    );
    assert_eq!(
        attr_of(&html, "#confirm-page-form input[name=role]", "value"),
        "admin"
    );
    let still = owner.page("/settings/members").await;
    assert_eq!(
        attr_of(
            &still,
            &format!("#role-{member_id} option[selected]"),
            "value"
        ),
        "member"
    );
    let action = attr_of(&html, "#confirm-page-form", "action");
    let token = crate::harness::csrf_in(&html);
    let done = owner
        .post_form(&action, &[("role", "admin"), ("csrf_token", &token)])
        .await;
    assert_eq!(done.status(), reqwest::StatusCode::SEE_OTHER);
    let html = owner.page("/settings/members").await;
    assert_eq!(
        attr_of(
            &html,
            &format!("#role-{member_id} option[selected]"),
            "value"
        ),
        "admin"
    );

    // The wrong people, the wrong ids and roles: nothing is asked.
    assert_eq!(
        member
            .get(&format!("/settings/members/{own_id}/role?role=member"))
            .await
            .status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        owner
            .get(&format!("/settings/members/{member_id}/role?role=king"))
            .await
            .status(),
        reqwest::StatusCode::BAD_REQUEST
    );
    let stranger = app.browser();
    stranger
        .sign_up(&unique_email("stranger"), "Elsewhere")
        .await;
    assert_eq!(
        stranger.get(&ask).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn a_role_is_changed_through_its_confirmation_in_the_browser() {
    let (app, mailbox) = crate::invitations::app_with_mail().await;
    let owner = app.browser();
    let owner_email = unique_email("confirming");
    owner.sign_up(&owner_email, "Confirming").await;
    let (_, member_email) = crate::invitations::joined(&app, &mailbox, &owner, "member").await;
    let member_id = crate::members::member_id(&owner, &member_email).await;

    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &app, &owner_email).await;
    for (width, role) in [(PHONE, "admin"), (WIDE, "member")] {
        viewport(&browser, width).await;
        goto(&browser, &app, "/settings/members").await;
        check_page(&browser, "members-roles").await;
        viewport(&browser, width).await;
        browser
            .find(Locator::Id(&format!("role-{member_id}")))
            .await
            .unwrap()
            .select_by_value(role)
            .await
            .unwrap();
        click_to(
            &browser,
            &format!("form[action='/settings/members/{member_id}/role'] button"),
            &format!("/settings/members/{member_id}/role"),
        )
        .await;
        assert!(text(&browser, "main h1").await.starts_with("Make "));
        check_page(&browser, "role-confirmation").await;
        click_to(&browser, "#confirm-yes", "/settings/members").await;
        let said = crate::browser::flash(&browser).await;
        assert!(
            said.contains(&format!(
                "is now a{} {role}",
                if role == "admin" { "n" } else { "" }
            )),
            "{said}"
        );
    }
    browser.close().await.unwrap();
}

#[actix_web::test]
async fn mail_says_who_and_what_and_the_account_hears_of_changes_to_it() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    let owner_email = unique_email("notified");
    owner.sign_up(&owner_email, "Notices Co").await;

    // The invitation names who invites, to what, as what; the joined page names the workspace.
    let admin_email = unique_email("admin");
    owner
        .submit(
            "/settings/members",
            "/settings/members/invitations",
            &[("email", &admin_email), ("role", "admin")],
        )
        .await;
    let invitation = crate::harness::mailed(&app.mail, &admin_email, "/invitation?token=").await;
    assert!(invitation[0].contains(&format!(
        "{owner_email} invited you to join the workspace \"Notices Co\" on Socializer as an admin."
    )));
    let link = crate::harness::mailed_link(&app.mail, &admin_email, "/invitation").await;
    let admin = crate::invitations::sign_up_through(&app, &link).await;
    assert_eq!(
        texts(&admin.page("/dashboard").await, ".flash"),
        vec!["You joined \u{201c}Notices Co\u{201d} as an admin."]
    );

    // A new key: each owner and admin hears of it, by label and masked key, never its secret.
    let key = owner.create_key("notify me", "test", &[]).await;
    let masked = format!("sk_test_…{}", &key[key.len() - 4..]);
    for to in [&owner_email, &admin_email] {
        let notice = crate::harness::mailed(&app.mail, to, "A new test API key").await;
        assert_eq!(notice.len(), 1, "{to}");
        assert!(notice[0].contains(&masked) && notice[0].contains("notify me"));
        assert!(notice[0].contains(&format!("{owner_email} made a new API key")));
        assert!(!notice[0].contains(&key), "never the secret");
    }

    // The password: changed on the security page, the account is told from where.
    let changed = owner
        .submit(
            "/settings/security",
            "/settings/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), reqwest::StatusCode::SEE_OTHER);
    let notice = crate::harness::mailed(&app.mail, &owner_email, "password was changed").await;
    assert_eq!(notice.len(), 1);
    assert!(notice[0].contains("from the address 127.0.0.1"));
    assert!(!notice[0].contains("another fine passphrase"));
}

#[actix_web::test]
async fn the_audit_log_filters_by_who_what_and_when_and_exports_what_it_keeps() {
    let (app, mailbox) = crate::invitations::app_with_mail().await;
    let owner = app.browser();
    let owner_email = unique_email("auditor");
    owner.sign_up(&owner_email, "Audited").await;
    let key = owner.create_key("automation", "live", &[]).await;
    // A name a spreadsheet would run as a formula, as the subject of an entry.
    let renamed = owner
        .submit(
            "/settings/workspace",
            "/settings/workspace/rename",
            &[("name", "=HYPERLINK(\"http://evil.example\")")],
        )
        .await;
    assert_eq!(renamed.status(), reqwest::StatusCode::SEE_OTHER);
    let api = crate::harness::ApiClient::new(&app.base, &key);
    // 51 keys made by a key: more than a page of one action by one actor.
    for n in 0..51 {
        let made = api
            .post("/v1/api-keys")
            .json(&serde_json::json!({ "label": format!("made {n}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            made.status(),
            reqwest::StatusCode::CREATED,
            "{:?}",
            made.text().await
        );
    }
    let by_key = format!("sk_live_…{}", &key[key.len() - 4..]);
    crate::invitations::joined(&app, &mailbox, &owner, "member").await;

    let rows = |html: &str| texts(html, "tr.audit-event").len();
    // By who: the key's 51, a page of 50 and a next page that keeps the filter.
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("actor", &by_key)
        .append_pair("action", "key.created")
        .finish();
    let html = owner.page(&format!("/settings/audit?{query}")).await;
    assert_eq!(rows(&html), 50);
    assert!(texts(&html, ".actor").iter().all(|a| *a == by_key));
    let next = attr_of(&html, "a[rel=next]", "href");
    assert!(
        next.starts_with(&format!("/settings/audit?{query}&cursor=evt_")),
        "{next}"
    );
    let html = owner.page(&next).await;
    assert_eq!(rows(&html), 1);
    assert_eq!(
        attr_of(&html, "#filter-action option[selected]", "value"),
        "key.created"
    );

    // By what: the one member who joined.
    let html = owner.page("/settings/audit?action=member.joined").await;
    assert_eq!(rows(&html), 1);
    // By when: today holds everything; tomorrow nothing.
    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day().unwrap();
    let html = owner
        .page(&format!(
            "/settings/audit?from={today}&to={today}&action=key.created"
        ))
        .await;
    assert_eq!(rows(&html), 50);
    let html = owner
        .page(&format!("/settings/audit?from={tomorrow}"))
        .await;
    assert_eq!(rows(&html), 0);
    assert!(html.contains("No entries match."));
    for bad in [
        "action=key.eaten",
        "from=yesterday",
        &format!("from={tomorrow}&to={today}"),
    ] {
        let answer = owner.get(&format!("/settings/audit?{bad}")).await;
        assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST, "{bad}");
    }

    // The exports hold what the filter keeps, every page of it.
    let csv = owner
        .get(&format!("/settings/audit/export.csv?{query}"))
        .await;
    assert_eq!(csv.status(), reqwest::StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"audit-log-")
    );
    let body = csv.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_ref());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 51);
    assert!(
        records
            .iter()
            .all(|r| r[4] == by_key && &r[5] == "key.created")
    );
    let json = owner
        .get("/settings/audit/export.json?action=key.created")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(json["data"].as_array().unwrap().len(), 52);
    // A label a spreadsheet would run as a formula is made inert in the CSV.
    let all = owner
        .get("/settings/audit/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(all.contains("'=HYPERLINK"), "{all}");
    assert!(!all.contains(",=HYPERLINK"));

    // Only owners and admins read it, in any form.
    let (member, _) = crate::invitations::joined(&app, &mailbox, &owner, "member").await;
    for path in [
        "/settings/audit",
        "/settings/audit/export.csv",
        "/settings/audit/export.json",
    ] {
        assert_eq!(
            member.get(path).await.status(),
            reqwest::StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}

#[actix_web::test]
async fn emails_break_only_at_their_separators_and_dates_stay_on_one_line() {
    let app = TestApp::spawn().await;
    let email = format!(
        "a.rather.long.name-with-parts_{}@subdomain.example-company.co.uk",
        unique_email("x").split('@').next().unwrap()
    );
    let owner = app.browser();
    owner.sign_up(&email, "Words").await;
    owner.create_key("dated", "test", &[]).await;
    let html = owner.page("/settings/members").await;
    assert!(
        html.contains("a.<wbr>rather.<wbr>long.<wbr>name-<wbr>with-<wbr>parts_<wbr>"),
        "emails carry their break points"
    );
    let keys = owner.page("/settings/api-keys").await;
    assert!(
        texts(&keys, ".key-created")[0].contains("\u{a0}UTC"),
        "a date's spaces do not break"
    );

    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &app, &email).await;
    for width in [PHONE, WIDE] {
        viewport(&browser, width).await;
        goto(&browser, &app, "/settings/members").await;
        check_page(&browser, "members-long-email").await;
        goto(&browser, &app, "/settings/api-keys").await;
        check_page(&browser, "keys-dates").await;
    }
    // At desktop width a date is on one line: its text's boxes share one top.
    let lines = value(
        &browser,
        "return [...document.querySelectorAll('td.key-created')].map(cell => { \
           const range = document.createRange(); \
           range.selectNodeContents(cell.firstChild); \
           return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; });",
    )
    .await;
    for n in lines.as_array().unwrap() {
        assert_eq!(n.as_i64(), Some(1), "{lines}");
    }
    browser.close().await.unwrap();
}

#[actix_web::test]
async fn the_pages_speak_to_users_and_old_links_lead_somewhere_useful() {
    let (app, mailbox) = crate::invitations::app_with_mail().await;
    let owner = app.browser();
    let owner_email = unique_email("copy");
    owner.sign_up(&owner_email, "Plain Words").await;

    // Nobody reads about client ids or the README on the accounts page.
    let (member, member_email) = crate::invitations::joined(&app, &mailbox, &owner, "member").await;
    for browser in [&owner, &member] {
        let html = browser.page("/settings/accounts").await;
        assert!(!html.contains("README") && !html.to_lowercase().contains("client id"));
    }

    // The sandbox's consent page says for whom.
    let begun = owner.get("/connect/sandbox").await;
    let authorize = crate::harness::location(begun.headers());
    let consent = owner.page(authorize.trim_start_matches(&app.base)).await;
    assert_eq!(
        texts(&consent, "#for-whom"),
        vec![format!(
            "the workspace \u{201c}Plain Words\u{201d}, at the request of {owner_email}"
        )]
    );
    // Connected, then disconnected: the page says none is connected, and the first steps
    // stay done.
    let (status, _) = crate::roles::connect_sandbox(&owner, "plain").await;
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    owner.create_key("first", "test", &[]).await;
    let html = owner.page("/settings/accounts").await;
    let id = attr_of(&html, "tr.account", "data-account-id");
    let gone = owner
        .submit(
            "/settings/accounts",
            &format!("/settings/accounts/{id}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(gone.status(), reqwest::StatusCode::SEE_OTHER);
    let html = owner.page("/settings/accounts").await;
    assert!(html.contains("No sandbox account is connected."));
    assert!(!html.contains("accounts yet"));
    let dashboard = owner.dashboard().await;
    assert!(
        texts(&dashboard, "#checklist").is_empty(),
        "done once, done"
    );

    // An invitation already used, opened by its member: taken to the workspace.
    let link = mailbox.link(&member_email, "/invitation", 1).await;
    let again = member.get(&link).await;
    assert_eq!(again.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(crate::harness::location(again.headers()), "/dashboard");
    assert_eq!(
        texts(&member.page("/dashboard").await, ".flash"),
        vec![
            "This invitation was used already: you are in \u{201c}Plain Words\u{201d} as a member."
        ]
    );
    // Anyone else still reads that it was used.
    assert_eq!(
        app.browser().get(&link).await.status(),
        reqwest::StatusCode::GONE
    );

    // A confirmation link opened twice says the address is confirmed.
    let confirm = mailbox.link(&owner_email, "/verify-email", 1).await;
    let html = owner.page(&confirm).await;
    assert_eq!(texts(&html, "main h1"), vec!["Email already confirmed"]);
}
