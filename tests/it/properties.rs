//! Property tests of the parsers at the service's edge: whatever they are given, they answer
//! without panicking, and what they accept reads back as itself. Form and JSON bodies are
//! thrown at the real server, which must answer every one with a 4xx, never a 5xx.

use crate::harness::{ApiClient, TestApp, unique_email};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use socializer::auth::api_key::{KeyMode, NewApiKey, PresentedKey};
use socializer::domain::{Email, LocalPath, RedirectUri, WorkspaceName};

const RIGHT_TO_LEFT_OVERRIDE: char = '\u{202e}';
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Text that leans on what breaks parsers: controls, bidirectional marks, invisible joiners,
/// compatibility forms, astral characters, URL and HTML punctuation.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        "[a-zA-Z0-9._%+-]{1,12}",
        Just("@".to_owned()),
        Just("/".to_owned()),
        Just("//".to_owned()),
        Just("\\".to_owned()),
        Just(":".to_owned()),
        Just("%".to_owned()),
        Just("\u{202e}".to_owned()),
        Just("\u{200b}".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\r\n".to_owned()),
        Just("\0".to_owned()),
        Just("ｏ".to_owned()),
        Just("é".to_owned()),
        Just("e\u{301}".to_owned()),
        Just("😀".to_owned()),
        Just("xn--".to_owned()),
        Just("<script>".to_owned()),
        Just("https://".to_owned()),
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_generated_key_parses_as_itself_and_any_one_character_changed_is_refused(
        live in any::<bool>(),
        at in 8usize..64,
        with in 0usize..62,
    ) {
        let mode = if live { KeyMode::Live } else { KeyMode::Test };
        let key = NewApiKey::generate(mode);
        let plain = key.expose();
        let presented = PresentedKey::parse(plain).expect("a generated key parses");
        prop_assert_eq!(presented.mode, mode);
        prop_assert_eq!(presented.last4.as_str(), &plain[plain.len() - 4..]);
        prop_assert_eq!(presented.digest, key.digest());

        let at = at.min(plain.len() - 1);
        let mut changed = plain.as_bytes().to_vec();
        prop_assume!(changed[at] != BASE62[with]);
        changed[at] = BASE62[with];
        let changed = String::from_utf8(changed).expect("ascii");
        prop_assert!(PresentedKey::parse(&changed).is_err(), "{changed} was accepted");
    }

    #[test]
    fn anything_presented_as_a_key_is_answered_without_panicking(raw in ".{0,80}") {
        let _ = PresentedKey::parse(&raw);
        let prefixed = format!("sk_live_{raw}");
        let _ = PresentedKey::parse(&prefixed);
    }

    #[test]
    fn an_email_accepted_reads_back_as_itself(raw in hostile_text()) {
        if let Ok(email) = Email::parse(&raw) {
            let again = Email::parse(email.as_str()).ok();
            prop_assert_eq!(again, Some(email.clone()));
            prop_assert!(!email.as_str().chars().any(char::is_whitespace));
            prop_assert_eq!(email.as_str().matches('@').count(), 1);
        }
    }

    #[test]
    fn an_email_is_one_address_however_its_letters_are_cased(
        local in "[a-z][a-z0-9]{0,8}(\\.[a-z0-9]{1,8}){0,2}",
        domain in "[a-z][a-z0-9-]{0,10}[a-z0-9]\\.[a-z]{2,6}",
    ) {
        let lower = format!("{local}@{domain}");
        let upper = lower.to_uppercase();
        prop_assert_eq!(Email::parse(&upper).ok(), Email::parse(&lower).ok());
        prop_assert!(Email::parse(&lower).is_ok());
    }

    #[test]
    fn a_workspace_name_accepted_reads_back_as_itself(raw in hostile_text()) {
        if let Ok(name) = WorkspaceName::parse(&raw) {
            let again = WorkspaceName::parse(name.as_str()).ok();
            prop_assert_eq!(again, Some(name.clone()));
            prop_assert!(!name.as_str().chars().any(|c| c.is_control()));
            prop_assert!(!name.as_str().contains(RIGHT_TO_LEFT_OVERRIDE));
        }
    }

    #[test]
    fn a_next_path_accepted_stays_on_this_site(raw in hostile_text()) {
        if let Some(path) = LocalPath::parse(&raw) {
            let path = path.as_str();
            prop_assert!(path.starts_with('/'));
            prop_assert!(!path.starts_with("//") && !path.starts_with("/\\"));
            prop_assert!(!path.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\'));
            // Resolved against this site the way a browser does, it is still this site.
            let base = url::Url::parse("https://socializer.example/").expect("base");
            let joined = base.join(path).expect("a local path joins");
            prop_assert_eq!(joined.host_str(), Some("socializer.example"));
            prop_assert_eq!(LocalPath::parse(path).map(|p| p.as_str().to_owned()), Some(path.to_owned()));
        }
    }

    #[test]
    fn a_redirect_uri_accepted_is_exactly_what_was_given(raw in hostile_text()) {
        if let Ok(uri) = RedirectUri::parse(&raw) {
            prop_assert_eq!(uri.as_str(), raw.as_str());
            let again = RedirectUri::parse(uri.as_str()).ok();
            prop_assert_eq!(again, Some(uri.clone()));
            prop_assert!(raw.starts_with("http://") || raw.starts_with("https://"));
            prop_assert!(!raw.contains('#'));
        }
    }

    #[test]
    fn a_redirect_uri_built_from_parts_parses(
        https in any::<bool>(),
        // No "--" in a label: "xn--…" would be punycode, which a URL parser checks.
        host in "[a-z][a-z0-9]{0,4}(-[a-z0-9]{1,5})?\\.(example|test|app)",
        path in "(/[a-zA-Z0-9_~-][a-zA-Z0-9._~-]{0,7}){0,4}",
    ) {
        let raw = format!("{}://{host}{path}", if https { "https" } else { "http" });
        let raw = if path.is_empty() { format!("{raw}/") } else { raw };
        let uri = RedirectUri::parse(&raw);
        prop_assert!(uri.is_ok(), "{raw} was refused");
    }
}

/// Bodies of every shape, posted to the real server's forms and JSON routes: each is answered
/// with a 4xx (or a success for what happens to be valid), never a 5xx, and the server keeps
/// answering.
#[actix_web::test]
async fn forms_and_json_of_any_shape_get_a_4xx_never_a_5xx() {
    // A limit no run reaches, so that every body is read rather than refused as one too many.
    let app = TestApp::spawn_with(|vars| {
        vars.insert("SOCIALIZER_RATE_LIMIT_FREE".into(), "1000000".into());
    })
    .await;
    let owner = app.browser();
    owner.sign_up(&unique_email("props"), "Props").await;
    let live = ApiClient::new(&app.base, &owner.create_key("props", "live", &[]).await);
    // Sandbox connections are test-mode data.
    let test = ApiClient::new(&app.base, &owner.create_key("props", "test", &[]).await);
    let token = owner.csrf("/settings/api-keys").await;

    let mut runner = proptest::test_runner::TestRunner::default();
    let bodies = proptest::collection::vec(any::<u8>(), 0..300);
    let mut cases: Vec<Vec<u8>> = (0..96)
        .map(|_| bodies.new_tree(&mut runner).expect("a body").current())
        .collect();
    // Shapes a fuzzer would find: JSON that is almost right, fields of the wrong type, forms
    // with odd encodings.
    for text in [
        "{\"label\": 1}",
        "{\"label\": \"x\", \"mode\": \"live\", \"scopes\": \"keys:read\"}",
        "{\"label\": \"x\", \"extra\": true}",
        "{\"label\": \"x\", \"expires_in_days\": -1}",
        "{\"label\": \"x\", \"expires_in_days\": 1e400}",
        "[\"label\"]",
        "{\"label\": \"\\ud800\"}",
        "{\"grace_hours\": 169}",
        "label=%FF&mode=live",
        "label=x&label=y&scopes=",
        "csrf_token=&label=x",
        "%",
        "=&=&&",
    ] {
        cases.push(text.as_bytes().to_vec());
    }

    for body in cases {
        for (api, path) in [
            (&live, "/v1/api-keys"),
            (&test, "/v1/connect/sandbox"),
            (
                &live,
                "/v1/api-keys/key_00000000000000000000000000000000/roll",
            ),
        ] {
            let answer = api
                .post(path)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("the server answers");
            let status = answer.status();
            assert!(
                status.is_client_error() || status.is_success(),
                "{path} answered {status} to {:?}",
                String::from_utf8_lossy(&body)
            );
        }
        // The page forms: the session's token first, then the bytes.
        let mut form = format!("csrf_token={token}&").into_bytes();
        form.extend_from_slice(&body);
        for path in ["/settings/api-keys", "/login", "/signup", "/workspaces"] {
            let answer = owner
                .client
                .post(format!("{}{path}", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone())
                .send()
                .await
                .expect("the server answers");
            let status = answer.status();
            assert!(
                !status.is_server_error() || status.as_u16() == 503,
                "{path} answered {status} to {:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    assert_eq!(
        crate::harness::json(live.get("/v1/status")).await.0,
        reqwest::StatusCode::OK
    );
}
