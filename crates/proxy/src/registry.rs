//! Named proxies, as Toxiproxy's `ProxyCollection`: what the HTTP API
//! manages.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::instance::Proxy;
use crate::listener::{ListenError, resolve};
use crate::protocol::Ledger;

/// A proxy as the API creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySpec {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
}

/// Errors of the registry, worded like Toxiproxy's.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("proxy not found")]
    NotFound,
    #[error("proxy already exists")]
    Exists,
    /// The field's name, and for populate `at proxy N`.
    #[error("missing required field: {0}")]
    MissingField(String),
    #[error(transparent)]
    Listen(#[from] ListenError),
}

/// The named proxies. Every proxy's random choices derive from the
/// registry's seed and the proxy's name, so a run is repeatable whatever
/// order proxies are created in.
pub struct Registry {
    seed: u64,
    /// Every proxy created reads Kafka frames and records its Produce
    /// batches here ([`Registry::kafka_framing`]).
    kafka_framing: Option<Arc<Ledger>>,
    proxies: tokio::sync::Mutex<BTreeMap<String, Proxy>>,
}

impl Registry {
    pub fn new(seed: u64) -> Registry {
        Registry { seed, kafka_framing: None, proxies: tokio::sync::Mutex::new(BTreeMap::new()) }
    }

    /// A registry whose proxies all read Kafka frames
    /// ([`Proxy::set_kafka_framing`]) and keep one ledger of their Produce
    /// batches ([`Registry::ledger`]): for brokers that advertise the
    /// proxies in front of them, so that Kafka toxics can be put on any.
    pub fn kafka_framing(seed: u64) -> Registry {
        Registry { kafka_framing: Some(Arc::default()), ..Registry::new(seed) }
    }

    /// The ledger of a [`Registry::kafka_framing`] registry's proxies.
    pub fn ledger(&self) -> Option<Arc<Ledger>> {
        self.kafka_framing.clone()
    }

    /// Create a proxy, listening at once if `spec.enabled`. A proxy whose
    /// listen address cannot be bound is not created.
    pub async fn create(&self, spec: ProxySpec) -> Result<Proxy, RegistryError> {
        require(&spec, "")?;
        let mut proxies = self.proxies.lock().await;
        if proxies.contains_key(&spec.name) {
            return Err(RegistryError::Exists);
        }
        let proxy = self.start(&spec).await?;
        proxies.insert(spec.name, proxy.clone());
        Ok(proxy)
    }

    pub async fn get(&self, name: &str) -> Result<Proxy, RegistryError> {
        self.proxies.lock().await.get(name).cloned().ok_or(RegistryError::NotFound)
    }

    /// Every proxy, by name.
    pub async fn list(&self) -> Vec<Proxy> {
        self.proxies.lock().await.values().cloned().collect()
    }

    /// Delete a proxy: it stops listening and its connections close.
    pub async fn remove(&self, name: &str) -> Result<(), RegistryError> {
        let proxy = self.proxies.lock().await.remove(name).ok_or(RegistryError::NotFound)?;
        proxy.disable().await;
        Ok(())
    }

    /// Toxiproxy's populate: every spec is checked first (nothing is created
    /// if one lacks a name or upstream); then, in order, a proxy of that
    /// name with the same listen address and upstream is kept as it is
    /// (toxics and all), a different one is replaced, a new one is created.
    /// On the first failure the proxies done so far are returned with it.
    pub async fn populate(&self, specs: Vec<ProxySpec>) -> (Vec<Proxy>, Result<(), RegistryError>) {
        for (i, spec) in specs.iter().enumerate() {
            if let Err(e) = require(spec, &format!(" at proxy {}", i + 1)) {
                return (Vec::new(), Err(e));
            }
        }
        let mut proxies = self.proxies.lock().await;
        let mut done = Vec::with_capacity(specs.len());
        for spec in specs {
            if let Some(existing) = proxies.get(&spec.name) {
                let wanted = match resolve(&spec.listen).await {
                    Ok(addr) => addr,
                    Err(e) => return (done, Err(e.into())),
                };
                let current = resolve(&existing.listen()).await.ok();
                if current == Some(wanted) && existing.upstream() == spec.upstream {
                    done.push(existing.clone());
                    continue;
                }
                existing.disable().await;
            }
            match self.start(&spec).await {
                Ok(proxy) => {
                    proxies.insert(spec.name, proxy.clone());
                    done.push(proxy);
                }
                Err(e) => return (done, Err(e)),
            }
        }
        (done, Ok(()))
    }

    /// Toxiproxy's reset: every proxy enabled again and stripped of its
    /// toxics; returns once open connections have dropped them.
    pub async fn reset(&self) -> Result<(), RegistryError> {
        let proxies = self.list().await;
        for proxy in &proxies {
            proxy.enable().await?;
            proxy.remove_all_toxics();
        }
        for proxy in &proxies {
            proxy.settled().await;
        }
        Ok(())
    }

    /// Disable every proxy (when the API server stops).
    pub async fn shutdown(&self) {
        for proxy in self.list().await {
            proxy.disable().await;
        }
    }

    async fn start(&self, spec: &ProxySpec) -> Result<Proxy, RegistryError> {
        let proxy = Proxy::new(&spec.name, &spec.listen, &spec.upstream, seed_for(self.seed, &spec.name));
        if let Some(ledger) = &self.kafka_framing {
            proxy.set_kafka_framing();
            proxy.keep_ledger(ledger.clone());
        }
        if spec.enabled {
            proxy.enable().await?;
        }
        Ok(proxy)
    }
}

/// The seed of the proxy `name` among proxies seeded from `seed`: each
/// proxy rolls its own toxicity dice, the same for the same name and seed.
pub(crate) fn seed_for(seed: u64, name: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    seed ^ hash
}

fn require(spec: &ProxySpec, at: &str) -> Result<(), RegistryError> {
    if spec.name.is_empty() {
        return Err(RegistryError::MissingField(format!("name{at}")));
    }
    if spec.upstream.is_empty() {
        return Err(RegistryError::MissingField(format!("upstream{at}")));
    }
    Ok(())
}
