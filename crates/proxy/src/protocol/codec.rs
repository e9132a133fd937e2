//! Kafka's messages decoded and encoded, for the few frames the proxy
//! reads or writes whole: the responses it rewrites, the answers it makes
//! up, and Produce requests and responses for the ledger and the aim.
//!
//! The codec is the `kafka-protocol` crate, generated from Apache Kafka's
//! own message schemas (those of Kafka 4.1.0): every version of every API
//! up to that release, tagged fields and flexible versions included, and
//! unknown tagged fields kept, so a message decoded and encoded again is
//! the very bytes it was (docs/kafka-proxy.md, "The codec", has the
//! comparison that chose it). A version beyond the codec's is an error
//! here, never a guess: the session keeps clients to versions the codec
//! reads ([`lower_api_versions`]).
//!
//! Record batches stay bytes: only their headers are read
//! ([`batch_headers`]), so no compression codec is built.

use std::ops::RangeInclusive;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};

/// Kafka's UNSUPPORTED_VERSION error code.
pub const UNSUPPORTED_VERSION: i16 = 35;

/// The versions of `api_key` the codec reads and writes; None for an API
/// it does not know.
pub fn versions(api_key: i16) -> Option<RangeInclusive<i16>> {
    let range = ApiKey::try_from(api_key).ok()?.valid_versions();
    Some(range.min..=range.max)
}

/// `api_key` as the codec knows it, at a version it reads.
fn known(api_key: i16, api_version: i16) -> Result<ApiKey, String> {
    let key = ApiKey::try_from(api_key).map_err(|()| format!("API key {api_key} is unknown to the codec (Apache Kafka 4.1's APIs)"))?;
    let range = key.valid_versions();
    if !(range.min..=range.max).contains(&api_version) {
        return Err(format!("{key:?} v{api_version} is beyond the codec's versions ({}-{})", range.min, range.max));
    }
    Ok(key)
}

/// A request frame (size prefix included): its header and its body.
pub fn decode_request(frame: &Bytes) -> Result<(RequestHeader, RequestKind), String> {
    let mut buf = frame.slice(4.min(frame.len())..);
    if buf.len() < 4 {
        return Err("a request frame too short for a header".into());
    }
    let (api_key, api_version) = (i16::from_be_bytes([buf[0], buf[1]]), i16::from_be_bytes([buf[2], buf[3]]));
    let key = known(api_key, api_version)?;
    let header = RequestHeader::decode(&mut buf, key.request_header_version(api_version)).map_err(|e| format!("its header: {e}"))?;
    let body = RequestKind::decode(key, &mut buf, api_version).map_err(|e| format!("{key:?} v{api_version}: {e}"))?;
    whole(&buf, key, api_version)?;
    Ok((header, body))
}

/// A response frame (size prefix included) to a request of `api_key`
/// and `api_version`: its header and its body.
pub fn decode_response(frame: &Bytes, api_key: i16, api_version: i16) -> Result<(ResponseHeader, ResponseKind), String> {
    let key = known(api_key, api_version)?;
    let mut buf = frame.slice(4.min(frame.len())..);
    let header = ResponseHeader::decode(&mut buf, key.response_header_version(api_version)).map_err(|e| format!("its header: {e}"))?;
    let body = ResponseKind::decode(key, &mut buf, api_version).map_err(|e| format!("{key:?} v{api_version}: {e}"))?;
    whole(&buf, key, api_version)?;
    Ok((header, body))
}

/// A message must take its whole frame: bytes left over mean it was read
/// with the wrong layout.
fn whole(rest: &Bytes, key: ApiKey, api_version: i16) -> Result<(), String> {
    match rest.remaining() {
        0 => Ok(()),
        n => Err(format!("{key:?} v{api_version}: {n} bytes left over after the message")),
    }
}

/// The frame (size prefix included) of a response to a request of
/// `api_key` and `api_version`.
pub fn encode_response(header: &ResponseHeader, body: &ResponseKind, api_key: i16, api_version: i16) -> Result<Bytes, String> {
    let key = known(api_key, api_version)?;
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    header.encode(&mut buf, key.response_header_version(api_version)).map_err(|e| format!("encoding its header: {e}"))?;
    body.encode(&mut buf, api_version).map_err(|e| format!("encoding {key:?} v{api_version}: {e}"))?;
    let size = i32::try_from(buf.len() - 4).map_err(|_| "a response larger than 2 GiB".to_string())?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf.freeze())
}

/// An ApiVersions response (whole frame) to a request of `api_version`.
/// A broker that does not support the request's version answers in
/// version 0 with UNSUPPORTED_VERSION (KIP-511), so that is read too.
/// Returns the version it was read at.
pub fn decode_api_versions(frame: &Bytes, api_version: i16) -> Result<(ResponseHeader, ApiVersionsResponse, i16), String> {
    let key = ApiKey::ApiVersions as i16;
    let at = |version| match decode_response(frame, key, version)? {
        (header, ResponseKind::ApiVersions(body)) => Ok((header, body, version)),
        _ => unreachable!("the codec decodes ApiVersions as ApiVersions"),
    };
    at(api_version).or_else(|first| at(0).map_err(|_| first))
}

/// In an ApiVersions response, every API's highest version lowered to the
/// codec's where the broker offers a later one, so that every frame of the
/// connection is one the codec reads. APIs the codec does not know keep
/// their versions. The APIs lowered, as (key, broker's highest, codec's).
pub fn lower_api_versions(body: &mut ApiVersionsResponse) -> Vec<(i16, i16, i16)> {
    let mut lowered = Vec::new();
    for api in &mut body.api_keys {
        if let Some(codec) = versions(api.api_key)
            && api.max_version > *codec.end()
        {
            lowered.push((api.api_key, api.max_version, *codec.end()));
            api.max_version = (*codec.end()).max(api.min_version);
        }
    }
    lowered
}

/// The answer to an ApiVersions request of a version beyond the codec's,
/// as a broker answers a version it does not support (KIP-511): version 0,
/// UNSUPPORTED_VERSION, and the ApiVersions versions it takes; the client
/// asks again at the highest of those.
pub fn api_versions_unsupported(correlation_id: i32) -> Result<Bytes, String> {
    let key = ApiKey::ApiVersions;
    let range = key.valid_versions();
    let body = ApiVersionsResponse::default()
        .with_error_code(UNSUPPORTED_VERSION)
        .with_api_keys(vec![ApiVersion::default().with_api_key(key as i16).with_min_version(range.min).with_max_version(range.max)]);
    encode_response(&ResponseHeader::default().with_correlation_id(correlation_id), &ResponseKind::ApiVersions(body), key as i16, 0)
}

/// What the ledger reads of a record batch: its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records: i32,
}

/// Record batch (magic 2) header layout: base offset (8), batch length (4),
/// partition leader epoch (4), magic (1), CRC (4), attributes (2), last
/// offset delta (4), base and max timestamps (8 + 8), producer id (8),
/// producer epoch (2), base sequence (4), record count (4).
const BATCH_HEADER: usize = 61;
const LENGTH_AT: usize = 8;
const MAGIC_AT: usize = 16;
const PRODUCER_AT: usize = 43;

/// The headers of the record batches in a Produce partition's `records`;
/// the records themselves (compressed or not) are not read. Stops at the
/// first batch that is not whole or not magic 2 (older message sets have
/// no producer id), with what it read so far.
pub fn batch_headers(records: &[u8]) -> Vec<BatchHeader> {
    let mut headers = Vec::new();
    let mut rest = records;
    while rest.len() >= BATCH_HEADER && rest[MAGIC_AT] == 2 {
        let length = i32::from_be_bytes(rest[LENGTH_AT..LENGTH_AT + 4].try_into().expect("4 bytes"));
        let Some(size) = usize::try_from(length).ok().map(|l| l + LENGTH_AT + 4).filter(|&s| s >= BATCH_HEADER && s <= rest.len()) else {
            break;
        };
        let mut fields = &rest[PRODUCER_AT..BATCH_HEADER];
        headers.push(BatchHeader {
            producer_id: fields.get_i64(),
            producer_epoch: fields.get_i16(),
            base_sequence: fields.get_i32(),
            records: fields.get_i32(),
        });
        rest = &rest[size..];
    }
    headers
}

/// A request frame (size prefix included), as a client encodes it: for
/// tests that play a client. Panics on a version beyond the codec's.
pub fn encode_request(api_key: i16, api_version: i16, correlation_id: i32, client_id: &str, body: &RequestKind) -> Bytes {
    let key = known(api_key, api_version).unwrap_or_else(|e| panic!("{e}"));
    let header = RequestHeader::default()
        .with_request_api_key(api_key)
        .with_request_api_version(api_version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(kafka_protocol::protocol::StrBytes::from_string(client_id.into())));
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    header.encode(&mut buf, key.request_header_version(api_version)).unwrap();
    body.encode(&mut buf, api_version).unwrap();
    let size = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    buf.freeze()
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
