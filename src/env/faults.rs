//! Playing faults on whichever proxy a backend provides.

use crate::proxy::{Proxy, ProxyError, Toxic};

/// The fault proxy of an environment. The embedded backend drives its
/// proxy directly, in process.
#[derive(Clone)]
pub enum FaultControl {
    Embedded(Proxy),
}

impl FaultControl {
    pub async fn add(&self, toxic: &Toxic) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => proxy.add_toxic(toxic.clone()).map(drop).map_err(|e| fault_error(&toxic.name, e)),
        }
    }

    pub async fn remove(&self, name: &str) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => proxy.remove_toxic(name).map_err(|e| fault_error(name, e)),
        }
    }

    /// Remove every toxic (used between runs and when a run is interrupted).
    pub async fn clear(&self) -> anyhow::Result<()> {
        match self {
            FaultControl::Embedded(proxy) => {
                proxy.remove_all_toxics();
                Ok(())
            }
        }
    }
}

fn fault_error(name: &str, error: ProxyError) -> anyhow::Error {
    anyhow::anyhow!("toxic {name}: {error}")
}
