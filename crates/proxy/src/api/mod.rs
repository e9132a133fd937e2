//! Toxiproxy's HTTP API (api.go) over a [`Registry`] of faultlab proxies,
//! so Toxiproxy clients in any language can drive faultlab's proxy.
//!
//! Same routes, methods, JSON fields, defaults, status codes and error
//! bodies (`{"error": "...", "status": N}`) as Toxiproxy 2. Where it
//! differs, on purpose:
//! - a listen address that is not `host:port` is a 400 (Toxiproxy: 500);
//! - unknown toxic attributes and values a toxic cannot run with (e.g. a
//!   slicer `average_size` of 0, on which Toxiproxy spins forever) are 400s;
//!   so is a toxicity outside 0..1 (Toxiproxy stores it);
//!   every bad-body message names the field;
//! - `/populate` with no proxies answers `"proxies": []` (Toxiproxy: `null`);
//! - a stream given in capitals is shown in lower case (Toxiproxy echoes it);
//! - no `"Logger": {}` in proxies (a Go field Toxiproxy 2.12 leaks);
//! - error bodies are sent as `application/json` (Toxiproxy's `http.Error`
//!   labels them text/plain);
//! - `/version` names faultlab's version.
//!
//! tests/proxy/differential_api.rs checks all of this against a real
//! Toxiproxy, field by field.
//!
//! Like Toxiproxy, requests from browsers (a `User-Agent` starting with
//! `Mozilla/`) are refused with 403, so a web page cannot drive the proxy.

mod body;
mod error;
mod proxies;
mod toxics;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use super::Registry;

/// The API bound to its address, not yet serving: lets a caller learn the
/// port (bind to port 0) and reach the registry before serving starts.
pub struct ApiServer {
    listener: TcpListener,
    addr: SocketAddr,
    registry: Arc<Registry>,
}

/// Bind the API's listen address. `seed` seeds every proxy's random choices.
pub async fn bind(listen: SocketAddr, seed: u64) -> anyhow::Result<ApiServer> {
    bind_registry(listen, Arc::new(Registry::new(seed))).await
}

/// Bind the API on `listen` for the proxies of `registry` (a
/// [`Registry::kafka_framing`] one, say).
pub async fn bind_registry(listen: SocketAddr, registry: Arc<Registry>) -> anyhow::Result<ApiServer> {
    let listener = TcpListener::bind(listen).await.with_context(|| format!("binding the Toxiproxy API to {listen}"))?;
    let addr = listener.local_addr().context("reading the Toxiproxy API's address")?;
    Ok(ApiServer { listener, addr, registry })
}

/// Serve the API on `listen` until `shutdown` resolves.
pub async fn serve(listen: SocketAddr, seed: u64, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    bind(listen, seed).await?.serve(shutdown).await
}

impl ApiServer {
    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxies the API manages, for in-process use next to it.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Serve until `shutdown` resolves; then every proxy is disabled.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let app = router(self.registry.clone());
        let served = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        self.registry.shutdown().await;
        served.context("serving the Toxiproxy API")
    }
}

/// The routes of api.go.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/reset", post(proxies::reset))
        .route("/proxies", get(proxies::index).post(proxies::create))
        .route("/populate", post(proxies::populate))
        .route("/proxies/{proxy}", get(proxies::show).post(proxies::update).patch(proxies::update).delete(proxies::delete))
        .route("/proxies/{proxy}/toxics", get(toxics::index).post(toxics::create))
        .route("/proxies/{proxy}/toxics/{toxic}", get(toxics::show).post(toxics::update).patch(toxics::update).delete(toxics::delete))
        .route("/version", get(version))
        .fallback(not_found)
        .layer(middleware::from_fn(refuse_browsers))
        .with_state(registry)
}

async fn version() -> Response {
    let body = format!("{{\"version\": \"faultlab-{}\"}}\n", env!("CARGO_PKG_VERSION"));
    ([(header::CONTENT_TYPE, "application/json;charset=utf-8")], body).into_response()
}

/// An unknown path: Go's `http.NotFound`, as Toxiproxy's router answers it.
async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "404 page not found\n").into_response()
}

async fn refuse_browsers(request: Request, next: Next) -> Response {
    let agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if agent.starts_with("Mozilla/") {
        return (StatusCode::FORBIDDEN, "User agent not allowed\n").into_response();
    }
    next.run(request).await
}
