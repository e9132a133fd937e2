//! The backends: what each is called, how many brokers it starts, which
//! backend faults it can play, and what a reader of its numbers must know.
//! How each starts is [`super::start`]; the environment itself is its own
//! module (`env/<name>.rs` or `env/<name>/`).
//!
//! Adding a backend is a variant here (with an arm in each method), its
//! module, an arm in [`super::start`], and its name in the `BACKENDS` of
//! each backend fault it plays (`env/fault/<fault>.rs`): the scenario
//! checks, the command line's `--backend`, the JSON Schema and the reports
//! take their names and abilities from here. Which backend faults a
//! backend plays is the faults' own declaration ([`BackendFault::PLAYED_BY`]).

use serde::{Deserialize, Serialize};

use super::fault::BackendFault;

/// The most brokers any backend starts (mock, docker and local: node ids 1
/// to 9, one KRaft quorum; see `env::kraft`). A scenario's `brokers` limit
/// (`scenario::limits`).
pub const MAX_BROKERS: u32 = 9;

/// Where the broker and the proxy come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Embedded,
    Mock,
    External,
    Docker,
    Local,
}

impl Backend {
    pub const ALL: [Backend; 5] = [Backend::Embedded, Backend::Mock, Backend::External, Backend::Docker, Backend::Local];

    /// Its name, as `--backend` and a scenario's `backends` write it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Mock => "mock",
            Backend::External => "external",
            Backend::Docker => "docker",
            Backend::Local => "local",
        }
    }

    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Every backend's name, in [`Backend::ALL`]'s order.
    pub fn names() -> [&'static str; 5] {
        Backend::ALL.map(Backend::name)
    }

    /// One line for `--help`: what it is and what it needs.
    pub fn about(self) -> &'static str {
        match self {
            Backend::Embedded => "tansu-broker and faultlab's proxy inside this process: nothing to install",
            Backend::Mock => {
                "librdkafka's mock cluster in this process, behind faultlab's proxy: nothing to install; plays broker \
                 faults (down, round-trip time, protocol errors, leader change)"
            }
            Backend::External => {
                "your own cluster as it is: needs --bootstrap; faultlab fronts it with its own proxy (Kafka toxics \
                 included), or, with --toxiproxy, uses your Toxiproxy in front of it"
            }
            Backend::Docker => "Apache Kafka (KRaft) and Toxiproxy containers: needs a Docker daemon",
            Backend::Local => {
                "Apache Kafka (KRaft) and Toxiproxy as child processes: needs Java, Kafka's jars and toxiproxy-server \
                 (scripts/provision installs them); with Kafka toxics, faultlab's own proxy instead of Toxiproxy"
            }
        }
    }

    /// The most brokers it can start; `None` for the external backend,
    /// which uses the cluster as it is (`brokers` is not its to decide).
    pub fn max_brokers(self) -> Option<u32> {
        match self {
            Backend::Embedded => Some(1),
            Backend::Mock | Backend::Docker | Backend::Local => Some(MAX_BROKERS),
            Backend::External => None,
        }
    }

    /// Whether it can play a backend fault of this type (a scenario's
    /// `type`, e.g. "broker_down"); toxics play on every backend.
    pub fn plays(self, fault_type: &str) -> bool {
        BackendFault::played_by(fault_type).contains(&self)
    }

    /// Whether it can play Kafka toxics (`kafka_ack_loss`, `kafka_error`,
    /// `kafka_latency`): they act on Kafka requests and responses, so they
    /// need faultlab's proxy reading Kafka frames. Embedded and mock run it
    /// in process, local serves it instead of Toxiproxy, and external may
    /// front the user's cluster with it (`faultlab proxy --kafka`); docker's
    /// proxy is the Toxiproxy image, which has no Kafka toxics.
    pub fn plays_kafka_toxics(self) -> bool {
        match self {
            Backend::Embedded | Backend::Mock | Backend::Local | Backend::External => true,
            Backend::Docker => false,
        }
    }

    /// The names of the backends that can play Kafka toxics.
    pub fn playing_kafka_toxics() -> Vec<&'static str> {
        Backend::ALL.into_iter().filter(|b| b.plays_kafka_toxics()).map(Backend::name).collect()
    }

    /// The names of the backends that can play a backend fault of this type.
    pub fn playing(fault_type: &str) -> Vec<&'static str> {
        Backend::ALL.into_iter().filter(|b| b.plays(fault_type)).map(Backend::name).collect()
    }

    /// The names of the backends that start more than one broker.
    pub fn several_brokers() -> Vec<&'static str> {
        Backend::ALL.into_iter().filter(|b| b.max_brokers().is_some_and(|max| max > 1)).map(Backend::name).collect()
    }

    /// What a reader of a report must know about it to read the numbers right.
    pub fn notes(self) -> &'static [&'static str] {
        match self {
            Backend::Embedded => &["tansu deduplicates idempotent retries: a retried batch it already stored is answered \
                 DUPLICATE_SEQUENCE_NUMBER with base offset -1, and librdkafka counts the batch delivered, numbering \
                 its offsets -1, 0, 1, ... So the first message of such a batch is \"acked without offset\" and the \
                 rest show as \"offset mismatch\": made-up offsets in the delivery reports, not misplaced data. \
                 Apache Kafka answers such a retry with the original batch's offset."],
            Backend::Mock => &["librdkafka's mock cluster does not deduplicate the retries of non-transactional idempotent producers \
                 (it checks sequence numbers only for transactional ones): duplicates of an idempotent producer on \
                 this backend are the mock's, not librdkafka's, and a real broker would have refused them."],
            Backend::External | Backend::Docker | Backend::Local => &[],
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_agrees() {
        for backend in Backend::ALL {
            assert_eq!(Backend::from_name(backend.name()), Some(backend));
            assert_eq!(serde_json::to_value(backend).unwrap(), backend.name());
        }
        assert_eq!(Backend::from_name("kafka"), None);
    }

    #[test]
    fn who_plays_what() {
        assert_eq!(Backend::playing("proxy_down"), Backend::names());
        assert_eq!(Backend::playing("broker_down"), ["mock", "docker", "local"]);
        assert_eq!(Backend::playing("broker_pause"), ["docker", "local"]);
        assert_eq!(Backend::playing("broker_rtt"), ["mock", "docker", "local"]);
        assert_eq!(Backend::playing("leader_change"), ["mock", "local"]);
        assert_eq!(Backend::playing("request_errors"), ["mock"]);
        assert_eq!(Backend::several_brokers(), ["mock", "docker", "local"]);
        assert_eq!(Backend::playing_kafka_toxics(), ["embedded", "mock", "external", "local"]);
    }
}
