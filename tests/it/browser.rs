//! Through a real browser (headless Chromium): sign up, sign out, sign in, with the real pages.

use crate::harness::{PASSWORD, TestApp, unique_email};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

fn missing() -> ! {
    panic!(
        "the browser tests need Chromium and its driver: \
         apt-get install chromium chromium-driver (bash .ci/run installs them)"
    )
}

pub(crate) struct ChromeDriver {
    child: Child,
    url: String,
    /// Each browser's profile folder, removed when the driver is done.
    profiles: std::sync::Mutex<Vec<tempfile::TempDir>>,
}

impl ChromeDriver {
    #[allow(
        clippy::zombie_processes,
        reason = "Drop kills and waits for the child"
    )]
    pub(crate) async fn start() -> Self {
        // The test binary links two TLS crypto providers; pick one (the WebDriver link is
        // plain HTTP on loopback anyway).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !std::path::Path::new(CHROMIUM).exists() {
            missing();
        }
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|_| missing());
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    child,
                    url,
                    profiles: Default::default(),
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    pub(crate) async fn browser(&self) -> Client {
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args, "binary": CHROMIUM }),
        );
        self.profiles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(profile);
        ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("browser session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn fill(browser: &Client, id: &str, text: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Follows a link and waits until the element with `id` is on the new page.
pub(crate) async fn follow(browser: &Client, link: &str, id: &str) {
    click_on(browser, Locator::LinkText(link)).await;
    wait_for(browser, Locator::Id(id)).await;
    crate::page_checks::axe_if_ours(browser).await;
}

pub(crate) async fn click(browser: &Client, css: &str) {
    click_on(browser, Locator::Css(css)).await;
}

pub(crate) async fn click_on(browser: &Client, locator: Locator<'_>) {
    browser.find(locator).await.unwrap().click().await.unwrap();
}

/// Waits up to 10 s for an element to appear (after a click that loads a page).
pub(crate) async fn wait_for(
    browser: &Client,
    locator: Locator<'_>,
) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(locator)
        .await
        .unwrap()
}

pub(crate) async fn path(browser: &Client) -> String {
    browser.current_url().await.unwrap().path().to_owned()
}

/// Clicks and waits until the page at `expected` has loaded (a POST may take a moment). A new
/// address is known to be the new page, which axe-core then checks.
pub(crate) async fn click_to(browser: &Client, css: &str, expected: &str) {
    let from = path(browser).await;
    click(browser, css).await;
    for _ in 0..100 {
        // Mid-navigation the address may already be the new one while its page is not there
        // yet: wait for the page's heading too.
        if path(browser).await == expected && browser.find(Locator::Css("main h1")).await.is_ok() {
            if from != expected {
                crate::page_checks::axe_if_ours(browser).await;
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected to arrive at {expected}, still at {}",
        path(browser).await
    );
}

/// Goes to a settings page the way a person does, through the header's Settings and the side
/// navigation, and waits until that page is the one marked current.
pub(crate) async fn open_settings(browser: &Client, label: &str) {
    click(browser, ".main-nav a[href='/settings']").await;
    wait_for(
        browser,
        Locator::XPath("//main//h1[normalize-space()='Settings']"),
    )
    .await;
    let link = format!("//nav[@aria-label='Settings']//a[normalize-space()='{label}']");
    click_on(browser, Locator::XPath(&link)).await;
    let current = format!(
        "//nav[@aria-label='Settings']//a[@aria-current='page' and normalize-space()='{label}']"
    );
    wait_for(browser, Locator::XPath(&current)).await;
    crate::page_checks::axe_if_ours(browser).await;
}

/// Signs out through the account menu in the header.
pub(crate) async fn sign_out(browser: &Client) {
    click(browser, ".menu.account summary").await;
    click_to(browser, "#sign-out", "/login").await;
}

pub(crate) async fn text(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[actix_web::test]
async fn sign_up_sign_out_and_sign_in_through_the_pages() {
    let app = TestApp::spawn().await;
    let driver = ChromeDriver::start().await;
    let browser = driver.browser().await;
    let email = unique_email("browser");

    browser
        .goto(&format!("{}/dashboard", app.base))
        .await
        .unwrap();
    assert_eq!(
        path(&browser).await,
        "/login",
        "signed out: the dashboard sends us to sign in"
    );

    follow(&browser, "Create an account", "workspace").await;
    fill(&browser, "email", &email).await;
    fill(&browser, "password", PASSWORD).await;
    fill(&browser, "workspace", "Browser Co").await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;
    assert_eq!(text(&browser, "h1").await, "Browser Co");
    assert_eq!(text(&browser, ".role").await, "owner");

    sign_out(&browser).await;
    assert_eq!(text(&browser, "h1").await, "Sign in");
    assert_eq!(text(&browser, ".notice").await, "You are signed out.");

    fill(&browser, "email", &email).await;
    fill(&browser, "password", "not my password").await;
    click(&browser, "main button[type=submit]").await;
    let error = wait_for(&browser, Locator::Css(".error")).await;
    assert_eq!(error.text().await.unwrap(), "Incorrect email or password.");

    browser
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    fill(&browser, "email", &email).await;
    fill(&browser, "password", PASSWORD).await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;
    assert_eq!(text(&browser, "h1").await, "Browser Co");

    browser.close().await.unwrap();
}

#[actix_web::test]
async fn create_a_key_see_it_once_use_it_revoke_it() {
    let app = TestApp::spawn().await;
    let signed_up = app.browser();
    let email = unique_email("keys");
    signed_up.sign_up(&email, "Key Co").await;

    let driver = ChromeDriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    fill(&browser, "email", &email).await;
    fill(&browser, "password", PASSWORD).await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;

    open_settings(&browser, "API keys").await;
    fill(&browser, "label", "From the browser").await;
    click(&browser, r#"#mode option[value="live"]"#).await;
    click(&browser, r#"input[name="access"][value="restricted"]"#).await;
    click(&browser, r#"input[value="keys:read"]"#).await;
    click(&browser, r#"form[action="/settings/api-keys"] button"#).await;
    let field = wait_for(&browser, Locator::Id("new-key")).await;
    let key = field.prop("value").await.unwrap().unwrap();
    assert!(key.starts_with("sk_live_"), "{key}");
    assert!(
        text(&browser, ".warning")
            .await
            .contains("will not be shown again")
    );
    assert!(
        browser
            .find(Locator::Css("[data-copy-target=new-key]"))
            .await
            .is_ok(),
        "a copy button"
    );

    let api = crate::harness::ApiClient::new(&app.base, &key);
    let (status, _, body) = crate::harness::json(api.get("/v1/api-keys")).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body["data"][0]["label"], "From the browser");

    // Reloading shows the list, never the key again.
    browser
        .goto(&format!("{}/settings/api-keys", app.base))
        .await
        .unwrap();
    assert!(!browser.source().await.unwrap().contains(&key));
    // The key's own page; Revoke asks in a dialog, and the list then says what happened.
    click(&browser, "td.row-action a").await;
    click(&browser, "a[data-confirm-action$='/revoke']").await;
    wait_for(&browser, Locator::Css("dialog[open]")).await;
    assert_eq!(
        crate::harness::json(api.get("/v1/api-keys")).await.0,
        reqwest::StatusCode::OK,
        "asking changes nothing"
    );
    click_to(&browser, "#confirm-submit", "/settings/api-keys").await;
    assert_eq!(
        crate::harness::without_last4(&flash(&browser).await),
        "Key \u{201c}From the browser\u{201d} (sk_live_…) revoked."
    );
    assert_eq!(text(&browser, ".key-state").await, "revoked");

    let (status, _, body) = crate::harness::json(api.get("/v1/api-keys")).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    browser.close().await.unwrap();
}

/// Signs in through the pages of a server whose owner signed up through `signed_up`.
pub(crate) async fn signed_in_browser(driver: &ChromeDriver, app: &TestApp, email: &str) -> Client {
    let browser = driver.browser().await;
    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    fill(&browser, "email", email).await;
    fill(&browser, "password", PASSWORD).await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;
    browser
}

#[actix_web::test]
async fn connect_sandbox_x_and_linkedin_through_the_pages() {
    let platforms = crate::platforms::Running::start().await;
    let vars = platforms.vars();
    let app = TestApp::spawn_with(|v| v.extend(vars)).await;
    for name in ["x", "linkedin"] {
        platforms
            .platform(name)
            .redirect_uris
            .insert(format!("{}/connect/{name}/callback", app.base));
    }
    let email = unique_email("connect");
    let owner = app.browser();
    owner.sign_up(&email, "Connect Co").await;
    let test_key = owner.create_key("test", "test", &[]).await;

    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &app, &email).await;
    open_settings(&browser, "Connected accounts").await;

    // The sandbox: its own authorization page, Approve, and back to the list.
    click_to(&browser, "#connect-sandbox", "/sandbox/authorize").await;
    let name = browser.find(Locator::Id("account")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("pagetester").await.unwrap();
    click_to(&browser, "#approve", "/settings/accounts").await;
    assert_eq!(
        text(
            &browser,
            "section[aria-labelledby=test-mode-heading] .account-handle"
        )
        .await,
        "@pagetester"
    );

    // X and LinkedIn, through their stand-ins.
    click_to(&browser, "#connect-x", "/settings/accounts").await;
    click_to(&browser, "#connect-linkedin", "/settings/accounts").await;
    let handles = browser
        .find_all(Locator::Css(".account-handle"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for handle in handles {
        seen.push(handle.text().await.unwrap());
    }
    // Live accounts first (in the order connected, which one second may not tell), then the
    // test-mode section.
    seen[..2].sort();
    assert_eq!(seen, vec!["@ada", "ada@example.com", "@pagetester"]);

    // A flow begun through the API with the caller's own redirect URI: the sandbox page's
    // Approve sends the browser on to that other origin (its CSP allows exactly that).
    let client = crate::harness::ApiClient::new(&app.base, &test_key);
    let landing = format!("{}/landing", platforms.base);
    let (auth_url, state) = crate::connect::begin(&client, "sandbox", Some(&landing)).await;
    browser.goto(&auth_url).await.unwrap();
    click(&browser, "#approve").await;
    let mut arrived = String::new();
    for _ in 0..100 {
        arrived = browser.current_url().await.unwrap().to_string();
        if arrived.starts_with(&landing) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(arrived.starts_with(&landing), "still at {arrived}");
    let code = crate::connect::param(&arrived, "code").unwrap();
    assert_eq!(crate::connect::param(&arrived, "state").unwrap(), state);
    let (status, account) = crate::connect::finish(&client, "sandbox", &code, &state).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{account}");

    browser.close().await.unwrap();
}

#[actix_web::test]
async fn forgot_password_reset_by_email_then_the_security_page() {
    let mailbox = crate::mailbox::Mailbox::start();
    let app = TestApp::spawn_with(|vars| mailbox.configure(vars)).await;
    let email = unique_email("reset-browser");
    app.browser().sign_up_unconfirmed(&email, "Reset Co").await;
    let driver = ChromeDriver::start().await;
    let browser = driver.browser().await;

    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    follow(&browser, "Forgot your password?", "email").await;
    fill(&browser, "email", &email).await;
    click(&browser, "main button[type=submit]").await;
    // The answer comes to the same address as the form: wait for its heading.
    let answered = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//main//h1[text()='Check your email']"))
        .await;
    assert!(answered.is_ok(), "the form was answered");
    crate::page_checks::check_page(&browser, "forgot-password-sent").await;

    // The confirmation link sent at sign-up, followed while signed out: it asks to sign in
    // first, and stays unspent.
    let verify = mailbox.link(&email, "/verify-email", 1).await;
    browser
        .goto(&format!("{}{verify}", app.base))
        .await
        .unwrap();
    assert_eq!(text(&browser, "main h1").await, "Sign in to confirm");
    crate::page_checks::check_page(&browser, "email-sign-in-to-confirm").await;

    let link = mailbox.link(&email, "/reset-password", 1).await;
    browser.goto(&format!("{}{link}", app.base)).await.unwrap();
    crate::page_checks::check_page(&browser, "reset-password").await;
    fill(&browser, "password", "a fresh browser passphrase").await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;
    assert_eq!(text(&browser, "h1").await, "Reset Co");
    // Signed in, the confirmation link is spent; the reset had confirmed the address already.
    browser
        .goto(&format!("{}{verify}", app.base))
        .await
        .unwrap();
    assert_eq!(text(&browser, "main h1").await, "Email confirmed");
    crate::page_checks::check_page(&browser, "email-confirmed").await;
    browser
        .goto(&format!("{}/dashboard", app.base))
        .await
        .unwrap();

    open_settings(&browser, "Profile and security").await;
    assert!(
        text(&browser, "tr.current")
            .await
            .contains("(this session)")
    );
    fill(&browser, "current_password", "a fresh browser passphrase").await;
    fill(&browser, "new_password", "and yet another passphrase").await;
    click_to(
        &browser,
        "form[action='/settings/security/password'] button",
        "/settings/security",
    )
    .await;
    let notice = wait_for(&browser, Locator::Css(".notice")).await;
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .contains("Your password was changed")
    );

    browser.close().await.unwrap();
}

#[actix_web::test]
async fn continue_with_google_signs_a_new_person_in_and_the_security_page_shows_it() {
    let provider = crate::oidc_provider::provider();
    let app = TestApp::spawn_with(|vars| provider.configure(vars)).await;
    let email = unique_email("google-browser");
    let driver = ChromeDriver::start().await;
    let browser = driver.browser().await;

    browser.goto(&format!("{}/login", app.base)).await.unwrap();
    click_on(&browser, Locator::LinkText("Continue with Google")).await;
    // The provider's own login and consent pages.
    let login = wait_for(&browser, Locator::Css("input[name=login]")).await;
    login.send_keys(&format!("verified:{email}")).await.unwrap();
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("any")
        .await
        .unwrap();
    click(&browser, "button[type=submit]").await;
    wait_for(&browser, Locator::Css("input[name=prompt][value=consent]")).await;
    click(&browser, "button[type=submit]").await;
    for _ in 0..100 {
        if path(&browser).await == "/dashboard" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(path(&browser).await, "/dashboard");
    assert!(text(&browser, "body").await.contains(&email));

    open_settings(&browser, "Profile and security").await;
    let identity = text(&browser, ".identity").await;
    assert!(identity.contains(&email), "{identity}");
    browser.close().await.unwrap();
}

/// A page of another origin (another port), with no policy of its own, as an attacker's page
/// would be. Stops with the test.
fn elsewhere() -> (String, actix_web::dev::ServerHandle) {
    let server = actix_web::HttpServer::new(|| {
        actix_web::App::new().default_service(actix_web::web::to(|| async {
            actix_web::HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body("<!doctype html><title>Elsewhere</title><p>Another site</p>")
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (format!("http://{address}"), handle)
}

/// Runs `script` in the page; its last argument is the callback it answers with.
async fn answer(browser: &Client, script: &str) -> serde_json::Value {
    browser
        .execute_async(
            &format!("const done = arguments[arguments.length - 1]; {script}"),
            vec![],
        )
        .await
        .unwrap()
}

#[actix_web::test]
async fn our_pages_call_v1_with_the_session_and_another_origin_can_neither_read_nor_write() {
    let app = TestApp::spawn().await;
    let email = unique_email("fetcher");
    app.browser().sign_up(&email, "Fetch Co").await;
    let driver = ChromeDriver::start().await;
    let browser = signed_in_browser(&driver, &app, &email).await;

    let who = answer(
        &browser,
        "fetch('/v1/status').then(r => r.json()).then(b => done(b.user.email), e => done('error ' + e));",
    )
    .await;
    assert_eq!(who, serde_json::json!(email));
    let made = answer(
        &browser,
        "fetch('/v1/api-keys', {method: 'POST', headers: {'content-type': 'application/json', \
         'x-csrf-token': document.querySelector('meta[name=csrf-token]').content}, \
         body: JSON.stringify({label: 'from the page'})}).then(r => done(r.status), e => done('error ' + e));",
    )
    .await;
    assert_eq!(made, serde_json::json!(201));
    assert_eq!(app.db.rows("api_keys"), 1);

    let (other, server) = elsewhere();
    browser.goto(&other).await.unwrap();
    let read = answer(
        &browser,
        &format!(
            "fetch('{}/v1/status', {{credentials: 'include'}}).then(r => r.text()).then(t => done('read ' + t), () => done('blocked'));",
            app.base
        ),
    )
    .await;
    assert_eq!(read, serde_json::json!("blocked"));
    // A request another page may send without asking first: it carries the cookie (same
    // site) but cannot carry the token, and changes nothing.
    let sent = answer(
        &browser,
        &format!(
            "fetch('{}/v1/api-keys', {{method: 'POST', mode: 'no-cors', credentials: 'include', \
             headers: {{'content-type': 'text/plain'}}, body: JSON.stringify({{label: 'cross'}})}}) \
             .then(() => done('sent'), () => done('blocked'));",
            app.base
        ),
    )
    .await;
    assert!(sent == "sent" || sent == "blocked", "{sent}");
    assert_eq!(
        app.db.rows("api_keys"),
        1,
        "nothing was made from another origin"
    );

    browser.close().await.unwrap();
    server.stop(false).await;
}

/// In `browser`, signed in as an owner or admin: invites `email` with `role` from the members page.
async fn invite_from_members_page(browser: &Client, base: &str, email: &str, role: &str) {
    browser
        .goto(&format!("{base}/settings/members"))
        .await
        .unwrap();
    fill(browser, "invite-email", email).await;
    browser
        .find(Locator::Id("invite-role"))
        .await
        .unwrap()
        .select_by_value(role)
        .await
        .unwrap();
    click_to(
        browser,
        "form[action='/settings/members/invitations'] button",
        "/settings/members",
    )
    .await;
    let notice = wait_for(browser, Locator::Css(".notice")).await;
    assert!(notice.text().await.unwrap().contains("invitation was sent"));
}

/// A fresh browser session follows the invitation link and signs up through it.
async fn join_through_link(driver: &ChromeDriver, base: &str, link: &str) -> Client {
    let browser = driver.browser().await;
    browser.goto(&format!("{base}{link}")).await.unwrap();
    crate::page_checks::check_page(&browser, "invitation").await;
    fill(&browser, "password", PASSWORD).await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;
    browser
}

#[actix_web::test]
async fn a_team_of_three_is_built_from_invitations_and_each_role_sees_its_powers() {
    let mailbox = crate::mailbox::Mailbox::start();
    let app = TestApp::spawn_with(|vars| mailbox.configure(vars)).await;
    let owner_email = unique_email("owner");
    app.browser().sign_up(&owner_email, "Team Three").await;
    let driver = ChromeDriver::start().await;
    let owner = signed_in_browser(&driver, &app, &owner_email).await;

    let admin_email = unique_email("admin");
    invite_from_members_page(&owner, &app.base, &admin_email, "admin").await;
    let admin_link = mailbox.link(&admin_email, "/invitation", 1).await;
    let admin = join_through_link(&driver, &app.base, &admin_link).await;
    assert_eq!(text(&admin, "h1").await, "Team Three");
    assert_eq!(text(&admin, ".role").await, "admin");

    let member_email = unique_email("member");
    invite_from_members_page(&admin, &app.base, &member_email, "member").await;
    let member_link = mailbox.link(&member_email, "/invitation", 1).await;
    let member = join_through_link(&driver, &app.base, &member_link).await;
    assert_eq!(text(&member, ".role").await, "member");

    // What each role is offered: keys and the audit log for owners and admins, renaming and
    // deleting for owners; a member gets 403 where they have no business.
    let nav = |b: &Client| {
        let b = b.clone();
        let settings = format!("{}/settings", app.base);
        async move {
            b.goto(&settings).await.unwrap();
            text(&b, "nav[aria-label=Settings]").await
        }
    };
    assert!(nav(&owner).await.contains("Audit log"));
    assert!(nav(&admin).await.contains("API keys"));
    assert!(!nav(&member).await.contains("API keys"));
    assert!(!nav(&member).await.contains("Audit log"));
    owner
        .goto(&format!("{}/settings/workspace", app.base))
        .await
        .unwrap();
    assert!(owner.find(Locator::Id("confirm-name")).await.is_ok());
    admin
        .goto(&format!("{}/settings/workspace", app.base))
        .await
        .unwrap();
    assert!(admin.find(Locator::Id("confirm-name")).await.is_err());
    for path in ["/settings/api-keys", "/settings/audit"] {
        member.goto(&format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(text(&member, "h1").await, "Not allowed", "{path}");
    }
    owner
        .goto(&format!("{}/settings/audit", app.base))
        .await
        .unwrap();
    let log = text(&owner, "table").await;
    assert_eq!(log.matches("joined").count(), 2, "{log}");
    assert!(log.contains(&admin_email) && log.contains(&member_email));

    owner
        .goto(&format!("{}/settings/members", app.base))
        .await
        .unwrap();
    crate::page_checks::check_page(&owner, "members-team").await;
    for b in [owner, admin, member] {
        b.close().await.unwrap();
    }
}

/// Waits for the page's one-line message (after a change) and answers its text.
pub(crate) async fn flash(browser: &Client) -> String {
    wait_for(browser, Locator::Css(".flash"))
        .await
        .text()
        .await
        .unwrap()
}

/// Every kind of page a team uses, visited as a new owner would, each checked by axe-core at
/// 1280 and 375 px, for sideways scrolling at phone width and for visible focus, and
/// photographed under target/screenshots/.
#[actix_web::test]
async fn every_page_is_accessible_fits_a_phone_and_shows_focus() {
    use crate::page_checks::check_page;
    let app = TestApp::spawn().await;
    let driver = ChromeDriver::start().await;
    let browser = driver.browser().await;
    let base = &app.base;
    let go = |path: &str| {
        let browser = browser.clone();
        let url = format!("{base}{path}");
        async move { browser.goto(&url).await.unwrap() }
    };

    for (path, name) in [
        ("/login", "sign-in"),
        ("/signup", "sign-up"),
        ("/forgot-password", "forgot-password"),
        ("/forgot-password/sent", "reset-link-sent"),
    ] {
        go(path).await;
        check_page(&browser, name).await;
    }

    // A new owner, straight after signing up: the welcome message and the first steps.
    let email = unique_email("tour");
    go("/signup").await;
    fill(&browser, "email", &email).await;
    fill(&browser, "password", PASSWORD).await;
    fill(&browser, "workspace", "Tour Co").await;
    click_to(&browser, "main button[type=submit]", "/dashboard").await;
    assert!(flash(&browser).await.contains("confirmation link"));
    assert!(text(&browser, "#checklist").await.contains("0 of 4 done"));
    check_page(&browser, "dashboard-new").await;
    // Until the address is confirmed every other page says what waits for it.
    go("/settings/members").await;
    assert!(
        text(&browser, "#unconfirmed")
            .await
            .contains("not confirmed yet")
    );
    check_page(&browser, "members-unconfirmed").await;
    let confirm = crate::harness::confirmation_link(&app.mail, &email).await;
    go(&confirm).await;

    go("/dashboard").await;
    click(&browser, ".main-nav a[href='/settings']").await;
    wait_for(
        &browser,
        Locator::XPath("//main//h1[normalize-space()='Settings']"),
    )
    .await;
    check_page(&browser, "settings").await;
    for (link, name) in [
        ("Profile and security", "security"),
        ("Workspace", "workspace"),
    ] {
        open_settings(&browser, link).await;
        check_page(&browser, name).await;
    }

    // Members, with an invitation waiting.
    open_settings(&browser, "Members").await;
    fill(&browser, "invite-email", &unique_email("invited")).await;
    // The same address before and after: the message tells the new page.
    click(
        &browser,
        "form[action='/settings/members/invitations'] button",
    )
    .await;
    assert!(flash(&browser).await.contains("invitation was sent"));
    check_page(&browser, "members").await;

    // A test key: its one showing names its own prefix and the next steps.
    open_settings(&browser, "API keys").await;
    fill(&browser, "label", "CI deploys").await;
    browser
        .find(Locator::Id("mode"))
        .await
        .unwrap()
        .select_by_value("test")
        .await
        .unwrap();
    click(&browser, "form#create-key button").await;
    wait_for(&browser, Locator::Id("new-key")).await;
    assert!(text(&browser, "#next-curl").await.contains("sk_test_"));
    assert!(
        text(&browser, "#next-cli")
            .await
            .contains("socializer login")
    );
    check_page(&browser, "api-key-created").await;
    go("/settings/api-keys").await;
    check_page(&browser, "api-keys").await;

    // The key's own page; Revoke asks first, in a dialog.
    click(&browser, "td.row-action a").await;
    wait_for(&browser, Locator::Css("dl.facts")).await;
    check_page(&browser, "api-key").await;
    click(&browser, "a[data-confirm-action$='/revoke']").await;
    let dialog = wait_for(&browser, Locator::Css("dialog[open]")).await;
    assert!(dialog.text().await.unwrap().contains("Revoke the key"));
    check_page(&browser, "revoke-dialog").await;
    click(&browser, "#confirm-cancel").await;
    assert!(browser.find(Locator::Css("dialog[open]")).await.is_err());
    assert_eq!(
        text(&browser, ".key-state").await,
        "active",
        "cancel changes nothing"
    );
    // Without the script the same link is a page that asks.
    let confirm = browser
        .find(Locator::Css("a[data-confirm-action$='/revoke']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    go(&confirm).await;
    check_page(&browser, "revoke-confirmation").await;
    click_to(&browser, "#confirm-yes", "/settings/api-keys").await;
    assert_eq!(
        crate::harness::without_last4(&flash(&browser).await),
        "Key \u{201c}CI deploys\u{201d} (sk_test_…) revoked."
    );

    // Connected accounts, with a sandbox account.
    open_settings(&browser, "Connected accounts").await;
    check_page(&browser, "accounts-empty").await;
    // Denied at the platform: a plain page that says so, in the member's frame.
    click_to(&browser, "#connect-sandbox", "/sandbox/authorize").await;
    click_to(&browser, "#deny", "/connect/sandbox/callback").await;
    assert_eq!(text(&browser, "main h1").await, "Not connected");
    assert!(browser.find(Locator::Css("header .switcher")).await.is_ok());
    check_page(&browser, "connect-denied").await;
    open_settings(&browser, "Connected accounts").await;
    click_to(&browser, "#connect-sandbox", "/sandbox/authorize").await;
    check_page(&browser, "sandbox-authorize").await;
    click_to(&browser, "#approve", "/settings/accounts").await;
    assert!(flash(&browser).await.starts_with("Connected "));
    check_page(&browser, "accounts").await;

    open_settings(&browser, "Audit log").await;
    check_page(&browser, "audit").await;

    // Every first step is done (the email was confirmed on the way): the checklist is gone.
    go("/dashboard").await;
    assert!(browser.find(Locator::Css("#checklist")).await.is_err());
    check_page(&browser, "dashboard").await;

    // A page that does not exist keeps the navigation of someone signed in.
    go("/no-such-page").await;
    assert_eq!(text(&browser, "main h1").await, "Page not found");
    assert!(browser.find(Locator::Css("header .switcher")).await.is_ok());
    check_page(&browser, "not-found").await;

    browser.close().await.unwrap();
}
