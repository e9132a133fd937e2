//! A client for Toxiproxy's HTTP API: drives a real Toxiproxy (the Docker
//! and external backends) or faultlab's own ([`crate::proxy::api`]) the
//! same way.
//!
//! Toxics travel as [`Toxic`] values, which serialise exactly like
//! Toxiproxy's, so a scenario's faults apply to either unchanged.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::proxy::Toxic;

/// A toxic as an API shows it. faultlab's proxy also says what a Kafka
/// toxic has done so far (`requests`); Toxiproxy has no such field.
#[derive(Debug, Clone, Deserialize)]
pub struct ToxicShown {
    #[serde(flatten)]
    pub toxic: Toxic,
    #[serde(default)]
    pub requests: Option<crate::proxy::Requests>,
}

/// A proxy as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyInfo {
    pub name: String,
    /// The bound address once listening (a port 0 reads as the port picked).
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    /// Upstream toxics first, then downstream, each in chain order.
    #[serde(default)]
    pub toxics: Vec<Toxic>,
}

/// A proxy to create (or to [`Client::populate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyConfig {
    pub name: String,
    /// `host:port`; port 0 picks a free port.
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API answered with an error status; `message` is its `error`.
    #[error("{method} {path}: HTTP {status}: {message}")]
    Api { method: Method, path: String, status: u16, message: String },
    #[error("{method} {path}: {source}")]
    Request { method: Method, path: String, source: reqwest::Error },
    #[error("{method} {path}: unexpected answer ({source}): {body}")]
    Decode { method: Method, path: String, body: String, source: serde_json::Error },
}

impl ClientError {
    /// The HTTP status of an API error (404 for a missing proxy or toxic,
    /// 409 for one that exists, ...).
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// A Toxiproxy API endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// `base` is the API's URL, e.g. `http://127.0.0.1:8474`.
    pub fn new(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            http: crate::http_client().build().expect("an HTTP client with default settings"),
        }
    }

    /// The server's version text (`{"version": ...}` as sent).
    pub async fn version(&self) -> Result<String> {
        let value: Value = self.call(Method::GET, "/version", None).await?;
        Ok(value.get("version").and_then(Value::as_str).unwrap_or_default().to_string())
    }

    /// The server's version once its API answers: a Toxiproxy just started
    /// logs nothing reliable to wait for across versions, so ask the API.
    pub async fn wait_ready(&self, patience: std::time::Duration) -> anyhow::Result<String> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match self.version().await {
                Ok(version) => return Ok(version),
                Err(e) if tokio::time::Instant::now() > deadline => {
                    anyhow::bail!("Toxiproxy's API at {} did not answer within {patience:?}: {e}", self.base)
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    }

    /// The API's URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn proxies(&self) -> Result<BTreeMap<String, ProxyInfo>> {
        self.call(Method::GET, "/proxies", None).await
    }

    pub async fn proxy(&self, name: &str) -> Result<ProxyInfo> {
        self.call(Method::GET, &proxy_path(name), None).await
    }

    /// Create an enabled proxy.
    pub async fn create_proxy(&self, name: &str, listen: &str, upstream: &str) -> Result<ProxyInfo> {
        let config = ProxyConfig { name: name.into(), listen: listen.into(), upstream: upstream.into(), enabled: true };
        self.create_proxy_with(&config).await
    }

    pub async fn create_proxy_with(&self, config: &ProxyConfig) -> Result<ProxyInfo> {
        self.call(Method::POST, "/proxies", Some(json!(config))).await
    }

    /// Create or replace proxies (Toxiproxy's `/populate`: one with the same
    /// listen address and upstream is kept, toxics and all).
    pub async fn populate(&self, configs: &[ProxyConfig]) -> Result<Vec<ProxyInfo>> {
        #[derive(Deserialize)]
        struct Populated {
            #[serde(default)]
            proxies: Option<Vec<ProxyInfo>>,
        }
        let populated: Populated = self.call(Method::POST, "/populate", Some(json!(configs))).await?;
        Ok(populated.proxies.unwrap_or_default())
    }

    /// Change a proxy's listen address, upstream or enabled state (fields
    /// given as `None` stay).
    pub async fn update_proxy(&self, name: &str, listen: Option<&str>, upstream: Option<&str>, enabled: Option<bool>) -> Result<ProxyInfo> {
        let mut body = serde_json::Map::new();
        if let Some(listen) = listen {
            body.insert("listen".into(), json!(listen));
        }
        if let Some(upstream) = upstream {
            body.insert("upstream".into(), json!(upstream));
        }
        if let Some(enabled) = enabled {
            body.insert("enabled".into(), json!(enabled));
        }
        // POST, not PATCH: every Toxiproxy 2 release accepts it.
        self.call(Method::POST, &proxy_path(name), Some(Value::Object(body))).await
    }

    /// Listen again (after [`Client::disable`]).
    pub async fn enable(&self, name: &str) -> Result<ProxyInfo> {
        self.update_proxy(name, None, None, Some(true)).await
    }

    /// Stop listening and close every connection through the proxy.
    pub async fn disable(&self, name: &str) -> Result<ProxyInfo> {
        self.update_proxy(name, None, None, Some(false)).await
    }

    pub async fn delete_proxy(&self, name: &str) -> Result<()> {
        self.call_empty(Method::DELETE, &proxy_path(name), None).await
    }

    pub async fn toxics(&self, proxy: &str) -> Result<Vec<Toxic>> {
        self.call(Method::GET, &format!("{}/toxics", proxy_path(proxy)), None).await
    }

    pub async fn toxic(&self, proxy: &str, name: &str) -> Result<Toxic> {
        self.call(Method::GET, &toxic_path(proxy, name), None).await
    }

    pub async fn add_toxic(&self, proxy: &str, toxic: &Toxic) -> Result<Toxic> {
        self.call(Method::POST, &format!("{}/toxics", proxy_path(proxy)), Some(json!(toxic))).await
    }

    /// Set a toxic's attributes and toxicity (its name, type and stream
    /// cannot change).
    pub async fn update_toxic(&self, proxy: &str, toxic: &Toxic) -> Result<Toxic> {
        let tagged = json!(toxic.kind);
        let body = json!({ "attributes": tagged.get("attributes").cloned().unwrap_or(json!({})), "toxicity": toxic.toxicity });
        self.call(Method::POST, &toxic_path(proxy, &toxic.name), Some(body)).await
    }

    /// Set a toxic's toxicity only (its attributes stay): 0 makes it a
    /// no-op on every connection.
    pub async fn set_toxicity(&self, proxy: &str, name: &str, toxicity: f32) -> Result<ToxicShown> {
        self.call(Method::POST, &toxic_path(proxy, name), Some(json!({ "toxicity": toxicity }))).await
    }

    pub async fn remove_toxic(&self, proxy: &str, name: &str) -> Result<()> {
        self.call_empty(Method::DELETE, &toxic_path(proxy, name), None).await
    }

    /// Enable every proxy and remove every toxic.
    pub async fn reset(&self) -> Result<()> {
        self.call_empty(Method::POST, "/reset", None).await
    }

    async fn call<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<Value>) -> Result<T> {
        let text = self.send(method.clone(), path, body).await?;
        serde_json::from_str(&text).map_err(|source| ClientError::Decode { method, path: path.into(), body: text, source })
    }

    async fn call_empty(&self, method: Method, path: &str, body: Option<Value>) -> Result<()> {
        self.send(method, path, body).await.map(drop)
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<String> {
        let request_error = |source| ClientError::Request { method: method.clone(), path: path.into(), source };
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(request_error)?;
        let status = response.status();
        let text = response.text().await.map_err(request_error)?;
        if status.is_success() {
            return Ok(text);
        }
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| text.trim().to_string());
        Err(ClientError::Api { method, path: path.into(), status: status.as_u16(), message })
    }
}

fn proxy_path(name: &str) -> String {
    format!("/proxies/{}", segment(name))
}

fn toxic_path(proxy: &str, name: &str) -> String {
    format!("{}/toxics/{}", proxy_path(proxy), segment(name))
}

/// A name as one URL path segment (percent-encoded where needed).
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
