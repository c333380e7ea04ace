//! Publishing through the pages, in a real browser: the composer's live count agrees with the
//! server's on texts X weighs unusually, a post published now lands in the sandbox's feed, a
//! scheduled one is edited and canceled through its confirmation, and an unknown one offers a
//! retry that warns it may already be online. Each page is checked by axe-core at 1280 and
//! 375 px.

use crate::browser::{
    ChromeDriver, click, click_to, fill, flash, signed_in_browser, text, wait_for,
};
use crate::harness::{PASSWORD, unique_email};
use crate::page_checks::check_page;
use crate::publishing::setup;
use fantoccini::{Client, Locator};
use socializer::domain::Platform;
use socializer::publishing::text_rules::measure;
use std::time::Duration;

/// Replaces the composer's text and waits for the count of `platform` to show `expected`.
async fn count_shown(browser: &Client, text_value: &str, platform: &str, expected: &str) {
    let field = browser.find(Locator::Id("post-text")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text_value).await.unwrap();
    let css = format!("#counts .count[data-platform={platform}]");
    let mut shown = String::new();
    for _ in 0..100 {
        // The script replaces the counts as they come: a count read as it goes is read again.
        if let Ok(count) = browser.find(Locator::Css(&css)).await
            && let Ok(now) = count.text().await
        {
            shown = now;
            if shown == expected {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{text_value:?}: the page shows {shown:?}, the server counts {expected:?}");
}

async fn go(browser: &Client, base: &str, path: &str) {
    browser.goto(&format!("{base}{path}")).await.unwrap();
}

#[actix_web::test]
async fn publishing_from_the_pages() {
    let s = setup().await;
    let base = s.app.base.clone();
    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &s.app, &s.email).await;

    go(&browser, &base, "/posts").await;
    wait_for(&browser, Locator::Id("composer")).await;
    check_page(&browser, "posts").await;

    // The live count is the server's own: the same numbers for URLs, CJK, emoji and
    // decomposed accents.
    click(&browser, &format!("input[value='{}']", s.x)).await;
    click(&browser, &format!("input[value='{}']", s.linkedin)).await;
    for sample in [
        "hello",
        "see https://example.com/a/very/long/path/that/goes/on and on",
        "日本語のテキスト",
        "emoji \u{1F600}\u{1F44D}\u{1F3FD} and e\u{301}",
        &"long words ".repeat(30),
    ] {
        let x = measure(Platform::X, sample);
        count_shown(&browser, sample, "x", &format!("X {}/{}", x.used, x.limit)).await;
        let li = measure(Platform::LinkedIn, sample);
        count_shown(
            &browser,
            sample,
            "linkedin",
            &format!("LinkedIn {}/{}", li.used, li.limit),
        )
        .await;
    }
    // Over X's limit: the server refuses at the field and keeps what was typed.
    click_to(&browser, "#publish", "/posts").await;
    assert!(
        text(&browser, "#post-text-error")
            .await
            .contains("X allows 280")
    );
    check_page(&browser, "posts-refused").await;

    // Published now, to the sandbox: it lands in the account's feed.
    go(&browser, &base, "/posts").await;
    fill(&browser, "post-text", "Hello from the composer").await;
    click(&browser, &format!("input[value='{}']", s.sandbox)).await;
    click_to(&browser, "#publish", "/posts").await;
    assert!(flash(&browser).await.contains("Publishing now"));
    let mut published = false;
    for _ in 0..100 {
        go(&browser, &base, "/posts?list=published").await;
        if browser
            .find(Locator::LinkText("View the post"))
            .await
            .is_ok()
        {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published, "the post never showed as published");
    check_page(&browser, "posts-published").await;
    click(&browser, "a[href*='/sandbox/feed/']").await;
    wait_for(&browser, Locator::Css(".post-text")).await;
    assert_eq!(
        text(&browser, ".post-text").await,
        "Hello from the composer"
    );
    check_page(&browser, "sandbox-feed").await;

    // Scheduled for later, edited, then canceled through its confirmation page.
    go(&browser, &base, "/posts").await;
    fill(&browser, "post-text", "Later, from the composer").await;
    click(&browser, &format!("input[value='{}']", s.sandbox)).await;
    click(&browser, "#when-later").await;
    click_to(&browser, "#publish", "/posts").await;
    assert!(flash(&browser).await.contains("scheduled for"));
    check_page(&browser, "posts-scheduled").await;
    click(&browser, ".post a[href$='/edit']").await;
    wait_for(&browser, Locator::Css("form[action$='/edit']")).await;
    check_page(&browser, "post-edit").await;
    let field = browser.find(Locator::Id("post-text")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("Later, edited").await.unwrap();
    click_to(
        &browser,
        "form[action$='/edit'] button[type=submit]",
        "/posts",
    )
    .await;
    assert_eq!(flash(&browser).await, "Post changed.");
    assert_eq!(text(&browser, ".post .post-text").await, "Later, edited");
    let confirm = browser
        .find(Locator::Css(".post a[data-confirm-action$='/cancel']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    go(&browser, &base, &confirm).await;
    check_page(&browser, "post-cancel-confirmation").await;
    click_to(&browser, "#confirm-yes", "/posts").await;
    assert_eq!(flash(&browser).await, "Post canceled.");
    assert!(
        text(&browser, "#no-posts")
            .await
            .contains("Nothing is scheduled")
    );

    // An unknown outcome: listed under Needs attention, its retry warns first.
    go(&browser, &base, "/posts").await;
    fill(&browser, "post-text", "This one [sandbox:timeout]").await;
    click(&browser, &format!("input[value='{}']", s.sandbox)).await;
    click_to(&browser, "#publish", "/posts").await;
    let mut retry = None;
    for _ in 0..100 {
        go(&browser, &base, "/posts?list=attention").await;
        if let Ok(link) = browser
            .find(Locator::Css("a[data-confirm-action$='/retry']"))
            .await
        {
            retry = link.attr("href").await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text(&browser, ".target").await.contains("unknown"));
    check_page(&browser, "posts-attention").await;
    go(&browser, &base, &retry.expect("a retry link")).await;
    assert!(
        text(&browser, ".confirm p")
            .await
            .contains("may have reached the platform")
    );
    check_page(&browser, "post-retry-confirmation").await;

    // Someone with no account connected is told how to connect one.
    let newcomer = driver.browser().await;
    let email = unique_email("newcomer");
    go(&newcomer, &base, "/signup").await;
    fill(&newcomer, "email", &email).await;
    fill(&newcomer, "password", PASSWORD).await;
    fill(&newcomer, "workspace", "Empty").await;
    click_to(&newcomer, "main button[type=submit]", "/dashboard").await;
    go(&newcomer, &base, "/posts").await;
    assert!(
        text(&newcomer, "#no-accounts")
            .await
            .contains("Connect an account")
    );
    check_page(&newcomer, "posts-no-accounts").await;
    browser.close().await.unwrap();
    newcomer.close().await.unwrap();
}

#[actix_web::test]
async fn the_composer_publishes_now_only_when_asked_and_an_edit_keeps_the_time_it_showed() {
    let s = setup().await;
    let owner = s.app.browser();
    owner.log_in(&s.email, PASSWORD).await;
    // Without an explicit choice nothing is published.
    for when in [None, Some("LATER"), Some("sometime")] {
        let mut fields = vec![("text", "Undecided"), ("account_ids", s.sandbox.as_str())];
        if let Some(when) = when {
            fields.push(("when", when));
        }
        let response = owner.submit("/posts", "/posts", &fields).await;
        assert_eq!(
            response.status(),
            reqwest::StatusCode::BAD_REQUEST,
            "{when:?}"
        );
    }
    let (_, _, page) = crate::harness::json(s.test.get("/v1/posts")).await;
    assert!(page["data"].as_array().unwrap().is_empty(), "{page}");

    // A post at a time with seconds: saving a new text keeps the time exactly.
    let at = time::OffsetDateTime::from_unix_timestamp(socializer::domain::now() + 86400 + 45)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (_, post) = crate::publishing::publish(
        &s.test,
        serde_json::json!({"text": "Exact", "account_ids": [s.sandbox], "publish_at": at}),
    )
    .await;
    let id = post["id"].as_str().unwrap();
    let edit = owner.page(&format!("/posts/{id}/edit")).await;
    let shown = crate::harness::attr_of(&edit, "input[name=publish_at_shown]", "value");
    let response = owner
        .submit(
            &format!("/posts/{id}/edit"),
            &format!("/posts/{id}/edit"),
            &[
                ("text", "Exact, edited"),
                ("publish_at", &shown),
                ("publish_at_shown", &shown),
            ],
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let (_, _, after) = crate::harness::json(s.test.get(&format!("/v1/posts/{id}"))).await;
    assert_eq!(after["text"], "Exact, edited");
    assert_eq!(after["publish_at"], post["publish_at"], "the seconds stay");
}
