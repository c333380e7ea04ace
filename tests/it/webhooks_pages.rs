//! Webhooks through the pages, in a real browser: an endpoint added, its secret shown once, a
//! test event sent and seen delivered (and verified by the reference verifier), the secret
//! rolled and the endpoint removed through their confirmations. Each page is checked by
//! axe-core at 1280 and 375 px. Members do not see the pages at all.

use crate::browser::{ChromeDriver, click_to, fill, flash, signed_in_browser, text, wait_for};
use crate::harness::unique_email;
use crate::page_checks::check_page;
use crate::webhook_receiver::Receiver;
use crate::webhooks::{ALLOW_PRIVATE, setup};
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

async fn secret_shown(browser: &Client) -> String {
    wait_for(browser, Locator::Id("new-secret"))
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap()
}

#[actix_web::test]
async fn webhooks_from_the_pages() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let base = s.app.base.clone();
    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &s.app, &s.email).await;

    crate::browser::open_settings(&browser, "Webhooks").await;
    check_page(&browser, "webhooks-empty").await;
    // A refused address comes back at its field, with what was typed.
    fill(&browser, "url", "http://user:pw@127.0.0.1/in").await;
    click_to(
        &browser,
        "#add-endpoint button[type=submit]",
        "/settings/webhooks",
    )
    .await;
    assert!(
        text(&browser, "#url-error").await.contains("user name"),
        "{}",
        text(&browser, "#url-error").await
    );
    let url_field = browser.find(Locator::Id("url")).await.unwrap();
    url_field.clear().await.unwrap();
    url_field
        .send_keys(&receiver.url("/from-the-page"))
        .await
        .unwrap();
    fill(&browser, "description", "Our CRM").await;
    browser
        .find(Locator::Css("#add-endpoint button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let secret = secret_shown(&browser).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let page = browser.current_url().await.unwrap();
    let endpoint_path = page.path().to_owned();
    assert!(
        endpoint_path.starts_with("/settings/webhooks/whe_"),
        "{endpoint_path}"
    );
    check_page(&browser, "webhook-secret").await;

    // Shown once: a reload shows no secret.
    browser.refresh().await.unwrap();
    wait_for(&browser, Locator::Css("h1.endpoint-heading")).await;
    assert!(browser.find(Locator::Id("new-secret")).await.is_err());
    assert!(!browser.source().await.unwrap().contains(&secret[6..]));

    receiver.secrets(&[&secret]).await;
    click_to(&browser, "form[action$='/test'] button", &endpoint_path).await;
    assert!(flash(&browser).await.contains("Test event sent"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        browser.refresh().await.unwrap();
        wait_for(&browser, Locator::Css("h1.endpoint-heading")).await;
        if let Ok(state) = browser.find(Locator::Css(".delivery-state .badge")).await
            && state.text().await.unwrap() == "delivered"
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the test event never showed delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(text(&browser, ".attempt-outcome").await, "200");
    let got = receiver.received().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["verified_with"], serde_json::json!([0]));
    check_page(&browser, "webhook").await;

    // Rolled through its confirmation page: a new secret, shown once.
    let confirm = browser
        .find(Locator::Id("roll"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    browser.goto(&format!("{base}{confirm}")).await.unwrap();
    check_page(&browser, "webhook-roll-confirmation").await;
    browser
        .find(Locator::Id("confirm-yes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let rolled = secret_shown(&browser).await;
    assert!(rolled.starts_with("whsec_") && rolled != secret);

    // Removed through its confirmation page.
    let confirm = browser
        .find(Locator::Css("a[data-confirm-action$='/delete']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    browser.goto(&format!("{base}{confirm}")).await.unwrap();
    click_to(&browser, "#confirm-yes", "/settings/webhooks").await;
    assert!(flash(&browser).await.contains("removed"));
    wait_for(&browser, Locator::Css("p.empty")).await;
}

#[actix_web::test]
async fn members_do_not_manage_webhooks() {
    let (app, mailbox) = crate::invitations::app_with_mail().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Team").await;
    let (member, _) = crate::invitations::joined(&app, &mailbox, &owner, "member").await;
    assert_eq!(
        member.get("/settings/webhooks").await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        !member
            .page("/settings")
            .await
            .contains("/settings/webhooks")
    );
    assert!(owner.page("/settings").await.contains("/settings/webhooks"));
    // Nor through the API with the page's own session.
    let token = crate::dashboard_api::page_token(&member).await;
    let asked = crate::dashboard_api::v1(&member, reqwest::Method::GET, "/v1/webhooks")
        .header("X-CSRF-Token", token);
    assert_eq!(
        crate::harness::status_of(asked).await,
        StatusCode::FORBIDDEN
    );
}
