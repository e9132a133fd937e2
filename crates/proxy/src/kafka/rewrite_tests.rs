//! Rewriting encoded responses through a front whose broker listeners
//! really listen: every version the codec reads, the addresses KIP-951
//! puts in Produce responses, and what is refused rather than passed on.

use bytes::Bytes;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::produce_response::NodeEndpoint;
use kafka_protocol::messages::{
    ApiVersionsResponse, DescribeClusterResponse, FindCoordinatorResponse, MetadataResponse, ProduceResponse, ResponseHeader, ResponseKind,
};
use kafka_protocol::protocol::StrBytes;

use super::*;
use crate::protocol::codec;
use crate::session::rewrite;

/// The front as its sessions see it.
fn sessions_view(front: &KafkaFront) -> Arc<dyn session::Front> {
    front.front.clone()
}

async fn front() -> KafkaFront {
    KafkaFront::start("127.0.0.1:0", "127.0.0.1:9", 1, None).await.unwrap()
}

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.into())
}

fn metadata(brokers: &[(i32, &str, i32)]) -> ResponseKind {
    let brokers = brokers
        .iter()
        .map(|&(id, host, port)| MetadataResponseBroker::default().with_node_id(id.into()).with_host(text(host)).with_port(port));
    ResponseKind::Metadata(MetadataResponse::default().with_brokers(brokers.collect()).with_cluster_id(Some(text("cluster"))))
}

fn encoded(body: &ResponseKind, api_key: i16, version: i16) -> Bytes {
    codec::encode_response(&ResponseHeader::default().with_correlation_id(42), body, api_key, version).unwrap()
}

async fn rewritten(front: &KafkaFront, body: ResponseKind, api_key: i16, version: i16) -> ResponseKind {
    let encoded = encoded(&body, api_key, version);
    // The codec gives back the very bytes it read: a rewritten response
    // differs from the broker's only in the addresses.
    let (header, decoded) = codec::decode_response(&encoded, api_key, version).unwrap();
    assert_eq!(codec::encode_response(&header, &decoded, api_key, version).unwrap(), encoded, "v{version} round trip");
    let out = rewrite::rewrite(&encoded, api_key, version, &sessions_view(front), "127.0.0.1".parse().unwrap())
        .await
        .unwrap()
        .expect("rewritten");
    // The size prefix is the new length.
    assert_eq!(i32::from_be_bytes(out[..4].try_into().unwrap()) as usize, out.len() - 4);
    let (header, body) = codec::decode_response(&out, api_key, version).unwrap();
    assert_eq!(header.correlation_id, 42);
    body
}

#[tokio::test]
async fn metadata_brokers_point_at_listeners_made_once_per_node_in_every_version() {
    let front = front().await;
    for version in 0..=13 {
        let body = metadata(&[(1, "broker-one.example", 9092), (2, "10.0.0.2", 9093)]);
        let ResponseKind::Metadata(m) = rewritten(&front, body, METADATA, version).await else { panic!("not metadata") };
        let brokers = front.brokers().await;
        assert_eq!(brokers.len(), 2, "v{version}: one listener per node, reused");
        for (b, upstream) in m.brokers.iter().zip(["broker-one.example:9092", "10.0.0.2:9093"]) {
            let listener = &brokers[&b.node_id.0];
            assert_eq!(listener.name(), broker_proxy_name(b.node_id.0));
            assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", i32::from(listener.listen_addr().port())), "v{version}");
            assert_eq!(listener.upstream(), upstream);
            assert!(listener.is_kafka() && listener.is_enabled());
        }
    }
}

#[tokio::test]
async fn find_coordinator_old_and_new_shapes_and_errors() {
    let front = front().await;
    let old = FindCoordinatorResponse::default().with_node_id(3.into()).with_host(text("coordinator")).with_port(9000);
    let ResponseKind::FindCoordinator(f) = rewritten(&front, ResponseKind::FindCoordinator(old), FIND_COORDINATOR, 3).await else {
        panic!()
    };
    let port = front.brokers().await[&3].listen_addr().port();
    assert_eq!((f.node_id.0, f.host.as_str(), f.port), (3, "127.0.0.1", i32::from(port)));
    let new = FindCoordinatorResponse::default().with_coordinators(vec![
        Coordinator::default().with_key(text("group")).with_node_id(3.into()).with_host(text("coordinator")).with_port(9000),
        // Not available: node -1, no host; left as it is.
        Coordinator::default().with_key(text("txn")).with_node_id((-1).into()).with_port(-1).with_error_code(15),
    ]);
    let ResponseKind::FindCoordinator(f) = rewritten(&front, ResponseKind::FindCoordinator(new), FIND_COORDINATOR, 6).await else {
        panic!()
    };
    let c = &f.coordinators;
    assert_eq!((c[0].host.as_str(), c[0].port), ("127.0.0.1", i32::from(port)));
    assert_eq!((c[1].node_id.0, c[1].host.as_str(), c[1].port), (-1, "", -1));
    assert_eq!(front.brokers().await.len(), 1);
}

#[tokio::test]
async fn describe_cluster_brokers_are_readdressed() {
    let front = front().await;
    let broker = DescribeClusterBroker::default().with_broker_id(5.into()).with_host(text("b5")).with_port(19092);
    let body = ResponseKind::DescribeCluster(DescribeClusterResponse::default().with_cluster_id(text("c")).with_brokers(vec![broker]));
    for version in 0..=2 {
        let ResponseKind::DescribeCluster(d) = rewritten(&front, body.clone(), DESCRIBE_CLUSTER, version).await else { panic!() };
        let b = &d.brokers[0];
        assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", i32::from(front.brokers().await[&5].listen_addr().port())));
    }
}

#[tokio::test]
async fn a_new_leaders_address_in_a_produce_response_is_readdressed() {
    let front = front().await;
    // KIP-951: with NOT_LEADER_OR_FOLLOWER the broker names the new leader,
    // and a client connects there without asking for metadata.
    let endpoint = NodeEndpoint::default().with_node_id(7.into()).with_host(text("leader7")).with_port(9097);
    let body = ResponseKind::Produce(ProduceResponse::default().with_node_endpoints(vec![endpoint]));
    let ResponseKind::Produce(p) = rewritten(&front, body, PRODUCE, 12).await else { panic!() };
    let port = front.brokers().await[&7].listen_addr().port();
    assert_eq!((p.node_endpoints[0].host.as_str(), p.node_endpoints[0].port), ("127.0.0.1", i32::from(port)));
    // Without one, the response is passed on as it came.
    let plain = encoded(&ResponseKind::Produce(ProduceResponse::default()), PRODUCE, 12);
    assert_eq!(rewrite::rewrite(&plain, PRODUCE, 12, &sessions_view(&front), "127.0.0.1".parse().unwrap()).await.unwrap(), None);
}

#[tokio::test]
async fn a_response_that_does_not_decode_is_refused_not_passed_on() {
    let front = front().await;
    let garbage = Bytes::from_static(&[0, 0, 0, 6, 0, 0, 0, 1, 0xff, 0xff]);
    let refused = rewrite::rewrite(&garbage, METADATA, 12, &sessions_view(&front), "127.0.0.1".parse().unwrap()).await.unwrap_err();
    assert_eq!((refused.api_key, refused.api_version), (METADATA, 12));
    assert!(refused.to_string().starts_with("a metadata v12 response could not be rewritten"), "{refused}");
    assert!(front.brokers().await.is_empty());
    // A version beyond the codec's is refused, never read with another layout.
    let beyond = encoded(&metadata(&[(1, "b", 1)]), METADATA, 13);
    let refused = rewrite::rewrite(&beyond, METADATA, 14, &sessions_view(&front), "127.0.0.1".parse().unwrap()).await.unwrap_err();
    assert!(refused.reason.contains("Metadata v14 is beyond the codec's versions (0-13)"), "{refused}");
}

fn api_versions(keys: &[(i16, i16, i16)], version: i16) -> Bytes {
    let keys = keys.iter().map(|&(k, min, max)| ApiVersion::default().with_api_key(k).with_min_version(min).with_max_version(max));
    let body = ResponseKind::ApiVersions(ApiVersionsResponse::default().with_api_keys(keys.collect()));
    codec::encode_response(&ResponseHeader::default().with_correlation_id(1), &body, API_VERSIONS, version).unwrap()
}

#[test]
fn api_versions_are_lowered_to_the_codecs_only_where_needed() {
    let codec_max = |key| *codec::versions(key).unwrap().end();
    for version in 0..=4 {
        // A broker newer than the codec: Metadata and Produce beyond it are
        // lowered; an API the codec does not know keeps its versions.
        let offered = api_versions(&[(0, 3, 99), (3, 0, 99), (10, 0, 6), (18, 0, 4), (9999, 0, 5)], version);
        let out = rewrite::lower(&offered, version).unwrap().expect("lowered");
        let expected = api_versions(&[(0, 3, codec_max(0)), (3, 0, codec_max(3)), (10, 0, 6), (18, 0, 4), (9999, 0, 5)], version);
        assert_eq!(out, expected, "v{version}");
        // Apache Kafka 4.1's versions are all the codec's: passed on as they came.
        let fine = api_versions(&[(0, 3, 13), (3, 0, 13), (18, 0, 4)], version);
        assert_eq!(rewrite::lower(&fine, version).unwrap(), None);
    }
}

#[test]
fn an_api_versions_answer_in_version_0_is_read_as_the_broker_sent_it() {
    // KIP-511: a broker asked at a version it does not know answers v0.
    let v0 = api_versions(&[(18, 0, 3), (3, 0, 99)], 0);
    let out = rewrite::lower(&v0, 4).unwrap().expect("lowered");
    let (_, body, read_at) = codec::decode_api_versions(&out, 4).unwrap();
    assert_eq!(read_at, 0);
    assert_eq!(body.api_keys[1].max_version, *codec::versions(3).unwrap().end());
}

#[test]
fn an_api_versions_request_beyond_the_codec_is_answered_unsupported() {
    let answer = codec::api_versions_unsupported(5).unwrap();
    let (header, body, read_at) = codec::decode_api_versions(&answer, 0).unwrap();
    assert_eq!((header.correlation_id, body.error_code, read_at), (5, codec::UNSUPPORTED_VERSION, 0));
    let offered: Vec<(i16, i16, i16)> = body.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
    assert_eq!(offered, [(API_VERSIONS, 0, *codec::versions(API_VERSIONS).unwrap().end())]);
}
