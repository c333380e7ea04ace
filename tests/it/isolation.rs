//! Tenant isolation: on PostgreSQL the database itself keeps workspaces apart, even for a query that
//! forgets the workspace, and the service's role cannot bypass it.

use crate::harness::{TestDatabase, unique_email};
use diesel::RunQueryDsl as _;
use diesel::sql_types::{Bool, Text};
use socializer::db::{AsUser, ByKeyDigest, Database, DatabaseUrl, DbError, Global, InWorkspace};
use socializer::domain::{Email, Role, UserId, WorkspaceId, WorkspaceName};

#[derive(diesel::QueryableByName, Debug)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct RoleRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    superuser: bool,
    #[diesel(sql_type = Bool)]
    bypass: bool,
}

/// A fresh PostgreSQL schema and the service's handle on it; `None` (the test is skipped) when
/// `SOCIALIZER_TEST_DATABASE_URL` is not set: row-level security is PostgreSQL's.
fn postgres() -> Option<(tempfile::TempDir, TestDatabase, Database)> {
    let dir = tempfile::tempdir().unwrap();
    let test_db = TestDatabase::create(dir.path());
    if !test_db.is_postgres() {
        eprintln!("skipped: row-level security is PostgreSQL's; set SOCIALIZER_TEST_DATABASE_URL");
        return None;
    }
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 2).unwrap();
    Some((dir, test_db, db))
}

async fn workspace_with_owner(db: &Database, name: &str) -> WorkspaceId {
    owned_workspace(db, name).await.0
}

/// A workspace and its owner, made straight in storage.
async fn owned_workspace(db: &Database, name: &str) -> (WorkspaceId, UserId) {
    let user = UserId::generate();
    let workspace = WorkspaceId::generate();
    let email = Email::parse(&unique_email(name)).unwrap();
    let name = WorkspaceName::parse(name).unwrap();
    let (u, w) = (user.clone(), workspace.clone());
    db.write(Global, move |conn| {
        socializer::db::users::insert(conn, &u, &email, None, 0)?;
        socializer::db::users::mark_email_verified(conn, &u, 0)?;
        let mut ws = conn.enter_workspace(w)?;
        socializer::db::workspaces::create(&mut ws, &name, 0)?;
        socializer::db::memberships::add(&mut ws, &u, Role::Owner, 0)
    })
    .await
    .unwrap();
    (workspace, user)
}

/// A key made by the workspace's owner, through the service's own function; its plaintext.
async fn owner_key(db: &Database, workspace: &WorkspaceId, owner: &UserId, label: &str) -> String {
    let issuer = socializer::keys::Issuer {
        workspace: workspace.clone(),
        user: Some(owner.clone()),
        role: Role::Owner,
        key: None,
        who: socializer::audit::Who::operator(),
    };
    let label = socializer::domain::KeyLabel::parse(label).unwrap();
    let request = socializer::keys::CreateKey::full_access(label);
    // The notice of the new key goes to an outbox nobody reads.
    let outbox = std::env::temp_dir().join("socializer-test-outbox");
    let mailer = socializer::mail::Mailer::new(
        &socializer::config::MailSetting::Outbox(outbox),
        "localhost",
    )
    .unwrap();
    let public_url = url::Url::parse("http://localhost/").unwrap();
    let post = socializer::mail::Post {
        mailer: &mailer,
        public_url: &public_url,
    };
    let (_, secret) = socializer::keys::create_key(db, post, &issuer, request)
        .await
        .unwrap();
    secret.expose().to_owned()
}

#[actix_web::test]
async fn a_query_without_a_workspace_filter_sees_only_the_current_workspace() {
    let Some((_dir, _test_db, db)) = postgres() else {
        return;
    };
    let alpha = workspace_with_owner(&db, "Alpha").await;
    let beta = workspace_with_owner(&db, "Beta").await;

    for (current, other) in [(&alpha, &beta), (&beta, &alpha)] {
        let (memberships, workspaces) = db
            .write(InWorkspace(current.clone()), |conn| {
                let raw = conn.raw_for_isolation_tests();
                // Deliberately no WHERE clause.
                let memberships = diesel::sql_query("SELECT workspace_id AS id FROM memberships")
                    .load::<IdRow>(raw)?;
                let workspaces =
                    diesel::sql_query("SELECT id FROM workspaces").load::<IdRow>(raw)?;
                Ok::<_, DbError>((memberships, workspaces))
            })
            .await
            .unwrap();
        let ids = |rows: Vec<IdRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(memberships), vec![current.to_string()], "not {other}");
        assert_eq!(ids(workspaces), vec![current.to_string()], "not {other}");
    }

    // Writing into another workspace from this one is refused by the policy.
    let outsider = UserId::generate();
    let target = beta.clone();
    let write = db
        .write(InWorkspace(alpha.clone()), move |conn| {
            diesel::sql_query("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', 0)")
                .bind::<Text, _>(target.as_str())
                .bind::<Text, _>(outsider.as_str())
                .execute(conn.raw_for_isolation_tests())?;
            Ok::<_, DbError>(())
        })
        .await;
    assert!(
        write.is_err(),
        "a row for another workspace must not be written"
    );

    // The service's queries run as a role that can bypass nothing, although the test's URL
    // names the cluster's superuser.
    let role = db
        .write(InWorkspace(alpha), |conn| {
            Ok::<_, DbError>(diesel::sql_query(
                "SELECT current_user::text AS name, rolsuper AS superuser, rolbypassrls AS bypass \
                 FROM pg_roles WHERE rolname = current_user",
            )
            .load::<RoleRow>(conn.raw_for_isolation_tests())?)
        })
        .await
        .unwrap();
    assert_eq!(role.len(), 1);
    assert_eq!(role[0].name, "socializer_app");
    assert!(!role[0].superuser && !role[0].bypass, "{role:?}");
}

#[actix_web::test]
async fn without_a_workspace_no_workspace_rows_are_visible() {
    let Some((_dir, test_db, db)) = postgres() else {
        return;
    };
    workspace_with_owner(&db, "Gamma").await;
    // A user-scoped transaction sees that user's memberships only: here, a stranger's none.
    let seen = db
        .write(
            AsUser(UserId::generate()),
            socializer::db::workspaces::list_for_user,
        )
        .await
        .unwrap();
    assert!(seen.is_empty());
    assert_eq!(test_db.rows("memberships"), 1, "the row is there");
}

#[actix_web::test]
async fn api_keys_are_isolated_and_a_digest_shows_only_its_own_key() {
    let Some((_dir, test_db, db)) = postgres() else {
        return;
    };
    let mut secrets = Vec::new();
    let mut workspaces = Vec::new();
    for name in ["Alpha", "Beta"] {
        let (workspace, owner) = owned_workspace(&db, name).await;
        for label in ["one", "two"] {
            secrets.push(owner_key(&db, &workspace, &owner, label).await);
        }
        workspaces.push(workspace);
    }

    let seen = db
        .write(InWorkspace(workspaces[0].clone()), |conn| {
            Ok::<_, DbError>(
                diesel::sql_query("SELECT workspace_id AS id FROM api_keys")
                    .load::<IdRow>(conn.raw_for_isolation_tests())?,
            )
        })
        .await
        .unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|r| r.id == workspaces[0].as_str()));

    // Through the digest scope, an unfiltered query sees exactly the one key named.
    let digest = socializer::crypto::sha256_hex(&secrets[3]);
    let found = db
        .read(ByKeyDigest(digest), |conn| {
            let (count, key) = conn.count_visible_for_isolation_tests()?;
            Ok::<_, DbError>((count, key))
        })
        .await
        .unwrap();
    assert_eq!(found.0, 1);
    assert_eq!(found.1.as_deref(), Some(workspaces[1].as_str()));
    assert_eq!(test_db.rows("api_keys"), 4);
}

#[actix_web::test]
async fn a_request_s_key_is_read_by_one_prepared_statement_that_leaves_nothing_set() {
    let Some((_dir, test_db, _)) = postgres() else {
        return;
    };
    // One connection, so that what the lookup leaves on it can be looked at.
    let db = Database::open(&DatabaseUrl::parse(&test_db.url).unwrap(), 1).unwrap();
    let (workspace, owner) = owned_workspace(&db, "Lookup").await;
    let secret = owner_key(&db, &workspace, &owner, "looked up").await;
    let digest = socializer::crypto::sha256_hex(&secret);
    for _ in 0..3 {
        let found = socializer::db::api_keys::for_request(&db, digest.clone())
            .await
            .unwrap()
            .expect("the key");
        assert_eq!(found.key.workspace_id, workspace);
        assert_eq!(found.workspace_name, "Lookup");
        assert_eq!(found.creator_role, Some(Role::Owner));
    }
    let unknown = socializer::crypto::sha256_hex("sk_live_nothing");
    assert!(
        socializer::db::api_keys::for_request(&db, unknown)
            .await
            .unwrap()
            .is_none()
    );

    #[derive(diesel::QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        settings: String,
    }
    // Four lookups, one statement prepared; and the lookup's settings did not outlive it.
    let prepared = db
        .read(InWorkspace(WorkspaceId::generate()), |conn| {
            Ok::<_, DbError>(
                diesel::sql_query(
                    "SELECT (SELECT COUNT(*) FROM pg_prepared_statements                              WHERE statement LIKE '%socializer_key_for_request(%') AS n,                             '[' || COALESCE(current_setting('app.api_key_digest', true), '') || ']' AS settings",
                )
                .get_result::<Prepared>(conn.raw_for_isolation_tests())?,
            )
        })
        .await
        .unwrap();
    assert_eq!(prepared.n, 1);
    assert_eq!(prepared.settings, "[]");
}

#[actix_web::test]
async fn in_production_a_superuser_url_is_refused_and_a_login_role_of_its_own_serves() {
    let Some((dir, test_db, db)) = postgres() else {
        return;
    };
    drop(db);
    let test_db = std::sync::Arc::new(test_db);
    let production = |url: String| {
        move |vars: &mut std::collections::HashMap<String, String>| {
            use base64::Engine as _;
            let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
            vars.insert("SOCIALIZER_ENV".into(), "production".into());
            vars.insert(
                "SOCIALIZER_PUBLIC_URL".into(),
                "https://socializer.example".into(),
            );
            vars.insert("SOCIALIZER_ROOT_KEY".into(), b64(32));
            vars.insert("SOCIALIZER_SESSION_SECRET".into(), b64(64));
            vars.insert("SOCIALIZER_DATABASE_URL".into(), url);
        }
    };

    // The test's URL names a superuser: production refuses it, naming the way out.
    let config =
        crate::harness::TestApp::config_for(&dir, &test_db, production(test_db.url.clone()));
    let refused = socializer::app::Application::build(config).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("superuser") && message.contains("socializer_app"),
        "{message}"
    );

    // A login role that is only a member of the service's role is accepted, and serves.
    let role = format!(
        "socializer_login_{}",
        hex::encode(socializer::crypto::random_bytes::<4>())
    );
    test_db.execute_as_admin(&format!(
        "CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS;
         GRANT socializer_app TO {role};
         DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema()); END $$;
         GRANT SELECT ON __diesel_schema_migrations TO {role};"
    ));
    let mut url = url::Url::parse(&test_db.url).unwrap();
    url.set_username(&role).unwrap();
    let app = crate::harness::TestApp::spawn_on(test_db.clone(), production(url.to_string())).await;
    let browser = app.browser();
    let response = browser.get("/healthz").await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    drop(app);
    test_db.execute_as_admin(&format!("DROP OWNED BY {role}; DROP ROLE {role};"));
}

#[actix_web::test]
async fn every_table_that_holds_workspace_rows_is_bound_to_its_workspace() {
    let Some((_dir, test_db, _db)) = postgres() else {
        return;
    };
    // Whatever a migration adds: a table with a workspace column has row-level security, and
    // forced (so the table's owner is bound too).
    let with_workspace = "EXISTS (SELECT 1 FROM information_schema.columns c \
         WHERE c.table_schema = s.nspname AND c.table_name = t.relname \
         AND c.column_name = 'workspace_id')";
    let tables = test_db.count_as_admin(&format!(
        "SELECT COUNT(*)::BIGINT AS n FROM pg_class t JOIN pg_namespace s ON s.oid = t.relnamespace \
         WHERE s.nspname = current_schema() AND t.relkind = 'r' AND {with_workspace}"
    ));
    assert!(tables >= 10, "{tables} tables hold workspace rows");
    let unbound: Vec<Named> = test_db.load_as_admin(&format!(
        "SELECT t.relname::TEXT AS name FROM pg_class t JOIN pg_namespace s ON s.oid = t.relnamespace \
         WHERE s.nspname = current_schema() AND t.relkind = 'r' AND {with_workspace} \
         AND NOT (t.relrowsecurity AND t.relforcerowsecurity)"
    ));
    assert!(
        unbound.is_empty(),
        "without row-level security: {:?}",
        unbound.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
}

#[derive(diesel::QueryableByName)]
struct Named {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}
