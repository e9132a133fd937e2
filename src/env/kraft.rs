//! Apache Kafka in KRaft mode, as the local and docker backends run it:
//! every broker is a combined broker and controller, with three listeners,
//! and clients reach each broker only through its own Toxiproxy proxy.
//!
//! ```text
//! client ─▶ proxy kafka-i (Toxiproxy) ─▶ broker i, listener PLAINTEXT (advertises the proxy)
//!                                        broker i, listener BROKER     (between brokers, direct)
//!                                        broker i, listener CONTROLLER (the KRaft quorum, direct)
//! ```
//! Everything here is a pure function of its inputs, unit tested without
//! Java or Docker; the backends differ only in where a node's listeners
//! are (loopback ports, or container names on a Docker network) and in how
//! the properties reach Kafka (a `server.properties` file, or `KAFKA_*`
//! environment variables).

use std::collections::BTreeMap;

/// The most brokers the local and docker backends start.
pub use super::backend::MAX_BROKERS;

/// Where one node's listeners are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// 1 to [`MAX_BROKERS`]: Kafka's `node.id`.
    pub id: u32,
    /// The address the node binds (`127.0.0.1`, or `0.0.0.0` in a container).
    pub bind: String,
    /// The name other nodes reach it at (`127.0.0.1`, or its container name).
    pub host: String,
    /// Client listener (PLAINTEXT): the upstream of the node's proxy.
    pub client_port: u16,
    /// Inter-broker listener (BROKER).
    pub broker_port: u16,
    /// KRaft controller listener (CONTROLLER).
    pub controller_port: u16,
}

/// One proxy in front of one broker's client listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyPlan {
    pub name: String,
    /// Where the proxy listens, `host:port`.
    pub listen: String,
    /// The broker's client listener, `host:port`.
    pub upstream: String,
}

/// The name of broker `id`'s proxy.
pub fn proxy_name(id: u32) -> String {
    format!("kafka-{id}")
}

/// One proxy per node, listening at `listen(id)`, upstream its client listener.
pub fn proxy_plan(nodes: &[Node], listen: impl Fn(u32) -> String) -> Vec<ProxyPlan> {
    nodes
        .iter()
        .map(|n| ProxyPlan { name: proxy_name(n.id), listen: listen(n.id), upstream: format!("{}:{}", n.host, n.client_port) })
        .collect()
}

/// `controller.quorum.voters`: every node is a voter.
pub fn voters(nodes: &[Node]) -> String {
    nodes.iter().map(|n| format!("{}@{}:{}", n.id, n.host, n.controller_port)).collect::<Vec<_>>().join(",")
}

/// The replication factor of the topics a run creates and their configs:
/// with three brokers or more, three replicas and `min.insync.replicas=2`
/// (so `acks=all` survives one broker down); otherwise one per broker.
pub fn topic_replication(brokers: u32) -> (i32, Vec<(String, String)>) {
    let configs = if brokers >= 3 { vec![("min.insync.replicas".to_string(), "2".to_string())] } else { Vec::new() };
    (brokers.min(3) as i32, configs)
}

/// Node `id`'s server properties (all but `log.dirs`). Its client listener
/// advertises `advertised_client` (`host:port`, its proxy's address), or
/// nothing yet when that is not known (docker fills it in later).
pub fn properties(nodes: &[Node], id: u32, advertised_client: Option<&str>) -> BTreeMap<String, String> {
    let node = nodes.iter().find(|n| n.id == id).expect("the node is one of the nodes");
    let brokers = nodes.len() as u32;
    let (replication, _) = topic_replication(brokers);
    let min_isr = if brokers >= 3 { 2 } else { 1 };
    let bind = &node.bind;
    let mut advertised = Vec::new();
    if let Some(client) = advertised_client {
        advertised.push(format!("PLAINTEXT://{client}"));
    }
    advertised.push(format!("BROKER://{}:{}", node.host, node.broker_port));
    [
        ("node.id", id.to_string()),
        ("process.roles", "broker,controller".into()),
        (
            "listeners",
            format!(
                "PLAINTEXT://{bind}:{},BROKER://{bind}:{},CONTROLLER://{bind}:{}",
                node.client_port, node.broker_port, node.controller_port
            ),
        ),
        ("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT".into()),
        ("inter.broker.listener.name", "BROKER".into()),
        ("controller.listener.names", "CONTROLLER".into()),
        ("controller.quorum.voters", voters(nodes)),
        ("advertised.listeners", advertised.join(",")),
        ("offsets.topic.replication.factor", replication.to_string()),
        ("transaction.state.log.replication.factor", replication.to_string()),
        ("transaction.state.log.min.isr", min_isr.to_string()),
        ("default.replication.factor", replication.to_string()),
        ("min.insync.replicas", min_isr.to_string()),
        ("group.initial.rebalance.delay.ms", "0".into()),
        ("auto.create.topics.enable", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The properties as a `server.properties` file.
pub fn properties_file(properties: &BTreeMap<String, String>) -> String {
    properties.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// A property as the apache/kafka image's environment variable:
/// `KAFKA_` and the name upper-cased, `.` as `_` (`node.id` is
/// `KAFKA_NODE_ID`). None of [`properties`]' names has `_` or `-`, which
/// the image escapes differently.
pub fn env_var(property: &str) -> String {
    format!("KAFKA_{}", property.to_ascii_uppercase().replace('.', "_"))
}

/// A KRaft cluster id (16 bytes, base64url without padding, 22 characters)
/// derived from `seed`, so a plan is a pure function of its inputs.
pub fn cluster_id(seed: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut bytes = [0u8; 16];
    for (half, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut hasher = DefaultHasher::new();
        (seed, half).hash(&mut hasher);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = String::new();
    for byte in bytes {
        bits = (bits << 8) | u32::from(byte);
        count += 8;
        while count >= 6 {
            count -= 6;
            out.push(ALPHABET[((bits >> count) & 63) as usize] as char);
        }
    }
    if count > 0 {
        out.push(ALPHABET[((bits << (6 - count)) & 63) as usize] as char);
    }
    // Kafka's tools would read a leading '-' as an option (its own
    // generator never makes one).
    if out.starts_with('-') {
        out.replace_range(..1, "A");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback(id: u32) -> Node {
        let base = 40000 + 10 * id as u16;
        Node { id, bind: "127.0.0.1".into(), host: "127.0.0.1".into(), client_port: base, broker_port: base + 1, controller_port: base + 2 }
    }

    #[test]
    fn one_node_replicates_once_and_advertises_its_proxy() {
        let nodes = [loopback(1)];
        let p = properties(&nodes, 1, Some("127.0.0.1:19091"));
        assert_eq!(p["node.id"], "1");
        assert_eq!(p["controller.quorum.voters"], "1@127.0.0.1:40012");
        assert_eq!(p["listeners"], "PLAINTEXT://127.0.0.1:40010,BROKER://127.0.0.1:40011,CONTROLLER://127.0.0.1:40012");
        assert_eq!(p["advertised.listeners"], "PLAINTEXT://127.0.0.1:19091,BROKER://127.0.0.1:40011");
        assert_eq!(p["offsets.topic.replication.factor"], "1");
        assert_eq!(p["min.insync.replicas"], "1");
        assert_eq!(topic_replication(1), (1, Vec::new()));
        // Every listener named has a security protocol.
        for listener in ["PLAINTEXT", "BROKER", "CONTROLLER"] {
            assert!(p["listener.security.protocol.map"].contains(&format!("{listener}:PLAINTEXT")));
        }
        assert!(properties_file(&p).contains("node.id=1\n"));
    }

    #[test]
    fn three_nodes_replicate_three_times_with_two_in_sync() {
        let nodes: Vec<Node> = (1..=3).map(loopback).collect();
        assert_eq!(topic_replication(3), (3, vec![("min.insync.replicas".to_string(), "2".to_string())]));
        for id in 1..=3 {
            let p = properties(&nodes, id, None);
            assert_eq!(p["controller.quorum.voters"], "1@127.0.0.1:40012,2@127.0.0.1:40022,3@127.0.0.1:40032");
            assert_eq!(p["min.insync.replicas"], "2");
            assert_eq!(p["default.replication.factor"], "3");
            assert_eq!(p["advertised.listeners"], format!("BROKER://127.0.0.1:{}", 40001 + 10 * id));
        }
        let proxies = proxy_plan(&nodes, |id| format!("127.0.0.1:{}", 19090 + id));
        assert_eq!(proxies[2], ProxyPlan { name: "kafka-3".into(), listen: "127.0.0.1:19093".into(), upstream: "127.0.0.1:40030".into() });
    }

    #[test]
    fn properties_map_to_the_images_variables() {
        assert_eq!(env_var("node.id"), "KAFKA_NODE_ID");
        assert_eq!(env_var("transaction.state.log.min.isr"), "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR");
        let nodes = [loopback(1)];
        assert!(properties(&nodes, 1, None).keys().all(|k| !k.contains('_') && !k.contains('-')), "the image escapes those");
    }

    #[test]
    fn cluster_ids_are_kraft_shaped_and_stable() {
        let id = cluster_id("abc");
        assert_eq!(id.len(), 22);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(id, cluster_id("abc"));
        assert_ne!(id, cluster_id("abd"));
        assert!((0..2000).all(|i| !cluster_id(&i.to_string()).starts_with('-')));
    }
}
