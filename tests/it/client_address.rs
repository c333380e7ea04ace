//! The client's address behind a trusted proxy: the right-most `X-Forwarded-For` entry (the one
//! the proxy appended), never `Forwarded` nor an entry the client wrote itself; IPv4-mapped IPv6
//! is the same client as its IPv4 address.

use crate::harness::{TestApp, texts, unique_email};
use reqwest::StatusCode;

async fn behind_a_proxy() -> TestApp {
    TestApp::spawn_with(|vars| {
        vars.insert("SOCIALIZER_TRUST_FORWARDED_FOR".into(), "true".into());
    })
    .await
}

/// A request as a proxy that appends to `X-Forwarded-For` passes it on: the client's own
/// headers first, then the address the proxy saw.
fn via_proxy(
    request: reqwest::RequestBuilder,
    client_wrote: &str,
    proxy_saw: &str,
) -> reqwest::RequestBuilder {
    request
        .header("Forwarded", format!("for={client_wrote}"))
        .header("X-Forwarded-For", format!("{client_wrote}, {proxy_saw}"))
}

#[actix_web::test]
async fn bad_keys_from_one_client_reach_the_limit_whatever_it_writes_in_its_headers() {
    let app = behind_a_proxy().await;
    let client = reqwest::Client::new();
    crate::shared_limits::away_from_a_window_edge().await;
    let mut statuses = Vec::new();
    for n in 0..75 {
        let request = client
            .get(format!("{}/v1/status", app.base))
            .bearer_auth("sk_live_not_a_real_key");
        let forged = format!("198.51.100.{n}");
        statuses.push(
            via_proxy(request, &forged, "203.0.113.7")
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(limited, 75 - 60, "one bucket for one client: {statuses:?}");

    // The same client as an IPv4-mapped IPv6 address is the same bucket; another is not.
    let mapped = client
        .get(format!("{}/v1/status", app.base))
        .header("X-Forwarded-For", "::ffff:203.0.113.7");
    assert_eq!(
        mapped.send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = client
        .get(format!("{}/v1/status", app.base))
        .header("X-Forwarded-For", "203.0.113.8");
    assert_eq!(
        other.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn wrong_passwords_from_one_client_are_cut_off_and_the_proxy_s_address_is_recorded() {
    let app = behind_a_proxy().await;
    let email = unique_email("guarded");
    let owner = app.browser();
    owner.sign_up(&email, "Guarded").await;

    let mut statuses = Vec::new();
    for n in 0..36 {
        let guesser = app.browser();
        let token = guesser.csrf("/login").await;
        let request = guesser.client.post(format!("{}/login", app.base)).form(&[
            ("email", format!("nobody{n}@example.com")),
            ("password", "wrong password".to_owned()),
            ("csrf_token", token),
        ]);
        let forged = format!("192.0.2.{n}");
        statuses.push(
            via_proxy(request, &forged, "203.0.113.9")
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "over 30 failures from one client: {statuses:?}"
    );

    // The security page lists the address the proxy saw, not the one the client wrote.
    let browser = app.browser();
    let token = browser.csrf("/login").await;
    let request = browser.client.post(format!("{}/login", app.base)).form(&[
        ("email", email.as_str()),
        ("password", crate::harness::PASSWORD),
        ("csrf_token", token.as_str()),
    ]);
    let signed_in = via_proxy(request, "10.9.8.7", "203.0.113.50")
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let page = browser.page("/settings/security").await;
    let shown = texts(&page, "body").join(" ");
    assert!(shown.contains("203.0.113.50"), "{page}");
    assert!(!shown.contains("10.9.8.7"));
}

#[actix_web::test]
async fn without_a_trusted_proxy_the_headers_are_ignored() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    crate::shared_limits::away_from_a_window_edge().await;
    let mut limited = 0;
    for n in 0..65 {
        let request = client
            .get(format!("{}/v1/status", app.base))
            .bearer_auth("sk_live_not_a_real_key")
            .header("X-Forwarded-For", format!("198.51.100.{n}"));
        if request.send().await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert_eq!(limited, 5, "the peer is the one bucket");
}
