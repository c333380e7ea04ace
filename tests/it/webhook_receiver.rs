//! A webhook receiver of the test's own: Node runs `tests/webhooks/receiver.mjs`, which checks
//! every request's signature with the reference implementation of Standard Webhooks (npm's
//! `standardwebhooks`), never with the service's code. The test tells it how to answer and
//! reads back what it received.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Receiver {
    pub base: String,
    /// The address of its DNS server (`127.0.0.1:PORT`), whose answers `control` sets.
    pub dns: String,
    // The receiver exits when its stdin closes.
    _process: (Child, ChildStdin),
    http: reqwest::Client,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self._process.0.kill();
        let _ = self._process.0.wait();
    }
}

impl Receiver {
    pub fn start() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks");
        if !dir.join("node_modules/standardwebhooks").is_dir() {
            let installed = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|e| panic!("cannot run npm ({e}): install Node.js and npm"));
            assert!(installed.success(), "npm ci in tests/webhooks failed");
        }
        let mut child = Command::new("node")
            .arg("receiver.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node ({e}): install Node.js"));
        let stdin = child.stdin.take().expect("receiver stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("receiver stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the receiver's first line");
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let (base, dns) = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|rest| rest.split_once(" dns "))
            .unwrap_or_else(|| panic!("the receiver did not start: {line:?}"));
        let (base, dns) = (base.to_owned(), dns.to_owned());
        Self {
            base,
            dns,
            _process: (child, stdin),
            http: reqwest::Client::new(),
        }
    }

    /// Where the service should send: a path of the receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Tells the receiver how to behave (`secrets`, `statuses`, `delay_ms`, `flood`,
    /// `redirect`, `silent`), and its DNS server what to answer (`dns`: name to addresses).
    pub async fn control(&self, settings: Value) {
        let answer = self
            .http
            .post(self.url("/_control"))
            .json(&settings)
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(answer.status(), 204);
    }

    pub async fn secrets(&self, secrets: &[&str]) {
        self.control(json!({ "secrets": secrets })).await;
    }

    /// Everything received so far, oldest first.
    pub async fn received(&self) -> Vec<Value> {
        self.http
            .get(self.url("/_received"))
            .send()
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("JSON")
    }

    /// Waits until `done` holds for what was received; answers it then.
    pub async fn wait_for(&self, within: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received().await;
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver did not get what was expected in {within:?}: {received:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Receiver {
    /// The A queries its DNS server answered: `{"name", "address"}`, oldest first.
    pub async fn dns_queries(&self) -> Vec<Value> {
        self.http
            .get(self.url("/_dns"))
            .send()
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("JSON")
    }
}

/// The body of a received request, parsed.
pub fn body(request: &Value) -> Value {
    serde_json::from_str(request["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}
