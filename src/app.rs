//! Builds the whole service from a `Config`: storage, the HTTP server on its listener, and the
//! housekeeping task. Tests start it on port 0 and read the port back.

use crate::auth::password::PasswordHashing;
use crate::auth::throttle;
use crate::config::Config;
use crate::connect::{Connector, RootKeyCheck, check_root_keys, run_refresher};
use crate::crypto::envelope::Keyring;
use crate::db::{Database, DbError, Global, login_throttle, sandbox_grants, sessions};
use crate::domain::now;
use crate::logging::Chain;
use crate::mail::{MailError, Mailer};
use crate::state::AppState;
use crate::web::{self, security_headers};
use actix_web::App;
use actix_web::dev::Server;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Why the service did not start. Each keeps its cause as its `source()`: the command line
/// prints the whole chain (`logging::Chain`).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database")]
    Database(#[from] DbError),
    #[error("cannot listen on {address}")]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("email")]
    Mail(#[from] MailError),
    #[error("cannot use {}", path.display())]
    Path {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} has {links} hard links: SQLite cannot share a database between names; use one \
         file with one name",
        path.display()
    )]
    HardLinks {
        path: std::path::PathBuf,
        links: u64,
    },
    #[error(
        "another Socializer server is already using {}: SQLite serves one server process; \
         stop the other one, or run several servers on PostgreSQL",
        path.display()
    )]
    AlreadyServed { path: std::path::PathBuf },
    #[error(
        "SOCIALIZER_DATABASE_URL logs in as a superuser or a role with BYPASSRLS; in \
         production the service must log in as a role of its own that is a member of \
         socializer_app (see docs/operations.md, \"A database role for the service\")"
    )]
    RoleBypassesRls,
    #[error("root keys")]
    RootKeys(#[from] RootKeyCheck),
    #[error("the public URL")]
    PublicUrl(#[from] url::ParseError),
    #[error("password hashing")]
    Hashing(#[from] crate::auth::password::HashingError),
    #[error("the HTTP client for the platforms")]
    HttpClient(#[from] crate::connect::oauth::HttpClientError),
    #[error("the HTTP client for webhooks")]
    WebhookClient(#[source] reqwest::Error),
    #[error("Google sign-in")]
    Google(#[from] crate::google::GoogleSetup),
    #[error("SOCIALIZER_REDIS_URL")]
    Redis(#[from] redis::RedisError),
    #[error("the key-change listener")]
    KeyListener(#[source] std::io::Error),
    #[error("a start-up task stopped")]
    Task(#[from] tokio::task::JoinError),
}

pub struct Application {
    /// Held while the server runs: on SQLite, no second server may use the same file.
    _single_process: Option<std::fs::File>,
    server: Server,
    address: SocketAddr,
    public_url: Url,
    db: Database,
    state: actix_web::web::Data<AppState>,
    key_usage_flush: Duration,
    refresh_every: Duration,
    /// With PostgreSQL: hears other processes' key changes; stopped with the server.
    key_listener: Option<crate::keys::listener::ListenerHandle>,
}

/// How often expired sessions and closed throttle windows are cleared away.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(10 * 60);

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        crate::private_files::dir(&config.data_dir)
            .and_then(|()| crate::private_files::tighten_tree(&config.data_dir))
            .map_err(|source| StartupError::Path {
                path: config.data_dir.clone(),
                source,
            })?;
        let single_process = match config.database_url.sqlite_path() {
            Some(path) => Some(lock_sqlite_file(path)?),
            None => None,
        };
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let db = open_database(&config, cores).await?;
        let keyring = Keyring::new(&config.root_key, &config.previous_root_keys);
        check_root_keys(&db, &keyring).await?;

        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            address: config.bind,
            source,
        })?;
        let address = listener.local_addr().map_err(|source| StartupError::Bind {
            address: config.bind,
            source,
        })?;
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{address}"))?,
        };

        // Half the cores at most hash passwords; the others keep answering requests.
        let hashing = PasswordHashing::new(config.hashing_threads.unwrap_or((cores / 2).max(1)))?;
        let mailer = Mailer::new(&config.mail, public_url.host_str().unwrap_or("localhost"))?;
        let webhooks = Arc::new(
            crate::webhooks::Webhooks::new(
                db.clone(),
                keyring.clone(),
                config.webhooks.clone(),
                mailer.clone(),
                public_url.clone(),
            )
            .map_err(StartupError::WebhookClient)?,
        );
        let connector = Arc::new(Connector::new(
            db.clone(),
            keyring,
            config.platforms.clone(),
            public_url.clone(),
        )?);
        let publisher = Arc::new(crate::publishing::Publisher::new(
            db.clone(),
            connector.clone(),
            public_url.clone(),
            config.publishing.clone(),
        ));
        let google = google_sign_in(&config, &public_url)?;
        let (key_cache, key_listener) = key_cache(&config, address)?;
        let rate_limiter = rate_limiter(&config).await?;
        let state = actix_web::web::Data::new(AppState {
            db: db.clone(),
            hashing,
            mailer,
            public_url: public_url.clone(),
            trust_forwarded_for: config.trust_forwarded_for,
            rate_limiter,
            rate_limits: crate::state::RateLimits {
                free: config.rate_limit_free,
                paid: config.rate_limit_paid,
            },
            key_usage: Default::default(),
            key_cache: key_cache.clone(),
            connector,
            publisher,
            webhooks,
            google,
            anonymous_csrf: crate::auth::csrf::AnonymousCsrf::new(
                &config.session_secret.0,
                public_url.scheme() == "https",
            ),
            anonymous_posts: Default::default(),
        });
        let slow_clients = actix_web::web::Data::new(crate::edge::slow_clients::SlowClients::new(
            config.body_deadline,
            config.requests_per_client,
        ));
        let server = serve(
            state.clone(),
            slow_clients,
            config.session_secret.0.clone(),
            config.workers.unwrap_or(cores),
            listener,
        )
        .map_err(|source| StartupError::Bind { address, source })?;

        Ok(Self {
            _single_process: single_process,
            server,
            address,
            public_url,
            db,
            state,
            key_usage_flush: config.key_usage_flush,
            refresh_every: config.refresh_every,
            key_listener,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// Stops the server from elsewhere (tests, embedding).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM), then drains.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let housekeeping = actix_web::rt::spawn(housekeeping(self.db.clone()));
        let usage = actix_web::rt::spawn(flush_key_usage(self.state.clone(), self.key_usage_flush));
        let refresher = actix_web::rt::spawn(run_refresher(
            self.state.connector.clone(),
            self.refresh_every,
        ));
        let publisher = actix_web::rt::spawn(crate::publishing::run_publisher(
            self.state.publisher.clone(),
        ));
        let webhooks = self.state.webhooks.clone();
        let deliverer =
            Background::start("webhooks", move || crate::webhooks::run_deliverer(webhooks));
        let limits = self.state.clone();
        let redis = actix_web::rt::spawn(async move { limits.rate_limiter.keep_connected().await });
        let result = self.server.await;
        redis.abort();
        housekeeping.abort();
        usage.abort();
        refresher.abort();
        // A send cut off here ends `unknown` when its lease lapses: never sent twice.
        publisher.abort();
        // A delivery cut off here is sent again when its claim runs out (same webhook-id).
        deliverer.stop();
        // What was recorded since the last flush is written before the process ends.
        self.state.key_usage.flush(&self.db).await;
        if let Some(listener) = self.key_listener {
            let _ = tokio::task::spawn_blocking(move || listener.stop()).await;
        }
        result
    }
}

/// Work that runs beside the requests on a thread of its own, at a lower scheduling priority
/// (nice 10 on Linux): when the cores are busy, answering requests comes first. Its runtime,
/// and every task and blocking thread it started, ends with [`Background::stop`].
struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start<F, W>(name: &str, work: W) -> Self
    where
        W: FnOnce() -> F + Send + 'static,
        F: std::future::Future<Output = ()> + 'static,
    {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("socializer-{name}"))
            .spawn(move || {
                lower_priority();
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        log::error!("background work cannot start: {e}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    tokio::select! {
                        () = work() => {}
                        _ = stopped => {}
                    }
                });
                // Blocking work in flight (a transaction) finishes on its own; nothing waits.
                runtime.shutdown_background();
            });
        match thread {
            Ok(thread) => Self {
                stop: Some(stop),
                thread: Some(thread),
            },
            Err(e) => {
                log::error!("background work cannot start: {e}");
                Self {
                    stop: None,
                    thread: None,
                }
            }
        }
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Nice 10 for the calling thread (and the threads it starts, which inherit it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn lower_priority() {
    // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
    let changed = unsafe {
        let thread = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, u32::try_from(thread).unwrap_or(0), 10)
    };
    if changed != 0 {
        log::debug!("background work runs at normal priority: setpriority refused");
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn lower_priority() {}

/// The HTTP server over `listener`: actix-web's, with the service's middleware and routes.
fn serve(
    state: actix_web::web::Data<AppState>,
    slow_clients: actix_web::web::Data<crate::edge::slow_clients::SlowClients>,
    secret: Vec<u8>,
    workers: usize,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let https = state.is_https();
    let make_app = move || {
        App::new()
            .app_data(state.clone())
            .app_data(slow_clients.clone())
            .wrap(actix_web::middleware::from_fn(
                crate::edge::limits::reject_oversized_headers,
            ))
            .wrap(actix_web::middleware::from_fn(
                crate::edge::slow_clients::bound,
            ))
            .wrap(security_headers::middleware(https))
            .wrap(actix_web::middleware::from_fn(
                web::request_log::log_requests,
            ))
            .configure(web::configure_public)
            // The dashboard's own pages may call the API with their session.
            .service(crate::api::scope().wrap(web::session_middleware(&state, &secret)))
            .service(
                actix_web::web::scope("")
                    .wrap(actix_web::middleware::from_fn(web::frame::signed_in_frame))
                    .wrap(web::session_middleware(&state, &secret))
                    .configure(web::configure_pages)
                    .default_service(actix_web::web::to(web::not_found)),
            )
    };
    Ok(actix_web::HttpServer::new(make_app)
        .workers(workers)
        // A connection must send its head within 5 s, and is closed 1 s after the server gave
        // up on it; an idle kept-alive one is closed after 5 s.
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .listen(listener)?
        .run())
}

/// Sign-in with Google, when configured.
fn google_sign_in(
    config: &Config,
    public_url: &Url,
) -> Result<Option<crate::google::GoogleSignIn>, StartupError> {
    config
        .google
        .clone()
        .map(|app| {
            let http = crate::connect::oauth::http_client()?;
            Ok(crate::google::GoogleSignIn::new(app, public_url, http)?)
        })
        .transpose()
}

/// The API's rate limits: in Redis when configured (shared from the first request when Redis
/// answers; if not, the server starts anyway), else in this process.
async fn rate_limiter(
    config: &Config,
) -> Result<crate::http::shared_limits::ApiLimits, StartupError> {
    let limiter = match &config.redis_url {
        Some(url) => crate::http::shared_limits::ApiLimits::in_redis(url)?,
        None => crate::http::shared_limits::ApiLimits::local(),
    };
    limiter.connect().await;
    Ok(limiter)
}

/// Opens the pool, sized for the cores, and refuses in production a login role that could step
/// out of row-level security.
async fn open_database(config: &Config, cores: usize) -> Result<Database, StartupError> {
    // Sized for the cores: a query holds a connection only while it runs, off the async
    // threads, and more connections than the machine can drive only queue inside the
    // database instead. PostgreSQL gets a few per core for the time spent on the network.
    let pool_size = match config.database_url.backend() {
        crate::db::Backend::Sqlite => 8,
        crate::db::Backend::Postgres => u32::try_from(cores * 4).unwrap_or(64).clamp(8, 64),
    };
    let url = config.database_url.clone();
    let db = tokio::task::spawn_blocking(move || Database::open(&url, pool_size)).await??;
    if config.environment == crate::config::Environment::Production
        && db.login_role_bypasses_rls().await?
    {
        return Err(StartupError::RoleBypassesRls);
    }
    Ok(db)
}

/// The verified-key cache: on PostgreSQL shared through the listener that hears every process's
/// key changes (off until it listens), on SQLite this process's own.
fn key_cache(
    config: &Config,
    address: SocketAddr,
) -> Result<
    (
        Arc<crate::keys::KeyCache>,
        Option<crate::keys::listener::ListenerHandle>,
    ),
    StartupError,
> {
    Ok(match (&config.database_url, config.cache_keys) {
        (_, false) => (Arc::new(crate::keys::KeyCache::disabled()), None),
        (crate::db::DatabaseUrl::Sqlite(_), true) => {
            (Arc::new(crate::keys::KeyCache::enabled()), None)
        }
        (crate::db::DatabaseUrl::Postgres(url), true) => {
            let cache = Arc::new(crate::keys::KeyCache::shared());
            let listener = crate::keys::listener::spawn(
                url.clone(),
                format!("socializer key listener {address}"),
                cache.clone(),
            )
            .map_err(StartupError::KeyListener)?;
            (cache, Some(listener))
        }
    })
}

/// Takes the lock that says "a server serves this SQLite file". SQLite serves one process, and
/// the verified-key cache relies on every revocation happening in this one: a second server on
/// the same file is refused at start instead of serving revoked keys from its own cache.
fn lock_sqlite_file(db: &std::path::Path) -> Result<std::fs::File, StartupError> {
    use std::os::unix::fs::MetadataExt as _;
    let cannot = |p: &std::path::Path, source: std::io::Error| StartupError::Path {
        path: p.to_owned(),
        source,
    };
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_dirs(dir).map_err(|e| cannot(dir, e))?;
    }
    crate::private_files::ensure_file(db).map_err(|e| cannot(db, e))?;
    // One lock per file, however it is named: a symbolic link resolves to the file's own path,
    // and a file with a second hard link is refused (SQLite names its WAL by path, so two names
    // for one database would each get a log of their own and corrupt it).
    let real = std::fs::canonicalize(db).map_err(|e| cannot(db, e))?;
    let links = std::fs::metadata(&real)
        .map_err(|e| cannot(&real, e))?
        .nlink();
    if links > 1 {
        return Err(StartupError::HardLinks { path: real, links });
    }
    let mut name = real.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    crate::private_files::ensure_file(&path).map_err(|e| cannot(&path, e))?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| cannot(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StartupError::AlreadyServed { path: real }),
        Err(std::fs::TryLockError::Error(e)) => Err(cannot(&path, e)),
    }
}

async fn housekeeping(db: Database) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        tick.tick().await;
        let cleared: Result<_, DbError> = db
            .write(Global, |conn| {
                let now = now();
                Ok((
                    sessions::delete_expired(conn, now)?,
                    login_throttle::delete_stale(conn, now, throttle::LONGEST_WINDOW_SECS)?
                        + sandbox_grants::delete_expired(conn, now)?,
                ))
            })
            .await;
        match cleared {
            Ok((0, 0)) => {}
            Ok((sessions, windows)) => log::info!(
                "housekeeping: {sessions} expired sessions, {windows} throttle windows cleared"
            ),
            Err(e) => log::warn!("housekeeping failed: {}", Chain(&e)),
        }
    }
}

async fn flush_key_usage(state: actix_web::web::Data<AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        state.key_usage.flush(&state.db).await;
    }
}
