//! Rewriting real encodings (tansu's, as its broker sends them) through a
//! front whose broker listeners really listen.

use bytes::Bytes;
use tansu_sans_io::api_versions_response::ApiVersion;
use tansu_sans_io::describe_cluster_response::DescribeClusterBroker;
use tansu_sans_io::find_coordinator_response::Coordinator;
use tansu_sans_io::metadata_response::MetadataResponseBroker;
use tansu_sans_io::{ApiVersionsResponse, Body, DescribeClusterResponse, FindCoordinatorResponse, Frame, Header, MetadataResponse};

use super::*;
use crate::session::rewrite;

/// The front as its sessions see it.
fn sessions_view(front: &KafkaFront) -> Arc<dyn session::Front> {
    front.front.clone()
}

async fn front() -> KafkaFront {
    KafkaFront::start("127.0.0.1:0", "127.0.0.1:9", 1, None).await.unwrap()
}

fn metadata(brokers: &[(i32, &str, i32)]) -> MetadataResponse {
    MetadataResponse::default()
        .throttle_time_ms(Some(0))
        .brokers(Some(
            brokers
                .iter()
                .map(|&(id, host, port)| MetadataResponseBroker::default().node_id(id).host(host.into()).port(port).rack(None))
                .collect(),
        ))
        .cluster_id(Some("cluster".into()))
        .controller_id(Some(1))
        .topics(Some(Vec::new()))
        // Versions 8-10 carry it; a broker sends "not asked" (i32::MIN).
        .cluster_authorized_operations(Some(i32::MIN))
}

async fn rewritten(front: &KafkaFront, body: Body, api_key: i16, version: i16) -> Frame {
    let encoded = Frame::response(Header::Response { correlation_id: 42 }, body, api_key, version).unwrap();
    // The codec gives back the very bytes it read: a rewritten response
    // differs from the broker's only in the addresses.
    let decoded = Frame::response_from_bytes(&encoded[..], api_key, version).unwrap();
    assert_eq!(Frame::response(decoded.header, decoded.body, api_key, version).unwrap(), encoded, "v{version} round trip");
    let out = crate::session::rewrite::rewrite(
        &encoded,
        api_key,
        version,
        &(front.front.clone() as Arc<dyn session::Front>),
        "127.0.0.1".parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    // The size prefix is the new length.
    assert_eq!(i32::from_be_bytes(out[..4].try_into().unwrap()) as usize, out.len() - 4);
    Frame::response_from_bytes(&out[..], api_key, version).unwrap()
}

#[tokio::test]
async fn metadata_brokers_point_at_listeners_made_once_per_node() {
    let front = front().await;
    for version in [1, 8, 9, 12] {
        let body = metadata(&[(1, "broker-one.example", 9092), (2, "10.0.0.2", 9093)]).into();
        let frame = rewritten(&front, body, METADATA, version).await;
        assert_eq!(frame.header, Header::Response { correlation_id: 42 });
        let Body::MetadataResponse(m) = frame.body else { panic!("not metadata: {frame:?}") };
        let brokers = front.brokers().await;
        assert_eq!(brokers.len(), 2, "v{version}: one listener per node, reused");
        for (b, upstream) in m.brokers.unwrap().iter().zip(["broker-one.example:9092", "10.0.0.2:9093"]) {
            let listener = &brokers[&b.node_id];
            assert_eq!(listener.name(), broker_proxy_name(b.node_id));
            assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", i32::from(listener.listen_addr().port())), "v{version}");
            assert_eq!(listener.upstream(), upstream);
            assert!(listener.is_kafka() && listener.is_enabled());
        }
    }
}

#[tokio::test]
async fn find_coordinator_old_and_new_shapes_and_errors() {
    let front = front().await;
    let old = FindCoordinatorResponse::default()
        .throttle_time_ms(Some(0))
        .error_code(Some(0))
        .error_message(None)
        .node_id(Some(3))
        .host(Some("coordinator".into()))
        .port(Some(9000));
    let Body::FindCoordinatorResponse(f) = rewritten(&front, old.into(), FIND_COORDINATOR, 3).await.body else { panic!() };
    let port = front.brokers().await[&3].listen_addr().port();
    assert_eq!((f.node_id, f.host.as_deref(), f.port), (Some(3), Some("127.0.0.1"), Some(i32::from(port))));
    let new = FindCoordinatorResponse::default().throttle_time_ms(Some(0)).coordinators(Some(vec![
        Coordinator::default().key("group".into()).node_id(3).host("coordinator".into()).port(9000).error_code(0).error_message(None),
        // Not available: node -1, no host; left as it is.
        Coordinator::default().key("txn".into()).node_id(-1).host("".into()).port(-1).error_code(15).error_message(None),
    ]));
    let Body::FindCoordinatorResponse(f) = rewritten(&front, new.into(), FIND_COORDINATOR, 4).await.body else { panic!() };
    let c = f.coordinators.unwrap();
    assert_eq!((c[0].host.as_str(), c[0].port), ("127.0.0.1", i32::from(port)));
    assert_eq!((c[1].node_id, c[1].host.as_str(), c[1].port), (-1, "", -1));
    assert_eq!(front.brokers().await.len(), 1);
}

#[tokio::test]
async fn describe_cluster_brokers_are_readdressed() {
    let front = front().await;
    let body = DescribeClusterResponse::default()
        .throttle_time_ms(0)
        .error_code(0)
        .error_message(None)
        .endpoint_type(Some(1))
        .cluster_id("cluster".into())
        .controller_id(5)
        .brokers(Some(vec![DescribeClusterBroker::default().broker_id(5).host("b5".into()).port(19092).rack(None)]))
        .cluster_authorized_operations(0);
    let Body::DescribeClusterResponse(d) = rewritten(&front, body.into(), DESCRIBE_CLUSTER, 1).await.body else { panic!() };
    let b = &d.brokers.unwrap()[0];
    assert_eq!((b.host.as_str(), b.port), ("127.0.0.1", i32::from(front.brokers().await[&5].listen_addr().port())));
}

#[tokio::test]
async fn a_response_that_does_not_decode_is_an_error_not_a_panic() {
    let front = front().await;
    let garbage = Bytes::from_static(&[0, 0, 0, 6, 0, 0, 0, 1, 0xff, 0xff]);
    assert!(rewrite::rewrite(&garbage, METADATA, 12, &sessions_view(&front), "127.0.0.1".parse().unwrap()).await.is_err());
    assert!(front.brokers().await.is_empty());
}

fn api_versions(metadata_max: i16) -> Vec<u8> {
    let keys = [(0, 3, 12), (3, 0, metadata_max), (10, 0, 6), (18, 0, 4)];
    let body = ApiVersionsResponse::default()
        .error_code(0)
        .api_keys(Some(keys.iter().map(|&(k, min, max)| ApiVersion::default().api_key(k).min_version(min).max_version(max)).collect()))
        .throttle_time_ms(Some(0))
        .supported_features(Some(Vec::new()))
        .finalized_features_epoch(Some(-1))
        .finalized_features(Some(Vec::new()))
        .zk_migration_ready(Some(false));
    Frame::response(Header::Response { correlation_id: 1 }, body.into(), API_VERSIONS, 3).unwrap().to_vec()
}

#[tokio::test]
async fn api_versions_are_lowered_to_the_codecs_only_where_needed() {
    let front = front().await;
    let advertise = "127.0.0.1".parse().unwrap();
    // Metadata 13 (Apache Kafka 4.1) is beyond the codec: lowered to 12,
    // the other APIs as the broker offered them.
    let offered = Bytes::from(api_versions(13));
    let out = rewrite::rewrite(&offered, API_VERSIONS, 3, &sessions_view(&front), advertise).await.unwrap().expect("rewritten");
    assert_eq!(out.len(), offered.len());
    assert_eq!(out, Bytes::from(api_versions(12)));
    // Nothing to lower: forwarded as it is.
    let fine = Bytes::from(api_versions(12));
    assert_eq!(rewrite::rewrite(&fine, API_VERSIONS, 3, &sessions_view(&front), advertise).await.unwrap(), None);
    // A version beyond the codec is refused, not misread.
    let metadata13 = Frame::response(Header::Response { correlation_id: 1 }, metadata(&[(1, "b", 1)]).into(), METADATA, 12).unwrap();
    let refused = rewrite::rewrite(&metadata13, METADATA, 13, &sessions_view(&front), advertise).await.unwrap_err();
    assert!(refused.contains("version 13"), "{refused}");
}
