//! The mock backend: librdkafka's own mock cluster, in this process, with
//! one faultlab proxy in front of each mock broker.
//!
//! librdkafka ships a Kafka protocol mock (`rdkafka_mock.h`) that its own
//! test suite uses. Each mock broker listens on a loopback port of its own;
//! here each one is told to advertise a faultlab proxy instead
//! (`rd_kafka_mock_broker_set_host_port`), so the clients' bytes pass
//! through the proxy like on every other backend. The mock also plays
//! faults of its own: a broker down and up, a round-trip time, protocol
//! errors on one request type, a partition leader moving.
//!
//! Its limits matter when reading a report: the mock checks producer
//! sequence numbers only for transactional producers, so it appends the
//! retries of a plain idempotent producer again (duplicates that a real
//! broker would have refused); every report says so (`Backend::notes`).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use futures::future::BoxFuture;
use rdkafka::ClientConfig;
use rdkafka::bindings as rd;
use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::types::RDKafkaType;
use strum::VariantArray;

use super::fault::Stage;
use super::fault::kafka::{ErrorName, RequestType};
use super::{Admin, BackendInfo, Environment, FaultControl, ProxyMode, librdkafka_version};
use crate::proxy::{Proxy, Toxic};

/// A librdkafka mock cluster. Its brokers are numbered 1 to `brokers`.
///
/// The mock runs on a thread of its own inside librdkafka; every
/// `rd_kafka_mock_*` call used here either posts an operation to that
/// thread and waits for it or takes the cluster's lock, so the handle may
/// be shared between threads.
pub struct MockCluster {
    cluster: *mut rd::rd_kafka_mock_cluster_t,
    brokers: i32,
    /// The listen address of each broker, by id, as the mock bound it.
    addresses: BTreeMap<i32, String>,
    /// Partitions of every topic created here, and the leader each was given.
    leaders: Mutex<BTreeMap<(String, i32), i32>>,
    /// The librdkafka handle the mock cluster belongs to: it must outlive it
    /// (fields drop after [`Drop::drop`] has destroyed the cluster).
    _owner: Client<DefaultClientContext>,
}

// SAFETY: see the type's documentation: librdkafka's mock API is safe to
// call from any thread, and the pointer is only destroyed in Drop.
unsafe impl Send for MockCluster {}
unsafe impl Sync for MockCluster {}

impl MockCluster {
    /// Start a mock cluster of `brokers` brokers on free loopback ports.
    pub fn new(brokers: i32) -> anyhow::Result<MockCluster> {
        let max = super::backend::MAX_BROKERS as i32;
        if !(1..=max).contains(&brokers) {
            bail!("the mock backend takes 1 to {max} brokers, not {brokers}");
        }
        let mut config = ClientConfig::new();
        // The owning handle never connects anywhere; keep it quiet.
        config.set("log_level", "3");
        let native = config.create_native_config().context("configuring librdkafka for the mock cluster")?;
        let owner = Client::new(&config, native, RDKafkaType::RD_KAFKA_PRODUCER, DefaultClientContext)
            .context("creating the librdkafka handle that owns the mock cluster")?;
        // SAFETY: a live handle; the cluster is destroyed before it in Drop.
        let cluster = unsafe { rd::rd_kafka_mock_cluster_new(owner.native_ptr(), brokers) };
        if cluster.is_null() {
            bail!("librdkafka could not start a mock cluster of {brokers} brokers");
        }
        // The bootstrap list is built once, at creation, from the listen
        // addresses in broker order (ids 1..=brokers), so it stays the
        // brokers' own addresses after they advertise the proxies.
        // SAFETY: a NUL-terminated string owned by the cluster.
        let bootstraps = unsafe { CStr::from_ptr(rd::rd_kafka_mock_cluster_bootstraps(cluster)) }.to_string_lossy().into_owned();
        let mut mock = MockCluster { cluster, brokers, addresses: BTreeMap::new(), leaders: Mutex::new(BTreeMap::new()), _owner: owner };
        mock.addresses = parse_bootstraps(&bootstraps, brokers)?;
        Ok(mock)
    }

    pub fn brokers(&self) -> i32 {
        self.brokers
    }

    /// Each broker's own listen address (`127.0.0.1:port`), by broker id.
    pub fn addresses(&self) -> &BTreeMap<i32, String> {
        &self.addresses
    }

    /// Make broker `id` advertise `host:port` in Metadata responses.
    pub fn advertise(&self, id: i32, host: &str, port: u16) -> anyhow::Result<()> {
        self.check_broker(id)?;
        let host = CString::new(host)?;
        // SAFETY: valid cluster and C string; the mock copies the host.
        unsafe { rd::rd_kafka_mock_broker_set_host_port(self.cluster, id, host.as_ptr(), i32::from(port)) };
        Ok(())
    }

    /// Create `topic` with replication factor `min(brokers, 3)` (as the
    /// docker backend); partition `p`'s leader is broker `p % brokers + 1`.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> anyhow::Result<()> {
        let name = CString::new(topic)?;
        // SAFETY: valid cluster and C string.
        let err = unsafe { rd::rd_kafka_mock_topic_create(self.cluster, name.as_ptr(), partitions, self.brokers.min(3)) };
        check(err, || format!("creating topic {topic} on the mock cluster"))?;
        for partition in 0..partitions {
            let leader = partition % self.brokers + 1;
            self.set_leader(topic, partition, leader)?;
        }
        Ok(())
    }

    /// Move the leadership of `topic`'s `partition` to broker `id`.
    pub fn set_leader(&self, topic: &str, partition: i32, id: i32) -> anyhow::Result<()> {
        self.check_broker(id)?;
        let name = CString::new(topic)?;
        // SAFETY: valid cluster and C string.
        let err = unsafe { rd::rd_kafka_mock_partition_set_leader(self.cluster, name.as_ptr(), partition, id) };
        check(err, || format!("making broker {id} the leader of {topic}/{partition}"))?;
        self.leaders.lock().unwrap_or_else(|e| e.into_inner()).insert((topic.to_string(), partition), id);
        Ok(())
    }

    /// Every partition created here and its leader now.
    pub fn leaders(&self) -> BTreeMap<(String, i32), i32> {
        self.leaders.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Close broker `id`'s connections and refuse new ones (`-1`: all brokers).
    /// Leadership does not move.
    pub fn broker_down(&self, id: i32) -> anyhow::Result<()> {
        self.check_broker_or_all(id)?;
        // SAFETY: valid cluster.
        check(unsafe { rd::rd_kafka_mock_broker_set_down(self.cluster, id) }, || format!("taking mock broker {id} down"))
    }

    pub fn broker_up(&self, id: i32) -> anyhow::Result<()> {
        self.check_broker_or_all(id)?;
        // SAFETY: valid cluster.
        check(unsafe { rd::rd_kafka_mock_broker_set_up(self.cluster, id) }, || format!("bringing mock broker {id} up"))
    }

    /// Delay every response of broker `id` (`-1`: all) by `rtt_ms`; 0 undoes it.
    pub fn broker_rtt(&self, id: i32, rtt_ms: u32) -> anyhow::Result<()> {
        self.check_broker_or_all(id)?;
        let rtt = i32::try_from(rtt_ms).unwrap_or(i32::MAX);
        // SAFETY: valid cluster.
        check(unsafe { rd::rd_kafka_mock_broker_set_rtt(self.cluster, id, rtt) }, || format!("setting mock broker {id}'s round-trip time"))
    }

    /// Answer the next `errors.len()` requests of type `api_key`, on any
    /// broker, with these errors in turn.
    pub fn push_request_errors(&self, api_key: i16, errors: &[rd::rd_kafka_resp_err_t]) {
        // SAFETY: valid cluster; the mock copies the array.
        unsafe { rd::rd_kafka_mock_push_request_errors_array(self.cluster, api_key, errors.len(), errors.as_ptr()) }
    }

    /// Forget the errors still stacked for `api_key`.
    pub fn clear_request_errors(&self, api_key: i16) {
        // SAFETY: valid cluster.
        unsafe { rd::rd_kafka_mock_clear_request_errors(self.cluster, api_key) }
    }

    fn check_broker(&self, id: i32) -> anyhow::Result<()> {
        if !(1..=self.brokers).contains(&id) {
            bail!("the mock cluster has brokers 1 to {}, not {id}", self.brokers);
        }
        Ok(())
    }

    fn check_broker_or_all(&self, id: i32) -> anyhow::Result<()> {
        if id == -1 { Ok(()) } else { self.check_broker(id) }
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        // SAFETY: created in new, destroyed once, before its owner handle.
        unsafe { rd::rd_kafka_mock_cluster_destroy(self.cluster) };
    }
}

fn check(err: rd::rd_kafka_resp_err_t, what: impl FnOnce() -> String) -> anyhow::Result<()> {
    if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        Ok(())
    } else {
        bail!("{}: {}", what(), rdkafka::types::RDKafkaErrorCode::from(err))
    }
}

/// `127.0.0.1:1234,127.0.0.1:1235` as broker id → address, ids from 1.
fn parse_bootstraps(bootstraps: &str, brokers: i32) -> anyhow::Result<BTreeMap<i32, String>> {
    let addresses: BTreeMap<i32, String> =
        bootstraps.split(',').filter(|a| !a.is_empty()).zip(1..).map(|(address, id)| (id, address.to_string())).collect();
    if addresses.len() != brokers as usize {
        bail!("the mock cluster reported {} broker addresses for {brokers} brokers: {bootstraps:?}", addresses.len());
    }
    Ok(addresses)
}

/// The mock brokers and one faultlab proxy in front of each, the proxy of
/// broker `i` at index `i - 1`.
#[derive(Clone)]
pub struct MockFaults {
    pub cluster: Arc<MockCluster>,
    pub proxies: Vec<Proxy>,
}

impl MockFaults {
    /// Add `toxic` to every broker's proxy; returns once their connections apply it.
    pub async fn add(&self, toxic: &Toxic) -> anyhow::Result<()> {
        for proxy in &self.proxies {
            proxy.add_toxic(toxic.clone()).map_err(|e| anyhow::anyhow!("toxic {} on proxy {}: {e}", toxic.name, proxy.name()))?;
        }
        for proxy in &self.proxies {
            proxy.settled().await;
        }
        Ok(())
    }

    /// Remove toxic `name` from every proxy; what it did there, if it is a
    /// Kafka toxic.
    pub async fn remove(&self, name: &str) -> anyhow::Result<Option<crate::proxy::Requests>> {
        let mut requests = None;
        for proxy in &self.proxies {
            requests = super::fault::add_requests(requests, proxy.toxic_requests(name));
            proxy.remove_toxic(name).map_err(|e| anyhow::anyhow!("toxic {name} on proxy {}: {e}", proxy.name()))?;
        }
        for proxy in &self.proxies {
            proxy.settled().await;
        }
        Ok(requests)
    }

    /// Remove every toxic, bring every proxy and broker back up, undo
    /// round-trip times and stacked request errors.
    pub async fn clear(&self) -> anyhow::Result<()> {
        for proxy in &self.proxies {
            proxy.remove_all_toxics();
        }
        self.enable_proxies().await?;
        self.cluster.broker_up(-1)?;
        self.cluster.broker_rtt(-1, 0)?;
        for request in RequestType::VARIANTS {
            self.cluster.clear_request_errors(request.api_key());
        }
        Ok(())
    }

    async fn enable_proxies(&self) -> anyhow::Result<()> {
        for proxy in self.proxies.iter().filter(|p| !p.is_enabled()) {
            proxy.enable().await.map_err(|e| anyhow::anyhow!("bringing the proxy {} back up: {e}", proxy.name()))?;
        }
        Ok(())
    }
}

/// The mock's own fault API: brokers down and up, round-trip times,
/// request errors, leaders; it cannot freeze a broker.
impl Stage for MockFaults {
    fn cannot(&self, fault: &str) -> anyhow::Error {
        anyhow::anyhow!("the mock backend cannot play {fault} (docker can)")
    }

    fn proxies_down(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            for proxy in &self.proxies {
                proxy.disable().await;
            }
            Ok(())
        })
    }

    fn proxies_up(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(self.enable_proxies())
    }

    fn stop_broker(&self, _: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.cluster.broker_down(broker) })
    }

    fn start_broker(&self, _: &str, broker: i32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.cluster.broker_up(broker) })
    }

    fn delay_responses(&self, _: &str, broker: i32, rtt_ms: u32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.cluster.broker_rtt(broker, rtt_ms) })
    }

    fn undelay_responses(&self, _: &str, broker: i32, _: u32) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { self.cluster.broker_rtt(broker, 0) })
    }

    fn move_leaders(&self, _: &str, broker: i32, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            for (topic, p) in self.cluster.leaders().into_keys() {
                if partition.is_none_or(|wanted| wanted == p) {
                    self.cluster.set_leader(&topic, p, broker)?;
                }
            }
            Ok(())
        })
    }

    /// Back to where `create_topic` put each leader.
    fn restore_leaders(&self, _: &str, partition: Option<i32>) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            for (topic, p) in self.cluster.leaders().into_keys() {
                if partition.is_none_or(|wanted| wanted == p) {
                    self.cluster.set_leader(&topic, p, p % self.cluster.brokers() + 1)?;
                }
            }
            Ok(())
        })
    }

    fn push_request_errors(&self, _: &str, request: RequestType, errors: &[ErrorName]) -> BoxFuture<'_, anyhow::Result<()>> {
        let codes: Vec<_> = errors.iter().map(|e| error_code(*e)).collect();
        Box::pin(async move {
            self.cluster.push_request_errors(request.api_key(), &codes);
            Ok(())
        })
    }

    fn clear_request_errors(&self, _: &str, request: RequestType) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            self.cluster.clear_request_errors(request.api_key());
            Ok(())
        })
    }
}

/// Start a mock cluster of `brokers` brokers, each behind its own proxy
/// (reading the clients' bytes in `mode`) and advertising it. `seed` seeds
/// the proxies' random choices.
pub async fn start(seed: u64, brokers: i32, mode: ProxyMode) -> anyhow::Result<Environment> {
    let cluster = Arc::new(MockCluster::new(brokers)?);
    // The Produce batches Kafka toxics act on, recorded by every proxy.
    let ledger = (mode == ProxyMode::KafkaFrames).then(|| Arc::new(crate::proxy::kafka::Ledger::default()));
    let mut proxies = Vec::new();
    for (id, address) in cluster.addresses() {
        let proxy = Proxy::start(&format!("kafka-{id}"), "127.0.0.1:0", address, seed.wrapping_add(*id as u64 - 1))
            .await
            .with_context(|| format!("starting the proxy for mock broker {id}"))?;
        // No client knows its address yet: nothing has connected.
        if let Some(ledger) = &ledger {
            proxy.set_kafka_framing();
            proxy.keep_ledger(ledger.clone());
        }
        let advertised = proxy.listen_addr();
        cluster.advertise(*id, &advertised.ip().to_string(), advertised.port())?;
        proxies.push(proxy);
    }
    let bootstrap = proxies.iter().map(|p| p.listen_addr().to_string()).collect::<Vec<_>>().join(",");
    let faults = MockFaults { cluster: cluster.clone(), proxies: proxies.clone() };
    let mut env = Environment::new(
        BackendInfo {
            backend: super::Backend::Mock.name().into(),
            broker: format!("librdkafka mock cluster (in process, {brokers} broker{})", if brokers == 1 { "" } else { "s" }),
            broker_version: librdkafka_version(),
            proxy: format!(
                "faultlab proxy{} (in process, one per broker: {})",
                if mode == ProxyMode::KafkaFrames { " in Kafka mode" } else { "" },
                proxies.len()
            ),
            proxy_version: env!("CARGO_PKG_VERSION").into(),
            client: format!("librdkafka {}", librdkafka_version()),
        },
        bootstrap,
        FaultControl::Mock(faults),
        Admin::Mock(cluster.clone()),
        Box::new(Running { proxies, _cluster: cluster }),
    );
    env.ledger = ledger;
    Ok(env)
}

struct Running {
    proxies: Vec<Proxy>,
    _cluster: Arc<MockCluster>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for proxy in &self.proxies {
            proxy.shutdown();
        }
    }
}

/// librdkafka's code for each error a scenario names; `transport` makes
/// the mock broker drop the connection instead of answering.
fn error_code(name: ErrorName) -> rd::rd_kafka_resp_err_t {
    use rd::rd_kafka_resp_err_t::*;
    match name {
        ErrorName::Transport => RD_KAFKA_RESP_ERR__TRANSPORT,
        ErrorName::CorruptMessage => RD_KAFKA_RESP_ERR_INVALID_MSG,
        ErrorName::UnknownTopicOrPartition => RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        ErrorName::LeaderNotAvailable => RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        ErrorName::NotLeaderOrFollower => RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        ErrorName::RequestTimedOut => RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        ErrorName::NetworkException => RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        ErrorName::NotEnoughReplicas => RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        ErrorName::NotEnoughReplicasAfterAppend => RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        ErrorName::OutOfOrderSequenceNumber => RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
        ErrorName::ThrottlingQuotaExceeded => RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstraps_are_numbered_from_one() {
        let parsed = parse_bootstraps("127.0.0.1:4001,127.0.0.1:4002", 2).unwrap();
        assert_eq!(parsed[&1], "127.0.0.1:4001");
        assert_eq!(parsed[&2], "127.0.0.1:4002");
        assert!(parse_bootstraps("127.0.0.1:4001", 2).is_err());
    }

    #[test]
    fn a_mock_cluster_starts_creates_topics_and_moves_leaders() {
        let cluster = MockCluster::new(3).unwrap();
        assert_eq!(cluster.addresses().len(), 3);
        assert!(cluster.addresses().values().all(|a| a.starts_with("127.0.0.1:")));
        cluster.create_topic("t", 4).unwrap();
        assert_eq!(cluster.leaders()[&("t".to_string(), 3)], 1);
        cluster.set_leader("t", 0, 2).unwrap();
        assert_eq!(cluster.leaders()[&("t".to_string(), 0)], 2);
        assert!(cluster.set_leader("t", 0, 4).is_err(), "no broker 4");
        cluster.broker_down(2).unwrap();
        cluster.broker_up(2).unwrap();
        cluster.broker_rtt(-1, 100).unwrap();
        assert!(MockCluster::new(0).is_err());
    }
}
