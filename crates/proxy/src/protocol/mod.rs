//! Kafka's protocol as the proxy reads and writes it: frames and their
//! request headers ([`frame`]), whole messages ([`codec`]), topic ids
//! ([`topics`]), the names of API keys and error codes ([`names`]), a Kafka toxic's aim attributes ([`aim`]), the answers the
//! proxy makes up ([`answer`]) and the ledger of Produce batches
//! ([`ledger`]). Below the link and the toxics: nothing here knows a
//! socket, a chain or a proxy.

pub mod aim;
pub mod answer;
pub mod codec;
pub mod frame;
pub mod ledger;
pub mod names;
pub mod topics;

pub use frame::{FrameError, MAX_FRAME, PRODUCE};
pub use ledger::Ledger;

/// The API keys whose responses name brokers and are rewritten.
pub const METADATA: i16 = 3;
pub const FIND_COORDINATOR: i16 = 10;
pub const DESCRIBE_CLUSTER: i16 = 60;
/// Rewritten only to keep clients to versions the codec reads.
pub const API_VERSIONS: i16 = 18;

/// What a chunk of a Kafka-mode link is: one whole frame. For a response,
/// the API key and version are its request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    pub response: bool,
}
