//! Rewriting the responses that name brokers, so that every address a
//! client learns is a faultlab listener.
//!
//! Decoded and re-encoded with `tansu-sans-io`, the codec of the tansu
//! broker faultlab already builds (no new compile): it decodes and encodes
//! any response by API key and version, flexible versions (compact
//! strings, tagged fields, the response header's tag buffer) included, and
//! it is generated from Kafka's own JSON message schemas. The
//! `kafka-protocol` crate would do as well but is one more codec to
//! compile. Versions beyond its schemas (Metadata 0-12, FindCoordinator
//! 0-6, DescribeCluster 0-1) fail to decode and are forwarded unchanged,
//! with a warning.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use tansu_sans_io::{Body, Frame};

use super::{DESCRIBE_CLUSTER, FIND_COORDINATOR, Front, METADATA};

pub(super) fn names_brokers(api_key: i16) -> bool {
    matches!(api_key, METADATA | FIND_COORDINATOR | DESCRIBE_CLUSTER)
}

/// The response `frame` (size prefix included) with every broker address
/// replaced by its listener's, re-encoded with its new size.
pub(super) async fn rewrite(frame: &Bytes, api_key: i16, api_version: i16, front: &Arc<Front>, advertise: IpAddr) -> Result<Bytes, String> {
    let mut decoded =
        Frame::response_from_bytes(&frame[..], api_key, api_version).map_err(|e| format!("decoding it: {e}"))?;
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
        _ => return Err(format!("it decoded as {}, not a response naming brokers", decoded.body.api_name())),
    }
    Frame::response(decoded.header, decoded.body, api_key, api_version).map_err(|e| format!("encoding it again: {e}"))
}

/// A broker's address as the client should see it: its listener's. An
/// error response's placeholder (node -1, empty host) is left as it is.
async fn readdress(front: &Arc<Front>, node_id: i32, host: String, port: i32, advertise: IpAddr) -> (String, i32) {
    if node_id < 0 || host.is_empty() {
        return (host, port);
    }
    let advertised = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    match front.listener_for(node_id, advertised).await {
        Some(listen_port) => (advertise.to_string(), i32::from(listen_port)),
        None => (host, port),
    }
}
