//! The toxic model shared by the proxy, its HTTP API and scenario files.
//!
//! A [`Toxic`] serialises exactly like a Toxiproxy toxic
//! (`{"name", "type", "stream", "toxicity", "attributes"}`), so the same
//! value can be sent to a real Toxiproxy or applied to faultlab's own proxy.
//! Attribute names, units and defaults are Toxiproxy's: missing attributes
//! are zero, as in Go.

use serde::{Deserialize, Serialize};

use super::kafka::aim::Aimed;
// The toxic's view of a link lives below this module, so the toxics
// implement it without importing the list of toxics (`ToxicKind`).
pub use super::pipe::{LinkState, Pipe, Stream};
use super::stub::{CloseMode, PipeEnd, Stub};
use super::toxics;

/// A named toxic on one stream of a proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Toxic {
    pub name: String,
    #[serde(default)]
    pub stream: Stream,
    /// Probability that the toxic applies to a connection, rolled once per
    /// connection (Toxiproxy's semantics).
    #[serde(default = "full_toxicity")]
    pub toxicity: f32,
    #[serde(flatten)]
    pub kind: ToxicKind,
}

fn full_toxicity() -> f32 {
    1.0
}

impl Toxic {
    /// Toxiproxy's default name: `<type>_<stream>`.
    pub fn default_name(kind: &ToxicKind, stream: Stream) -> String {
        format!("{}_{}", kind.type_name(), stream)
    }
}

/// Declares [`ToxicKind`] from its variants and writes the methods that
/// hand a call to the variant's value ([`Pipe`]): the one list of toxics
/// is the enum, so a new toxic is its module and one line there, never an
/// arm in each method.
macro_rules! toxic_kinds {
    ($(#[$meta:meta])* pub enum ToxicKind { $($(#[$variant_meta:meta])* $variant:ident($attributes:ty),)* }) => {
        $(#[$meta])*
        pub enum ToxicKind {
            $($(#[$variant_meta])* $variant($attributes),)*
        }

        impl ToxicKind {
            /// Reject attribute values that Toxiproxy cannot run (its goroutine
            /// panics or spins on them). The message names the attribute and what
            /// would be accepted. Every other value means what it means in Go
            /// (negative delays are no delay, and so on).
            pub fn validate(&self) -> Result<(), String> {
                match self {
                    $(ToxicKind::$variant(t) => Pipe::validate(t),)*
                }
            }

            /// Reject a toxic on a stream where it cannot act: a lost
            /// acknowledgement is a response's; an error the proxy answers itself
            /// is for the APIs it can answer ([`toxics::kafka_error`]).
            pub fn validate_stream(&self, stream: Stream) -> Result<(), String> {
                match self {
                    $(ToxicKind::$variant(t) => Pipe::validate_stream(t, stream),)*
                }
            }

            /// Run this toxic over one link's chunk stream until it is interrupted,
            /// its input ends, or it closes the stream.
            pub async fn pipe(&self, stub: &mut Stub, state: &mut LinkState) -> PipeEnd {
                match self {
                    $(ToxicKind::$variant(t) => Pipe::pipe(t, stub, state).await,)*
                }
            }

            /// What removing this toxic does to a connection it applied to. Most
            /// toxics just stop; Toxiproxy's timeout toxic (its `Cleanup`) closes
            /// the stream it was holding.
            pub fn on_removed(&self) -> Option<CloseMode> {
                match self {
                    $(ToxicKind::$variant(t) => Pipe::on_removed(t),)*
                }
            }
        }
    };
}

toxic_kinds! {
    /// The toxic types and their attributes (Toxiproxy's names, units and
    /// defaults; one module each under [`toxics`], whose attribute type
    /// implements [`Pipe`]). The scenario file's schema is generated from
    /// this enum: each attribute struct's doc comment is its type's help, its
    /// fields' docs the attributes' help, and its `#[schemars(range(..))]` the
    /// minimums [`ToxicKind::validate`] enforces. The type names are the
    /// variants' in snake case, for serde and strum alike.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, strum::IntoStaticStr, strum::VariantNames)]
    #[serde(tag = "type", content = "attributes", rename_all = "snake_case")]
    #[strum(serialize_all = "snake_case")]
    pub enum ToxicKind {
        Latency(toxics::latency::Latency),
        Bandwidth(toxics::bandwidth::Bandwidth),
        SlowClose(toxics::slow_close::SlowClose),
        Timeout(toxics::timeout::Timeout),
        ResetPeer(toxics::reset_peer::ResetPeer),
        Slicer(toxics::slicer::Slicer),
        LimitData(toxics::limit_data::LimitData),
        // Kafka toxics: they act on Kafka requests and responses, and need a
        // proxy that reads Kafka frames.
        KafkaAckLoss(Aimed<toxics::kafka_ack_loss::AckLoss>),
        KafkaError(Aimed<toxics::kafka_error::KafkaError>),
        KafkaLatency(Aimed<toxics::kafka_latency::KafkaLatency>),
    }
}

impl ToxicKind {
    /// Every type name accepted, for error messages, in the enum's order.
    pub const TYPE_NAMES: &'static [&'static str] = <ToxicKind as strum::VariantNames>::VARIANTS;

    pub fn type_name(&self) -> &'static str {
        self.into()
    }

    /// Whether this toxic works on Kafka requests and responses, not bytes:
    /// it needs a proxy in Kafka mode (`faultlab proxy --kafka`, or one
    /// made with `Proxy::set_kafka_framing`), which Toxiproxy has not.
    pub fn is_kafka(&self) -> bool {
        self.type_name().starts_with("kafka_")
    }
}
