//! Error responses, for `kafka_error`: a response the proxy makes up for a
//! request it does not forward, and a broker's response with its error
//! codes replaced. Produce and InitProducerId are decoded and encoded with
//! the proxy's codec ([`super::codec`]), at any version a client uses.
//! Other responses get their error codes replaced through tansu-sans-io's
//! serde form, one walk for every API's layout (the versions tansu-sans-io
//! 0.6 covers; a response it cannot read is forwarded unchanged, with a
//! warning).

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{InitProducerIdResponse, ProduceResponse, RequestKind, ResponseHeader, ResponseKind};

use super::aim::Aim;
use super::names::{ApiKey, ErrorCode};
use super::{FrameInfo, codec, topics};

/// The APIs whose requests the proxy can answer itself.
pub const ANSWERED: [ApiKey; 2] = [ApiKey::PRODUCE, ApiKey(INIT_PRODUCER_ID)];
const INIT_PRODUCER_ID: i16 = 22;

/// The response to `request` (a whole frame) that says `code` for all of
/// it: every partition of a Produce request (no offset), or an
/// InitProducerId request (no producer id).
pub fn error_response(request: &Bytes, code: ErrorCode) -> Result<Bytes, String> {
    let (header, body) = codec::decode_request(request).map_err(|e| format!("decoding the request: {e}"))?;
    let body = match body {
        RequestKind::Produce(produce) => {
            let topics = produce.topic_data.into_iter().map(|topic| {
                let partitions = topic
                    .partition_data
                    .into_iter()
                    .map(|p| PartitionProduceResponse::default().with_index(p.index).with_error_code(code.0).with_base_offset(-1));
                TopicProduceResponse::default()
                    .with_name(topic.name)
                    .with_topic_id(topic.topic_id)
                    .with_partition_responses(partitions.collect())
            });
            ResponseKind::Produce(ProduceResponse::default().with_responses(topics.collect()))
        }
        RequestKind::InitProducerId(_) => ResponseKind::InitProducerId(
            InitProducerIdResponse::default().with_error_code(code.0).with_producer_id((-1).into()).with_producer_epoch(-1),
        ),
        _ => {
            return Err(format!(
                "the proxy answers only {} requests itself, not {}",
                ANSWERED.map(|k| k.name()).join(" and "),
                ApiKey(header.request_api_key)
            ));
        }
    };
    let response_header = ResponseHeader::default().with_correlation_id(header.correlation_id);
    codec::encode_response(&response_header, &body, header.request_api_key, header.request_api_version)
        .map_err(|e| format!("encoding the answer: {e}"))
}

/// `response` (a whole frame, answering `frame`'s request) with its error
/// codes set to `code`: in a Produce response, those of the partitions
/// `aimed` picks (all by default); in any other, every one at any depth
/// (an InitProducerId's one, a Metadata response's per topic).
pub fn with_error_code(response: &Bytes, frame: &FrameInfo, code: ErrorCode, aimed: &Aim) -> Result<Bytes, String> {
    if frame.api_key != ApiKey::PRODUCE.0 {
        return with_error_codes_anywhere(response, frame, code);
    }
    let (header, mut body) =
        codec::decode_response(response, frame.api_key, frame.api_version).map_err(|e| format!("decoding the response: {e}"))?;
    if let ResponseKind::Produce(produce) = &mut body {
        for topic in &mut produce.responses {
            let name = topics::name(&topic.name.0, topic.topic_id);
            for partition in &mut topic.partition_responses {
                if aimed.names(&name, partition.index) {
                    partition.error_code = code.0;
                }
            }
        }
    }
    codec::encode_response(&header, &body, frame.api_key, frame.api_version).map_err(|e| format!("encoding the response: {e}"))
}

/// Every `error_code` of a response of any API set to `code`, through
/// tansu-sans-io's serde form.
fn with_error_codes_anywhere(response: &Bytes, frame: &FrameInfo, code: ErrorCode) -> Result<Bytes, String> {
    use tansu_sans_io::Frame;
    let decoded =
        Frame::response_from_bytes(&response[..], frame.api_key, frame.api_version).map_err(|e| format!("decoding the response: {e}"))?;
    let mut body = serde_json::to_value(&decoded.body).map_err(|e| format!("reading the response: {e}"))?;
    if set_error_codes(&mut body, code.0) == 0 {
        return Err(format!("a response of API key {} has no error code to set", ApiKey(frame.api_key)));
    }
    let body = serde_json::from_value(body).map_err(|e| format!("rebuilding the response: {e}"))?;
    Frame::response(decoded.header, body, frame.api_key, frame.api_version).map_err(|e| format!("encoding the response: {e}"))
}

/// Set every `error_code` field to `code`; how many there were.
fn set_error_codes(value: &mut serde_json::Value, code: i16) -> usize {
    match value {
        serde_json::Value::Object(fields) => fields
            .iter_mut()
            .map(|(name, field)| {
                if name == "error_code" && field.is_number() {
                    *field = code.into();
                    1
                } else {
                    set_error_codes(field, code)
                }
            })
            .sum(),
        serde_json::Value::Array(items) => items.iter_mut().map(|item| set_error_codes(item, code)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
