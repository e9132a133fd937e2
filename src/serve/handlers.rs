//! The endpoints.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::AppState;
use super::metrics::{self, Outcome};
use super::params::{Mode, SendMode, SendParams, parse_status};
use super::problem::{Problem, RETRY_AFTER_SECS};
use super::producers::{Producers, Report, ServeMessage, ServeProducer};
use super::status::{SendState, StoreFull};

/// The answer to a sync send.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SendResult {
    event_id: String,
    mode: Mode,
    send_mode: SendMode,
    topic: String,
    key: String,
    partition: i32,
    /// null when the broker acknowledged without an offset.
    offset: Option<i64>,
}

/// The answer to an async send.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Accepted {
    request_id: String,
    event_id: String,
    state: &'static str,
}

pub async fn health() -> &'static str {
    "OK"
}

pub async fn send(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let params = match SendParams::parse(raw.as_deref()) {
        Ok(params) => params,
        Err(problem) => return problem.into_response(),
    };
    let producer = match state.producers.get(params.mode).await {
        Ok(producer) => producer.clone(),
        Err(error) => {
            state.metrics.count_send(params.mode, params.send_mode, Outcome::Failed);
            let detail = format!("{error:#}");
            return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "producer-unavailable", "The producer could not be created", detail)
                .into_response();
        }
    };
    if state.closing.load(std::sync::atomic::Ordering::SeqCst) {
        state.metrics.count_send(params.mode, params.send_mode, Outcome::QueueFull);
        return Problem::stopping().into_response();
    }
    if params.send_mode == SendMode::Sync {
        // An async send is answered 202 at once and its ERROR follows; a sync
        // one would otherwise wait topic.metadata.propagation.max.ms (30 s)
        // for a topic that does not exist.
        if let Err(problem) = state.topics.check(&producer, &params.topic, params.partition).await {
            return failed(&state, &params, problem);
        }
    }
    let value = serde_json::to_vec(&ServeMessage::new(&params)).expect("a ServeMessage always serialises");
    match params.send_mode {
        SendMode::Sync => send_sync(&state, params, &producer, &value).await,
        SendMode::Async => send_async(&state, params, &producer, &value),
    }
}

/// Count and answer a failure.
fn failed(state: &AppState, params: &SendParams, problem: Problem) -> Response {
    state.metrics.count_send(params.mode, params.send_mode, Outcome::of_status(problem.status, false));
    problem.into_response()
}

/// What a message's delivery report says (the account is settled by the
/// report itself, in [`super::producers`]).
async fn delivered(report: oneshot::Receiver<Report>, params: &SendParams) -> Result<(i32, Option<i64>), Problem> {
    match report.await {
        Ok(Ok((partition, offset))) => Ok((partition, (offset >= 0).then_some(offset))),
        Ok(Err((error, _written))) => Err(Problem::delivery(&error, &params.topic, params.partition)),
        Err(_dropped) => Err(Problem::new(
            StatusCode::BAD_GATEWAY,
            "delivery-unknown",
            "The producer stopped before reporting the delivery",
            "librdkafka dropped the message's delivery report; it may or may not have been written",
        )),
    }
}

async fn send_sync(state: &AppState, params: SendParams, producer: &ServeProducer, value: &[u8]) -> Response {
    // Sync sends get a requestId too, for the account's log line.
    let request_id = uuid::Uuid::new_v4().to_string();
    let report = match Producers::enqueue(producer, &state.account, &params, &request_id, value) {
        Ok(report) => report,
        Err(error) => return failed(state, &params, Problem::delivery(&error, &params.topic, params.partition)),
    };
    match delivered(report, &params).await {
        Ok((partition, offset)) => {
            state.metrics.count_send(params.mode, params.send_mode, Outcome::Ok);
            let SendParams { mode, event_id, topic, send_mode, key, .. } = params;
            Json(SendResult { event_id, mode, send_mode, topic, key, partition, offset }).into_response()
        }
        Err(problem) => failed(state, &params, problem),
    }
}

fn send_async(state: &AppState, params: SendParams, producer: &ServeProducer, value: &[u8]) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let reserved = state.store.lock().unwrap_or_else(|e| e.into_inner()).insert_pending(&request_id, &params.event_id, Instant::now());
    if reserved == Err(StoreFull) {
        state.metrics.count_send(params.mode, params.send_mode, Outcome::StoreFull);
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "status-store-full",
            "Too many async sends are pending",
            "every entry of the async status store is still PENDING (capacity FAULTLAB_STATUS_CAPACITY); retry after a moment or use sendMode=sync",
        )
        .retry_after(RETRY_AFTER_SECS)
        .into_response();
    }
    let report = match Producers::enqueue(producer, &state.account, &params, &request_id, value) {
        Ok(report) => report,
        Err(error) => {
            state.store.lock().unwrap_or_else(|e| e.into_inner()).remove(&request_id);
            return failed(state, &params, Problem::delivery(&error, &params.topic, params.partition));
        }
    };
    let (task_state, id) = (state.clone(), request_id.clone());
    let event_id = params.event_id.clone();
    state.tracker.spawn(async move {
        let (outcome, result) = match delivered(report, &params).await {
            Ok((partition, offset)) => (Outcome::Ok, SendState::Ok { topic: params.topic.clone(), partition, offset }),
            Err(problem) => (
                Outcome::of_status(problem.status, false),
                SendState::Error { error: problem.error.clone().unwrap_or(problem.detail), status: problem.status },
            ),
        };
        task_state.metrics.count_send(params.mode, params.send_mode, outcome);
        task_state.store.lock().unwrap_or_else(|e| e.into_inner()).finish(&id, result);
    });
    let location = format!("/api/v1/status?requestId={request_id}");
    let body = Accepted { request_id, event_id, state: "PENDING" };
    (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(body)).into_response()
}

pub async fn status(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    // No query at all: the account of every message accepted so far.
    if raw.as_deref().is_none_or(str::is_empty) {
        return Json(state.account.view()).into_response();
    }
    let request_id = match parse_status(raw.as_deref()) {
        Ok(id) => id,
        Err(problem) => return problem.into_response(),
    };
    let view = state.store.lock().unwrap_or_else(|e| e.into_inner()).get(&request_id, Instant::now());
    match view {
        Some(view) => Json(view).into_response(),
        None => Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-request",
            "No such async send",
            format!("requestId {request_id:?} is unknown: never issued, or evicted (FAULTLAB_STATUS_TTL_MS, FAULTLAB_STATUS_CAPACITY)"),
        )
        .into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], metrics::render(&state)).into_response()
}

pub async fn openapi() -> Response {
    Json(super::openapi::document()).into_response()
}

pub async fn not_found(uri: axum::http::Uri) -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "No such endpoint",
        format!(
            "{} is not an endpoint; see GET /openapi.json (GET /health, POST /api/v1/send, GET /api/v1/status, GET /metrics)",
            uri.path()
        ),
    )
    .into_response()
}
