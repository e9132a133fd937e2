//! The proxy routes: index, create, show, update, delete, populate, reset.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::body::{self, Object};
use super::error::ApiError;
use super::toxics::toxics_json;
use crate::{Proxy, ProxySpec, Registry};

type Api = State<Arc<Registry>>;

/// A proxy as Toxiproxy shows it.
pub fn proxy_json(proxy: &Proxy) -> Value {
    json!({
        "name": proxy.name(),
        "listen": proxy.listen(),
        "upstream": proxy.upstream(),
        "enabled": proxy.is_enabled(),
        "toxics": toxics_json(proxy),
    })
}

/// `GET /proxies`: every proxy, keyed by name.
pub async fn index(State(registry): Api) -> Json<Value> {
    let proxies: Map<String, Value> = registry.list().await.iter().map(|p| (p.name().to_string(), proxy_json(p))).collect();
    Json(Value::Object(proxies))
}

/// `POST /proxies`: 201 with the proxy (its bound address when listen has
/// port 0); enabled unless `"enabled": false`.
pub async fn create(State(registry): Api, body: Bytes) -> Result<Response, ApiError> {
    let input = body::object(body::parse(&body)?, "proxy")?;
    let proxy = registry.create(spec(&input, "")?).await?;
    Ok((StatusCode::CREATED, Json(proxy_json(&proxy))).into_response())
}

/// `POST /populate`: 201 with `{"proxies": [...]}`; on failure the status
/// of the error, its `error` and `status`, and the proxies done before it
/// (none when the body is refused, as Toxiproxy, which decodes it whole
/// first).
pub async fn populate(State(registry): Api, body: Bytes) -> Response {
    let (proxies, result) = match specs(&body) {
        Ok(specs) => {
            let (proxies, result) = registry.populate(specs).await;
            (proxies, result.map_err(ApiError::from))
        }
        Err(error) => (Vec::new(), Err(error)),
    };
    let mut answer = json!({ "proxies": proxies.iter().map(proxy_json).collect::<Vec<_>>() });
    let status = match result {
        Ok(()) => StatusCode::CREATED,
        Err(error) => {
            answer["error"] = json!(error.message);
            answer["status"] = json!(error.status.as_u16());
            error.status
        }
    };
    (status, Json(answer)).into_response()
}

/// Populate's body: the proxies to create, each checked.
fn specs(body: &[u8]) -> Result<Vec<ProxySpec>, ApiError> {
    let inputs = body::objects(body::parse(body)?)?;
    inputs.iter().enumerate().map(|(i, input)| spec(input, &format!(" at proxy {}", i + 1))).collect()
}

/// `GET /proxies/{proxy}`.
pub async fn show(State(registry): Api, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(proxy_json(&registry.get(&name).await?)))
}

/// `POST` or `PATCH /proxies/{proxy}`: fields left out keep their values;
/// a new listen address or upstream restarts the proxy; `enabled` enables
/// or disables it.
pub async fn update(State(registry): Api, Path(name): Path<String>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let proxy = registry.get(&name).await?;
    let input = body::object(body::parse(&body)?, "proxy")?;
    let listen = body::string(&input, "listen", "")?.unwrap_or_else(|| proxy.listen());
    let upstream = body::string(&input, "upstream", "")?.unwrap_or_else(|| proxy.upstream());
    let enabled = body::boolean(&input, "enabled", "")?.unwrap_or_else(|| proxy.is_enabled());
    proxy.update(&listen, &upstream, enabled).await?;
    Ok(Json(proxy_json(&proxy)))
}

/// `DELETE /proxies/{proxy}`: 204.
pub async fn delete(State(registry): Api, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    registry.remove(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /reset`: 204 once every proxy is enabled and has no toxics.
pub async fn reset(State(registry): Api) -> Result<StatusCode, ApiError> {
    registry.reset().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A proxy to create from a request; the registry checks that name and
/// upstream are there.
fn spec(input: &Object, at: &str) -> Result<ProxySpec, ApiError> {
    Ok(ProxySpec {
        name: body::string(input, "name", at)?.unwrap_or_default(),
        listen: body::string(input, "listen", at)?.unwrap_or_default(),
        upstream: body::string(input, "upstream", at)?.unwrap_or_default(),
        enabled: body::boolean(input, "enabled", at)?.unwrap_or(true),
    })
}
