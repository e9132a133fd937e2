//! `faultlab serve`'s graceful shutdown and its bounded async status store,
//! over real HTTP in front of a real embedded broker.

use crate::serve_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use serve_support::start;

const TOPIC: &str = "bhf-transactions";

/// The value of one unlabelled or labelled metric line.
fn metric(text: &str, line_start: &str) -> i64 {
    text.lines().find_map(|line| line.strip_prefix(line_start).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0)
}

/// 50 async sends and 5 sync sends sit in librdkafka's queue (linger 1.5 s)
/// when the shutdown future fires: the sync requests still get their 200,
/// and after serve returns every accepted message is in the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_delivers_every_accepted_message() {
    let mut service = start(201, &[(TOPIC, 3)], |config| config.linger = Duration::from_millis(1500)).await;

    // Async sends, concurrently: each is answered 202 at once.
    let mut accepted = Vec::new();
    let mut sends = Vec::new();
    for i in 0..50 {
        let mode = if i % 2 == 0 { "plain" } else { "idempotent" };
        let event_id = format!("shutdown-async-{i}");
        let url = service.url("api/v1/send", &[("mode", mode), ("eventId", &event_id), ("sendMode", "async")]);
        let client = service.client.clone();
        sends.push(tokio::spawn(async move { (event_id, client.post(url).send().await.unwrap().status()) }));
    }
    for send in sends {
        let (event_id, status) = send.await.unwrap();
        assert_eq!(status, 202);
        accepted.push(event_id);
    }
    // Sync sends, left waiting for their acknowledgement.
    let mut sync_sends = Vec::new();
    for i in 0..5 {
        let event_id = format!("shutdown-sync-{i}");
        let url = service.url("api/v1/send", &[("mode", "idempotent"), ("eventId", &event_id)]);
        let client = service.client.clone();
        accepted.push(event_id);
        sync_sends.push(tokio::spawn(async move { client.post(url).send().await.unwrap().status() }));
    }
    let mut in_flight_http = 0;
    let mut queued = 0;
    for _ in 0..200 {
        let text = service.get("metrics", &[]).await.text().await.unwrap();
        in_flight_http = metric(&text, "faultlab_serve_http_requests_in_flight");
        queued = metric(&text, r#"faultlab_serve_producer_in_flight{mode="plain"}"#)
            + metric(&text, r#"faultlab_serve_producer_in_flight{mode="idempotent"}"#);
        if in_flight_http >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(in_flight_http >= 6, "the 5 sync sends are in flight (and this /metrics request)");
    let pending = {
        let text = service.get("metrics", &[]).await.text().await.unwrap();
        metric(&text, r#"faultlab_serve_status_store_entries{state="pending"}"#)
    };

    let started = Instant::now();
    let account = service.shutdown().await.expect("serve returns its account");
    assert_eq!(account.not_delivered(), 0, "every accepted message delivered: {}", account.summary());
    assert_eq!(account.accepted(), 55, "{}", account.summary());
    let took = started.elapsed();
    for sync in sync_sends {
        assert_eq!(sync.await.unwrap(), 200, "a sync request in flight at shutdown is answered");
    }
    let refused = service.client.get(service.url("health", &[])).send().await;
    assert!(refused.is_err(), "no longer accepting after shutdown");

    let records = service.read_topic(TOPIC, 3).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for record in &records {
        *counts.entry(record.value["eventId"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let missing: Vec<&String> = accepted.iter().filter(|id| !counts.contains_key(*id)).collect();
    eprintln!(
        "shutdown: {} accepted, {queued} in librdkafka's queue and {pending} async PENDING and {in_flight_http} HTTP requests in flight \
         when it was triggered; serve returned after {took:?}; {} records in the topic, {} missing",
        accepted.len(),
        records.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "accepted but not in the topic: {missing:?}");
    assert_eq!(records.len(), accepted.len(), "each exactly once");
}

/// A store of 3: a fourth PENDING send is refused with 503 and Retry-After;
/// finished entries make room (oldest first) and expire after the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_store_is_bounded() {
    let service = start(202, &[(TOPIC, 1)], |config| {
        config.linger = Duration::from_millis(1500);
        config.status_capacity = 3;
        config.status_ttl = Duration::from_secs(5);
    })
    .await;
    let svc = &service;
    let send = move |event_id: &'static str| async move {
        svc.post("api/v1/send", &[("mode", "idempotent"), ("eventId", event_id), ("sendMode", "async")]).await
    };
    let request_id = |body: Value| body["requestId"].as_str().unwrap().to_string();

    let mut ids = Vec::new();
    for event_id in ["s1", "s2", "s3"] {
        let response = send(event_id).await;
        assert_eq!(response.status(), 202);
        ids.push(request_id(response.json().await.unwrap()));
    }
    let refused = send("s4").await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["type"], "urn:faultlab:problem:status-store-full");
    assert!(body["detail"].as_str().unwrap().contains("FAULTLAB_STATUS_CAPACITY"));

    for id in &ids {
        assert_eq!(service.wait_for_status(id).await["state"], "OK");
    }
    let response = send("s5").await;
    assert_eq!(response.status(), 202, "a finished entry made room");
    let s5 = request_id(response.json().await.unwrap());
    assert_eq!(service.get("api/v1/status", &[("requestId", &ids[0])]).await.status(), 404, "the oldest finished entry was evicted");
    assert_eq!(service.get("api/v1/status", &[("requestId", &ids[1])]).await.status(), 200);

    // Entries expire after the TTL (5 s from their creation).
    let mut expired = false;
    for _ in 0..100 {
        if service.get("api/v1/status", &[("requestId", &ids[1])]).await.status() == 404 {
            expired = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(expired, "s2's entry expired");
    let text = service.get("metrics", &[]).await.text().await.unwrap();
    assert_eq!(metric(&text, "faultlab_serve_status_store_capacity"), 3);
    assert!(text.contains(r#"faultlab_serve_sends_total{mode="idempotent",send_mode="async",outcome="store_full"} 1"#), "{text}");
    let _ = s5;
}
