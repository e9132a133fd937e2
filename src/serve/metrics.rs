//! /metrics in the Prometheus text exposition format (version 0.0.4).
//!
//! Written by hand: the format is a few lines of text, and the counters
//! here are a handful of labelled numbers, so a metrics crate
//! (prometheus-client) is not worth a new dependency yet.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::params::{Mode, SendMode};

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Routes are labelled by their path; anything else is "other", so a
/// scanner cannot blow up the number of series.
const ROUTES: &[&str] = &["/health", "/api/v1/send", "/api/v1/status", "/metrics", "/openapi.json"];

/// How one send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged by the broker.
    Ok,
    /// message.timeout.ms expired (504).
    Timeout,
    /// librdkafka's queue was full (503).
    QueueFull,
    /// The async status store was full of PENDING entries (503).
    StoreFull,
    /// The cluster has no such topic or partition (400).
    Rejected,
    /// Any other failure (502, or 500 if the producer could not be created).
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Timeout => "timeout",
            Outcome::QueueFull => "queue_full",
            Outcome::StoreFull => "store_full",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }

    /// The outcome of a failure answered with this HTTP status.
    pub fn of_status(status: u16, store_full: bool) -> Self {
        match status {
            504 => Outcome::Timeout,
            503 if store_full => Outcome::StoreFull,
            503 => Outcome::QueueFull,
            400 => Outcome::Rejected,
            _ => Outcome::Failed,
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    sends: Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>,
    http_in_flight: AtomicI64,
}

impl Metrics {
    pub fn count_send(&self, mode: Mode, send_mode: SendMode, outcome: Outcome) {
        let mut sends = self.sends.lock().unwrap_or_else(|e| e.into_inner());
        *sends.entry((mode.as_str(), send_mode.as_str(), outcome.as_str())).or_default() += 1;
    }

    fn count_request(&self, route: &'static str, method: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((route, method.to_string(), status)).or_default() += 1;
    }
}

/// Decrements the in-flight gauge even if the request is cancelled.
struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware: count every request by route, method and status, and the ones in flight.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let metrics = &state.metrics;
    let route = ROUTES.iter().copied().find(|r| *r == request.uri().path()).unwrap_or("other");
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "HEAD" | "PUT" | "DELETE" | "PATCH" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    metrics.http_in_flight.fetch_add(1, Ordering::Relaxed);
    let _guard = InFlight(&metrics.http_in_flight);
    let response = next.run(request).await;
    metrics.count_request(route, &method, response.status().as_u16());
    response
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The whole exposition.
pub fn render(state: &AppState) -> String {
    let metrics = &state.metrics;
    let mut out = String::new();

    let name = "faultlab_serve_http_requests_total";
    header(&mut out, name, "counter", "HTTP requests answered, by route, method and status.");
    for ((route, method, status), count) in metrics.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "{name}{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}", escape(route), escape(method));
    }

    let name = "faultlab_serve_http_requests_in_flight";
    header(&mut out, name, "gauge", "HTTP requests being answered now (this one included).");
    let _ = writeln!(out, "{name} {}", metrics.http_in_flight.load(Ordering::Relaxed));

    let name = "faultlab_serve_sends_total";
    header(&mut out, name, "counter", "Messages by mode, sendMode and outcome (ok, timeout, queue_full, store_full, rejected, failed).");
    for ((mode, send_mode, outcome), count) in metrics.sends.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "{name}{{mode=\"{mode}\",send_mode=\"{send_mode}\",outcome=\"{outcome}\"}} {count}");
    }

    let name = "faultlab_serve_producer_in_flight";
    header(&mut out, name, "gauge", "Messages in librdkafka waiting for a delivery report, by mode (producers created so far).");
    for (mode, count) in state.producers.in_flight() {
        let _ = writeln!(out, "{name}{{mode=\"{}\"}} {count}", mode.as_str());
    }

    let (pending, finished, capacity) = {
        let store = state.store.lock().unwrap_or_else(|e| e.into_inner());
        let (pending, finished) = store.counts();
        (pending, finished, store.capacity())
    };
    let name = "faultlab_serve_status_store_entries";
    header(&mut out, name, "gauge", "Async send results kept for /api/v1/status, by state.");
    let _ = writeln!(out, "{name}{{state=\"pending\"}} {pending}");
    let _ = writeln!(out, "{name}{{state=\"finished\"}} {finished}");
    let name = "faultlab_serve_status_store_capacity";
    header(&mut out, name, "gauge", "How many async send results the status store keeps at most.");
    let _ = writeln!(out, "{name} {capacity}");
    out
}
