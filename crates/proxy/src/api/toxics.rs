//! The toxic routes: index, create, show, update, delete.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::body;
use super::error::ApiError;
use crate::{Proxy, ProxyError, Registry, Stream, Toxic, ToxicKind};

type Api = State<Arc<Registry>>;

/// A proxy's toxics as Toxiproxy lists them: the upstream chain, then the
/// downstream one, each in chain order.
pub fn toxics_json(proxy: &Proxy) -> Vec<Value> {
    let toxics = proxy.toxics();
    [Stream::Upstream, Stream::Downstream]
        .into_iter()
        .flat_map(|stream| toxics.iter().filter(move |t| t.stream == stream))
        .map(|toxic| toxic_json(proxy, toxic))
        .collect()
}

/// A toxic as Toxiproxy writes it; a Kafka toxic also says what it has
/// done so far, as `requests` (seen, matched, acted).
fn toxic_json(proxy: &Proxy, toxic: &Toxic) -> Value {
    let mut json = serde_json::to_value(toxic).unwrap_or(Value::Null);
    json["toxicity"] = toxicity_as_go(toxic.toxicity);
    if let Some(requests) = proxy.toxic_requests(&toxic.name) {
        json["requests"] = serde_json::to_value(requests).unwrap_or(Value::Null);
    }
    json
}

/// A toxicity as Toxiproxy writes its float32: `1` and `0` without a
/// fraction, and otherwise the shortest decimal that reads back as the same
/// f32 (`0.3`, where serde's widening to f64 writes 0.30000001192092896).
fn toxicity_as_go(toxicity: f32) -> Value {
    if toxicity.fract() == 0.0 && toxicity.abs() <= 1.0 {
        return Value::from(toxicity as i64);
    }
    toxicity.to_string().parse::<f64>().map_or(Value::from(f64::from(toxicity)), Value::from)
}

/// `GET /proxies/{proxy}/toxics`.
pub async fn index(State(registry): Api, Path(proxy): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(Value::Array(toxics_json(&registry.get(&proxy).await?))))
}

/// `POST /proxies/{proxy}/toxics`: 200 with the toxic (Toxiproxy answers
/// 200 here, not 201). Defaults: stream downstream, toxicity 1, name
/// `<type>_<stream>`, every attribute 0. Checked in Toxiproxy's order:
/// stream, type, name taken, attributes.
pub async fn create(State(registry): Api, Path(proxy): Path<String>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let proxy = registry.get(&proxy).await?;
    let input = body::object(body::parse(&body)?, "toxic")?;
    let stream = match body::string(&input, "stream", "")? {
        None => Stream::Downstream,
        Some(text) => Stream::parse(&text)
            .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "stream was invalid, can be either upstream or downstream"))?,
    };
    let type_name = body::string(&input, "type", "")?.unwrap_or_default();
    if !ToxicKind::TYPE_NAMES.contains(&type_name.as_str()) {
        let accepted = ToxicKind::TYPE_NAMES.join(", ");
        return Err(ApiError::new(StatusCode::BAD_REQUEST, format!("invalid toxic type: `{type_name}`; accepted: {accepted}")));
    }
    let name = body::string(&input, "name", "")?.filter(|n| !n.is_empty()).unwrap_or_else(|| format!("{type_name}_{stream}"));
    if proxy.toxic(&name).is_some() {
        return Err(ProxyError::ToxicExists.into());
    }
    let toxicity = body::toxicity(&input)?.unwrap_or(1.0);
    let kind = body::kind(&type_name, input.get("attributes"))?;
    let toxic = proxy.add_toxic(Toxic { name, stream, toxicity, kind })?;
    proxy.settled().await;
    Ok(Json(toxic_json(&proxy, &toxic)))
}

/// `GET /proxies/{proxy}/toxics/{toxic}`.
pub async fn show(State(registry): Api, Path((proxy, toxic)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let proxy = registry.get(&proxy).await?;
    let toxic = proxy.toxic(&toxic).ok_or(ProxyError::ToxicNotFound)?;
    Ok(Json(toxic_json(&proxy, &toxic)))
}

/// `POST` or `PATCH /proxies/{proxy}/toxics/{toxic}`: `attributes` given
/// replace those attributes only; `toxicity` if given. Name, type and
/// stream stay.
pub async fn update(State(registry): Api, Path((proxy, name)): Path<(String, String)>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let proxy = registry.get(&proxy).await?;
    let current = proxy.toxic(&name).ok_or(ProxyError::ToxicNotFound)?;
    let input = body::object(body::parse(&body)?, "toxic")?;
    let toxicity = body::toxicity(&input)?.unwrap_or(current.toxicity);
    let mut attributes = current_attributes(&current.kind);
    match input.get("attributes") {
        None | Some(Value::Null) => {}
        Some(given) => attributes.extend(body::object(given.clone(), "attributes")?),
    }
    let kind = body::kind(current.kind.type_name(), Some(&Value::Object(attributes)))?;
    let toxic = proxy.update_toxic(&name, |t| {
        t.toxicity = toxicity;
        t.kind = kind;
    })?;
    proxy.settled().await;
    Ok(Json(toxic_json(&proxy, &toxic)))
}

/// `DELETE /proxies/{proxy}/toxics/{toxic}`: 204.
pub async fn delete(State(registry): Api, Path((proxy, toxic)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let proxy = registry.get(&proxy).await?;
    proxy.remove_toxic(&toxic)?;
    proxy.settled().await;
    Ok(StatusCode::NO_CONTENT)
}

fn current_attributes(kind: &ToxicKind) -> body::Object {
    match serde_json::to_value(kind) {
        Ok(Value::Object(mut tagged)) => match tagged.remove("attributes") {
            Some(Value::Object(attributes)) => attributes,
            _ => body::Object::new(),
        },
        _ => body::Object::new(),
    }
}
