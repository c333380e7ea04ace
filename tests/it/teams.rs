//! A team at work: keys that follow their creator's role, the audit log (through the page and
//! the API, append-only), and deleting a workspace.

use crate::harness::{
    ApiClient, Browser, PASSWORD, TestApp, error_of, json, status_of, texts, unique_email,
};
use crate::invitations::{accept, invite, sign_up_through};
use crate::mailbox::Mailbox;
use crate::members::member_id;
use reqwest::StatusCode;

pub struct Team {
    pub app: TestApp,
    mailbox: Mailbox,
    pub owner: Browser,
    pub admin: Browser,
    pub admin_email: String,
}

/// An owner of "Acme" and an admin they invited.
pub async fn team() -> Team {
    team_with(|_| {}).await
}

async fn team_with(adjust: impl FnOnce(&mut std::collections::HashMap<String, String>)) -> Team {
    let mailbox = Mailbox::start();
    let app = TestApp::spawn_with(|vars| {
        mailbox.configure(vars);
        adjust(vars);
    })
    .await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Acme").await;
    let admin_email = unique_email("admin");
    invite(&owner, &admin_email, "admin").await;
    let link = mailbox.link(&admin_email, "/invitation", 1).await;
    let admin = sign_up_through(&app, &link).await;
    Team {
        app,
        mailbox,
        owner,
        admin,
        admin_email,
    }
}

#[tokio::test]
async fn a_key_acts_with_its_creator_s_current_role_and_goes_with_them() {
    let t = team().await;
    let base = &t.app.base;
    let key = ApiClient::new(base, &t.admin.create_key("ci", "live", &[]).await);
    // A key made by that key: part of the chain that goes with the creator.
    let (status, _, child) = json(
        key.post("/v1/api-keys")
            .json(&serde_json::json!({"label": "child"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let child = ApiClient::new(base, child["plaintext"].as_str().unwrap());
    assert_eq!(status_of(key.get("/v1/api-keys")).await, StatusCode::OK);

    let admin_id = member_id(&t.owner, &t.admin_email).await;
    let demoted = t
        .owner
        .submit(
            "/settings/members",
            &format!("/settings/members/{admin_id}/role"),
            &[("role", "member")],
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::SEE_OTHER);
    // At once: key management is gone, the rest of the key's powers stay.
    for client in [&key, &child] {
        let (status, code) = error_of(client.get("/v1/api-keys")).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden")
        );
        assert_eq!(status_of(client.get("/v1/accounts")).await, StatusCode::OK);
        let (status, _) = error_of(client.get("/v1/audit-events")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    let removed = t
        .owner
        .submit(
            "/settings/members",
            &format!("/settings/members/{admin_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    for client in [&key, &child] {
        let (status, code) = error_of(client.get("/v1/status")).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_api_key")
        );
    }
    let owner_key = ApiClient::new(base, &t.owner.create_key("audit", "live", &[]).await);
    let (status, _, log) = json(owner_key.get("/v1/audit-events")).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<(&str, &str)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let revoked_with_creator = actions
        .iter()
        .filter(|(a, d)| *a == "key.revoked" && d.contains("removed"))
        .count();
    assert_eq!(revoked_with_creator, 2, "{actions:?}");
    assert!(actions.contains(&("member.removed", "")), "{actions:?}");
    assert!(
        actions
            .iter()
            .any(|(a, d)| *a == "member.role_changed" && d.contains("admin to member"))
    );
}

#[tokio::test]
async fn keys_made_while_their_creator_is_removed_are_revoked_with_the_rest() {
    let t = team_with(|vars| {
        vars.insert("SOCIALIZER_RATE_LIMIT_FREE".into(), "100000".into());
    })
    .await;
    let count = |sql: &str| t.app.db.count_as_admin(sql);
    let made_by_admin = format!(
        "api_keys k JOIN users u ON u.id = k.created_by WHERE u.email = '{}'",
        t.admin_email
    );
    // Several rounds: the admin is removed while their key makes keys as fast as it can, then
    // invited back.
    for round in 1..=3 {
        if round > 1 {
            invite(&t.owner, &t.admin_email, "admin").await;
            let link = t.mailbox.link(&t.admin_email, "/invitation", round).await;
            // The removal ended their session there.
            t.admin.log_in(&t.admin_email, PASSWORD).await;
            assert_eq!(
                accept(&t.admin, &link).await.status(),
                StatusCode::SEE_OTHER
            );
        }
        let parent = ApiClient::new(
            &t.app.base,
            &t.admin.create_key("parent", "live", &[]).await,
        );
        let admin_id = member_id(&t.owner, &t.admin_email).await;
        let removed = std::cell::Cell::new(false);
        // Until a few answers after the removal has answered.
        let maker = || async {
            let mut made = 0;
            let mut after = 0;
            while after < 3 {
                let request = parent
                    .post("/v1/api-keys")
                    .json(&serde_json::json!({"label": "racing"}));
                if status_of(request).await == StatusCode::CREATED {
                    made += 1;
                }
                if removed.get() {
                    after += 1;
                }
            }
            made
        };
        let remover = async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let path = format!("/settings/members/{admin_id}/remove");
            let answer = t.owner.submit("/settings/members", &path, &[]).await;
            removed.set(true);
            answer.status()
        };
        let (a, b, c, d, e, f, status) = tokio::join!(
            maker(),
            maker(),
            maker(),
            maker(),
            maker(),
            maker(),
            remover
        );
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            a + b + c + d + e + f > 0,
            "keys were made before the removal"
        );
        assert_eq!(
            count(&format!(
                "SELECT COUNT(*) AS n FROM {made_by_admin} AND k.revoked_at IS NULL"
            )),
            0,
            "round {round}: every key the removed admin made, also those made during the \
             removal, is revoked"
        );
    }
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'key.revoked'"),
        count(&format!("SELECT COUNT(*) AS n FROM {made_by_admin}")),
        "each with its audit entry"
    );
}

#[tokio::test]
async fn the_audit_log_names_who_did_what_from_where_newest_first_and_pages() {
    let t = team().await;
    let key = ApiClient::new(
        &t.app.base,
        &t.owner
            .create_key("reader", "live", &["workspace:read"])
            .await,
    );
    let (status, _, first) = json(key.get("/v1/audit-events?limit=2")).await;
    assert_eq!(status, StatusCode::OK);
    let page = first["data"].as_array().unwrap();
    assert_eq!(page.len(), 2);
    // Newest first: the key just made, by the owner, from this machine.
    assert_eq!(page[0]["action"], "key.created");
    assert_eq!(page[0]["actor"]["type"], "user");
    assert_eq!(page[0]["address"], "127.0.0.1");
    assert!(page[0]["subject"].as_str().unwrap().contains("(reader)"));
    let mut seen: Vec<String> = page
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (status, _, next) =
            json(key.get(&format!("/v1/audit-events?limit=2&cursor={c}"))).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(
            next["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_owned()),
        );
        cursor = next["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["key.created", "member.joined", "member.invited"]);

    // Another workspace's entry is no place to start from, and says nothing of its workspace.
    let stranger = app_stranger_key(&t).await;
    let (_, _, theirs) = json(stranger.get("/v1/audit-events")).await;
    let their_entry = theirs["data"][0]["id"].as_str().unwrap().to_owned();
    let foreign = format!("cursor={their_entry}");
    for bad in [
        "cursor=42",
        "cursor=c1",
        &foreign,
        "limit=0",
        "limit=+5",
        "limit=1000",
        "other=1",
    ] {
        let (status, code) = error_of(key.get(&format!("/v1/audit-events?{bad}"))).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{bad}"
        );
    }
    // A key without workspace:read, and the members' view of the page.
    let narrow = ApiClient::new(
        &t.app.base,
        &t.owner
            .create_key("narrow", "live", &["accounts:read"])
            .await,
    );
    let (status, code) = error_of(narrow.get("/v1/audit-events")).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    // The log names live keys and accounts: no reading for a test key, whatever its scopes.
    let test = ApiClient::new(&t.app.base, &t.owner.create_key("test", "test", &[]).await);
    let (status, code) = error_of(test.get("/v1/audit-events")).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let html = t.owner.page("/settings/audit").await;
    assert!(
        html.contains("created API key") && html.contains(&t.admin_email),
        "{html}"
    );

    let (status, _, members) = json(key.get("/v1/members")).await;
    assert_eq!(status, StatusCode::OK);
    let roles: Vec<&str> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "admin"]);
}

#[tokio::test]
async fn audit_entries_cannot_be_changed_or_deleted_by_the_service() {
    let t = team().await;
    let workspace = t
        .app
        .db
        .count_as_admin("SELECT COUNT(*) AS n FROM audit_events");
    assert!(workspace >= 2);
    let ws_id = t
        .app
        .db
        .first_text_as_admin("SELECT workspace_id AS v FROM audit_events LIMIT 1");
    for sql in [
        "UPDATE audit_events SET subject = 'forged'",
        "DELETE FROM audit_events",
    ] {
        let refused = t.app.db.execute_as_service(&ws_id, sql);
        assert!(refused.is_err(), "{sql} was allowed");
    }
    assert_eq!(t.app.db.rows("audit_events"), workspace);
    assert_eq!(
        t.app
            .db
            .count_as_admin("SELECT COUNT(*) AS n FROM audit_events WHERE subject = 'forged'"),
        0
    );
}

#[tokio::test]
async fn deleting_a_workspace_needs_its_owner_and_its_name_and_takes_everything_with_it() {
    let t = team().await;
    let key = ApiClient::new(&t.app.base, &t.owner.create_key("ci", "live", &[]).await);
    // Members of lower roles may not; a wrong name changes nothing.
    let by_admin = t
        .admin
        .submit(
            "/settings/workspace",
            "/settings/workspace/delete",
            &[("name", "Acme")],
        )
        .await;
    assert_eq!(by_admin.status(), StatusCode::FORBIDDEN);
    for wrong in ["acme", "Acme ", "Acm", ""] {
        let refused = t
            .owner
            .submit(
                "/settings/workspace",
                "/settings/workspace/delete",
                &[("name", wrong)],
            )
            .await;
        if wrong == "Acme " {
            // Surrounding spaces are forgiven, as in every field.
            assert_eq!(refused.status(), StatusCode::SEE_OTHER);
            break;
        }
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{wrong:?}");
        assert_eq!(status_of(key.get("/v1/status")).await, StatusCode::OK);
    }
    assert_eq!(
        status_of(key.get("/v1/status")).await,
        StatusCode::UNAUTHORIZED
    );
    for table in [
        "workspace_keys",
        "api_keys",
        "invitations",
        "connected_accounts",
    ] {
        assert_eq!(
            t.app.db.count_as_admin(&format!(
                "SELECT COUNT(*) AS n FROM {table} t WHERE NOT EXISTS \
                 (SELECT 1 FROM workspaces w WHERE w.id = t.workspace_id)"
            )),
            0
        );
    }
    assert_eq!(
        t.app
            .db
            .count_as_admin("SELECT COUNT(*) AS n FROM workspaces WHERE name = 'Acme'"),
        0
    );
    assert_eq!(
        t.app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'workspace.deleted'"
        ),
        1,
        "the log keeps the deletion"
    );
    // The owner lands in a workspace of their own; the admin's session is over there.
    let dashboard = t.owner.dashboard().await;
    assert_eq!(
        texts(&dashboard, ".flash"),
        vec![
            "The workspace \u{201c}Acme\u{201d} was deleted, with its keys, connected accounts and invitations."
        ]
    );
    assert_ne!(texts(&dashboard, "main h1"), vec!["Acme"]);
    assert_eq!(
        t.admin.get("/settings/members").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn rolling_through_the_api_refuses_bad_input_and_other_workspaces_keys() {
    let t = team().await;
    let base = &t.app.base;
    let key = ApiClient::new(base, &t.owner.create_key("roller", "live", &[]).await);
    let (_, _, status) = json(key.get("/v1/status")).await;
    let id = status["key"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/api-keys/{id}/roll");
    for body in [
        serde_json::json!({"grace_hours": 169}),
        serde_json::json!({"grace_hours": -1}),
        serde_json::json!({"grace_hours": "1"}),
        serde_json::json!({"grace_hours": 1.5}),
        serde_json::json!({"grace_hours": 168.0001}),
        serde_json::json!({"grace_hours": 1, "extra": true}),
        serde_json::json!({}),
    ] {
        let (status, code) = error_of(key.post(&path).json(&body)).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{body}"
        );
    }
    assert_eq!(
        status_of(key.get("/v1/status")).await,
        StatusCode::OK,
        "nothing rolled"
    );
    // Another workspace's key id is not found from here.
    let stranger = app_stranger_key(&t).await;
    let (status, code) = error_of(
        stranger
            .post(&path)
            .json(&serde_json::json!({"grace_hours": 0})),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // JSON's 1.0 is the whole number 1.
    let (status, _, rolled) = json(
        key.post(&path)
            .json(&serde_json::json!({"grace_hours": 1.0})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        rolled["plaintext"]
            .as_str()
            .unwrap()
            .starts_with("sk_live_")
    );
    assert_eq!(
        status_of(key.get("/v1/status")).await,
        StatusCode::OK,
        "alive for its grace hour"
    );
    // A key rolled already is a conflict with its state, not a bad request.
    let again = json(key.post(&path).json(&serde_json::json!({"grace_hours": 1}))).await;
    assert_eq!(again.0, StatusCode::CONFLICT, "{}", again.2);
    assert_eq!(again.2["error"]["code"], "conflict");
}

/// A full key of a workspace of someone else's on the same server.
async fn app_stranger_key(t: &Team) -> ApiClient {
    let stranger = t.app.browser();
    stranger
        .sign_up(&unique_email("stranger"), "Elsewhere")
        .await;
    ApiClient::new(
        &t.app.base,
        &stranger.create_key("theirs", "live", &[]).await,
    )
}
