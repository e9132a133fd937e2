//! The aim: its attributes as files and JSON bodies write them, what it
//! refuses, and which frames it picks, on frames the codec encodes.

use bytes::Bytes;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, RequestKind, TopicName};
use kafka_protocol::protocol::StrBytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use serde_json::json;
use tokio::sync::mpsc;

use super::*;
use crate::protocol::FrameInfo;
use crate::toxic::{Stream, ToxicKind};
use crate::toxics::kafka_latency::KafkaLatency;

fn latency(attributes: serde_json::Value) -> Result<Aimed<KafkaLatency>, String> {
    serde_json::from_value(attributes).map_err(|e| e.to_string())
}

#[test]
fn aim_and_own_attributes_sit_side_by_side() {
    let toxic = latency(json!({ "api_key": "produce", "nth": 2, "latency": 100, "topic": "orders" })).unwrap();
    assert_eq!((toxic.aim.nth, toxic.aim.topic.as_str(), toxic.toxic.latency), (2, "orders", 100));
    assert_eq!(toxic.aim.partition, -1, "any partition by default");
    let written = serde_json::to_value(&toxic).unwrap();
    assert_eq!(written["api_key"], "produce");
    assert_eq!(written["latency"], 100);
    assert_eq!(latency(written).unwrap(), toxic, "written flat, read back the same");
    // Every aim attribute is written (the JSON Schema learns them so).
    let defaults = serde_json::to_value(Aim::default()).unwrap();
    let names: Vec<&str> = defaults.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = AIM_ATTRIBUTES.to_vec();
    expected.sort();
    assert_eq!(names, expected);
    // Derived from Aim's fields, in their order (the order error messages list them in).
    assert_eq!(*AIM_ATTRIBUTES, ["api_key", "client_id", "topic", "partition", "nth", "first", "every", "probability"]);
}

#[test]
fn a_misspelt_attribute_is_refused_with_every_accepted_name() {
    let error = latency(json!({ "latnecy": 100 })).unwrap_err();
    assert!(error.contains("unknown attribute `latnecy`"), "{error}");
    assert!(error.contains("jitter, latency, api_key, client_id, topic, partition, nth, first, every, probability"), "{error}");
    let error = latency(json!({ "api_key": "prodce" })).unwrap_err();
    assert!(error.contains("not a Kafka API key"), "{error}");
    let kind: Result<ToxicKind, _> = serde_json::from_value(json!({ "type": "kafka_error", "attributes": { "error_code": "NOPE" } }));
    assert!(kind.unwrap_err().to_string().contains("not a Kafka error code"));
}

#[test]
fn validate_names_the_attribute_and_what_is_accepted() {
    let invalid = |attributes| latency(attributes).unwrap().validate().unwrap_err();
    assert!(invalid(json!({ "probability": 1.5 })).starts_with("attributes.probability: 1.5 is not a probability"));
    assert!(invalid(json!({ "nth": 1, "every": 2 })).starts_with("attributes.every: give at most one of nth, first and every"));
    let error = invalid(json!({ "api_key": "metadata", "topic": "t" }));
    assert!(error.starts_with("attributes.topic: aims at Produce requests only") && error.contains("metadata"), "{error}");
    assert_eq!(latency(json!({ "first": 3, "probability": 0.5 })).unwrap().validate(), Ok(()));
}

#[test]
fn kafka_error_upstream_only_for_what_the_proxy_can_answer() {
    let kind = |api_key: &str| -> ToxicKind {
        serde_json::from_value(json!({ "type": "kafka_error", "attributes": { "api_key": api_key } })).unwrap()
    };
    assert_eq!(kind("produce").validate_stream(Stream::Upstream), Ok(()));
    assert_eq!(kind("init_producer_id").validate_stream(Stream::Upstream), Ok(()));
    let error = kind("metadata").validate_stream(Stream::Upstream).unwrap_err();
    assert!(error.contains("produce and init_producer_id only, not metadata"), "{error}");
    assert_eq!(kind("metadata").validate_stream(Stream::Downstream), Ok(()));
    let loss: ToxicKind = serde_json::from_value(json!({ "type": "kafka_ack_loss", "attributes": {} })).unwrap();
    assert!(loss.validate_stream(Stream::Upstream).unwrap_err().contains("downstream"));
}

/// A Produce request frame writing to `partitions`.
fn produce(correlation_id: i32, partitions: &[(&str, i32)]) -> Chunk {
    let topics = partitions
        .iter()
        .map(|&(topic, index)| {
            TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(topic.into())))
                .with_partition_data(vec![PartitionProduceData::default().with_index(index)])
        })
        .collect();
    let body = ProduceRequest::default().with_acks(1).with_timeout_ms(1000).with_topic_data(topics);
    frame(crate::protocol::codec::encode_request(0, 7, correlation_id, "test", &RequestKind::Produce(body)), 0, correlation_id)
}

fn frame(data: Bytes, api_key: i16, correlation_id: i32) -> Chunk {
    let mut chunk = Chunk::new(data, tokio::time::Instant::now());
    chunk.frame = Some(FrameInfo { api_key, api_version: 7, correlation_id, response: false });
    chunk
}

fn picked(aim: serde_json::Value, chunks: Vec<Chunk>) -> Vec<i32> {
    let aim: Aim = serde_json::from_value(aim).unwrap();
    let (_in, input) = mpsc::unbounded_channel();
    let (output, _out) = mpsc::unbounded_channel();
    let mut stub = Stub::new(input, output, SmallRng::seed_from_u64(7));
    let state = LinkState::default();
    chunks.iter().filter(|c| aim.picks(c, &mut stub, &state)).map(|c| c.frame.as_ref().unwrap().correlation_id).collect()
}

fn produces(n: i32) -> Vec<Chunk> {
    (1..=n).map(|i| produce(i, &[("t", 0)])).collect()
}

#[test]
fn nth_first_every_and_probability_choose_among_the_matching_requests() {
    assert_eq!(picked(json!({ "nth": 3 }), produces(5)), [3]);
    assert_eq!(picked(json!({ "first": 2 }), produces(5)), [1, 2]);
    assert_eq!(picked(json!({ "every": 2 }), produces(5)), [2, 4]);
    assert_eq!(picked(json!({}), produces(3)), [1, 2, 3]);
    assert_eq!(picked(json!({ "probability": 0.0 }), produces(5)), Vec::<i32>::new());
    let half = picked(json!({ "probability": 0.5 }), produces(200)).len();
    assert!((60..140).contains(&half), "about half of 200 picked, got {half}");
    // Other APIs neither match nor count; a chunk that is no frame never matches.
    let mut mixed = vec![frame(Bytes::from_static(b"meta"), 3, 100), Chunk::new(Bytes::from_static(b"x"), tokio::time::Instant::now())];
    mixed.extend(produces(2));
    assert_eq!(picked(json!({ "nth": 1 }), mixed), [1]);
}

#[test]
fn topic_and_partition_aim_at_what_a_produce_request_writes() {
    let chunks = || vec![produce(1, &[("orders", 0)]), produce(2, &[("orders", 1), ("audit", 0)]), produce(3, &[("audit", 1)])];
    assert_eq!(picked(json!({ "topic": "orders" }), chunks()), [1, 2]);
    assert_eq!(picked(json!({ "partition": 1 }), chunks()), [2, 3]);
    assert_eq!(picked(json!({ "topic": "audit", "partition": 0 }), chunks()), [2]);
    assert_eq!(picked(json!({ "topic": "audit", "nth": 2 }), chunks()), [3], "counted among the aimed topic's requests");
}

#[test]
fn client_id_aims_at_the_connections_of_one_client() {
    let aim: Aim = serde_json::from_value(json!({ "client_id": "plain" })).unwrap();
    let (_in, input) = mpsc::unbounded_channel();
    let (output, _out) = mpsc::unbounded_channel();
    let mut stub = Stub::new(input, output, SmallRng::seed_from_u64(7));
    let on_connection_of = |client: Option<&str>| {
        let session = crate::session::Session::new("p", None, std::net::Ipv4Addr::LOCALHOST.into(), 0, None);
        session.client_id.get_or_init(|| client.map(String::from));
        LinkState { session: Some(session), ..LinkState::default() }
    };
    assert!(aim.picks(&produce(1, &[("t", 0)]), &mut stub, &on_connection_of(Some("plain"))));
    assert!(!aim.picks(&produce(2, &[("t", 0)]), &mut stub, &on_connection_of(Some("idempotent"))));
    assert!(!aim.picks(&produce(3, &[("t", 0)]), &mut stub, &on_connection_of(None)));
    assert!(!aim.picks(&produce(4, &[("t", 0)]), &mut stub, &LinkState::default()), "no session, no client");
}

#[test]
fn the_count_is_shared_by_every_link_of_the_toxic() {
    let aim: Aim = serde_json::from_value(json!({ "nth": 2 })).unwrap();
    let shared = LinkState::default();
    let other_link = LinkState { tally: shared.tally.clone(), ..LinkState::default() };
    let (_in, input) = mpsc::unbounded_channel();
    let (output, _out) = mpsc::unbounded_channel();
    let mut stub = Stub::new(input, output, SmallRng::seed_from_u64(7));
    assert!(!aim.picks(&produce(1, &[("t", 0)]), &mut stub, &shared));
    assert!(aim.picks(&produce(2, &[("t", 0)]), &mut stub, &other_link), "the second on the proxy, on another connection");
}
