//! Google's stand-in: the npm registry's `oidc-provider` (an OpenID-certified implementation),
//! run by Node from `tests/oidc`. One provider serves the whole test process; who signs in, and
//! whether the token endpoint hands out a bad ID token, is chosen by the login typed into the
//! provider's own login form (see `tests/oidc/provider.mjs`).

use reqwest::redirect;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub const CLIENT_ID: &str = "socializer-test-client";
pub const CLIENT_SECRET: &str = "socializer-test-secret-that-is-long-enough";

pub struct OidcProvider {
    pub issuer: String,
    // Held so that the provider lives as long as the test process: it exits when its stdin
    // closes.
    _process: Mutex<(Child, ChildStdin)>,
}

static PROVIDER: OnceLock<OidcProvider> = OnceLock::new();

/// The provider, started on first use.
pub fn provider() -> &'static OidcProvider {
    PROVIDER.get_or_init(OidcProvider::start)
}

impl OidcProvider {
    fn start() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        if !dir.join("node_modules/oidc-provider").is_dir() {
            // The versions package-lock.json pins, from the npm registry, once per checkout.
            let installed = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|e| panic!("cannot run npm ({e}): install Node.js and npm"));
            assert!(installed.success(), "npm ci in tests/oidc failed");
        }
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .args([CLIENT_ID, CLIENT_SECRET])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node ({e}): install Node.js"));
        let stdin = child.stdin.take().expect("provider stdin");
        let stdout = child.stdout.take().expect("provider stdout");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the provider's first line");
        // Whatever it prints later is read and dropped: a closed pipe would end it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let issuer = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_owned();
        Self {
            issuer,
            _process: Mutex::new((child, stdin)),
        }
    }

    /// The server variables that make Socializer sign in with this provider.
    pub fn configure(&self, vars: &mut HashMap<String, String>) {
        vars.insert("SOCIALIZER_GOOGLE_CLIENT_ID".into(), CLIENT_ID.into());
        vars.insert(
            "SOCIALIZER_GOOGLE_CLIENT_SECRET".into(),
            CLIENT_SECRET.into(),
        );
        vars.insert("SOCIALIZER_GOOGLE_ISSUER".into(), self.issuer.clone());
    }

    /// Signs in at the provider as `login` and consents, from a browser of the provider's own;
    /// answers the address the provider sends the person back to.
    pub async fn sign_in(&self, auth_url: &str, login: &str) -> String {
        let agent = agent();
        let interaction = self.follow(&agent, auth_url).await;
        let back = self
            .submit(
                &agent,
                &interaction,
                &[("prompt", "login"), ("login", login), ("password", "any")],
            )
            .await;
        let consent = self.follow(&agent, &back).await;
        if consent.contains("/auth/google/callback") {
            return consent;
        }
        let back = self
            .submit(&agent, &consent, &[("prompt", "consent")])
            .await;
        self.follow(&agent, &back).await
    }

    /// Goes to the provider and cancels at its login form: answers where it sends the person.
    pub async fn cancel(&self, auth_url: &str) -> String {
        let agent = agent();
        let interaction = self.follow(&agent, auth_url).await;
        self.follow(&agent, &format!("{interaction}/abort")).await
    }

    /// Follows the provider's redirects until one leaves it (to the callback) or lands on a
    /// page of its own (an interaction); answers that address.
    async fn follow(&self, agent: &reqwest::Client, start: &str) -> String {
        let mut url = self.absolute(start);
        for _ in 0..10 {
            if !url.starts_with(&self.issuer) {
                return url;
            }
            let response = agent.get(&url).send().await.expect("provider");
            if response.status().is_success() {
                return url;
            }
            let Some(location) = response.headers().get("location") else {
                panic!("{url} answered {} with no redirect", response.status());
            };
            url = self.absolute(location.to_str().expect("location"));
        }
        panic!("too many redirects at the provider");
    }

    async fn submit(
        &self,
        agent: &reqwest::Client,
        interaction: &str,
        form: &[(&str, &str)],
    ) -> String {
        let response = agent
            .post(interaction)
            .form(form)
            .send()
            .await
            .expect("interaction submit");
        let location = response
            .headers()
            .get("location")
            .unwrap_or_else(|| panic!("{interaction} answered {}", response.status()));
        self.absolute(location.to_str().expect("location"))
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.issuer)
        } else {
            url.to_owned()
        }
    }
}

/// A browser at the provider: cookies kept, redirects followed by hand.
fn agent() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .expect("provider agent")
}
