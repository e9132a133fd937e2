//! `faultlab proxy --kafka` in front of brokers that advertise THEMSELVES
//! (their listeners untouched): the embedded tansu broker and a real Apache
//! Kafka (KRaft, from FAULTLAB_KAFKA_LIBS). After the first metadata, every
//! client request must go through faultlab's broker listeners: the proxy
//! counts the requests it reads per API key, and a timeout toxic put on the
//! broker listener through the Toxiproxy API stalls the producer, which it
//! could not if the client reached the broker directly.

use super::kafka_support;
use crate::cli_support;

use kafka_support::{Fronted, apache, client, delete, front, get, post, tansu};

use std::time::{Duration, Instant};

use faultlab::proxy::kafka::{self, BOOTSTRAP_PROXY};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

const MESSAGES: usize = 20;
const TOPIC: &str = "through-the-proxy";
const JOIN_GROUP: i16 = 11;

/// Everything a client does through the front, and what the proxy saw.
async fn produce_and_consume_through(fronted: &Fronted) {
    let bootstrap = fronted.front.bootstrap().listen();
    let admin: AdminClient<_> = client(&bootstrap).create().unwrap();
    let created = admin
        .create_topics(
            [&NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .expect("CreateTopics through the proxy");
    for result in created {
        result.expect("the topic is created");
    }

    let producer: FutureProducer =
        client(&bootstrap).set("acks", "all").set("message.timeout.ms", "4000").set("linger.ms", "0").create().unwrap();
    for i in 0..MESSAGES {
        let payload = format!("message {i}");
        let record = FutureRecord::to(TOPIC).key("k").payload(&payload);
        producer.send(record, Timeout::After(Duration::from_secs(10))).await.unwrap_or_else(|(e, _)| panic!("message {i}: {e}"));
    }

    // The brokers' listeners, as the Toxiproxy API lists them.
    let brokers = fronted.front.brokers().await;
    assert!(!brokers.is_empty(), "no broker listener was made: the metadata was not rewritten");
    let listed = get(&format!("{}/proxies", fronted.api)).await;
    for (id, proxy) in &brokers {
        let name = kafka::broker_proxy_name(*id);
        assert_eq!(proxy.name(), name);
        assert_eq!(listed[&name]["listen"], proxy.listen(), "GET /proxies: {listed}");
    }
    assert!(listed.get(BOOTSTRAP_PROXY).is_some(), "GET /proxies: {listed}");

    // Every Produce went through a broker listener, none to the bootstrap
    // connection, and at least one per message (linger.ms=0, each awaited).
    let produced: u64 = brokers.values().map(|p| fronted.front.requests(p.name(), kafka::PRODUCE)).sum();
    assert!(produced >= MESSAGES as u64, "{produced} Produce requests through broker listeners for {MESSAGES} messages");
    assert_eq!(fronted.front.requests(BOOTSTRAP_PROXY, kafka::PRODUCE), 0);
    assert!(fronted.front.requests(BOOTSTRAP_PROXY, kafka::METADATA) >= 1);

    // A consumer group finds its coordinator (FindCoordinator rewritten)
    // and reads every message back through the listeners.
    let consumer: StreamConsumer =
        client(&bootstrap).set("group.id", "kafka-proxy-test").set("auto.offset.reset", "earliest").create().unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    let mut read = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while read < MESSAGES {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(_)) => read += 1,
            Ok(Err(e)) => panic!("consuming through the proxy: {e}"),
            Err(_) => panic!("only {read} of {MESSAGES} messages consumed in 60 s"),
        }
    }
    drop(consumer);
    let joins: u64 = brokers.values().map(|p| fronted.front.requests(p.name(), JOIN_GROUP)).sum();
    assert!(joins >= 1, "JoinGroup did not go to a broker listener (FindCoordinator not rewritten?)");
    assert!(
        brokers.values().map(|p| fronted.front.requests(p.name(), kafka::FIND_COORDINATOR)).sum::<u64>()
            + fronted.front.requests(BOOTSTRAP_PROXY, kafka::FIND_COORDINATOR)
            >= 1
    );
    println!("request versions seen (API key, version): {:?}", fronted.front.versions());
    println!("librdkafka {}", rdkafka::util::get_rdkafka_version().1);

    // A timeout toxic on the leader's listener, added through the API,
    // holds the Produce responses: the producer times out. A client that
    // bypassed the proxy would not notice.
    let (id, leader) = brokers.iter().next().unwrap();
    let toxics = format!("{}/proxies/{}/toxics", fronted.api, leader.name());
    let toxic = serde_json::json!({"name": "hold", "type": "timeout", "stream": "downstream", "attributes": {"timeout": 0}});
    post(&toxics, &toxic).await;
    let before = fronted.front.requests(leader.name(), kafka::PRODUCE);
    let stalled = producer.send(FutureRecord::to(TOPIC).key("k").payload("held"), Timeout::After(Duration::from_secs(10))).await;
    assert!(stalled.is_err(), "a message was acknowledged through a timeout toxic on broker {id}'s listener");
    assert!(fronted.front.requests(leader.name(), kafka::PRODUCE) > before, "the held Produce did not reach the listener");
    delete(&format!("{toxics}/hold")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_tansu_is_reached_only_through_the_proxy() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let broker = tansu::start().await;
    let fronted = front(&broker.bootstrap).await;
    produce_and_consume_through(&fronted).await;
    let brokers = fronted.front.brokers().await;
    assert_eq!(brokers.keys().copied().collect::<Vec<_>>(), vec![111], "tansu is node 111");
    assert_eq!(brokers[&111].upstream(), broker.bootstrap, "the listener forwards to the address tansu advertises");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_kafka_is_reached_only_through_the_proxy() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let Some(kafka) = apache::start_provisioned().await else { return };
    let fronted = front(&kafka.bootstrap).await;
    produce_and_consume_through(&fronted).await;
    let brokers = fronted.front.brokers().await;
    assert_eq!(brokers.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(brokers[&1].upstream(), kafka.bootstrap);
}

/// Kills the `faultlab proxy` child if the test fails before it stops it.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_fronts_a_broker_and_lists_its_listener() {
    use std::io::{BufRead, BufReader};

    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    // Not one HOST:PORT: a clear error, not a start.
    let refused = cli_support::run(
        &mut cli_support::command(&["proxy", "--listen", "127.0.0.1:0", "--kafka", "a:1,b:2"], dir.path()),
        Duration::from_secs(20),
        "a refused bootstrap must not start the proxy",
    );
    assert_ne!(refused.code, Some(0), "{}", refused.shown());
    assert!(refused.stderr.contains("not one HOST:PORT"), "{}", refused.shown());

    let broker = tansu::start().await;
    let child = cli_support::command(&["proxy", "--listen", "127.0.0.1:0", "--kafka", &broker.bootstrap], dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let (mut kafka_line, mut api_line) = (String::new(), String::new());
    stderr.read_line(&mut kafka_line).unwrap();
    stderr.read_line(&mut api_line).unwrap();
    let word_after = |line: &str, marker: &str| {
        line.split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no {marker:?} in: {line}"))
            .to_string()
    };
    let bootstrap = word_after(&kafka_line, "Kafka bootstrap on ");
    let api = format!("http://{}", word_after(&api_line, "http://"));

    let admin: AdminClient<_> = client(&bootstrap).create().unwrap();
    for result in admin.create_topics([&NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap() {
        result.unwrap();
    }
    let producer: FutureProducer = client(&bootstrap).set("message.timeout.ms", "10000").create().unwrap();
    for i in 0..5 {
        let payload = format!("message {i}");
        producer.send(FutureRecord::to(TOPIC).key("k").payload(&payload), Timeout::After(Duration::from_secs(10))).await.unwrap();
    }
    let listed = get(&format!("{api}/proxies")).await;
    assert_eq!(listed[BOOTSTRAP_PROXY]["upstream"], broker.bootstrap.as_str(), "{listed}");
    assert_eq!(listed[BOOTSTRAP_PROXY]["listen"], bootstrap.as_str(), "{listed}");
    let listener = &listed[kafka::broker_proxy_name(111)];
    assert_eq!(listener["upstream"], broker.bootstrap.as_str(), "{listed}");
    assert_eq!(listener["enabled"], true, "{listed}");

    let status = cli_support::signal_and_wait(&mut child.0, libc::SIGTERM, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");
}

/// An ApiVersions request of a version beyond the codec's (franz-go 1.22
/// sends v5) is answered by the front itself as a broker answers a version
/// it does not know (KIP-511: v0, UNSUPPORTED_VERSION, the ApiVersions
/// versions it takes), on real TCP; the client's next request, at a version
/// the codec reads, gets the broker's own answer on the same connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_versions_request_beyond_the_codec_is_answered_as_kafka_would() {
    use kafka_protocol::messages::{ApiVersionsRequest, RequestKind};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let broker = tansu::start().await;
    let fronted = front(&broker.bootstrap).await;
    let mut stream = tokio::net::TcpStream::connect(fronted.front.bootstrap().listen()).await.unwrap();
    let request = |version: i16, correlation: i32| {
        let body = RequestKind::ApiVersions(ApiVersionsRequest::default());
        let mut frame = kafka::codec::encode_request(18, 3, correlation, "beyond", &body).to_vec();
        // The same body under a later version: the front does not read it.
        frame[6..8].copy_from_slice(&version.to_be_bytes());
        bytes::Bytes::from(frame)
    };
    let mut exchange = async |frame: bytes::Bytes| {
        stream.write_all(&frame).await.unwrap();
        let size = stream.read_i32().await.unwrap();
        let mut response = vec![0; 4 + size as usize];
        response[..4].copy_from_slice(&size.to_be_bytes());
        stream.read_exact(&mut response[4..]).await.unwrap();
        bytes::Bytes::from(response)
    };
    let highest = *kafka::codec::versions(18).unwrap().end();
    let answer = exchange(request(highest + 1, 41)).await;
    let (header, body, read_at) = kafka::codec::decode_api_versions(&answer, highest + 1).unwrap();
    assert_eq!((header.correlation_id, body.error_code, read_at), (41, kafka::codec::UNSUPPORTED_VERSION, 0));
    let offered: Vec<(i16, i16, i16)> = body.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
    assert_eq!(offered, [(18, 0, highest)]);
    // Asked again at the version offered: the broker's answer, every API.
    let answer = exchange(request(3, 42)).await;
    let (header, body, _) = kafka::codec::decode_api_versions(&answer, 3).unwrap();
    assert_eq!((header.correlation_id, body.error_code), (42, 0));
    assert!(body.api_keys.iter().any(|k| k.api_key == 0), "the broker lists Produce: {:?}", body.api_keys);
    assert_eq!(fronted.front.requests(BOOTSTRAP_PROXY, 18), 2, "both requests were read by the front");
    assert!(fronted.front.refusals().list().is_empty());
}
