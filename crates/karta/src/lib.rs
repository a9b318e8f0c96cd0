//! Karta CRM: the application's startup (`build(config) -> App`), the CLI, the demo data
//! and the benchmark harness. `main.rs` only parses arguments and calls into here.

pub mod bench;
pub mod bench_transfer;
pub mod cli;
pub mod contexts;
pub mod demo;
#[cfg(test)]
mod house_rules;
mod imports;
#[cfg(test)]
mod texts_check;
pub mod transfer_cli;

use anyhow::Context as _;
use karta_kernel::users::SessionPolicy;
use karta_kernel::{Db, DbOptions};
use karta_webkit::{AppState, WebConfig};
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
    /// How often the jobs worker looks for due jobs (reminders) and queued imports.
    pub jobs_every: std::time::Duration,
    /// Where uploaded import files are kept (`DATA_DIR/imports`).
    pub imports_dir: PathBuf,
    /// How often the outbox's consumers (notifications) look for new events.
    pub events_every: std::time::Duration,
    /// How long events are kept in the outbox.
    pub events_retention: std::time::Duration,
}

impl Config {
    /// Defaults for a data directory: SQLite in `DIR/karta.db`, port 8080 on localhost.
    #[must_use]
    pub fn for_data_dir(dir: impl Into<PathBuf>) -> Self {
        let data_dir: PathBuf = dir.into();
        let imports_dir = data_dir.join("imports");
        Self {
            database_url: format!("sqlite://{}", data_dir.join("karta.db").display()),
            listen: "127.0.0.1:8080".into(),
            data_dir,
            sessions: SessionPolicy::default(),
            secure_cookies: false,
            max_connections: 8,
            clock: karta_core::Clock::system(),
            jobs_every: std::time::Duration::from_secs(5),
            imports_dir,
            events_every: std::time::Duration::from_millis(250),
            events_retention: std::time::Duration::from_secs(30 * 86_400),
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
    karta_kernel::migrate(&db).await?;
    contexts::register();
    Ok(db)
}

/// A built application, bound to its address and ready to serve.
pub struct App {
    /// The database.
    pub db: Db,
    clock: karta_core::Clock,
    jobs_every: std::time::Duration,
    events_every: std::time::Duration,
    events_retention: std::time::Duration,
    imports_wake: Arc<tokio::sync::Notify>,
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
    std::fs::create_dir_all(&config.imports_dir)
        .with_context(|| format!("cannot create the imports directory {}", config.imports_dir.display()))?;
    let imports_wake = Arc::new(tokio::sync::Notify::new());
    let state = AppState {
        db: db.clone(),
        config: Arc::new(WebConfig {
            sessions: config.sessions,
            secure_cookies: config.secure_cookies,
            imports_dir: config.imports_dir.clone(),
            imports_wake: imports_wake.clone(),
        }),
        metrics: Arc::default(),
        clock: config.clock.clone(),
    };
    Ok(App {
        db,
        listener,
        router: karta_webkit::app(state, contexts::pages(), contexts::api().0),
        clock: config.clock.clone(),
        jobs_every: config.jobs_every,
        events_every: config.events_every,
        events_retention: config.events_retention,
        imports_wake,
    })
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
        let (stop_jobs, stopped) = tokio::sync::watch::channel(false);
        let mut stop_worker = stopped.clone();
        let worker = tokio::spawn(run_jobs(
            self.db.clone(),
            self.clock.clone(),
            self.jobs_every,
            self.events_retention,
            self.imports_wake.clone(),
            async move {
                let _ = stop_worker.changed().await;
            },
        ));
        // Each consumer of the outbox in a loop of its own, so a slow one holds back no other.
        let node = karta_kernel::users::random_hex(8);
        let consumers: Vec<_> = karta_kernel::events::CONSUMERS
            .all()
            .into_iter()
            .map(|c| tokio::spawn(run_consumer(self.db.clone(), c, node.clone(), self.events_every, stopped.clone())))
            .collect();
        let served = axum::serve(self.listener, svc).with_graceful_shutdown(shutdown).await;
        let _ = stop_jobs.send(true);
        let _ = worker.await;
        for c in consumers {
            let _ = c.await;
        }
        if let Err(e) = karta_kernel::events::release(&self.db, &node).await {
            tracing::warn!(error = %e, "releasing the event consumers' leases failed");
        }
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

/// One consumer of the outbox: hands it the new events until `stop` turns true. Errors are
/// logged and the same events come again on the next round.
async fn run_consumer(
    db: Db,
    consumer: karta_kernel::events::Consumer,
    node: String,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    const BATCH: i64 = 500;
    loop {
        loop {
            match karta_kernel::events::consume(&db, &consumer, &node, BATCH).await {
                Ok(n) if n == usize::try_from(BATCH).unwrap_or(usize::MAX) => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(consumer = consumer.name, error = %e, "events round failed");
                    break;
                }
            }
            if *stop.borrow() {
                return;
            }
            // A backlog is worked off in batches with a breath between them, so that other
            // writers (on SQLite, another process such as `karta import`) get their turn.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// The jobs worker: fires due jobs (reminders), starts waiting imports and prunes old events
/// until `stop` completes. Errors are logged and retried on the next round, so a database
/// hiccup never stops reminders for good. An import cut off by the stop resumes on the next
/// start.
async fn run_jobs(
    db: Db,
    clock: karta_core::Clock,
    every: std::time::Duration,
    retention: std::time::Duration,
    wake: Arc<tokio::sync::Notify>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut imports: Option<tokio::task::JoinHandle<()>> = None;
    let mut pruned: Option<std::time::Instant> = None;
    loop {
        if pruned.is_none_or(|at| at.elapsed() > std::time::Duration::from_secs(3600)) {
            let keep = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
            match karta_kernel::events::prune(&db, karta_core::now_ms().saturating_sub(keep)).await {
                Ok(n) if n > 0 => tracing::info!(events = n, "old events pruned"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning events failed"),
            }
            pruned = Some(std::time::Instant::now());
        }
        if imports.as_ref().is_none_or(tokio::task::JoinHandle::is_finished) {
            imports = Some(tokio::spawn(imports::run_pending(db.clone())));
        }
        loop {
            match karta_kernel::jobs::run_due(&db, clock.now(), 100).await {
                Ok(100) => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "jobs round failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = &mut stop => {
                if let Some(h) = imports.take() {
                    // Dropping the run rolls back its open batch; it resumes after the last
                    // committed one on the next start.
                    h.abort();
                    let _ = h.await;
                }
                return;
            }
            () = tokio::time::sleep(every) => {}
            () = wake.notified() => {}
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
