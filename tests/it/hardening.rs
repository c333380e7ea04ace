//! Pages and the HTTP edge: bad input gets a clear 4xx and changes nothing; security headers;
//! static files; health.

use crate::harness::{ApiClient, TestApp, status_of, texts, unique_email};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

#[actix_web::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/login", "/signup", "/no-such-page", "/healthz"] {
        let response = app.browser().get(path).await;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert!(!header("referrer-policy").is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn the_stylesheet_is_versioned_and_cached_long() {
    let app = TestApp::spawn().await;
    let html = app.browser().get("/login").await.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let selector = scraper::Selector::parse(r#"link[rel="stylesheet"]"#).unwrap();
    let href = doc
        .select(&selector)
        .next()
        .and_then(|l| l.value().attr("href"))
        .unwrap()
        .to_owned();
    assert!(
        href.starts_with("/static/app.") && href.ends_with(".css"),
        "{href}"
    );

    let response = app.browser().get(&href).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response
        .headers()
        .get("cache-control")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cache.contains("max-age=31536000") && cache.contains("immutable"),
        "{cache}"
    );
    assert!(
        response
            .headers()
            .get(CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        app.browser().get("/static/app.old.css").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn healthz_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let response = app.browser().get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

#[actix_web::test]
async fn unknown_pages_are_a_404_page() {
    let app = TestApp::spawn().await;
    let response = app.browser().get("/nothing/here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        texts(&response.text().await.unwrap(), "h1"),
        vec!["Page not found"]
    );
}

#[actix_web::test]
async fn oversized_bodies_get_413_and_change_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let token = browser.csrf("/signup").await;
    let huge = "x".repeat(70 * 1024);
    let response = browser
        .post_form(
            "/signup",
            &[
                ("email", "big@example.com"),
                ("password", &huge),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.db.rows("users"), 0);
}

#[actix_web::test]
async fn oversized_headers_get_431() {
    let app = TestApp::spawn().await;
    let response = app
        .browser()
        .client
        .get(format!("{}/login", app.base))
        .header("x-padding", "y".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

#[actix_web::test]
async fn broken_forms_get_400_and_change_nothing() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let token = browser.csrf("/signup").await;
    let post = |body: String, content_type: &'static str| {
        browser
            .client
            .post(format!("{}/signup", app.base))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let valid = format!("email=ok%40example.com&password=correct+horse+battery&csrf_token={token}");
    // Everything valid but the workspace name, which is not UTF-8 once decoded: refused, not
    // repaired with replacement characters.
    let response = post(
        format!("{valid}&workspace=Acme%FF"),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        texts(&response.text().await.unwrap(), "main p")
            .iter()
            .any(|p| p.contains("UTF-8"))
    );
    // Not a web form at all.
    let response = post(valid.clone(), "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A broken query string.
    assert_eq!(
        browser.get("/login?next=%2F%FF").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.db.rows("users"), 0);

    // The same body, well-formed, goes through: the refusals above were about the bytes.
    let response = post(
        format!("{valid}&workspace=Acme"),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.db.rows("users"), 1);
}

#[actix_web::test]
async fn pages_escape_what_they_show() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let name = "<script>alert('x')</script> & \"co\"";
    assert_eq!(
        browser
            .sign_up(&unique_email("xavier"), name)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let html = browser.dashboard().await;
    assert!(!html.contains("<script>alert"), "the name must be escaped");
    assert_eq!(texts(&html, "h1"), vec![name], "and shown as typed");

    // Echoed form input is escaped too.
    let fresh = app.browser();
    let response = fresh
        .submit(
            "/signup",
            "/signup",
            &[
                ("email", "\"><img src=x onerror=alert(1)>"),
                ("password", "p"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<img src=x"), "{html}");
}

#[actix_web::test]
async fn viewing_pages_writes_nothing_to_the_database() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("owner"), "Owners").await;
    let key = owner.create_key("t", "test", &[]).await;
    let (auth_url, _) =
        crate::connect::begin(&ApiClient::new(&app.base, &key), "sandbox", None).await;
    let sandbox_page = &auth_url[app.base.len()..];
    let sessions = || app.db.rows("sessions");
    let before = sessions();
    for _ in 0..20 {
        for path in [
            "/login",
            "/signup",
            "/login?next=%2Fdashboard",
            sandbox_page,
        ] {
            // A new visitor each time, as a flood of strangers would be.
            let response = app.browser().get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
    }
    assert_eq!(sessions(), before, "no session row for a view");
    assert_eq!(app.db.rows("sandbox_grants"), 0);

    // The anonymous form still works, with the token its page gave.
    let visitor = app.browser();
    let response = visitor.sign_up(&unique_email("later"), "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(sessions(), before + 1);
    // A token from another visitor's page, or none, is refused.
    let token = app.browser().csrf("/login").await;
    let response = app
        .browser()
        .post_form(
            "/login",
            &[
                ("email", "a@example.com"),
                ("password", "x"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn anonymous_form_posts_are_limited_per_client_address() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let token = browser.csrf("/login").await;
    let fields = [
        ("email", "nobody@example.com"),
        ("password", "not the password"),
        ("csrf_token", "forged"),
    ];
    for _ in 0..60 {
        let response = browser.post_form("/login", &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // Past the limit even a valid form is turned away until the minute is over.
    let response = browser
        .post_form(
            "/signup",
            &[
                ("email", &unique_email("flood")),
                ("password", crate::harness::PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(app.db.rows("users"), 0);
}

#[actix_web::test]
async fn small_deviations_answer_as_they_should() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    owner.sign_up(&unique_email("dev"), "Deviations").await;
    let key = owner.create_key("t", "test", &[]).await;
    let api = ApiClient::new(&app.base, &key);

    // A /v1 query that is not UTF-8 once decoded is refused, and nothing is stored.
    let (status, _, body) =
        crate::harness::json(api.get("/v1/connect/sandbox?redirect_uri=https://a.com/%ff")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(app.db.rows("oauth_states"), 0);
    for path in [
        "/v1/status?x=%ff",
        "/v1/api-keys?%C3=1",
        "/v1/openapi.json?x=%ff",
    ] {
        let (status, _, body) = crate::harness::json(api.get(path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
    }

    // A form post without its token is a 403, whatever else is wrong with it.
    for (path, body, content_type) in [
        ("/logout", "", "application/x-www-form-urlencoded"),
        ("/logout", "", "text/plain"),
        (
            "/settings/api-keys",
            "label=x",
            "application/x-www-form-urlencoded",
        ),
        ("/login", "email=a%FF", "application/x-www-form-urlencoded"),
        ("/workspaces", "name=New", "application/json"),
    ] {
        assert_eq!(
            status_of(
                owner
                    .client
                    .post(format!("{}{path}", app.base))
                    .header(CONTENT_TYPE, content_type)
                    .body(body)
            )
            .await,
            StatusCode::FORBIDDEN,
            "{path} {body:?}"
        );
    }
    assert_eq!(
        owner.get("/dashboard").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // TRACE and invented methods: 405, on pages and under /v1 (in the JSON envelope).
    for path in ["/login", "/no-such-page", "/v1/status"] {
        for method in ["TRACE", "CONNECT", "BREW"] {
            let response = owner
                .client
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{}{path}", app.base),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(response.headers().contains_key("allow"));
            // CONNECT goes out in authority form, without the path.
            if path.starts_with("/v1/") && method != "CONNECT" {
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "invalid_request");
            }
        }
    }
}

/// Sends `requests` down one connection as they are and reads every answer until the server
/// closes it; the answers come back as text, split into (status line, headers, body).
async fn raw_exchange(base: &str, requests: &[u8]) -> Vec<(String, String, String)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    // A server that closes with bytes left unread resets the connection: the write may fail
    // part way, and the read ends with the reset instead of an orderly end.
    let _ = stream.write_all(requests).await;
    let mut raw = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.expect("the server closes the connection after a refused head");
    let text = String::from_utf8(raw).unwrap();
    let mut answers = Vec::new();
    let mut rest = text.as_str();
    while let Some((head, after)) = rest.split_once("\r\n\r\n") {
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
        answers.push((
            status.to_owned(),
            headers.to_ascii_lowercase(),
            after[..length].to_owned(),
        ));
        rest = &after[length..];
    }
    answers
}

fn request_with_fields(path: &str, fields: usize) -> String {
    let padding: String = (0..fields - 2).map(|i| format!("x-f{i}: v\r\n")).collect();
    format!("GET {path} HTTP/1.1\r\nhost: x\r\n{padding}connection: close\r\n\r\n")
}

#[actix_web::test]
async fn heads_the_http_parser_refuses_get_its_own_answer_and_the_connection_ends() {
    let app = TestApp::spawn().await;

    // 96 header fields are served; 97 are refused by actix-http itself: 431, empty body.
    let answers = raw_exchange(&app.base, request_with_fields("/v1/status", 96).as_bytes()).await;
    assert!(answers[0].0.starts_with("HTTP/1.1 401"), "{answers:?}");
    let answers = raw_exchange(&app.base, request_with_fields("/v1/status", 97).as_bytes()).await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0].0.starts_with("HTTP/1.1 431"), "{answers:?}");
    assert_eq!(answers[0].2, "", "actix-http's own answer");

    // On a kept-alive connection, the request before a refused head is answered, the refused
    // one gets 431, and nothing after it is read: one parser decides where each request ends.
    let pipelined = [
        "POST /v1/status HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\nabcd".to_owned(),
        request_with_fields("/v1/api-keys", 120),
        "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n".to_owned(),
    ]
    .concat();
    let answers = raw_exchange(&app.base, pipelined.as_bytes()).await;
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert!(answers[0].0.starts_with("HTTP/1.1 40"), "{answers:?}");
    assert!(answers[1].0.starts_with("HTTP/1.1 431"), "{answers:?}");

    // A head past actix-http's buffer.
    let huge = format!(
        "GET /v1/status HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "y".repeat(200 * 1024)
    );
    let answers = raw_exchange(&app.base, huge.as_bytes()).await;
    // Refused as soon as the buffer is full; what was left unsent resets the connection, which
    // may take the 431 with it before the client reads it. Either way nothing was served.
    assert!(
        answers.iter().all(|a| a.0.starts_with("HTTP/1.1 431")),
        "{answers:?}"
    );
    // A request target with raw bytes outside ASCII: a malformed request line, 400.
    let answers = raw_exchange(
        &app.base,
        "GET /v1/st\u{e4}tus HTTP/1.1\r\nhost: x\r\n\r\n".as_bytes(),
    )
    .await;
    assert!(answers[0].0.starts_with("HTTP/1.1 400"), "{answers:?}");
    assert_eq!(answers[0].2, "");
}

#[actix_web::test]
async fn every_signed_in_form_refuses_a_wrong_token_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.browser();
    let email = unique_email("forms");
    owner.sign_up(&email, "Forms").await;
    let key = owner.create_key("kept", "live", &[]).await;
    let key_id = crate::harness::json(ApiClient::new(&app.base, &key).get("/v1/status"))
        .await
        .2["key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let security = owner.page("/settings/security").await;
    let own_session = security
        .split("data-session-id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page lists this session")
        .to_owned();
    let count = |sql: &str| app.db.count_as_admin(sql);
    let before = (
        count(
            "SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL AND replaced_by IS NULL",
        ),
        count("SELECT COUNT(*) AS n FROM workspaces"),
        count("SELECT COUNT(*) AS n FROM workspaces WHERE name = 'Forms'"),
        count("SELECT COUNT(*) AS n FROM sessions WHERE user_id IS NOT NULL"),
    );
    for (path, fields) in [
        (
            "/settings/api-keys".to_owned(),
            vec![("label", "x"), ("mode", "live")],
        ),
        (format!("/settings/api-keys/{key_id}/revoke"), vec![]),
        (
            format!("/settings/api-keys/{key_id}/roll"),
            vec![("grace_hours", "0")],
        ),
        ("/settings/accounts/ca_none/disconnect".to_owned(), vec![]),
        ("/workspaces".to_owned(), vec![("name", "Another")]),
        (
            "/workspaces/switch".to_owned(),
            vec![("workspace_id", "ws_none")],
        ),
        ("/settings/security/sign-out-everywhere".to_owned(), vec![]),
        (
            "/settings/security/password".to_owned(),
            vec![
                ("current_password", crate::harness::PASSWORD),
                ("new_password", "an entirely new passphrase"),
            ],
        ),
        (
            format!("/settings/security/sessions/{own_session}/end"),
            vec![],
        ),
        ("/settings/verify-email".to_owned(), vec![]),
        (
            "/settings/security/google/unlink".to_owned(),
            vec![("issuer", "https://accounts.google.com")],
        ),
        ("/settings/members/leave".to_owned(), vec![]),
        (
            "/settings/members/usr_none/role".to_owned(),
            vec![("role", "admin")],
        ),
        ("/settings/members/usr_none/remove".to_owned(), vec![]),
        (
            "/settings/members/invitations".to_owned(),
            vec![("email", "new@example.com"), ("role", "member")],
        ),
        (
            "/settings/members/invitations/inv_none/resend".to_owned(),
            vec![],
        ),
        (
            "/settings/members/invitations/inv_none/revoke".to_owned(),
            vec![],
        ),
        ("/invitation/accept".to_owned(), vec![("token", "none")]),
        (
            "/settings/workspace/rename".to_owned(),
            vec![("name", "Renamed")],
        ),
        (
            "/settings/workspace/delete".to_owned(),
            vec![("name", "Forms")],
        ),
        ("/logout".to_owned(), vec![]),
    ] {
        let mut form = fields.clone();
        form.push(("csrf_token", "not-the-session-token"));
        let response = owner.post_form(&path, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let after = (
        count(
            "SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL AND replaced_by IS NULL",
        ),
        count("SELECT COUNT(*) AS n FROM workspaces"),
        count("SELECT COUNT(*) AS n FROM workspaces WHERE name = 'Forms'"),
        count("SELECT COUNT(*) AS n FROM sessions WHERE user_id IS NOT NULL"),
    );
    assert_eq!(before, after);
    assert_eq!(app.db.rows("invitations"), 0);
    assert_eq!(owner.get("/dashboard").await.status(), StatusCode::OK);
    assert_eq!(
        app.browser()
            .log_in(&email, crate::harness::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
    // With the right token the same sign-out goes through: the refusals were the token's.
    let response = owner.submit("/dashboard", "/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}
