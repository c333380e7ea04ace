//! Webhooks through the real server, received by a receiver that checks every signature with
//! the reference implementation of Standard Webhooks: test events, events of real changes
//! (a post published, accounts, keys, members), retries, a secret rolling, 410, redirects,
//! floods, silence, the address rules, the limits, the roles, and a server killed between a
//! change and its delivery.

use crate::durability::Server;
use crate::harness::{ApiClient, Browser, TestApp, TestDatabase, json, status_of, unique_email};
use crate::publishing::connect_sandbox;
use crate::webhook_receiver::{Receiver, body};
use reqwest::StatusCode;
use serde_json::{Value, json as j};
use std::time::{Duration, Instant};

pub struct Setup {
    pub app: TestApp,
    pub email: String,
    pub owner: Browser,
    pub live: ApiClient,
    pub test: ApiClient,
}

pub const ALLOW_PRIVATE: (&str, &str) = ("SOCIALIZER_WEBHOOK_ALLOW_PRIVATE", "true");

pub async fn setup(extra: &[(&str, &str)]) -> Setup {
    let vars: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let app = TestApp::spawn_with(|v| v.extend(vars)).await;
    let owner = app.browser();
    let email = unique_email("hooks");
    owner.sign_up(&email, "Hooks").await;
    let live = ApiClient::new(&app.base, &owner.create_key("live", "live", &[]).await);
    let test = ApiClient::new(&app.base, &owner.create_key("test", "test", &[]).await);
    Setup {
        app,
        email,
        owner,
        live,
        test,
    }
}

/// Adds an endpoint through the API; answers it (with its secret).
async fn add(client: &ApiClient, body: Value) -> Value {
    let (status, _, endpoint) = json(client.post("/v1/webhooks").json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    endpoint
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn deliveries(client: &ApiClient, endpoint: &str) -> Vec<Value> {
    let (status, _, page) = json(client.get(&format!("/v1/webhooks/{endpoint}/deliveries"))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

/// Waits until the endpoint's deliveries satisfy `done`.
async fn deliveries_until(
    client: &ApiClient,
    endpoint: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let found = deliveries(client, endpoint).await;
        if done(&found) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never settled: {found:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_test_event_arrives_signed_as_the_reference_verifier_expects() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let endpoint = add(
        &s.live,
        j!({"url": receiver.url("/in"), "description": "CRM sync"}),
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{endpoint}");
    assert_eq!(endpoint["state"], "enabled");
    assert_eq!(endpoint["event_types"], j!([]));
    // The secret is shown once: never in a list, a read, or the audit log.
    let listed = crate::harness::text(s.live.get("/v1/webhooks")).await;
    let shown = crate::harness::text(s.live.get(&format!("/v1/webhooks/{}", id(&endpoint)))).await;
    let audit = crate::harness::text(s.live.get("/v1/audit-events")).await;
    for answer in [&listed, &shown, &audit] {
        assert!(!answer.contains(&secret[6..]), "{answer}");
    }
    assert!(audit.contains("webhook.created"), "{audit}");

    receiver.secrets(&[&secret]).await;
    let (status, _, sent) =
        json(s.live.post(&format!("/v1/webhooks/{}/test", id(&endpoint)))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let request = &got[0];
    assert_eq!(request["verified_with"], j!([0]), "{request}");
    assert_eq!(request["id"], sent["event_id"]);
    assert_eq!(request["content_type"], "application/json");
    assert!(request["signature"].as_str().unwrap().starts_with("v1,"));
    let event = body(request);
    assert_eq!(event["type"], "webhook.test");
    assert_eq!(event["livemode"], true);
    assert_eq!(event["data"]["endpoint_id"], id(&endpoint).as_str());
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));

    let found = deliveries_until(&s.live, &id(&endpoint), Duration::from_secs(5), |d| {
        d.first().is_some_and(|d| d["state"] == "delivered")
    })
    .await;
    let delivery = &found[0];
    assert_eq!(delivery["event_type"], "webhook.test");
    assert_eq!(delivery["event_id"], sent["event_id"]);
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["number"], 1);
    assert_eq!(attempts[0]["status"], 200);
    assert_eq!(attempts[0]["answer"], "answered 200");

    // Resend: the same event, the same webhook-id, once more.
    let (status, _, again) = json(s.live.post(&format!(
        "/v1/webhooks/{}/deliveries/{}/resend",
        id(&endpoint),
        delivery["id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| r.len() == 2)
        .await;
    assert_eq!(got[1]["id"], got[0]["id"]);
    assert_eq!(got[1]["verified_with"], j!([0]));
}

#[actix_web::test]
async fn a_published_post_is_reported_once_even_when_the_receiver_first_fails() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let sandbox = connect_sandbox(&s.app.base, &s.test, "demo").await;
    let endpoint = add(
        &s.live,
        j!({"url": receiver.url("/posts"), "event_types": ["post.published", "post.failed"]}),
    )
    .await;
    receiver
        .control(j!({"secrets": [endpoint["secret"]], "statuses": [500]}))
        .await;
    let (status, _, post) = json(
        s.test
            .post("/v1/posts")
            .json(&j!({"text": "hello from the hooks test", "account_ids": [sandbox]})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{post}");
    // The first attempt meets a 500; the retry 5 s later is answered 200.
    let got = receiver
        .wait_for(Duration::from_secs(20), |r| r.len() >= 2)
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got_after = receiver.received().await;
    assert_eq!(got_after.len(), 2, "exactly one retry: {got_after:#?}");
    assert_eq!(
        got[0]["id"], got[1]["id"],
        "a retry carries the same webhook-id"
    );
    assert_eq!(got[0]["answered"], 500);
    assert_eq!(got[1]["answered"], 200);
    let delivered = got.iter().filter(|r| r["answered"] == 200).count();
    assert_eq!(delivered, 1);
    for request in &got {
        assert_eq!(request["verified_with"], j!([0]), "{request}");
    }
    let event = body(&got[1]);
    assert_eq!(event["type"], "post.published");
    assert_eq!(
        event["livemode"], false,
        "a sandbox post is a test-mode event"
    );
    assert_eq!(event["data"]["post_id"], post["id"]);
    assert_eq!(event["data"]["account_id"], sandbox.as_str());
    assert_eq!(event["data"]["platform"], "sandbox");
    assert_eq!(event["data"]["state"], "published");
    let gap = got[1]["at_ms"].as_i64().unwrap() - got[0]["at_ms"].as_i64().unwrap();
    assert!(
        (4000..15000).contains(&gap),
        "the first retry comes after 5 s: {gap} ms"
    );

    let found = deliveries(&s.live, &id(&endpoint)).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["state"], "delivered");
    let statuses: Vec<&Value> = found[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(statuses, [&j!(500), &j!(200)]);
}

#[actix_web::test]
async fn changes_to_accounts_keys_and_members_are_reported_and_carry_no_secret() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let endpoint = add(&s.live, j!({"url": receiver.url("/all")})).await;
    receiver
        .secrets(&[endpoint["secret"].as_str().unwrap()])
        .await;
    let sandbox = connect_sandbox(&s.app.base, &s.test, "hooked").await;
    assert_eq!(
        status_of(s.test.delete(&format!("/v1/accounts/{sandbox}"))).await,
        StatusCode::NO_CONTENT
    );
    let doomed_key = s.owner.create_key("doomed", "live", &[]).await;
    let (_, _, keys) = json(s.live.get("/v1/api-keys")).await;
    let doomed = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["label"] == "doomed")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        status_of(s.live.delete(&format!("/v1/api-keys/{doomed}"))).await,
        StatusCode::NO_CONTENT
    );
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 3)
        .await;
    let mut types: Vec<String> = got
        .iter()
        .map(|r| body(r)["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(
        types,
        ["account.connected", "account.disconnected", "key.revoked"],
        "{got:#?}"
    );
    for request in &got {
        assert_eq!(request["verified_with"], j!([0]), "{request}");
        let raw = request["body"].as_str().unwrap();
        assert!(
            !raw.contains(&doomed_key[8..]),
            "a key's secret in an event: {raw}"
        );
        assert!(!raw.contains("token"), "{raw}");
        let event = body(request);
        match event["type"].as_str().unwrap() {
            "key.revoked" => {
                assert_eq!(event["data"]["key_id"], doomed.as_str());
                assert_eq!(event["data"]["reason"], "by_person");
                assert_eq!(event["livemode"], true);
            }
            _ => {
                assert_eq!(event["data"]["account_id"], sandbox.as_str());
                assert_eq!(event["livemode"], false);
            }
        }
    }
}

#[actix_web::test]
async fn a_rolled_secret_signs_alongside_the_new_one() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let endpoint = add(&s.live, j!({"url": receiver.url("/roll")})).await;
    let old = endpoint["secret"].as_str().unwrap().to_owned();
    let (status, _, rolled) = json(
        s.live
            .post(&format!("/v1/webhooks/{}/roll-secret", id(&endpoint))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rolled}");
    let new = rolled["secret"].as_str().unwrap().to_owned();
    assert_ne!(old, new);
    assert!(rolled["previous_secret_until"].is_string(), "{rolled}");
    // The receiver knows only the old secret, then only the new one: both verify.
    receiver.secrets(&[&old, &new]).await;
    assert_eq!(
        status_of(s.live.post(&format!("/v1/webhooks/{}/test", id(&endpoint)))).await,
        StatusCode::ACCEPTED
    );
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    assert_eq!(got[0]["verified_with"], j!([0, 1]), "{:#?}", got[0]);
    assert_eq!(got[0]["signature"].as_str().unwrap().split(' ').count(), 2);
}

#[actix_web::test]
async fn a_410_disables_the_endpoint_at_once() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let endpoint = add(&s.live, j!({"url": receiver.url("/gone")})).await;
    receiver.control(j!({"statuses": [410]})).await;
    s.live
        .post(&format!("/v1/webhooks/{}/test", id(&endpoint)))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let (_, _, shown) = json(s.live.get(&format!("/v1/webhooks/{}", id(&endpoint)))).await;
        if shown["state"] == "disabled" {
            break shown;
        }
        assert!(Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(shown["disabled_reason"], "gone");
    let found = deliveries(&s.live, &id(&endpoint)).await;
    assert_eq!(found[0]["state"], "failed");
    // Disabled: a test event is refused, and nothing more is sent.
    assert_eq!(
        status_of(s.live.post(&format!("/v1/webhooks/{}/test", id(&endpoint)))).await,
        StatusCode::CONFLICT
    );
    assert_eq!(receiver.received().await.len(), 1);
    // Turned on again by a person, it receives again.
    let (status, _, on) = json(
        s.live
            .patch(&format!("/v1/webhooks/{}", id(&endpoint)))
            .json(&j!({"enabled": true})),
    )
    .await;
    assert_eq!(
        (status, &on["state"]),
        (StatusCode::OK, &j!("enabled")),
        "{on}"
    );
    assert!(on["disabled_reason"].is_null());
}

#[actix_web::test]
async fn redirects_are_not_followed_floods_are_cut_and_silence_times_out() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE, ("SOCIALIZER_WEBHOOK_TIMEOUT_SECS", "2")]).await;
    let endpoint = add(&s.live, j!({"url": receiver.url("/odd")})).await;
    let send_test = || async {
        let (_, _, sent) = json(s.live.post(&format!("/v1/webhooks/{}/test", id(&endpoint)))).await;
        sent["event_id"].as_str().unwrap().to_owned()
    };
    // The first attempt of the delivery of `event`, once made.
    let first_attempt = |event: String| {
        let (live, endpoint) = (&s.live, id(&endpoint));
        async move {
            let found = deliveries_until(live, &endpoint, Duration::from_secs(10), |d| {
                d.iter().any(|d| {
                    d["event_id"] == event.as_str() && !d["attempts"].as_array().unwrap().is_empty()
                })
            })
            .await;
            found
                .into_iter()
                .find(|d| d["event_id"] == event.as_str())
                .unwrap()
        }
    };

    receiver
        .control(j!({"redirect": receiver.url("/elsewhere")}))
        .await;
    let delivery = first_attempt(send_test().await).await;
    assert_eq!(delivery["attempts"][0]["status"], 307);
    assert_eq!(
        delivery["state"], "pending",
        "a redirect is a failure to retry"
    );

    receiver
        .control(j!({"redirect": null, "flood": true}))
        .await;
    let delivery = first_attempt(send_test().await).await;
    let attempt = &delivery["attempts"][0];
    assert_eq!(attempt["status"], 200);
    assert_eq!(delivery["state"], "delivered");
    assert_eq!(attempt["answer"].as_str().unwrap().len(), 1024);
    assert!(attempt["duration_ms"].as_i64().unwrap() < 2000, "{attempt}");

    receiver.control(j!({"flood": false, "silent": true})).await;
    let silent = send_test().await;
    // While the receiver keeps the service waiting, the API answers as ever.
    let asked = Instant::now();
    assert_eq!(status_of(s.live.get("/v1/status")).await, StatusCode::OK);
    assert!(asked.elapsed() < Duration::from_millis(500));
    let delivery = first_attempt(silent).await;
    let attempt = &delivery["attempts"][0];
    assert!(attempt["status"].is_null(), "{attempt}");
    assert!(
        attempt["error"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{attempt}"
    );
    let took = attempt["duration_ms"].as_i64().unwrap();
    assert!((1900..4000).contains(&took), "{took} ms");
    assert!(
        receiver
            .received()
            .await
            .iter()
            .all(|r| r["path"] != "/elsewhere"),
        "a redirect was followed"
    );
}

#[actix_web::test]
async fn addresses_of_the_services_own_network_are_refused() {
    // No SOCIALIZER_WEBHOOK_ALLOW_PRIVATE: as in production.
    let s = setup(&[]).await;
    for url in [
        "http://127.0.0.1:9/in",
        "http://localhost:9/in",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/in",
        "http://10.0.0.1/in",
        "http://[::ffff:127.0.0.1]/in",
        "http://0.0.0.0:9/",
    ] {
        let (status, _, answer) = json(s.live.post("/v1/webhooks").json(&j!({"url": url}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("public addresses only"),
            "{url}: {answer}"
        );
    }
    let (_, _, listed) = json(s.live.get("/v1/webhooks")).await;
    assert_eq!(listed["data"], j!([]), "nothing was stored");
}

#[actix_web::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let cases = [
        (j!({"url": "http://user:pw@127.0.0.1/in"}), "user name"),
        (
            j!({"url": format!("{}#part", receiver.url("/in"))}),
            "fragment",
        ),
        (j!({"url": "http://127.0.0.1:0/in"}), "port"),
        (j!({"url": "ftp://127.0.0.1/in"}), "https"),
        (j!({"url": "not a url"}), "url"),
        (
            j!({"url": receiver.url("/in"), "description": "x".repeat(10_000)}),
            "too long",
        ),
        (
            j!({"url": receiver.url("/in"), "description": "a\u{202e}b"}),
            "invisible",
        ),
        (
            j!({"url": receiver.url("/in"), "event_types": ["post.everything"]}),
            "Unknown event type",
        ),
        (
            j!({"url": receiver.url("/in"), "secret": "whsec_mine"}),
            "unknown field",
        ),
    ];
    for (request, why) in cases {
        let (status, _, answer) = json(s.live.post("/v1/webhooks").json(&request)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{request}: {message}");
    }
    let (_, _, listed) = json(s.live.get("/v1/webhooks")).await;
    assert_eq!(listed["data"], j!([]));

    // Ten endpoints at most, however many ask at once.
    let asks = (0..14).map(|i| {
        s.live
            .post("/v1/webhooks")
            .json(&j!({"url": receiver.url(&format!("/n{i}"))}))
            .send()
    });
    let answers = crate::harness::all_at_once(asks).await;
    let made = answers
        .iter()
        .filter(|a| a.as_ref().unwrap().status() == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.as_ref().unwrap().status() == StatusCode::CONFLICT)
        .count();
    assert_eq!((made, refused), (10, 4));
    let (_, _, listed) = json(s.live.get("/v1/webhooks")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 10);
}

#[actix_web::test]
async fn only_owners_and_admins_with_live_keys_change_webhooks_and_only_their_own() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let endpoint = add(&s.live, j!({"url": receiver.url("/mine")})).await;
    let path = format!("/v1/webhooks/{}", id(&endpoint));
    // A test key reads but does not change.
    assert_eq!(status_of(s.test.get(&path)).await, StatusCode::OK);
    let (status, code) = crate::harness::error_of(
        s.test
            .post("/v1/webhooks")
            .json(&j!({"url": receiver.url("/t")})),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert_eq!(status_of(s.test.delete(&path)).await, StatusCode::FORBIDDEN);
    // A key without the scope is refused, naming it.
    let reader = ApiClient::new(
        &s.app.base,
        &s.owner
            .create_key("reader", "live", &["webhooks:read"])
            .await,
    );
    let (status, _, answer) = json(reader.delete(&path)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["error"]["code"], "insufficient_scope");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("webhooks:write"), "{message}");
    // Another workspace sees nothing of it.
    let stranger = TestApp::browser(&s.app);
    stranger
        .sign_up(&unique_email("stranger"), "Elsewhere")
        .await;
    let other = ApiClient::new(
        &s.app.base,
        &stranger.create_key("other", "live", &[]).await,
    );
    assert_eq!(status_of(other.get(&path)).await, StatusCode::NOT_FOUND);
    assert_eq!(status_of(other.delete(&path)).await, StatusCode::NOT_FOUND);
    assert_eq!(
        status_of(other.get(&format!("{path}/deliveries"))).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status_of(s.live.get(&path)).await, StatusCode::OK);
    // Deleted, it is gone.
    assert_eq!(
        status_of(s.live.delete(&path)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(status_of(s.live.get(&path)).await, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn an_event_written_before_a_kill_is_delivered_after_the_restart() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path());
    let data = dir.path().join("data");
    let vars = vec![(ALLOW_PRIVATE.0.to_owned(), ALLOW_PRIVATE.1.to_owned())];
    let server = Server::start_with(&data, &db, &vars, "info");
    let owner = server.browser();
    owner.sign_up(&unique_email("killed"), "Killed").await;
    let live = ApiClient::new(&server.base, &owner.create_key("live", "live", &[]).await);
    let endpoint = add(&live, j!({"url": receiver.url("/after")})).await;
    receiver
        .control(j!({"secrets": [endpoint["secret"]], "statuses": [503]}))
        .await;
    assert_eq!(
        status_of(live.post(&format!("/v1/webhooks/{}/test", id(&endpoint)))).await,
        StatusCode::ACCEPTED
    );
    // The first attempt fails; the retry is due 5 s later, in the database only.
    receiver
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    server.kill_9();
    let restarted = Server::start_with(&data, &db, &vars, "info");
    let got = receiver
        .wait_for(Duration::from_secs(20), |r| r.len() >= 2)
        .await;
    assert_eq!(got[1]["answered"], 200);
    assert_eq!(got[1]["id"], got[0]["id"]);
    assert_eq!(got[1]["verified_with"], j!([0]));
    let live = ApiClient::new(&restarted.base, &live.key);
    let found = deliveries_until(&live, &id(&endpoint), Duration::from_secs(5), |d| {
        d[0]["state"] == "delivered"
    })
    .await;
    assert_eq!(found[0]["attempts"].as_array().unwrap().len(), 2);
    restarted.kill_9();
}

#[actix_web::test]
async fn five_days_of_failures_disable_the_endpoint_and_tell_its_managers() {
    let receiver = Receiver::start();
    let s = setup(&[ALLOW_PRIVATE]).await;
    let endpoint = add(&s.live, j!({"url": receiver.url("/failing")})).await;
    let endpoint_id = id(&endpoint);
    receiver.control(j!({"statuses": [500, 500]})).await;
    // One failure starts the count; it is not yet five days old.
    s.live
        .post(&format!("/v1/webhooks/{endpoint_id}/test"))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let (_, _, shown) = json(s.live.get(&format!("/v1/webhooks/{endpoint_id}"))).await;
        if shown["failing_since"].is_string() {
            break shown;
        }
        assert!(Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(shown["state"], "enabled");
    // As if that first failure had been six days ago, with nothing delivered since.
    let six_days_ago = socializer::domain::now() - 6 * 24 * 3600;
    s.app.db.execute_as_admin(&format!(
        "UPDATE webhook_endpoints SET failing_since = {six_days_ago} WHERE id = '{endpoint_id}'"
    ));
    s.live
        .post(&format!("/v1/webhooks/{endpoint_id}/test"))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let shown = loop {
        let (_, _, shown) = json(s.live.get(&format!("/v1/webhooks/{endpoint_id}"))).await;
        if shown["state"] == "disabled" {
            break shown;
        }
        assert!(Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(shown["disabled_reason"], "failing");
    let mail = crate::harness::mailed(&s.app.mail, &s.email, "turned off").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains(&receiver.url("/failing")), "{}", mail[0]);
    assert!(mail[0].contains(&format!("/settings/webhooks/{endpoint_id}")));
    assert!(!mail[0].contains("whsec_"));
    // Turned on again, the count starts afresh and a success keeps it at nothing.
    let (_, _, on) = json(
        s.live
            .patch(&format!("/v1/webhooks/{endpoint_id}"))
            .json(&j!({"enabled": true})),
    )
    .await;
    assert!(on["failing_since"].is_null(), "{on}");
}

#[actix_web::test]
async fn members_joining_and_removed_are_reported() {
    let receiver = Receiver::start();
    let mailbox = crate::mailbox::Mailbox::start();
    let app = TestApp::spawn_with(|vars| {
        mailbox.configure(vars);
        vars.insert(ALLOW_PRIVATE.0.into(), ALLOW_PRIVATE.1.into());
    })
    .await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Team").await;
    let live = ApiClient::new(&app.base, &owner.create_key("live", "live", &[]).await);
    let endpoint = add(
        &live,
        j!({"url": receiver.url("/people"), "event_types": ["member.joined", "member.removed"]}),
    )
    .await;
    receiver
        .secrets(&[endpoint["secret"].as_str().unwrap()])
        .await;
    let (_, email) = crate::invitations::joined(&app, &mailbox, &owner, "admin").await;
    let user_id = crate::members::member_id(&owner, &email).await;
    let removed = owner
        .submit(
            "/settings/members",
            &format!("/settings/members/{user_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 2)
        .await;
    let mut events: Vec<Value> = got.iter().map(body).collect();
    events.sort_by_key(|e| e["type"].as_str().unwrap().to_owned());
    assert_eq!(events[0]["type"], "member.joined");
    assert_eq!(events[1]["type"], "member.removed");
    for event in &events {
        assert_eq!(event["data"]["user_id"], user_id.as_str());
        assert_eq!(event["data"]["email"], email.as_str());
        assert_eq!(event["data"]["role"], "admin");
        assert_eq!(event["livemode"], true);
    }
    assert_eq!(events[1]["data"]["reason"], "removed");
    assert!(got.iter().all(|r| r["verified_with"] == j!([0])));
}

#[actix_web::test]
async fn a_name_that_changes_its_answer_cannot_steer_a_delivery_inward() {
    let receiver = Receiver::start();
    // No private addresses allowed; names are resolved by the receiver's DNS server.
    let s = setup(&[("SOCIALIZER_WEBHOOK_DNS_SERVER", receiver.dns.as_str())]).await;
    let port = receiver.base.rsplit(':').next().unwrap().to_owned();
    receiver
        .control(j!({"dns": {
            "inside.test": ["127.0.0.1"],
            // Public when the endpoint is saved, the receiver's own address afterwards.
            "rebind.test": ["93.184.216.34", "127.0.0.1"],
        }}))
        .await;
    // A name that resolves to loopback is refused when it is saved.
    let (status, _, answer) = json(
        s.live
            .post("/v1/webhooks")
            .json(&j!({"url": format!("http://inside.test:{port}/in")})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("inside.test resolves to 127.0.0.1"),
        "{message}"
    );

    // One that answers a public address first is taken...
    let endpoint = add(
        &s.live,
        j!({"url": format!("http://rebind.test:{port}/in")}),
    )
    .await;
    assert_eq!(receiver.dns_queries().await.len(), 2);
    // ...and when it answers loopback at delivery, the delivery goes nowhere: the address the
    // connection would use is the one that was checked.
    s.live
        .post(&format!("/v1/webhooks/{}/test", id(&endpoint)))
        .send()
        .await
        .unwrap();
    let found = deliveries_until(&s.live, &id(&endpoint), Duration::from_secs(10), |d| {
        d.first()
            .is_some_and(|d| !d["attempts"].as_array().unwrap().is_empty())
    })
    .await;
    let attempt = &found[0]["attempts"][0];
    assert!(attempt["status"].is_null(), "{attempt}");
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.contains("rebind.test resolves to 127.0.0.1")
            && error.contains("public addresses only"),
        "{error}"
    );
    // One lookup for the delivery, the one that was checked; nothing reached the receiver.
    let queries = receiver.dns_queries().await;
    assert_eq!(
        queries
            .iter()
            .filter(|q| q["name"] == "rebind.test")
            .count(),
        2,
        "{queries:?}"
    );
    assert!(receiver.received().await.is_empty());
}

#[actix_web::test]
async fn two_processes_on_postgresql_deliver_each_event_once() {
    let receiver = Receiver::start();
    let vars = vec![
        (ALLOW_PRIVATE.0.to_owned(), ALLOW_PRIVATE.1.to_owned()),
        // Both processes open the endpoints' secrets: one root key, as in any deployment.
        (
            "SOCIALIZER_ROOT_KEY".to_owned(),
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ),
    ];
    let first = TestApp::spawn_with(|v| v.extend(vars.clone())).await;
    if !first.db.is_postgres() {
        eprintln!("several processes share a database only on PostgreSQL: skipped");
        return;
    }
    let second = TestApp::spawn_on(first.db.clone(), |v| v.extend(vars)).await;
    let owner = first.browser();
    owner.sign_up(&unique_email("owner"), "Shared").await;
    let key = owner.create_key("live", "live", &[]).await;
    let clients = [
        ApiClient::new(&first.base, &key),
        ApiClient::new(&second.base, &key),
    ];
    let endpoint = add(&clients[0], j!({"url": receiver.url("/shared")})).await;
    receiver
        .secrets(&[endpoint["secret"].as_str().unwrap()])
        .await;
    let n = 60;
    // Test events written through both processes at once; both deliverers compete for them.
    let sends = (0..n).map(|i| {
        clients[i % 2]
            .post(&format!("/v1/webhooks/{}/test", id(&endpoint)))
            .send()
    });
    for sent in crate::harness::all_at_once(sends).await {
        assert_eq!(sent.unwrap().status(), StatusCode::ACCEPTED);
    }
    let got = receiver
        .wait_for(Duration::from_secs(30), |r| r.len() >= n)
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_after = receiver.received().await;
    assert_eq!(got_after.len(), got.len());
    let mut ids: Vec<&str> = got.iter().map(|r| r["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((ids.len(), got.len()), (n, n), "each event exactly once");
    assert!(got.iter().all(|r| r["verified_with"] == j!([0])));
}
