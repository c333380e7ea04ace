//! The pages as a person uses them day to day, in headless Chromium at phone and desktop
//! width: menus that stay on screen, forms that keep what was typed and say what is wrong where
//! it is wrong.

use crate::browser::{ChromeDriver, signed_in_browser};
use crate::harness::{TestApp, unique_email};
use crate::page_checks::{PHONE, WIDE, viewport};
use fantoccini::{Client, Locator};

async fn value(browser: &Client, script: &str) -> serde_json::Value {
    browser.execute(script, vec![]).await.unwrap()
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
        browser
            .goto(&format!("{}/dashboard", app.base))
            .await
            .unwrap();
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
