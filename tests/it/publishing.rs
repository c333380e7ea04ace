//! Publishing through the API: posts delivered to the sandbox and to stand-ins for X and
//! LinkedIn that count every call, so that "sent exactly once" is proven by the platform's own
//! count; the outcomes (published, failed, unknown, rate limited), retries by hand, edits,
//! cancellation, deletion, `Idempotency-Key`, and bad input that changes nothing.

use crate::connect::{approve_on_sandbox, at_platform, begin, finish, param};
use crate::dashboard_api::{page_token, v1};
use crate::harness::{ApiClient, TestApp, all_at_once, json, unique_email};
use crate::invitations::{app_with_mail, invite, sign_up_through};
use crate::platforms::Running;
use reqwest::StatusCode;
use serde_json::{Value, json as j};
use std::time::Duration;

pub struct Setup {
    pub app: TestApp,
    /// The owner's email address (their password is the harness's).
    pub email: String,
    pub platforms: Running,
    pub live: ApiClient,
    pub test: ApiClient,
    pub sandbox: String,
    pub x: String,
    pub linkedin: String,
}

/// A workspace with a sandbox, an X and a LinkedIn account, and a live and a test key.
pub async fn setup_with(extra: &[(&str, &str)]) -> Setup {
    let platforms = Running::start().await;
    let mut vars = platforms.vars();
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let app = TestApp::spawn_with(|v| v.extend(vars)).await;
    for name in ["x", "linkedin"] {
        platforms
            .platform(name)
            .redirect_uris
            .insert("https://client.example/done".into());
    }
    let browser = app.browser();
    let email = unique_email("publisher");
    assert_eq!(
        browser.sign_up(&email, "Publishers").await.status(),
        StatusCode::SEE_OTHER
    );
    let live = ApiClient::new(&app.base, &browser.create_key("live", "live", &[]).await);
    let test = ApiClient::new(&app.base, &browser.create_key("test", "test", &[]).await);
    let sandbox = connect_sandbox(&app.base, &test, "demo").await;
    let x = connect_live(&live, "x").await;
    let linkedin = connect_live(&live, "linkedin").await;
    Setup {
        app,
        email,
        platforms,
        live,
        test,
        sandbox,
        x,
        linkedin,
    }
}

pub async fn setup() -> Setup {
    setup_with(&[]).await
}

pub async fn connect_sandbox(base: &str, test: &ApiClient, name: &str) -> String {
    let (auth_url, state) = begin(test, "sandbox", Some("https://client.example/done")).await;
    let back = approve_on_sandbox(base, &auth_url, name).await;
    let (status, account) = finish(test, "sandbox", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    account["id"].as_str().unwrap().to_owned()
}

async fn connect_live(live: &ApiClient, platform: &str) -> String {
    let (auth_url, state) = begin(live, platform, Some("https://client.example/done")).await;
    let back = at_platform(&auth_url).await;
    let (status, account) = finish(live, platform, &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    account["id"].as_str().unwrap().to_owned()
}

pub async fn publish(client: &ApiClient, body: Value) -> (StatusCode, Value) {
    let (status, _, answer) = json(client.post("/v1/posts").json(&body)).await;
    (status, answer)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Reads the post until `done` holds (at most 20 s).
pub async fn wait_for(client: &ApiClient, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, post) = json(client.get(&format!("/v1/posts/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "{post}");
        if done(&post) {
            return post;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the post never got there: {post}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn unix(time: &Value) -> i64 {
    time::OffsetDateTime::parse(
        time.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
    .unix_timestamp()
}

fn target_state(post: &Value, i: usize) -> &str {
    post["targets"][i]["state"].as_str().unwrap_or("")
}

fn settled(post: &Value) -> bool {
    post["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| !matches!(t["state"].as_str(), Some("scheduled" | "publishing")))
}

#[actix_web::test]
async fn a_post_goes_to_x_linkedin_and_nowhere_twice() {
    let s = setup().await;
    let text = "Launch day (finally) #rust @ferris [v1.0] <3 *bold* _under_ ~tilde~ a|b {x} \\o/";
    let (status, post) = publish(
        &s.live,
        j!({"text": text, "account_ids": [s.x, s.linkedin],
            "texts": {s.x.clone(): "Launch day on X"}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{post}");
    assert_eq!(post["state"], "scheduled");
    assert_eq!(post["mode"], "live");
    let id = post["id"].as_str().unwrap();
    let post = wait_for(&s.live, id, settled).await;
    assert_eq!(post["state"], "published", "{post}");
    assert_eq!(
        (target_state(&post, 0), target_state(&post, 1)),
        ("published", "published")
    );

    let tweet = {
        let x = s.platforms.platform("x");
        assert_eq!(x.publish_calls, 1);
        assert_eq!(x.published.len(), 1);
        assert_eq!(x.published[0].1, "Launch day on X");
        x.published[0].0.clone()
    };
    let urn = {
        let li = s.platforms.platform("linkedin");
        assert_eq!(li.publish_calls, 1);
        // LinkedIn shows the whole text: every reserved character was escaped.
        assert_eq!(li.published[0].1, text);
        li.published[0].0.clone()
    };
    let targets = post["targets"].as_array().unwrap();
    let by_platform = |p: &str| targets.iter().find(|t| t["platform"] == p).unwrap();
    assert_eq!(
        by_platform("x")["url"],
        format!("https://x.com/ada/status/{tweet}")
    );
    assert_eq!(
        by_platform("linkedin")["url"],
        format!("https://www.linkedin.com/feed/update/{urn}/")
    );
    let attempts = by_platform("x")["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "published");
    assert_eq!(attempts[0]["status_code"], 201);

    // Some time later nothing more was sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(s.platforms.platform("x").publish_calls, 1);
    assert_eq!(s.platforms.platform("linkedin").publish_calls, 1);

    // A post that started cannot be edited, and a published target cannot be retried.
    let (status, _, body) = json(
        s.live
            .patch(&format!("/v1/posts/{id}"))
            .json(&j!({"text": "changed"})),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "conflict"),
        "{body}"
    );
    let (status, _, body) = json(
        s.live
            .post(&format!("/v1/posts/{id}/targets/{}/retry", s.x)),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "conflict"),
        "{body}"
    );

    // The same text to the same X account within a day is refused before anything is sent.
    let (status, body) = publish(
        &s.live,
        j!({"text": "Launch day on X", "account_ids": [s.x]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 hours")
    );
    assert_eq!(s.platforms.platform("x").publish_calls, 1);

    // Deleting takes the posts down at the platforms.
    let response = s
        .live
        .delete(&format!("/v1/posts/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.platforms.platform("x").deleted, vec![tweet.clone()]);
    assert_eq!(s.platforms.platform("linkedin").deleted, vec![urn]);
    let (status, _, _) = json(s.live.get(&format!("/v1/posts/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_sandbox_publishes_and_plays_every_outcome_on_request() {
    let s = setup().await;
    let post = |text: &str| {
        let (test, sandbox, text) = (s.test.clone(), s.sandbox.clone(), text.to_owned());
        async move {
            let (status, body) = publish(&test, j!({"text": text, "account_ids": [sandbox]})).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
            body["id"].as_str().unwrap().to_owned()
        }
    };
    let fine = post("Hello from the sandbox").await;
    let refused = post("Please [sandbox:refuse] this").await;
    let timeout = post("Please [sandbox:timeout] this").await;
    let limited = post("Please [sandbox:rate-limit] this").await;

    let done = wait_for(&s.test, &fine, settled).await;
    assert_eq!(done["state"], "published");
    assert!(
        done["targets"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/sandbox/feed/", s.app.base)),
        "{done}"
    );

    let done = wait_for(&s.test, &refused, settled).await;
    assert_eq!(
        (done["state"].as_str(), target_state(&done, 0)),
        (Some("failed"), "failed")
    );
    assert_eq!(done["targets"][0]["error"]["code"], "refused");

    let done = wait_for(&s.test, &timeout, settled).await;
    assert_eq!(
        (done["state"].as_str(), target_state(&done, 0)),
        (Some("needs_attention"), "unknown")
    );
    // Unknown is never sent again by itself.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let again = wait_for(&s.test, &timeout, settled).await;
    assert_eq!(again["targets"][0]["attempts"].as_array().unwrap().len(), 1);

    let done = wait_for(&s.test, &limited, settled).await;
    assert_eq!(done["state"], "published", "{done}");
    let outcomes: Vec<&str> = done["targets"][0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["rescheduled", "published"]);

    // A person retries the unknown one by hand: a new attempt.
    let (status, _, body) = json(
        s.test
            .post(&format!("/v1/posts/{timeout}/targets/{}/retry", s.sandbox)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = wait_for(&s.test, &timeout, |p| {
        p["targets"][0]["attempts"].as_array().unwrap().len() == 2 && settled(p)
    })
    .await;
    assert_eq!(
        target_state(&done, 0),
        "unknown",
        "the text still asks for a timeout"
    );

    // Live keys never see test posts, and test keys never publish to live accounts.
    let (status, _, _) = json(s.live.get(&format!("/v1/posts/{fine}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = publish(&s.test, j!({"text": "to X", "account_ids": [s.x]})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );
    let (status, body) = publish(
        &s.live,
        j!({"text": "to the sandbox", "account_ids": [s.sandbox]}),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );
}

#[actix_web::test]
async fn a_platform_that_times_out_after_taking_the_post_leaves_it_unknown_and_sent_once() {
    let s = setup_with(&[("SOCIALIZER_PUBLISH_TIMEOUT_SECS", "1")]).await;
    s.platforms.platform("x").hold_next_ms = 2500;
    let (status, post) = publish(&s.live, j!({"text": "Held answer", "account_ids": [s.x]})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{post}");
    let id = post["id"].as_str().unwrap();
    let done = wait_for(&s.live, id, settled).await;
    assert_eq!(target_state(&done, 0), "unknown", "{done}");
    assert_eq!(done["state"], "needs_attention");
    assert_eq!(done["targets"][0]["error"]["code"], "unknown");
    // The platform did take it; the service never asks again by itself.
    tokio::time::sleep(Duration::from_secs(3)).await;
    {
        let x = s.platforms.platform("x");
        assert_eq!((x.publish_calls, x.published.len()), (1, 1));
    }

    // A 5xx is unknown too; a 429 waits for X's reset; a 4xx is a plain failure with X's words.
    let reset = socializer::domain::now() + 2;
    s.platforms.platform("x").answer_next = vec![(503, None), (429, Some(reset)), (400, None)];
    let (_, a) = publish(&s.live, j!({"text": "Five hundred", "account_ids": [s.x]})).await;
    let done = wait_for(&s.live, a["id"].as_str().unwrap(), settled).await;
    assert_eq!(target_state(&done, 0), "unknown", "{done}");
    let (_, b) = publish(&s.live, j!({"text": "Rate limited", "account_ids": [s.x]})).await;
    let (_, c) = publish(&s.live, j!({"text": "Refused", "account_ids": [s.x]})).await;
    let b = wait_for(&s.live, b["id"].as_str().unwrap(), settled).await;
    let c = wait_for(&s.live, c["id"].as_str().unwrap(), settled).await;
    // Which of the two met the 429 depends on their order; one was rescheduled then published,
    // the other failed with the platform's words.
    let (limited, refused) = if target_state(&b, 0) == "published" {
        (b, c)
    } else {
        (c, b)
    };
    assert_eq!(limited["state"], "published", "{limited}");
    assert_eq!(
        limited["targets"][0]["attempts"][0]["outcome"],
        "rescheduled"
    );
    let resent = unix(&limited["targets"][0]["attempts"][1]["started_at"]);
    assert!(
        resent >= reset,
        "sent again at {resent}, before X's reset at {reset}"
    );
    assert_eq!(refused["state"], "failed", "{refused}");
    assert!(
        refused["targets"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stand-in answered 400")
    );
}

#[actix_web::test]
async fn one_idempotency_key_sent_fifty_times_at_once_makes_one_post() {
    let s = setup_with(&[("SOCIALIZER_RATE_LIMIT_FREE", "1000")]).await;
    let body = j!({"text": "Exactly one", "account_ids": [s.sandbox]});
    let answers = all_at_once((0..50).map(|_| {
        let request = s
            .test
            .post("/v1/posts")
            .header("Idempotency-Key", "order-1234")
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let replayed = response.headers().get("idempotent-replayed").is_some();
            (
                response.status(),
                replayed,
                response.json::<Value>().await.unwrap(),
            )
        }
    }))
    .await;
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .map(|(status, _, body)| {
            assert_eq!(*status, StatusCode::ACCEPTED, "{body}");
            body["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one post for one key");
    assert_eq!(
        answers.iter().filter(|(_, replayed, _)| !replayed).count(),
        1
    );
    let id = ids.into_iter().next().unwrap().to_owned();
    let (_, _, page) = json(s.test.get("/v1/posts")).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
    // Spacing and field order do not make another request; another body does.
    let (status, headers, again) = json(
        s.test
            .post("/v1/posts")
            .header("Idempotency-Key", "order-1234")
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{ "account_ids": ["{}"],  "text": "Exactly one" }}"#,
                s.sandbox
            )),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again["id"], id.as_str());
    let (status, _, refused) = json(
        s.test
            .post("/v1/posts")
            .header("Idempotency-Key", "order-1234")
            .json(&j!({"text": "Another", "account_ids": [s.sandbox]})),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "idempotency_key_reused")
    );
    // A live key of the same workspace never gets the test post back under the same key.
    let (status, headers, live_answer) = json(
        s.live
            .post("/v1/posts")
            .header("Idempotency-Key", "order-1234")
            .json(&body),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{live_answer}");
    assert!(headers.get("idempotent-replayed").is_none());
    // Keys belong to a workspace: another one may use the same key for its own post.
    let stranger = s.app.browser();
    stranger.sign_up(&unique_email("other"), "Other").await;
    let theirs = ApiClient::new(&s.app.base, &stranger.create_key("t", "test", &[]).await);
    let their_sandbox = connect_sandbox(&s.app.base, &theirs, "theirs").await;
    let (status, headers, their_post) = json(
        theirs
            .post("/v1/posts")
            .header("Idempotency-Key", "order-1234")
            .json(&j!({"text": "Exactly one", "account_ids": [their_sandbox]})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{their_post}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(their_post["id"], id.as_str());
    for bad in ["", &"k".repeat(256)] {
        let (status, _, body) = json(
            s.test
                .post("/v1/posts")
                .header("Idempotency-Key", bad)
                .json(&j!({"text": "Bad key", "account_ids": [s.sandbox]})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (_, _, page) = json(s.test.get("/v1/posts")).await;
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        1,
        "nothing else was stored"
    );
}

#[actix_web::test]
async fn bad_posts_are_refused_naming_the_account_and_the_rule_and_store_nothing() {
    let s = setup().await;
    let now = socializer::domain::now();
    let at = |offset: i64| {
        time::OffsetDateTime::from_unix_timestamp(now + offset)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let long_x = format!("{} {}", "word ".repeat(55), "日本語");
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            j!({"text": long_x, "account_ids": [s.x]}),
            StatusCode::BAD_REQUEST,
            "X allows 280",
        ),
        (
            j!({"text": "x".repeat(3001), "account_ids": [s.linkedin]}),
            StatusCode::BAD_REQUEST,
            "LinkedIn allows 3000",
        ),
        (
            j!({"text": "   \n ", "account_ids": [s.x]}),
            StatusCode::BAD_REQUEST,
            "empty",
        ),
        (
            j!({"text": "a\u{7}b", "account_ids": [s.x]}),
            StatusCode::BAD_REQUEST,
            "control",
        ),
        (
            j!({"text": "hi", "account_ids": []}),
            StatusCode::BAD_REQUEST,
            "1 to 10",
        ),
        (
            j!({"text": "hi", "account_ids": [s.x, s.x]}),
            StatusCode::BAD_REQUEST,
            "chosen twice",
        ),
        (
            j!({"text": "hi", "account_ids": [s.x], "publish_at": "9999-12-31T23:59:59Z"}),
            StatusCode::BAD_REQUEST,
            "a year ahead",
        ),
        (
            j!({"text": "hi", "account_ids": [s.x], "publish_at": at(-3600)}),
            StatusCode::BAD_REQUEST,
            "in the past",
        ),
        (
            j!({"text": "hi", "account_ids": [s.x], "publish_at": "tomorrow"}),
            StatusCode::BAD_REQUEST,
            "RFC 3339",
        ),
        (
            j!({"text": "hi", "account_ids": [s.x], "texts": {s.linkedin.clone(): "x"}}),
            StatusCode::BAD_REQUEST,
            "not among account_ids",
        ),
        (
            j!({"text": "hi", "account_ids": ["acc_00000000000000000000000000000000"]}),
            StatusCode::NOT_FOUND,
            "acc_00000000000000000000000000000000",
        ),
        (
            j!({"text": "hi", "account_ids": [s.x], "extra": 1}),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
    ];
    for (body, status, words) in cases {
        let (got, answer) = publish(&s.live, body.clone()).await;
        assert_eq!(got, status, "{body} → {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }
    // A text of 10 MB never reaches the counter.
    let huge = j!({"text": "x".repeat(10 * 1024 * 1024), "account_ids": [s.x]});
    let (status, _) = publish(&s.live, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // An account of another workspace is not found.
    let stranger = s.app.browser();
    stranger
        .sign_up(&unique_email("stranger"), "Elsewhere")
        .await;
    let theirs = ApiClient::new(&s.app.base, &stranger.create_key("t", "test", &[]).await);
    let their_sandbox = connect_sandbox(&s.app.base, &theirs, "theirs").await;
    let (status, body) = publish(&s.test, j!({"text": "hi", "account_ids": [their_sandbox]})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );

    let (_, _, page) = json(s.live.get("/v1/posts")).await;
    assert!(page["data"].as_array().unwrap().is_empty(), "{page}");
    let (_, _, page) = json(s.test.get("/v1/posts")).await;
    assert!(page["data"].as_array().unwrap().is_empty(), "{page}");
    assert_eq!(s.platforms.platform("x").publish_calls, 0);
}

#[actix_web::test]
async fn a_scheduled_post_can_be_edited_or_canceled_until_it_goes_and_then_goes_once() {
    let s = setup().await;
    let later = |secs: i64| {
        time::OffsetDateTime::from_unix_timestamp(socializer::domain::now() + secs)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap())
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let (status, post) = publish(
        &s.test,
        j!({"text": "Later", "account_ids": [s.sandbox], "publish_at": later(3600)}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{post}");
    let id = post["id"].as_str().unwrap().to_owned();
    assert_eq!(post["state"], "scheduled");
    let (status, _, edited) = json(
        s.test
            .patch(&format!("/v1/posts/{id}"))
            .json(&j!({"text": "Sooner", "publish_at": later(2)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["text"], "Sooner");
    // An edit the platform would refuse changes nothing.
    let (status, _, _) = json(
        s.test
            .patch(&format!("/v1/posts/{id}"))
            .json(&j!({"text": "y".repeat(300)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // X's duplicate rule follows the edit: the old text is free again, the new one is taken.
    let (status, body) = publish(
        &s.test,
        j!({"text": "Sooner", "account_ids": [s.sandbox], "publish_at": later(7200)}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = publish(
        &s.test,
        j!({"text": "Later", "account_ids": [s.sandbox], "publish_at": later(7200)}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let freed = body["id"].as_str().unwrap().to_owned();
    let (status, _, body) = json(
        s.test
            .patch(&format!("/v1/posts/{freed}"))
            .json(&j!({"text": "Sooner"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an edit into a duplicate: {body}"
    );
    let deleted = s
        .test
        .delete(&format!("/v1/posts/{freed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let done = wait_for(&s.test, &id, settled).await;
    assert_eq!(done["state"], "published", "{done}");
    assert_eq!(done["text"], "Sooner");
    assert!(unix(&done["targets"][0]["attempts"][0]["started_at"]) >= unix(&edited["publish_at"]));

    // Canceled before its time: never sent.
    let (_, post) = publish(
        &s.test,
        j!({"text": "Never", "account_ids": [s.sandbox], "publish_at": later(2)}),
    )
    .await;
    let id = post["id"].as_str().unwrap().to_owned();
    let (status, _, canceled) = json(s.test.post(&format!("/v1/posts/{id}/cancel"))).await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["state"], "canceled");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, _, still) = json(s.test.get(&format!("/v1/posts/{id}"))).await;
    assert_eq!(still["state"], "canceled");
    assert!(
        still["targets"][0]["attempts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (status, _, _) = json(s.test.post(&format!("/v1/posts/{id}/cancel"))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Lists: newest first, by state, in pages.
    let (_, _, page) = json(s.test.get("/v1/posts?state=canceled")).await;
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    let (_, _, page) = json(s.test.get("/v1/posts?limit=1")).await;
    assert_eq!(page["data"][0]["id"], id.as_str());
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, _, next) = json(s.test.get(&format!("/v1/posts?limit=1&cursor={cursor}"))).await;
    assert_eq!(next["data"][0]["text"], "Sooner");
    assert!(next["next_cursor"].is_null());
    for bad in ["state=lost", "limit=0", "cursor=post_zz"] {
        let (status, _, _) = json(s.test.get(&format!("/v1/posts?{bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// A signed-in person calling `/v1` with their session, as the dashboard's own pages do.
async fn as_person(
    browser: &crate::harness::Browser,
) -> impl Fn(reqwest::Method, &str) -> reqwest::RequestBuilder + '_ {
    let token = page_token(browser).await;
    move |method, path| v1(browser, method, path).header("x-csrf-token", &token)
}

#[actix_web::test]
async fn members_manage_their_own_posts_and_owners_and_admins_everyone_s() {
    use reqwest::Method;
    let (app, mailbox) = app_with_mail().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Team").await;
    let mut members = Vec::new();
    for name in ["writer", "other"] {
        let email = unique_email(name);
        invite(&owner, &email, "member").await;
        let link = mailbox.link(&email, "/invitation", 1).await;
        members.push(sign_up_through(&app, &link).await);
    }
    let writer = as_person(&members[0]).await;
    let other = as_person(&members[1]).await;
    let owner_key = ApiClient::new(&app.base, &owner.create_key("k", "test", &[]).await);
    let sandbox = connect_sandbox(&app.base, &owner_key, "team").await;
    let at = time::OffsetDateTime::from_unix_timestamp(socializer::domain::now() + 3600)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, _, post) = json(
        writer(Method::POST, "/v1/posts")
            .json(&j!({"text": "Mine", "account_ids": [sandbox], "publish_at": at})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{post}");
    let id = post["id"].as_str().unwrap();
    // Another member sees it but cannot change it.
    let (status, _, _) = json(other(Method::GET, &format!("/v1/posts/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    for request in [
        other(Method::POST, &format!("/v1/posts/{id}/cancel")),
        other(Method::PATCH, &format!("/v1/posts/{id}")).json(&j!({"text": "Theirs"})),
        other(Method::DELETE, &format!("/v1/posts/{id}")),
    ] {
        let (status, _, body) = json(request).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{body}"
        );
    }
    let (_, _, unchanged) = json(writer(Method::GET, &format!("/v1/posts/{id}"))).await;
    assert_eq!(
        (unchanged["text"].as_str(), unchanged["state"].as_str()),
        (Some("Mine"), Some("scheduled"))
    );
    // A key without posts:write cannot publish; one without posts:read cannot read.
    let reader = ApiClient::new(
        &app.base,
        &owner.create_key("r", "test", &["posts:read"]).await,
    );
    let (status, body) = publish(&reader, j!({"text": "No", "account_ids": [sandbox]})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let blind = ApiClient::new(
        &app.base,
        &owner.create_key("b", "test", &["accounts:read"]).await,
    );
    let (status, _, _) = json(blind.get("/v1/posts")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The owner manages everyone's posts; the audit log records it, not each delivery.
    let (status, _, canceled) = json(owner_key.post(&format!("/v1/posts/{id}/cancel"))).await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    let live = ApiClient::new(&app.base, &owner.create_key("audit", "live", &[]).await);
    let (_, _, events) = json(live.get("/v1/audit-events")).await;
    let actions: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("post."))
        .collect();
    assert_eq!(actions, ["post.canceled", "post.created"], "{events}");
}

#[actix_web::test]
async fn an_account_whose_email_is_unconfirmed_publishes_to_the_sandbox_only() {
    let s = setup().await;
    s.app
        .db
        .execute_as_admin("UPDATE users SET email_verified_at = NULL");
    let (status, body) = publish(&s.live, j!({"text": "Live", "account_ids": [s.x]})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "email_unconfirmed"),
        "{body}"
    );
    let (status, body) = publish(
        &s.test,
        j!({"text": "Test mode", "account_ids": [s.sandbox]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(s.platforms.platform("x").publish_calls, 0);
}

#[actix_web::test]
async fn a_token_near_expiry_is_refreshed_first_and_a_refused_one_once_before_a_second_send() {
    let platforms_expiry = 300;
    let s = setup().await;
    // X now hands out tokens that expire within ten minutes: the next send refreshes first.
    s.platforms.platform("x").expires_in = platforms_expiry;
    s.app.db.execute_as_admin(&format!(
        "UPDATE connected_accounts SET token_expires_at = {} WHERE platform = 'x'",
        socializer::domain::now() + platforms_expiry
    ));
    let (_, post) = publish(&s.live, j!({"text": "Fresh token", "account_ids": [s.x]})).await;
    let done = wait_for(&s.live, post["id"].as_str().unwrap(), settled).await;
    assert_eq!(target_state(&done, 0), "published", "{done}");
    {
        let x = s.platforms.platform("x");
        assert_eq!(x.refresh_uses.len(), 1, "refreshed once before sending");
        assert_eq!(x.publish_calls, 1);
    }

    // X stops accepting the current token (revoked there): the send is refused with 401,
    // nothing is published, the token is refreshed once and the post sent once more.
    {
        let mut x = s.platforms.platform("x");
        x.expires_in = 7200;
        let current = x.issued_access.last().unwrap().clone();
        x.revoked.push(current.clone());
        x.revoke_access(&current);
    }
    s.app.db.execute_as_admin(&format!(
        "UPDATE connected_accounts SET token_expires_at = {} WHERE platform = 'x'",
        socializer::domain::now() + 7200
    ));
    let (_, post) = publish(&s.live, j!({"text": "After a 401", "account_ids": [s.x]})).await;
    let done = wait_for(&s.live, post["id"].as_str().unwrap(), settled).await;
    assert_eq!(target_state(&done, 0), "published", "{done}");
    let x = s.platforms.platform("x");
    assert_eq!(x.refresh_uses.len(), 2, "one more refresh after the 401");
    assert_eq!(
        x.publish_calls, 3,
        "the refused send and the one after the refresh"
    );
    // The refused call was turned away at its token, before X read the text.
    assert_eq!(x.calls_by_text.get("After a 401"), Some(&1));
    assert_eq!(x.published.len(), 2);
}

#[actix_web::test]
async fn what_an_edit_or_a_retry_may_not_do() {
    let s = setup().await;
    let at = |secs: i64| {
        time::OffsetDateTime::from_unix_timestamp(socializer::domain::now() + secs)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    // Moving a post next to the same text to the same account is X's duplicate.
    let (_, first) = publish(
        &s.test,
        j!({"text": "Moving", "account_ids": [s.sandbox], "publish_at": at(3600)}),
    )
    .await;
    let (status, second) = publish(
        &s.test,
        j!({"text": "Moving", "account_ids": [s.sandbox], "publish_at": at(5 * 86400)}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let id = second["id"].as_str().unwrap();
    let (status, _, body) = json(
        s.test
            .patch(&format!("/v1/posts/{id}"))
            .json(&j!({"publish_at": at(7200)})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Its own text at its own time is no duplicate of itself.
    let (status, _, body) = json(
        s.test
            .patch(&format!("/v1/posts/{}", first["id"].as_str().unwrap()))
            .json(&j!({"publish_at": at(3700)})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A target whose account was disconnected is not retried: a reconnection is a new account.
    let (_, post) = publish(
        &s.live,
        j!({"text": "Going", "account_ids": [s.linkedin], "publish_at": at(2)}),
    )
    .await;
    let response = s
        .live
        .delete(&format!("/v1/accounts/{}", s.linkedin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let done = wait_for(&s.live, post["id"].as_str().unwrap(), settled).await;
    assert_eq!(
        done["targets"][0]["error"]["code"], "account_gone",
        "{done}"
    );
    let (status, _, body) = json(s.live.post(&format!(
        "/v1/posts/{}/targets/{}/retry",
        post["id"].as_str().unwrap(),
        s.linkedin
    )))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer connected")
    );
}

#[actix_web::test]
async fn linkedin_refuses_an_expired_version_and_the_target_fails_with_its_words() {
    let s = setup_with(&[("SOCIALIZER_LINKEDIN_VERSION", "202401")]).await;
    let (_, post) = publish(
        &s.live,
        j!({"text": "Old API", "account_ids": [s.linkedin]}),
    )
    .await;
    let done = wait_for(&s.live, post["id"].as_str().unwrap(), settled).await;
    assert_eq!(target_state(&done, 0), "failed", "{done}");
    assert_eq!(done["targets"][0]["error"]["code"], "version_expired");
    assert!(
        done["targets"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("426"),
        "{done}"
    );
    let li = s.platforms.platform("linkedin");
    assert_eq!((li.publish_calls, li.published.len()), (1, 0));
}

#[actix_web::test]
async fn another_workspace_cannot_see_or_touch_a_post() {
    let s = setup().await;
    let (_, post) = publish(
        &s.test,
        j!({"text": "Ours", "account_ids": [s.sandbox], "publish_at": time::OffsetDateTime::from_unix_timestamp(socializer::domain::now() + 3600).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()}),
    )
    .await;
    let id = post["id"].as_str().unwrap();
    let stranger = s.app.browser();
    stranger.sign_up(&unique_email("stranger"), "Theirs").await;
    let theirs = ApiClient::new(&s.app.base, &stranger.create_key("t", "test", &[]).await);
    for request in [
        theirs.get(&format!("/v1/posts/{id}")),
        theirs
            .patch(&format!("/v1/posts/{id}"))
            .json(&j!({"text": "Taken"})),
        theirs.post(&format!("/v1/posts/{id}/cancel")),
        theirs.delete(&format!("/v1/posts/{id}")),
        theirs.post(&format!("/v1/posts/{id}/targets/{}/retry", s.sandbox)),
    ] {
        let (status, _, body) = json(request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    // Their pages answer 404 too.
    for path in [format!("/posts/{id}/edit"), format!("/posts/{id}/cancel")] {
        assert_eq!(
            stranger.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let (_, _, list) = json(theirs.get("/v1/posts")).await;
    assert!(list["data"].as_array().unwrap().is_empty());
    let (_, _, after) = json(s.test.get(&format!("/v1/posts/{id}"))).await;
    assert_eq!(
        (after["text"].as_str(), after["state"].as_str()),
        (Some("Ours"), Some("scheduled"))
    );
}
