//! Error answers, decoded back with tansu's codec as a client would.

use tansu_sans_io::init_producer_id_request::InitProducerIdRequest;
use tansu_sans_io::produce_request::{PartitionProduceData, TopicProduceData};
use tansu_sans_io::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use tansu_sans_io::{MetadataRequest, ProduceRequest, ProduceResponse};

use super::*;

fn request(api_key: i16, api_version: i16, body: Body) -> Bytes {
    Frame::request(Header::Request { api_key, api_version, correlation_id: 77, client_id: Some("c".into()) }, body).unwrap()
}

#[test]
fn a_produce_request_is_answered_for_each_of_its_partitions() {
    let topics = vec![TopicProduceData::default().name("orders".into()).partition_data(Some(vec![
        PartitionProduceData::default().index(0).records(None),
        PartitionProduceData::default().index(3).records(None),
    ]))];
    for version in [3, 7, 9, 10] {
        let body = ProduceRequest::default().transactional_id(None).acks(-1).timeout_ms(1000).topic_data(Some(topics.clone()));
        let answer = error_response(&request(0, version, body.into()), ErrorCode(6)).unwrap();
        let frame = Frame::response_from_bytes(&answer[..], 0, version).unwrap();
        assert_eq!(frame.header, Header::Response { correlation_id: 77 });
        let Body::ProduceResponse(response) = frame.body else { panic!("not a Produce response: {frame:?}") };
        let topic = &response.responses.unwrap()[0];
        assert_eq!(topic.name, "orders");
        let partitions: Vec<(i32, i16, i64)> =
            topic.partition_responses.as_ref().unwrap().iter().map(|p| (p.index, p.error_code, p.base_offset)).collect();
        assert_eq!(partitions, [(0, 6, -1), (3, 6, -1)], "v{version}");
    }
}

#[test]
fn an_init_producer_id_request_is_answered_without_a_producer_id() {
    let body = InitProducerIdRequest::default()
        .transactional_id(None)
        .transaction_timeout_ms(60_000)
        .producer_id(Some(-1))
        .producer_epoch(Some(-1));
    let answer = error_response(&request(22, 4, body.into()), ErrorCode(15)).unwrap();
    let Body::InitProducerIdResponse(response) = Frame::response_from_bytes(&answer[..], 22, 4).unwrap().body else { panic!() };
    assert_eq!((response.error_code, response.producer_id), (15, -1));
}

#[test]
fn other_requests_are_not_answered_by_the_proxy() {
    let body = MetadataRequest::default().topics(Some(Vec::new()));
    let error = error_response(&request(3, 1, body.into()), ErrorCode(6)).unwrap_err();
    assert!(error.contains("produce and init_producer_id"), "{error}");
}

#[test]
fn every_error_code_of_a_broker_response_is_replaced() {
    let ok = |index| {
        PartitionProduceResponse::default()
            .index(index)
            .error_code(0)
            .base_offset(41)
            .log_append_time_ms(Some(-1))
            .log_start_offset(Some(0))
    };
    let body = ProduceResponse::default()
        .responses(Some(vec![TopicProduceResponse::default().name("orders".into()).partition_responses(Some(vec![ok(0), ok(1)]))]))
        .throttle_time_ms(Some(0));
    let response = Frame::response(Header::Response { correlation_id: 9 }, body.into(), 0, 7).unwrap();
    let info = FrameInfo { api_key: 0, api_version: 7, correlation_id: 9, response: true };
    let replaced = with_error_code(&response, &info, ErrorCode(7), &Aim::default()).unwrap();
    let frame = Frame::response_from_bytes(&replaced[..], 0, 7).unwrap();
    assert_eq!(frame.header, Header::Response { correlation_id: 9 });
    let Body::ProduceResponse(response) = frame.body else { panic!() };
    let codes: Vec<(i32, i16, i64)> = response.responses.unwrap()[0]
        .partition_responses
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| (p.index, p.error_code, p.base_offset))
        .collect();
    assert_eq!(codes, [(0, 7, 41), (1, 7, 41)], "the offsets stay: the broker did write");
}

#[test]
fn only_the_aimed_partition_of_a_produce_response_is_told_the_error() {
    let ok = |index| {
        PartitionProduceResponse::default()
            .index(index)
            .error_code(0)
            .base_offset(10)
            .log_append_time_ms(Some(-1))
            .log_start_offset(Some(0))
    };
    let body = ProduceResponse::default()
        .responses(Some(vec![TopicProduceResponse::default().name("orders".into()).partition_responses(Some(vec![ok(0), ok(1), ok(2)]))]))
        .throttle_time_ms(Some(0));
    let response = Frame::response(Header::Response { correlation_id: 9 }, body.into(), 0, 7).unwrap();
    let info = FrameInfo { api_key: 0, api_version: 7, correlation_id: 9, response: true };
    let aimed: Aim = serde_json::from_value(serde_json::json!({ "partition": 1 })).unwrap();
    let replaced = with_error_code(&response, &info, ErrorCode(6), &aimed).unwrap();
    let Body::ProduceResponse(response) = Frame::response_from_bytes(&replaced[..], 0, 7).unwrap().body else { panic!() };
    let codes: Vec<i16> = response.responses.unwrap()[0].partition_responses.as_ref().unwrap().iter().map(|p| p.error_code).collect();
    assert_eq!(codes, [0, 6, 0]);
}
