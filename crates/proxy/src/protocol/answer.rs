//! Error responses, for `kafka_error`: a response the proxy makes up for a
//! request it does not forward, and a broker's response with its error
//! codes replaced. Decoded and encoded with tansu-sans-io, as the
//! rewritten responses are ([`super::rewrite`]); its encoder writes only
//! the fields of the version at hand, so every field can be set.

use bytes::Bytes;
use tansu_sans_io::init_producer_id_response::InitProducerIdResponse;
use tansu_sans_io::produce_response::{PartitionProduceResponse, ProduceResponse, TopicProduceResponse};
use tansu_sans_io::{Body, Frame, Header};

use super::FrameInfo;
use super::aim::Aim;
use super::names::{ApiKey, ErrorCode};

/// The APIs whose requests the proxy can answer itself.
pub const ANSWERED: [ApiKey; 2] = [ApiKey::PRODUCE, ApiKey(INIT_PRODUCER_ID)];
const INIT_PRODUCER_ID: i16 = 22;

/// The response to `request` (a whole frame) that says `code` for all of
/// it: every partition of a Produce request (no offset), or an
/// InitProducerId request (no producer id).
pub fn error_response(request: &Bytes, code: ErrorCode) -> Result<Bytes, String> {
    let frame = Frame::request_from_bytes(&request[..]).map_err(|e| format!("decoding the request: {e}"))?;
    let Header::Request { api_key, api_version, correlation_id, .. } = frame.header else {
        return Err("not a request".into());
    };
    let body = match frame.body {
        Body::ProduceRequest(produce) => {
            let topics = produce.topic_data.into_iter().flatten().map(|topic| {
                let partitions = topic.partition_data.into_iter().flatten().map(|p| {
                    PartitionProduceResponse::default()
                        .index(p.index)
                        .error_code(code.0)
                        .base_offset(-1)
                        .log_append_time_ms(Some(-1))
                        .log_start_offset(Some(-1))
                        .record_errors(Some(Vec::new()))
                });
                TopicProduceResponse::default().name(topic.name).partition_responses(Some(partitions.collect()))
            });
            ProduceResponse::default().responses(Some(topics.collect())).throttle_time_ms(Some(0)).into()
        }
        Body::InitProducerIdRequest(_) => {
            InitProducerIdResponse::default().throttle_time_ms(0).error_code(code.0).producer_id(-1).producer_epoch(-1).into()
        }
        other => {
            return Err(format!(
                "the proxy answers only {} requests itself, not {}",
                ANSWERED.map(|k| k.name()).join(" and "),
                other.api_name()
            ));
        }
    };
    Frame::response(Header::Response { correlation_id }, body, api_key, api_version).map_err(|e| format!("encoding the answer: {e}"))
}

/// `response` (a whole frame, answering `frame`'s request) with its error
/// codes set to `code`: in a Produce response, those of the partitions
/// `aimed` picks (all by default); in any other, every one at any depth
/// (an InitProducerId's one, a Metadata response's per topic).
pub fn with_error_code(response: &Bytes, frame: &FrameInfo, code: ErrorCode, aimed: &Aim) -> Result<Bytes, String> {
    let decoded =
        Frame::response_from_bytes(&response[..], frame.api_key, frame.api_version).map_err(|e| format!("decoding the response: {e}"))?;
    let body = match decoded.body {
        Body::ProduceResponse(mut produce) => {
            for topic in produce.responses.iter_mut().flatten() {
                for partition in topic.partition_responses.iter_mut().flatten() {
                    if aimed.names(&topic.name, partition.index) {
                        partition.error_code = code.0;
                    }
                }
            }
            produce.into()
        }
        other => {
            // Through the codec's serde form: one walk covers every API's layout.
            let mut body = serde_json::to_value(&other).map_err(|e| format!("reading the response: {e}"))?;
            if set_error_codes(&mut body, code.0) == 0 {
                return Err(format!("a response of API key {} has no error code to set", ApiKey(frame.api_key)));
            }
            serde_json::from_value(body).map_err(|e| format!("rebuilding the response: {e}"))?
        }
    };
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
