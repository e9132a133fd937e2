//! `faultlab serve`: the course's "reliable idempotent Kafka producer" HTTP
//! service, so that scenarios (and students) can produce through HTTP.
//!
//! ```text
//! GET  /health                  200 "OK"
//! POST /api/v1/send?mode=plain|idempotent&eventId=ID[&topic=T][&sendMode=sync|async][&key=K][&partition=N]
//!        sync  → 200 {eventId, mode, sendMode, topic, key, partition, offset}
//!        async → 202 Location: /api/v1/status?requestId=R {requestId, eventId, state: PENDING}
//! GET  /api/v1/status?requestId=R  {requestId, eventId, state: PENDING | OK (topic, partition, offset) | ERROR (error, status)}
//! GET  /metrics                 Prometheus text
//! GET  /openapi.json            OpenAPI 3.1
//! ```
//! Errors are RFC 7807 problem documents; [`problem`] lists which HTTP
//! status each failure gets. One producer per mode is created on first use.
//! On shutdown the service stops accepting, lets requests in flight finish,
//! flushes both producers (bounded by the delivery timeout) and returns.

mod args;
mod config;
mod handlers;
mod metrics;
mod openapi;
mod params;
pub mod problem;
mod producers;
mod status;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

pub use args::ServeArgs;
pub use config::{ConfigError, ServeConfig};
pub use openapi::document as openapi_document;
pub use params::{DEFAULT_TOPIC, Mode, SendMode};
pub use producers::{ServeMessage, mode_properties};

use metrics::Metrics;
use producers::Producers;
use status::StatusStore;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    metrics: Arc<Metrics>,
    producers: Arc<Producers>,
    store: Arc<Mutex<StatusStore>>,
    /// The tasks waiting for async deliveries, awaited at shutdown.
    tracker: TaskTracker,
}

impl AppState {
    fn new(config: &ServeConfig) -> Self {
        AppState {
            metrics: Arc::default(),
            producers: Arc::new(Producers::new(config.clone())),
            store: Arc::new(Mutex::new(StatusStore::new(config.status_capacity, config.status_ttl))),
            tracker: TaskTracker::new(),
        }
    }
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(handlers::health))
        .route("/api/v1/send", post(handlers::send))
        .route("/api/v1/status", get(handlers::status))
        .route("/metrics", get(handlers::metrics))
        .route("/openapi.json", get(handlers::openapi))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Serve on `listener` until `shutdown` completes, then stop accepting,
/// let requests in flight finish, and flush both producers (bounded by the
/// delivery timeout plus a second). Returns an error if messages were still
/// undelivered after the flush.
pub async fn serve(config: ServeConfig, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let state = AppState::new(&config);
    let address = listener.local_addr().context("reading the listening address")?;
    tracing::info!("faultlab serve listening on http://{address}, Kafka at {}", config.bootstrap_servers);

    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;

    // No request is left: sync sends have their answer, async ones are in
    // librdkafka's queue with a task waiting for each delivery report.
    tracing::info!("stopped accepting requests; flushing the producers");
    state.tracker.close();
    let patience = config.delivery_timeout + Duration::from_secs(1);
    let left = state.producers.flush(patience).await;
    if tokio::time::timeout(Duration::from_secs(5), state.tracker.wait()).await.is_err() {
        tracing::warn!("{} delivery reports were still being recorded after the flush", state.tracker.len());
    }
    let undelivered: i32 = left.iter().map(|(_, n)| n).sum();
    if undelivered > 0 {
        let per_mode: Vec<String> = left.iter().map(|(mode, n)| format!("{}: {n}", mode.as_str())).collect();
        anyhow::bail!("{undelivered} messages were still undelivered after flushing for {patience:?} ({})", per_mode.join(", "));
    }
    tracing::info!("every accepted message has its delivery report; stopped");
    Ok(())
}
