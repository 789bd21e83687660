//! wuye: the money-and-service desk of a property company in renovated old compounds.
//!
//! [`Application::build`] connects and migrates the database and binds the listener;
//! [`App::run_until_stopped`] serves until the process is asked to stop.
pub mod audit;
pub mod auth;
pub mod billing;
pub mod config;
pub mod db;
pub mod demo;
pub mod elevator;
pub mod error;
pub mod funds;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod ledger;
pub mod mail;
pub mod metrics;
pub mod notices;
pub mod payments;
pub mod registry;
pub mod reminders;
pub mod tickets;
pub mod types;
pub mod votes;
pub mod web;

/// mimalloc, not glibc's malloc: on a bill list glibc's malloc and free took a tenth of the
/// server's CPU (many small allocations freed from other threads). Every binary linking wuye,
/// the benches and tests included, runs on it, so what is measured is what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::Arc;

use poem::{
    Server,
    listener::{Acceptor, Listener, TcpAcceptor, TcpListener},
};
use sea_orm::DatabaseConnection;

pub use config::Config;

/// What every request handler and worker may use.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// Rung when work is queued here, so this replica's workers start on it at once.
    pub wakeups: Arc<Wakeups>,
}

/// The wake-up calls of this replica's workers.
#[derive(Default)]
pub struct Wakeups {
    /// A job run was queued.
    pub jobs: tokio::sync::Notify,
    /// Email was written to the outbox.
    pub mail: tokio::sync::Notify,
}

pub struct Application;

pub struct App {
    acceptor: TcpAcceptor,
    /// `GET /metrics`, on its own address when `WUYE_METRICS_LISTEN` is set.
    metrics_acceptor: Option<TcpAcceptor>,
    state: AppState,
    mailer: mail::Mailer,
    port: u16,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let db = db::connect(config.database_url.expose()).await?;
        db::migrate(&db).await?;
        Application::build_with(config, db).await
    }

    /// Binds the listener for an already migrated database.
    pub async fn build_with(config: Config, db: DatabaseConnection) -> anyhow::Result<App> {
        let acceptor = TcpListener::bind(config.listen.to_string()).into_acceptor().await?;
        let port = port_of(&acceptor)?;
        let metrics_acceptor = match config.metrics_listen {
            Some(address) => {
                metrics::install();
                Some(TcpListener::bind(address.to_string()).into_acceptor().await.map_err(|e| anyhow::anyhow!("WUYE_METRICS_LISTEN {address}: {e}"))?)
            }
            None => None,
        };
        let mailer = mail::Mailer::new(&config.mail)?;
        let state = AppState { db, config: Arc::new(config), wakeups: Default::default() };
        Ok(App { acceptor, metrics_acceptor, state, mailer, port })
    }
}

fn port_of(acceptor: &TcpAcceptor) -> anyhow::Result<u16> {
    acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().map(|s| s.port()))
        .ok_or_else(|| anyhow::anyhow!("the listener has no TCP address"))
}

impl App {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GET /metrics`, when `WUYE_METRICS_LISTEN` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_acceptor.as_ref().and_then(|a| port_of(a).ok())
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Where email goes; with the stub transport, what was sent.
    pub fn mailer(&self) -> &mail::Mailer {
        &self.mailer
    }

    /// Serves HTTP and, unless `WUYE_SCHEDULER=off`, runs the scheduler and the outbox worker,
    /// until the process is asked to stop; then lets the workers finish what they hold.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut workers = tokio::task::JoinSet::new();
        if self.state.config.jobs.enabled {
            workers.spawn(jobs::run_scheduler(self.state.clone(), stopped.clone()));
            workers.spawn(mail::run_worker(self.state.clone(), self.mailer.clone(), stopped.clone()));
        }
        if let Some(acceptor) = self.metrics_acceptor {
            workers.spawn(serve_metrics(acceptor, self.state.clone(), stopped.clone()));
        }
        let routes = http::routes(self.state);
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes, shutdown_signal(), Some(std::time::Duration::from_secs(10)))
            .await;
        let _ = stop.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), workers.join_all()).await;
        Ok(served?)
    }
}

/// `GET /metrics` on its own address, and the recorder's upkeep every few seconds (histogram
/// samples drained into their buckets even when nobody scrapes), until `stop` turns true.
async fn serve_metrics(acceptor: TcpAcceptor, state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut upkeep_stop = stop.clone();
    let upkeep = async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = every.tick() => metrics::upkeep(),
                _ = upkeep_stop.changed() => return,
            }
        }
    };
    let stopped = async move {
        let _ = stop.changed().await;
    };
    let served = Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(http::metrics_routes(state), stopped, None);
    let (served, ()) = tokio::join!(served, upkeep);
    if let Err(error) = served {
        tracing::error!(%error, "the metrics listener stopped");
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
