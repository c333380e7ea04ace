//! Envelope encryption: data keys wrapped by the root key, a start refused without the root key that wrapped
//! them, and `socializer rotate-root-key` moving every data key to a new root key while the
//! token ciphertexts stay as they were.

use crate::connect::{approve_on_sandbox, begin, finish, param};
use crate::harness::{ApiClient, TestApp, TestDatabase, json, unique_email};
use base64::Engine as _;
use reqwest::StatusCode;
use std::process::Command;
use std::sync::Arc;

const BINARY: &str = env!("CARGO_BIN_EXE_socializer");

fn key(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

fn root(byte: u8) -> impl FnOnce(&mut std::collections::HashMap<String, String>) {
    move |vars| {
        vars.insert("SOCIALIZER_ROOT_KEY".into(), key(byte));
    }
}

/// A workspace with a sandbox account connected under the server's root key; answers the
/// test key and the account id.
async fn connected(app: &TestApp) -> (String, String) {
    let browser = app.browser();
    browser.sign_up(&unique_email("rotate"), "Rotating").await;
    let key = browser.create_key("test", "test", &[]).await;
    let client = ApiClient::new(&app.base, &key);
    let (auth_url, state) = begin(&client, "sandbox", Some("https://client.example/done")).await;
    let back = approve_on_sandbox(&app.base, &auth_url, "rotating").await;
    let (status, account) =
        finish(&client, "sandbox", &param(&back, "code").unwrap(), &state).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    (key, account["id"].as_str().unwrap().to_owned())
}

async fn check(app: &TestApp, key: &str, id: &str) -> StatusCode {
    let client = ApiClient::new(&app.base, key);
    json(client.post(&format!("/v1/accounts/{id}/check")))
        .await
        .0
}

fn rotate(db: &TestDatabase, current: u8, previous: Option<u8>) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BINARY);
    command
        .arg("rotate-root-key")
        .current_dir(dir.path())
        .env_clear()
        .env("SOCIALIZER_DATABASE_URL", &db.url)
        .env("SOCIALIZER_DATA_DIR", dir.path().join("data"))
        .env("SOCIALIZER_ROOT_KEY", key(current));
    if let Some(previous) = previous {
        command.env("SOCIALIZER_PREVIOUS_ROOT_KEYS", key(previous));
    }
    command.output().unwrap()
}

/// A child's exit status and output, for an assertion's message.
fn described(output: &std::process::Output) -> String {
    format!(
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn start_fails(
    db: &Arc<TestDatabase>,
    adjust: impl FnOnce(&mut std::collections::HashMap<String, String>),
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = TestApp::config_for(&dir, db, adjust);
    match socializer::app::Application::build(config).await {
        Ok(_) => panic!("the server started without the root key that wraps its data keys"),
        // What the command line prints: the error and its causes.
        Err(e) => socializer::logging::Chain(&e).to_string(),
    }
}

#[actix_web::test]
async fn rotate_root_key_rewraps_every_data_key_and_the_old_key_is_then_not_needed() {
    // The database outlives each server, which stop and start over it as an operator would.
    let holder = tempfile::tempdir().unwrap();
    let db = Arc::new(TestDatabase::create(holder.path()));
    let first = TestApp::spawn_on(db.clone(), root(1)).await;
    let (key_a, account_a) = connected(&first).await;
    assert_eq!(check(&first, &key_a, &account_a).await, StatusCode::OK);
    let sealed_before = db.count_as_admin(
        "SELECT COUNT(*) AS n FROM connected_accounts WHERE access_token IS NOT NULL",
    );
    drop(first);

    // A new root key alone does not open the old data keys: the start says which key is missing.
    let error = start_fails(&db, root(2)).await;
    assert!(
        error.contains("rk_") && error.contains("SOCIALIZER_PREVIOUS_ROOT_KEYS"),
        "{error}"
    );

    // During the rotation the old key still reads, and new workspaces use the new key.
    let during = TestApp::spawn_on(db.clone(), |vars| {
        vars.insert("SOCIALIZER_ROOT_KEY".into(), key(2));
        vars.insert("SOCIALIZER_PREVIOUS_ROOT_KEYS".into(), key(1));
    })
    .await;
    assert_eq!(check(&during, &key_a, &account_a).await, StatusCode::OK);
    let (key_b, account_b) = connected(&during).await;
    drop(during);

    // Without the old key the command cannot finish, and says so.
    let refused = rotate(&db, 2, None);
    assert!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("could not be opened"),
        "{}",
        described(&refused)
    );

    let output = rotate(&db, 2, Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", described(&output));
    assert!(stdout.contains("1 data key(s) re-wrapped"), "{stdout}");
    // Running it again finds nothing left to do.
    let again = rotate(&db, 2, None);
    assert!(
        again.status.success()
            && String::from_utf8_lossy(&again.stdout).contains("0 data key(s) re-wrapped"),
        "{}",
        described(&again)
    );
    assert_eq!(
        db.count_as_admin(
            "SELECT COUNT(*) AS n FROM connected_accounts WHERE access_token IS NOT NULL"
        ),
        sealed_before + 1,
        "token ciphertexts are untouched"
    );

    // The new key alone now opens every token; the old one alone no longer starts the server.
    let after = TestApp::spawn_on(db.clone(), root(2)).await;
    assert_eq!(check(&after, &key_a, &account_a).await, StatusCode::OK);
    assert_eq!(check(&after, &key_b, &account_b).await, StatusCode::OK);
    drop(after);
    let error = start_fails(&db, root(1)).await;
    assert!(error.contains("rk_"), "{error}");
}

#[actix_web::test]
async fn deleting_a_workspace_deletes_its_data_key() {
    let app = TestApp::spawn_with(root(3)).await;
    connected(&app).await;
    assert_eq!(app.db.rows("workspace_keys"), 1);
    app.db.execute_as_admin("DELETE FROM workspaces");
    assert_eq!(app.db.rows("workspace_keys"), 0);
    assert_eq!(app.db.rows("connected_accounts"), 0);
}
