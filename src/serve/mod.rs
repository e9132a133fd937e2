//! `faultlab serve`: the course's "reliable idempotent Kafka producer" HTTP
//! service, so that scenarios (and students) can produce through HTTP.
//!
//! ```text
//! GET  /health                  200 "OK"
//! POST /api/v1/send?mode=plain|idempotent&eventId=ID[&topic=T][&sendMode=sync|async][&key=K][&partition=N]
//!        sync  → 200 {eventId, mode, sendMode, topic, key, partition, offset}
//!        async → 202 Location: /api/v1/status?requestId=R {requestId, eventId, state: PENDING}
//! GET  /api/v1/status?requestId=R  {requestId, eventId, state: PENDING | OK (topic, partition, offset) | ERROR (error, status)}
//! GET  /api/v1/status           {plain: {accepted, delivered, failed, undelivered, pending}, idempotent: {...}}
//! GET  /metrics                 Prometheus text
//! GET  /openapi.json            OpenAPI 3.1
//! ```
//! Errors are RFC 7807 problem documents; [`problem`] lists which HTTP
//! status each failure gets. One producer per mode is created on first use.
//! On shutdown the service stops accepting, flushes both producers for at
//! most the shutdown flush (FAULTLAB_SHUTDOWN_FLUSH_MS), purges what is
//! left so that every accepted message has its delivery report, lets the
//! requests in flight finish, and returns the [`account`] of every message.

mod account;
pub mod config;
mod handlers;
mod metrics;
mod openapi;
mod params;
pub mod problem;
mod producers;
mod status;
mod topics;
mod wire;

use std::future::{Future, IntoFuture};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

pub use account::{AccountView, ModeAccount};
pub use config::{ConfigError, ServeConfig};
pub use openapi::document as openapi_document;
pub use params::{DEFAULT_TOPIC, Mode, SendMode};
pub use producers::ServeMessage;

use account::Account;
use metrics::Metrics;
use producers::Producers;
use status::StatusStore;
use topics::Topics;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    metrics: Arc<Metrics>,
    producers: Arc<Producers>,
    store: Arc<Mutex<StatusStore>>,
    /// The tasks waiting for async deliveries, awaited at shutdown.
    tracker: TaskTracker,
    /// Every accepted message's fate.
    account: Arc<Account>,
    /// Which topics exist, for sync sends.
    topics: Arc<Topics>,
    /// Set when the shutdown flush is over: nothing more is handed to librdkafka.
    closing: Arc<AtomicBool>,
}

impl AppState {
    fn new(config: &ServeConfig) -> Self {
        AppState {
            metrics: Arc::default(),
            producers: Arc::new(Producers::new(config.clone())),
            store: Arc::new(Mutex::new(StatusStore::new(config.status_capacity, config.status_ttl))),
            tracker: TaskTracker::new(),
            account: Arc::default(),
            topics: Arc::new(Topics::new(config.delivery_timeout)),
            closing: Arc::default(),
        }
    }
}

fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/health", get(handlers::health))
        .route("/api/v1/send", post(handlers::send))
        .route("/api/v1/status", get(handlers::status))
        .route("/metrics", get(handlers::metrics))
        .route("/openapi.json", get(handlers::openapi))
        .fallback(handlers::not_found)
        .with_state(state.clone());
    // Outside the routes, not a layer on them: axum adds a 405's Allow
    // header after a route's layers have run, and wire::problems keeps it.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn(wire::problems))
        .layer(axum::middleware::from_fn_with_state(state, metrics::track))
}

/// Serve on `listener` until `shutdown` completes, then shut down as the
/// module says. Err when the HTTP server failed, or when accepted messages
/// were still undelivered at the end (purged); see [`serve_accounted`] for
/// the account itself.
pub async fn serve(config: ServeConfig, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let account = serve_accounted(config, listener, shutdown).await?;
    let left = account.plain.undelivered + account.plain.pending + account.idempotent.undelivered + account.idempotent.pending;
    if left > 0 {
        anyhow::bail!("{left} accepted messages were still undelivered at shutdown ({})", account.summary());
    }
    Ok(())
}

/// Serve until `shutdown` completes; then flush for at most
/// `config.shutdown_flush`, purge what is left, and return the account of
/// every message accepted. Err only when the HTTP server failed.
///
/// Why the purge: a flush alone may not end in time. Under a downstream
/// latency longer than socket.timeout.ms, librdkafka times out the requests
/// in flight, closes the connection, and every reconnection's ApiVersion
/// request times out the same way: nothing more is sent or acknowledged
/// until message.timeout.ms fails each message (`Local: Message timed
/// out`; an idempotent producer must then also drain and bump its epoch,
/// rd_kafka_idemp_drain_epoch_bump in librdkafka 2.12). rd_kafka_purge
/// fails every message still queued (PurgeQueue) or in flight
/// (PurgeInflight) at once, so the account is closed within the flush bound.
pub async fn serve_accounted(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<AccountView> {
    let state = AppState::new(&config);
    let address = listener.local_addr().context("reading the listening address")?;
    tracing::info!("faultlab serve listening on http://{address}, Kafka at {}", config.bootstrap_servers);

    let (signalled, mut signal) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, router(state.clone())).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = signalled.send(true);
    });
    let mut server = tokio::spawn(server.into_future());
    // The flush starts with the shutdown, not after the last request: a sync
    // request waiting for its acknowledgement would otherwise hold it up to
    // message.timeout.ms. The server can also end first (no request was in
    // flight, or it failed): its result is kept, a JoinHandle is polled once.
    let mut server_done = false;
    tokio::select! {
        result = &mut server => {
            result.context("the HTTP server task")?.context("serving HTTP")?;
            server_done = true;
        }
        _ = signal.wait_for(|signalled| *signalled) => {}
    }
    let started = Instant::now();
    state.account.begin_shutdown();
    tracing::info!("stopping: no new connections; flushing for up to {:?} ({})", config.shutdown_flush, state.account.view().summary());
    let left = state.producers.flush(config.shutdown_flush).await;
    state.closing.store(true, Ordering::SeqCst);
    let left: i32 = left.iter().map(|(_, n)| n).sum();
    if left > 0 {
        tracing::warn!("{left} messages still in librdkafka after the shutdown flush; purging them");
    }
    // Purge until the server is done: a request that passed the closing
    // check just before it was set may enqueue after the first purge.
    while !server_done {
        state.producers.purge().await;
        if let Ok(result) = tokio::time::timeout(Duration::from_millis(200), &mut server).await {
            result.context("the HTTP server task")?.context("serving HTTP")?;
            server_done = true;
        }
    }
    state.tracker.close();
    // The purged messages' reports are served by the producers' polling
    // threads; this flush only waits for them.
    state.producers.purge().await;
    let _ = state.producers.flush(Duration::from_secs(1)).await;
    if tokio::time::timeout(Duration::from_secs(5), state.tracker.wait()).await.is_err() {
        tracing::warn!("{} async delivery reports were still being recorded after the purge", state.tracker.len());
    }
    let account = state.account.view();
    tracing::info!("stopped after {:.1} s of shutdown: {}", started.elapsed().as_secs_f64(), account.summary());
    Ok(account)
}
