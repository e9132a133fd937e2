//! Rewriting the responses that name brokers, so that every address a
//! client learns is a faultlab listener.
//!
//! Decoded and re-encoded with the proxy's codec ([`codec`]), which reads
//! every version of every API up to Apache Kafka 4.1's. The responses that
//! name brokers a client then connects to:
//!
//! - Metadata, FindCoordinator and DescribeCluster: always;
//! - Produce (v10+), Fetch (v16+), ShareFetch and ShareAcknowledge: their
//!   `node_endpoints`, the new leader's address a broker sends with
//!   NOT_LEADER_OR_FOLLOWER (KIP-951), which a client connects to without
//!   asking for metadata again.
//!
//! A response the codec cannot read is never passed on unrewritten: the
//! caller fails the connection and the front records why ([`Refusal`]).
//! Clients are kept to versions the codec reads by the ApiVersions
//! response ([`codec::lower_api_versions`]) and, for an ApiVersions
//! request itself beyond the codec, by the proxy's own answer.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, BrokerId, ResponseKind};
use kafka_protocol::protocol::StrBytes;

use super::Front;
use crate::protocol::codec;

/// Whether responses to requests of `api_key` and `api_version` may name
/// brokers (and are then decoded).
pub(super) fn names_brokers(api_key: i16, api_version: i16) -> bool {
    match ApiKey::try_from(api_key) {
        Ok(ApiKey::Metadata | ApiKey::FindCoordinator | ApiKey::DescribeCluster) => true,
        Ok(ApiKey::Produce) => api_version >= 10,
        Ok(ApiKey::Fetch) => api_version >= 16,
        Ok(ApiKey::ShareFetch | ApiKey::ShareAcknowledge) => true,
        _ => false,
    }
}

/// Why a response was not passed on: what it answered and what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub api_key: i16,
    pub api_version: i16,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = crate::protocol::names::ApiKey(self.api_key);
        write!(f, "a {name} v{} response could not be rewritten: {}", self.api_version, self.reason)
    }
}

/// One broker address in a decoded response.
struct Address<'a> {
    node_id: i32,
    host: &'a mut StrBytes,
    port: &'a mut i32,
}

/// Every broker address `body` names (and the topic ids a Metadata
/// response gives are learned). Placeholders (node -1, an empty host: an
/// error response's) are left out.
fn addresses(body: &mut ResponseKind) -> Vec<Address<'_>> {
    fn at<'a>(node_id: BrokerId, host: &'a mut StrBytes, port: &'a mut i32) -> Option<Address<'a>> {
        (node_id.0 >= 0 && !host.is_empty()).then_some(Address { node_id: node_id.0, host, port })
    }
    match body {
        ResponseKind::Metadata(b) => {
            crate::protocol::topics::learn(b);
            b.brokers.iter_mut().filter_map(|x| at(x.node_id, &mut x.host, &mut x.port)).collect()
        }
        // Versions 0-3 name one coordinator, 4+ one per key.
        ResponseKind::FindCoordinator(b) => std::iter::once(at(b.node_id, &mut b.host, &mut b.port))
            .chain(b.coordinators.iter_mut().map(|x| at(x.node_id, &mut x.host, &mut x.port)))
            .flatten()
            .collect(),
        ResponseKind::DescribeCluster(b) => b.brokers.iter_mut().filter_map(|x| at(x.broker_id, &mut x.host, &mut x.port)).collect(),
        ResponseKind::Produce(b) => b.node_endpoints.iter_mut().filter_map(|x| at(x.node_id, &mut x.host, &mut x.port)).collect(),
        ResponseKind::Fetch(b) => b.node_endpoints.iter_mut().filter_map(|x| at(x.node_id, &mut x.host, &mut x.port)).collect(),
        ResponseKind::ShareFetch(b) => b.node_endpoints.iter_mut().filter_map(|x| at(x.node_id, &mut x.host, &mut x.port)).collect(),
        ResponseKind::ShareAcknowledge(b) => b.node_endpoints.iter_mut().filter_map(|x| at(x.node_id, &mut x.host, &mut x.port)).collect(),
        _ => Vec::new(),
    }
}

/// The response `frame` (size prefix included) with every broker address
/// replaced by its listener's, re-encoded with its new size. Ok(None) when
/// it names no broker (it is passed on as it came).
pub(crate) async fn rewrite(
    frame: &Bytes,
    api_key: i16,
    api_version: i16,
    front: &Arc<dyn Front>,
    advertise: IpAddr,
) -> Result<Option<Bytes>, Refusal> {
    let refusal = |reason: String| Refusal { api_key, api_version, reason };
    let (header, mut body) = codec::decode_response(frame, api_key, api_version).map_err(refusal)?;
    let named = addresses(&mut body);
    if named.is_empty() {
        return Ok(None);
    }
    for address in named {
        let advertised = if address.host.contains(':') {
            format!("[{}]:{}", address.host, address.port)
        } else {
            format!("{}:{}", address.host, address.port)
        };
        let Some(listen_port) = front.clone().listener_for(address.node_id, advertised.clone()).await else {
            return Err(refusal(format!("no listener could be made for broker {} ({advertised})", address.node_id)));
        };
        *address.host = StrBytes::from_string(advertise.to_string());
        *address.port = i32::from(listen_port);
    }
    codec::encode_response(&header, &body, api_key, api_version).map(Some).map_err(refusal)
}

/// The ApiVersions response `frame` to a request of `api_version` with the
/// versions the codec cannot read taken out ([`codec::lower_api_versions`]).
/// Ok(None) when nothing was lowered.
pub(crate) fn lower(frame: &Bytes, api_version: i16) -> Result<Option<Bytes>, Refusal> {
    let api_key = ApiKey::ApiVersions as i16;
    let refusal = |reason: String| Refusal { api_key, api_version, reason };
    let (header, mut body, read_at) = codec::decode_api_versions(frame, api_version).map_err(refusal)?;
    let lowered = codec::lower_api_versions(&mut body);
    if lowered.is_empty() {
        return Ok(None);
    }
    for (key, broker, codec) in &lowered {
        tracing::debug!("API key {key} offered up to v{broker}, lowered to v{codec}, the codec's highest");
    }
    codec::encode_response(&header, &ResponseKind::ApiVersions(body), api_key, read_at).map(Some).map_err(refusal)
}
