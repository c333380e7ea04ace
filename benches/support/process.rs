//! A real `socializer serve` process (the release binary), for the figures that need the
//! server's own memory or several processes: its address, its resident memory, its log.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The root key and session secret every benchmark process shares (a process of another
/// benchmark run never sees this data).
pub const ROOT_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

pub fn session_secret() -> String {
    "A".repeat(86) + "=="
}

/// One `socializer serve` process, stopped when dropped.
pub struct Process {
    child: Child,
    pub address: SocketAddr,
    pub log: PathBuf,
    _data: tempfile::TempDir,
}

impl Process {
    /// Starts the server with `vars` on top of its own address, data directory, keys and a
    /// warn-level log to a file; waits until it listens.
    pub fn start(vars: &[(String, String)]) -> Self {
        let address = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let log = data.path().join("server.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_socializer"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SOCIALIZER_BIND", address.to_string())
            .env("SOCIALIZER_DATA_DIR", data.path())
            .env("SOCIALIZER_ROOT_KEY", ROOT_KEY)
            .env("SOCIALIZER_SESSION_SECRET", session_secret())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (name, value) in vars {
            command.env(name, value);
        }
        let child = command.spawn().expect("the socializer binary starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "socializer never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            address,
            log,
            _data: data,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Where this process writes the email it sends (no SMTP server is set).
    pub fn outbox(&self) -> PathBuf {
        self._data.path().join("outbox")
    }

    /// Resident memory now, in megabytes (10^6 bytes), from `/proc` (Linux).
    pub fn resident_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server process is running");
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kib * 1024.0 / 1e6
    }

    /// The log's lines at ERROR level, and any panic.
    pub fn error_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" ERROR ") || l.contains("panicked"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
