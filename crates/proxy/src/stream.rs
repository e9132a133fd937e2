//! The two ways bytes flow through a proxy, in Toxiproxy's words. A leaf:
//! the connection, the Kafka session and the toxics all name a stream.

use serde::{Deserialize, Serialize};

/// Which way the bytes flow. Toxiproxy's words: upstream is client to
/// server (requests), downstream is server to client (responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    #[default]
    Downstream,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }

    /// Toxiproxy's parsing: either word, in any case.
    pub fn parse(text: &str) -> Option<Stream> {
        match text.to_ascii_lowercase().as_str() {
            "upstream" => Some(Stream::Upstream),
            "downstream" => Some(Stream::Downstream),
            _ => None,
        }
    }
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
