//! The errors of a proxy's toxic operations (a leaf: the API words its
//! answers from them).

/// Errors of the proxy's toxic operations, worded like Toxiproxy's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyError {
    #[error("toxic already exists")]
    ToxicExists,
    #[error("toxic not found")]
    ToxicNotFound,
    #[error("invalid toxicity: {0} (accepted: 0.0 to 1.0)")]
    InvalidToxicity(String),
    /// An attribute value the toxic cannot run with; the text names it.
    #[error("invalid attribute: {0}")]
    InvalidAttribute(String),
    /// A Kafka toxic on a proxy that forwards bytes, not Kafka frames.
    #[error(
        "{0} acts on Kafka requests, and proxy {1} forwards bytes: put it on a proxy in Kafka mode (the \
         kafka-bootstrap and kafka-broker-<id> proxies of `faultlab proxy --kafka`)"
    )]
    NotKafka(&'static str, String),
}
