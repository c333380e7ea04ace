//! What the benchmarks share: a Socializer of their own, started on a random port.

use socializer::app::Application;
use socializer::config::Config;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

/// Starts the service on its own thread with its data under `dir`, no practical rate limit
/// (the benchmarks measure other things than its refusals), `extra` settings on top, and
/// `adjust` applied to the configuration last.
pub fn start_socializer(
    dir: &Path,
    extra: &[(&'static str, &str)],
    adjust: impl FnOnce(&mut Config),
) -> SocketAddr {
    let mut vars: HashMap<&str, String> = HashMap::from([
        (
            "SOCIALIZER_DATA_DIR",
            dir.join("data").display().to_string(),
        ),
        ("SOCIALIZER_BIND", "127.0.0.1:0".into()),
        ("SOCIALIZER_RATE_LIMIT_FREE", "4000000000".into()),
    ]);
    vars.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    let mut config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    adjust(&mut config);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config).await.unwrap();
            tx.send(app.address()).unwrap();
            app.run_until_stopped().await.unwrap();
        })
    });
    rx.recv().unwrap()
}
