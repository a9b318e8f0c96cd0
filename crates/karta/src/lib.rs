//! Karta CRM: the application's startup (`build(config) -> App`), the CLI, the demo data
//! and the benchmark harness. `main.rs` only parses arguments and calls into here.

pub mod bench;
pub mod cli;
pub mod demo;
pub mod transfer_cli;

use anyhow::Context as _;
use karta_store::users::SessionPolicy;
use karta_store::{Db, DbOptions};
use karta_web::{AppState, WebConfig};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on (`127.0.0.1:8080`; port 0 picks a free one).
    pub listen: String,
    /// Where SQLite files and other data live.
    pub data_dir: PathBuf,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Mark cookies `Secure`.
    pub secure_cookies: bool,
    /// Database pool size.
    pub max_connections: u32,
    /// The clock (the system's, or a manual one in tests).
    pub clock: karta_core::Clock,
    /// How often the jobs worker looks for due jobs (reminders).
    pub jobs_every: std::time::Duration,
}

impl Config {
    /// Defaults for a data directory: SQLite in `DIR/karta.db`, port 8080 on localhost.
    #[must_use]
    pub fn for_data_dir(dir: impl Into<PathBuf>) -> Self {
        let data_dir = dir.into();
        Self {
            database_url: format!("sqlite://{}", data_dir.join("karta.db").display()),
            listen: "127.0.0.1:8080".into(),
            data_dir,
            sessions: SessionPolicy::default(),
            secure_cookies: false,
            max_connections: 8,
            clock: karta_core::Clock::system(),
            jobs_every: std::time::Duration::from_secs(5),
        }
    }
}

/// Opens the database named in `config` (creating the data directory for SQLite) and
/// applies migrations.
///
/// # Errors
/// A one-line reason: bad URL, unreachable database, failed migration.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
    }
    let db = Db::connect(&config.database_url, &DbOptions { max_connections: config.max_connections }).await?;
    karta_store::migrate(&db).await?;
    Ok(db)
}

/// A built application, bound to its address and ready to serve.
pub struct App {
    /// The database.
    pub db: Db,
    clock: karta_core::Clock,
    jobs_every: std::time::Duration,
    listener: TcpListener,
    router: axum::Router,
}

/// Builds the application: database, migrations, router, and the bound listener.
///
/// # Errors
/// Database problems, or the address being unusable (in use, bad).
pub async fn build(config: &Config) -> anyhow::Result<App> {
    let db = open_db(config).await?;
    let listener =
        TcpListener::bind(&config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    let state = AppState {
        db: db.clone(),
        config: Arc::new(WebConfig { sessions: config.sessions, secure_cookies: config.secure_cookies }),
        metrics: Arc::default(),
        clock: config.clock.clone(),
    };
    Ok(App { db, listener, router: karta_web::app(state), clock: config.clock.clone(), jobs_every: config.jobs_every })
}

impl App {
    /// The bound address.
    ///
    /// # Errors
    /// When the OS cannot tell.
    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    ///
    /// # Errors
    /// Server I/O errors.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let svc = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let (stop_jobs, mut stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(run_jobs(self.db.clone(), self.clock.clone(), self.jobs_every, async move {
            let _ = stopped.changed().await;
        }));
        let served = axum::serve(self.listener, svc).with_graceful_shutdown(shutdown).await;
        let _ = stop_jobs.send(true);
        let _ = worker.await;
        self.db.close().await;
        served?;
        Ok(())
    }

    /// Serves until Ctrl-C or SIGTERM.
    ///
    /// # Errors
    /// Server I/O errors.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// The jobs worker: fires due jobs (reminders) until `stop` completes. Errors are logged and
/// retried on the next round, so a database hiccup never stops reminders for good.
async fn run_jobs(db: Db, clock: karta_core::Clock, every: std::time::Duration, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        loop {
            match karta_store::jobs::run_due(&db, clock.now(), 100).await {
                Ok(100) => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "jobs round failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
