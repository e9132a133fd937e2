//! `faultlab serve` over real HTTP (reqwest) in front of a real embedded
//! broker: every endpoint, every invalid parameter, sync and async sends
//! checked by reading the topic back.

use crate::serve_support;

use std::time::Duration;

use serde_json::Value;
use serve_support::{Service, at, start};

const TOPIC: &str = "bhf-transactions";

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    body
}

/// The invalid-params names of a 400 problem.
fn names(body: &Value) -> Vec<String> {
    body["invalid-params"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_openapi_and_unknown_paths() {
    let service = start(101, &[], |_| {}).await;

    let health = service.get("health", &[]).await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "OK");

    let openapi: Value = service.get("openapi.json", &[]).await.json().await.unwrap();
    assert_eq!(openapi["openapi"], "3.1.0");
    for path in ["/health", "/api/v1/send", "/api/v1/status", "/metrics", "/openapi.json"] {
        assert!(openapi["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(openapi["paths"]["/api/v1/send"]["post"]["parameters"].as_array().unwrap().len(), 6);

    let body = problem(service.get("nothing/here", &[]).await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("/nothing/here"));

    let metrics = service.get("metrics", &[]).await;
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = metrics.text().await.unwrap();
    eprintln!("{text}");
    assert!(text.contains(r#"faultlab_serve_http_requests_total{route="/health",method="GET",status="200"} 1"#));
    assert!(text.contains(r#"faultlab_serve_http_requests_total{route="other",method="GET",status="404"} 1"#));
    assert!(text.contains("faultlab_serve_http_requests_in_flight 1"));
    assert!(text.contains(r#"faultlab_serve_status_store_entries{state="pending"} 0"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_invalid_parameter_is_a_400_problem_naming_it() {
    let service = start(102, &[], |_| {}).await;
    let cases: &[(&[(&str, &str)], &[&str], &str)] = &[
        (&[("eventId", "e1")], &["mode"], "accepted: plain, idempotent"),
        (&[("mode", "fast"), ("eventId", "e1")], &["mode"], "accepted: plain, idempotent"),
        (&[("mode", "plain")], &["eventId"], "non-empty"),
        (&[("mode", "plain"), ("eventId", "")], &["eventId"], "non-empty"),
        (&[("mode", "plain"), ("eventId", "e1"), ("sendMode", "later")], &["sendMode"], "accepted: sync (default), async"),
        (&[("mode", "plain"), ("eventId", "e1"), ("partition", "two")], &["partition"], "not an integer"),
        (&[("mode", "plain"), ("eventId", "e1"), ("partition", "-1")], &["partition"], "accepted: an integer from 0"),
        (&[("mode", "plain"), ("eventId", "e1"), ("partiton", "1")], &["partiton"], "unknown parameter"),
        (&[("mode", "plain"), ("eventid", "e1")], &["eventid", "eventId"], "did you mean eventId?"),
        (&[("mode", "plain"), ("eventId", "e1"), ("topic", "no/slash")], &["topic"], "not a Kafka topic name"),
        (&[("mode", "plain"), ("eventId", "e1"), ("key", "")], &["key"], "leave key out"),
        (&[], &["mode", "eventId"], "required"),
    ];
    for (query, expected, fragment) in cases {
        let body = problem(service.post("api/v1/send", query).await, 400).await;
        assert_eq!(names(&body), *expected, "{query:?}: {body}");
        assert!(body["detail"].as_str().unwrap().contains(fragment), "{query:?}: {body}");
        assert_eq!(body["type"], "urn:faultlab:problem:invalid-parameter");
    }

    let body = problem(service.get("api/v1/status", &[("requestId", "")]).await, 400).await;
    assert_eq!(names(&body), ["requestId"]);
    let body = problem(service.get("api/v1/status", &[("requestid", "r")]).await, 400).await;
    assert_eq!(names(&body), ["requestid", "requestId"]);
    // No query at all: the account. These 400s were never accepted.
    let account: Value = service.get("api/v1/status", &[]).await.json().await.unwrap();
    let zero = serde_json::json!({"accepted": 0, "delivered": 0, "failed": 0, "undelivered": 0, "pending": 0, "possiblyWritten": 0});
    assert_eq!(account, serde_json::json!({"plain": zero, "idempotent": zero}));
    let body = problem(service.get("api/v1/status", &[("requestId", "no-such-request")]).await, 404).await;
    assert!(body["detail"].as_str().unwrap().contains("no-such-request"));

    // The wrong method on a known path: 405 with Allow, as a problem document.
    let response = service.get("api/v1/send", &[("mode", "plain"), ("eventId", "e")]).await;
    assert_eq!(response.headers()["allow"], "POST");
    let body = problem(response, 405).await;
    assert_eq!(body["type"], "urn:faultlab:problem:method-not-allowed");
    assert_eq!(body["detail"], "GET is not accepted on /api/v1/send; accepted: POST");
    let response = service.client.delete(service.url("health", &[])).send().await.unwrap();
    assert!(response.headers()["allow"].to_str().unwrap().contains("GET"));
    problem(response, 405).await;
    let metrics = service.get("metrics", &[]).await.text().await.unwrap();
    assert!(metrics.contains(r#"faultlab_serve_http_requests_total{route="/api/v1/send",method="POST",status="400"} 12"#), "{metrics}");
    assert!(metrics.contains(r#"faultlab_serve_http_requests_total{route="/api/v1/send",method="GET",status="405"} 1"#), "{metrics}");
}

/// Requests too big: 414 for a long URI, 431 for large or many headers,
/// each a problem document naming the size and the limit; just below the
/// limits the request is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_are_414_and_431_problems() {
    let service = start(110, &[], |_| {}).await;
    // "/api/v1/status?requestId=" is 25 bytes: pad to exactly the limit, then one more.
    let at_limit = "x".repeat(8192 - 25);
    let response = service.get("api/v1/status", &[("requestId", &at_limit)]).await;
    problem(response, 404).await;
    let over = "x".repeat(8192 - 25 + 1);
    let body = problem(service.get("api/v1/status", &[("requestId", &over)]).await, 414).await;
    assert_eq!(body["type"], "urn:faultlab:problem:uri-too-long");
    assert_eq!(body["detail"], "the path and query are 8193 bytes; accepted: at most 8192");
    // Far longer, still below hyper's own limit (65534).
    let body = problem(service.get("api/v1/status", &[("requestId", &"y".repeat(60_000))]).await, 414).await;
    assert!(body["detail"].as_str().unwrap().contains("60025 bytes"), "{body}");

    let big = "v".repeat(17 * 1024);
    let body = problem(service.client.get(service.url("health", &[])).header("x-big", &big).send().await.unwrap(), 431).await;
    assert_eq!(body["type"], "urn:faultlab:problem:headers-too-large");
    assert!(body["detail"].as_str().unwrap().contains("accepted: at most 64 lines and 16384 bytes"), "{body}");
    let mut many = service.client.get(service.url("health", &[]));
    for i in 0..70 {
        many = many.header(format!("x-h{i}"), "1");
    }
    let body = problem(many.send().await.unwrap(), 431).await;
    assert!(body["detail"].as_str().unwrap().starts_with("7"), "{} header lines", body["detail"]);
    let fine = service.client.get(service.url("health", &[])).header("x-big", "v".repeat(8 * 1024)).send().await.unwrap();
    assert_eq!(fine.status(), 200);
}

/// A sync send to a topic that does not exist is a 400 naming it at once,
/// not after topic.metadata.propagation.max.ms (30 s); once the topic is
/// created, the next send goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_send_to_a_missing_topic_fails_fast() {
    let service = start(111, &[], |_| {}).await;
    for mode in ["plain", "idempotent"] {
        let started = std::time::Instant::now();
        let response = service.post("api/v1/send", &[("mode", mode), ("eventId", "nowhere"), ("topic", "no-such-topic")]).await;
        let took = started.elapsed();
        let body = problem(response, 400).await;
        assert_eq!(names(&body), ["topic"]);
        assert!(body["detail"].as_str().unwrap().contains("topic no-such-topic does not exist"), "{body}");
        assert!(took < Duration::from_secs(3), "{mode}: answered after {took:?}");
        eprintln!("{mode}: 400 after {took:?}");
    }
    service.env.create_topic("late-topic", 1).await.unwrap();
    let response = service.post("api/v1/send", &[("mode", "plain"), ("eventId", "arrived"), ("topic", "late-topic")]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let account: Value = service.get("api/v1/status", &[]).await.json().await.unwrap();
    assert_eq!(account["plain"]["accepted"], 1, "refused sends are not accepted: {account}");
}

/// Sync sends in both modes: the answered (partition, offset) holds the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_sends_answer_the_offset_the_record_is_at() {
    let service = start(103, &[(TOPIC, 1)], |_| {}).await;
    let mut answers = Vec::new();
    for mode in ["plain", "idempotent", "plain", "idempotent"] {
        let event_id = format!("sync-{mode}-{}", answers.len());
        let response = service.post("api/v1/send", &[("mode", mode), ("eventId", &event_id)]).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["eventId"], event_id.as_str());
        assert_eq!((body["mode"].as_str(), body["sendMode"].as_str()), (Some(mode), Some("sync")));
        assert_eq!((body["topic"].as_str(), body["key"].as_str()), (Some(TOPIC), Some(event_id.as_str())));
        answers.push(body);
    }
    let records = service.read_topic(TOPIC, 1).await;
    assert_eq!(records.len(), 4);
    for answer in &answers {
        let record = at(&records, answer["partition"].as_i64().unwrap(), answer["offset"].as_i64().unwrap());
        assert_eq!(record.value["eventId"], answer["eventId"]);
        assert_eq!(record.value["mode"], answer["mode"]);
        assert_eq!(record.value["sendMode"], "sync");
        assert!(record.value["timestamp"].as_u64().unwrap() > 1_600_000_000_000);
        assert_eq!(record.key, answer["eventId"].as_str().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_send_is_accepted_then_ok_at_its_offset() {
    let service = start(104, &[(TOPIC, 1)], |_| {}).await;
    let response = service.post("api/v1/send", &[("mode", "idempotent"), ("eventId", "async-1"), ("sendMode", "async")]).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["state"], "PENDING");
    let request_id = body["requestId"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/status?requestId={request_id}"));

    // The Location is usable as is.
    let polled = service.client.get(service.base.join(&location).unwrap()).send().await.unwrap();
    assert_eq!(polled.status(), 200);
    let status = service.wait_for_status(&request_id).await;
    assert_eq!(status["state"], "OK", "{status}");
    assert_eq!((status["eventId"].as_str(), status["topic"].as_str()), (Some("async-1"), Some(TOPIC)));

    let records = service.read_topic(TOPIC, 1).await;
    let record = at(&records, status["partition"].as_i64().unwrap(), status["offset"].as_i64().unwrap());
    assert_eq!(record.value["eventId"], "async-1");
    assert_eq!(record.value["sendMode"], "async");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_partition_is_honoured() {
    let service = start(105, &[("three", 3)], |_| {}).await;
    for (i, partition) in ["2", "0", "1", "2"].iter().enumerate() {
        let event_id = format!("p{partition}-{i}");
        let query = [("mode", "idempotent"), ("eventId", &event_id), ("topic", "three"), ("partition", partition), ("key", "same-key")];
        let response = service.post("api/v1/send", &query).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["partition"].as_i64().unwrap().to_string(), *partition);
        assert_eq!(body["key"], "same-key");
    }
    let records = service.read_topic("three", 3).await;
    assert_eq!(records.len(), 4);
    for record in &records {
        let event_id = record.value["eventId"].as_str().unwrap();
        assert!(event_id.starts_with(&format!("p{}-", record.partition)), "{event_id} on partition {}", record.partition);
    }

    // A partition the topic does not have, up to the schema's maximum: a 400
    // naming the partition and the topic's count, as the schema says; one
    // past the maximum is out of the schema's range and answered so.
    let openapi: Value = service.get("openapi.json", &[]).await.json().await.unwrap();
    let parameters = openapi["paths"]["/api/v1/send"]["post"]["parameters"].as_array().unwrap();
    let partition = parameters.iter().find(|p| p["name"] == "partition").unwrap();
    let maximum = partition["schema"]["maximum"].as_i64().unwrap();
    assert!(partition["description"].as_str().unwrap().contains("must also exist"), "{partition}");
    for beyond in ["3", "9", &(maximum - 1).to_string(), &maximum.to_string()] {
        let query = [("mode", "plain"), ("eventId", "p9"), ("topic", "three"), ("partition", beyond)];
        let body = problem(service.post("api/v1/send", &query).await, 400).await;
        assert_eq!(names(&body), ["partition"]);
        let reason = body["invalid-params"][0]["reason"].as_str().unwrap();
        assert_eq!(reason, format!("partition {beyond} does not exist in topic three, which has 3; accepted: 0 to 2"));
    }
    let query = [("mode", "plain"), ("eventId", "p9"), ("topic", "three"), ("partition", &(maximum + 1).to_string())];
    let body = problem(service.post("api/v1/send", &query).await, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("out of range; accepted: an integer from 0 to 2147483647"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_id_with_quotes_and_backslashes_round_trips() {
    let service = start(106, &[(TOPIC, 1)], |_| {}).await;
    let event_id = "he said \"hi\" \\ back\\slash \\\" & = ? # % é\nline";
    let response = service.post("api/v1/send", &[("mode", "plain"), ("eventId", event_id)]).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["eventId"], event_id);
    let records = service.read_topic(TOPIC, 1).await;
    let record = at(&records, body["partition"].as_i64().unwrap(), body["offset"].as_i64().unwrap());
    assert_eq!(record.value["eventId"], event_id);
    assert_eq!(record.key, event_id);
}

/// The course's sequence: health, plain sync, idempotent sync, idempotent
/// async polled until OK, invalid mode, explicit partition, 20 sync sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_request_sequence() {
    let service: Service = start(107, &[(TOPIC, 3)], |_| {}).await;
    assert_eq!(service.get("health", &[]).await.text().await.unwrap(), "OK");
    let send = |query: Vec<(&'static str, String)>| {
        let url = {
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            service.url("api/v1/send", &pairs)
        };
        service.client.post(url).send()
    };
    let ok = send(vec![("mode", "plain".into()), ("eventId", "course-plain-1".into())]).await.unwrap();
    assert_eq!(ok.status(), 200);
    let ok = send(vec![("mode", "idempotent".into()), ("eventId", "course-idem-1".into())]).await.unwrap();
    assert_eq!(ok.status(), 200);
    let accepted =
        send(vec![("mode", "idempotent".into()), ("eventId", "course-idem-async-1".into()), ("sendMode", "async".into())]).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let request_id = accepted.json::<Value>().await.unwrap()["requestId"].as_str().unwrap().to_string();
    assert_eq!(service.wait_for_status(&request_id).await["state"], "OK");
    let invalid = send(vec![("mode", "fast".into()), ("eventId", "course-invalid-1".into())]).await.unwrap();
    problem(invalid, 400).await;
    let pinned =
        send(vec![("mode", "idempotent".into()), ("eventId", "course-partition-1".into()), ("partition", "1".into())]).await.unwrap();
    assert_eq!(pinned.json::<Value>().await.unwrap()["partition"], 1);
    for i in 0..20 {
        let response = send(vec![("mode", "idempotent".into()), ("eventId", format!("course-loop-{i}"))]).await.unwrap();
        assert_eq!(response.status(), 200);
    }

    let records = service.read_topic(TOPIC, 3).await;
    let mut ids: Vec<&str> = records.iter().map(|r| r.value["eventId"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids.len(), 24, "{ids:?}");
    ids.dedup();
    assert_eq!(ids.len(), 24, "no duplicates");
    assert!(!ids.contains(&"course-invalid-1"));
    let metrics = service.get("metrics", &[]).await.text().await.unwrap();
    assert!(metrics.contains(r#"faultlab_serve_sends_total{mode="idempotent",send_mode="sync",outcome="ok"} 22"#), "{metrics}");
    assert!(metrics.contains(r#"faultlab_serve_sends_total{mode="idempotent",send_mode="async",outcome="ok"} 1"#), "{metrics}");
}

/// Nothing answers at the bootstrap address: sync sends time out (504),
/// async ones end in ERROR with librdkafka's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_times_out_with_504() {
    let mut service = start(108, &[], |config| {
        config.bootstrap_servers = "127.0.0.1:1".into();
        config.delivery_timeout = Duration::from_millis(1500);
    })
    .await;
    let body = problem(service.post("api/v1/send", &[("mode", "plain"), ("eventId", "lost-1")]).await, 504).await;
    assert_eq!(body["type"], "urn:faultlab:problem:delivery-timeout");
    assert!(body["error"].as_str().unwrap().contains("timed out"), "{body}");

    let accepted = service.post("api/v1/send", &[("mode", "idempotent"), ("eventId", "lost-2"), ("sendMode", "async")]).await;
    let request_id = accepted.json::<Value>().await.unwrap()["requestId"].as_str().unwrap().to_string();
    let status = service.wait_for_status(&request_id).await;
    assert_eq!((status["state"].as_str(), status["status"].as_u64()), (Some("ERROR"), Some(504)), "{status}");
    assert!(status["error"].as_str().unwrap().contains("timed out"), "{status}");
    let account = service.shutdown().await.expect("serve returns its account");
    assert_eq!((account.plain.accepted, account.plain.failed), (1, 1), "{}", account.summary());
    assert_eq!((account.idempotent.accepted, account.idempotent.failed), (1, 1), "{}", account.summary());
    assert_eq!(account.not_delivered(), 2);
}

/// librdkafka's queue holds one message: the second is refused with 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_librdkafka_queue_is_503_with_retry_after() {
    let service = start(109, &[(TOPIC, 1)], |config| {
        config.linger = Duration::from_millis(2000);
        config.librdkafka.push(("queue.buffering.max.messages".into(), "1".into()));
    })
    .await;
    let first = service.post("api/v1/send", &[("mode", "plain"), ("eventId", "q1"), ("sendMode", "async")]).await;
    assert_eq!(first.status(), 202);
    let second = service.post("api/v1/send", &[("mode", "plain"), ("eventId", "q2"), ("sendMode", "async")]).await;
    assert_eq!(second.headers()["retry-after"], "1");
    let body = problem(second, 503).await;
    assert_eq!(body["type"], "urn:faultlab:problem:queue-full");
    let first_id = first.json::<Value>().await.unwrap()["requestId"].as_str().unwrap().to_string();
    assert_eq!(service.wait_for_status(&first_id).await["state"], "OK");
    let metrics = service.get("metrics", &[]).await.text().await.unwrap();
    assert!(metrics.contains(r#"faultlab_serve_sends_total{mode="plain",send_mode="async",outcome="queue_full"} 1"#), "{metrics}");
}
