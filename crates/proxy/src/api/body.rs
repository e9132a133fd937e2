//! Reading request bodies field by field, so every error names the field
//! (`bad request body: toxicity: expected a number, got "x"`). Like
//! Toxiproxy's Go decoder, unknown top-level fields are ignored and `null`
//! is the same as absent; unlike it, unknown toxic attributes are refused
//! (scenario files and the API share one strict model).

use serde_json::{Map, Value};

use super::error::ApiError;
use crate::ToxicKind;

pub type Object = Map<String, Value>;

/// The body as JSON.
pub fn parse(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_body("empty body; expected JSON"));
    }
    serde_json::from_slice(body).map_err(ApiError::bad_body)
}

/// `value` as an object; `what` says where it is, for the message.
pub fn object(value: Value, what: &str) -> Result<Object, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::bad_body(format!("{what}: expected an object, got {}", describe(&other)))),
    }
}

/// `value` as an array of objects (populate's body).
pub fn objects(value: Value) -> Result<Vec<Object>, ApiError> {
    match value {
        Value::Array(items) => items.into_iter().enumerate().map(|(i, item)| object(item, &format!("proxy {}", i + 1))).collect(),
        other => Err(ApiError::bad_body(format!("expected an array of proxies, got {}", describe(&other)))),
    }
}

pub fn string(object: &Object, field: &str, at: &str) -> Result<Option<String>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong(field, at, "a string", other)),
    }
}

pub fn boolean(object: &Object, field: &str, at: &str) -> Result<Option<bool>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(wrong(field, at, "true or false", other)),
    }
}

pub fn number(object: &Object, field: &str, at: &str) -> Result<Option<f64>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(wrong(field, at, "a number", other)),
    }
}

/// A toxicity from the body, checked to be a probability.
pub fn toxicity(object: &Object) -> Result<Option<f32>, ApiError> {
    match number(object, "toxicity", "")? {
        Some(t) if !(0.0..=1.0).contains(&t) => Err(ApiError::bad_body(format!("toxicity: `{t}` is out of range; accepted: 0.0 to 1.0"))),
        t => Ok(t.map(|t| t as f32)),
    }
}

/// A toxic's attributes (an object, or absent or `null` for all defaults)
/// as the kind named `type_name`, checked for values it cannot run with.
pub fn kind(type_name: &str, attributes: Option<&Value>) -> Result<ToxicKind, ApiError> {
    let attributes = match attributes {
        None | Some(Value::Null) => Object::new(),
        Some(value) => object(value.clone(), "attributes")?,
    };
    let decode =
        |attributes: Object| serde_json::from_value::<ToxicKind>(serde_json::json!({ "type": type_name, "attributes": attributes }));
    let kind = decode(attributes.clone()).map_err(|whole| {
        // serde does not say which attribute failed: try them one by one.
        let culprit = attributes.iter().find_map(|(name, value)| {
            let alone = Object::from_iter([(name.clone(), value.clone())]);
            decode(alone).err().map(|e| format!("attributes.{name}: {e}"))
        });
        ApiError::bad_body(culprit.unwrap_or_else(|| format!("attributes: {whole}")))
    })?;
    kind.validate().map_err(ApiError::bad_body)?;
    Ok(kind)
}

fn wrong(field: &str, at: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::bad_body(format!("{field}{at}: expected {expected}, got {}", describe(got)))
}

/// A value as a message shows it: short, with its JSON text.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 { format!("{}…", &text[..text.floor_char_boundary(40)]) } else { text }
}
