//! One file per toxic, and their one list, [`ToxicKind`]: a new toxic is
//! its file, its `pub mod` line and its variant line, both here. Each
//! is a pipe over a chunk stream: it reads chunks from its
//! [`Stub`](super::stub::Stub)'s input, does its harm, and writes to its
//! output; the [`link`](super::link) chains them.
//!
//! The contract every pipe keeps: when interrupted it puts back what it
//! holds ([`Stub::unread`](super::stub::Stub::unread)) and returns
//! [`PipeEnd::Interrupted`](super::stub::PipeEnd::Interrupted), so a change
//! to the chain never loses, reorders or hurries a byte.

// Declared here, not by `toxic_kinds!`, because rustfmt (`cargo fmt`)
// does not follow a `mod` a macro declares.
pub mod bandwidth;
pub mod kafka_ack_loss;
pub mod kafka_error;
pub mod kafka_latency;
pub mod latency;
pub mod limit_data;
// Not a toxic of the list: the chain's head, which every link has.
pub mod noop;
pub mod reset_peer;
pub mod slicer;
pub mod slow_close;
pub mod timeout;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::aim::{Aim, Aimed};
use crate::pipe::{LinkState, Pipe, Stream};
use crate::stub::{CloseMode, PipeEnd, Stub};
// For the doc of `ToxicKind`, which the JSON Schema carries word for word.
#[allow(unused_imports)]
use crate::toxics;

/// Declares [`ToxicKind`] and writes the methods that hand a call to the
/// variant's value ([`Pipe`]), so a new toxic is one variant line, never
/// an arm in each method.
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
            /// is for the APIs it can answer ([`kafka_error`]).
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

            /// A Kafka toxic's aim: which requests it acts on. None for a
            /// toxic of bytes.
            pub fn aim(&self) -> Option<&Aim> {
                match self {
                    $(ToxicKind::$variant(t) => Pipe::aim(t),)*
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
        Latency(latency::Latency),
        Bandwidth(bandwidth::Bandwidth),
        SlowClose(slow_close::SlowClose),
        Timeout(timeout::Timeout),
        ResetPeer(reset_peer::ResetPeer),
        Slicer(slicer::Slicer),
        LimitData(limit_data::LimitData),
        // Kafka toxics: they act on Kafka requests and responses, and need a
        // proxy that reads Kafka frames.
        KafkaAckLoss(Aimed<kafka_ack_loss::AckLoss>),
        KafkaError(Aimed<kafka_error::KafkaError>),
        KafkaLatency(Aimed<kafka_latency::KafkaLatency>),
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
        self.aim().is_some()
    }
}

/// Go's `time.Duration(ms) * time.Millisecond` for a toxic attribute: a
/// negative value is no time at all.
pub(crate) fn millis(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

/// About 30 years: tokio's own "never" for a sleep beyond its clock.
const NEVER: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `from + delay`, checked: a delay beyond what the clock can hold is a
/// deadline never reached, so the toxic waits until it is interrupted.
/// An unchecked `Instant + Duration` panics the link's task on overflow
/// ("overflow when adding duration to instant"). On Linux, std's Instant
/// holds i64 seconds, so the largest attribute (i64::MAX ms, 9.2e15 s)
/// still fits (measured: no panic without this check either); the check
/// keeps it so wherever the clock is narrower. Toxiproxy's Go multiplies
/// such values into durations with int64 wrap-around instead; the README's
/// proxy section says what that does.
pub(crate) fn after(from: Instant, delay: Duration) -> Instant {
    from.checked_add(delay).or_else(|| from.checked_add(NEVER)).unwrap_or(from)
}
