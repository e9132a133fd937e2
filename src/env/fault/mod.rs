//! Backend faults: faults that are not toxics. The environment plays them
//! by acting on its proxies or brokers rather than on the bytes of a
//! stream, one module per fault, as the proxy has one per toxic.
//!
//! Each fault's module holds its attribute struct (its doc comments are
//! the schema's help), the backends that play it (`BACKENDS`), and how it
//! is played and undone (`begin`, `end`), written once against [`Stage`],
//! what an environment offers; each backend's fault control implements
//! [`Stage`]. [`BackendFault`] only dispatches: a new fault is its module
//! and its lines in the `backend_faults!` list below.

pub mod broker_down;
pub mod broker_pause;
pub mod broker_rtt;
mod control;
pub mod kafka;
pub mod leader_change;
pub mod proxy_down;
pub mod request_errors;
mod stage;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantNames};

use super::Backend;
pub use broker_down::BrokerTarget;
pub use broker_rtt::BrokerRtt;
pub use control::{FaultControl, Removed, add_requests};
pub use leader_change::LeaderChange;
pub use request_errors::RequestErrors;
pub use stage::Stage;

/// `$name` itself: lets one macro repetition bind and pass a variant's
/// attributes only when the variant has some (`$( ($Attrs) )?`).
macro_rules! attributes {
    ($attrs:ty, $name:ident) => {
        $name
    };
}

/// The list of backend faults: `Variant(Attributes) => module`, the
/// variant's doc comment first (its help in the schema). Generates
/// [`BackendFault`] and its dispatch to each module.
macro_rules! backend_faults {
    ($( $(#[$doc:meta])* $Variant:ident $(($Attrs:ty))? => $module:ident, )*) => {
        /// Faults that are not toxics: the environment plays them by acting on the
        /// proxy or the broker rather than on the bytes of a stream. Tagged like
        /// [`crate::proxy::ToxicKind`] (`type`, then `attributes`), so a file writes both alike.
        ///
        /// Brokers are numbered from 1 to the scenario's `brokers`, as both the
        /// mock (its broker ids) and the Docker backend (`KAFKA_NODE_ID`, container
        /// `kafka-<id>`) number them. Not every backend can play every fault:
        /// [`BackendFault::backends`] says which can. Each variant's doc comment is
        /// its help in the schema (an editor shows it), followed there by the
        /// backends that play it.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, IntoStaticStr, VariantNames)]
        #[serde(tag = "type", content = "attributes", rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum BackendFault {
            $( $(#[$doc])* $Variant $(($Attrs))?, )*
        }

        impl BackendFault {
            /// Each type name (its module's `NAME`) and the backends that
            /// play it (its module's `BACKENDS`), in the list's order.
            pub const PLAYED_BY: &'static [(&'static str, &'static [Backend])] = &[$( ($module::NAME, $module::BACKENDS), )*];

            /// The broker it acts on, if it names one.
            pub fn broker(&self) -> Option<i32> {
                match self {
                    $( BackendFault::$Variant $((attributes!($Attrs, a)))? => $module::broker($(attributes!($Attrs, a))?), )*
                }
            }

            /// Start the fault on `stage`.
            pub async fn begin(&self, stage: &dyn Stage) -> anyhow::Result<()> {
                match self {
                    $( BackendFault::$Variant $((attributes!($Attrs, a)))? => $module::begin(stage, $(attributes!($Attrs, a))?).await, )*
                }
            }

            /// Undo [`BackendFault::begin`].
            pub async fn end(&self, stage: &dyn Stage) -> anyhow::Result<()> {
                match self {
                    $( BackendFault::$Variant $((attributes!($Attrs, a)))? => $module::end(stage, $(attributes!($Attrs, a))?).await, )*
                }
            }
        }
    };
}

backend_faults! {
    /// Disables the proxy (Toxiproxy's enabled: false): open connections are dropped and new ones
    /// refused until the fault ends, which is what a producer sees when the broker's host goes away.
    ProxyDown => proxy_down,
    /// Broker `broker` goes down until the fault ends (mock: connections closed and refused,
    /// leadership stays; docker: the container is stopped, then started; local: the process gets
    /// SIGTERM, then starts again on its data).
    BrokerDown(BrokerTarget) => broker_down,
    /// Broker `broker` is frozen (connections stay open, nothing answers) until the fault ends:
    /// docker pauses its container, local sends SIGSTOP and SIGCONT.
    BrokerPause(BrokerTarget) => broker_pause,
    /// Every response of broker `broker` is held back `rtt` ms until the fault ends (mock: its own
    /// round-trip time setting; local and docker: a downstream latency toxic on that broker's proxy
    /// only).
    BrokerRtt(BrokerRtt) => broker_rtt,
    /// The next requests of type `request`, on any broker, are answered with `errors` in turn;
    /// leftovers are dropped when the fault ends.
    RequestErrors(RequestErrors) => request_errors,
    /// Leadership of `partition` (or of every partition of the run's topics) moves to broker
    /// `broker`, and back when the fault ends (mock: its own API; local: Kafka's reassignment and
    /// preferred-leader election).
    LeaderChange(LeaderChange) => leader_change,
}

impl BackendFault {
    /// Every type name, as serde writes them (strum derives both from the
    /// variants' names; the schema's tests check they agree).
    pub const TYPE_NAMES: &'static [&'static str] = <Self as VariantNames>::VARIANTS;

    pub fn type_name(&self) -> &'static str {
        self.into()
    }

    /// The backends that can play it, in [`Backend::ALL`]'s order.
    pub fn backends(&self) -> Vec<&'static str> {
        Backend::playing(self.type_name())
    }

    /// The backends that play the fault type `type_name` (none for a name
    /// that is not a backend fault's).
    pub fn played_by(type_name: &str) -> &'static [Backend] {
        BackendFault::PLAYED_BY.iter().find(|(name, _)| *name == type_name).map_or(&[], |(_, backends)| backends)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_modules_name_is_its_variants_type_name() {
        let names: Vec<&str> = BackendFault::PLAYED_BY.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, BackendFault::TYPE_NAMES);
        let fault = BackendFault::BrokerRtt(BrokerRtt { broker: 2, rtt: 5 });
        assert_eq!(fault.type_name(), broker_rtt::NAME);
        assert_eq!(fault.broker(), Some(2));
        assert_eq!(BackendFault::ProxyDown.broker(), None);
        assert_eq!(BackendFault::played_by("latency"), []);
    }
}
