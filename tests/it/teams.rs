//! A team at work: keys that follow their creator's role, the audit log (through the page and
//! the API, append-only), and deleting a workspace.

use crate::harness::{ApiClient, Browser, TestApp, error_of, json, status_of, unique_email};
use crate::invitations::{invite, sign_up_through};
use crate::mailbox::Mailbox;
use crate::members::member_id;
use reqwest::StatusCode;

struct Team {
    app: TestApp,
    _mailbox: Mailbox,
    owner: Browser,
    admin: Browser,
    admin_email: String,
}

/// An owner of "Acme" and an admin they invited.
async fn team() -> Team {
    let mailbox = Mailbox::start();
    let app = TestApp::spawn_with(|vars| mailbox.configure(vars)).await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Acme").await;
    let admin_email = unique_email("admin");
    invite(&owner, &admin_email, "admin").await;
    let link = mailbox.link(&admin_email, "/invitation", 1).await;
    let admin = sign_up_through(&app, &link).await;
    Team {
        app,
        _mailbox: mailbox,
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

    for bad in [
        "cursor=42",
        "cursor=c-1",
        "limit=0",
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
    assert!(dashboard.contains("was deleted") || !dashboard.contains("Acme"));
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
    let (status, _, rolled) =
        json(key.post(&path).json(&serde_json::json!({"grace_hours": 1}))).await;
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
