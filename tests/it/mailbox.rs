//! A real SMTP server for the tests to receive the service's email through: Debian's aiosmtpd,
//! storing each message in a maildir of the test's own. The service reaches it with
//! `SOCIALIZER_SMTP_URL`, so lettre's SMTP path is what is tested.

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's own interpreter, which has the `python3-aiosmtpd` package (another python3 may
/// come first on PATH).
const PYTHON: &str = "/usr/bin/python3";

pub struct Mailbox {
    server: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Mailbox {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("maildir");
        let server = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {PYTHON} -m aiosmtpd ({e}): apt-get install python3-aiosmtpd")
            });
        let mut mailbox = Self { server, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = mailbox.server.try_wait() {
                panic!("aiosmtpd exited ({status}): apt-get install python3-aiosmtpd");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        mailbox
    }

    /// Points a test server's mail at this mailbox.
    pub fn configure(&self, vars: &mut HashMap<String, String>) {
        vars.insert(
            "SOCIALIZER_SMTP_URL".into(),
            format!("smtp://127.0.0.1:{}", self.port),
        );
        vars.insert(
            crate::harness::MAIL_FOLDER_VAR.into(),
            self.dir
                .path()
                .join("maildir")
                .join("new")
                .display()
                .to_string(),
        );
    }

    /// Every message received so far, decoded, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("maildir").join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.map(|e| e.expect("maildir entry").path()).collect();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|path| {
                crate::harness::decode_quoted_printable(
                    &std::fs::read_to_string(path).expect("message"),
                )
            })
            .collect()
    }

    /// The messages to `to`, once there are `count` of them (waits up to 10 s for mail sent
    /// after the answer).
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received: Vec<String> = self
                .messages()
                .into_iter()
                .filter(|m| m.contains(&format!("To: {to}")))
                .collect();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "{count} message(s) to {to} never came"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Mailbox {
    /// The link to `path` in the `nth` message (1 for the first) to `to` that has one, waiting
    /// up to 10 s for it.
    pub async fn link(&self, to: &str, path: &str, nth: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let with_link: Vec<String> = self
                .messages()
                .into_iter()
                .filter(|m| {
                    m.contains(&format!("To: {to}")) && m.contains(&format!("{path}?token="))
                })
                .collect();
            if let Some(message) = with_link.get(nth - 1) {
                return link_in(message, path);
            }
            assert!(
                Instant::now() < deadline,
                "message {nth} to {to} with a {path} link never came"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// The local part of the link in `message` whose path starts with `path` (`/reset-password`).
pub fn link_in(message: &str, path: &str) -> String {
    let word = message
        .split_whitespace()
        .find(|w| w.contains(&format!("{path}?token=")))
        .unwrap_or_else(|| panic!("no {path} link in {message}"));
    word[word.find(path).expect("path")..].to_owned()
}
