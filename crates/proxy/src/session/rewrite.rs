//! Rewriting the responses that name brokers, so that every address a
//! client learns is a faultlab listener.
//!
//! Decoded and re-encoded with `tansu-sans-io`, the codec of the tansu
//! broker faultlab already builds (no new compile): it decodes and encodes
//! any response by API key and version, flexible versions (compact
//! strings, tagged fields, the response header's tag buffer) included, and
//! it is generated from Kafka's own JSON message schemas. The
//! `kafka-protocol` crate would do as well but is one more codec to
//! compile.
//!
//! Its schemas stop at some version (tansu-sans-io 0.6: Metadata 0-12,
//! FindCoordinator 0-6, DescribeCluster 0-1), while a broker may offer
//! later ones (Apache Kafka 4.1: Metadata 13): a later version decoded
//! with an earlier schema would be re-encoded wrong. So the ApiVersions
//! response is rewritten too, only when needed: the broker's highest
//! version of each rewritten API is lowered to the codec's, and clients
//! use a version the proxy can read. Every other API's versions stay.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use tansu_sans_io::{Body, Frame, RootMessageMeta};

use super::Front;
use crate::protocol::{API_VERSIONS, DESCRIBE_CLUSTER, FIND_COORDINATOR, METADATA};

/// The APIs whose responses name brokers.
const NAMES_BROKERS: [i16; 3] = [METADATA, FIND_COORDINATOR, DESCRIBE_CLUSTER];

/// Whether responses to `api_key` may be rewritten.
pub(super) fn rewritten(api_key: i16) -> bool {
    api_key == API_VERSIONS || NAMES_BROKERS.contains(&api_key)
}

/// The highest version of `api_key`'s response the codec reads.
fn codec_max(api_key: i16) -> Option<i16> {
    RootMessageMeta::messages().responses().get(&api_key).map(|meta| meta.version.valid().end)
}

/// The response `frame` (size prefix included) with every broker address
/// replaced by its listener's, re-encoded with its new size.
/// Ok(None) when the response needs no change.
pub(crate) async fn rewrite(
    frame: &Bytes,
    api_key: i16,
    api_version: i16,
    front: &Arc<dyn Front>,
    advertise: IpAddr,
) -> Result<Option<Bytes>, String> {
    match codec_max(api_key) {
        Some(max) if api_version <= max => {}
        max => {
            return Err(format!("version {api_version} is beyond the codec's (highest {max:?})"));
        }
    }
    let mut decoded = Frame::response_from_bytes(&frame[..], api_key, api_version).map_err(|e| format!("decoding it: {e}"))?;
    let readdress = |node_id: i32, host: String, port: i32| readdress(front, node_id, host, port, advertise);
    match &mut decoded.body {
        Body::MetadataResponse(metadata) => {
            for broker in metadata.brokers.iter_mut().flatten() {
                (broker.host, broker.port) = readdress(broker.node_id, std::mem::take(&mut broker.host), broker.port).await;
            }
        }
        Body::FindCoordinatorResponse(found) => {
            // Versions 0-3 name one coordinator, 4+ one per key.
            if let (Some(node_id), Some(host), Some(port)) = (found.node_id, found.host.as_mut(), found.port.as_mut()) {
                (*host, *port) = readdress(node_id, std::mem::take(host), *port).await;
            }
            for coordinator in found.coordinators.iter_mut().flatten() {
                (coordinator.host, coordinator.port) =
                    readdress(coordinator.node_id, std::mem::take(&mut coordinator.host), coordinator.port).await;
            }
        }
        Body::DescribeClusterResponse(cluster) => {
            for broker in cluster.brokers.iter_mut().flatten() {
                (broker.host, broker.port) = readdress(broker.broker_id, std::mem::take(&mut broker.host), broker.port).await;
            }
        }
        Body::ApiVersionsResponse(versions) => {
            let mut lowered = false;
            for api in versions.api_keys.iter_mut().flatten() {
                if let (true, Some(max)) = (NAMES_BROKERS.contains(&api.api_key), codec_max(api.api_key))
                    && api.max_version > max
                {
                    tracing::debug!("API key {} offered up to v{}, lowered to v{max}", api.api_key, api.max_version);
                    api.max_version = max.max(api.min_version);
                    lowered = true;
                }
            }
            if !lowered {
                return Ok(None);
            }
        }
        _ => {
            return Err(format!("it decoded as {}, not a response naming brokers", decoded.body.api_name()));
        }
    }
    Frame::response(decoded.header, decoded.body, api_key, api_version).map(Some).map_err(|e| format!("encoding it again: {e}"))
}

/// A broker's address as the client should see it: its listener's. An
/// error response's placeholder (node -1, empty host) is left as it is.
async fn readdress(front: &Arc<dyn Front>, node_id: i32, host: String, port: i32, advertise: IpAddr) -> (String, i32) {
    if node_id < 0 || host.is_empty() {
        return (host, port);
    }
    let advertised = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    match front.clone().listener_for(node_id, advertised).await {
        Some(listen_port) => (advertise.to_string(), i32::from(listen_port)),
        None => (host, port),
    }
}
