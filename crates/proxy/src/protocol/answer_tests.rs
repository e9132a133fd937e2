//! Error answers, decoded back with the codec as a client would.

use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{InitProducerIdRequest, MetadataRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::*;

fn request(api_key: i16, api_version: i16, body: RequestKind) -> Bytes {
    codec::encode_request(api_key, api_version, 77, "c", &body)
}

fn orders() -> TopicName {
    TopicName(StrBytes::from_static_str("orders"))
}

fn decoded(frame: &Bytes, api_key: i16, version: i16) -> (ResponseHeader, ResponseKind) {
    codec::decode_response(frame, api_key, version).unwrap()
}

#[test]
fn a_produce_request_is_answered_for_each_of_its_partitions() {
    let partitions = vec![PartitionProduceData::default().with_index(0), PartitionProduceData::default().with_index(3)];
    for version in [3, 7, 9, 10, 12] {
        let topics = vec![TopicProduceData::default().with_name(orders()).with_partition_data(partitions.clone())];
        let body = ProduceRequest::default().with_acks(-1).with_timeout_ms(1000).with_topic_data(topics);
        let answer = error_response(&request(0, version, RequestKind::Produce(body)), ErrorCode(6)).unwrap();
        let (header, ResponseKind::Produce(response)) = decoded(&answer, 0, version) else { panic!("not a Produce response") };
        assert_eq!(header.correlation_id, 77);
        let topic = &response.responses[0];
        assert_eq!(topic.name.0.as_str(), "orders");
        let partitions: Vec<(i32, i16, i64)> = topic.partition_responses.iter().map(|p| (p.index, p.error_code, p.base_offset)).collect();
        assert_eq!(partitions, [(0, 6, -1), (3, 6, -1)], "v{version}");
    }
}

#[test]
fn a_produce_v13_request_is_answered_by_topic_id() {
    let id = uuid::Uuid::from_u128(7);
    let topics =
        vec![TopicProduceData::default().with_topic_id(id).with_partition_data(vec![PartitionProduceData::default().with_index(2)])];
    let body = ProduceRequest::default().with_acks(-1).with_timeout_ms(1000).with_topic_data(topics);
    let answer = error_response(&request(0, 13, RequestKind::Produce(body)), ErrorCode(6)).unwrap();
    let (_, ResponseKind::Produce(response)) = decoded(&answer, 0, 13) else { panic!() };
    assert_eq!((response.responses[0].topic_id, response.responses[0].partition_responses[0].error_code), (id, 6));
}

#[test]
fn an_init_producer_id_request_is_answered_without_a_producer_id() {
    let body = InitProducerIdRequest::default().with_transaction_timeout_ms(60_000);
    let answer = error_response(&request(22, 4, RequestKind::InitProducerId(body)), ErrorCode(15)).unwrap();
    let (_, ResponseKind::InitProducerId(response)) = decoded(&answer, 22, 4) else { panic!() };
    assert_eq!((response.error_code, response.producer_id.0), (15, -1));
}

#[test]
fn other_requests_are_not_answered_by_the_proxy() {
    let body = MetadataRequest::default().with_topics(Some(Vec::new()));
    let error = error_response(&request(3, 1, RequestKind::Metadata(body)), ErrorCode(6)).unwrap_err();
    assert!(error.contains("produce and init_producer_id") && error.contains("metadata"), "{error}");
}

fn produce_response(partitions: &[i32]) -> Bytes {
    let ok = |&index: &i32| PartitionProduceResponse::default().with_index(index).with_base_offset(41).with_log_start_offset(0);
    let topic = TopicProduceResponse::default().with_name(orders()).with_partition_responses(partitions.iter().map(ok).collect());
    let body = ResponseKind::Produce(ProduceResponse::default().with_responses(vec![topic]));
    codec::encode_response(&ResponseHeader::default().with_correlation_id(9), &body, 0, 7).unwrap()
}

fn codes(frame: &Bytes) -> Vec<(i32, i16, i64)> {
    let (header, ResponseKind::Produce(response)) = decoded(frame, 0, 7) else { panic!() };
    assert_eq!(header.correlation_id, 9);
    response.responses[0].partition_responses.iter().map(|p| (p.index, p.error_code, p.base_offset)).collect()
}

#[test]
fn every_error_code_of_a_broker_response_is_replaced() {
    let info = FrameInfo { api_key: 0, api_version: 7, correlation_id: 9, response: true };
    let replaced = with_error_code(&produce_response(&[0, 1]), &info, ErrorCode(7), &Aim::default()).unwrap();
    assert_eq!(codes(&replaced), [(0, 7, 41), (1, 7, 41)], "the offsets stay: the broker did write");
}

#[test]
fn only_the_aimed_partition_of_a_produce_response_is_told_the_error() {
    let info = FrameInfo { api_key: 0, api_version: 7, correlation_id: 9, response: true };
    let aimed: Aim = serde_json::from_value(serde_json::json!({ "partition": 1 })).unwrap();
    let replaced = with_error_code(&produce_response(&[0, 1, 2]), &info, ErrorCode(6), &aimed).unwrap();
    assert_eq!(codes(&replaced).iter().map(|c| c.1).collect::<Vec<_>>(), [0, 6, 0]);
}

#[test]
fn other_apis_get_every_error_code_replaced() {
    let body = ResponseKind::InitProducerId(InitProducerIdResponse::default().with_producer_id(5.into()));
    let response = codec::encode_response(&ResponseHeader::default().with_correlation_id(3), &body, 22, 1).unwrap();
    let info = FrameInfo { api_key: 22, api_version: 1, correlation_id: 3, response: true };
    let replaced = with_error_code(&response, &info, ErrorCode(51), &Aim::default()).unwrap();
    let (_, ResponseKind::InitProducerId(back)) = decoded(&replaced, 22, 1) else { panic!() };
    assert_eq!((back.error_code, back.producer_id.0), (51, 5));
}
