//! Keys made by keys: revoking a key revokes what it made, however deep; rolling a key ends
//! what it made when the old key stops; a revocation acts with the revoker's power at commit.

use crate::harness::{ApiClient, TestApp, all_at_once, json, status_of, unique_email};
use reqwest::StatusCode;

/// Makes a key through the API with `maker`; answers its id and plaintext.
async fn made_by(app: &TestApp, maker: &str, label: &str) -> (String, String) {
    let (status, _, made) = json(
        ApiClient::new(&app.base, maker)
            .post("/v1/api-keys")
            .json(&serde_json::json!({"label": label})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    (
        made["id"].as_str().unwrap().to_owned(),
        made["plaintext"].as_str().unwrap().to_owned(),
    )
}

/// Rolls the key `id` with `caller`, giving the old one `grace_hours`; answers (status, body).
async fn roll(
    app: &TestApp,
    caller: &str,
    id: &str,
    grace_hours: u32,
) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = json(
        ApiClient::new(&app.base, caller)
            .post(&format!("/v1/api-keys/{id}/roll"))
            .json(&serde_json::json!({"grace_hours": grace_hours})),
    )
    .await;
    (status, body)
}

async fn works(app: &TestApp, key: &str) -> bool {
    status_of(ApiClient::new(&app.base, key).get("/v1/status")).await == StatusCode::OK
}

#[actix_web::test]
async fn revoking_a_key_revokes_every_key_it_made_however_deep() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("chains"), "Chains").await;
    let leaked = owner.create_key("leaked", "live", &[]).await;
    let (child_id, child) = made_by(&app, &leaked, "child").await;
    let (_, grandchild) = made_by(&app, &child, "grandchild").await;
    let bystander = owner.create_key("bystander", "live", &[]).await;

    // The confirmation page names what will stop with it.
    let leaked_id = ApiClient::new(&app.base, &leaked)
        .get("/v1/status")
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ask = owner
        .page(&format!("/settings/api-keys/{leaked_id}/revoke"))
        .await;
    assert!(ask.contains("child") && ask.contains("grandchild"), "{ask}");

    let revoked = owner
        .submit(
            &format!("/settings/api-keys/{leaked_id}/revoke"),
            &format!("/settings/api-keys/{leaked_id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    for key in [&leaked, &child, &grandchild] {
        assert!(!works(&app, key).await, "every key in the chain stops");
    }
    assert!(
        works(&app, &bystander).await,
        "a key the chain did not make works"
    );
    assert_eq!(
        app.db.count_as_admin(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'key.revoked' \
             AND detail LIKE 'the key that made it%'"
        ),
        2,
        "each with an audit entry saying why"
    );

    // Revoking a key of the chain again changes nothing, and says nothing more.
    let again = status_of(
        ApiClient::new(&app.base, &bystander).delete(&format!("/v1/api-keys/{child_id}")),
    )
    .await;
    assert_eq!(again, StatusCode::NO_CONTENT);
    assert!(works(&app, &bystander).await);
}

#[actix_web::test]
async fn a_rolled_key_s_children_stop_when_it_stops() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("roller"), "Roll").await;
    let parent = owner.create_key("parent", "live", &[]).await;
    let (_, child) = made_by(&app, &parent, "child").await;
    let (_, grandchild) = made_by(&app, &child, "grandchild").await;
    let parent_id = app
        .db
        .first_text_as_admin("SELECT id AS v FROM api_keys WHERE label = 'parent'");

    // With a grace period the chain lives as long as the old key, and no longer.
    let (status, replacement) = roll(&app, &parent, &parent_id, 2).await;
    assert_eq!(status, StatusCode::CREATED);
    let old_expiry = app.db.count_as_admin(&format!(
        "SELECT expires_at AS n FROM api_keys WHERE id = '{parent_id}'"
    ));
    assert_eq!(
        app.db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM api_keys WHERE label IN ('child', 'grandchild') \
             AND expires_at = {old_expiry}"
        )),
        2
    );
    // The replacement that the key made by rolling itself is not part of the old chain.
    let replacement = replacement["plaintext"].as_str().unwrap().to_owned();
    assert!(works(&app, &child).await && works(&app, &grandchild).await);

    // Rolled again with no grace: the old key and everything it made stop at once.
    let replacement_id = app.db.first_text_as_admin(&format!(
        "SELECT replaced_by AS v FROM api_keys WHERE id = '{parent_id}'"
    ));
    let (status, _) = roll(&app, &replacement, &replacement_id, 0).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!works(&app, &replacement).await);
    // The first roll's chain still ends with the first parent (in two hours).
    assert!(works(&app, &child).await);

    let (_, mine) = made_by(&app, &child, "made by child").await;
    let child_id = app
        .db
        .first_text_as_admin("SELECT id AS v FROM api_keys WHERE label = 'child'");
    let (status, _) = roll(&app, &child, &child_id, 0).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(!works(&app, &child).await);
    assert!(
        !works(&app, &mine).await,
        "what the rolled key made stopped with it"
    );
    assert!(!works(&app, &grandchild).await);
}

#[actix_web::test]
async fn a_key_revokes_with_its_creator_s_role_at_commit_not_at_authentication() {
    let team = crate::teams::team().await;
    let db = &team.app.db;
    // An admin's key revokes keys while the admin is demoted to member: every revocation is
    // decided by the role its own transaction reads, so none lands after the demotion.
    let admin_key = team.admin.create_key("admin's", "live", &[]).await;
    for n in 0..30 {
        team.owner
            .create_key(&format!("victim {n}"), "live", &[])
            .await;
    }
    let ids: Vec<String> = (0..30)
        .map(|n| {
            db.first_text_as_admin(&format!(
                "SELECT id AS v FROM api_keys WHERE label = 'victim {n}'"
            ))
        })
        .collect();
    let admin_id = crate::members::member_id(&team.owner, &team.admin_email).await;
    let api = ApiClient::new(&team.app.base, &admin_key);
    let revocations = all_at_once(ids.into_iter().map(move |id| {
        let request = api.delete(&format!("/v1/api-keys/{id}"));
        async move { status_of(request).await }
    }));
    let demotion = crate::members::set_role(&team.owner, &admin_id, "member");
    let (statuses, demoted) = tokio::join!(revocations, demotion);
    assert_eq!(demoted.status(), StatusCode::SEE_OTHER);
    let demotion_seq = db.count_as_admin(
        "SELECT MAX(seq) AS n FROM audit_events WHERE action = 'member.role_changed'",
    );
    assert_eq!(
        db.count_as_admin(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'key.revoked' \
             AND actor_kind = 'key' AND seq > {demotion_seq}"
        )),
        0,
        "no revocation by the key after its creator's demotion: {statuses:?}"
    );
    let answered_revoked = statuses
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(
        db.count_as_admin("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NOT NULL"),
        i64::try_from(answered_revoked).unwrap(),
        "every key answered revoked is, and no other"
    );
}
