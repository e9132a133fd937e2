//! Kafka toxics on real brokers (tansu, and Apache Kafka from
//! FAULTLAB_KAFKA_LIBS), put on the front's broker listener through the
//! Toxiproxy HTTP API, with librdkafka producers, and the topic read back:
//!
//! - kafka_ack_loss: each lost acknowledgement is one duplicate for a plain
//!   producer, exactly, and none for an idempotent one;
//! - kafka_error upstream: the client is told an error, the broker never
//!   saw the request: retried, nothing is duplicated; downstream: the
//!   broker wrote it, so the retry duplicates it;
//! - kafka_latency: Produce acknowledgements wait, metadata does not;
//! - a Kafka toxic on a proxy that forwards bytes is refused.

use super::kafka_support::{Fronted, apache, client, delete, front, post, tansu};
use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use faultlab::proxy::kafka;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::json;

const MESSAGES: usize = 10;

/// Topics of one partition, created through the front; the name of the
/// broker's listener (there is one broker).
async fn topics(fronted: &Fronted, names: &[&str]) -> String {
    let admin: AdminClient<_> = client(&fronted.front.bootstrap().listen()).create().unwrap();
    let new: Vec<NewTopic> = names.iter().map(|name| NewTopic::new(name, 1, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new, &options).await.expect("CreateTopics through the proxy") {
        result.expect("the topic is created");
    }
    let brokers = fronted.front.brokers().await;
    assert_eq!(brokers.len(), 1, "one broker, one listener: {:?}", brokers.keys());
    brokers.values().next().unwrap().name().to_string()
}

fn producer(fronted: &Fronted, idempotent: bool) -> FutureProducer {
    let mut config = client(&fronted.front.bootstrap().listen());
    config.set("linger.ms", "0").set("message.timeout.ms", "60000").set("retry.backoff.ms", "50").set("retry.backoff.max.ms", "200");
    if idempotent {
        config.set("acks", "all").set("enable.idempotence", "true");
    } else {
        config.set("acks", "1").set("enable.idempotence", "false").set("max.in.flight", "1");
    }
    config.create().unwrap()
}

/// Send the messages one at a time, each awaited: one message per Produce
/// request. The offsets they were acknowledged at.
async fn send_one_by_one(producer: &FutureProducer, topic: &str) -> Vec<i64> {
    let mut offsets = Vec::new();
    for i in 0..MESSAGES {
        let payload = format!("{topic} {i}");
        let record = FutureRecord::to(topic).key("k").payload(&payload);
        let delivery =
            producer.send(record, Timeout::After(Duration::from_secs(60))).await.unwrap_or_else(|(e, _)| panic!("{payload}: {e}"));
        offsets.push(delivery.offset);
    }
    offsets
}

/// Every payload of `topic`, in offset order, read up to its end.
fn read_back(bootstrap: &str, topic: &str) -> Vec<String> {
    let consumer: BaseConsumer =
        client(bootstrap).set("group.id", format!("read-{topic}")).set("enable.partition.eof", "true").create().unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning).unwrap();
    consumer.assign(&assignment).unwrap();
    let mut payloads = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(message)) => payloads.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()),
            Some(Err(KafkaError::PartitionEOF(_))) => return payloads,
            Some(Err(e)) => panic!("reading {topic} back: {e}"),
            None => {}
        }
    }
    panic!("{topic} not read to its end in 60 s ({} messages so far)", payloads.len())
}

/// How many times each payload was written beyond the first.
fn duplicates(payloads: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::<String, usize>::new();
    for payload in payloads {
        *counts.entry(payload.clone()).or_default() += 1;
    }
    counts.into_iter().filter(|(_, n)| *n > 1).map(|(payload, n)| (payload, n - 1)).collect()
}

async fn add_toxic(fronted: &Fronted, proxy: &str, toxic: serde_json::Value) {
    post(&format!("{}/proxies/{proxy}/toxics", fronted.api), &toxic).await;
}

/// Every third Produce acknowledgement of each topic is lost and the
/// connection closed. Counting the retries, which are Produce requests
/// too, the 3rd, 6th, 9th and 12th requests lose theirs: messages 2, 4, 6
/// and 8, each sent twice.
async fn ack_loss_duplicates_exactly_for_the_plain_producer(fronted: &Fronted, broker: Broker) {
    let ledger = std::sync::Arc::new(kafka::Ledger::default());
    fronted.front.keep_ledger(ledger.clone()).await;
    let listener = topics(fronted, &["ack-loss-plain", "ack-loss-idempotent"]).await;
    for topic in ["ack-loss-plain", "ack-loss-idempotent"] {
        let toxic = json!({"name": topic, "type": "kafka_ack_loss", "stream": "downstream", "attributes": {"topic": topic, "every": 3}});
        add_toxic(fronted, &listener, toxic).await;
    }
    let before = fronted.front.requests(&listener, kafka::PRODUCE);
    let plain = send_one_by_one(&producer(fronted, false), "ack-loss-plain").await;
    let produced = fronted.front.requests(&listener, kafka::PRODUCE) - before;
    assert_eq!(produced, 14, "10 Produce requests and 4 retries through the listener");
    let bootstrap = fronted.front.bootstrap().listen();
    let written = read_back(&bootstrap, "ack-loss-plain");
    let expected: BTreeMap<String, usize> = [2, 4, 6, 8].map(|i| (format!("ack-loss-plain {i}"), 1)).into();
    assert_eq!(duplicates(&written), expected, "written: {written:?}");
    assert_eq!(written.len(), MESSAGES + 4);
    // Each acknowledged offset is the retry's: the first write sits just before it.
    assert_eq!(plain, [0, 1, 3, 4, 6, 7, 9, 10, 12, 13]);

    let idempotent = send_one_by_one(&producer(fronted, true), "ack-loss-idempotent").await;
    let written = read_back(&bootstrap, "ack-loss-idempotent");
    assert_eq!(duplicates(&written), BTreeMap::new(), "the idempotent producer's retries were written again: {written:?}");
    assert_eq!(written, (0..MESSAGES).map(|i| format!("ack-loss-idempotent {i}")).collect::<Vec<_>>());
    let expected: Vec<i64> = match broker {
        // Kafka answers a retried batch it already has with the offset
        // of the first write.
        Broker::Kafka => (0..MESSAGES as i64).collect(),
        // tansu answers it DUPLICATE_SEQUENCE_NUMBER, which librdkafka
        // takes as delivered, without an offset.
        Broker::Tansu => vec![0, 1, -1, 3, -1, 5, -1, 7, -1, 9],
    };
    assert_eq!(idempotent, expected, "the acknowledged offsets");

    // The ledger: every attempt, what the broker answered, what was lost,
    // and so the cause of each duplicate.
    let attempts = ledger.attempts();
    let plain_attempts: Vec<_> = attempts.iter().filter(|a| a.topic == "ack-loss-plain").collect();
    assert_eq!(plain_attempts.len(), 14, "{plain_attempts:#?}");
    let offsets: Vec<i64> = plain_attempts.iter().map(|a| a.broker.expect("every attempt answered").base_offset).collect();
    assert_eq!(offsets, (0..14).collect::<Vec<_>>(), "the broker wrote each attempt");
    let lost: Vec<usize> = plain_attempts.iter().enumerate().filter(|(_, a)| a.fault.is_some()).map(|(i, _)| i + 1).collect();
    assert_eq!(lost, [3, 6, 9, 12], "every third attempt lost its acknowledgement");
    assert!(plain_attempts.iter().all(|a| a.producer_id == -1 && a.records == 1 && a.client_id == "rdkafka"));
    let copies = |topic: &str| {
        let written = read_back(&fronted.front.bootstrap().listen(), topic);
        let mut copies = BTreeMap::<(i32, u64), Vec<i64>>::new();
        for (offset, payload) in written.iter().enumerate() {
            let seq = payload.rsplit(' ').next().unwrap().parse().unwrap();
            copies.entry((0, seq)).or_default().push(offset as i64);
        }
        copies
    };
    let plain = faultlab::audit::wire::attribute("ack-loss-plain", &copies("ack-loss-plain"), &attempts);
    assert_eq!(plain.duplicates_by_cause, [("acknowledgement lost (kafka_ack_loss)".to_string(), 4)].into());
    let example = plain.example.expect("a worked example");
    assert_eq!((example.written_at.as_slice(), example.attempts.len()), ([2, 3].as_slice(), 2), "{example:#?}");
    let idempotent = faultlab::audit::wire::attribute("ack-loss-idempotent", &copies("ack-loss-idempotent"), &attempts);
    assert!(idempotent.duplicates_by_cause.is_empty());
    assert_eq!(idempotent.deduplicated_retries, 4, "each retry of a batch the broker had: {:#?}", attempts);
}

#[derive(Debug, Clone, Copy)]
enum Broker {
    Tansu,
    Kafka,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_loss_on_tansu() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let broker = tansu::start().await;
    let fronted = front(&broker.bootstrap).await;
    ack_loss_duplicates_exactly_for_the_plain_producer(&fronted, Broker::Tansu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_loss_on_apache_kafka() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let Some(kafka) = apache::start_provisioned().await else { return };
    let fronted = front(&kafka.bootstrap).await;
    ack_loss_duplicates_exactly_for_the_plain_producer(&fronted, Broker::Kafka).await;
}

/// Upstream, the first two Produce requests never reach the broker and
/// are answered NOT_LEADER_OR_FOLLOWER: message 0 is retried twice and
/// written once. Downstream, the broker writes the first two and the
/// client is told they failed: message 0 is written three times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_error_before_and_after_the_write() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let broker = tansu::start().await;
    let fronted = front(&broker.bootstrap).await;
    let listener = topics(&fronted, &["error-upstream", "error-downstream"]).await;
    for (topic, stream) in [("error-upstream", "upstream"), ("error-downstream", "downstream")] {
        let attributes = json!({"topic": topic, "first": 2, "error_code": "NOT_LEADER_OR_FOLLOWER"});
        add_toxic(&fronted, &listener, json!({"name": topic, "type": "kafka_error", "stream": stream, "attributes": attributes})).await;
    }
    let producer = producer(&fronted, false);
    let bootstrap = fronted.front.bootstrap().listen();

    let offsets = send_one_by_one(&producer, "error-upstream").await;
    assert_eq!(offsets, (0..MESSAGES as i64).collect::<Vec<_>>());
    let written = read_back(&bootstrap, "error-upstream");
    assert_eq!(written.len(), MESSAGES, "nothing written twice: {written:?}");

    let offsets = send_one_by_one(&producer, "error-downstream").await;
    assert_eq!(offsets[0], 2, "message 0 acknowledged at its third write");
    let written = read_back(&bootstrap, "error-downstream");
    assert_eq!(duplicates(&written), [("error-downstream 0".to_string(), 2)].into(), "written: {written:?}");

    // Taken off through the API, as a Toxiproxy client would.
    for topic in ["error-upstream", "error-downstream"] {
        delete(&format!("{}/proxies/{listener}/toxics/{topic}", fronted.api)).await;
    }
    let after = send_one_by_one(&producer, "error-upstream").await;
    assert_eq!(after[0], MESSAGES as i64, "no error once removed");
}

/// Produce acknowledgements held 2 s; a metadata request on the same
/// connection, sent while one is held, is answered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_latency_holds_produce_and_lets_metadata_pass() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let broker = tansu::start().await;
    let fronted = front(&broker.bootstrap).await;
    let listener = topics(&fronted, &["slow-acks"]).await;
    // Several requests in flight: with max.in.flight=1 librdkafka would
    // not send the metadata request before the Produce response came.
    let producer: FutureProducer = client(&fronted.front.bootstrap().listen()).set("linger.ms", "0").create().unwrap();
    send_one_by_one(&producer, "slow-acks").await;
    let toxic = json!({"name": "slow-acks", "type": "kafka_latency", "stream": "downstream", "attributes": {"latency": 2000}});
    add_toxic(&fronted, &listener, toxic).await;

    let started = Instant::now();
    let held = producer.send(FutureRecord::to("slow-acks").key("k").payload("held"), Timeout::After(Duration::from_secs(30)));
    let metadata = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let asked = Instant::now();
        let client = producer.client();
        tokio::task::block_in_place(|| client.fetch_metadata(Some("slow-acks"), Duration::from_secs(10))).expect("metadata");
        asked.elapsed()
    };
    let (acked, metadata_took) = tokio::join!(held, metadata);
    acked.expect("the held message is acknowledged in the end");
    let ack_took = started.elapsed();
    assert!(ack_took >= Duration::from_millis(2000), "the acknowledgement took {ack_took:?}, under the 2 s latency");
    assert!(metadata_took < Duration::from_millis(1500), "metadata took {metadata_took:?}: held behind the Produce response");
}

#[tokio::test]
async fn a_kafka_toxic_is_refused_on_a_proxy_that_forwards_bytes() {
    let server = faultlab::proxy::api::bind("127.0.0.1:0".parse().unwrap(), 1).await.unwrap();
    let api = format!("http://{}", server.local_addr());
    let registry = server.registry();
    let _serving = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(server.serve(std::future::pending())));
    registry
        .create(faultlab::proxy::ProxySpec {
            name: "plain".into(),
            listen: "127.0.0.1:0".into(),
            upstream: "127.0.0.1:9".into(),
            enabled: true,
        })
        .await
        .unwrap();
    let http = faultlab::http_client().build().unwrap();
    let response = http
        .post(format!("{api}/proxies/plain/toxics"))
        .json(&json!({"type": "kafka_ack_loss", "stream": "downstream"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(body.contains("kafka_ack_loss acts on Kafka requests, and proxy plain forwards bytes"), "{body}");
}

/// Toxiproxy's own client, toxiproxy-cli, adds a Kafka toxic to the
/// front's broker listener, reads it back, and removes it; while it is
/// on, every second Produce acknowledgement is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxiproxy_cli_adds_and_removes_a_kafka_toxic() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let program = match common::components::provisioned("FAULTLAB_TOXIPROXY_CLI", "toxiproxy-cli 2.12.0") {
        Ok(program) => program,
        Err(why) => return common::components::skip(&why),
    };
    let broker = tansu::start().await;
    let fronted = front(&broker.bootstrap).await;
    let listener = topics(&fronted, &["cli-ack-loss"]).await;
    let api = fronted.api.trim_start_matches("http://").to_string();
    let cli = |args: &[&str]| {
        let output = std::process::Command::new(&program).env_remove("TOXIPROXY_URL").arg("-h").arg(&api).args(args).output().unwrap();
        (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    };
    let (ok, out) = cli(&["toxic", "add", "--type", "kafka_ack_loss", "-d", "-a", "every=2", "-a", "connection=reset", &listener]);
    assert!(
        ok && out.contains(&format!("Added downstream kafka_ack_loss toxic 'kafka_ack_loss_downstream' on proxy '{listener}'")),
        "{out}"
    );
    let (ok, out) = cli(&["inspect", &listener]);
    assert!(ok && out.contains("kafka_ack_loss_downstream") && out.contains("every=2") && out.contains("connection=reset"), "{out}");

    // Requests 2, 4 and 6 lose their acknowledgement: messages 1, 2 and 3
    // of 4 are written twice.
    let producer = producer(&fronted, false);
    for i in 0..4 {
        let payload = format!("cli {i}");
        producer.send(FutureRecord::to("cli-ack-loss").payload(&payload).key("k"), Timeout::After(Duration::from_secs(60))).await.unwrap();
    }
    let (ok, out) = cli(&["toxic", "remove", "--toxicName", "kafka_ack_loss_downstream", &listener]);
    assert!(ok && out.contains("Removed toxic 'kafka_ack_loss_downstream'"), "{out}");
    producer.send(FutureRecord::to("cli-ack-loss").payload("cli 4").key("k"), Timeout::After(Duration::from_secs(60))).await.unwrap();
    let written = read_back(&fronted.front.bootstrap().listen(), "cli-ack-loss");
    let expected: BTreeMap<String, usize> = [1, 2, 3].map(|i| (format!("cli {i}"), 1)).into();
    assert_eq!(duplicates(&written), expected, "written: {written:?}");
    assert_eq!(written.len(), 8, "and message 4 once, after the toxic was removed: {written:?}");
}
